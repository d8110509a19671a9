// Chinese labels for the dmn-js editor (its own texts are English): a diagram-js "translate" module, given to
// each dmn-js view by diagrams-modeler.js. Texts not listed stay as dmn-js wrote them.
(function () {
  "use strict";
  var ZH = {
    "When": "条件", "Then": "结果", "And": "且", "Annotations": "备注", "Annotation": "备注",
    "Hit policy": "命中策略", "Hit policy:": "命中策略：", "View DRD": "查看决策需求图",
    "Unique": "唯一（Unique）", "First": "第一条（First）", "Priority": "优先级（Priority）", "Any": "任意（Any）",
    "Collect": "汇集（Collect）", "Collect (Sum)": "汇集求和", "Collect (Min)": "汇集取最小", "Collect (Max)": "汇集取最大",
    "Collect (Count)": "汇集计数", "Rule order": "按规则顺序", "Output order": "按输出优先级",
    "No overlap is possible and all rules are disjoint. Only a single rule can be matched":
      "规则互不重叠，只能有一条规则符合",
    "Rules may overlap. The first matching rule will be chosen": "规则可以重叠，取第一条符合的规则",
    "Rules may overlap. The one with the highest priority will be chosen": "规则可以重叠，取优先级最高的规则",
    "Rules may overlap. Their output have to match": "规则可以重叠，符合的规则输出必须相同",
    "Collects the values of all matching rules": "汇集所有符合规则的输出",
    "Collects the values of all matching rules in rule order": "按规则顺序汇集所有符合规则的输出",
    "Add rule": "添加规则", "Add rule above": "在上方添加规则", "Add rule below": "在下方添加规则",
    "Remove rule": "删除规则", "Copy rule": "复制规则", "Cut rule": "剪切规则", "Move rule": "移动规则",
    "Paste rule above": "粘贴到上方", "Paste rule below": "粘贴到下方",
    "Add input": "添加输入列", "Add output": "添加输出列",
    "Add input column left": "在左侧添加输入列", "Add input column right": "在右侧添加输入列",
    "Add output column left": "在左侧添加输出列", "Add output column right": "在右侧添加输出列",
    "Remove input column": "删除输入列", "Remove output column": "删除输出列",
    "Copy input column": "复制输入列", "Copy output column": "复制输出列",
    "Cut input column": "剪切输入列", "Cut output column": "剪切输出列",
    "Paste input column left": "粘贴到左侧", "Paste input column right": "粘贴到右侧",
    "Paste output column left": "粘贴到左侧", "Paste output column right": "粘贴到右侧",
    "Add cell description": "添加单元格说明", "Remove cell description": "删除单元格说明",
    "Input": "输入", "Output": "输出", "Input label": "输入列名称", "Input label: ": "输入列名称：",
    "Input expression": "输入表达式", "Input expression: ": "输入表达式：", "Input type": "输入类型",
    "Input values": "输入取值", "Output label": "输出列名称", "Output label: ": "输出列名称：",
    "Output name": "输出变量名", "Output name: ": "输出变量名：", "Output type": "输出类型",
    "Output values": "输出取值", "Edit input": "编辑输入列", "Edit output": "编辑输出列",
    "Expression": "表达式", "Expression language": "表达式语言", "Expression language:": "表达式语言：",
    "Change cell expression language": "更改单元格表达式语言", "Enter expression": "输入表达式",
    "Type": "类型", "Value": "值", "Values": "取值", "Predefined values": "预设取值", "Custom values": "自定义取值",
    "Add values": "添加取值", "Add predefined values": "添加预设取值", "Clear predefined values": "清除预设取值",
    "No values": "没有取值", "Strings must be in double quotes": "文字须加双引号",
    "Yes": "是", "No": "否", "Edit": "编辑", "Delete": "删除", "Resize": "调整宽度",
    "Decision name": "决策名称", "Decision name: ": "决策名称：", "Element name": "名称",
    "Definition name": "定义名称", "Definition ID": "定义标识",
    "Edit string": "编辑文字", "Edit number": "编辑数字", "Edit boolean": "编辑是/否", "Edit date": "编辑日期",
    "Comparison": "比较", "Range": "范围", "Equals": "等于", "Less": "小于", "Less or equals": "小于等于",
    "Greater": "大于", "Greater or equals": "大于等于", "Between": "介于", "Include": "包含", "Exclude": "不包含",
    "Match one": "符合其一", "Match none": "都不符合", "Boolean value": "是/否值", "String value": "文字值",
    "Set value": "设置值", "Literal expression": "文字表达式", "Variable name": "变量名", "Variable name:": "变量名：",
    "Variable type": "变量类型", "Variable type:": "变量类型：",
    "Append decision": "追加决策", "Append input data": "追加输入数据", "Create decision": "新建决策",
    "Create input data": "新建输入数据", "Search in diagram": "在图中查找",
    "Activate hand tool": "移动画布", "Activate lasso tool": "框选", "Connect to other element": "连接到其他元素"
  };
  function translate(template, replacements) {
    var text = Object.prototype.hasOwnProperty.call(ZH, template) ? ZH[template] : template;
    replacements = replacements || {};
    return text.replace(/{([^}]+)}/g, function (_, key) {
      return Object.prototype.hasOwnProperty.call(replacements, key) ? replacements[key] : "{" + key + "}";
    });
  }
  window.fangpinDmnTranslate = { translate: ["value", translate] };
})();
