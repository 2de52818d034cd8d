package web

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citizenhome/hall/line"
	"citizenhome/hall/web/webtest"
)

// playDay serves rounds of tickets on day through the real queue: each round (six minutes)
// issues an A and a B ticket, and windows 1 and 3 call, start and finish them with waits and
// service times that vary from round to round; every fifth B ticket is a no-show.
func playDay(t testing.TB, l *line.Line, clk *sceneClock, day string, rounds int) {
	ctx := context.Background()
	base, err := time.ParseInLocation(time.DateTime, day+" 09:00:00", line.DefaultLocation())
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) { clk.set(day, base.Add(d).Format(time.TimeOnly)) }
	for k := range rounds {
		r := time.Duration(k) * 6 * time.Minute
		at(r)
		sceneIssue(t, l, "A", "户籍区", k%4 == 0)
		sceneIssue(t, l, "B", "社保区", false)
		at(r + 30*time.Second + time.Duration(k%5)*10*time.Second)
		must(t)(l.Next(ctx, "1", "alice"))
		must(t)(l.Start(ctx, "1", "alice"))
		at(r + 2*time.Minute)
		must(t)(l.Next(ctx, "3", "carol"))
		if k%5 == 4 {
			at(r + 2*time.Minute + 40*time.Second)
			must(t)(l.NoShow(ctx, "3", "carol"))
		} else {
			must(t)(l.Start(ctx, "3", "carol"))
		}
		at(r + 3*time.Minute + time.Duration(k%3)*20*time.Second)
		must(t)(l.Done(ctx, "1", "alice"))
		if k%5 != 4 {
			at(r + 4*time.Minute + time.Duration(k%4)*15*time.Second)
			must(t)(l.Done(ctx, "3", "carol"))
		}
	}
}

// The statistics page in Chromium: a crew login, the month by window with its figures and
// ratings, another grouping through the form, contrast and edges, the way back to the fleet.
func TestStatsInChromium(t *testing.T) {
	webtest.NeedBrowser(t)
	l, clk := statsLine(t)
	playMorning(t, l, clk)
	playDay(t, l, clk, "2026-12-08", 20)
	h := newStatsHarness(t, l, &fakeSatisfaction{}, true)
	ctx := webtest.Browser(t, webtest.Options{Width: 1280, Height: 800})

	webtest.Do(t, ctx, 20*time.Second, chromedp.Navigate(h.ts.URL+"/console/stats?from=2026-12-01&to=2027-01-01&by=window"))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/login"`)
	webtest.Do(t, ctx, 10*time.Second, chromedp.SendKeys("#name", "li"), chromedp.SendKeys("#password", crewPass),
		chromedp.Click(`button[type=submit]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/console/stats" && document.querySelectorAll("#stats tbody tr").length === 4`)
	cell := func(key, col string) string {
		return webtest.Eval[string](t, ctx, fmt.Sprintf(`document.querySelector('#stats tr[data-key="%s"] td[data-col="%s"]').textContent`, key, col))
	}
	// Window 1: the morning's A002 (110 s) and the day's 20 A tickets, waits 30 s to 70 s four
	// times each: the 19th of 21 is 70 s.
	if got := cell("1", "wait-p90"); got != "1:10" {
		t.Errorf("window 1's 90th percentile wait: %q", got)
	}
	if got := cell("3", "wait-median"); got != "2:00" {
		t.Errorf("window 3's median wait: %q", got)
	}
	row1 := webtest.Eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#stats tr[data-key="1"] td')).map(e => e.textContent)`)
	if len(row1) != 16 || row1[2] != "21" || row1[3] != "22" || row1[11] != "12" || row1[12] != "4.50" || row1[15] != "—" {
		t.Errorf("window 1's row: %q", row1)
	}
	if got := webtest.Eval[string](t, ctx, `document.querySelector(".cnav a[aria-current]").getAttribute("href")`); got != "/console/stats" {
		t.Errorf("the navigation marks %s", got)
	}
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.CheckEdges(t, ctx, consoleControls, 3)
	if !webtest.Eval[bool](t, ctx, `Array.from(document.querySelectorAll(".cnav a, .seg .btn, .filters .btn, .filters input, .filters select")).every(e => e.getBoundingClientRect().height >= 48)`) {
		t.Errorf("a target is under 48 px high")
	}
	if over := webtest.Eval[int](t, ctx, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
		t.Errorf("the page is %d px wider than the window", over)
	}
	full := webtest.Eval[int](t, ctx, `document.documentElement.scrollHeight`)
	webtest.Do(t, ctx, 5*time.Second, chromedp.EmulateViewport(1280, int64(full)))
	webtest.Screenshot(t, ctx, "../../docs/img/console-stats.png")
	webtest.Do(t, ctx, 5*time.Second, chromedp.EmulateViewport(1280, 800))

	// Another grouping through the form: by section.
	webtest.Do(t, ctx, 10*time.Second, chromedp.SetValue(`select[name=by]`, "section"), chromedp.Click(`.filters button[type=submit]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("stats") !== null && document.getElementById("stats").dataset.by === "section"`)
	keys := webtest.Eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#stats tbody tr")).map(e => e.dataset.key)`)
	if fmt.Sprint(keys) != "[户籍区 社保区]" {
		t.Errorf("sections %q", keys)
	}
	if got := webtest.Eval[string](t, ctx, `document.querySelector('#stats tr[data-key="户籍区"] td').textContent`); got != "22" {
		t.Errorf("户籍区 issued %q", got)
	}
	if href := webtest.Eval[string](t, ctx, `document.getElementById("csv").getAttribute("href")`); href != "/console/stats.csv?from=2026-12-01&to=2027-01-01&by=section" {
		t.Errorf("the CSV link %q", href)
	}
	webtest.CheckContrast(t, ctx, 4.5)

	// Back to the fleet.
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`.cnav a[href="/console"]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/console" && document.getElementById("tiles") !== null`)
}
