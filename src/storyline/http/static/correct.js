// storyline: the "why" summary of the article page and the correction buttons of the event
// page. Every page works without it (the why page is server-rendered; corrections are also
// `storyline move/merge/split/undo` and the JSON API).
(function () {
  "use strict";
  if (window.storylineCorrect) return;
  window.storylineCorrect = true;
  function text(el, s) { el.textContent = s; }
  document.querySelectorAll("[data-why]").forEach(function (el) {
    fetch(el.getAttribute("data-why")).then(function (r) { return r.ok ? r.json() : null; }).then(function (e) {
      if (!e) return;
      var d = e.decision, s;
      if (d.action === "joined") s = "It joined " + d.event + " with mean pair probability " + d.score.toFixed(3) + " ≥ threshold " + d.threshold.toFixed(3) + ".";
      else if (d.action === "new") s = "It opened a new event: no candidate reached the threshold " + d.threshold.toFixed(3) + " (best " + Number(d.score).toFixed(3) + ").";
      else if (d.action === "pinned") s = "A correction pins it to " + d.event + ".";
      else s = "No decision record for it.";
      if (e.corrections.length) s += " Correction " + e.corrections[0].id + " (" + e.corrections[0].action + ") pins it.";
      var p = document.createElement("span");
      text(p, s + " " + e.candidates.length + " candidate(s) compared. ");
      el.insertBefore(p, el.firstChild);
    }).catch(function () {});
  });
  var box = document.querySelector(".correct[data-event]");
  if (!box) return;
  var ev = box.getAttribute("data-event");
  var token = box.querySelector(".correct-token");
  var status = box.querySelector(".correct-status");
  token.value = sessionStorage.getItem("storyline-token") || "";
  function post(url, body) {
    sessionStorage.setItem("storyline-token", token.value);
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token.value },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error((j.error && j.error.message) || r.statusText);
        return j;
      });
    });
  }
  function done(c) {
    text(status, "Correction " + c.id + " saved.");
    var target = c.to || c.winner || c.event || ev;
    window.location.assign("/events/" + encodeURIComponent(target));
  }
  function fail(err) { text(status, "Not saved: " + err.message); }
  box.querySelectorAll(".correct-form").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var f = new FormData(form), act = form.getAttribute("data-action"), req;
      if (act === "move") req = post("/api/articles/" + encodeURIComponent(f.get("article")) + "/move", { to: f.get("to") });
      else if (act === "split") req = post("/api/events/" + encodeURIComponent(ev) + "/split", { articles: f.getAll("articles") });
      else req = post("/api/events/" + encodeURIComponent(ev) + "/merge", { other: f.get("other") });
      req.then(done, fail);
    });
  });
  var members = Array.prototype.map.call(box.querySelectorAll("select[name=article] option"), function (o) { return o.value; });
  fetch("/api/corrections").then(function (r) { return r.json(); }).then(function (j) {
    var log = box.querySelector(".correct-log");
    j.corrections.forEach(function (c) {
      var ids = [c.article, c.from, c.to, c.event, c.new, c.winner, c.loser].concat(c.articles || [], c.events || []);
      if (ids.indexOf(ev) < 0 && !members.some(function (m) { return ids.indexOf(m) >= 0; })) return;
      var li = document.createElement("li");
      text(li, c.id + " · " + c.action + " by " + (c.author || "?") + " · " + c.at + (c.undone_at ? " · undone" : " "));
      if (!c.undone_at) {
        var b = document.createElement("button");
        b.type = "button";
        text(b, "Undo");
        b.addEventListener("click", function () {
          post("/api/corrections/" + encodeURIComponent(c.id) + "/undo").then(function () { window.location.reload(); }, fail);
        });
        li.appendChild(b);
      }
      log.appendChild(li);
    });
  }).catch(function () {});
})();
