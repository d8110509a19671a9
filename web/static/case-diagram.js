// Draw the case's BPMN diagram with the bpmn-js viewer and mark the steps done and the steps open now.
(function () {
  "use strict";
  var el = document.getElementById("diagram");
  if (!el || !window.BpmnJS) { return; }
  var markers = JSON.parse(el.getAttribute("data-markers"));
  var viewer = new window.BpmnJS({ container: el });
  fetch(el.getAttribute("data-xml"), { credentials: "same-origin" })
    .then(function (response) { return response.text(); })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      markers.completed.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "done"); } });
      markers.current.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "current"); } });
      canvas.zoom("fit-viewport");
      el.setAttribute("data-rendered", "true");
    })
    .catch(function (err) {
      el.textContent = "流程图无法显示：" + err.message;
      el.setAttribute("data-rendered", "error");
    });
})();
