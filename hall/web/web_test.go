package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/ledger/ledgertest"
)

const testDisplayKey = "display-key-0123456789"

type harness struct {
	t      testing.TB
	q      *fakeQueue
	v      *fakeVoice
	store  *access.Store
	srv    *Server
	ts     *httptest.Server
	tokens map[access.Role]string
	now    *testClock
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newHarness(t testing.TB, mod ...func(*Options)) *harness {
	t.Helper()
	db := ledgertest.Open(t, access.Migrations)
	clk := &testClock{t: day}
	store := access.Open(db, access.Options{Argon2: access.Argon2{Time: 1, Memory: 64, Threads: 1}, Now: clk.Now})
	h := &harness{t: t, q: newFakeQueue(), v: &fakeVoice{}, store: store, tokens: map[access.Role]string{}, now: clk}
	for _, r := range []access.Role{access.Counter, access.Crew, access.Admin} {
		tok, err := store.CreateToken(context.Background(), "tok-"+string(r), r)
		if err != nil {
			t.Fatal(err)
		}
		h.tokens[r] = tok
	}
	if err := store.AddAccount(context.Background(), "wang", access.Counter, "counter-pass-1"); err != nil {
		t.Fatal(err)
	}
	o := Options{Queue: h.q, Voice: h.v, Access: store, HallName: "测试区政务服务中心", DisplayKey: testDisplayKey,
		PublicRateLimit: RateLimit{PerMinute: 6, Burst: 3}, Log: slog.New(slog.DiscardHandler), Now: clk.Now}
	for _, m := range mod {
		m(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	h.ts = httptest.NewServer(srv)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		h.ts.Close()
	})
	return h
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func (r reply) errCode() string {
	var m struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(r.body, &m)
	return m.Error.Code
}

func (r reply) ticketCode() string {
	var m struct{ Ticket struct{ Code string } }
	_ = json.Unmarshal(r.body, &m)
	return m.Ticket.Code
}

// do sends a request; auth is a bearer token, "" for none.
func (h *harness) do(method, path, auth, body string, hdr ...string) reply {
	h.t.Helper()
	req, err := http.NewRequest(method, h.ts.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

func (h *harness) want(r reply, status int, code string) {
	h.t.Helper()
	if r.status != status || (code != "" && r.errCode() != code) {
		h.t.Fatalf("got %d %s, want %d %s", r.status, r.body, status, code)
	}
}

func TestCounterRoutes(t *testing.T) {
	h := newHarness(t)
	c := h.tokens[access.Counter]
	h.q.add("A001", "LOOKUP0001", false)
	h.q.add("A002", "LOOKUP0002", true)
	h.q.add("B001", "LOOKUP0003", false)

	// Refusals before anything is called.
	h.want(h.do("POST", "/v1/windows/1/recall", c, ""), 409, "no-current-ticket")
	h.want(h.do("POST", "/v1/windows/1/start", c, ""), 409, "no-current-ticket")
	h.want(h.do("POST", "/v1/windows/9/next", c, ""), 404, "unknown-window")
	h.want(h.do("POST", "/v1/windows/bad_id/next", c, ""), 400, "bad-window")
	h.want(h.do("POST", "/v1/windows/"+strings.Repeat("x", 17)+"/next", c, ""), 400, "bad-window")

	r := h.do("POST", "/v1/windows/1/next", c, "")
	h.want(r, 200, "")
	if r.ticketCode() != "A001" {
		t.Fatalf("next: %s", r.body)
	}
	tk := r.json(t)["ticket"].(map[string]any)
	if tk["state"] != "called" || tk["window"] != "1" || tk["served_s"] != nil || tk["reason"] != nil || tk["called_at"] == nil {
		t.Fatalf("ticket %v", tk)
	}
	h.want(h.do("POST", "/v1/windows/1/recall", c, ""), 200, "")
	h.want(h.do("POST", "/v1/windows/1/recall", c, ""), 200, "")
	h.want(h.do("POST", "/v1/windows/1/recall", c, ""), 409, "recall-limit")
	h.want(h.do("POST", "/v1/windows/1/start", c, ""), 200, "")
	h.want(h.do("POST", "/v1/windows/1/start", c, ""), 409, "wrong-state")
	if r := h.do("POST", "/v1/windows/1/done", c, ""); r.status != 200 || r.json(t)["ticket"].(map[string]any)["state"] != "done" {
		t.Fatalf("done: %d %s", r.status, r.body)
	}

	// Call a chosen ticket: code and reason required.
	h.want(h.do("POST", "/v1/windows/2/call", c, `{"code":"B001"}`), 400, "invalid-request")
	h.want(h.do("POST", "/v1/windows/2/call", c, `{"reason":"appointment"}`), 400, "invalid-request")
	h.want(h.do("POST", "/v1/windows/2/call", c, `{"code":"Z999","reason":"appointment"}`), 404, "not-found")
	h.want(h.do("POST", "/v1/windows/2/call", c, `{"code":"A001","reason":"appointment"}`), 409, "wrong-state")
	r = h.do("POST", "/v1/windows/2/call", c, `{"code":"b001","reason":"appointment","extra":1}`)
	if r.status != 200 || r.ticketCode() != "B001" {
		t.Fatalf("call: %d %s", r.status, r.body)
	}
	// Transfer keeps the code.
	h.want(h.do("POST", "/v1/windows/2/transfer", c, `{}`), 400, "unknown-category")
	h.want(h.do("POST", "/v1/windows/2/transfer", c, `{"category":"Q"}`), 400, "unknown-category")
	r = h.do("POST", "/v1/windows/2/transfer", c, `{"category":"a"}`)
	if tk := r.json(t)["ticket"].(map[string]any); r.status != 200 || tk["code"] != "B001" || tk["category"] != "A" || tk["state"] != "waiting" {
		t.Fatalf("transfer: %d %s", r.status, r.body)
	}
	// No-show, then its return.
	h.want(h.do("POST", "/v1/windows/1/next", c, ""), 200, "")
	h.want(h.do("POST", "/v1/windows/1/no-show", c, ""), 200, "")
	h.want(h.do("POST", "/v1/windows/1/no-show", c, ""), 409, "no-current-ticket")
	h.want(h.do("POST", "/v1/tickets/A002/return", c, ""), 200, "")
	h.want(h.do("POST", "/v1/tickets/A001/return", c, ""), 409, "wrong-state")
	h.want(h.do("POST", "/v1/tickets/nonsense!/return", c, ""), 404, "not-found")

	// Pause and resume.
	r = h.do("POST", "/v1/windows/1/pause", c, `{"reason":"lunch"}`)
	if m := r.json(t); r.status != 200 || m["state"] != "paused" || m["window"] != "1" {
		t.Fatalf("pause: %d %s", r.status, r.body)
	}
	h.want(h.do("POST", "/v1/windows/1/next", c, ""), 409, "window-paused")
	h.want(h.do("POST", "/v1/windows/1/resume", c, ""), 200, "")
	h.want(h.do("POST", "/v1/windows/1/next", c, ""), 200, "")
	h.want(h.do("POST", "/v1/windows/1/next", c, ""), 409, "wrong-state") // finish the current one first
	h.want(h.do("POST", "/v1/windows/1/done", c, ""), 200, "")
	h.want(h.do("POST", "/v1/windows/1/next", c, ""), 200, "")
	h.want(h.do("POST", "/v1/windows/1/done", c, ""), 200, "")
	// Nobody left: 204, no body.
	r = h.do("POST", "/v1/windows/1/next", c, "")
	if r.status != 204 || len(r.body) != 0 {
		t.Fatalf("empty: %d %q", r.status, r.body)
	}

	// The staff acting is the token's name, for the audit.
	if got := h.q.auditLog()[0]; got != "tok-counter next 1 A001" {
		t.Fatalf("audit %q", got)
	}
	// An admin may operate too.
	h.want(h.do("POST", "/v1/windows/2/pause", h.tokens[access.Admin], ""), 200, "")

	// A queue that fails: 500 without its text.
	h.q.mu.Lock()
	h.q.failAll = errors.New("disk I/O error at /var/lib/halld")
	h.q.mu.Unlock()
	r = h.do("POST", "/v1/windows/1/next", c, "")
	h.want(r, 500, "internal")
	if strings.Contains(string(r.body), "/var/lib") {
		t.Fatalf("internal error leaked: %s", r.body)
	}
}

func TestReads(t *testing.T) {
	h := newHarness(t)
	h.q.add("A001", "LOOKUP0001", true)
	h.q.add("B001", "LOOKUP0002", false)
	for _, role := range []access.Role{access.Counter, access.Crew, access.Admin} {
		r := h.do("GET", "/v1/queue", h.tokens[role], "")
		h.want(r, 200, "")
		var s struct {
			Day        string
			Categories []struct {
				Letter          string
				Waiting         int
				WaitingPriority int `json:"waiting_priority"`
				LastCalled      *string
				AvgServiceS     int `json:"avg_service_s"`
			}
			Windows []struct {
				Window, State string
				Serving       *string
				Categories    []string
			}
		}
		if err := json.Unmarshal(r.body, &s); err != nil {
			t.Fatal(err)
		}
		if s.Day != "2026-12-07" || len(s.Categories) != 2 || s.Categories[0].Waiting != 1 || s.Categories[0].WaitingPriority != 1 ||
			s.Categories[0].AvgServiceS != 300 || s.Categories[0].LastCalled != nil || len(s.Windows) != 2 || s.Windows[1].Categories[1] != "B" {
			t.Fatalf("queue %s", r.body)
		}
	}
	r := h.do("GET", "/v1/tickets?state=waiting&category=b", h.tokens[access.Crew], "")
	var ts struct{ Tickets []map[string]any }
	if err := json.Unmarshal(r.body, &ts); err != nil || len(ts.Tickets) != 1 || ts.Tickets[0]["code"] != "B001" {
		t.Fatalf("tickets: %s", r.body)
	}
	for _, k := range []string{"code", "category", "priority", "reason", "state", "kiosk", "issued_at", "called_at", "window", "recalls", "served_s", "lookup"} {
		if _, ok := ts.Tickets[0][k]; !ok {
			t.Errorf("ticket lacks %q: %v", k, ts.Tickets[0])
		}
	}
	h.want(h.do("GET", "/v1/tickets?state=lost", h.tokens[access.Crew], ""), 400, "bad-state")
	h.want(h.do("GET", "/v1/tickets/A001", h.tokens[access.Counter], ""), 200, "")
	h.want(h.do("GET", "/v1/tickets/A404", h.tokens[access.Counter], ""), 404, "not-found")
	r = h.do("GET", "/v1/numbers/unused?day=2026-12-07", h.tokens[access.Admin], "")
	if r.status != 200 || !strings.Contains(string(r.body), `"code":"A999"`) {
		t.Fatalf("unused: %d %s", r.status, r.body)
	}
	h.want(h.do("GET", "/v1/numbers/unused?day=yesterday", h.tokens[access.Admin], ""), 400, "bad-day")
}

// Every route but the public ones refuses a caller without credentials, unknown ones and wrong
// methods included; roles are held to their rights.
func TestAccess(t *testing.T) {
	h := newHarness(t)
	h.q.add("A001", "LOOKUP0001", false)
	private := []struct{ method, path string }{
		{"GET", "/v1/queue"}, {"GET", "/v1/tickets"}, {"GET", "/v1/tickets/A001"}, {"POST", "/v1/tickets/A001/return"},
		{"GET", "/v1/numbers/unused"}, {"GET", "/v1/events"}, {"GET", "/v1/calls"}, {"GET", "/v1/announcements/1.wav"},
		{"POST", "/logout"}, {"GET", "/counter"}, {"GET", "/display"}, {"GET", "/"},
		{"GET", "/v1/nothing-here"}, {"GET", "/etc/passwd"}, {"DELETE", "/v1/queue"}, {"PUT", "/v1/windows/1/next"},
		{"GET", "/v1/windows/1/next"}, {"POST", "/v1/windows/1/fly"},
	}
	for _, a := range windowActions {
		private = append(private, struct{ method, path string }{"POST", "/v1/windows/1/" + a.name})
	}
	for _, p := range private {
		for _, auth := range []string{"", "hall_wrong", "not-even-a-token"} {
			r := h.do(p.method, p.path, auth, "")
			if r.status != 401 || r.errCode() != "unauthorized" {
				t.Errorf("%s %s with %q: %d %s", p.method, p.path, auth, r.status, r.body)
			}
		}
		// A wrong display key is no credential either.
		if r := h.do(p.method, p.path+"?key=wrong-key-0123456789", "", ""); r.status != 401 {
			t.Errorf("%s %s with a wrong key: %d", p.method, p.path, r.status)
		}
	}
	// A browser asking for a page is sent to the login, whatever the path.
	for _, p := range []string{"/counter", "/nowhere"} {
		r := h.do("GET", p, "", "", "Accept", "text/html", "Cookie", "halld_session=ended-long-ago")
		if r.status != 303 || r.header.Get("Location") != "/login?next="+url.QueryEscape(p) {
			t.Errorf("page %s: %d %v", p, r.status, r.header)
		}
	}
	if r := h.do("GET", "/display?key=wrong-key-0123456789", "", "", "Accept", "text/html"); r.status != 401 || !strings.Contains(string(r.body), "显示屏密钥无效") {
		t.Errorf("display with a wrong key: %d %s", r.status, r.body)
	}
	// With credentials, unknown routes are 404 and wrong methods 405.
	c := h.tokens[access.Counter]
	h.want(h.do("GET", "/v1/nothing-here", c, ""), 404, "not-found")
	r := h.do("DELETE", "/v1/queue", c, "")
	h.want(r, 405, "method-not-allowed")
	if r.header.Get("Allow") != "GET" {
		t.Fatalf("Allow %q", r.header.Get("Allow"))
	}
	// Roles.
	h.want(h.do("POST", "/v1/windows/1/next", h.tokens[access.Crew], ""), 403, "forbidden")
	h.want(h.do("POST", "/v1/tickets/A001/return", h.tokens[access.Crew], ""), 403, "forbidden")
	key := "?key=" + testDisplayKey
	for _, p := range []string{"/v1/queue", "/v1/tickets", "/v1/tickets/A001", "/v1/numbers/unused", "/counter"} {
		h.want(h.do("GET", p+key, "", ""), 403, "forbidden")
	}
	h.want(h.do("POST", "/v1/windows/1/next"+key, "", ""), 403, "forbidden")
	if r := h.do("GET", "/counter", h.tokens[access.Crew], "", "Accept", "text/html"); r.status != 403 || !strings.Contains(string(r.body), "无权使用此页面") {
		t.Errorf("the counter page for the crew: %d %s", r.status, r.body)
	}
	h.want(h.do("GET", "/display"+key, "", ""), 200, "")
	h.want(h.do("GET", "/v1/calls"+key, "", ""), 200, "")
	h.want(h.do("GET", "/v1/nothing"+key, "", ""), 404, "not-found")
	// A revoked token stops at once.
	if err := h.store.RevokeToken(context.Background(), "tok-counter"); err != nil {
		t.Fatal(err)
	}
	h.want(h.do("GET", "/v1/queue", c, ""), 401, "unauthorized")
	// The public routes need nothing.
	h.want(h.do("GET", "/v1/public/tickets/LOOKUP0001", "", ""), 200, "")
	h.want(h.do("GET", "/login", "", ""), 200, "")
	h.want(h.do("GET", "/assets/hall.css", "", ""), 200, "")
	if r := h.do("GET", "/assets/", "", ""); r.status != 404 {
		t.Errorf("the assets' listing: %d", r.status)
	}
}

func TestDisplayKeyless(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.DisplayKey = "" })
	h.want(h.do("GET", "/display?key=", "", ""), 401, "unauthorized")
	h.want(h.do("GET", "/display?key="+testDisplayKey, "", ""), 401, "unauthorized")
	if _, err := New(Options{Queue: h.q, Access: h.store, DisplayKey: "short"}); !errors.Is(err, access.ErrInvalid) {
		t.Fatalf("short display key: %v", err)
	}
}

func TestBodies(t *testing.T) {
	h := newHarness(t)
	h.q.add("A001", "LOOKUP0001", false)
	c := h.tokens[access.Counter]
	for _, body := range []string{"", "null", "[]", `"x"`, "{", `{"code":"A001","reason":"x"} {}`, `{"code":1,"reason":"x"}`, "{\"code\":\"A001\",\"reason\":\"x\"", "\x00"} {
		h.want(h.do("POST", "/v1/windows/1/call", c, body), 400, "bad-json")
	}
	h.want(h.do("POST", "/v1/windows/1/call", c, `{"code":"A001","reason":"`+strings.Repeat("x", MaxBody)+`"}`), 413, "too-large")
	// Unknown fields are ignored.
	h.want(h.do("POST", "/v1/windows/1/call", c, `{"code":"A001","reason":"appointment","v":2,"extra":{"a":[1]}}`), 200, "")
	// pause takes an empty body.
	h.want(h.do("POST", "/v1/windows/1/pause", c, ""), 200, "")
}

func TestSessionCookieAndCSRF(t *testing.T) {
	h := newHarness(t)
	h.q.add("A001", "LOOKUP0001", false)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path, ctype, body string, hdr ...string) *http.Response {
		req, _ := http.NewRequest("POST", h.ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	form := func(v url.Values) string { return v.Encode() }
	const formType = "application/x-www-form-urlencoded"

	resp := post("/login", formType, form(url.Values{"name": {"wang"}, "password": {"wrong-password"}}))
	if resp.StatusCode != 401 || len(resp.Cookies()) != 0 {
		t.Fatalf("wrong password: %d %v", resp.StatusCode, resp.Cookies())
	}
	resp = post("/login", formType, form(url.Values{"name": {"wang"}, "password": {"counter-pass-1"}, "next": {"//evil.example/x"}}),
		"Origin", "http://evil.example")
	if resp.StatusCode != 403 {
		t.Fatalf("cross-site login: %d", resp.StatusCode)
	}
	resp = post("/login", formType, form(url.Values{"name": {"wang"}, "password": {"counter-pass-1"}, "next": {"//evil.example/x"}}))
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/counter" {
		t.Fatalf("login: %d %v", resp.StatusCode, resp.Header)
	}
	var ck *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == cookieName {
			ck = k
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure || ck.Expires.IsZero() {
		t.Fatalf("cookie %+v; raw %q", ck, resp.Header.Values("Set-Cookie"))
	}
	cookie := "halld_session=" + ck.Value

	// The counter page carries the session's CSRF token.
	r := h.do("GET", "/counter", "", "", "Cookie", cookie)
	h.want(r, 200, "")
	sessP, err := h.store.Session(context.Background(), ck.Value)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.body), `data-csrf="`+sessP.CSRF+`"`) {
		t.Fatalf("page lacks the CSRF token")
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	// Reads need no CSRF token; state changes do.
	h.want(h.do("GET", "/v1/queue", "", "", "Cookie", cookie), 200, "")
	h.want(h.do("POST", "/v1/windows/1/next", "", "", "Cookie", cookie), 403, "csrf")
	h.want(h.do("POST", "/v1/windows/1/next", "", "", "Cookie", cookie, csrfHeader, "forged"), 403, "csrf")
	r = h.do("POST", "/v1/windows/1/next", "", "", "Cookie", cookie, csrfHeader, sessP.CSRF)
	if r.status != 200 || r.ticketCode() != "A001" {
		t.Fatalf("next by session: %d %s", r.status, r.body)
	}
	if a := h.q.auditLog(); a[len(a)-1] != "wang next 1 A001" {
		t.Fatalf("audit %q", a[len(a)-1])
	}
	// Logout: CSRF (a form field) required; then the session is gone.
	resp = post("/logout", formType, "", "Cookie", cookie)
	if resp.StatusCode != 403 {
		t.Fatalf("logout without csrf: %d", resp.StatusCode)
	}
	resp = post("/logout", formType, form(url.Values{"csrf": {sessP.CSRF}}), "Cookie", cookie)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/login" {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if cs := resp.Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Fatalf("logout cookie %v", cs)
	}
	h.want(h.do("GET", "/v1/queue", "", "", "Cookie", cookie), 401, "unauthorized")

	// Throttled after repeated failures: 429 with Retry-After.
	for range 5 {
		post("/login", formType, form(url.Values{"name": {"wang"}, "password": {"guess-guess"}}))
	}
	resp = post("/login", formType, form(url.Values{"name": {"wang"}, "password": {"counter-pass-1"}}))
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("throttled: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestSecureCookieOption(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.SecureCookie = true })
	req, _ := http.NewRequest("POST", h.ts.URL+"/login", strings.NewReader(url.Values{"name": {"wang"}, "password": {"counter-pass-1"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cs := resp.Cookies(); len(cs) != 1 || !cs[0].Secure || !cs[0].HttpOnly {
		t.Fatalf("cookies %v", cs)
	}
}

func TestPublic(t *testing.T) {
	h := newHarness(t)
	h.q.add("A001", "7K3M9Q2D1C", false)
	h.q.add("A002", "8K3M9Q2D1C", false)
	r := h.do("GET", "/v1/public/tickets/8k3m9q2d1c", "", "")
	h.want(r, 200, "")
	m := r.json(t)
	if m["code"] != "A002" || m["state"] != "waiting" || m["waiting_ahead"] != 1.0 || m["eta_s"] != 300.0 || m["window"] != nil || len(m) != 5 {
		t.Fatalf("public %s", r.body)
	}
	h.want(h.do("GET", "/v1/public/tickets/NOSUCHCODE", "", ""), 404, "not-found")
	h.want(h.do("GET", "/v1/public/tickets/x", "", ""), 404, "not-found")
	h.want(h.do("GET", "/v1/public/tickets/8K3M9Q2D1C", "", ""), 429, "rate-limited") // burst 3 used

	// Another address has its own allowance; after a while this one gets more.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/t/7K3M9Q2D1C", nil)
	req.RemoteAddr = "192.0.2.9:5555"
	h.srv.ServeHTTP(rec, req)
	page := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(page, "A001") || !strings.Contains(page, `http-equiv="refresh"`) ||
		!strings.Contains(page, "等候中") || rec.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("page %d %s", rec.Code, page)
	}
	if strings.Contains(page, "k1") {
		t.Fatalf("the page names the kiosk: %s", page)
	}
	h.now.Add(10 * time.Second) // 6 a minute: one more
	h.want(h.do("GET", "/v1/public/tickets/7K3M9Q2D1C", "", ""), 200, "")
	r = h.do("GET", "/t/7K3M9Q2D1C", "", "")
	if r.status != 429 || r.header.Get("Retry-After") != "10" || !strings.Contains(string(r.body), "请稍后再试") {
		t.Fatalf("limited page: %d %v", r.status, r.header)
	}

	// Called: the window shows.
	h.now.Add(time.Minute)
	if _, err := h.q.Next(context.Background(), "1", "x"); err != nil {
		t.Fatal(err)
	}
	r = h.do("GET", "/t/7K3M9Q2D1C", "", "")
	if r.status != 200 || !strings.Contains(string(r.body), "1 号窗口") || !strings.Contains(string(r.body), "请到窗口办理") {
		t.Fatalf("called page: %d %s", r.status, r.body)
	}
	r = h.do("GET", "/t/UNKNOWNCODE", "", "")
	if r.status != 404 || !strings.Contains(string(r.body), "找不到") {
		t.Fatalf("unknown page: %d", r.status)
	}
}

// sseReader reads events from a stream.
type sseReader struct {
	t    testing.TB
	resp *http.Response
	ev   chan [3]string // name, id, data
}

func (h *harness) stream(auth, query string, hdr ...string) *sseReader {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", h.ts.URL+"/v1/events"+query, nil)
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		h.t.Fatalf("events: %d %v", resp.StatusCode, resp.Header)
	}
	s := &sseReader{t: h.t, resp: resp, ev: make(chan [3]string, 100)}
	h.t.Cleanup(func() { cancel(); resp.Body.Close() })
	go func() {
		sc := bufio.NewScanner(resp.Body)
		var e [3]string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e[0] != "" {
					s.ev <- e
				}
				e = [3]string{}
			case strings.HasPrefix(line, "event: "):
				e[0] = line[7:]
			case strings.HasPrefix(line, "id: "):
				e[1] = line[4:]
			case strings.HasPrefix(line, "data: "):
				e[2] = line[6:]
			}
		}
		close(s.ev)
	}()
	return s
}

// next returns the next event of name, skipping others, within d.
func (s *sseReader) next(name string, d time.Duration) (id, data string) {
	s.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case e, ok := <-s.ev:
			if !ok {
				s.t.Fatalf("stream ended waiting for %s", name)
			}
			if e[0] == name {
				return e[1], e[2]
			}
		case <-deadline:
			s.t.Fatalf("no %s event within %v", name, d)
		}
	}
}

