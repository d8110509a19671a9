// 打印 buttons (data-print): print the page. A static file, since the Content-Security-Policy allows no inline
// event handlers (onclick="…").
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-print]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function () { window.print(); });
  }
})();
