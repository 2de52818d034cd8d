// The counter's rating pad: it waits, calm, until a ticket is finished at its window (the event
// stream's queue shows the window's ticket end; the server then offers it, GET offer), asks for
// the five levels, and for a 差评 the dimensions, the reasons and an optional phone number for a
// return call, sends the rating with the offer's nonce, thanks, and clears. It shows nothing of
// the citizen: no ticket code, and the phone only masked (the digits live in a variable, never in
// the page).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const win = document.body.dataset.window;
  const key = new URLSearchParams(location.search).get("key") || "";
  const withKey = (path) => path + (key ? (path.includes("?") ? "&" : "?") + "key=" + encodeURIComponent(key) : "");
  const base = "/rate/" + encodeURIComponent(win);

  // The waits, read at each use: the browser tests shorten them (window.padTimings).
  const wait = (name, ms) => (window.padTimings && window.padTimings[name]) || ms;
  const idleAfter = () => wait("idle", 60000);  // a rating left untouched this long is dropped
  const thanksFor = () => wait("thanks", 5000); // the thanks stay this long
  const pollEvery = 15000; // besides the stream, the pad asks this often while it waits
  const maxPhone = 15; // hall/followup's rule: 7 to 15 digits
  const minPhone = 7;

  let offer = null;         // {id, nonce}
  const shown = new Set();  // offer ids shown already: a cleared pad does not ask twice
  let rating = null;        // {overall, dims: Set, reasons: Set}
  let phone = "";
  let idleTimer = 0, thanksTimer = 0;

  // For the browser tests and diagnostics: the screen shown, offers asked, queue events seen.
  window.padState = "idle";
  window.padAsked = 0;
  window.padAnswered = 0;
  window.padQueues = 0;
  window.padLast = null;
  function screen(name) {
    for (const s of document.querySelectorAll(".pscreen")) s.hidden = s.id !== name;
    window.padState = name;
  }
  function status(text) {
    $("status").textContent = text;
    $("status").hidden = !text;
  }

  function reset() {
    clearTimeout(idleTimer);
    clearTimeout(thanksTimer);
    offer = null;
    rating = null;
    phone = "";
    renderPhone();
    for (const b of document.querySelectorAll(".pchoice")) b.setAttribute("aria-pressed", "false");
    $("reasons-next").disabled = true;
    status("");
    screen("idle");
  }

  // Any touch keeps a rating open; a minute without one clears it.
  function touched() {
    clearTimeout(idleTimer);
    if (window.padState !== "idle" && window.padState !== "thanks") idleTimer = setTimeout(reset, idleAfter());
  }
  document.addEventListener("pointerdown", touched, true);
  document.addEventListener("keydown", touched, true);

  async function askOffer() {
    if (window.padState !== "idle") return;
    window.padAsked++;
    let o;
    try {
      const r = await fetch(withKey(base + "/offer"), { cache: "no-store" });
      o = r.ok ? await r.json() : {};
    } catch (e) { o = {}; }
    window.padAnswered++;
    if (!o.offer || shown.has(o.id) || window.padState !== "idle") return;
    shown.add(o.id);
    offer = { id: o.id, nonce: o.nonce };
    rating = { overall: 0, dims: new Set(), reasons: new Set() };
    screen("levels");
    touched();
  }

  // The stream: a change of the window's current ticket may be its end.
  let serving;
  function connect() {
    const es = new EventSource(withKey("/v1/events"));
    es.addEventListener("queue", (ev) => {
      const q = JSON.parse(ev.data);
      window.padQueues++;
      window.padLast = q;
      const w = (q.windows || []).find((x) => x.window === win);
      if (!w) return;
      const now = w.serving || "";
      const ended = serving !== undefined && serving !== "" && now !== serving;
      serving = now;
      if (ended) askOffer();
    });
    es.addEventListener("error", () => {
      if (es.readyState === EventSource.CLOSED) { es.close(); setTimeout(connect, 3000); }
    });
  }

  async function send() {
    const body = { nonce: offer.nonce, overall: rating.overall, reasons: Array.from(rating.reasons) };
    for (const d of rating.dims) body[d] = rating.overall;
    if (phone) body.phone = phone;
    let r;
    try {
      r = await fetch(withKey(base), { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    } catch (e) {
      status("网络中断，请再按一次提交 · Network down: press send again");
      return false;
    }
    if (r.ok) {
      phone = "";
      thanks("");
      return true;
    }
    let code = "";
    try { code = (await r.json()).error.code; } catch (e) { /* not JSON */ }
    if (r.status >= 500 || code === "invalid-rating") {
      status("未能提交，请再试一次 · Not sent: please try again");
      return false;
    }
    // Refused for good (rated already, too late, another citizen since): say so and clear.
    phone = "";
    thanks(code === "already-rated" ? "本次服务已评价 · This service has been rated already" : "评价未被接收 · The rating could not be taken");
    return false;
  }

  function thanks(note) {
    clearTimeout(idleTimer);
    rating = null;
    offer = null;
    renderPhone();
    $("thanks-note").textContent = note || "\u00a0";
    status("");
    screen("thanks");
    thanksTimer = setTimeout(reset, thanksFor());
  }

  // levels
  for (const b of document.querySelectorAll(".plevel")) {
    b.addEventListener("click", () => {
      if (!rating) return;
      rating.overall = Number(b.dataset.level);
      if (rating.overall >= 3) { send(); return; }
      screen("dims");
    });
  }
  function toggle(b) {
    const on = b.getAttribute("aria-pressed") !== "true";
    b.setAttribute("aria-pressed", on ? "true" : "false");
    return on;
  }
  for (const b of document.querySelectorAll("[data-dim]")) {
    b.addEventListener("click", () => {
      if (!rating) return;
      if (toggle(b)) rating.dims.add(b.dataset.dim); else rating.dims.delete(b.dataset.dim);
    });
  }
  $("dims-next").addEventListener("click", () => { if (rating) screen("reasons"); });
  for (const b of document.querySelectorAll("[data-reason]")) {
    b.addEventListener("click", () => {
      if (!rating) return;
      if (toggle(b)) rating.reasons.add(b.dataset.reason); else rating.reasons.delete(b.dataset.reason);
      $("reasons-next").disabled = rating.reasons.size === 0;
    });
  }
  $("reasons-next").addEventListener("click", () => { if (rating && rating.reasons.size > 0) screen("phone"); });

  // The phone: shown masked, all but the last four digits as dots.
  function renderPhone() {
    const n = phone.length;
    const masked = n <= 4 ? "•".repeat(n) : "•".repeat(n - 4) + phone.slice(n - 4);
    $("number").textContent = masked || "\u00a0";
    $("send").disabled = n > 0 && n < minPhone;
  }
  for (const b of document.querySelectorAll(".pkey")) {
    b.addEventListener("click", () => {
      const k = b.dataset.key;
      if (k === "back") phone = phone.slice(0, -1);
      else if (k === "clear") phone = "";
      else if (phone.length < maxPhone) phone += k;
      renderPhone();
    });
  }
  $("skip").addEventListener("click", () => { phone = ""; renderPhone(); if (rating) send(); });
  $("send").addEventListener("click", () => { if (rating) send(); });

  renderPhone();
  connect();
  askOffer(); // a pad started (or restarted) just after a ticket's end still asks for it
  setInterval(askOffer, pollEvery);
})();
