package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/fleet"
	"citizenhome/hall/history"
	"citizenhome/hall/notify"
	"citizenhome/telemetry/wire"
)

// consoleHarness is the harness with a fake fleet, history and auditor, and a crew account.
type consoleHarness struct {
	*harness
	fleet    *fakeFleet
	hist     *fakeHistory
	audit    *fakeAuditor
	channels *fakeChannels
}

// fakeChannels is hall/notify's channels' health as the console reads it.
type fakeChannels struct {
	mu sync.Mutex
	hs []notify.Health
}

func (f *fakeChannels) Health() []notify.Health {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.hs)
}

func (f *fakeChannels) set(hs ...notify.Health) {
	f.mu.Lock()
	f.hs = hs
	f.mu.Unlock()
}

const crewPass = "crew-pass-12345"

// newConsoleHarness starts it at 12:00 on the test day, with kiosks k1 and k2 ready; with
// realClock (the browser tests: the page compares times with its own) at the real time, with
// no kiosk.
func newConsoleHarness(t testing.TB, realClock ...bool) *consoleHarness {
	t.Helper()
	c := &consoleHarness{fleet: newFakeFleet(), hist: &fakeHistory{months: map[string][]history.Availability{}}, audit: &fakeAuditor{},
		channels: &fakeChannels{}}
	real := len(realClock) > 0 && realClock[0]
	if !real {
		now := day.Add(3 * time.Hour) // 12:00 in the hall
		c.fleet.set(readyKiosk("k1", now.Add(-5*time.Second)))
		c.fleet.set(readyKiosk("k2", now.Add(-8*time.Second)))
	}
	c.harness = newHarness(t, func(o *Options) {
		o.Fleet, o.FleetHall, o.History, o.Auditor, o.Channels = c.fleet, testHall, c.hist, c.audit, c.channels
		o.Location = day.Location()
		if real {
			o.Now = time.Now
		}
	})
	c.now.Add(3 * time.Hour)
	if real {
		// The session store's clock: the browser drops a cookie that expired by its own.
		c.now.mu.Lock()
		c.now.t = time.Now()
		c.now.mu.Unlock()
	}
	if err := c.store.AddAccount(context.Background(), "li", access.Crew, crewPass); err != nil {
		t.Fatal(err)
	}
	return c
}

// login opens a browser session and returns its cookie header and CSRF token.
func (h *harness) login(name, pass string) (cookie, csrf string, landed string) {
	h.t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(h.ts.URL+"/login", url.Values{"name": {name}, "password": {pass}})
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	for _, k := range resp.Cookies() {
		if k.Name == cookieName {
			p, err := h.store.Session(context.Background(), k.Value)
			if err != nil {
				h.t.Fatal(err)
			}
			return cookieName + "=" + k.Value, p.CSRF, resp.Header.Get("Location")
		}
	}
	h.t.Fatalf("login %s: %d, no cookie", name, resp.StatusCode)
	return
}

func TestFleetAPI(t *testing.T) {
	h := newConsoleHarness(t)
	h.fleet.paperOut("k2", day.Add(3*time.Hour-time.Minute))
	crew := h.tokens[access.Crew]
	r := h.do("GET", "/v1/fleet", crew, "")
	h.want(r, 200, "")
	var got struct {
		Kiosks []struct {
			Kiosk, State string
			Boot         int64
			Since        *string
			LastSeen     *string `json:"last_seen"`
			Devices      map[string]struct {
				State string
				Since *string
			}
			Alerts   []struct{ Code, Severity, Since string }
			Counters *struct{ Tickets int64 }
		}
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Kiosks) != 2 || got.Kiosks[0].Kiosk != "k1" || got.Kiosks[1].Kiosk != "k2" {
		t.Fatalf("kiosks %s", r.body)
	}
	k1, k2 := got.Kiosks[0], got.Kiosks[1]
	if k1.State != "ready" || k1.Boot != 3 || k1.Since == nil || *k1.Since != "2026-12-07T09:59:55+08:00" ||
		k1.LastSeen == nil || *k1.LastSeen != "2026-12-07T11:59:55+08:00" || k1.Counters == nil || k1.Counters.Tickets != 42 {
		t.Errorf("k1 %+v", k1)
	}
	if len(k1.Alerts) != 0 || len(k1.Devices) != 3 || k1.Devices["printer"].State != "ok" {
		t.Errorf("k1 devices %+v alerts %+v", k1.Devices, k1.Alerts)
	}
	if k2.State != "degraded" || k2.Devices["printer"].State != "paper-out" || *k2.Devices["printer"].Since != "2026-12-07T11:59:00+08:00" ||
		len(k2.Alerts) != 1 || k2.Alerts[0].Code != "printer-paper-out" || k2.Alerts[0].Severity != "error" || k2.Alerts[0].Since != "2026-12-07T11:59:00+08:00" {
		t.Errorf("k2 %s", r.body)
	}
	// A kiosk known only by its will: no status, null counters and since.
	h.fleet.set(fleet.Kiosk{ID: wire.Kiosk{Hall: testHall, Kiosk: "k3"}, State: wire.StateLost, Boot: 2,
		StateMsg: wire.State{State: wire.StateLost, Boot: 2}, Alerts: map[string]wire.Alert{}})
	r = h.do("GET", "/v1/fleet", h.tokens[access.Admin], "")
	if m := r.json(t)["kiosks"].([]any)[2].(map[string]any); m["state"] != "lost" || m["counters"] != nil || m["since"] != nil ||
		m["last_seen"] != nil || len(m["devices"].(map[string]any)) != 0 || len(m["alerts"].([]any)) != 0 {
		t.Errorf("k3 %v", m)
	}
	// Rights: the counter role reads no fleet; no credential is 401 on every fleet route.
	for _, p := range []string{"/v1/fleet", "/v1/alerts", "/v1/kiosks/k1/history", "/console", "/console/alerts", "/console/report",
		"/console/report.csv", "/console/kiosks/k1", "/console/events", "/console/kiosks/k1/confirm?name=lock"} {
		h.want(h.do("GET", p, h.tokens[access.Counter], ""), 403, "forbidden")
		h.want(h.do("GET", p, "", ""), 401, "unauthorized")
	}
	h.want(h.do("POST", "/v1/kiosks/k1/commands", h.tokens[access.Counter], `{"name":"unlock"}`), 403, "forbidden")
	h.want(h.do("POST", "/v1/kiosks/k1/commands", "", `{"name":"unlock"}`), 401, "unauthorized")
	h.want(h.do("POST", "/console/kiosks/k1/commands", "", `name=unlock`), 401, "unauthorized")
	// Wrong methods and unknown routes under the new paths, as everywhere.
	r = h.do("DELETE", "/v1/fleet", crew, "")
	h.want(r, 405, "method-not-allowed")
	if r.header.Get("Allow") != "GET" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	h.want(h.do("GET", "/v1/kiosks/k1/commands", crew, ""), 405, "method-not-allowed")
	h.want(h.do("GET", "/v1/kiosks/k1/nothing", crew, ""), 404, "not-found")
	h.want(h.do("DELETE", "/v1/fleet", "", ""), 401, "unauthorized")
}

