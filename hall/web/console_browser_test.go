package web

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citizenhome/hall/history"
	"citizenhome/hall/notify"
	"citizenhome/hall/web/webtest"
	"citizenhome/telemetry/wire"
)

// fillHall gives the fake fleet six kiosks in the states a hall sees, and the fake history a
// day of k2's life, its counters and commands (the reference pictures show them).
func fillHall(c *consoleHarness, now time.Time) {
	for i := 1; i <= 6; i++ {
		c.fleet.set(readyKiosk(fmt.Sprintf("k%d", i), now.Add(-time.Duration(i*3)*time.Second)))
	}
	k3 := readyKiosk("k3", now.Add(-4*time.Second))
	k3.State, k3.Status.State, k3.Status.LockMessage = wire.StateLocked, wire.StateLocked, "设备维护中，请到 3 号窗口办理"
	c.fleet.set(k3)
	k4 := readyKiosk("k4", now.Add(-3*time.Minute))
	k4.State = wire.StateLost
	k4.StateMsg.State = wire.StateLost
	c.fleet.set(k4)
	k5 := readyKiosk("k5", now.Add(-6*time.Second))
	k5.Status.Devices["printer"] = wire.Device{State: "paper-low", Since: now.Add(-20 * time.Minute)}
	k5.Alerts["printer-paper-low"] = wire.Alert{Severity: wire.SeverityWarning, Device: "printer", Since: now.Add(-20 * time.Minute)}
	c.fleet.set(k5)

	at := func(h float64) time.Time { return now.Add(time.Duration(h * float64(time.Hour))) }
	c.hist.changes = []history.Change{
		{Kiosk: "k2", At: at(-24), State: "ready"},
		{Kiosk: "k2", At: at(-15), State: "locked"},
		{Kiosk: "k2", At: at(-14.5), State: "ready"},
		{Kiosk: "k2", At: at(-6), State: "degraded"},
		{Kiosk: "k2", At: at(-5.2), State: "ready"},
		{Kiosk: "k2", At: at(-24), Device: "printer", State: "ok"},
		{Kiosk: "k2", At: at(-7), Device: "printer", State: "paper-low"},
		{Kiosk: "k2", At: at(-6), Device: "printer", State: "paper-out"},
		{Kiosk: "k2", At: at(-5.2), Device: "printer", State: "ok"},
		{Kiosk: "k2", At: at(-24), Device: "id-reader", State: "ok"},
		{Kiosk: "k2", At: at(-24), Device: "card-reader", State: "ok"},
		{Kiosk: "k2", At: at(-3), Device: "card-reader", State: "offline"},
		{Kiosk: "k2", At: at(-2.6), Device: "card-reader", State: "ok"},
	}
	c.hist.alerts = []history.Alert{
		{ID: 4, Kiosk: "k2", Code: "card-reader-offline", Severity: "error", Device: "card-reader", Started: at(-3), Ended: ended(at(-2.6))},
		{ID: 3, Kiosk: "k2", Code: "printer-paper-out", Severity: "error", Device: "printer", Started: at(-6), Ended: ended(at(-5.2))},
		{ID: 2, Kiosk: "k2", Code: "printer-paper-low", Severity: "warning", Device: "printer", Started: at(-7), Ended: ended(at(-5.2))},
		{ID: 1, Kiosk: "k4", Code: history.KioskLost, Severity: "error", Started: at(-0.05)},
	}
	today := now.In(day.Location())
	for i := 13; i >= 0; i-- {
		d := today.AddDate(0, 0, -i).Format(time.DateOnly)
		n := int64(150 + (i*37)%90)
		c.hist.days = append(c.hist.days, history.Day{Kiosk: "k2", Date: d, Tickets: n, Receipts: n / 6, CardReads: n * 2 / 3, Ratings: n / 4, Errors: int64(i % 4)})
	}
	month := now.In(day.Location()).Format("2006-01")
	for i := 1; i <= 6; i++ {
		open := 8 * 7 * time.Hour
		ready := open - time.Duration(i*i*17)*time.Minute
		c.hist.months[month] = append(c.hist.months[month], history.Availability{Kiosk: fmt.Sprintf("k%d", i), Open: open, Ready: ready,
			NoPaper: time.Duration(i*13%40) * time.Minute, Tickets: int64(700 + i*31), Errors: int64(i * 2)})
	}
	c.hist.cmds = []history.Command{
		{ID: "halld-7", Kiosk: "k2", Name: "selftest", By: "li", Sent: at(-5), Replied: ended(at(-5)), OK: true},
		{ID: "halld-6", Kiosk: "k2", Name: "reprint", Args: json.RawMessage(`{"ticket":"A031"}`), By: "li", Sent: at(-5.5), Replied: ended(at(-5.5)), Error: "no ticket A031 today"},
		{ID: "kioskctl-1", Kiosk: "k2", Name: "unlock", By: "zhang", Sent: at(-14.5), Replied: ended(at(-14.5)), OK: true},
		{ID: "kioskctl-0", Kiosk: "k2", Name: "lock", Args: json.RawMessage(`{"message":"更换打印纸"}`), By: "zhang", Sent: at(-15), Replied: ended(at(-15)), OK: true},
	}
}

