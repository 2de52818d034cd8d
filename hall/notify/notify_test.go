package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/history"
	"citizenhome/hall/hours"
	"citizenhome/hall/ledger"
	"citizenhome/hall/ledger/ledgertest"
	"citizenhome/hall/notify"
)

var cst = time.FixedZone("CST", 8*3600)

// t0 is a Monday at 10:00 in the hall, inside the default opening hours.
var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, cst)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// alerts is a history in memory with history.Store's filter semantics.
type alerts struct {
	mu    sync.Mutex
	m     map[int64]history.Alert
	fail  error
	calls int
}

func newAlerts() *alerts { return &alerts{m: map[int64]history.Alert{}} }

func (s *alerts) Alerts(_ context.Context, f history.AlertFilter) ([]history.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail != nil {
		return nil, s.fail
	}
	var out []history.Alert
	for _, a := range s.m {
		switch {
		case f.Open && a.Ended != nil,
			f.Kiosk != "" && a.Kiosk != f.Kiosk,
			f.Code != "" && a.Code != f.Code,
			!f.Since.IsZero() && a.Ended != nil && a.Ended.Before(f.Since),
			!f.Until.IsZero() && !a.Started.Before(f.Until):
			continue
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b history.Alert) int { return b.Started.Compare(a.Started) })
	return out, nil
}

func (s *alerts) open(id int64, kiosk, code, sev, device string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[id] = history.Alert{ID: id, Kiosk: kiosk, Code: code, Severity: sev, Device: device, Started: at}
}

func (s *alerts) end(id int64, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.m[id]
	a.Ended = &at
	s.m[id] = a
}

// receiver is a webhook that records what it gets and can fail its first requests.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []request
	failing  int    // how many of the next requests fail
	mode     string // "500", "errcode" (45009), "refuse" (93000), "timeout", "404"
	answerOK string // the success body
	stop     chan struct{}
}

type request struct {
	Body  map[string]any
	Query url.Values
	At    time.Time
}

func newReceiver(t *testing.T, ok string, clk *clock) *receiver {
	r := &receiver{answerOK: ok, stop: make(chan struct{})}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("receiver: body %q is not JSON: %v", raw, err)
		}
		if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("receiver: Content-Type %q", ct)
		}
		r.mu.Lock()
		r.got = append(r.got, request{Body: body, Query: req.URL.Query(), At: clk.Now()})
		fail, mode := r.failing > 0, r.mode
		if fail {
			r.failing--
		}
		r.mu.Unlock()
		if fail {
			switch mode {
			case "500":
				http.Error(w, "busy", http.StatusInternalServerError)
			case "404":
				http.NotFound(w, req)
			case "errcode":
				io.WriteString(w, `{"errcode":45009,"errmsg":"api freq out of limit"}`)
			case "refuse":
				io.WriteString(w, `{"errcode":93000,"errmsg":"invalid webhook url"}`)
			case "timeout":
				select {
				case <-req.Context().Done():
				case <-r.stop:
				}
			}
			return
		}
		io.WriteString(w, r.answerOK)
	}))
	t.Cleanup(func() { close(r.stop); r.Close() })
	return r
}