func TestEvents(t *testing.T) {
	h := newHarness(t)
	for _, c := range []string{"A001", "A002", "A003"} {
		h.q.add(c, "L"+c+"XXXXX", false)
	}
	tok := h.tokens[access.Counter]
	s := h.stream(tok, "")
	_, data := s.next("queue", 2*time.Second)
	if !strings.Contains(data, `"waiting":3`) {
		t.Fatalf("first queue event %s", data)
	}
	d := h.stream("", "?key="+testDisplayKey) // the display's stream
	d.next("queue", 2*time.Second)

	h.want(h.do("POST", "/v1/windows/1/next", tok, ""), 200, "")
	h.want(h.do("POST", "/v1/windows/1/recall", tok, ""), 200, "")
	h.want(h.do("POST", "/v1/windows/2/next", tok, ""), 200, "")
	for _, st := range []*sseReader{s, d} {
		for i, want := range []string{`"code":"A001","window":"1"`, `"code":"A001","window":"1"`, `"code":"A002","window":"2"`} {
			id, data := st.next("call", 2*time.Second)
			var c callJSON
			if err := json.Unmarshal([]byte(data), &c); err != nil {
				t.Fatal(err)
			}
			if id != itoa(i+1) || !strings.Contains(data, want) || c.Recall != (i == 1) || c.Announce != "/v1/announcements/"+itoa(i+1)+".wav" || c.At == "" {
				t.Fatalf("call %d: id %s %s", i, id, data)
			}
		}
	}
	_, data = s.next("queue", 2*time.Second)
	if !strings.Contains(data, `"waiting":1`) {
		// a queue event between the calls may still say 2: the next must say 1
		_, data = s.next("queue", 2*time.Second)
		if !strings.Contains(data, `"waiting":1`) {
			t.Fatalf("queue after calls %s", data)
		}
	}

	// A client reconnecting with Last-Event-ID gets the calls it missed, then live ones.
	re := h.stream(tok, "", "Last-Event-ID", "1")
	for _, want := range []string{"2", "3"} {
		if id, _ := re.next("call", 2*time.Second); id != want {
			t.Fatalf("replayed id %s, want %s", id, want)
		}
	}
	h.want(h.do("POST", "/v1/windows/2/recall", tok, ""), 200, "")
	if id, _ := re.next("call", 2*time.Second); id != "4" {
		t.Fatalf("live after replay: %s", id)
	}

	// /v1/calls: after an id, and the latest.
	r := h.do("GET", "/v1/calls?after=2&key="+testDisplayKey, "", "")
	var cs struct{ Calls []callJSON }
	if err := json.Unmarshal(r.body, &cs); err != nil || len(cs.Calls) != 2 || cs.Calls[0].ID != 3 || cs.Calls[1].ID != 4 {
		t.Fatalf("calls after 2: %s", r.body)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		r = h.do("GET", "/v1/calls?limit=2", tok, "")
		if err := json.Unmarshal(r.body, &cs); err != nil {
			t.Fatal(err)
		}
		if len(cs.Calls) == 2 && cs.Calls[0].ID == 3 && cs.Calls[1].ID == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("latest calls: %s", r.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.want(h.do("GET", "/v1/calls?after=-1", tok, ""), 400, "bad-after")
	h.want(h.do("GET", "/v1/calls?limit=0", tok, ""), 400, "bad-limit")
}

// Queue events come at most once per queueEvery however often the queue changes.
func TestQueueEventsThrottled(t *testing.T) {
	h := newHarness(t)
	tok := h.tokens[access.Counter]
	s := h.stream(tok, "")
	s.next("queue", 2*time.Second)
	start := time.Now()
	stop := time.After(2500 * time.Millisecond)
	n := 0
	var times []time.Duration
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	i := 0
loop:
	for {
		select {
		case <-ticker.C:
			i++
			h.q.add("B"+pad3(i), "LB"+pad3(i)+"XXXXX", false)
		case e := <-s.ev:
			if e[0] == "queue" {
				n++
				times = append(times, time.Since(start))
			}
		case <-stop:
			break loop
		}
	}
	if n < 2 || n > 3 {
		t.Fatalf("%d queue events in 2.5 s of changes every 20 ms: %v", n, times)
	}
	for j := 1; j < len(times); j++ {
		if gap := times[j] - times[j-1]; gap < 900*time.Millisecond {
			t.Fatalf("queue events %v apart: %v", gap, times)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func pad3(i int) string { s := itoa(i); return strings.Repeat("0", 3-len(s)) + s }

func TestAnnouncements(t *testing.T) {
	h := newHarness(t)
	h.q.add("A001", "LA001XXXXX", false)
	tok := h.tokens[access.Counter]
	h.want(h.do("POST", "/v1/windows/1/next", tok, ""), 200, "")
	for range 2 {
		r := h.do("GET", "/v1/announcements/1.wav?key="+testDisplayKey, "", "")
		if r.status != 200 || r.header.Get("Content-Type") != "audio/wav" || string(r.body) != "RIFF fake A001 1" {
			t.Fatalf("announcement: %d %v %q", r.status, r.header, r.body)
		}
	}
	if len(h.v.asked) != 1 {
		t.Fatalf("made %d times: %v", len(h.v.asked), h.v.asked)
	}
	h.want(h.do("GET", "/v1/announcements/2.wav", tok, ""), 404, "not-found")
	h.want(h.do("GET", "/v1/announcements/x.wav", tok, ""), 404, "not-found")
	h.want(h.do("GET", "/v1/announcements/1.mp3", tok, ""), 404, "not-found")

	quiet := newHarness(t, func(o *Options) { o.Voice = nil })
	quiet.q.add("A001", "LA001XXXXX", false)
	quiet.want(quiet.do("POST", "/v1/windows/1/next", quiet.tokens[access.Counter], ""), 200, "")
	quiet.want(quiet.do("GET", "/v1/announcements/1.wav", quiet.tokens[access.Counter], ""), 503, "no-voice")
}

// An http.Server's Shutdown ends the event streams instead of waiting for them.
func TestShutdownEndsStreams(t *testing.T) {
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h.srv}
	go hs.Serve(ln)
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+h.tokens[access.Crew])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ended := make(chan struct{})
	go func() { io.Copy(io.Discard, resp.Body); close(ended) }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end")
	}
}
