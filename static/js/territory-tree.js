// The territory tree page (templates/territories/index.html).
// Collapsing a node removes the rows loaded under it (any depth); expanding loads them again
// through htmx (the toggle's hx-get only fires while it is collapsed).
document.addEventListener("click", (event) => {
  const toggle = event.target.closest(".tree-toggle[aria-expanded='true']");
  if (!toggle) return;
  event.preventDefault();
  document.querySelectorAll(`tr[data-ancestors~="${toggle.dataset.node}"]`).forEach((row) => row.remove());
  toggle.setAttribute("aria-expanded", "false");
});
document.addEventListener("htmx:afterRequest", (event) => {
  const toggle = event.detail.elt;
  if (toggle && toggle.classList && toggle.classList.contains("tree-toggle") && event.detail.successful) {
    toggle.setAttribute("aria-expanded", "true");
  }
});
// A toggle loads its children only while collapsed: the request an expanded toggle's click would
// make is cancelled here (a filter in hx-trigger would need eval, which the CSP forbids).
document.addEventListener("htmx:beforeRequest", (event) => {
  const toggle = event.detail.elt;
  if (toggle && toggle.classList && toggle.classList.contains("tree-toggle")
      && toggle.getAttribute("aria-expanded") === "true") {
    event.preventDefault();
  }
});
