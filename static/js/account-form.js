// The account form (templates/pages/account_form.html): refresh the state suggestions when the
// country changes (the server checks the value anyway). The options URL comes from the script
// tag's data-state-options-url.
(function () {
  var script = document.currentScript;
  var url = script && script.dataset.stateOptionsUrl;
  function start() {
    var country = document.getElementById("id_country");
    if (!country || !window.htmx || !url) return;
    country.addEventListener("change", function () {
      htmx.ajax("GET", url + "?country=" + encodeURIComponent(country.value), { target: "#state-options", swap: "innerHTML" });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