func TestNoFleet(t *testing.T) {
	h := newHarness(t)
	crew := h.tokens[access.Crew]
	for _, p := range []string{"/v1/fleet", "/console/events"} {
		h.want(h.do("GET", p, crew, ""), 503, "no-fleet")
	}
	h.want(h.do("POST", "/v1/kiosks/k1/commands", crew, `{"name":"unlock"}`), 503, "no-fleet")
	for _, p := range []string{"/v1/alerts", "/v1/kiosks/k1/history", "/console/report.csv"} {
		h.want(h.do("GET", p, crew, ""), 503, "no-history")
	}
	if r := h.do("GET", "/console", crew, "", "Accept", "text/html"); r.status != 503 || !strings.Contains(string(r.body), "控制台暂不可用") {
		t.Errorf("/console without a fleet: %d %s", r.status, r.body)
	}
}

func ended(t time.Time) *time.Time { return &t }

func TestAlertsAPI(t *testing.T) {
	h := newConsoleHarness(t)
	t0 := day // 09:00
	h.hist.alerts = []history.Alert{
		{ID: 3, Kiosk: "k2", Code: "printer-paper-out", Severity: "error", Device: "printer", Started: t0.Add(2 * time.Hour)},
		{ID: 2, Kiosk: "k1", Code: history.KioskLost, Severity: "error", Started: t0.Add(time.Hour), Ended: ended(t0.Add(70 * time.Minute))},
		{ID: 1, Kiosk: "k1", Code: "printer-paper-low", Severity: "warning", Started: t0, Ended: ended(t0.Add(30 * time.Minute))},
	}
	crew := h.tokens[access.Crew]
	r := h.do("GET", "/v1/alerts", crew, "")
	h.want(r, 200, "")
	var got struct {
		Alerts []struct {
			ID                    int64
			Kiosk, Code, Severity string
			Started               string
			Ended                 *string
		}
	}
	json.Unmarshal(r.body, &got)
	if len(got.Alerts) != 3 || got.Alerts[0].ID != 3 || got.Alerts[0].Ended != nil || got.Alerts[0].Started != "2026-12-07T11:00:00+08:00" ||
		got.Alerts[2].Ended == nil || *got.Alerts[2].Ended != "2026-12-07T09:30:00+08:00" || got.Alerts[1].Kiosk != "k1" {
		t.Fatalf("alerts %s", r.body)
	}
	if !strings.Contains(string(r.body), `"ended":null`) {
		t.Errorf("an open alert's ended is not null: %s", r.body)
	}
	// The filters reach the store as given.
	r = h.do("GET", "/v1/alerts?kiosk=k1&severity=warning&code=PRINTER-paper-low&since=2026-12-01&until=2026-12-07&open=0&limit=5", crew, "")
	h.want(r, 200, "")
	f := h.hist.lastF
	loc := day.Location()
	if f.Kiosk != "k1" || f.Severity != "warning" || f.Code != "printer-paper-low" || f.Open || f.Limit != 5 ||
		!f.Since.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, loc)) || !f.Until.Equal(time.Date(2026, 12, 8, 0, 0, 0, 0, loc)) {
		t.Errorf("filter %+v", f)
	}
	if n := len(r.json(t)["alerts"].([]any)); n != 1 {
		t.Errorf("filtered: %d alerts", n)
	}
	h.want(h.do("GET", "/v1/alerts?open=true", crew, ""), 200, "")
	if !h.hist.lastF.Open || h.hist.lastF.Limit != history.DefaultLimit {
		t.Errorf("open filter %+v", h.hist.lastF)
	}
	for q, code := range map[string]string{
		"since=yesterday": "bad-since", "until=2026-13-01": "bad-until", "since=2026-12-07&until=2026-12-01": "bad-range",
		"kiosk=K%201": "bad-kiosk", "code=a/b": "bad-code", "severity=fatal": "bad-severity", "open=maybe": "bad-open",
		"limit=0": "bad-limit", "limit=1001": "bad-limit", "since=1970-01-01": "bad-since",
	} {
		h.want(h.do("GET", "/v1/alerts?"+q, crew, ""), 400, code)
	}
	h.hist.failWith = errors.New("disk I/O error")
	r = h.do("GET", "/v1/alerts", crew, "")
	h.want(r, 500, "internal")
	if strings.Contains(string(r.body), "disk") {
		t.Errorf("the store's error reached the client: %s", r.body)
	}
}

