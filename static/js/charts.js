// Draws the plotly figures of the analytics pages. Each <div data-chart="ID"> names a
// <script type="application/json" id="ID"> holding the figure the server built (analytics/charts.py).
(function () {
  "use strict";

  function draw(root) {
    if (typeof window.Plotly === "undefined") { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source || el.dataset.drawn === "1") { return; }
      var figure = JSON.parse(source.textContent);
      // The mode bar would inject styles of its own, which the Content-Security-Policy refuses.
      window.Plotly.newPlot(el, figure.data, figure.layout, { displayModeBar: false, responsive: true })
        .then(function () { el.dataset.drawn = "1"; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
