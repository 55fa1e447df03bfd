// The live action dashboard: swap in the live fragment every few seconds (while the
// auto-refresh box is ticked) and tick the countdown every second. Without this script the
// page still shows everything as of its loading.
(function () {
  "use strict";
  var live = document.getElementById("dashboard-live");
  if (!live) { return; }
  var toggle = document.getElementById("auto-refresh");
  var seconds = Number(live.getAttribute("data-poll-seconds")) || 3;
  var url = live.getAttribute("data-live-url");
  var busy = false;

  // As the server words it (campaign/web/console/dashboard_charts.py: countdown).
  function left(deadline, urgent) {
    var total = Math.floor((deadline - Date.now()) / 1000);
    if (total <= 0) { return { text: "Deadline passed", seconds: total }; }
    var h = Math.floor(total / 3600), m = Math.floor(total % 3600 / 60);
    var text = total >= urgent ? Math.floor(h / 24) + " d " + (h % 24) + " h"
      : (h ? h + " h " + m + " min" : m + " min");
    return { text: text, seconds: total };
  }

  function tick() {
    var shown = live.querySelector("[data-deadline]");
    if (!shown) { return; }
    var urgent = Number(shown.getAttribute("data-urgent-seconds"));
    var now = left(Date.parse(shown.getAttribute("data-deadline")), urgent);
    shown.textContent = now.text;
    var status = live.querySelector("[data-testid=action-status]");
    var open = status && status.textContent.trim() === "live";
    shown.parentElement.classList.toggle("urgent", open && now.seconds > 0 && now.seconds < urgent);
  }

  function poll() {
    if (busy || (toggle && !toggle.checked)) { return; }
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        // Signed out or expired: the console sends the login page; stop and say so.
        if (response.redirected || !response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) { live.innerHTML = html; tick(); })
      .catch(function () {
        var stamp = live.querySelector("[data-testid=freshness]");
        if (stamp) { stamp.classList.add("stale"); }
      })
      .then(function () { busy = false; });
  }

  if (toggle) { toggle.closest("label").hidden = false; }
  setInterval(tick, 1000);
  setInterval(poll, seconds * 1000);
}());
