package web

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citizenhome/hall/followup"
	"citizenhome/hall/web/webtest"
)

// A 差评's work order walked through the console in Chromium by its manager: 待回访 → 已回访 (with
// what the citizen said) → 整改中 → 已整改, the phone shown on the button only, every page
// readable (contrast 4.5:1, controls' edges 3:1).
func TestOrderInChromium(t *testing.T) {
	webtest.NeedBrowser(t)
	now := time.Now().In(day.Location()).Truncate(time.Minute)
	h := newOrdersHarness(t, now)
	// Older orders for the list: a complaint past its deadline, a 差评 of another section.
	h.clk.Add(-10 * 24 * time.Hour)
	late := h.complaint("C20261201", "户籍")
	h.clk.Add(10 * 24 * time.Hour)
	h.rating(2, "户籍", "")
	o := h.rating(1, "社保", testPhone)
	ctx := webtest.Browser(t, webtest.Options{Width: 1280, Height: 800})
	controls := consoleControls + ", textarea"

	webtest.Do(t, ctx, 20*time.Second, chromedp.Navigate(h.ts.URL+"/console/orders"))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/login"`)
	webtest.Do(t, ctx, 10*time.Second, chromedp.SendKeys("#name", "zhang"), chromedp.SendKeys("#password", crewPass),
		chromedp.Click(`button[type=submit]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/console/orders" && document.querySelectorAll("#orders tbody tr").length === 3`)
	// The overdue complaint says so in words, on its row.
	lateRow := fmt.Sprintf(`document.querySelector("#orders tr[data-order='%d']")`, late.ID)
	if got := webtest.Eval[string](t, ctx, lateRow+`.querySelector(".overdue").textContent`); got != "已逾期 Overdue" {
		t.Errorf("the overdue row says %q", got)
	}
	if n := webtest.Eval[int](t, ctx, `document.querySelectorAll("#orders .overdue").length`); n != 1 {
		t.Errorf("%d rows marked overdue", n)
	}
	if !webtest.Eval[bool](t, ctx, `document.querySelector(".cnav a[href='/console/orders']").getAttribute("aria-current") === "page"`) {
		t.Errorf("the navigation does not mark 工单")
	}
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, controls, 3)
	webtest.Screenshot(t, ctx, "../../docs/img/console-orders.png")

	// The order: 待回访, the phone behind its button.
	webtest.Do(t, ctx, 10*time.Second, chromedp.Click(fmt.Sprintf(`#orders tr[data-order='%d'] a`, o.ID)))
	state := func(s followup.State) {
		t.Helper()
		webtest.WaitTrue(t, ctx, 5*time.Second, fmt.Sprintf(`location.pathname === "/console/orders/%d" && document.getElementById("state") !== null && document.getElementById("state").dataset.state === %q`, o.ID, s))
	}
	state(followup.PendingCallback)
	if strings.Contains(webtest.Eval[string](t, ctx, `document.documentElement.outerHTML`), "5678") {
		t.Fatalf("the phone is in the page before the button")
	}
	if got := webtest.Eval[string](t, ctx, `Array.from(document.querySelectorAll("#moves form")).map(f => f.dataset.to).join(",")`); got != "called-back,appealed" {
		t.Errorf("the moves offered: %s", got)
	}
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, controls, 3)
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click("#show-phone"))
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("phone") !== null`)
	if got := webtest.Eval[string](t, ctx, `document.getElementById("phone").textContent`); got != testPhone {
		t.Errorf("the phone shows %q", got)
	}
	if a := h.audits("order-phone"); len(a) != 1 || a[0].Who != "zhang" {
		t.Errorf("the reading's audit %+v", a)
	}

	// 已回访: the note is required (the browser's own check stops an empty one).
	webtest.Do(t, ctx, 10*time.Second, chromedp.Navigate(fmt.Sprintf("%s/console/orders/%d", h.ts.URL, o.ID)))
	state(followup.PendingCallback)
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`form[data-to="called-back"] button`))
	if !webtest.Eval[bool](t, ctx, `document.querySelector("#note-called-back:invalid") !== null`) {
		t.Errorf("an empty note is not marked invalid")
	}
	webtest.Do(t, ctx, 10*time.Second, chromedp.SendKeys("#note-called-back", "已电话回访：群众等候较久，已致歉并说明高峰时段"),
		chromedp.Click(`form[data-to="called-back"] button`))
	state(followup.CalledBack)
	webtest.Do(t, ctx, 10*time.Second, chromedp.Click(`form[data-to="rectifying"] button`))
	state(followup.Rectifying)
	if got := webtest.Eval[string](t, ctx, `Array.from(document.querySelectorAll("#steps tbody tr")).map(r => r.dataset.to).join(",")`); got != "pending-callback,called-back,rectifying" {
		t.Errorf("the steps: %s", got)
	}
	if !strings.Contains(webtest.Eval[string](t, ctx, `document.getElementById("steps").textContent`), "已致歉并说明高峰时段") {
		t.Errorf("the note is not in the steps")
	}
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, controls, 3)
	webtest.Do(t, ctx, 5*time.Second, chromedp.SendKeys("#note-rectified", "窗口高峰时段增开一个窗口，已培训"))
	full := webtest.Eval[int](t, ctx, `document.documentElement.scrollHeight`)
	webtest.Do(t, ctx, 5*time.Second, chromedp.EmulateViewport(1280, int64(full)))
	webtest.Screenshot(t, ctx, "../../docs/img/console-order.png")
	webtest.Do(t, ctx, 5*time.Second, chromedp.EmulateViewport(1280, 800))
	webtest.Do(t, ctx, 10*time.Second, chromedp.Click(`form[data-to="rectified"] button`))
	state(followup.Rectified)
	if webtest.Eval[bool](t, ctx, `document.getElementById("moves") !== null`) {
		t.Errorf("a closed order offers moves")
	}
	webtest.CheckContrast(t, ctx, 4.5)

	got, err := h.fo.Get(t.Context(), o.ID)
	if err != nil || got.State != followup.Rectified || got.Overdue || len(got.Steps) != 4 || got.Steps[3].By != "zhang" {
		t.Errorf("the order at the end %+v %v", got, err)
	}
	if n := len(h.audits("order-move")); n != 3 {
		t.Errorf("%d moves audited", n)
	}
	// The month's figures: the order put right in time counts.
	webtest.Do(t, ctx, 10*time.Second, chromedp.Click(`.cnav a[href="/console/orders"]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/console/orders" && document.querySelector(".seg a.primary") !== null`)
	webtest.Do(t, ctx, 10*time.Second, chromedp.Click(`.seg a.primary`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.querySelector("#figures tr[data-section='社保']") !== null`)
	if got := webtest.Eval[string](t, ctx, `Array.from(document.querySelectorAll("#figures tr[data-section='社保'] td")).map(c => c.textContent).join("|")`); got != "社保|1|1|100.0 %|1|1|100.0 %|0|0|—" {
		t.Errorf("社保's figures: %s", got)
	}
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, controls, 3)
	webtest.Screenshot(t, ctx, "../../docs/img/console-orders-report.png")

	// A session's POST without the token is refused.
	if got := webtest.Eval[int](t, ctx, fmt.Sprintf(`fetch("/console/orders/%d/phone", {method: "POST", body: new URLSearchParams({})}).then(r => r.status)`, o.ID)); got != 403 {
		t.Errorf("a form POST without the CSRF token: %d", got)
	}
	if strings.Contains(h.log.String(), testPhone) {
		t.Errorf("the phone is in the log")
	}
}
