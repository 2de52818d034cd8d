package web_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citizenhome/hall/rating"
	"citizenhome/hall/web/webtest"
)

// leakWatch records, from the page's start, every text and attribute the page ever held that
// contains the phone number: the pad must show it masked only.
const leakWatch = `(() => {
  window.padLeaks = [];
  const phone = %q;
  const look = (s) => { if (s && s.includes(phone)) window.padLeaks.push(s.slice(0, 40)); };
  new MutationObserver((ms) => {
    for (const m of ms) {
      if (m.type === "characterData") look(m.target.data);
      if (m.type === "attributes") look(m.target.getAttribute(m.attributeName));
      for (const n of m.addedNodes || []) look(n.textContent);
    }
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  return true;
})()`

// targets lists the visible buttons smaller than 96 px either way.
const smallTargets = `Array.from(document.querySelectorAll("button")).filter((b) => {
  const r = b.getBoundingClientRect();
  return r.width > 0 && (r.width < 96 || r.height < 96);
}).map((b) => b.textContent.trim())`

// overflow is "" when the page fits its viewport, else the sizes.
const overflow = `(() => { const d = document.documentElement;
  return d.scrollHeight <= innerHeight && d.scrollWidth <= innerWidth ? "" :
    d.scrollWidth + "x" + d.scrollHeight + " in " + innerWidth + "x" + innerHeight; })()`

func checkFits(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	if got := webtest.Eval[string](t, ctx, overflow); got != "" {
		t.Errorf("%s does not fit: %s", what, got)
	}
}

