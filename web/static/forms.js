/* Forms of tasks and registration (web/templates/tasks/_fields.html): after an error the focus goes to the first
   invalid field; a table's cards get "添加…" and "删除" buttons; a submitted form says that it is working. Loaded once
   however many tables a page has. */
(function () {
  "use strict";
  if (window.fangpinForms) { return; }
  window.fangpinForms = true;

  var FOCUSABLE = "input:not([type=hidden]), select, textarea";

  function focusFirstError() {
    var first = document.querySelector("form [aria-invalid=true], form .invalid");
    if (!first) { return; }
    var target = first.matches(FOCUSABLE) ? first
      : first.querySelector("[aria-invalid=true]") || first.querySelector(FOCUSABLE);
    if (target) {
      target.focus();
      if (target.scrollIntoView) { target.scrollIntoView({ block: "center" }); }
    }
  }

  function renumber(table) {
    table.querySelectorAll(".row-cards > .row-card").forEach(function (card, index) {
      var number = card.querySelector(".row-number");
      if (number) { number.textContent = String(index + 1); }
    });
  }

  function nextIndex(table) {
    var highest = -1;
    table.querySelectorAll(".row-cards > .row-card").forEach(function (card) {
      var i = parseInt(card.getAttribute("data-row"), 10);
      if (!isNaN(i) && i > highest) { highest = i; }
    });
    return highest + 1;
  }

  function enableRemove(table, card) {
    var remove = card.querySelector("[data-remove-row]");
    if (!remove) { return; }
    remove.hidden = false;
    remove.addEventListener("click", function () {
      var cards = table.querySelectorAll(".row-cards > .row-card");
      if (cards.length <= 1) {  // the last card is emptied, not removed: there is always one to fill
        card.querySelectorAll(FOCUSABLE).forEach(function (input) {
          if (input.type === "checkbox") { input.checked = input.defaultChecked = false; } else { input.value = ""; }
        });
        return;
      }
      var focusAfter = card.nextElementSibling || card.previousElementSibling;
      card.remove();
      renumber(table);
      var next = focusAfter && focusAfter.querySelector(FOCUSABLE);
      (next || table.querySelector("[data-add-row]")).focus();
    });
  }

  function setUpTable(table) {
    var template = table.querySelector("template.row-template");
    var add = table.querySelector("[data-add-row]");
    var cards = table.querySelector(".row-cards");
    if (!template || !add || !cards) { return; }
    cards.querySelectorAll(".row-card").forEach(function (card) { enableRemove(table, card); });
    add.hidden = false;
    add.addEventListener("click", function () {
      var index = String(nextIndex(table));
      var html = template.innerHTML.split("__i__").join(index).split("__n__").join(String(cards.children.length + 1));
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var card = holder.querySelector(".row-card");
      cards.appendChild(card);
      enableRemove(table, card);
      linkChoices(card);
      renumber(table);
      var first = card.querySelector(FOCUSABLE);
      if (first) { first.focus(); }
    });
  }

  // A choice from a catalogue (具体措施) depends on another input of its card (措施类别): only the options of the
  // group chosen there are offered; a choice of another group is cleared. Without script every option shows and the
  // server names a choice outside the category.
  function linkChoice(select) {
    var source = select.form && select.form.elements[select.getAttribute("data-depends-on")];
    if (!source || source.tagName !== "SELECT") { return; }
    function apply() {
      var key = source.value;
      select.querySelectorAll("optgroup[data-key]").forEach(function (group) {
        var shown = !key || group.getAttribute("data-key") === key;
        group.hidden = !shown;
        group.disabled = !shown;
      });
      var chosen = select.selectedOptions[0];
      if (key && chosen && chosen.parentElement && chosen.parentElement.disabled) { select.value = ""; }
    }
    source.addEventListener("change", apply);
    apply();
  }

  function linkChoices(root) {
    root.querySelectorAll("select[data-depends-on]").forEach(linkChoice);
  }

  function showBusy(form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button.primary[type=submit]");
      if (!button || button.disabled) { return; }
      button.setAttribute("data-label", button.textContent);
      button.textContent = "提交中……";
      button.disabled = true;
      form.setAttribute("aria-busy", "true");
    });
  }

  window.addEventListener("pageshow", function () {  // back to a page kept by the browser: ready to submit again
    document.querySelectorAll("button.primary[data-label]").forEach(function (button) {
      button.textContent = button.getAttribute("data-label");
      button.removeAttribute("data-label");
      button.disabled = false;
      if (button.form) { button.form.removeAttribute("aria-busy"); }
    });
  });

  function start() {
    document.querySelectorAll("fieldset[data-rows]").forEach(setUpTable);
    document.querySelectorAll("form").forEach(linkChoices);
    document.querySelectorAll("form").forEach(function (form) {
      if (form.method === "post" && form.querySelector("button.primary[type=submit]")) { showBusy(form); }
    });
    focusFirstError();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
