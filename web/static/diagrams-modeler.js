// Edit a BPMN diagram with the bpmn-js Modeler and save the XML as a new draft (never deployed from here).
// The modeler is window.fangpinModeler (for tests and for the curious).
(function () {
  "use strict";
  var el = document.getElementById("modeler");
  var save = document.getElementById("modeler-save");
  var status = document.getElementById("modeler-status");
  if (!el || !save) { return; }
  function say(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }
  if (!window.BpmnJS) { say("编辑器没有加载（bpmn-js 未安装？请运行 make install）", "error"); return; }
  var modeler = new window.BpmnJS({ container: el, keyboard: { bindTo: document } });
  window.fangpinModeler = modeler;
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  fetch(el.getAttribute("data-xml"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(function () {
      modeler.get("canvas").zoom("fit-viewport");
      save.disabled = false;
      el.setAttribute("data-ready", "true");
    })
    .catch(function (err) {
      say("流程图无法打开：" + err.message, "error");
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
