// Rule builder glue (territories/form.html). The server renders every row; this only removes
// rows and chips in place, moves focus sensibly, adds a chip on Enter or a datalist pick, and
// keeps the pasted-code count current. Every change tells the preview via "rb-changed".
(function () {
  "use strict";
  function changed() { document.body.dispatchEvent(new CustomEvent("rb-changed", { bubbles: true })); }
  // The live preview follows edits of the form's fields, except those marked data-nolive. The
  // filter lives here, not in hx-trigger (htmx would evaluate it with eval, which the CSP forbids):
  // a change tells the preview at once ("rb-live-change"), typing after a pause ("rb-live-input").
  ["change", "input"].forEach(function (kind) {
    document.addEventListener(kind, function (e) {
      var form = document.getElementById("territory-form");
      if (!form || !e.target || !form.contains(e.target) || e.target.hasAttribute("data-nolive")) { return; }
      document.body.dispatchEvent(new CustomEvent("rb-live-" + kind, { bubbles: true }));
    });
  });
  function firstControl(node) { return node && node.querySelector("select, input:not([type=hidden]), textarea, button"); }
  function addChip(input) {
    var box = input.closest(".rb-chips");
    if (box && input.value.trim() && window.htmx) { window.htmx.trigger(box, "rb-add"); }
  }

  document.addEventListener("click", function (e) {
    var remove = e.target.closest(".rb-remove");
    if (remove) {
      var node = remove.closest(".rb-node");
      var group = node.parentElement.closest(".rb-group");
      var next = node.nextElementSibling || node.previousElementSibling;
      node.remove();
      var target = next ? firstControl(next) : group && group.querySelector(":scope > fieldset > .rb-actions .rb-add-cond");
      if (target) { target.focus(); }
      changed();
      return;
    }
    var chip = e.target.closest(".rb-chip-remove");
    if (chip) {
      var box = chip.closest(".rb-chips");
      chip.closest(".rb-chip").remove();
      var search = box && box.querySelector(".rb-search");
      if (search) { search.focus(); }
      changed();
    }
  });

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !e.target.closest) { return; }
    if (e.target.matches(".rb-search")) { e.preventDefault(); addChip(e.target); return; }
    // Enter in a builder field would submit the whole form as a draft: keep it for textareas.
    if (e.target.closest("#territory-form") && e.target.matches("input:not([type=submit])")) { e.preventDefault(); }
  });

  document.addEventListener("input", function (e) {
    var t = e.target;
    if (t.matches && t.matches(".rb-search") && (e.inputType === "insertReplacementText" || e.inputType === undefined)) {
      addChip(t); // picked from the datalist
    }
    if (t.matches && t.matches(".rb-bulk")) {
      var seen = {};
      t.value.split(/[\s,;]+/).forEach(function (v) { if (v) { seen[v.toUpperCase()] = 1; } });
      var out = t.parentElement.querySelector("[data-count]");
      if (out) { out.textContent = Object.keys(seen).length; }
    }
  });

  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches(".rb-join-select")) {
      var list = e.target.closest("fieldset").querySelector(":scope > .rb-children");
      if (list) { list.dataset.join = e.target.value; }
    }
  });

  document.addEventListener("htmx:afterRequest", function (e) {
    var box = e.detail.elt;
    if (box && box.classList && box.classList.contains("rb-chips") && e.detail.successful) {
      var search = box.querySelector(".rb-search");
      if (search) { search.value = ""; search.focus(); }
    }
  });
})();
