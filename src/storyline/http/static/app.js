// storyline: a little progressive enhancement; every page works without it.
(function () {
  "use strict";
  // "/" focuses the search box (unless typing in a field already).
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (ev.key !== "/" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
    var box = document.querySelector(".search input");
    if (box) { ev.preventDefault(); box.focus(); box.select(); }
  });
  // Show each date's age as a tooltip ("3 days ago"), computed in the reader's time zone.
  var day = 86400000;
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var d = Date.parse(el.getAttribute("datetime"));
    if (isNaN(d)) return;
    var n = Math.round((Date.now() - d) / day);
    el.title = n === 0 ? "today" : n > 0 ? n + " days ago" : "in " + -n + " days";
  });
})();
