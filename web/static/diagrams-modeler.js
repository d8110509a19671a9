// Edit a BPMN diagram with the bpmn-js Modeler, or a DMN decision table with the dmn-js Modeler (data-kind="dmn"),
// and save the XML as a new draft (never deployed from here).
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
        common: { keyboard: { bindTo: document } },
        drd: { additionalModules: zh },
        decisionTable: { additionalModules: zh },
        literalExpression: { additionalModules: zh },
        boxedExpression: { additionalModules: zh }
      });
      dmn.on("views.changed", function () { showViews(dmn); });
      return dmn;
    }
    return window.BpmnJS ? new window.BpmnJS({ container: el, keyboard: { bindTo: document } }) : null;
  }

  function opened(modeler) {
    if (kind !== "dmn") {
      modeler.get("canvas").zoom("fit-viewport");
      return null;
    }
    var table = modeler.getViews().filter(function (view) { return view.type === "decisionTable"; })[0];
    return table ? modeler.open(table) : null;  // the decision table, not the diagram of decisions
  }

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
    .then(function () { return opened(modeler); })
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
})();
