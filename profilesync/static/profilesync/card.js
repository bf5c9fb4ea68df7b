// Business cards: hovering or focusing a link to a profile (/people/<id>/) shows a
// small card fetched from /people/<id>/card. Escape or leaving hides it.
// Loaded by the layout on every page; no inline script or style (CSP).
(function () {
  "use strict";
  var PROFILE = /^\/people\/(\d+)\/$/;
  var cache = {};
  var card = null;
  var timer = null;
  var current = null;

  function cardUrl(link) {
    if (link.dataset.card) { return link.dataset.card; }
    var url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin) { return null; }
    var match = PROFILE.exec(url.pathname);
    return match ? "/people/" + match[1] + "/card" : null;
  }

  function hide() {
    window.clearTimeout(timer);
    current = null;
    if (card) { card.hidden = true; }
  }

  function place(link) {
    var box = link.getBoundingClientRect();
    var width = Math.min(320, window.innerWidth - 16);
    var left = Math.max(8, Math.min(box.left + window.scrollX, window.scrollX + window.innerWidth - width - 8));
    card.classList.add("placed");
    card.style.setProperty("--card-left", left + "px");
    card.style.setProperty("--card-top", (box.bottom + window.scrollY + 6) + "px");
    card.style.setProperty("--card-width", width + "px");
  }

  function show(link, html) {
    if (current !== link) { return; }
    if (!card) {
      card = document.createElement("div");
      card.className = "card-popover";
      card.id = "business-card";
      card.addEventListener("mouseenter", function () { window.clearTimeout(timer); });
      card.addEventListener("mouseleave", hide);
      document.body.appendChild(card);
    }
    card.innerHTML = html;
    card.hidden = false;
    place(link);
  }

  function open(link) {
    var url = cardUrl(link);
    if (!url) { return; }
    window.clearTimeout(timer);
    current = link;
    timer = window.setTimeout(function () {
      if (cache[url]) { show(link, cache[url]); return; }
      fetch(url, {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html) { cache[url] = html; show(link, html); } });
    }, 350);
  }

  function profileLink(target) {
    var link = target && target.closest ? target.closest("a[href]") : null;
    if (!link || (card && card.contains(link))) { return null; }
    return cardUrl(link) ? link : null;
  }

  document.addEventListener("mouseover", function (event) {
    var link = profileLink(event.target);
    if (link && link !== current) { open(link); }
  });
  document.addEventListener("mouseout", function (event) {
    var link = profileLink(event.target);
    if (link && !(event.relatedTarget && link.contains(event.relatedTarget))) {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        if (!card || !card.matches(":hover")) { hide(); }
      }, 200);
    }
  });
  document.addEventListener("focusin", function (event) {
    var link = profileLink(event.target);
    if (link) { open(link); } else if (!(card && card.contains(event.target))) { hide(); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { hide(); }
  });
})();
