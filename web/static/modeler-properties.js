// fangpin's properties provider for the bpmn-js properties panel (bpmn-js-properties-panel, bundled as
// window.FangpinPanelKit by tools/build-vendor). It writes exactly the XML the engine reads:
//   user task     <spiffworkflow:property name="formJsonSchemaFilename" value="x.json"/> (engine.bpmn.validation),
//                 <spiffworkflow:property name="dueDate" value="<expression>"/> (engine.cases.tasks),
//                 <spiffworkflow:property name="publicStage|ledgerStep" value="<code>"/> (what the step is, for the
//                 applicant's progress and the ledgers: engine.bpmn.validation STEP_MARKS, engine.core.vocabulary),
//                 <spiffworkflow:instructionsForEndUser>, all under extensionElements/spiffworkflow:properties;
//   process       <spiffworkflow:property name="procedure" value="<code>"/> (the procedure it carries out, checked when a
//                 place is bound to it: engine.bpmn.procedures), set on the pool (its process) or the process itself;
//   its lane      the lane's name is one of the role's lane names (policy/roles.json, engine.policy.roles);
//   timer event   <bpmn:timeDate xsi:type="bpmn:tFormalExpression"><expression></bpmn:timeDate>;
//   due dates and timers are built with the calendar functions the diagrams use: days_from, working_days_from,
//                 months_from (timers/functions.py), from today() (the task's or timer's start) or a case date;
//   call activity calledElement="<process id>"; business rule task <spiffworkflow:calledDecisionId>;
//   script task   <bpmn:script>; a gateway's outgoing flow <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">.
// The choices (forms, roles, marks, procedures, processes, decisions, dates, functions) come from /diagrams/modeler/choices, given to
// the modeler as the "fangpinChoices" service by diagrams-modeler.js. window.fangpinPropertiesModule is null when the
// panel's bundle is not installed.
(function () {
  "use strict";
  var K = window.FangpinPanelKit;
  if (!K) { window.fangpinPropertiesModule = null; return; }
  var h = K.h;
  var useService = K.useService;
  var FORM = "formJsonSchemaFilename";
  var DUE = "dueDate";
  var PROCEDURE = "procedure";
  var KINDS = [
    { value: "", label: "无期限" },
    { value: "days_from", label: "N 个自然日（日历天）", unit: "天" },
    { value: "working_days_from", label: "N 个工作日", unit: "个工作日" },
    { value: "months_from", label: "N 个月", unit: "个月" },
    { value: "custom", label: "自定义表达式（见下方）" }
  ];
  var DEFAULT_AMOUNT = 5;

  // -- the business objects ---------------------------------------------------------------------------------

  function bo(element) { return element.businessObject; }

  function extension(object, type) {
    var values = (object.extensionElements && object.extensionElements.values) || [];
    return values.filter(function (v) { return v.$type === type; })[0] || null;
  }

  function property(object, name) {
    var properties = extension(object, "spiffworkflow:Properties");
    return ((properties && properties.properties) || []).filter(function (p) { return p.name === name; })[0] || null;
  }

  function propertyValue(element, name) {
    var found = property(bo(element), name);
    return (found && found.value) || "";
  }

  function update(element, moddleElement, properties) {
    return { cmd: "element.updateModdleProperties",
             context: { element: element, moddleElement: moddleElement, properties: properties } };
  }

  // The extensionElements of ``object`` (the element's business object unless given: a pool's process), created
  // if missing, with the commands that attach it.
  function extensionElements(element, factory, commands, object) {
    object = object || bo(element);
    if (object.extensionElements) { return object.extensionElements; }
    var created = factory.create("bpmn:ExtensionElements", { values: [] });
    created.$parent = object;
    commands.push(update(element, object, { extensionElements: created }));
    return created;
  }

  // The child of extensionElements of a type, created (with the commands adding it) if missing.
  function child(element, factory, commands, type, attrs, object) {
    var found = extension(object || bo(element), type);
    if (found) { return found; }
    var container = extensionElements(element, factory, commands, object);
    var created = factory.create(type, attrs || {});
    created.$parent = container;
    commands.push(update(element, container, { values: (container.values || []).concat([created]) }));
    return created;
  }

  function removeChild(element, commands, found) {
    var container = bo(element).extensionElements;
    commands.push(update(element, container, { values: container.values.filter(function (v) { return v !== found; }) }));
  }

  function run(commandStack, commands) {
    if (commands.length) { commandStack.execute("properties-panel.multi-command-executor", commands); }
  }

  // spiffworkflow:property name=value (removed when value is empty) on the element's business object, or on
  // ``object`` when given (a pool's process).
  function setProperty(element, name, value, factory, commandStack, object) {
    var commands = [];
    var existing = property(object || bo(element), name);
    value = (value || "").trim();
    if (!value) {
      if (existing) {
        var holder = existing.$parent;
        commands.push(update(element, holder, { properties: holder.properties.filter(function (p) { return p !== existing; }) }));
      }
    } else if (existing) {
      commands.push(update(element, existing, { value: value }));
    } else {
      var properties = child(element, factory, commands, "spiffworkflow:Properties", { properties: [] }, object);
      var created = factory.create("spiffworkflow:Property", { name: name, value: value });
      created.$parent = properties;
      commands.push(update(element, properties, { properties: (properties.properties || []).concat([created]) }));
    }
    run(commandStack, commands);
  }

  // A spiffworkflow text element (instructionsForEndUser, calledDecisionId), removed when empty.
  function setText(element, type, value, factory, commandStack) {
    var commands = [];
    var existing = extension(bo(element), type);
    value = value || "";
    if (!value.trim()) {
      if (existing) { removeChild(element, commands, existing); }
    } else if (existing) {
      commands.push(update(element, existing, { value: value }));
    } else {
      child(element, factory, commands, type, { value: value });
    }
    run(commandStack, commands);
  }

  function describe(element) {
    var name = bo(element).name;
    return "“" + (name || bo(element).id) + "”（" + bo(element).id + "）";
  }

  // -- the lane of a task and its role ----------------------------------------------------------------------

  function laneOf(element, registry) {
    var object = bo(element);
    var lanes = registry.filter(function (shape) {
      return shape.type === "bpmn:Lane" && (bo(shape).flowNodeRef || []).indexOf(object) >= 0;
    });
    if (!lanes.length) { return null; }
    return lanes.filter(function (lane) {  // the innermost lane (a lane may hold child lanes)
      return !(bo(lane).childLaneSet && bo(lane).childLaneSet.lanes && bo(lane).childLaneSet.lanes.length);
    })[0] || lanes[0];
  }

  function roleOfLane(name, choices) {
    return choices.roles.filter(function (role) {
      return role.lanes.indexOf(name) >= 0 || role.key === name;
    })[0] || null;
  }

  function roleOptions(current, choices) {
    var options = [{ value: "", label: "（请选择角色）" }];
    if (current && !roleOfLane(current, choices)) {
      options.push({ value: "", label: "泳道名“" + current + "”不是已知角色" });
    }
    return options.concat(choices.roles.map(function (role) {
      return { value: role.key, label: role.name + "（泳道名：" + role.lanes[0] + "）" };
    }));
  }

  function RoleEntry(props) {
    var element = props.element;
    var registry = useService("elementRegistry");
    var modeling = useService("modeling");
    var choices = useService("fangpinChoices");
    var lane = element.type === "bpmn:Lane" ? element : laneOf(element, registry);
    var laneName = lane ? (bo(lane).name || "") : "";
    var description = lane
      ? (element.type === "bpmn:Lane" ? "写入泳道名称；该泳道中的任务都由此角色办理。"
        : "写入所在泳道“" + (laneName || "（未命名）") + "”的名称：同一泳道的其他任务也由该角色办理。")
      : "人工任务" + describe(element) + "不在泳道中：请先用右键菜单或图形旁的按钮给流程添加泳道，把任务放进泳道。";
    return h(K.SelectEntry, {
      element: element, id: "fangpin-role", label: "办理角色（泳道）", description: description, disabled: !lane,
      getValue: function () { var role = roleOfLane(laneName, choices); return role ? role.key : ""; },
      setValue: function (key) {
        var role = choices.roles.filter(function (r) { return r.key === key; })[0];
        if (role && lane) { modeling.updateProperties(lane, { name: role.lanes[0] }); }
      },
      getOptions: function () { return roleOptions(laneName, choices); },
      validate: function (value) {
        return lane && !value ? "泳道" + describe(lane) + "的名称不是已知角色：请选择办理角色" : null;
      }
    });
  }

  // -- forms and instructions --------------------------------------------------------------------------------

  function FormEntry(props) {
    var element = props.element;
    var factory = useService("bpmnFactory");
    var commandStack = useService("commandStack");
    var choices = useService("fangpinChoices");
    return h(K.SelectEntry, {
      element: element, id: "fangpin-form", label: "表单",
      description: "办理人填写的表单（forms/ 中的 JSON Schema），写入属性 " + FORM + "。",
      getValue: function () { return propertyValue(element, FORM); },
      setValue: function (value) { setProperty(element, FORM, value, factory, commandStack); },
      getOptions: function () {
        var current = propertyValue(element, FORM);
        var options = [{ value: "", label: "（请选择表单）" }].concat(choices.forms.map(function (form) {
          return { value: form.file, label: (form.title || form.file) + "（" + form.file + "）" };
        }));
        if (current && !choices.forms.some(function (form) { return form.file === current; })) {
          options.push({ value: current, label: current + "（表单库中没有该表单）" });
        }
        return options;
      },
      validate: function (value) { return value ? null : "人工任务" + describe(element) + "没有表单：请选择一个表单"; }
    });
  }

  // What the step is (publicStage, ledgerStep): one of the codes the engine knows, or none.
  function MarkEntry(props) {
    var element = props.element;
    var mark = props.mark;
    var factory = useService("bpmnFactory");
    var commandStack = useService("commandStack");
    return h(K.SelectEntry, {
      element: element, id: "fangpin-mark-" + mark.property, label: mark.label,
      description: "写入属性 " + mark.property + "；不选则该步骤不计入。",
      getValue: function () { return propertyValue(element, mark.property); },
      setValue: function (value) { setProperty(element, mark.property, value, factory, commandStack); },
      getOptions: function () {
        var current = propertyValue(element, mark.property);
        var options = [{ value: "", label: "（不设）" }].concat(mark.values.map(function (v) {
          return { value: v.value, label: v.label + "（" + v.value + "）" };
        }));
        if (current && !mark.values.some(function (v) { return v.value === current; })) {
          options.push({ value: current, label: current + "（不是已知的取值）" });
        }
        return options;
      }
    });
  }

  function markEntries(element, choices) {
    return (choices.marks || []).map(function (mark) {
      return { id: "fangpin-mark-" + mark.property, element: element, mark: mark, component: MarkEntry };
    });
  }

  // The procedure a process carries out (engine.bpmn.procedures): on a pool, its process's property.
  function processOf(element) {
    return element.type === "bpmn:Participant" ? bo(element).processRef : bo(element);
  }

  function ProcedureEntry(props) {
    var element = props.element;
    var factory = useService("bpmnFactory");
    var commandStack = useService("commandStack");
    var choices = useService("fangpinChoices");
    var process = processOf(element);
    function current() { var found = property(process, PROCEDURE); return (found && found.value) || ""; }
    return h(K.SelectEntry, {
      element: element, id: "fangpin-procedure", label: "办理程序",
      description: "本流程办理的程序，写入流程“" + (process.name || process.id) + "”（" + process.id + "）的属性 " +
        PROCEDURE + "：把某地的办理程序绑定到本流程时须与之相同（如识别纳入的流程不能绑定为风险消除）。" +
        "被其他流程调用、不单独绑定的流程（如公示期）不设。",
      getValue: current,
      setValue: function (value) { setProperty(element, PROCEDURE, value, factory, commandStack, process); },
      getOptions: function () {
        var options = [{ value: "", label: "（不设）" }].concat((choices.procedures || []).map(function (p) {
          return { value: p.value, label: p.label + "（" + p.value + "）" };
        }));
        if (current() && !(choices.procedures || []).some(function (p) { return p.value === current(); })) {
          options.push({ value: current(), label: current() + "（不是已知的办理程序）" });
        }
        return options;
      }
    });
  }

  function InstructionsEntry(props) {
    var element = props.element;
    var factory = useService("bpmnFactory");
    var commandStack = useService("commandStack");
    var debounce = useService("debounceInput");
    var type = "spiffworkflow:InstructionsForEndUser";
    return h(K.TextAreaEntry, {
      element: element, id: "fangpin-instructions", label: "办理说明", rows: 3, debounce: debounce,
      description: "显示在办理人的任务页上。",
      getValue: function () { var found = extension(bo(element), type); return (found && found.value) || ""; },
      setValue: function (value) { setText(element, type, value, factory, commandStack); }
    });
  }

  // -- due dates and timers ----------------------------------------------------------------------------------

  var START = "([A-Za-z_][A-Za-z0-9_]*(?:\\(\\)|\\[\"[A-Za-z0-9_]+\"\\])?)";
  var AMOUNT = "(\\d+|policy\\[\"([A-Za-z0-9_.]+)\"\\])";
  var BUILT = new RegExp("^(days_from|working_days_from|months_from)\\(" + START + ",\\s*" + AMOUNT + "\\)" +
                         "(?:\\s+if\\s+\"([A-Za-z0-9_.]+)\"\\s+in\\s+policy\\s+else\\s+None)?$");

  // {kind, start, amount, policy} of an expression the builder wrote (or one like it), else {kind: "custom"}.
  function parse(expression) {
    var text = (expression || "").trim();
    if (!text) { return { kind: "" }; }
    var m = BUILT.exec(text);
    if (!m || (m[5] && m[5] !== m[4])) { return { kind: "custom" }; }
    return { kind: m[1], start: m[2], amount: m[4] ? DEFAULT_AMOUNT : parseInt(m[3], 10), policy: m[4] || "" };
  }

  // The expression for a choice; a policy parameter is guarded as the shipped diagrams do (a due date of a place
  // that has not configured it is "none"), except in a timer, which must have a moment.
  function build(choice, guarded) {
    if (!choice.kind || choice.kind === "custom") { return ""; }
    var start = choice.start || "today()";
    if (choice.policy) {
      var call = choice.kind + "(" + start + ", policy[\"" + choice.policy + "\"])";
      return guarded ? call + " if \"" + choice.policy + "\" in policy else None" : call;
    }
    return choice.kind + "(" + start + ", " + (choice.amount || DEFAULT_AMOUNT) + ")";
  }

  function timerDefinition(element) {
    return (bo(element).eventDefinitions || []).filter(function (d) { return d.$type === "bpmn:TimerEventDefinition"; })[0];
  }

  // How a due date (user task) or a timer (event) is read and written.
  function deadlineAccess(element, services) {
    if (element.type === "bpmn:UserTask") {
      return {
        guarded: true, what: "期限", startLabel: "任务开始之日",
        get: function () { return propertyValue(element, DUE); },
        set: function (value) { setProperty(element, DUE, value, services.factory, services.commandStack); }
      };
    }
    var definition = timerDefinition(element);
    return {
      guarded: false, what: "定时", startLabel: "定时开始之日",
      get: function () {
        var body = definition.timeDate || definition.timeDuration || definition.timeCycle;
        return (body && body.body) || "";
      },
      set: function (value) {
        value = (value || "").trim();
        var which = definition.timeDuration && !definition.timeDate ? "timeDuration"
          : (definition.timeCycle && !definition.timeDate ? "timeCycle" : "timeDate");
        var properties = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
        if (value) {
          var expression = services.factory.create("bpmn:FormalExpression", { body: value });
          expression.$parent = definition;
          properties[services.builder ? "timeDate" : which] = expression;
        }
        services.commandStack.execute("element.updateModdleProperties",
          { element: element, moddleElement: definition, properties: properties });
      }
    };
  }

  function useDeadline(element, builder) {
    return deadlineAccess(element, { factory: useService("bpmnFactory"), commandStack: useService("commandStack"),
                                     builder: builder });
  }

  function startOptions(current, access, choices) {
    var options = choices.dates.map(function (date) {
      return { value: date.expr, label: date.expr === "today()" ? access.startLabel + "（today()）" : date.label };
    });
    if (current && !choices.dates.some(function (date) { return date.expr === current; })) {
      options.push({ value: current, label: current + "（本图中的写法）" });
    }
    return options;
  }

  function KindEntry(props) {
    var element = props.element;
    var access = useDeadline(element, true);
    var current = parse(access.get());
    var shown = access.get();
    return h(K.SelectEntry, {
      element: element, id: "fangpin-due-kind", label: access.what + "：按",
      description: shown ? "写入：" + shown : (element.type === "bpmn:UserTask" ? "没有期限" : "定时器须有时间"),
      getValue: function () { return current.kind; },
      setValue: function (kind) {
        if (kind === "custom") { return; }  // edit the expression below
        access.set(kind ? build({ kind: kind, start: current.start, amount: current.amount, policy: current.policy },
                                access.guarded) : "");
      },
      getOptions: function () {
        return KINDS.filter(function (k) { return k.value !== "" || element.type === "bpmn:UserTask"; })
          .map(function (k) { return { value: k.value, label: k.label }; });
      }
    });
  }

  function StartEntry(props) {
    var element = props.element;
    var choices = useService("fangpinChoices");
    var access = useDeadline(element, true);
    var current = parse(access.get());
    if (!current.kind || current.kind === "custom") { return null; }
    return h(K.SelectEntry, {
      element: element, id: "fangpin-due-start", label: "起算日",
      description: "起算日不计入期限（民法典第二百零一条）。",
      getValue: function () { return current.start; },
      setValue: function (start) { access.set(build(Object.assign({}, current, { start: start }), access.guarded)); },
      getOptions: function () { return startOptions(current.start, access, choices); }
    });
  }

  function AmountEntry(props) {
    var element = props.element;
    var debounce = useService("debounceInput");
    var access = useDeadline(element, true);
    var current = parse(access.get());
    if (!current.kind || current.kind === "custom" || current.policy) { return null; }
    var unit = KINDS.filter(function (k) { return k.value === current.kind; })[0].unit;
    return h(K.NumberFieldEntry, {
      element: element, id: "fangpin-due-amount", label: "数量 N（" + unit + "）", min: 1, max: 3650, step: 1,
      debounce: debounce,
      getValue: function () { return current.amount; },
      setValue: function (value) {
        var amount = parseInt(value, 10);
        if (amount > 0) { access.set(build(Object.assign({}, current, { amount: amount }), access.guarded)); }
      },
      validate: function (value) {
        return parseInt(value, 10) > 0 ? null : describe(element) + "的" + access.what + "：数量须是正整数";
      }
    });
  }

  function PolicyEntry(props) {
    var element = props.element;
    var debounce = useService("debounceInput");
    var access = useDeadline(element, true);
    var current = parse(access.get());
    if (!current.kind || current.kind === "custom") { return null; }
    return h(K.TextFieldEntry, {
      element: element, id: "fangpin-due-policy", label: "或取政策参数（可不填）", debounce: debounce,
      description: "填写政策参数名（如 limit_days）时按各地配置的数量，不再用上面的 N；"
        + (access.guarded ? "没有配置该参数的地方没有期限。" : "没有配置该参数的地方无法部署。"),
      getValue: function () { return current.policy; },
      setValue: function (value) {
        access.set(build(Object.assign({}, current, { policy: (value || "").trim() }), access.guarded));
      },
      validate: function (value) {
        return !value || /^[A-Za-z0-9_.]+$/.test(value.trim()) ? null
          : describe(element) + "的" + access.what + "：政策参数名只能含字母、数字、下划线和点";
      }
    });
  }

  function functionList(choices) {
    return h("details", { class: "fangpin-functions" },
      h("summary", null, "可用的函数（受限的 Python）"),
      h("ul", null, choices.functions.map(function (fn) {
        var note = fn.note || fn.label;  // one list, the server's (engine/library/stand_ins.py)
        return h("li", { key: fn.name }, h("code", null, fn.signature), note ? "：" + note : "");
      })),
      h("p", null, "内置函数：", h("code", null, choices.builtins.join("、"))),
      h("p", null, "不能 import，不能读写文件，不能用下划线开头的名称；日期是 ISO 文字（如 \"2026-10-01\"）。"));
  }

  function ExpressionEntry(props) {
    var element = props.element;
    var debounce = useService("debounceInput");
    var choices = useService("fangpinChoices");
    var access = useDeadline(element, false);
    return h(K.TextAreaEntry, {
      element: element, id: "fangpin-due-expression", label: access.what + "表达式", rows: 2, monospace: true,
      debounce: debounce, description: functionList(choices),
      getValue: function () { return access.get(); },
      setValue: function (value) { access.set(value); }
    });
  }

  // -- call activities, decision tables, scripts and conditions ------------------------------------------------

  function CalledProcessEntry(props) {
    var element = props.element;
    var modeling = useService("modeling");
    var choices = useService("fangpinChoices");
    return h(K.SelectEntry, {
      element: element, id: "fangpin-called-process", label: "调用的流程",
      description: "流程图库中的流程；部署时与它最后部署的文件一起校验。",
      getValue: function () { return bo(element).calledElement || ""; },
      setValue: function (value) { modeling.updateProperties(element, { calledElement: value || undefined }); },
      getOptions: function () {
        var current = bo(element).calledElement;
        var options = [{ value: "", label: "（请选择流程）" }].concat(choices.processes.map(function (p) {
          return { value: p.id, label: (p.name || p.id) + "（" + p.id + "，" + p.file + "）" };
        }));
        if (current && !choices.processes.some(function (p) { return p.id === current; })) {
          options.push({ value: current, label: current + "（没有部署该流程）" });
        }
        return options;
      },
      validate: function (value) { return value ? null : "调用子流程" + describe(element) + "须选择调用的流程"; }
    });
  }

  function DecisionEntry(props) {
    var element = props.element;
    var factory = useService("bpmnFactory");
    var commandStack = useService("commandStack");
    var choices = useService("fangpinChoices");
    var type = "spiffworkflow:CalledDecisionId";
    function current() { var found = extension(bo(element), type); return ((found && found.value) || "").trim(); }
    return h(K.SelectEntry, {
      element: element, id: "fangpin-decision", label: "决策表",
      description: "已部署的决策表（DMN）中的决策；结果写入流程数据。",
      getValue: current,
      setValue: function (value) { setText(element, type, value, factory, commandStack); },
      getOptions: function () {
        var options = [{ value: "", label: "（请选择决策表）" }].concat(choices.decisions.map(function (d) {
          return { value: d.id, label: (d.name || d.id) + "（" + d.id + "，" + d.file + "）" };
        }));
        if (current() && !choices.decisions.some(function (d) { return d.id === current(); })) {
          options.push({ value: current(), label: current() + "（没有部署该决策表）" });
        }
        return options;
      },
      validate: function (value) { return value ? null : "决策表任务" + describe(element) + "须选择决策表"; }
    });
  }

  function ScriptEntry(props) {
    var element = props.element;
    var modeling = useService("modeling");
    var debounce = useService("debounceInput");
    var choices = useService("fangpinChoices");
    return h(K.TextAreaEntry, {
      element: element, id: "fangpin-script", label: "脚本", rows: 8, monospace: true, debounce: debounce,
      description: functionList(choices),
      getValue: function () { return bo(element).script || ""; },
      setValue: function (value) { modeling.updateProperties(element, { script: value || undefined }); }
    });
  }

  function ConditionEntry(props) {
    var element = props.element;
    var modeling = useService("modeling");
    var factory = useService("bpmnFactory");
    var debounce = useService("debounceInput");
    var choices = useService("fangpinChoices");
    return h(K.TextAreaEntry, {
      element: element, id: "fangpin-condition", label: "条件表达式", rows: 2, monospace: true, debounce: debounce,
      description: functionList(choices),
      getValue: function () { var c = bo(element).conditionExpression; return (c && c.body) || ""; },
      setValue: function (value) {
        var expression;
        if (value && value.trim()) {
          expression = factory.create("bpmn:FormalExpression", { body: value.trim() });
        }
        modeling.updateProperties(element, { conditionExpression: expression });
      }
    });
  }

  // -- the provider ----------------------------------------------------------------------------------------------

  function entry(id, component, element) { return { id: id, component: component, element: element }; }

  function deadlineEntries(element) {
    return [entry("fangpin-due-kind", KindEntry, element), entry("fangpin-due-start", StartEntry, element),
            entry("fangpin-due-amount", AmountEntry, element), entry("fangpin-due-policy", PolicyEntry, element),
            entry("fangpin-due-expression", ExpressionEntry, element)];
  }

  function groupsFor(element, choices) {
    var type = element.type;
    var object = bo(element);
    if (type === "bpmn:UserTask") {
      return [{ id: "fangpin-user-task", label: "办理（表单、角色）",
                entries: [entry("fangpin-form", FormEntry, element), entry("fangpin-role", RoleEntry, element),
                          entry("fangpin-instructions", InstructionsEntry, element)] },
              { id: "fangpin-due", label: "办理期限", entries: deadlineEntries(element) },
              { id: "fangpin-marks", label: "步骤用途（进度查询、台账）", entries: markEntries(element, choices) }];
    }
    if ((type === "bpmn:Participant" && object.processRef) || type === "bpmn:Process") {
      return [{ id: "fangpin-procedure", label: "办理程序", entries: [entry("fangpin-procedure", ProcedureEntry, element)] }];
    }
    if (type === "bpmn:Lane") {
      return [{ id: "fangpin-lane", label: "办理角色", entries: [entry("fangpin-role", RoleEntry, element)] }];
    }
    if (/Event$/.test(type) && timerDefinition(element)) {
      return [{ id: "fangpin-timer", label: "定时", entries: deadlineEntries(element) }];
    }
    if (type === "bpmn:CallActivity") {
      return [{ id: "fangpin-call", label: "调用子流程", entries: [entry("fangpin-called-process", CalledProcessEntry, element)] }];
    }
    if (type === "bpmn:BusinessRuleTask") {
      return [{ id: "fangpin-decision", label: "决策表", entries: [entry("fangpin-decision", DecisionEntry, element)] }];
    }
    if (type === "bpmn:ScriptTask") {
      return [{ id: "fangpin-script", label: "脚本", entries: [entry("fangpin-script", ScriptEntry, element)] }];
    }
    if (type === "bpmn:SequenceFlow" && object.sourceRef &&
        /^bpmn:(ExclusiveGateway|InclusiveGateway)$/.test(object.sourceRef.$type) && object.sourceRef.default !== object) {
      return [{ id: "fangpin-condition", label: "条件", entries: [entry("fangpin-condition", ConditionEntry, element)] }];
    }
    return [];
  }

  function FangpinPropertiesProvider(propertiesPanel, injector) {
    this.getGroups = function (element) {
      return function (groups) {
        groups = groups.filter(function (group) { return group.id !== "timer"; });  // ISO timers: ours instead
        var at = groups.findIndex(function (group) { return group.id === "general"; }) + 1;
        var choices = injector.get("fangpinChoices", false) || {};
        return groups.slice(0, at).concat(groupsFor(element, choices), groups.slice(at));
      };
    };
    propertiesPanel.registerProvider(500, this);
  }
  FangpinPropertiesProvider.$inject = ["propertiesPanel", "injector"];

  window.fangpinPropertiesModule = {
    __init__: ["fangpinPropertiesProvider"],
    fangpinPropertiesProvider: ["type", FangpinPropertiesProvider]
  };
  window.fangpinDeadline = { parse: parse, build: build };  // for the tests and the curious
})();
