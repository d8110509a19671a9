// Chinese labels for the bpmn-js modeler and its properties panel (their own texts are English): a diagram-js
// "translate" module, given to the modeler by diagrams-modeler.js (as dmn-zh.js is to dmn-js). Texts not listed
// stay as bpmn-js wrote them.
(function () {
  "use strict";
  var ZH = {
    // palette
    "Activate hand tool": "移动画布", "Activate lasso tool": "框选", "Activate create/remove space tool": "插入或删除空白",
    "Activate global connect tool": "连线", "Create start event": "开始事件", "Create intermediate/boundary event": "中间事件",
    "Create end event": "结束事件", "Create gateway": "网关", "Create task": "任务", "Create expanded sub-process": "子流程",
    "Create data object reference": "数据对象", "Create data store reference": "数据存储", "Create group": "分组",
    "Create pool/participant": "池（参与者）",
    // context pad
    "Append end event": "追加结束事件", "Append gateway": "追加网关", "Append task": "追加任务",
    "Append intermediate/boundary event": "追加中间事件", "Append timer intermediate catch event": "追加定时事件",
    "Append message intermediate catch event": "追加消息事件", "Append receive task": "追加接收任务",
    "Append signal intermediate catch event": "追加信号事件", "Append conditional intermediate catch event": "追加条件事件",
    "Append compensation activity": "追加补偿活动", "Add text annotation": "添加注释", "Change element": "更改类型",
    "Connect to other element": "连接到其他元素", "Connect using association": "用关联连接",
    "Connect using data input association": "用数据关联连接", "Delete": "删除", "Add lane above": "在上方添加泳道",
    "Add lane below": "在下方添加泳道", "Divide into two lanes": "分为两条泳道", "Divide into three lanes": "分为三条泳道",
    "Align elements": "对齐", "Align elements ": "对齐", "Distribute elements horizontally": "水平均匀分布",
    "Distribute elements vertically": "垂直均匀分布", "Search in diagram": "在图中查找", "Open {element}": "打开 {element}",
    "Toggle non-interrupting": "切换为不中断", "Loop": "循环", "Parallel multi-instance": "并行多实例",
    "Sequential multi-instance": "串行多实例", "Collection": "集合", "Participant multiplicity": "参与者多重性",
    // element types (the "change element" menu)
    "Task": "任务", "User task": "人工任务", "Service task": "服务任务", "Script task": "脚本任务",
    "Business rule task": "决策表任务", "Manual task": "手工任务", "Send task": "发送任务", "Receive task": "接收任务",
    "Call activity": "调用子流程", "Sub-process": "子流程", "Sub-process (collapsed)": "子流程（折叠）",
    "Sub-process (expanded)": "子流程（展开）", "Event sub-process": "事件子流程", "Transaction": "事务",
    "Ad-hoc sub-process": "自由子流程", "Ad-hoc sub-process (collapsed)": "自由子流程（折叠）",
    "Ad-hoc sub-process (expanded)": "自由子流程（展开）",
    "Start event": "开始事件", "End event": "结束事件", "Intermediate throw event": "中间抛出事件",
    "Timer start event": "定时开始事件", "Timer intermediate catch event": "定时事件",
    "Timer boundary event": "定时边界事件", "Timer boundary event (non-interrupting)": "定时边界事件（不中断）",
    "Timer start event (non-interrupting)": "定时开始事件（不中断）",
    "Message start event": "消息开始事件", "Message intermediate catch event": "消息接收事件",
    "Message intermediate throw event": "消息发送事件", "Message end event": "消息结束事件",
    "Message boundary event": "消息边界事件", "Message boundary event (non-interrupting)": "消息边界事件（不中断）",
    "Message start event (non-interrupting)": "消息开始事件（不中断）",
    "Signal start event": "信号开始事件", "Signal intermediate catch event": "信号接收事件",
    "Signal intermediate throw event": "信号发送事件", "Signal end event": "信号结束事件",
    "Signal boundary event": "信号边界事件", "Signal boundary event (non-interrupting)": "信号边界事件（不中断）",
    "Signal start event (non-interrupting)": "信号开始事件（不中断）",
    "Conditional start event": "条件开始事件", "Conditional intermediate catch event": "条件事件",
    "Conditional boundary event": "条件边界事件", "Conditional boundary event (non-interrupting)": "条件边界事件（不中断）",
    "Conditional start event (non-interrupting)": "条件开始事件（不中断）",
    "Error start event": "错误开始事件", "Error end event": "错误结束事件", "Error boundary event": "错误边界事件",
    "Escalation start event": "升级开始事件", "Escalation end event": "升级结束事件",
    "Escalation intermediate throw event": "升级抛出事件", "Escalation boundary event": "升级边界事件",
    "Escalation boundary event (non-interrupting)": "升级边界事件（不中断）",
    "Escalation start event (non-interrupting)": "升级开始事件（不中断）",
    "Compensation start event": "补偿开始事件", "Compensation end event": "补偿结束事件",
    "Compensation intermediate throw event": "补偿抛出事件", "Compensation boundary event": "补偿边界事件",
    "Cancel end event": "取消结束事件", "Cancel boundary event": "取消边界事件", "Terminate end event": "终止结束事件",
    "Link intermediate catch event": "链接捕获事件", "Link intermediate throw event": "链接抛出事件",
    "Exclusive gateway": "排他网关（选一条路）", "Parallel gateway": "并行网关", "Inclusive gateway": "包容网关",
    "Complex gateway": "复杂网关", "Event-based gateway": "事件网关",
    "Event based instantiating Gateway": "事件启动网关", "Parallel Event based instantiating Gateway": "并行事件启动网关",
    "Sequence flow": "顺序流", "Default flow": "默认流", "Conditional flow": "条件流",
    "Data object reference": "数据对象", "Data store reference": "数据存储", "Expanded pool/participant": "池（展开）",
    // the properties panel's header (the element's type)
    "User Task": "人工任务", "Script Task": "脚本任务", "Business Rule Task": "决策表任务", "Service Task": "服务任务",
    "Manual Task": "手工任务", "Send Task": "发送任务", "Receive Task": "接收任务", "Call Activity": "调用子流程",
    "Collapsed Sub Process": "子流程（折叠）", "Expanded Sub Process": "子流程（展开）", "Event Sub Process": "事件子流程",
    "Start Event": "开始事件", "End Event": "结束事件", "Intermediate Throw Event": "中间抛出事件",
    "Timer Start Event": "定时开始事件", "Timer Intermediate Catch Event": "定时事件", "Timer Boundary Event": "定时边界事件",
    "Timer Boundary Event (Non Interrupting)": "定时边界事件（不中断）", "Message Start Event": "消息开始事件",
    "Message Intermediate Catch Event": "消息接收事件", "Message Intermediate Throw Event": "消息发送事件",
    "Message End Event": "消息结束事件", "Message Boundary Event": "消息边界事件", "Signal Start Event": "信号开始事件",
    "Signal Intermediate Catch Event": "信号接收事件", "Signal End Event": "信号结束事件", "Error End Event": "错误结束事件",
    "Error Boundary Event": "错误边界事件", "Terminate End Event": "终止结束事件", "Conditional Start Event": "条件开始事件",
    "Exclusive Gateway": "排他网关", "Parallel Gateway": "并行网关", "Inclusive Gateway": "包容网关",
    "Event Based Gateway": "事件网关", "Complex Gateway": "复杂网关", "Sequence Flow": "顺序流",
    "Conditional Flow": "条件流", "Default Flow": "默认流", "Lane": "泳道", "Participant": "池（参与者）",
    "Process": "流程", "Collaboration": "协作", "Text Annotation": "注释", "Group": "分组",
    "Data Object Reference": "数据对象", "Data Store Reference": "数据存储", "Message Flow": "消息流",
    "Association": "关联", "Data Input Association": "数据输入关联", "Data Output Association": "数据输出关联",
    // the properties panel's own groups and fields
    "General": "基本信息", "Name": "名称", "ID": "标识（ID）", "Documentation": "说明", "Element documentation": "元素说明",
    "Process documentation": "流程说明", "Process ID": "流程标识", "Process name": "流程名称", "Executable": "可执行",
    "Participant Name": "参与者名称", "Version tag": "版本标记", "Multi-instance": "多实例", "Loop cardinality": "循环次数",
    "Completion condition": "完成条件", "Timer": "定时", "Message": "消息", "Signal": "信号", "Error": "错误",
    "Escalation": "升级", "Compensation": "补偿", "Link": "链接", "Condition": "条件", "Global message reference": "消息",
    "Global signal reference": "信号", "Global error reference": "错误", "Global escalation reference": "升级",
    "Create new ...": "新建……", "<none>": "（无）", "<empty>": "（空）", "Value": "值", "Type": "类型", "Date": "日期",
    "Duration": "时长", "Cycle": "周期", "Activity reference": "活动",
    "Select an element to edit its properties.": "选择图中的一个元素，在这里编辑它的属性。",
    "Multiple elements are selected. Select a single element to edit its properties.": "选中了多个元素：只选一个元素才能编辑属性。",
    "ID must be unique.": "标识不能与其他元素重复。", "ID must not be empty.": "标识不能为空。",
    "ID must not contain spaces.": "标识不能含空格。", "ID must be a valid QName.": "标识须以字母开头，只含字母、数字、下划线。",
    "ID must not contain prefix.": "标识不能含前缀（冒号）。"
  };
  function translate(template, replacements) {
    var text = Object.prototype.hasOwnProperty.call(ZH, template) ? ZH[template] : template;
    replacements = replacements || {};
    return text.replace(/{([^}]+)}/g, function (_, key) {
      return Object.prototype.hasOwnProperty.call(replacements, key) ? replacements[key] : "{" + key + "}";
    });
  }
  window.fangpinBpmnTranslate = { translate: ["value", translate] };
})();