func TestKioskHistoryAPI(t *testing.T) {
	h := newConsoleHarness(t)
	t0 := day
	h.hist.changes = []history.Change{
		{Kiosk: "k1", At: t0, State: "ready"},
		{Kiosk: "k1", At: t0, Device: "printer", State: "ok"},
		{Kiosk: "k1", At: t0.Add(time.Hour), Device: "printer", State: "paper-out", Detail: "sensor"},
		{Kiosk: "gone", At: t0, State: "lost"},
	}
	crew := h.tokens[access.Crew]
	r := h.do("GET", "/v1/kiosks/k1/history?since=2026-12-07T09:00:00%2B08:00&until=2026-12-07", crew, "")
	h.want(r, 200, "")
	var got struct {
		Kiosk, Since, Until string
		Changes             []struct{ At, Device, State, Detail string }
	}
	json.Unmarshal(r.body, &got)
	if got.Kiosk != "k1" || got.Since != "2026-12-07T09:00:00+08:00" || got.Until != "2026-12-08T00:00:00+08:00" || len(got.Changes) != 3 ||
		got.Changes[2].Device != "printer" || got.Changes[2].State != "paper-out" || got.Changes[2].At != "2026-12-07T10:00:00+08:00" {
		t.Fatalf("history %s", r.body)
	}
	// A kiosk gone from the fleet still has its history; one with neither is 404.
	h.want(h.do("GET", "/v1/kiosks/gone/history", crew, ""), 200, "")
	h.want(h.do("GET", "/v1/kiosks/k9/history", crew, ""), 404, "unknown-kiosk")
	h.want(h.do("GET", "/v1/kiosks/K_1/history", crew, ""), 404, "unknown-kiosk")
	h.want(h.do("GET", "/v1/kiosks/k1/history?since=tomorrow", crew, ""), 400, "bad-since")
}

