// Draw the case's BPMN diagram with the bpmn-js viewer and mark the steps done and the steps open now; the
// zoom bar above it (放大, 缩小, 适应窗口, 当前步骤). Loaded with `defer`: the page is shown before the viewer.
(function () {
  "use strict";
  // the viewer's stylesheets, fetched without blocking the page's first paint (media="print"), now apply
  Array.prototype.forEach.call(document.querySelectorAll("link[data-diagram-style]"), function (link) {
    link.media = "all";
  });
  var el = document.getElementById("diagram");
  if (!el) { return; }
  if (!window.BpmnJS) {
    el.textContent = "流程图无法显示：查看器没有加载。";
    el.setAttribute("data-rendered", "error");
    return;
  }
  var READABLE = 0.6;  // below this scale the labels are too small to read: show the current step instead
  var STEP = 1.25;
  var markers = JSON.parse(el.getAttribute("data-markers"));
  el.textContent = "";
  var viewer = new window.BpmnJS({ container: el });
  window.fangpinCaseViewer = viewer;  // for tests and for the curious

  function canvas() { return viewer.get("canvas"); }

  function zoomBy(factor) {
    var c = canvas();
    var box = c.viewbox();
    var center = { x: box.outer.width / 2, y: box.outer.height / 2 };  // zoom around the middle of the window
    c.zoom(Math.max(0.2, Math.min(4, c.zoom() * factor)), center);
  }

  function showCurrent() {
    var c = canvas();
    var registry = viewer.get("elementRegistry");
    var ids = markers.current.length ? markers.current : markers.completed.slice(-1);
    var shape = null;
    for (var i = 0; i < ids.length && !shape; i++) { shape = registry.get(ids[i]); }
    c.zoom(1);
    if (shape) {
      var box = c.viewbox();
      c.viewbox({ x: shape.x + shape.width / 2 - box.width / 2, y: shape.y + shape.height / 2 - box.height / 2,
        width: box.width, height: box.height });
    }
  }

  function fit() {
    canvas().zoom("fit-viewport", "auto");
  }

  var tools = document.getElementById("diagram-tools");
  if (tools) {
    tools.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button[data-zoom]") : null;
      if (!button) { return; }
      var what = button.getAttribute("data-zoom");
      if (what === "in") { zoomBy(STEP); }
      else if (what === "out") { zoomBy(1 / STEP); }
      else if (what === "fit") { fit(); }
      else if (what === "current") { showCurrent(); }
    });
  }

  fetch(el.getAttribute("data-xml"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var c = canvas();
      var registry = viewer.get("elementRegistry");
      markers.completed.forEach(function (id) { if (registry.get(id)) { c.addMarker(id, "done"); } });
      markers.current.forEach(function (id) { if (registry.get(id)) { c.addMarker(id, "current"); } });
      fit();
      if (c.zoom() < READABLE) { showCurrent(); }  // a long procedure: readable labels around where it stands
      if (tools) { tools.hidden = false; }
      el.setAttribute("data-rendered", "true");
    })
    .catch(function (err) {
      el.textContent = "流程图无法显示：" + err.message;
      el.setAttribute("data-rendered", "error");
    });
})();
