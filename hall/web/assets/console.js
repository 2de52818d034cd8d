// The console's fleet page: the tiles, rendered by halld, swapped in from its event stream
// (/console/events) whenever the fleet changes, and each tile's "last seen" kept fresh. Without
// this script the page is the same, as of its load.
"use strict";
(function () {
  const tiles = document.getElementById("tiles");
  const live = document.getElementById("live");
  if (!tiles || !window.EventSource) return;

  function setLive(on) {
    live.dataset.state = on ? "on" : "off";
    live.textContent = on ? "实时更新中" : "实时更新中断，正在重连";
    const en = document.createElement("span");
    en.className = "en";
    en.textContent = on ? "Live" : "Live updates lost: reconnecting";
    live.appendChild(en);
  }

  // "n 秒前" after each tile's last contact, from its data-seen.
  function ages() {
    const now = Date.now();
    for (const s of tiles.querySelectorAll(".seen[data-seen]")) {
      const t = Date.parse(s.dataset.seen);
      if (isNaN(t)) continue;
      const secs = Math.max(0, Math.round((now - t) / 1000));
      let age = secs + " 秒前";
      if (secs >= 3600) age = Math.floor(secs / 3600) + " 小时前";
      else if (secs >= 60) age = Math.floor(secs / 60) + " 分钟前";
      s.textContent = "最后联系 " + age;
      s.title = s.dataset.seen;
    }
  }

  // The summary's counts, from the tiles' levels.
  function counts() {
    const all = tiles.querySelectorAll(".tile");
    document.getElementById("n-all").textContent = all.length;
    document.getElementById("n-red").textContent = tiles.querySelectorAll(".tile[data-level=red]").length;
    document.getElementById("n-amber").textContent = tiles.querySelectorAll(".tile[data-level=amber]").length;
  }

  const es = new EventSource("/console/events");
  es.addEventListener("open", () => setLive(true));
  es.addEventListener("error", () => setLive(false));
  es.addEventListener("tiles", (e) => {
    // The server renders and escapes the tiles (html/template): the same markup as the page's.
    tiles.innerHTML = e.data;
    window.halldTilesUpdated = (window.halldTilesUpdated || 0) + 1;
    counts();
    ages();
    setLive(true);
  });
  ages();
  setInterval(ages, 5000);
})();