func TestCommandAPI(t *testing.T) {
	h := newConsoleHarness(t)
	old := commandWait
	commandWait = 300 * time.Millisecond
	t.Cleanup(func() { commandWait = old })
	crew := h.tokens[access.Crew]

	r := h.do("POST", "/v1/kiosks/k1/commands", crew, `{"name":"lock","args":{"message":"  设备维护中  ","force":true}}`)
	h.want(r, 200, "")
	if m := r.json(t); m["id"] != "halld-1" || m["ok"] != true || m["error"] != nil {
		t.Fatalf("lock: %s", r.body)
	}
	sent := h.fleet.commands()
	if len(sent) != 1 || sent[0].Kiosk != "k1" || sent[0].Name != "lock" || sent[0].By != "tok-crew" ||
		string(sent[0].Args) != `{"force":true,"message":"设备维护中"}` {
		t.Fatalf("sent %+v (%s)", sent, sent[0].Args)
	}
	// Refused by the kiosk: 200 with ok false and its error.
	h.fleet.answers["reprint"] = func(id string) (wire.Reply, error) {
		rep := wire.Reply{ID: id, OK: false, Error: "no ticket A012 today", Code: wire.RefuseNotFound}
		return rep, &fleet.CommandError{Reply: rep}
	}
	r = h.do("POST", "/v1/kiosks/k1/commands", crew, `{"name":"reprint","args":{"ticket":"a012"}}`)
	h.want(r, 200, "")
	if m := r.json(t); m["ok"] != false || m["error"] != "no ticket A012 today" || m["code"] != "not-found" || m["id"] != "halld-2" {
		t.Fatalf("refused: %s", r.body)
	}
	// No reply: 504 after the wait, with the command's id.
	h.fleet.answers["selftest"] = func(string) (wire.Reply, error) { return wire.Reply{}, fleet.ErrNoReply }
	start := time.Now()
	r = h.do("POST", "/v1/kiosks/k1/commands", crew, `{"name":"selftest"}`)
	h.want(r, 504, "no-reply")
	if took := time.Since(start); took < commandWait || took > commandWait+2*time.Second {
		t.Errorf("no-reply took %v", took)
	}
	if r.json(t)["id"] != "halld-3" {
		t.Errorf("no-reply: %s", r.body)
	}
	// The broker does not take it: 502.
	h.fleet.answers["rebirth"] = func(string) (wire.Reply, error) { return wire.Reply{}, errors.New("not connected") }
	h.want(h.do("POST", "/v1/kiosks/k1/commands", crew, `{"name":"rebirth"}`), 502, "send-failed")

	// Every one audited, with its outcome.
	want := []string{"tok-crew k1 lock {\"force\":true,\"message\":\"设备维护中\"} ok", "tok-crew k1 reprint {\"ticket\":\"A012\"} refused: not-found",
		"tok-crew k1 selftest no-reply", "tok-crew k1 rebirth send-failed"}
	got := h.audit.all()
	if len(got) != len(want) {
		t.Fatalf("audit %+v", got)
	}
	for i, e := range got {
		if s := e.Who + " " + e.Target + " " + e.Detail + " " + e.Outcome; s != want[i] || e.Action != "kiosk-command" || e.Role != access.Crew || e.Addr != "127.0.0.1" || e.At.IsZero() {
			t.Errorf("audit %d: %+v, want %s", i, e, want[i])
		}
	}

	// Refused before anything is sent.
	for body, code := range map[string]string{
		`{"name":"set-config","args":{"kiosk.idle_timeout":"90s"}}`: "unknown-command",
		`{"name":"reload-catalog"}`:                                 "unknown-command",
		`{}`:                                                        "unknown-command",
		`{"name":"unlock","args":{"force":true}}`:                   "bad-args",
		`{"name":"lock","args":[1]}`:                                "bad-args",
		`{"name":"lock","args":"x"}`:                                "bad-args",
		`{"name":"lock","args":{"message":7}}`:                      "bad-args",
		`{"name":"lock","args":{"message":"` + strings.Repeat("停", 201) + `"}}`: "bad-args",
		`{"name":"lock","args":{"message":"a\u0007b"}}`:                         "bad-args",
		`{"name":"reprint"}`:                            "bad-args",
		`{"name":"reprint","args":{"ticket":"A0123X"}}`: "bad-args",
		`{"name":"reset","args":{"force":"yes"}}`:       "bad-args",
		`[]`: "bad-json",
		``:   "bad-json",
	} {
		h.want(h.do("POST", "/v1/kiosks/k1/commands", crew, body), 400, code)
	}
	h.want(h.do("POST", "/v1/kiosks/k9/commands", crew, `{"name":"unlock"}`), 404, "unknown-kiosk")
	h.want(h.do("POST", "/v1/kiosks/controller/commands", crew, `{"name":"unlock"}`), 404, "unknown-kiosk")
	if n := len(h.fleet.commands()); n != 4 {
		t.Errorf("%d commands sent, want 4", n)
	}
	// A browser session needs its CSRF token; with it, by is the account's name.
	cookie, csrf, _ := h.login("li", crewPass)
	h.want(h.do("POST", "/v1/kiosks/k1/commands", "", `{"name":"unlock"}`, "Cookie", cookie), 403, "csrf")
	h.want(h.do("POST", "/v1/kiosks/k1/commands", "", `{"name":"unlock"}`, "Cookie", cookie, csrfHeader, csrf), 200, "")
	if s := h.fleet.commands(); s[len(s)-1].By != "li" || s[len(s)-1].Name != "unlock" || s[len(s)-1].Args != nil {
		t.Errorf("by session: %+v", s[len(s)-1])
	}
}