func (r *receiver) fail(n int, mode string) {
	r.mu.Lock()
	r.failing, r.mode = n, mode
	r.mu.Unlock()
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// events returns each request's event: for the robots "opened" or "ended" from the text.
func (r *receiver) events() []string {
	var out []string
	for _, q := range r.requests() {
		if e, ok := q.Body["event"].(string); ok {
			out = append(out, e)
			continue
		}
		s, _ := json.Marshal(q.Body)
		if strings.Contains(string(s), "已恢复") {
			out = append(out, "ended")
		} else {
			out = append(out, "opened")
		}
	}
	return out
}

const robotOK = `{"errcode":0,"errmsg":"ok"}`

type fixture struct {
	t   *testing.T
	clk *clock
	src *alerts
	db  *ledger.DB
	n   *notify.Notifier
	o   notify.Options
}

func newFixture(t *testing.T, clk *clock, o notify.Options) *fixture {
	f := &fixture{t: t, clk: clk, src: newAlerts()}
	f.db = ledgertest.Open(t, notify.Migrations)
	o.Now = f.clk.Now
	if o.Jitter == nil {
		o.Jitter = func(d time.Duration) time.Duration { return d }
	}
	if o.Hours.IsZero() {
		o.Hours = hours.Default(cst)
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second
	}
	f.o = o
	f.n = f.newNotifier()
	return f
}

func (f *fixture) newNotifier() *notify.Notifier {
	n, err := notify.New(f.db, f.src, f.o)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// at sets the clock and runs one round.
func (f *fixture) at(t time.Time) {
	f.t.Helper()
	f.clk.Set(t)
	if err := f.n.Step(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func wantEvents(t *testing.T, r *receiver, want ...string) {
	t.Helper()
	if got := r.events(); !slices.Equal(got, want) {
		t.Fatalf("receiver got %v, want %v", got, want)
	}
}

func TestOnceOpenedOnceEnded(t *testing.T) {
	clk := &clock{t: t0}
	wc := newReceiver(t, robotOK, clk)
	dt := newReceiver(t, robotOK, clk)
	js := newReceiver(t, "", clk)
	f := newFixture(t, clk, notify.Options{Hall: "h1", ConsoleURL: "https://halld.example:8443/", Channels: []notify.Channel{
		{Kind: notify.WeCom, URL: wc.URL + "/cgi-bin/webhook/send?key=k"},
		{Kind: notify.DingTalk, URL: dt.URL + "/robot/send?access_token=tok", Secret: "SECb1f0c0ffee"},
		{Kind: notify.JSON, URL: js.URL},
	}})
	f.src.open(1, "k3", "printer-paper-out", "error", "printer", t0)
	f.src.open(2, "k4", "printer-paper-low", "warning", "printer", t0) // ends before its 5 min
	f.at(t0)
	f.at(t0.Add(59 * time.Second))
	for _, r := range []*receiver{wc, dt, js} {
		wantEvents(t, r)
	}
	f.at(t0.Add(time.Minute))
	for i := 0; i < 3; i++ {
		f.at(t0.Add(time.Minute + time.Duration(i)*time.Second))
	}
	for _, r := range []*receiver{wc, dt, js} {
		wantEvents(t, r, "opened")
	}
	f.src.end(2, t0.Add(4*time.Minute))
	f.src.end(1, t0.Add(10*time.Minute))
	for i := 0; i < 3; i++ {
		f.at(t0.Add(10*time.Minute + time.Duration(i)*time.Second))
	}
	for _, r := range []*receiver{wc, dt, js} {
		wantEvents(t, r, "opened", "ended")
	}

	// 企业微信: markdown content with the kiosk, the name, the code and the link.
	w := wc.requests()
	if w[0].Body["msgtype"] != "markdown" {
		t.Fatalf("wecom msgtype %v", w[0].Body["msgtype"])
	}
	content := w[0].Body["markdown"].(map[string]any)["content"].(string)
	for _, s := range []string{"h1 / k3", "出票机缺纸", "printer-paper-out", "出票机（printer）", "2026-12-07 10:00:00", "已持续：1分钟", "https://halld.example:8443/console/kiosks/k3"} {
		if !strings.Contains(content, s) {
			t.Errorf("wecom opened lacks %q:\n%s", s, content)
		}
	}
	ended := w[1].Body["markdown"].(map[string]any)["content"].(string)
	for _, s := range []string{"已恢复", "结束：2026-12-07 10:10:00", "共持续：10分钟"} {
		if !strings.Contains(ended, s) {
			t.Errorf("wecom ended lacks %q:\n%s", s, ended)
		}
	}
	// 钉钉: markdown title and text, signed.
	d := dt.requests()
	md := d[0].Body["markdown"].(map[string]any)
	if d[0].Body["msgtype"] != "markdown" || !strings.Contains(md["title"].(string), "k3 出票机缺纸") || !strings.Contains(md["text"].(string), "出票机缺纸") {
		t.Errorf("dingtalk body %v", d[0].Body)
	}
	for _, q := range d {
		// Signed at the time of sending, in milliseconds.
		ts := q.Query.Get("timestamp")
		if q.Query.Get("access_token") != "tok" || ts != fmt.Sprint(q.At.UnixMilli()) {
			t.Errorf("dingtalk query %v, want timestamp %d", q.Query, q.At.UnixMilli())
		}
		_, sign := notify.Sign("SECb1f0c0ffee", q.At.UnixMilli())
		if want, _ := url.QueryUnescape(sign); q.Query.Get("sign") != want {
			t.Errorf("dingtalk sign %q, want %q", q.Query.Get("sign"), want)
		}
	}
	// JSON: our schema.
	j := js.requests()
	al := j[1].Body["alert"].(map[string]any)
	if j[1].Body["event"] != "ended" || j[1].Body["hall"] != "h1" || j[1].Body["kiosk"] != "k3" || al["id"] != 1.0 ||
		al["code"] != "printer-paper-out" || al["ended"] == nil || j[1].Body["duration_s"] != 600.0 ||
		j[1].Body["url"] != "https://halld.example:8443/console/kiosks/k3" || j[1].Body["name"] != "出票机缺纸" {
		t.Errorf("json ended body %v", j[1].Body)
	}
	if h := f.n.Health(); len(h) != 3 || h[0].Channel != "wecom" || h[0].Pending != 0 || h[0].LastError != "" || h[0].LastSent.IsZero() {
		t.Errorf("health %+v", h)
	}
}

// TestSignExample checks Sign against a signature computed by hand:
// printf '1700000000000\nSECb1f0c0ffee' | openssl dgst -sha256 -hmac SECb1f0c0ffee -binary | base64
// then URL-encoded.
func TestSignExample(t *testing.T) {
	ts, sign := notify.Sign("SECb1f0c0ffee", 1700000000000)
	if ts != "1700000000000" || sign != "e2IK4SKKsrjGdh1vUHfHxyNMiS8fCrZKW%2BeR3pWrBVg%3D" {
		t.Fatalf("Sign = %q, %q", ts, sign)
	}
}

func TestBackoff(t *testing.T) {
	for _, mode := range []string{"500", "errcode", "timeout"} {
		t.Run(mode, func(t *testing.T) {
			clk := &clock{t: t0}
			r := newReceiver(t, robotOK, clk)
			r.fail(3, mode)
			f := newFixture(t, clk, notify.Options{NoDelay: true, MinBackoff: 5 * time.Second, MaxBackoff: 12 * time.Second,
				Timeout: 300 * time.Millisecond, Channels: []notify.Channel{{Kind: notify.WeCom, URL: r.URL}}})
			f.src.open(1, "k1", "id-reader-offline", "error", "id-reader", t0)
			// Attempts at +0 (fails), +5 s (fails), +15 s (fails), +27 s (12 s: the cap).
			for s := 0; s <= 40; s++ {
				f.at(t0.Add(time.Duration(s) * time.Second))
			}
			var at []time.Duration
			for _, q := range r.requests() {
				at = append(at, q.At.Sub(t0))
			}
			want := []time.Duration{0, 5 * time.Second, 15 * time.Second, 27 * time.Second}
			if !slices.Equal(at, want) {
				t.Fatalf("attempts at %v, want %v", at, want)
			}
			h := f.n.Health()[0]
			if h.Pending != 0 || h.LastError != "" || !h.LastSent.Equal(t0.Add(27*time.Second)) || !h.LastErrorAt.Equal(t0.Add(15*time.Second)) {
				t.Fatalf("health %+v", h)
			}
		})
	}
}

func TestHealthWhileFailing(t *testing.T) {
	clk := &clock{t: t0}
	r := newReceiver(t, robotOK, clk)
	r.fail(100, "500")
	f := newFixture(t, clk, notify.Options{NoDelay: true, Channels: []notify.Channel{{Kind: notify.JSON, URL: r.URL}}})
	f.src.open(1, "k1", "printer-error", "error", "printer", t0)
	f.src.open(2, "k2", "printer-error", "error", "printer", t0)
	f.at(t0)
	h := f.n.Health()[0]
	if h.Pending != 2 || !strings.Contains(h.LastError, "500") || !h.LastErrorAt.Equal(t0) {
		t.Fatalf("health %+v", h)
	}
	// The first failure stops the round: the receiver is not hammered with the backlog.
	if n := len(r.requests()); n != 1 {
		t.Fatalf("%d requests in a failing round, want 1", n)
	}
	if strings.Contains(h.LastError, r.URL) {
		t.Fatalf("health shows the URL (it may hold a key): %q", h.LastError)
	}
}

func TestRefusedNotRetriedUntilChanged(t *testing.T) {
	for _, mode := range []string{"refuse", "404"} {
		t.Run(mode, func(t *testing.T) {
			clk := &clock{t: t0}
			r := newReceiver(t, robotOK, clk)
			r.fail(100, mode)
			f := newFixture(t, clk, notify.Options{NoDelay: true, Channels: []notify.Channel{{Name: "crew", Kind: notify.WeCom, URL: r.URL + "/?key=bad"}}})
			f.src.open(1, "k1", history.KioskLost, "error", "", t0)
			f.at(t0)
			f.at(t0.Add(time.Hour))
			f.src.end(1, t0.Add(2*time.Hour))
			f.at(t0.Add(2 * time.Hour))
			f.at(t0.Add(3 * time.Hour))
			if n := len(r.requests()); n != 1 {
				t.Fatalf("%d requests, want 1 (a refusal is not retried; no end without an opening)", n)
			}
			h := f.n.Health()[0]
			if h.Failed != 2 || h.Pending != 0 || h.LastError == "" {
				t.Fatalf("health %+v", h)
			}
			// The operator mends the key: the same channel with a new URL tries again.
			good := newReceiver(t, robotOK, clk)
			f.o.Channels[0].URL = good.URL + "/?key=good"
			f.n = f.newNotifier()
			f.at(t0.Add(4 * time.Hour))
			wantEvents(t, good, "opened", "ended")
			if h := f.n.Health()[0]; h.Failed != 0 || h.Pending != 0 {
				t.Fatalf("health after the mend %+v", h)
			}
		})
	}
}

func TestOutsideHours(t *testing.T) {
	clk := &clock{t: t0}
	week, err := hours.Parse(cst, map[string]string{"weekdays": "09:00-17:00", "weekend": "closed"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	day := func(d, h, m int, s ...int) time.Time { // the 7th and 14th are Mondays
		return time.Date(2026, 12, d, h, m, append(s, 0)[0], 0, cst)
	}
	r := newReceiver(t, "", clk)
	f := newFixture(t, clk, notify.Options{Hours: week, Channels: []notify.Channel{{Kind: notify.JSON, URL: r.URL}}})
	f.src.open(1, "k1", history.KioskLost, "error", "", day(7, 7, 0)) // before opening
	f.src.open(2, "k2", "printer-paper-out", "error", "printer", day(7, 16, 30))
	f.at(day(7, 8, 0))
	f.at(day(7, 9, 0)) // the delay counts from the opening
	wantEvents(t, r)
	f.at(day(7, 9, 1))
	wantEvents(t, r, "opened")
	f.at(day(7, 16, 31))
	wantEvents(t, r, "opened", "opened")
	// Alert 2 ends after closing: its end waits for the morning; alert 1 ends on Saturday and
	// its end waits for Monday.
	f.src.end(2, day(7, 17, 30))
	f.at(day(7, 17, 31))
	f.at(day(8, 8, 59))
	wantEvents(t, r, "opened", "opened")
	f.at(day(8, 9, 0))
	wantEvents(t, r, "opened", "opened", "ended")
	f.src.end(1, day(12, 10, 0))
	f.at(day(12, 10, 0))
	f.at(day(13, 12, 0))
	wantEvents(t, r, "opened", "opened", "ended")
	f.at(day(14, 9, 0))
	wantEvents(t, r, "opened", "opened", "ended", "ended")
	// An alert raised at 16:59 (1 min delay) and still open at closing: 1 minute of it counted,
	// the rest of its delay is Tuesday's first minute; its message waits for Tuesday's opening.
	f.src.open(3, "k3", "card-reader-offline", "error", "card-reader", day(14, 16, 59, 30))
	f.at(day(14, 17, 0))
	f.at(day(15, 9, 0, 29))
	wantEvents(t, r, "opened", "opened", "ended", "ended")
	f.at(day(15, 9, 0, 30))
	wantEvents(t, r, "opened", "opened", "ended", "ended", "opened")
}

func TestOutsideHoursConfigured(t *testing.T) {
	clk := &clock{t: t0}
	week, _ := hours.Parse(cst, map[string]string{"weekdays": "09:00-17:00", "weekend": "closed"}, nil)
	r := newReceiver(t, "", clk)
	f := newFixture(t, clk, notify.Options{Hours: week, OutsideHours: true, Channels: []notify.Channel{{Kind: notify.JSON, URL: r.URL}}})
	night := time.Date(2026, 12, 7, 2, 0, 0, 0, cst)
	f.src.open(1, "k1", history.KioskLost, "error", "", night)
	f.at(night.Add(59 * time.Second))
	wantEvents(t, r)
	f.at(night.Add(time.Minute))
	f.src.end(1, night.Add(2*time.Minute))
	f.at(night.Add(2 * time.Minute))
	wantEvents(t, r, "opened", "ended")
}

func TestRestart(t *testing.T) {
	clk := &clock{t: t0}
	r := newReceiver(t, robotOK, clk)
	r.fail(1, "500")
	f := newFixture(t, clk, notify.Options{NoDelay: true, Channels: []notify.Channel{{Kind: notify.DingTalk, URL: r.URL}}})
	path := f.db.Path()
	f.src.open(1, "k1", "printer-paper-out", "error", "printer", t0)
	f.at(t0) // fails: the retry is due at +5 s
	if n := len(r.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	restart := func() {
		f.db.Close()
		db, err := ledger.Open(path, notify.Migrations)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		f.db = db
		f.n = f.newNotifier()
	}
	restart()
	f.at(t0.Add(4 * time.Second))
	if n := len(r.requests()); n != 1 {
		t.Fatalf("%d requests before the persisted retry time, want 1", n)
	}
	if h := f.n.Health()[0]; h.Pending != 1 {
		t.Fatalf("health after the restart %+v", h)
	}
	f.at(t0.Add(5 * time.Second))
	wantEvents(t, r, "opened", "opened") // the failed attempt and its retry
	restart()
	for s := 6; s < 20; s++ {
		f.at(t0.Add(time.Duration(s) * time.Second))
	}
	wantEvents(t, r, "opened", "opened")
	f.src.end(1, t0.Add(time.Minute))
	f.at(t0.Add(time.Minute))
	restart()
	f.at(t0.Add(2 * time.Minute))
	wantEvents(t, r, "opened", "opened", "ended")
}

func TestEndedWaitsForOpened(t *testing.T) {
	clk := &clock{t: t0}
	r := newReceiver(t, robotOK, clk)
	r.fail(2, "500")
	f := newFixture(t, clk, notify.Options{NoDelay: true, MinBackoff: 10 * time.Second, Channels: []notify.Channel{{Kind: notify.WeCom, URL: r.URL}}})
	f.src.open(1, "k1", "printer-paper-out", "error", "printer", t0)
	f.at(t0)
	f.src.end(1, t0.Add(time.Second))
	for s := 1; s <= 40; s++ {
		f.at(t0.Add(time.Duration(s) * time.Second))
	}
	// opened failed twice, then opened and ended, in that order.
	wantEvents(t, r, "opened", "opened", "opened", "ended")
}

func TestMinSeverity(t *testing.T) {
	clk := &clock{t: t0}
	all := newReceiver(t, "", clk)
	errs := newReceiver(t, "", clk)
	f := newFixture(t, clk, notify.Options{NoDelay: true, Channels: []notify.Channel{
		{Name: "all", Kind: notify.JSON, URL: all.URL},
		{Name: "errors", Kind: notify.JSON, URL: errs.URL, MinSeverity: "error"},
	}})
	f.src.open(1, "k1", "help-requested", "warning", "kiosk", t0)
	f.src.open(2, "k1", history.KioskLost, "error", "", t0)
	f.at(t0)
	f.at(t0.Add(time.Second))
	if len(all.requests()) != 2 || len(errs.requests()) != 1 || errs.requests()[0].Body["alert"].(map[string]any)["code"] != history.KioskLost {
		t.Fatalf("all got %d, errors got %v", len(all.requests()), errs.requests())
	}
}

func TestDelays(t *testing.T) {
	clk := &clock{t: t0}
	r := newReceiver(t, "", clk)
	f := newFixture(t, clk, notify.Options{Delays: notify.Delays{Warning: 3 * time.Minute, Lost: 30 * time.Second},
		Channels: []notify.Channel{{Kind: notify.JSON, URL: r.URL}}})
	f.src.open(1, "k1", "printer-paper-low", "warning", "printer", t0)
	f.src.open(2, "k2", history.KioskLost, "error", "", t0)
	f.src.open(3, "k3", "printer-cover-open", "error", "printer", t0)
	codes := func() []string {
		var out []string
		for _, q := range r.requests() {
			out = append(out, q.Body["kiosk"].(string))
		}
		return out
	}
	for _, c := range []struct {
		at   time.Duration
		want []string
	}{{29 * time.Second, nil}, {30 * time.Second, []string{"k2"}}, {time.Minute, []string{"k2", "k3"}},
		{3*time.Minute - time.Second, []string{"k2", "k3"}}, {3 * time.Minute, []string{"k2", "k3", "k1"}}} {
		f.at(t0.Add(c.at))
		if got := codes(); !slices.Equal(got, c.want) {
			t.Fatalf("at +%v: %v, want %v", c.at, got, c.want)
		}
	}
}

func TestSourceError(t *testing.T) {
	clk := &clock{t: t0}
	f := newFixture(t, clk, notify.Options{Channels: []notify.Channel{{Kind: notify.JSON, URL: "http://127.0.0.1:1"}}})
	f.src.fail = errors.New("disk on fire")
	if err := f.n.Step(context.Background()); !errors.Is(err, notify.ErrSource) {
		t.Fatalf("Step: %v, want ErrSource", err)
	}
}

func TestConfigErrors(t *testing.T) {
	db := ledgertest.Open(t, notify.Migrations)
	for _, o := range []notify.Options{
		{Channels: []notify.Channel{{Kind: "slack", URL: "http://x"}}},
		{Channels: []notify.Channel{{Kind: notify.JSON, URL: "ftp://x"}}},
		{Channels: []notify.Channel{{Kind: notify.JSON, URL: "http://x", MinSeverity: "fatal"}}},
		{Channels: []notify.Channel{{Kind: notify.JSON, URL: "http://x"}, {Kind: notify.JSON, URL: "http://y"}}},
		{Delays: notify.Delays{Warning: -time.Second}},
		{ConsoleURL: "halld:8080"},
	} {
		if _, err := notify.New(db, newAlerts(), o); !errors.Is(err, notify.ErrConfig) {
			t.Errorf("New(%+v): %v, want ErrConfig", o, err)
		}
	}
}

func TestRun(t *testing.T) {
	clk := &clock{t: t0}
	r := newReceiver(t, robotOK, clk)
	f := newFixture(t, clk, notify.Options{NoDelay: true, Poll: 10 * time.Millisecond, OutsideHours: true,
		Channels: []notify.Channel{{Kind: notify.WeCom, URL: r.URL, Text: true}}})
	f.o.Now = time.Now
	f.n = f.newNotifier()
	f.src.open(1, "k1", "printer-paper-out", "error", "printer", time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.n.Run(ctx) }()
	wait := func(n int) {
		deadline := time.Now().Add(5 * time.Second)
		for len(r.requests()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d requests after 5 s, want %d", len(r.requests()), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	wait(1)
	f.src.end(1, time.Now())
	wait(2)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantEvents(t, r, "opened", "ended")
	q := r.requests()[0]
	if q.Body["msgtype"] != "text" || !strings.Contains(q.Body["text"].(map[string]any)["content"].(string), "【自助机告警】k1 出票机缺纸") {
		t.Fatalf("wecom text body %v", q.Body)
	}
}

func TestNames(t *testing.T) {
	for _, c := range [][3]string{
		{"printer-paper-out", "printer", "出票机缺纸"},
		{"printer-paper-low", "printer", "出票机纸将用尽"},
		{"id-reader-offline", "id-reader", "身份证阅读器离线"},
		{"card-reader-error", "card-reader", "市民卡读卡器故障"},
		{history.KioskLost, "", "自助机失联"},
		{"help-requested", "kiosk", "市民呼叫工作人员"},
		{"staff-pin-lockout", "kiosk", "工作人员密码多次错误，已锁定"},
		{"printer-on-fire", "printer", "printer-on-fire"},
		{"scanner-error", "scanner", "scanner-error"},
	} {
		if got := notify.Name(c[0], c[1]); got != c[2] {
			t.Errorf("Name(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
	for d, want := range map[time.Duration]string{
		45 * time.Second: "45秒", 5 * time.Minute: "5分钟", 65 * time.Minute: "1小时5分钟",
		2 * time.Hour: "2小时", 51 * time.Hour: "2天3小时",
	} {
		if got := notify.Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestParseAnswer(t *testing.T) {
	for body, want := range map[string]int{`{"errcode":0,"errmsg":"ok"}`: 0, `{"errcode":93000,"errmsg":"invalid webhook url"}`: 93000} {
		if a, err := notify.ParseAnswer([]byte(body)); err != nil || a.Errcode != want {
			t.Errorf("ParseAnswer(%s) = %+v, %v", body, a, err)
		}
	}
	for _, body := range []string{``, `<html>502</html>`, `{"errmsg":"ok"}`, `{"errcode":"0"}`, `{"errcode":0.5}`, `[]`} {
		if a, err := notify.ParseAnswer([]byte(body)); err == nil {
			t.Errorf("ParseAnswer(%q) = %+v, want an error", body, a)
		}
	}
}

func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{`{"errcode":0,"errmsg":"ok"}`, `{"errcode":93000}`, `{"errcode":1e3}`, `null`, `{"errcode":-1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := notify.ParseAnswer(b)
		if err != nil && a != (notify.Answer{}) {
			t.Fatalf("an error with an answer %+v", a)
		}
		if err == nil {
			// What was accepted has an integer errcode that reads back the same.
			var v struct{ Errcode json.Number }
			if json.Unmarshal(b, &v) == nil && v.Errcode.String() != fmt.Sprint(a.Errcode) {
				t.Fatalf("errcode %q read as %d", v.Errcode, a.Errcode)
			}
		}
	})
}

func TestRemovedChannel(t *testing.T) {
	clk := &clock{t: t0}
	kept := newReceiver(t, "", clk)
	gone := newReceiver(t, "", clk)
	f := newFixture(t, clk, notify.Options{NoDelay: true, Channels: []notify.Channel{
		{Name: "kept", Kind: notify.JSON, URL: kept.URL}, {Name: "gone", Kind: notify.JSON, URL: gone.URL},
	}})
	f.src.open(1, "k1", "printer-paper-out", "error", "printer", t0)
	f.at(t0)
	f.o.Channels = f.o.Channels[:1]
	f.n = f.newNotifier()
	f.src.end(1, t0.Add(time.Minute))
	f.at(t0.Add(time.Minute))
	wantEvents(t, kept, "opened", "ended")
	wantEvents(t, gone, "opened")
	var n int
	if err := f.db.SQL().QueryRow(`SELECT COUNT(*) FROM notify_delivery WHERE channel = 'gone' AND phase = 'ended'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d ended rows for a removed channel (%v), want none", n, err)
	}
}

func TestStopDuringDelivery(t *testing.T) {
	clk := &clock{t: t0}
	r := newReceiver(t, "", clk)
	r.fail(1, "timeout") // holds the request until the client gives up
	f := newFixture(t, clk, notify.Options{NoDelay: true, Timeout: time.Minute, Channels: []notify.Channel{{Kind: notify.JSON, URL: r.URL}}})
	f.src.open(1, "k1", "printer-paper-out", "error", "printer", t0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.n.Step(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(r.requests()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no request")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	var attempts int
	var state string
	var next int64
	if err := f.db.SQL().QueryRow(`SELECT state, attempts, next_at FROM notify_delivery`).Scan(&state, &attempts, &next); err != nil {
		t.Fatal(err)
	}
	if state != "pending" || attempts != 0 || next != t0.UnixNano() {
		t.Fatalf("after a stop mid-delivery: %s, %d attempts, next %v; want pending, 0, due at once", state, attempts, time.Unix(0, next))
	}
	f.at(t0.Add(time.Second)) // the next start delivers it
	wantEvents(t, r, "opened", "opened")
}

// alertList is a fixed alert source.
type alertList struct {
	as  []history.Alert
	err error
}

func (l alertList) Alerts(_ context.Context, f history.AlertFilter) ([]history.Alert, error) {
	return l.as, l.err
}

// Merge joins sources newest first and cuts to the limit; one source's error is the merge's.
func TestMerge(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 12, 7, 9, m, 0, 0, time.UTC) }
	fleet := alertList{as: []history.Alert{{ID: 2, Started: at(30)}, {ID: 1, Started: at(10)}}}
	orders := alertList{as: []history.Alert{{ID: -7, Started: at(20)}, {ID: -3, Started: at(5)}}}
	got, err := notify.Merge(fleet, orders).Alerts(context.Background(), history.AlertFilter{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, a := range got {
		ids = append(ids, a.ID)
	}
	if fmt.Sprint(ids) != "[2 -7 1]" {
		t.Errorf("merged %v, want [2 -7 1]", ids)
	}
	broken := errors.New("ledger closed")
	if _, err := notify.Merge(fleet, alertList{err: broken}).Alerts(context.Background(), history.AlertFilter{}); !errors.Is(err, broken) {
		t.Errorf("a failing source: %v", err)
	}
}
