package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citizenhome/hall/access"
	"citizenhome/hall/ledger/ledgertest"
	"citizenhome/hall/line"
	"citizenhome/hall/voice"
	"citizenhome/hall/web"
	"citizenhome/hall/web/webtest"
	"citizenhome/speech/speechtest"
)

// The browser tests run the real queue (hall/line) over a temporary ledger, the real voice
// (hall/voice, clips synthesised by espeak-ng) and the real access store, in Debian's Chromium.

const displayKey = "tv-display-key-0123456789"

type hall struct {
	t     testing.TB
	line  *line.Line
	store *access.Store
	ts    *httptest.Server
	token string // a counter token

	mu    sync.Mutex
	wavs  map[string][]byte // announcement path -> the body the browser got
	fetch map[string]int    // announcement path -> fetches
}

// newHall starts halld's HTTP server over a new ledger; now is the queue's clock (nil: the real
// one, which the browser tests need, since the display compares the calls' days with its own).
func newHall(t testing.TB, speak bool, now func() time.Time) *hall {
	t.Helper()
	ctx := context.Background()
	db := ledgertest.Open(t, line.Migrations, access.Migrations)
	l, err := line.Open(ctx, db, line.Config{
		Categories: []line.Category{{Letter: "A", Name: "户籍", AvgService: 6 * time.Minute},
			{Letter: "B", Name: "出入境", AvgService: 8 * time.Minute}, {Letter: "C", Name: "税务", AvgService: 5 * time.Minute}},
		Windows: []line.Window{{ID: "1", Categories: []string{"A"}}, {ID: "2", Categories: []string{"A", "B"}},
			{ID: "3", Categories: []string{"B", "C"}}, {ID: "4", Categories: []string{"C"}}},
		Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	store := access.Open(db, access.Options{Argon2: access.Argon2{Time: 1, Memory: 64, Threads: 1}})
	tok, err := store.CreateToken(ctx, "counter-software", access.Counter)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.AddAccount(ctx, "wang", access.Counter, "window-two-pass"); err != nil {
		t.Fatal(err)
	}
	o := web.Options{Queue: web.LineQueue(l), Access: store, HallName: "示范区政务服务中心", DisplayKey: displayKey,
		Location: line.DefaultLocation(), Log: slog.New(slog.DiscardHandler)}
	if speak {
		clips, _ := voice.Clips(voice.Chinese)
		v, err := voice.New(speechtest.Synthesize(t, clips))
		if err != nil {
			t.Fatal(err)
		}
		o.Voice = v
	}
	srv, err := web.New(o)
	if err != nil {
		t.Fatal(err)
	}
	h := &hall{t: t, line: l, store: store, token: tok, wavs: map[string][]byte{}, fetch: map[string]int{}}
	// Record the announcements the browser fetches, as it got them.
	h.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/announcements/") {
			srv.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		h.mu.Lock()
		h.fetch[r.URL.Path]++
		if rec.Code == 200 {
			h.wavs[r.URL.Path] = rec.Body.Bytes()
		}
		h.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	t.Cleanup(func() {
		h.ts.CloseClientConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		h.ts.Close()
	})
	return h
}

// issue takes a ticket at kiosk k1 and confirms it printed, as a kiosk does.
func (h *hall) issue(category string) line.Ticket {
	h.t.Helper()
	return h.take(line.Take{Category: category})
}

func (h *hall) take(r line.Take) line.Ticket {
	h.t.Helper()
	ctx := context.Background()
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	r.ID = id
	tk, _, err := h.line.Take(ctx, "k1", r)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.line.Issued(ctx, "k1", line.Issued{Take: id, Code: tk.Code, Lookup: tk.Lookup, Day: tk.Day,
		Priority: r.Priority, Reason: r.Reason}); err != nil {
		h.t.Fatal(err)
	}
	return tk
}

// api calls a counter route with the counter token and returns the ticket's code ("" for 204).
func (h *hall) api(path, body string) string {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.ts.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.token)
	// A new connection each time: the test breaks the server's connections on purpose.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNoContent { // next: nobody waits
		return ""
	}
	if resp.StatusCode != 200 {
		h.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
	}
	var m struct{ Ticket struct{ Code string } }
	json.Unmarshal(b, &m)
	return m.Ticket.Code
}

func (h *hall) ticket(code string) line.Ticket {
	h.t.Helper()
	tk, err := h.line.Ticket(context.Background(), code)
	if err != nil {
		h.t.Fatal(err)
	}
	return tk
}

