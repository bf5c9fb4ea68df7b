// The org chart's ▸ buttons: load one level of a person's reports on first open
// (GET /org/<id>/reports), then show or hide it. No inline script or style (CSP).
(function () {
  "use strict";

  function toggle(button) {
    var list = document.getElementById(button.getAttribute("aria-controls"));
    if (!list) { return; }
    var open = button.getAttribute("aria-expanded") === "true";
    if (open) {
      button.setAttribute("aria-expanded", "false");
      list.hidden = true;
      return;
    }
    if (list.dataset.loaded === "true") {
      button.setAttribute("aria-expanded", "true");
      list.hidden = false;
      return;
    }
    button.setAttribute("aria-busy", "true");
    fetch(button.dataset.reports, {credentials: "same-origin", headers: {"HX-Request": "true"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        list.innerHTML = html;
        list.dataset.loaded = "true";
        list.hidden = false;
        button.setAttribute("aria-expanded", "true");
      })
      .catch(function () {
        list.innerHTML = "<li class=\"error\">Could not load this team. Try again.</li>";
        list.hidden = false;
      })
      .finally(function () { button.removeAttribute("aria-busy"); });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".org-toggle");
    if (button) { toggle(button); }
  });
})();
