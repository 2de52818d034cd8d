// The counter page: one window's actions, its current ticket and the tickets it may call.
// Plain JS; live through the event stream (/v1/events), reloaded from the API on each change.
"use strict";
(function () {
  const csrf = document.body.dataset.csrf;
  const $ = (id) => document.getElementById(id);
  const sel = $("window");
  let win = localStorage.getItem("halld.window") || "";
  let snap = null;
  let current = null;
  let waiting = [];

  const stateNames = {
    waiting: ["等候中", "Waiting"], called: ["已呼叫", "Called"], serving: ["办理中", "Being served"],
    done: ["已办结", "Done"], "no-show": ["未到", "No-show"],
  };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function bilingual(parent, zh, en) {
    parent.textContent = zh;
    parent.appendChild(el("span", "en", en));
  }
  function say(ok, zh, en) {
    const m = $("message");
    m.className = "message " + (ok ? "ok" : "bad");
    bilingual(m, zh, en || "");
  }

  async function api(method, path, body) {
    const opt = { method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
    if (body !== undefined) {
      opt.headers["Content-Type"] = "application/json";
      opt.body = JSON.stringify(body);
    }
    const r = await fetch(path, opt);
    if (r.status === 401) { location.href = "/login?next=/counter"; throw new Error("logged out"); }
    if (r.status === 204) return { status: 204 };
    const j = await r.json().catch(() => ({}));
    if (!r.ok) {
      const e = new Error((j.error && j.error.message) || r.statusText);
      e.code = j.error && j.error.code;
      e.status = r.status;
      throw e;
    }
    return j;
  }

  const errorText = {
    "no-current-ticket": ["本窗口没有当前号码", "No current ticket at this window"],
    "recall-limit": ["已达重呼次数上限", "Recall limit reached"],
    "wrong-state": ["当前号码的状态不允许此操作", "Not possible in the ticket's state"],
    "window-paused": ["窗口已暂停，请先恢复", "The window is paused: resume it first"],
    "unknown-window": ["没有这个窗口", "No such window"],
    "not-found": ["没有这个号码", "No such ticket"],
    "expired": ["已超过过号保留时间", "The no-show's grace is over"],
    "forbidden": ["您的账号无权操作窗口", "Your account may not operate a window"],
    "csrf": ["页面已过期，请刷新", "The page expired: reload it"],
  };
  function failed(e) {
    const t = errorText[e.code] || ["操作失败", ""];
    say(false, t[0] + (e.code && !errorText[e.code] ? "：" + e.message : ""), t[1] || e.message);
  }

  async function act(action, body) {
    if (!win) { say(false, "请先选择窗口", "Choose a window first"); return; }
    try {
      const r = await api("POST", "/v1/windows/" + encodeURIComponent(win) + "/" + action, body);
      if (r.status === 204) say(true, "没有人在等候", "Nobody is waiting for this window");
      else if (r.ticket) say(true, r.ticket.code + " " + (stateNames[r.ticket.state] || [r.ticket.state])[0], r.ticket.code + " " + ((stateNames[r.ticket.state] || [])[1] || r.ticket.state));
      else say(true, action === "pause" ? "窗口已暂停" : "窗口已恢复", action === "pause" ? "Window paused" : "Window open");
    } catch (e) { failed(e); }
    refresh();
  }

  function myWindow() {
    if (!snap || !snap.windows) return null;
    return snap.windows.find((w) => w.window === win) || null;
  }

  function renderWindows() {
    const have = new Set(Array.from(sel.options).map((o) => o.value));
    for (const w of (snap && snap.windows) || []) {
      if (have.has(w.window)) continue;
      const o = el("option", "", w.window + " 号窗口 (" + w.categories.join(" ") + ")");
      o.value = w.window;
      sel.appendChild(o);
    }
    sel.value = win;
    if (sel.value !== win) { win = ""; sel.value = ""; }
  }

  function renderCurrent() {
    const w = myWindow();
    const badge = $("winstate");
    const pause = $("pause");
    if (!w) {
      bilingual(badge, "未选窗口", "No window");
      badge.className = "badge";
    } else if (w.state === "paused") {
      bilingual(badge, "已暂停", "Paused");
      badge.className = "badge paused";
    } else {
      bilingual(badge, "开放", "Open");
      badge.className = "badge open";
    }
    if (w && w.state === "paused") { bilingual(pause, "恢复", "Resume"); pause.dataset.action = "resume"; pause.className = "btn go"; }
    else { bilingual(pause, "暂停", "Pause"); pause.dataset.action = "pause"; pause.className = "btn"; }
    const code = $("current-code");
    const info = $("current-info");
    code.classList.toggle("empty", !current);
    if (!current) {
      code.textContent = "—";
      bilingual(info, "未叫号", "No ticket at this window");
    } else {
      code.textContent = current.code;
      const s = stateNames[current.state] || [current.state, current.state];
      let zh = s[0] + " · " + current.category + " 类";
      let en = s[1] + " · category " + current.category;
      if (current.priority) { zh += " · 优先"; en += " · priority"; }
      if (current.recalls) { zh += " · 已重呼 " + current.recalls + " 次"; en += " · recalled " + current.recalls + "×"; }
      bilingual(info, zh, en);
    }
    const has = !!current, called = has && current.state === "called", serving = has && current.state === "serving";
    for (const b of document.querySelectorAll(".actions .btn")) {
      const a = b.dataset.action;
      b.disabled = !win || (a === "next" && has) || (a === "recall" && !called) || (a === "start" && !called) ||
        (a === "done" && !serving && !called) || (a === "no-show" && !called) || (a === "transfer" && !has);
    }
  }

  function renderWaiting() {
    const list = $("waiting-list");
    list.textContent = "";
    const now = Date.now();
    for (const t of waiting) {
      const li = el("li");
      const b = el("button");
      b.type = "button";
      b.dataset.code = t.code;
      const left = el("span", "code", t.code);
      if (t.priority) left.appendChild(el("span", "prio", "优先 priority"));
      const mins = Math.max(0, Math.round((now - Date.parse(t.issued_at)) / 60000));
      const meta = el("span", "meta", "等 " + mins + " 分");
      meta.appendChild(el("span", "en", "waited " + mins + " min"));
      b.append(left, meta);
      b.addEventListener("click", () => openCall(t.code));
      li.appendChild(b);
      list.appendChild(li);
    }
    $("waiting-count").textContent = String(waiting.length);
  }

  let refreshing = false, again = false;
  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      do {
        again = false;
        snap = await api("GET", "/v1/queue");
        renderWindows();
        const w = myWindow();
        current = w && w.serving ? (await api("GET", "/v1/tickets/" + encodeURIComponent(w.serving))).ticket : null;
        const all = (await api("GET", "/v1/tickets?state=waiting")).tickets || [];
        const cats = new Set(w ? w.categories : []);
        waiting = all.filter((t) => cats.has(t.category));
        renderCurrent();
        renderWaiting();
      } while (again);
    } catch (e) {
      if (e.message !== "logged out") say(false, "无法连接 halld", "Cannot reach halld: " + e.message);
    } finally {
      refreshing = false;
    }
  }

  // dialogs
  let callCode = "";
  function openCall(code) {
    if (!win) { say(false, "请先选择窗口", "Choose a window first"); return; }
    if (current) { say(false, "请先办结、转移或标记未到当前号码", "Finish the current ticket first (done, transfer or no-show)"); return; }
    callCode = code;
    $("call-code").textContent = code;
    $("call-reason").value = "";
    $("dlg-call").showModal();
  }
  for (const b of document.querySelectorAll("#dlg-call [data-reason]")) {
    b.addEventListener("click", () => { $("call-reason").value = b.dataset.reason; });
  }
  $("dlg-call").addEventListener("close", () => {
    if ($("dlg-call").returnValue !== "ok") return;
    const reason = $("call-reason").value.trim();
    if (!reason) { say(false, "指定叫号需要填写原因", "A reason is required"); return; }
    act("call", { code: callCode, reason });
  });
  $("dlg-pause").addEventListener("close", () => {
    if ($("dlg-pause").returnValue === "ok") act("pause", { reason: $("pause-reason").value.trim() });
  });
  $("dlg-return").addEventListener("close", async () => {
    if ($("dlg-return").returnValue !== "ok") return;
    const code = $("return-code").value.trim().toUpperCase();
    if (!code) return;
    try {
      const r = await api("POST", "/v1/tickets/" + encodeURIComponent(code) + "/return");
      say(true, r.ticket.code + " 已重新排队", r.ticket.code + " is queued again");
    } catch (e) { failed(e); }
    refresh();
  });
  function openTransfer() {
    const box = $("transfer-cats");
    box.textContent = "";
    for (const c of (snap && snap.categories) || []) {
      if (current && c.letter === current.category) continue;
      const b = el("button", "btn small");
      b.type = "button";
      b.dataset.category = c.letter;
      bilingual(b, c.letter + (c.name ? " " + c.name : ""), "wait in " + c.letter);
      b.addEventListener("click", () => { $("dlg-transfer").close(); act("transfer", { category: c.letter }); });
      box.appendChild(b);
    }
    $("dlg-transfer").showModal();
  }

  for (const b of document.querySelectorAll(".actions .btn")) {
    b.addEventListener("click", () => {
      const a = b.dataset.action;
      if (a === "transfer") openTransfer();
      else if (a === "pause") $("dlg-pause").showModal();
      else if (a === "return") { $("return-code").value = ""; $("dlg-return").showModal(); }
      else if (a === "refresh") refresh();
      else act(a);
    });
  }
  sel.addEventListener("change", () => {
    win = sel.value;
    localStorage.setItem("halld.window", win);
    say(true, "", "");
    refresh();
  });

  // Live: any queue change or call reloads the page's data (coalesced by refresh).
  function connect() {
    const es = new EventSource("/v1/events");
    es.addEventListener("queue", refresh);
    es.addEventListener("call", refresh);
    es.addEventListener("error", () => {
      // Closed for good (the session ended, halld restarts): refresh() sends an ended session
      // to the login; otherwise connect again in a moment.
      if (es.readyState === EventSource.CLOSED) { refresh(); setTimeout(connect, 3000); }
    });
  }
  if (!win) say(false, "请先选择本窗口", "Choose your window first (top of the page)");
  refresh();
  connect();
})();