func TestConsolePages(t *testing.T) {
	h := newConsoleHarness(t)
	t0 := day
	h.hist.changes = []history.Change{{Kiosk: "k1", At: t0, State: "ready"}, {Kiosk: "k1", At: t0, Device: "printer", State: "ok"},
		{Kiosk: "k1", At: t0.Add(time.Hour), Device: "printer", State: "paper-out"}, {Kiosk: "k1", At: t0.Add(90 * time.Minute), Device: "printer", State: "ok"}}
	h.hist.alerts = []history.Alert{{ID: 1, Kiosk: "k1", Code: "printer-paper-out", Severity: "error", Started: t0.Add(time.Hour), Ended: ended(t0.Add(90 * time.Minute))}}
	h.hist.days = []history.Day{{Kiosk: "k1", Date: "2026-12-06", Tickets: 300, Errors: 2}, {Kiosk: "k1", Date: "2026-12-07", Tickets: 120}}
	h.hist.cmds = []history.Command{{ID: "c1", Kiosk: "k1", Name: "lock", By: "li", Sent: t0.Add(2 * time.Hour), Replied: ended(t0.Add(2*time.Hour + time.Second)), OK: true}}
	h.hist.months["2026-12"] = []history.Availability{
		{Kiosk: "k1", Open: 56 * time.Hour, Ready: 55 * time.Hour, NoPaper: 30 * time.Minute, Tickets: 900, Errors: 3},
		{Kiosk: "k2", Open: 56 * time.Hour, Ready: 40 * time.Hour, Tickets: 700, Errors: 12},
	}
	cookie, csrf, landed := h.login("li", crewPass)
	if landed != "/console" {
		t.Errorf("the crew landed on %q", landed)
	}
	if _, _, l := h.login("wang", "counter-pass-1"); l != "/counter" {
		t.Errorf("the counter landed on %q", l)
	}
	page := func(path string, status int, wants ...string) string {
		t.Helper()
		r := h.do("GET", path, "", "", "Cookie", cookie, "Accept", "text/html")
		if r.status != status {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		for _, w := range wants {
			if !strings.Contains(string(r.body), w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
		return string(r.body)
	}
	if r := h.do("GET", "/", "", "", "Cookie", cookie, "Accept", "text/html"); r.status != 303 || r.header.Get("Location") != "/console" {
		t.Errorf("/ for the crew: %d %v", r.status, r.header.Get("Location"))
	}
	page("/console", 200, `data-kiosk="k1"`, `class="tile level-green"`, "设备总览", `href="/console/kiosks/k2"`, "打印机", "/assets/console.js")
	body := page("/console/kiosks/k1", 200, "<svg class=\"chart timeline\"", "状态时间线", "打印机", "指令记录", "li", "成功 OK",
		`href="/console/kiosks/k1/confirm?name=lock"`, `href="/console"`, "缺纸")
	if !strings.Contains(body, `class="span st-bad"`) {
		t.Errorf("the timeline lacks the paper-out span")
	}
	page("/console/kiosks/k1?range=week", 200, `aria-current="true">一周`)
	page("/console/kiosks/k9", 404, "找不到这台自助机", `href="/console"`)
	page("/console/kiosks/k1/confirm?name=lock", 200, `name="csrf" value="`+csrf+`"`, `name="message"`, `href="/console"`)
	page("/console/kiosks/k1/confirm?name=fly", 404)
	page("/console/alerts", 200, "printer-paper-out", "打印机缺纸", `href="/console"`)
	page("/console/alerts?since=soon", 400, "筛选条件有误")
	page("/console/report?month=2026-12", 200, "2026 年 12 月", "98.2 %", `class="low">71.4 %`, "/console/report.csv?month=2026-12", `href="/console"`)
	page("/console/report?month=12-2026", 400, "月份格式")

	// The CSV: a BOM, the Chinese header, one row a kiosk, an attachment.
	r := h.do("GET", "/console/report.csv?month=2026-12", "", "", "Cookie", cookie)
	h.want(r, 200, "")
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="kiosk-availability-2026-12.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if !bytes.HasPrefix(r.body, []byte("\xef\xbb\xbf")) {
		t.Fatalf("no BOM: %q", r.body[:10])
	}
	recs, err := csv.NewReader(bytes.NewReader(r.body[3:])).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][1] != "自助机(kiosk)" || strings.Join(recs[1], ",") != "2026-12,k1,56.0,55.0,98.2,30,900,3" ||
		strings.Join(recs[2], ",") != "2026-12,k2,56.0,40.0,71.4,0,700,12" {
		t.Fatalf("csv %q %v", recs, err)
	}
	h.want(h.do("GET", "/console/report.csv?month=2026", "", "", "Cookie", cookie), 400, "bad-month")

	// The form's command: CSRF required; then sent by the account, its reply shown.
	formPost := func(form url.Values) reply {
		t.Helper()
		req, _ := http.NewRequest("POST", h.ts.URL+"/console/kiosks/k1/commands", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", cookie)
		req.Header.Set("Accept", "text/html")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return reply{resp.StatusCode, resp.Header, b}
	}
	h.want(formPost(url.Values{"name": {"lock"}, "message": {"维护"}}), 403, "csrf")
	before := len(h.fleet.commands())
	r = formPost(url.Values{"csrf": {csrf}, "name": {"reprint"}, "ticket": {""}})
	if r.status != 400 || !strings.Contains(string(r.body), "请填写号票号码") || len(h.fleet.commands()) != before {
		t.Errorf("reprint without a ticket: %d %s", r.status, r.body)
	}
	r = formPost(url.Values{"csrf": {csrf}, "name": {"lock"}, "message": {"设备维护中，请到 3 号窗口"}, "force": {"1"}})
	if r.status != 200 || !strings.Contains(string(r.body), "已执行") || !strings.Contains(string(r.body), `id="result"`) {
		t.Errorf("lock by form: %d %s", r.status, r.body)
	}
	s := h.fleet.commands()
	if last := s[len(s)-1]; last.By != "li" || last.Name != "lock" || string(last.Args) != `{"force":true,"message":"设备维护中，请到 3 号窗口"}` {
		t.Errorf("sent %+v %s", last, last.Args)
	}

	// A counter account on a crew page: a page saying no, not JSON.
	ccookie, _, _ := h.login("wang", "counter-pass-1")
	r = h.do("GET", "/console", "", "", "Cookie", ccookie, "Accept", "text/html")
	if r.status != 403 || !strings.Contains(string(r.body), "无权使用此页面") || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("counter on /console: %d %s", r.status, r.body)
	}
}

func TestTimelineGeometry(t *testing.T) {
	loc := day.Location()
	from := time.Date(2026, 12, 7, 0, 0, 0, 0, loc)
	to := from.Add(24 * time.Hour)
	now := from.Add(18 * time.Hour)
	plot := tlRight - tlLeft
	changes := []history.Change{
		{Kiosk: "k1", At: from, State: "ready"}, // in force at from
		{Kiosk: "k1", At: from.Add(6 * time.Hour), State: "locked"},
		{Kiosk: "k1", At: from.Add(12 * time.Hour), State: "ready"},
		{Kiosk: "k1", At: from.Add(-2 * time.Hour), Device: "printer", State: "ok"}, // before from: clipped
		{Kiosk: "k1", At: from.Add(9 * time.Hour), Device: "printer", State: "paper-out"},
		{Kiosk: "k1", At: from.Add(9*time.Hour + 30*time.Minute), Device: "printer", State: "ok"},
	}
	alerts := []history.Alert{
		{Code: "printer-paper-out", Severity: "error", Started: from.Add(9 * time.Hour), Ended: ended(from.Add(9*time.Hour + 30*time.Minute))},
		{Code: "kiosk-lost", Severity: "error", Started: from.Add(17 * time.Hour)}, // open: ends at now
	}
	tl := buildTimeline(changes, alerts, from, to, now, loc)
	if len(tl.Rows) != 3 || tl.Rows[0].Label != "状态 State" || tl.Rows[1].Label != "打印机" || tl.Rows[2].Label != "告警 Alerts" {
		t.Fatalf("rows %+v", tl.Rows)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 }
	type sp struct{ x, w float64 }
	check := func(row int, want []sp, classes []string) {
		t.Helper()
		got := tl.Rows[row].Spans
		if len(got) != len(want) {
			t.Fatalf("row %d: %+v", row, got)
		}
		for i := range want {
			if !near(got[i].X, want[i].x) || !near(got[i].W, want[i].w) || got[i].Class != classes[i] {
				t.Errorf("row %d span %d: x %.2f w %.2f %s, want x %.2f w %.2f %s", row, i, got[i].X, got[i].W, got[i].Class, want[i].x, want[i].w, classes[i])
			}
		}
	}
	q := plot / 4 // six hours
	check(0, []sp{{tlLeft, q}, {tlLeft + q, q}, {tlLeft + 2*q, q}}, []string{"st-ready", "st-locked", "st-ready"})
	check(1, []sp{{tlLeft, 1.5 * q}, {tlLeft + 1.5*q, q / 12}, {tlLeft + 1.5*q + q/12, 3*q - 1.5*q - q/12}},
		[]string{"st-ready", "st-bad", "st-ready"})
	check(2, []sp{{tlLeft + 1.5*q, q / 12}, {tlLeft + q/6*17, q / 6}}, []string{"st-bad", "st-bad"})
	if !near(tl.NowX, tlLeft+3*q) {
		t.Errorf("now at %.2f", tl.NowX)
	}
	if len(tl.Ticks) != 9 || tl.Ticks[0].Label != "00:00" || !near(tl.Ticks[4].X, tlLeft+2*q) || tl.Ticks[4].Label != "12:00" {
		t.Errorf("ticks %+v", tl.Ticks)
	}
	// A week: a tick a day; the rows' y grow by a row each.
	wk := buildTimeline(changes, nil, from.AddDate(0, 0, -6), to, now, loc)
	if len(wk.Ticks) != 8 || wk.Ticks[0].Label != "12-01" || wk.Rows[1].Y-wk.Rows[0].Y != tlRowH+tlRowGap {
		t.Errorf("week ticks %+v", wk.Ticks)
	}
	// The axis clamps.
	ax := axis{from: from, to: to, x0: 10, w: 100}
	if ax.x(from.Add(-time.Hour)) != 10 || ax.x(to.Add(time.Hour)) != 110 || !near(ax.x(from.Add(6*time.Hour)), 35) {
		t.Errorf("axis clamps wrong")
	}
}

func TestBarsGeometry(t *testing.T) {
	days := []history.Day{{Date: "2026-12-06", Tickets: 180, Errors: 3}, {Date: "2026-12-07", Tickets: 90, Receipts: 200}}
	bc := buildBars(days, []string{"2026-12-05", "2026-12-06", "2026-12-07"})
	if bc.Max != 200 || len(bc.Groups) != 3 || len(bc.Series) != 5 {
		t.Fatalf("chart %+v", bc)
	}
	h := bcBottom - bcTop
	groupW := (bcRight - bcLeft) / 3
	barW := groupW * 0.8 / 5
	b := bc.Groups[1].Bars[0] // 12-06's tickets: 180 of 200
	if math.Abs(b.H-h*0.9) > 1e-9 || math.Abs(b.Y-(bcBottom-h*0.9)) > 1e-9 || math.Abs(b.X-(bcLeft+groupW+groupW*0.1)) > 1e-9 || math.Abs(b.W-barW) > 1e-9 {
		t.Errorf("bar %+v", b)
	}
	if e := bc.Groups[1].Bars[4]; e.Class != "c-errors" || math.Abs(e.X-(bcLeft+groupW+groupW*0.1+4*barW)) > 1e-9 {
		t.Errorf("errors bar %+v", e)
	}
	if z := bc.Groups[0].Bars[0]; z.H != 0 || z.Y != bcBottom || bc.Groups[0].Label != "12-05" {
		t.Errorf("an empty day %+v", bc.Groups[0])
	}
	if r := bc.Groups[2].Bars[1]; r.H != h || r.Y != bcTop {
		t.Errorf("the top bar %+v", r)
	}
	if g := bc.Grid; len(g) != 5 || g[0].X != bcBottom || g[0].Label != "0" || g[2].Label != "100" || g[4].X != bcTop || g[4].Label != "200" {
		t.Errorf("grid %+v", g)
	}
	for n, want := range map[int64]int64{0: 5, 3: 5, 7: 8, 10: 10, 11: 20, 180: 200, 201: 300, 239: 300, 401: 500, 601: 800, 999: 1000, 1001: 2000} {
		if got := niceMax(n); got != want {
			t.Errorf("niceMax(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestTileLevel(t *testing.T) {
	seen := day
	k := readyKiosk("k1", seen)
	if l := tileLevel(k); l != "green" {
		t.Errorf("ready: %s", l)
	}
	k.Status.Devices["printer"] = wire.Device{State: "paper-low"}
	if l := tileLevel(k); l != "amber" {
		t.Errorf("paper-low: %s", l)
	}
	k.Status.Devices["printer"] = wire.Device{State: "paper-out"}
	if l := tileLevel(k); l != "red" {
		t.Errorf("paper-out: %s", l)
	}
	k = readyKiosk("k1", seen)
	k.Alerts["speaker-offline"] = wire.Alert{Severity: "warning"}
	if l := tileLevel(k); l != "amber" {
		t.Errorf("a warning: %s", l)
	}
	k = readyKiosk("k1", seen)
	k.Status.Devices["speaker"] = wire.Device{State: "offline"}
	if l := tileLevel(k); l != "red" {
		t.Errorf("a device out of use without its alert: %s", l)
	}
	k.Alerts["speaker-offline"] = wire.Alert{Severity: "warning"}
	if l := tileLevel(k); l != "amber" {
		t.Errorf("a speaker offline, a warning: %s", l)
	}
	k.Alerts["id-reader-error"] = wire.Alert{Severity: "error"}
	if l := tileLevel(k); l != "red" {
		t.Errorf("an error alert: %s", l)
	}
	for state, want := range map[string]string{"locked": "blue", "maintenance": "blue", "lost": "red", "disconnected": "red", "init": "gray", "": "gray"} {
		k = readyKiosk("k1", seen)
		k.State = state
		if l := tileLevel(k); l != want {
			t.Errorf("%q: %s, want %s", state, l, want)
		}
	}
	if alertZH("printer-paper-out") != "打印机缺纸" || alertZH("kiosk-lost") != "设备失联" || alertZH("odd-thing") != "odd-thing" ||
		alertZH("help-requested") != "市民呼叫工作人员" || alertZH("staff-pin-lockout") != "工作人员密码多次错误，已锁定" {
		t.Errorf("alert names")
	}
	if durationZH(90*time.Second) != "1 分" || durationZH(26*time.Hour) != "1 天 2 小时" || durationZH(3*time.Hour+5*time.Minute) != "3 小时 5 分" {
		t.Errorf("durations")
	}
}

// parseAlertQuery on any query: a filter whose every field is one the store can take, or a
// *queryError with a code; never a panic.
func FuzzAlertQuery(f *testing.F) {
	for _, s := range []string{"", "kiosk=k1", "since=2026-12-01&until=2026-12-07", "since=2026-12-07T09:00:00%2B08:00", "open=1&severity=error",
		"code=PRINTER-PAPER-OUT", "limit=1000", "limit=-1", "since=0000-01-01", "until=9999-12-31", "kiosk=%00", "since=2026-02-30", "open=on&open=off"} {
		f.Add(s)
	}
	loc := day.Location()
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		fl, err := parseAlertQuery(q, loc)
		if err != nil {
			var qe *queryError
			if !errors.As(err, &qe) || !strings.HasPrefix(qe.code, "bad-") || qe.msg == "" {
				t.Fatalf("%q: %#v", raw, err)
			}
			return
		}
		if fl.Kiosk != "" && !wire.ValidName(fl.Kiosk) || fl.Code != "" && !wire.ValidCode(fl.Code) {
			t.Fatalf("%q: kiosk %q code %q", raw, fl.Kiosk, fl.Code)
		}
		if fl.Severity != "" && fl.Severity != "warning" && fl.Severity != "error" {
			t.Fatalf("%q: severity %q", raw, fl.Severity)
		}
		if fl.Limit < 1 || fl.Limit > MaxAlertLimit {
			t.Fatalf("%q: limit %d", raw, fl.Limit)
		}
		for _, tm := range []time.Time{fl.Since, fl.Until} {
			if !tm.IsZero() && (tm.Year() < 2000 || tm.Year() > 3000) {
				t.Fatalf("%q: time %v", raw, tm)
			}
		}
		if !fl.Since.IsZero() && !fl.Until.IsZero() && !fl.Until.After(fl.Since) {
			t.Fatalf("%q: range %v..%v", raw, fl.Since, fl.Until)
		}
	})
}

// checkCommand on any name and args: normal arguments the kiosk accepts, or a 400.
func FuzzCheckCommand(f *testing.F) {
	for _, s := range []string{`{"message":"维护"}`, `{"ticket":"a012"}`, `{"force":true}`, `null`, ``, `[]`, `{"message":7}`, `{"x":1}`, `{"message":"a\nb"}`} {
		for _, n := range consoleCommandOrder {
			f.Add(n, s)
		}
	}
	f.Fuzz(func(t *testing.T, name, raw string) {
		args, err := checkCommand(name, json.RawMessage(raw))
		if err != nil {
			be, ok := err.(*bodyError)
			if !ok || be.status != 400 || (be.code != "bad-args" && be.code != "unknown-command") {
				t.Fatalf("%q %q: %#v", name, raw, err)
			}
			return
		}
		if _, ok := consoleCommands[name]; !ok {
			t.Fatalf("%q accepted", name)
		}
		if args == nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(args, &m); err != nil || len(m) == 0 {
			t.Fatalf("%q %q: args %s", name, raw, args)
		}
		for k := range m {
			if !strings.Contains(strings.Join(consoleCommands[name], ","), k) {
				t.Fatalf("%q: arg %q passed", name, k)
			}
		}
		if name == "reprint" && !codeRE.MatchString(m["ticket"].(string)) {
			t.Fatalf("ticket %v", m["ticket"])
		}
	})
}

// The fleet page's stream: the tiles at once, then again when the fleet changes.
func TestConsoleStream(t *testing.T) {
	old := tilesEvery
	tilesEvery = 20 * time.Millisecond
	t.Cleanup(func() { tilesEvery = old })
	h := newConsoleHarness(t)
	req, _ := http.NewRequest("GET", h.ts.URL+"/console/events", nil)
	req.Header.Set("Authorization", "Bearer "+h.tokens[access.Crew])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	frames := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev, data string
		for sc.Scan() {
			switch l := sc.Text(); {
			case strings.HasPrefix(l, "event: "):
				ev = l[7:]
			case strings.HasPrefix(l, "data: "):
				data += l[6:] + "\n"
			case l == "":
				if ev == "tiles" {
					frames <- data
				}
				ev, data = "", ""
			}
		}
		close(frames)
	}()
	next := func() string {
		t.Helper()
		select {
		case f, ok := <-frames:
			if !ok {
				t.Fatal("the stream ended")
			}
			return f
		case <-time.After(5 * time.Second):
			t.Fatal("no tiles within 5 s")
		}
		return ""
	}
	first := next()
	if !strings.Contains(first, `data-kiosk="k1" data-level="green"`) || !strings.Contains(first, `data-kiosk="k2" data-level="green"`) {
		t.Fatalf("first tiles %s", first)
	}
	h.fleet.paperOut("k1", day.Add(3*time.Hour))
	if f := next(); !strings.Contains(f, `data-kiosk="k1" data-level="red"`) || !strings.Contains(f, `data-state="paper-out"`) {
		t.Fatalf("after paper-out %s", f)
	}
}

// Run ends with an error when the fleet's change feed closes.
func TestFleetFeedEnds(t *testing.T) {
	h := newHarness(t)
	f := &closingFleet{fakeFleet: newFakeFleet(), feed: make(chan struct{})}
	srv, err := New(Options{Queue: h.q, Access: h.store, Fleet: f, Log: h.srv.log})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(context.Background()) }()
	close(f.feed)
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "fleet's change feed ended") {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run goes on without the fleet's feed")
	}
}

