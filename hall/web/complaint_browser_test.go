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

// A kiosk complaint's order answered through the console by its manager in Chromium (an answer
// holding a phone refused on the form first), then looked up by its slip's number on a phone's
// Chromium without a login: the state and the answer shown, nothing of the manager, the
// internal note or any phone; every text readable (4.5:1), the form's controls large and their
// edges 3:1, and no script on the page.
func TestComplaintPageInChromium(t *testing.T) {
	webtest.NeedBrowser(t)
	now := time.Now().In(day.Location()).Truncate(time.Minute)
	h := newOrdersHarness(t, now)
	number := "TS" + now.Format("20060102") + "K7Q2M9" // as the kiosk numbers today's
	o := h.complaint(number, "社保")
	h.move(o.ID, followup.Handling, "zhang", internalNote+"，群众电话 "+testPhone)

	// The manager answers in the console.
	ctx := webtest.Browser(t, webtest.Options{Width: 1280, Height: 800})
	webtest.Do(t, ctx, 20*time.Second, chromedp.Navigate(fmt.Sprintf("%s/console/orders/%d", h.ts.URL, o.ID)))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/login"`)
	webtest.Do(t, ctx, 10*time.Second, chromedp.SendKeys("#name", "zhang"), chromedp.SendKeys("#password", crewPass),
		chromedp.Click(`button[type=submit]`))
	state := func(s followup.State) {
		t.Helper()
		webtest.WaitTrue(t, ctx, 5*time.Second, fmt.Sprintf(`location.pathname === "/console/orders/%d" && document.getElementById("state") !== null && document.getElementById("state").dataset.state === %q`, o.ID, s))
	}
	state(followup.Handling)
	if got := webtest.Eval[string](t, ctx, `document.getElementById("hint-answered").innerText`); !strings.Contains(got, "公开的投诉查询页") || !strings.Contains(got, "no personal data") {
		t.Errorf("the answer's hint: %q", got)
	}
	const withPhone = "已核实处理，详情请致电 139-1234-5678 咨询"
	webtest.Do(t, ctx, 10*time.Second, chromedp.SendKeys("#note-answered", withPhone), chromedp.Click(`form[data-to="answered"] button`))
	// The refusal is the order's page again, as the form's POST answered it (400).
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("error") !== null`)
	if got := webtest.Eval[string](t, ctx, `document.getElementById("state").dataset.state`); got != string(followup.Handling) {
		t.Errorf("after the refusal the order is %s", got)
	}
	if got := webtest.Eval[string](t, ctx, `document.getElementById("error").textContent`); !strings.Contains(got, "手机号") || !strings.Contains(got, "personal data") {
		t.Errorf("the refusal says %q", got)
	}
	if got := webtest.Eval[string](t, ctx, `document.getElementById("note-answered").value`); got != withPhone {
		t.Errorf("the refused answer is not given back: %q", got)
	}
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, consoleControls+", textarea", 3)
	full := webtest.Eval[int](t, ctx, `document.documentElement.scrollHeight`)
	webtest.Do(t, ctx, 5*time.Second, chromedp.EmulateViewport(1280, int64(full)))
	webtest.Screenshot(t, ctx, "../../docs/img/console-complaint-answer.png")
	webtest.Do(t, ctx, 5*time.Second, chromedp.EmulateViewport(1280, 800))
	webtest.Eval[bool](t, ctx, `(document.getElementById("note-answered").value = "", true)`)
	webtest.Do(t, ctx, 10*time.Second, chromedp.SendKeys("#note-answered", testAnswer),
		chromedp.Click(`form[data-to="answered"] button`))
	state(followup.Answered)

	// The citizen, on a phone, with the slip: the form, then the complaint.
	phone := webtest.Browser(t, webtest.Options{Width: 390, Height: 844, Mobile: true})
	webtest.Do(t, phone, 20*time.Second, chromedp.Navigate(h.ts.URL+"/c"))
	webtest.WaitTrue(t, phone, 5*time.Second, `document.getElementById("number-input") !== null`)
	webtest.CheckContrast(t, phone, 4.5)
	webtest.Do(t, phone, 10*time.Second, chromedp.SendKeys("#number-input", "ts "+now.Format("20060102")+" k7q2m9"), chromedp.Click(`#lookup button`))
	webtest.WaitTrue(t, phone, 5*time.Second, fmt.Sprintf(`location.pathname === "/c/%s" && document.getElementById("state") !== null`, number))
	if got := webtest.Eval[string](t, phone, `document.getElementById("state").dataset.state + "|" + document.getElementById("state").innerText`); got != "answered|已答复\nAnswered" {
		t.Errorf("the state shows %q", got)
	}
	if got := webtest.Eval[string](t, phone, `document.getElementById("answer-text").textContent`); got != testAnswer {
		t.Errorf("the answer shows %q", got)
	}
	if got := webtest.Eval[string](t, phone, `document.getElementById("number").textContent`); got != number {
		t.Errorf("the number shows %q", got)
	}
	html := webtest.Eval[string](t, phone, `document.documentElement.outerHTML`)
	for _, s := range []string{"zhang", "chen", testPhone, "5678", internalNote, "社保"} {
		if strings.Contains(html, s) {
			t.Errorf("the page holds %q", s)
		}
	}
	if n := webtest.Eval[int](t, phone, `document.scripts.length`); n != 0 {
		t.Errorf("the page has %d scripts: it must work without", n)
	}
	// Big targets: the field and the button at least 60 px high and as wide as the page's text.
	if small := webtest.Eval[[]string](t, phone, `Array.from(document.querySelectorAll("#lookup input, #lookup button")).filter((e) => {
	  const r = e.getBoundingClientRect(); return r.height < 60 || r.width < 300; }).map((e) => e.tagName)`); len(small) > 0 {
		t.Errorf("small targets: %q", small)
	}
	if got := webtest.Eval[string](t, phone, `(() => { const d = document.documentElement; return d.scrollWidth <= innerWidth ? "" : d.scrollWidth + " > " + innerWidth; })()`); got != "" {
		t.Errorf("the page is wider than the phone: %s", got)
	}
	webtest.CheckContrast(t, phone, 4.5)
	webtest.CheckEdges(t, phone, "#lookup input, #lookup .btn, .answer", 3)
	full = webtest.Eval[int](t, phone, `document.documentElement.scrollHeight`)
	webtest.Do(t, phone, 5*time.Second, chromedp.EmulateViewport(390, int64(full), chromedp.EmulateMobile))
	webtest.Screenshot(t, phone, "../../docs/img/complaint-page.png")
	webtest.Do(t, phone, 5*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))

	// A number that is no complaint's: the not-found page, the form to try again.
	webtest.Eval[bool](t, phone, `(document.getElementById("number-input").value = "", true)`)
	webtest.Do(t, phone, 10*time.Second, chromedp.SendKeys("#number-input", "TS20261207AAAAAA"),
		chromedp.Click(`#lookup button`))
	webtest.WaitTrue(t, phone, 5*time.Second, `document.getElementById("not-found") !== null`)
	if got := webtest.Eval[string](t, phone, `document.getElementById("number-input").value`); got != "TS20261207AAAAAA" {
		t.Errorf("the form holds %q", got)
	}
	webtest.CheckContrast(t, phone, 4.5)
}