// consoleControls are the console's controls and tiles, whose edges must stand out 3:1 (the
// checkboxes are the browser's own, white).
const consoleControls = ".btn, .cnav a, input:not([type=checkbox]), select, .tile"

func TestConsoleInChromium(t *testing.T) {
	webtest.NeedBrowser(t)
	old := tilesEvery
	tilesEvery = 50 * time.Millisecond
	t.Cleanup(func() { tilesEvery = old })
	h := newConsoleHarness(t, true)
	fillHall(h, time.Now())
	ctx := webtest.Browser(t, webtest.Options{Width: 1280, Height: 800})

	// Not logged in: to the login, and after it back to the console.
	webtest.Do(t, ctx, 20*time.Second, chromedp.Navigate(h.ts.URL+"/console"))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/login"`)
	webtest.Do(t, ctx, 10*time.Second, chromedp.SendKeys("#name", "li"), chromedp.SendKeys("#password", crewPass),
		chromedp.Click(`button[type=submit]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/console" && document.querySelectorAll("#tiles .tile").length === 6`)
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("live").dataset.state === "on"`)
	tile := `document.querySelector("#tiles .tile[data-kiosk=k2]")`
	if got := webtest.Eval[string](t, ctx, tile+`.className`); got != "tile level-green" {
		t.Fatalf("k2's tile: %q", got)
	}
	// k2's printer runs out: its tile turns red by the stream, without a reload.
	webtest.Eval[bool](t, ctx, `(window.halldMark = 1, true)`)
	start := time.Now()
	h.fleet.paperOut("k2", time.Now())
	took := webtest.WaitTrue(t, ctx, 3*time.Second, tile+`.classList.contains("level-red")`)
	t.Logf("paper-out on k2's tile after %v (%v since the change)", took, time.Since(start))
	if webtest.Eval[int](t, ctx, `window.halldMark`) != 1 {
		t.Fatalf("the page reloaded")
	}
	if got := webtest.Eval[string](t, ctx, `getComputedStyle(`+tile+`).backgroundColor`); got != "rgb(185, 28, 28)" {
		t.Errorf("the red tile is %s", got)
	}
	if got := webtest.Eval[string](t, ctx, tile+`.querySelector("li[data-device=printer] b").textContent`); got != "缺纸" {
		t.Errorf("k2's printer shows %q", got)
	}
	if !webtest.Eval[bool](t, ctx, tile+`.querySelector(".tile-alerts li[data-code=printer-paper-out]") !== null`) {
		t.Errorf("k2's tile lacks the alert")
	}
	if got := webtest.Eval[string](t, ctx, `document.getElementById("n-red").textContent`); got != "2" {
		t.Errorf("the summary counts %s red", got)
	}
	for k, level := range map[string]string{"k1": "green", "k3": "blue", "k4": "red", "k5": "amber"} {
		if got := webtest.Eval[string](t, ctx, fmt.Sprintf(`document.querySelector("#tiles .tile[data-kiosk=%s]").dataset.level`, k)); got != level {
			t.Errorf("%s's tile is %s, want %s", k, got, level)
		}
	}
	// Big enough targets: the navigation and the tiles.
	if !webtest.Eval[bool](t, ctx, `Array.from(document.querySelectorAll(".cnav a, .logout button, .tile")).every(e => e.getBoundingClientRect().height >= 48)`) {
		t.Errorf("a target is under 48 px high")
	}
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, consoleControls, 3)
	webtest.Screenshot(t, ctx, "../../docs/img/console-fleet.png")

	// The kiosk page: its timeline, its counters, its commands.
	webtest.Do(t, ctx, 10*time.Second, chromedp.Click(`#tiles .tile[data-kiosk=k2]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/console/kiosks/k2" && document.querySelector("svg.timeline") !== null`)
	if n := webtest.Eval[int](t, ctx, `document.querySelectorAll("svg.timeline rect.st-bad").length`); n < 3 {
		t.Errorf("the timeline shows %d faults", n)
	}
	if n := webtest.Eval[int](t, ctx, `document.querySelectorAll("svg.bars rect.c-tickets").length`); n != 15 { // 14 days and the legend
		t.Errorf("the chart has %d ticket bars", n)
	}
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, consoleControls, 3)
	// The reference picture shows the whole page.
	full := webtest.Eval[int](t, ctx, `document.documentElement.scrollHeight`)
	webtest.Do(t, ctx, 5*time.Second, chromedp.EmulateViewport(1280, int64(full)))
	webtest.Screenshot(t, ctx, "../../docs/img/console-kiosk.png")
	webtest.Do(t, ctx, 5*time.Second, chromedp.EmulateViewport(1280, 800))

	// Lock it, through the confirmation; the reply is shown.
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`.cmd-buttons a[data-command=lock]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/console/kiosks/k2/confirm" && document.getElementById("confirm") !== null`)
	if n := len(h.fleet.commands()); n != 0 {
		t.Fatalf("%d commands sent before the confirmation", n)
	}
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, consoleControls, 3)
	webtest.Do(t, ctx, 5*time.Second, chromedp.SendKeys("#message", "更换打印纸，请到 3 号窗口"), chromedp.Click("#confirm"))
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("result") !== null`)
	if got := webtest.Eval[string](t, ctx, `document.querySelector("#result h1").textContent`); got != "暂停服务 · 已执行Lock: Done: the kiosk replied OK" {
		t.Errorf("the result says %q", got)
	}
	sent := h.fleet.commands()
	if len(sent) != 1 || sent[0].Kiosk != "k2" || sent[0].Name != "lock" || sent[0].By != "li" || string(sent[0].Args) != `{"message":"更换打印纸，请到 3 号窗口"}` {
		t.Fatalf("sent %+v", sent)
	}
	if a := h.audit.all(); len(a) != 1 || a[0].Who != "li" || a[0].Target != "k2" || a[0].Outcome != "ok" {
		t.Errorf("audit %+v", a)
	}
	webtest.CheckContrast(t, ctx, 4.5)
	// Back to the fleet from the reply.
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`.cnav a[href="/console"]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/console"`)

	// Without the CSRF token, the session's POSTs are refused: the API's and the form's.
	if got := webtest.Eval[int](t, ctx, `fetch("/v1/kiosks/k1/commands", {method: "POST", headers: {"Content-Type": "application/json"}, body: '{"name":"unlock"}'}).then(r => r.status)`); got != 403 {
		t.Errorf("a POST without the CSRF token: %d", got)
	}
	if got := webtest.Eval[int](t, ctx, `fetch("/console/kiosks/k1/commands", {method: "POST", body: new URLSearchParams({name: "unlock"})}).then(r => r.status)`); got != 403 {
		t.Errorf("a form POST without the CSRF token: %d", got)
	}
	if n := len(h.fleet.commands()); n != 1 {
		t.Errorf("%d commands sent", n)
	}

	// The alert log and the report open, and lead back.
	webtest.Do(t, ctx, 10*time.Second, chromedp.Navigate(h.ts.URL+"/console/alerts?kiosk=k2"))
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.querySelectorAll("#alerts tbody tr").length === 3 && document.querySelector(".cnav a[href='/console']") !== null`)
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, consoleControls, 3)
	webtest.Do(t, ctx, 10*time.Second, chromedp.Navigate(h.ts.URL+"/console/report"))
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.querySelectorAll("#report tbody tr").length === 6`)
	webtest.CheckContrast(t, ctx, 4.5)

	// A channel of the alert notifications fails: every page says so, readable, and its row on
	// the alert log says why.
	h.channels.set(notify.Health{Channel: "crew-wecom", Kind: notify.WeCom, Pending: 2,
		LastError: "notify: crew-wecom: HTTP 503 Service Unavailable", LastErrorAt: time.Now()})
	webtest.Do(t, ctx, 10*time.Second, chromedp.Navigate(h.ts.URL+"/console/alerts"))
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.querySelector(".channel-down") !== null && document.querySelector("#channel-health tr.row-error") !== null`)
	if !webtest.Eval[bool](t, ctx, `document.querySelector(".channel-down").getBoundingClientRect().height > 0`) {
		t.Error("the failing channel's banner is not shown")
	}
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, consoleControls, 3)

	// A counter account on the console is refused.
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`.logout button`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/login"`)
	webtest.Do(t, ctx, 10*time.Second, chromedp.SendKeys("#name", "wang"), chromedp.SendKeys("#password", "counter-pass-1"),
		chromedp.Click(`button[type=submit]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/counter"`)
	webtest.Do(t, ctx, 10*time.Second, chromedp.Navigate(h.ts.URL+"/console"))
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.querySelector("h1") !== null && document.querySelector("h1").textContent === "无权使用此页面"`)
	webtest.CheckContrast(t, ctx, 4.5)
	if webtest.Eval[bool](t, ctx, `document.getElementById("tiles") !== null`) {
		t.Errorf("the counter account sees the tiles")
	}
}
