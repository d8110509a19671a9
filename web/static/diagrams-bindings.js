// 流程绑定: the version list shows only the versions of the chosen process ("最新版本" always).
(function () {
  "use strict";
  var process = document.getElementById("process_key");
  var version = document.getElementById("version");
  if (!process || !version) { return; }
  function filter() {
    var groups = version.querySelectorAll("optgroup[data-process]");
    for (var i = 0; i < groups.length; i++) {
      var mine = groups[i].getAttribute("data-process") === process.value;
      groups[i].hidden = !mine;
      groups[i].disabled = !mine;
    }
    var chosen = version.options[version.selectedIndex];
    if (chosen && chosen.parentNode.disabled) { version.value = ""; }
  }
  process.addEventListener("change", filter);
  filter();
})();
