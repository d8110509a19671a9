// Edit a BPMN diagram with the bpmn-js Modeler, or a DMN decision table with the dmn-js Modeler (data-kind="dmn"),
// and save the XML as a new draft (never deployed from here).
// A BPMN diagram gets the properties panel (#properties): bpmn-js-properties-panel with fangpin's provider
// (modeler-properties.js), fed by the choices of data-choices (forms, roles, processes, decision tables); the
// spiffworkflow extensions are typed (modeler-spiff-moddle.js) and every label is Chinese (modeler-zh.js).
// The modeler is window.fangpinModeler (for tests and for the curious).
(function () {
  "use strict";
  var el = document.getElementById("modeler");
  var save = document.getElementById("modeler-save");
  var status = document.getElementById("modeler-status");
  var bar = document.getElementById("modeler-form");
  if (bar) {  // the bar is a form only for its layout: Enter in the note field must not submit it
    bar.addEventListener("submit", function (event) { event.preventDefault(); });
  }
  if (!el || !save) { return; }
  var kind = el.getAttribute("data-kind") || "bpmn";
  function say(text, cls) {
    status.textContent = text;
    status.className = cls || "";
  }
  var VIEW_NAMES = { drd: "决策需求图", decisionTable: "决策表", literalExpression: "文字表达式",
    boxedExpression: "表达式" };

  // The dmn-js views (decision tables, the DRD) as tabs above the editor.
  function showViews(modeler) {
    var nav = document.getElementById("dmn-views");
    if (!nav) { return; }
    var active = modeler.getActiveView();
    nav.innerHTML = "";
    modeler.getViews().forEach(function (view) {
      var tab = document.createElement("button");
      tab.type = "button";
      var name = view.element && view.element.name ? view.element.name : (view.element && view.element.id) || "";
      tab.textContent = (VIEW_NAMES[view.type] || view.type) + (view.type === "drd" ? "" : "：" + name);
      tab.setAttribute("data-view", view.type + ":" + (view.element && view.element.id));
      if (active && active.element === view.element && active.type === view.type) {
        tab.className = "active";
        tab.setAttribute("aria-current", "true");
      }
      tab.addEventListener("click", function () {
        modeler.open(view).catch(function (err) { say("无法打开该视图：" + err.message, "error"); });
      });
      nav.appendChild(tab);
    });
  }

  function create() {
    if (kind === "dmn") {
      if (!window.DmnJS) { return null; }
      var zh = window.fangpinDmnTranslate ? [window.fangpinDmnTranslate] : [];  // Chinese labels (dmn-zh.js)
      var dmn = new window.DmnJS({
        container: el,
        drd: { additionalModules: zh },
        decisionTable: { additionalModules: zh },
        literalExpression: { additionalModules: zh },
        boxedExpression: { additionalModules: zh }
      });
      dmn.on("views.changed", function () { showViews(dmn); });
      return dmn;
    }
    return window.BpmnJS ? createBpmn() : null;
  }

  // bpmn-js with the Chinese labels, the spiffworkflow extensions and (when its bundle and the choices are there)
  // the properties panel.
  function createBpmn() {
    var modules = window.fangpinBpmnTranslate ? [window.fangpinBpmnTranslate] : [];
    var options = { container: el, additionalModules: modules, moddleExtensions: {} };  // keys: bound implicitly
    if (window.fangpinSpiffModdle) { options.moddleExtensions.spiffworkflow = window.fangpinSpiffModdle; }
    var kit = window.FangpinPanelKit;
    if (panel && kit && window.fangpinPropertiesModule && choices) {
      modules.push(kit.BpmnPropertiesPanelModule, kit.BpmnPropertiesProviderModule, window.fangpinPropertiesModule,
                   { fangpinChoices: ["value", choices] });
      var open = {};  // fangpin's groups and the name open, the others (documentation, multi-instance) closed
      ["general", "fangpin-user-task", "fangpin-due", "fangpin-lane", "fangpin-timer", "fangpin-call",
       "fangpin-decision", "fangpin-script", "fangpin-condition"].forEach(function (id) { open[id] = { open: true }; });
      options.propertiesPanel = { parent: panel, layout: { groups: open } };
      panel.setAttribute("data-ready", "true");
    } else if (panel) {
      panel.setAttribute("data-ready", "error");
      panel.textContent = panelProblem || "属性面板没有加载（bpmn-js-properties-panel 未安装？请运行 make install）；"
        + "可以下载文件在桌面建模工具中编辑属性。";
    }
    return new window.BpmnJS(options);
  }

  // What bpmn-js could not read (an element it has no type for is left out of the saved XML): said, not hidden.
  function warn(result) {
    var warnings = (result && result.warnings) || [];
    if (!warnings.length) { return; }
    say("注意：编辑器有 " + warnings.length + " 处内容无法识别，保存的草稿中将没有它们（请先下载原文件备份）："
        + warnings.slice(0, 3).map(function (w) { return w.message; }).join("；"), "error");
  }

  function opened(modeler) {
    if (kind !== "dmn") {
      modeler.get("canvas").zoom("fit-viewport");
      return null;
    }
    var table = modeler.getViews().filter(function (view) { return view.type === "decisionTable"; })[0];
    return table ? modeler.open(table) : null;  // the decision table, not the diagram of decisions
  }

  var panel = document.getElementById("properties");
  var choices = null;
  var panelProblem = "";

  // The properties panel's choices first (a BPMN diagram only); without them the modeler opens without the panel.
  function loadChoices() {
    var url = el.getAttribute("data-choices");
    if (kind === "dmn" || !url || !panel) { return Promise.resolve(); }
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (body) { choices = body; })
      .catch(function (err) { panelProblem = "属性面板的选项（表单、角色、流程）无法读取：" + err.message; });
  }

  loadChoices().then(start);

  function start() {
    var modeler = create();
    if (!modeler) {
      say("编辑器没有加载（" + (kind === "dmn" ? "dmn-js" : "bpmn-js") + " 未安装？请运行 make install）", "error");
      el.setAttribute("data-ready", "error");
      return;
    }
    window.fangpinModeler = modeler;
    var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
    fetch(el.getAttribute("data-xml"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (xml) { return modeler.importXML(xml); })
      .then(function (result) { warn(result); return opened(modeler); })
      .then(function () {
        save.disabled = false;
        el.setAttribute("data-ready", "true");
      })
      .catch(function (err) {
        say((kind === "dmn" ? "决策表" : "流程图") + "无法打开：" + err.message, "error");
        el.setAttribute("data-ready", "error");
      });
    save.addEventListener("click", function () {
      save.disabled = true;
      say("正在保存……");
      var note = document.getElementById("modeler-note").value;
      modeler.saveXML({ format: true })
        .then(function (result) {
          return fetch(el.getAttribute("data-save") + "&note=" + encodeURIComponent(note), {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/xml; charset=utf-8", "X-CSRFToken": token },
            body: result.xml
          });
        })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (answer) {
          if (!answer.ok) { throw new Error(answer.body.error || "保存失败"); }
          status.innerHTML = "";
          status.className = "ok";
          status.appendChild(document.createTextNode("草稿已保存（编号 " + answer.body.draft_id + "）："));
          var link = document.createElement("a");
          link.href = answer.body.url;
          link.textContent = "校验或部署";
          status.appendChild(link);
          el.setAttribute("data-saved", String(answer.body.draft_id));
        })
        .catch(function (err) { say("保存失败：" + err.message, "error"); })
        .then(function () { save.disabled = false; });
    });
  }
})();
