// The unassigned queue (templates/routing/index.html).
// "Select all on this page" and the live count of selected rows (delegated: survives htmx swaps).
(function () {
  function boxes() { return document.querySelectorAll('#queue input[name="accounts"]'); }
  function refresh() {
    var all = boxes(), n = 0;
    all.forEach(function (b) { if (b.checked) n++; });
    var count = document.getElementById('selected-count');
    if (count) count.textContent = n;
    var head = document.getElementById('select-all');
    if (head) { head.checked = all.length > 0 && n === all.length; head.indeterminate = n > 0 && n < all.length; }
  }
  document.addEventListener('change', function (e) {
    if (e.target.id === 'select-all') boxes().forEach(function (b) { b.checked = e.target.checked; });
    if (e.target.id === 'select-all' || e.target.name === 'accounts') refresh();
  });
  document.addEventListener('htmx:afterSwap', refresh);
})();