// waitWAV waits for the browser to have fetched path and returns what it got.
func (h *hall) waitWAV(path string, d time.Duration) []byte {
	h.t.Helper()
	deadline := time.Now().Add(d)
	for {
		h.mu.Lock()
		b := h.wavs[path]
		h.mu.Unlock()
		if b != nil {
			return b
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("the display did not fetch %s within %v", path, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDisplayInChromium(t *testing.T) {
	webtest.NeedBrowser(t)
	h := newHall(t, true, nil)
	for range 4 {
		h.issue("A")
	}
	for range 3 {
		h.issue("B")
	}
	h.issue("C")
	first := h.api("/v1/windows/1/next", "") // before the display starts: shown, not announced

	ctx := webtest.Browser(t, webtest.Options{Width: 1920, Height: 1080})
	webtest.Do(t, ctx, 20*time.Second, chromedp.Navigate(h.ts.URL+"/display?key="+displayKey))
	// Ready: the waiting counts came by the stream, the earlier call is on screen.
	webtest.WaitTrue(t, ctx, 10*time.Second, `document.querySelectorAll("#waiting .cat").length === 3 && window.halldShown.length === 1`)
	if got := webtest.Eval[string](t, ctx, `document.getElementById("now-code").textContent`); got != first {
		t.Fatalf("the display shows %q, want %s", got, first)
	}
	if got := webtest.Eval[string](t, ctx, `document.querySelector("#waiting .cat[data-category=A] b").textContent`); got != "3" {
		t.Fatalf("waiting A: %q", got)
	}

	// A call through the API is on the display within a second, flashing.
	start := time.Now()
	code := h.api("/v1/windows/2/next", "")
	took := webtest.WaitTrue(t, ctx, time.Second, fmt.Sprintf(
		`document.getElementById("now-code").textContent === %q && document.querySelector("#calls tr[data-window='2'] td.code").textContent === %q`, code, code))
	t.Logf("call %s on the display after %v (%v since the request)", code, took, time.Since(start))
	if !webtest.Eval[bool](t, ctx, `document.getElementById("now").classList.contains("flash")`) {
		t.Fatalf("the new call does not flash")
	}
	// Its announcement: fetched by the page, a WAV of speech of 1 to 6 s, played once.
	wav := h.waitWAV("/v1/announcements/2.wav", 10*time.Second)
	speechtest.Speech(t, wav, time.Second, 6*time.Second)
	webtest.WaitTrue(t, ctx, 15*time.Second, `window.halldPlayed.join() === "2"`)
	h.mu.Lock()
	if _, ok := h.wavs["/v1/announcements/1.wav"]; ok {
		t.Errorf("the call from before the page was announced")
	}
	h.mu.Unlock()

	// The stream breaks; calls made meanwhile are shown and announced once each, in order,
	// after the reconnect (Last-Event-ID replay and /v1/calls?after= catch-up both run).
	h.ts.CloseClientConnections()
	recalled := h.api("/v1/windows/2/recall", "")
	third := h.api("/v1/windows/3/next", "")
	webtest.WaitTrue(t, ctx, 20*time.Second, `window.halldPlayed.join() === "2,3,4"`)
	if got := webtest.Eval[string](t, ctx, `window.halldShown.join()`); got != "1,2,3,4" {
		t.Fatalf("shown %s", got)
	}
	if got := webtest.Eval[string](t, ctx, `document.getElementById("now-code").textContent`); got != third || recalled != code {
		t.Fatalf("now %q, want %s (recalled %s)", got, third, recalled)
	}
	if got := webtest.Eval[string](t, ctx, `document.querySelector("#calls tr[data-window='2'] td.code").className`); got != "code recall" {
		t.Fatalf("the recall is not marked: %q", got)
	}
	for _, p := range []string{"/v1/announcements/3.wav", "/v1/announcements/4.wav"} {
		speechtest.Speech(t, h.waitWAV(p, time.Second), time.Second, 6*time.Second)
	}
	// Wait for the flash to end before the picture.
	webtest.WaitTrue(t, ctx, 10*time.Second, `document.getAnimations().length === 0`)
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.Screenshot(t, ctx, "../../docs/img/display.png")
}

func TestCounterPageInChromium(t *testing.T) {
	webtest.NeedBrowser(t)
	h := newHall(t, false, nil)
	var codes []string
	for _, c := range []string{"A", "B", "A", "A", "B", "C"} {
		codes = append(codes, h.issue(c).Code)
	}
	ctx := webtest.Browser(t, webtest.Options{Width: 1280, Height: 800})
	// Not logged in: the page sends the browser to the login.
	webtest.Do(t, ctx, 20*time.Second, chromedp.Navigate(h.ts.URL+"/counter"))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/login"`)
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.Do(t, ctx, 10*time.Second,
		chromedp.SendKeys("#name", "wang"), chromedp.SendKeys("#password", "window-two-pass"),
		chromedp.Click(`button[type=submit]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/counter" && document.querySelectorAll("#window option").length === 5`)
	webtest.Eval[bool](t, ctx, `(() => { const s = document.getElementById("window"); s.value = "2"; s.dispatchEvent(new Event("change")); return true; })()`)
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.querySelectorAll("#waiting-list button").length === 5`)

	click := func(action string) {
		t.Helper()
		webtest.WaitTrue(t, ctx, 5*time.Second, fmt.Sprintf(`!document.querySelector(".actions [data-action='%s']").disabled`, action))
		webtest.Do(t, ctx, 5*time.Second, chromedp.Click(fmt.Sprintf(`.actions [data-action=%q]`, action)))
	}
	showing := func(code string) {
		t.Helper()
		webtest.WaitTrue(t, ctx, 5*time.Second, fmt.Sprintf(`document.getElementById("current-code").textContent === %q`, code))
	}
	state := func(code string, want line.State) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for h.ticket(code).State != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s is %s, want %s", code, h.ticket(code).State, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Next calls the first ticket to window 2; start, done.
	click("next")
	showing(codes[0])
	if tk := h.ticket(codes[0]); tk.State != line.Called || tk.Window != "2" {
		t.Fatalf("after next: %+v", tk)
	}
	click("recall")
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("current-info").textContent.includes("已重呼 1 次")`)
	if tk := h.ticket(codes[0]); tk.Recalls != 1 {
		t.Fatalf("after recall: %+v", tk)
	}
	click("start")
	state(codes[0], line.Serving)
	click("done")
	state(codes[0], line.Done)
	showing("—")

	// Call a chosen ticket from the list, with a reason.
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(fmt.Sprintf(`#waiting-list button[data-code=%q]`, codes[4])))
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("dlg-call").open`)
	webtest.Do(t, ctx, 5*time.Second, chromedp.SendKeys("#call-reason", "预约到号"), chromedp.Click("#call-ok"))
	showing(codes[4])
	state(codes[4], line.Called)

	// No-show frees the window; the next one is transferred to C keeping its code.
	click("no-show")
	state(codes[4], line.NoShow)
	click("next")
	showing(codes[1])
	click("transfer")
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("dlg-transfer").open`)
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`#transfer-cats button[data-category="C"]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("current-code").textContent === "—"`)
	if tk := h.ticket(codes[1]); tk.State != line.Waiting || tk.Category != "C" || tk.Code != codes[1] {
		t.Fatalf("after transfer: %+v", tk)
	}

	// Pause and resume with the one button.
	click("pause")
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("dlg-pause").open`)
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`#dlg-pause button[value=ok]`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("winstate").textContent.startsWith("已暂停")`)
	if w := windowState(t, h, "2"); w != "paused" {
		t.Fatalf("window 2 is %s", w)
	}
	click("resume")
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("winstate").textContent.startsWith("开放")`)

	// A call made elsewhere (another counter's software) reaches the page by the stream.
	other := h.api("/v1/windows/1/next", "")
	webtest.WaitTrue(t, ctx, 3*time.Second, fmt.Sprintf(`!document.querySelector("#waiting-list button[data-code='%s']")`, other))

	// The reference picture: a ticket called, a few waiting.
	for _, c := range []string{"A", "B", "A", "B", "A", "A"} {
		h.issue(c)
	}
	h.take(line.Take{Category: "B", Priority: true, Reason: line.ReasonElder})
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.querySelectorAll("#waiting-list button").length === 8`)
	click("next")
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("current-code").textContent !== "—" && document.querySelectorAll("#waiting-list button").length === 7`)
	// Everything fits the tablet's screen: nothing scrolls.
	if !webtest.Eval[bool](t, ctx, `document.documentElement.scrollHeight <= innerHeight && document.documentElement.scrollWidth <= innerWidth &&
		Array.from(document.querySelectorAll(".actions .btn, #message, .bar *")).every(e => e.getBoundingClientRect().bottom <= innerHeight && e.getBoundingClientRect().right <= innerWidth)`) {
		t.Errorf("the counter page does not fit %dx%d", 1280, 800)
	}
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.Screenshot(t, ctx, "../../docs/img/counter.png")

	// Logging out ends the session.
	webtest.Do(t, ctx, 5*time.Second, chromedp.Click(`.logout button`))
	webtest.WaitTrue(t, ctx, 5*time.Second, `location.pathname === "/login"`)
	if got := webtest.Eval[int](t, ctx, `fetch("/v1/queue").then(r => r.status)`); got != 401 {
		t.Fatalf("after logout /v1/queue answers %d", got)
	}
}

func windowState(t *testing.T, h *hall, id string) string {
	s, err := h.line.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range s.Windows {
		if w.Window == id {
			return w.State
		}
	}
	t.Fatalf("no window %s", id)
	return ""
}

func TestTicketPageInChromium(t *testing.T) {
	webtest.NeedBrowser(t)
	h := newHall(t, false, nil)
	h.issue("A")
	h.issue("A")
	tk := h.issue("A")
	ctx := webtest.Browser(t, webtest.Options{Width: 390, Height: 844, Mobile: true})
	webtest.Do(t, ctx, 20*time.Second, chromedp.Navigate(h.ts.URL+"/t/"+strings.ToLower(tk.Lookup)))
	webtest.WaitTrue(t, ctx, 5*time.Second, fmt.Sprintf(`document.getElementById("code").textContent === %q`, tk.Code))
	if got := webtest.Eval[string](t, ctx, `document.getElementById("ahead").textContent`); got != "2 人" {
		t.Fatalf("ahead %q", got)
	}
	if got := webtest.Eval[string](t, ctx, `document.querySelector("meta[http-equiv=refresh]").content`); got != "15" {
		t.Fatalf("refresh %q", got)
	}
	webtest.CheckContrast(t, ctx, 4.5)
	webtest.Screenshot(t, ctx, "../../docs/img/ticket-page.png")

	// Called: after a reload the page names the window.
	h.api("/v1/windows/1/call", fmt.Sprintf(`{"code":%q,"reason":"test"}`, tk.Code))
	webtest.Do(t, ctx, 10*time.Second, chromedp.Reload())
	webtest.WaitTrue(t, ctx, 5*time.Second, `document.getElementById("window").textContent.startsWith("1 号窗口")`)
}

// How long a call takes from the API to the display's screen, over many calls (the benchmark
// in docs/benchmarks.md: p99 goal 500 ms); each must be there within a second.
func TestDisplayLatencyInChromium(t *testing.T) {
	webtest.NeedBrowser(t)
	h := newHall(t, false, nil)
	const n = 40
	for i := range n {
		h.issue(string(rune('A' + i%3)))
	}
	ctx := webtest.Browser(t, webtest.Options{Width: 1920, Height: 1080})
	webtest.Do(t, ctx, 20*time.Second, chromedp.Navigate(h.ts.URL+"/display?key="+displayKey))
	webtest.WaitTrue(t, ctx, 10*time.Second, `document.querySelectorAll("#waiting .cat").length === 3`)
	windows := []string{"1", "2", "3", "4"}
	var took []time.Duration
	for i := range n {
		w := windows[i%len(windows)]
		start := time.Now()
		code := h.api("/v1/windows/"+w+"/next", "")
		if code == "" { // nobody left for this window
			continue
		}
		webtest.WaitTrue(t, ctx, time.Second, fmt.Sprintf(`document.getElementById("now-code").textContent === %q && window.halldShown.length === %d`, code, len(took)+1))
		took = append(took, time.Since(start))
		h.api("/v1/windows/"+w+"/done", "")
	}
	if len(took) < n/2 {
		t.Fatalf("only %d calls made", len(took))
	}
	slices.Sort(took)
	p := func(q float64) time.Duration { return took[int(q*float64(len(took)-1))] }
	t.Logf("%d calls, API request to the display: p50 %v, p99 %v, max %v", len(took), p(0.5), p(0.99), took[len(took)-1])
}

// BenchmarkCallToDisplay: from a counter's "next" through the API to the called code on the
// calling display in a real headless Chromium (SSE, the page's script, the DOM), per call; the
// goal for p99 is 500 ms. There is no physical floor to divide by beyond the loopback round trip
// of the request itself, which is reported as api-ms.
func BenchmarkCallToDisplay(b *testing.B) {
	webtest.NeedBrowser(b)
	h := newHall(b, false, nil)
	ctx := webtest.Browser(b, webtest.Options{Width: 1920, Height: 1080})
	webtest.Do(b, ctx, 20*time.Second, chromedp.Navigate(h.ts.URL+"/display?key="+displayKey))
	webtest.WaitTrue(b, ctx, 10*time.Second, `document.querySelectorAll("#waiting .cat").length === 3`)
	var took, api []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h.issue("A")
		b.StartTimer()
		start := time.Now()
		code := h.api("/v1/windows/1/next", "")
		api = append(api, time.Since(start))
		webtest.WaitTrue(b, ctx, 5*time.Second, fmt.Sprintf(`document.getElementById("now-code").textContent === %q && window.halldShown.length === %d`, code, i+1))
		took = append(took, time.Since(start))
		b.StopTimer()
		h.api("/v1/windows/1/done", "")
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(took)
	slices.Sort(api)
	q := func(ds []time.Duration, f float64) float64 {
		return float64(ds[min(len(ds)-1, int(f*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(took, 0.5), "p50-ms")
	b.ReportMetric(q(took, 0.99), "p99-ms")
	b.ReportMetric(q(api, 0.5), "api-ms")
}
