// Behaviour every page shares, kept out of the templates so the Content-Security-Policy can
// forbid inline script and style. Values come from data-* attributes; runs on page load and on
// every piece of HTML htmx swaps in.
//   data-width="42.5"          the element's width in percent (progress bars)
//   data-depth="3"             sets the CSS variable --depth (tree indentation)
//   data-submit-on-change      submits the element's form when its value changes
//   data-fill-target="ID" data-fill-value="V"
//                              a click puts V into the input with that id
(function () {
  "use strict";

  function apply(root) {
    if (!root || !root.querySelectorAll) return;
    var scope = [root].concat(Array.prototype.slice.call(root.querySelectorAll("[data-width], [data-depth]")));
    scope.forEach(function (el) {
      if (!el.dataset) return;
      if (el.dataset.width !== undefined) {
        var width = parseFloat(el.dataset.width);
        if (isFinite(width)) el.style.width = Math.max(0, Math.min(100, width)) + "%";
      }
      if (el.dataset.depth !== undefined) {
        var depth = parseInt(el.dataset.depth, 10);
        if (isFinite(depth)) el.style.setProperty("--depth", String(Math.max(0, depth)));
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { apply(document.body); });
  document.addEventListener("htmx:load", function (event) { apply(event.detail && event.detail.elt); });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.hasAttribute && el.hasAttribute("data-submit-on-change") && el.form) {
      if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-fill-target]");
    if (!button) return;
    var input = document.getElementById(button.dataset.fillTarget);
    if (input) {
      input.value = button.dataset.fillValue || "";
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.focus();
    }
  });
})();