func TestRatePadInChromium(t *testing.T) {
	webtest.NeedBrowser(t)
	h := newPadHall(t, true)
	const phone = "13800138000"
	ctx := webtest.Browser(t, webtest.Options{Width: 800, Height: 480})
	webtest.Do(t, ctx, 20*time.Second, chromedp.Navigate(h.ts.URL+"/rate/3?key="+displayKey))
	webtest.Eval[bool](t, ctx, fmt.Sprintf(leakWatch, phone))
	// It waits: the calm screen, the stream connected (its first queue event in).
	webtest.WaitTrue(t, ctx, 10*time.Second, `window.padState === "idle" && window.padQueues >= 1 && window.padAsked >= 1`)
	if got := webtest.Eval[string](t, ctx, `document.querySelector("#idle .pwin").textContent`); got != "3 号窗口Window 3" {
		t.Errorf("idle screen shows %q", got)
	}
	checkFits(t, ctx, "the idle screen")
	webtest.CheckContrast(t, ctx, 4.5)

	// Another window's done does not wake it: once the page has the queue after it, it still
	// waits, and asked for no offer.
	asked := webtest.Eval[int](t, ctx, `window.padAsked`)
	h.serve("A", "2", "li")
	webtest.WaitTrue(t, ctx, 10*time.Second, `(() => { const q = window.padLast; if (!q) return false;
	  const w = q.windows.find((x) => x.window === "2"); const a = q.categories.find((c) => c.letter === "A");
	  return w.serving === null && a.last_called !== null; })()`)
	if st, n := webtest.Eval[string](t, ctx, `window.padState`), webtest.Eval[int](t, ctx, `window.padAsked`); st != "idle" || n != asked {
		t.Errorf("after window 2's done: state %s, offers asked %d (before %d)", st, n, asked)
	}

	// A done at its window: the levels, at once.
	tk := h.issue("B")
	if _, err := h.line.Next(context.Background(), "3", "wang"); err != nil {
		t.Fatal(err)
	}
	webtest.WaitTrue(t, ctx, 10*time.Second, fmt.Sprintf(`(() => { const q = window.padLast;
	  return q && q.windows.find((x) => x.window === "3").serving === %q; })()`, tk.Code))
	if _, err := h.line.Done(context.Background(), "3", "wang"); err != nil {
		t.Fatal(err)
	}
	took := webtest.WaitTrue(t, ctx, 10*time.Second, `window.padState === "levels"`)
	t.Logf("done at window 3 to the levels on its pad: %s", took.Round(time.Millisecond))
	if got := webtest.Eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".plevel")).map((b) => b.firstChild.textContent)`); !slices.Equal(got, []string{"非常满意", "满意", "基本满意", "不满意", "非常不满意"}) {
		t.Errorf("levels %q", got)
	}
	// Nothing of the citizen, nor the ticket's code.
	if webtest.Eval[bool](t, ctx, fmt.Sprintf(`document.body.innerText.includes(%q)`, tk.Code)) {
		t.Errorf("the pad shows the ticket %s", tk.Code)
	}
	if small := webtest.Eval[[]string](t, ctx, smallTargets); len(small) > 0 {
		t.Errorf("targets under 96 px: %q", small)
	}
	checkFits(t, ctx, "the levels")
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, ".plevel", 3)
	webtest.Screenshot(t, ctx, "../../docs/img/rating-pad.png")

	// A 差评: 不满意, a dimension, two reasons, a phone.
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`.plevel[data-level="2"]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `window.padState === "dims"`)
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`[data-dim="attitude"]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.querySelector('[data-dim="attitude"]').getAttribute("aria-pressed") === "true"`)
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, ".pchoice, .pbtn", 3)
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`#dims-next`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `window.padState === "reasons" && document.getElementById("reasons-next").disabled`)
	if n := webtest.Eval[int](t, ctx, `document.querySelectorAll("#reasons [data-reason]").length`); n != 9 {
		t.Errorf("%d reasons, want the kiosk's 9", n)
	}
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`[data-reason="attitude"]`), chromedp.Click(`[data-reason="wait-long"]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `!document.getElementById("reasons-next").disabled`)
	if small := webtest.Eval[[]string](t, ctx, smallTargets); len(small) > 0 {
		t.Errorf("targets under 96 px: %q", small)
	}
	checkFits(t, ctx, "the reasons")
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, ".pchoice, .pbtn", 3)
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`#reasons-next`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `window.padState === "phone"`)
	for _, d := range phone {
		webtest.Do(t, ctx, 5*time.Second, chromedp.Click(fmt.Sprintf(`.pkey[data-key="%c"]`, d)))
	}
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("number").textContent === "•••••••8000"`)
	if small := webtest.Eval[[]string](t, ctx, smallTargets); len(small) > 0 {
		t.Errorf("targets under 96 px: %q", small)
	}
	checkFits(t, ctx, "the phone screen")
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, ".pkey, .pbtn, .pnumber", 3)
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`#send`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `window.padState === "thanks"`)
	if got := webtest.Eval[string](t, ctx, `document.querySelector("#thanks h1").firstChild.textContent`); got != "谢谢您的评价" {
		t.Errorf("thanks %q", got)
	}
	webtest.CheckContrast(t, ctx, 4.5)

	sent := h.rec.got()
	if len(sent) != 1 || sent[0].Overall != 2 || sent[0].Attitude != 2 || sent[0].Efficiency != 0 || sent[0].Skill != 0 ||
		!slices.Equal(sent[0].Reasons, []string{"attitude", "wait-long"}) || sent[0].Phone != phone || sent[0].Ticket != tk.Code {
		t.Errorf("sent %+v", sent)
	}
	rs, err := h.ratings.List(context.Background(), rating.Filter{Window: "3"})
	if err != nil || len(rs) != 1 || rs[0].Ticket != tk.Code || rs[0].Staff != "wang" || rs[0].Overall != 2 || rs[0].Order == 0 {
		t.Errorf("kept %+v %v", rs, err)
	}
	if o := h.orders.got(); len(o) != 1 || o[0].Phone != phone || o[0].Level != 2 || o[0].Window != "3" || o[0].Staff != "wang" {
		t.Errorf("work orders %+v", o)
	}

	// It clears by itself, and the rated ticket does not come back.
	webtest.WaitTrue(t, ctx, 10*time.Second, `window.padState === "idle" && document.getElementById("number").textContent.trim() === ""`)
	if leaks := webtest.Eval[[]string](t, ctx, `window.padLeaks`); len(leaks) > 0 {
		t.Errorf("the page held the phone unmasked: %q", leaks)
	}
	if webtest.Eval[bool](t, ctx, fmt.Sprintf(`document.documentElement.outerHTML.includes(%q)`, phone)) {
		t.Error("the phone is in the page")
	}

	// A good rating goes straight to the thanks.
	tk2 := h.issue("B")
	if _, err := h.line.Next(context.Background(), "3", "wang"); err != nil {
		t.Fatal(err)
	}
	webtest.WaitTrue(t, ctx, 10*time.Second, fmt.Sprintf(`(() => { const q = window.padLast;
	  return q && q.windows.find((x) => x.window === "3").serving === %q; })()`, tk2.Code))
	if _, err := h.line.Done(context.Background(), "3", "wang"); err != nil {
		t.Fatal(err)
	}
	webtest.WaitTrue(t, ctx, 10*time.Second, `window.padState === "levels"`)
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`.plevel[data-level="5"]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `window.padState === "thanks"`)
	if rs, _ := h.ratings.List(context.Background(), rating.Filter{Window: "3"}); len(rs) != 2 || rs[0].Ticket != tk2.Code || rs[0].Overall != 5 || rs[0].Order != 0 {
		t.Errorf("the good rating: %+v", rs)
	}
	webtest.WaitTrue(t, ctx, 10*time.Second, `window.padState === "idle"`)
}

// TestRatePadClearsUntouched: a rating left untouched is dropped (the 60 s, shortened here),
// nothing is sent, and the pad does not ask again for the ticket it showed.
func TestRatePadClearsUntouched(t *testing.T) {
	webtest.NeedBrowser(t)
	h := newPadHall(t, true)
	ctx := webtest.Browser(t, webtest.Options{Width: 1024, Height: 600})
	webtest.Do(t, ctx, 20*time.Second, chromedp.Navigate(h.ts.URL+"/rate/3?key="+displayKey))
	webtest.WaitTrue(t, ctx, 10*time.Second, `window.padState === "idle" && window.padQueues >= 1`)
	webtest.Eval[bool](t, ctx, `(window.padTimings = { idle: 1500 }, true)`)

	// Untouched on the levels.
	h.issue("A")
	if _, err := h.line.Next(context.Background(), "3", "wang"); err != nil {
		t.Fatal(err)
	}
	webtest.WaitTrue(t, ctx, 10*time.Second, `(() => { const q = window.padLast;
	  return q && q.windows.find((x) => x.window === "3").serving !== null; })()`)
	if _, err := h.line.Done(context.Background(), "3", "wang"); err != nil {
		t.Fatal(err)
	}
	webtest.WaitTrue(t, ctx, 10*time.Second, `window.padState === "levels"`)
	checkFits(t, ctx, "the levels at 1024x600")
	if small := webtest.Eval[[]string](t, ctx, smallTargets); len(small) > 0 {
		t.Errorf("targets under 96 px at 1024x600: %q", small)
	}
	took := webtest.WaitTrue(t, ctx, 10*time.Second, `window.padState === "idle"`)
	if took < time.Second {
		t.Errorf("cleared after %s, before its wait of 1.5 s", took)
	}
	// Left half-way through a 差评, after touches: dropped too, once untouched for the wait.
	asked := webtest.Eval[int](t, ctx, `window.padAsked`)
	h.issue("A")
	if _, err := h.line.Next(context.Background(), "3", "wang"); err != nil {
		t.Fatal(err)
	}
	webtest.WaitTrue(t, ctx, 10*time.Second, fmt.Sprintf(`window.padAsked > %d || (() => { const q = window.padLast;
	  return q && q.windows.find((x) => x.window === "3").serving !== null; })()`, asked))
	if _, err := h.line.Done(context.Background(), "3", "wang"); err != nil {
		t.Fatal(err)
	}
	webtest.WaitTrue(t, ctx, 10*time.Second, `window.padState === "levels"`)
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`.plevel[data-level="1"]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `window.padState === "dims"`)
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`#dims-next`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `window.padState === "reasons"`)
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`[data-reason="slow"]`))
	checkFits(t, ctx, "the reasons at 1024x600")
	webtest.WaitTrue(t, ctx, 10*time.Second, `window.padState === "idle" &&
	  document.querySelectorAll('[aria-pressed="true"]').length === 0`)
	if sent := h.rec.got(); len(sent) != 0 {
		t.Errorf("an untouched pad sent %+v", sent)
	}
	// A no-show at the window ends its current ticket too: the pad asks, and the offer is still
	// the ticket it showed (within its grace, not rated), which it does not show again.
	n := webtest.Eval[int](t, ctx, `window.padAnswered`)
	missed := h.issue("A")
	if _, err := h.line.Next(context.Background(), "3", "wang"); err != nil {
		t.Fatal(err)
	}
	webtest.WaitTrue(t, ctx, 10*time.Second, fmt.Sprintf(`(() => { const q = window.padLast;
	  return q && q.windows.find((x) => x.window === "3").serving === %q; })()`, missed.Code))
	if _, err := h.line.NoShow(context.Background(), "3", "wang"); err != nil {
		t.Fatal(err)
	}
	webtest.WaitTrue(t, ctx, 10*time.Second, fmt.Sprintf(`window.padAnswered > %d`, n))
	if st, m := h.do("GET", "/rate/3/offer", ""); st != 200 || m["offer"] != true {
		t.Errorf("the ticket is no longer offered (%d %v): the check below proves nothing", st, m)
	}
	if st := webtest.Eval[string](t, ctx, `window.padState`); st != "idle" {
		t.Errorf("after a no-show the pad shows %s", st)
	}
	if rs, _ := h.ratings.List(context.Background(), rating.Filter{}); len(rs) != 0 {
		t.Errorf("ratings kept: %+v", rs)
	}
}
