// The calling display: the latest call per window, waiting counts, the clock, and each call's
// announcement played once, in order of the calls. After a lost connection the calls missed are
// fetched (/v1/calls?after=) and announced; calls from before the page loaded are shown, never
// played.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const key = new URLSearchParams(location.search).get("key") || "";
  const q = key ? "key=" + encodeURIComponent(key) : "";
  const withKey = (path) => path + (q ? (path.includes("?") ? "&" : "?") + q : "");
  const maxRows = 8;

  let lastID = 0;          // the highest call id shown (and queued for its announcement)
  const byWindow = new Map(); // window -> latest call
  const played = [];       // ids announced (window.halldPlayed, for tests and diagnostics)
  window.halldPlayed = played;
  window.halldShown = [];  // ids shown, in order

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // clock
  const days = ["日", "一", "二", "三", "四", "五", "六"];
  let today = new Date().toDateString();
  function tick() {
    const d = new Date();
    if (d.toDateString() !== today) {
      // A new day: yesterday's calls leave the screen (the numbers start again).
      today = d.toDateString();
      byWindow.clear();
      $("calls").textContent = "";
      $("now-code").textContent = "—";
      $("now-window").textContent = "";
    }
    const p = (n) => String(n).padStart(2, "0");
    $("date").textContent = d.getFullYear() + "年" + (d.getMonth() + 1) + "月" + d.getDate() + "日 星期" + days[d.getDay()];
    $("time").textContent = p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }
  tick();
  setInterval(tick, 1000);

  function flash(node) {
    node.classList.remove("flash");
    void node.offsetWidth; // restart the animation
    node.classList.add("flash");
  }

  function renderCalls(fresh) {
    const rows = Array.from(byWindow.values()).sort((a, b) => b.id - a.id).slice(0, maxRows);
    const body = $("calls");
    body.textContent = "";
    for (const c of rows) {
      const tr = el("tr");
      tr.dataset.window = c.window;
      tr.appendChild(el("td", "", c.window));
      tr.appendChild(el("td", "code" + (c.recall ? " recall" : ""), c.code));
      const at = new Date(c.at);
      tr.appendChild(el("td", "time", String(at.getHours()).padStart(2, "0") + ":" + String(at.getMinutes()).padStart(2, "0")));
      if (fresh && c.id === fresh.id) flash(tr);
      body.appendChild(tr);
    }
    const latest = rows[0];
    if (latest) {
      $("now-code").textContent = latest.code;
      const w = $("now-window");
      w.textContent = "到 " + latest.window + " 号窗口办理";
      w.appendChild(el("span", "en", "Please go to window " + latest.window));
      if (fresh && latest.id === fresh.id) flash($("now"));
    }
  }

  // show takes a call in; announce says whether to play it (not for calls before the page).
  function show(c, announce) {
    if (c.id <= lastID) return;
    lastID = c.id;
    if (!announce && new Date(c.at).toDateString() !== new Date().toDateString()) return; // yesterday's
    byWindow.set(c.window, c);
    window.halldShown.push(c.id);
    renderCalls(announce ? c : null);
    if (announce) enqueue(c);
  }

  // the audio queue: one announcement at a time, in order
  const audioQueue = [];
  let playing = false;
  let blocked = false;
  function enqueue(c) {
    audioQueue.push(c);
    if (!playing && !blocked) playNext();
  }
  function playNext() {
    const c = audioQueue.shift();
    if (!c) { playing = false; return; }
    playing = true;
    const a = new Audio(withKey(c.announce));
    let finished = false;
    const next = () => {
      if (finished) return;
      finished = true;
      clearTimeout(guard);
      playNext();
    };
    // A stuck player (no audio device, a lost fetch) must not hold the queue for ever.
    const guard = setTimeout(next, 15000);
    a.addEventListener("ended", () => { played.push(c.id); next(); });
    a.addEventListener("error", next);
    a.play().catch((err) => {
      if (err && err.name === "NotAllowedError") {
        // Autoplay is not allowed here (the packaged session allows it): ask for one click.
        clearTimeout(guard);
        finished = true;
        audioQueue.unshift(c);
        playing = false;
        blocked = true;
        $("sound").hidden = false;
      } else {
        next();
      }
    });
  }
  $("sound").addEventListener("click", () => {
    $("sound").hidden = true;
    blocked = false;
    if (!playing) playNext();
  });

  function renderWaiting(snap) {
    const bar = $("waiting");
    bar.textContent = "";
    for (const c of snap.categories || []) {
      const d = el("div", "cat", (c.name ? c.name + " " : "") + c.letter + " 等候");
      d.dataset.category = c.letter;
      d.appendChild(el("b", "", String(c.waiting)));
      d.appendChild(el("span", "en", "waiting"));
      bar.appendChild(d);
    }
  }

  function status(text) {
    const s = $("status");
    s.hidden = !text;
    s.textContent = text || "";
  }

  async function fetchCalls(path) {
    const r = await fetch(withKey(path), { credentials: "same-origin" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    return (await r.json()).calls || [];
  }

  let es = null;
  function connect() {
    es = new EventSource(withKey("/v1/events"));
    es.addEventListener("open", async () => {
      status("");
      // Connected, or back after a break: announce what was called since the last call shown
      // (before the stream opened, or while it was down), in order, once each.
      try {
        for (;;) {
          const cs = await fetchCalls("/v1/calls?after=" + lastID + "&limit=100");
          for (const c of cs) show(c, true);
          if (cs.length < 100) break;
        }
      } catch (e) { status("连接中断 · Reconnecting…"); }
    });
    es.addEventListener("call", (ev) => show(JSON.parse(ev.data), true));
    es.addEventListener("queue", (ev) => renderWaiting(JSON.parse(ev.data)));
    es.addEventListener("error", () => {
      status("连接中断，正在重连 · Reconnecting…");
      if (es.readyState === EventSource.CLOSED) { es.close(); setTimeout(connect, 3000); }
    });
  }

  // Start: the latest calls are shown, not announced; then live.
  (async function start() {
    for (;;) {
      try {
        for (const c of await fetchCalls("/v1/calls?limit=" + maxRows)) show(c, false);
        break;
      } catch (e) {
        status("无法连接 halld · Cannot reach halld");
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
    connect();
  })();
})();