type closingFleet struct {
	*fakeFleet
	feed chan struct{}
}

func (f *closingFleet) Watch() (<-chan struct{}, func()) { return f.feed, func() {} }

// A notification channel that fails is said on every console page (the crew's group chats miss
// the alerts meanwhile), and the alert log shows each channel's health.
func TestConsoleShowsFailingChannels(t *testing.T) {
	h := newConsoleHarness(t)
	cookie, _, _ := h.login("li", crewPass)
	get := func(path string) string {
		t.Helper()
		r := h.do("GET", path, "", "", "Cookie", cookie, "Accept", "text/html")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		return string(r.body)
	}
	sent := day.Add(2 * time.Hour)
	h.channels.set(notify.Health{Channel: "crew-wecom", Kind: notify.WeCom, LastSent: sent},
		notify.Health{Channel: "ops-json", Kind: notify.JSON, LastSent: sent})
	if b := get("/console"); strings.Contains(b, "告警通知发送失败") {
		t.Error("a banner with every channel well")
	}
	b := get("/console/alerts")
	for _, w := range []string{`id="channel-health"`, `data-channel="crew-wecom"`, "企业微信", "正常"} {
		if !strings.Contains(b, w) {
			t.Errorf("the alert log lacks %q", w)
		}
	}
	h.channels.set(notify.Health{Channel: "crew-wecom", Kind: notify.WeCom, LastSent: sent, Pending: 3,
		LastError: "notify: crew-wecom: HTTP 503 Service Unavailable", LastErrorAt: sent.Add(time.Hour)},
		notify.Health{Channel: "ops-json", Kind: notify.JSON, LastSent: sent})
	for _, path := range []string{"/console", "/console/alerts", "/console/report", "/console/kiosks/k1"} {
		if b := get(path); !strings.Contains(b, "告警通知发送失败（crew-wecom）") || strings.Contains(b, "ops-json）") {
			t.Errorf("%s does not say that crew-wecom fails (alone)", path)
		}
	}
	b = get("/console/alerts")
	if !strings.Contains(b, `<tr class="row-error" data-channel="crew-wecom">`) || !strings.Contains(b, "HTTP 503") ||
		strings.Contains(b, `<tr class="row-error" data-channel="ops-json">`) {
		t.Errorf("the failing channel's row:\n%s", b)
	}
}
