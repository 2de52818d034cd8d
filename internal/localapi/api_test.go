package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citizenhome/kiosk"
	"citizenhome/kiosk/hours"
	"citizenhome/kiosk/queue"
)

type fakeCore struct {
	devices map[string]kiosk.Device
	locked  bool
	err     error
	got     []string
}

func (f *fakeCore) Devices() map[string]kiosk.Device { return f.devices }
func (f *fakeCore) Alerts() []kiosk.Alert            { return kiosk.Alerts(f.devices) }
func (f *fakeCore) Locked() (bool, string)           { return f.locked, "" }

// The parts a core may have nothing of: no cards, no events, no figures.
func (f *fakeCore) Cards() []kiosk.PresentCard                         { return nil }
func (f *fakeCore) Subscribe(func(kiosk.Event))                        {}
func (f *fakeCore) SubscribeCards(func(kiosk.CardEvent))               {}
func (f *fakeCore) Now() time.Time                                     { return time.Time{} }
func (f *fakeCore) Version() string                                    { return "" }
func (f *fakeCore) Uptime() time.Duration                              { return 0 }
func (f *fakeCore) TicketCounts(context.Context) (queue.Counts, error) { return queue.Counts{}, nil }
func (f *fakeCore) TakeTicketInCategory(_ context.Context, c string, prio bool) (kiosk.Issued, error) {
	f.got = append(f.got, c)
	if f.err != nil {
		return kiosk.Issued{}, f.err
	}
	return kiosk.Issued{Ticket: queue.Ticket{Code: c + "012", WaitingAhead: 4, Priority: prio,
		IssuedAt: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC), LookupCode: "K7Q2M9XA"}}, nil
}

const token = "0123456789abcdef0123456789abcdef"

func do(t *testing.T, s *Server, method, path, auth, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host = "127.0.0.1:7788" // as a client of kioskd's address sends it (not httptest's example.com)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("%s %s: body not JSON: %q", method, path, w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	return w, m
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestHealthzNeedsNoToken(t *testing.T) {
	c := &fakeCore{devices: map[string]kiosk.Device{"printer": {State: kiosk.StateOK}}}
	s := New(c, token)
	w, m := do(t, s, "GET", "/healthz", "", "")
	if w.Code != 200 || m["state"] != "ready" {
		t.Fatalf("%d %v", w.Code, m)
	}
	c.devices["printer"] = kiosk.Device{State: kiosk.StatePaperOut}
	if _, m := do(t, s, "GET", "/healthz", "", ""); m["state"] != "degraded" {
		t.Errorf("paper out: %v", m)
	}
	c.locked = true
	if _, m := do(t, s, "GET", "/healthz", "", ""); m["state"] != "locked" {
		t.Errorf("locked: %v", m)
	}
}

func TestTokenRequiredAndCounted(t *testing.T) {
	c := &fakeCore{}
	s := New(c, token)
	for _, auth := range []string{"", "Bearer wrong", "Basic " + token, "Bearer " + token + "x"} {
		w, m := do(t, s, "POST", "/v1/tickets", auth, `{"category":"A"}`)
		if w.Code != 401 || errCode(m) != "unauthorized" {
			t.Errorf("auth %q: %d %v", auth, w.Code, m)
		}
	}
	if s.unauthorized.Load() != 4 {
		t.Errorf("counted %d refusals, want 4", s.unauthorized.Load())
	}
	if len(c.got) != 0 {
		t.Error("a refused request reached the core")
	}
	if w, _ := do(t, s, "GET", "/v1/nothing", "", ""); w.Code != 401 {
		t.Errorf("unknown endpoint without token: %d", w.Code)
	}
}

func TestTickets(t *testing.T) {
	c := &fakeCore{}
	s := New(c, token)
	w, m := do(t, s, "POST", "/v1/tickets", "Bearer "+token, `{"category":"B","priority":true}`)
	if w.Code != 201 || m["ticket"] != "B012" || m["waiting"] != 4.0 || m["priority"] != true || m["printed"] != true {
		t.Fatalf("%d %v", w.Code, m)
	}
	for _, tc := range []struct {
		err  error
		code int
		ec   string
	}{
		{&kiosk.ClosedError{Status: hours.Status{Reason: hours.AfterClosing}}, 409, "closed"},
		{kiosk.ErrLocked, 409, "locked"},
		{&kiosk.PrinterError{State: kiosk.StatePaperOut}, 503, "printer-paper-out"},
		{kiosk.ErrUnknownCategory, 400, "bad-category"},
		{&kiosk.NumberError{Code: "no-lease-left", Category: "A"}, 503, "no-number"},
		{&kiosk.NumberError{Refused: true, Code: "numbers-exhausted", Category: "A"}, 503, "no-number"},
		{errors.New("disk on fire"), 500, "internal"},
	} {
		c.err = tc.err
		w, m := do(t, s, "POST", "/v1/tickets", "Bearer "+token, `{"category":"A"}`)
		if w.Code != tc.code || errCode(m) != tc.ec {
			t.Errorf("%v: %d %v", tc.err, w.Code, m)
		}
	}
}

func TestBadBodies(t *testing.T) {
	s := New(&fakeCore{}, token)
	for name, body := range map[string]string{
		"not json":   "category=A",
		"unknown":    `{"category":"A","colour":"red"}`,
		"two":        `{"category":"A"}{"category":"B"}`,
		"wrong type": `{"category":1}`,
	} {
		w, m := do(t, s, "POST", "/v1/tickets", "Bearer "+token, body)
		if w.Code != 400 || errCode(m) != "bad-request" {
			t.Errorf("%s: %d %v", name, w.Code, m)
		}
	}
	big := `{"category":"` + strings.Repeat("A", MaxBody) + `"}`
	w, m := do(t, s, "POST", "/v1/tickets", "Bearer "+token, big)
	if w.Code != http.StatusRequestEntityTooLarge || errCode(m) != "too-large" {
		t.Errorf("big body: %d %v", w.Code, m)
	}
}

func TestLoadToken(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "api.token")
	a, err := LoadToken(p)
	if err != nil || len(a) != 64 {
		t.Fatalf("created %q %v", a, err)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	b, err := LoadToken(p)
	if err != nil || a != b {
		t.Errorf("second load %q %v", b, err)
	}
	os.Chmod(p, 0o644)
	if _, err := LoadToken(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable token accepted: %v", err)
	}
	os.WriteFile(p, []byte("short\n"), 0o600)
	if _, err := LoadToken(p); err == nil {
		t.Error("short token accepted")
	}
}

// What no endpoint takes is still a JSON error with a fitting status: 405 (with Allow) for a
// method an endpoint does not take, 404 for a path that is none, and 401 first without the token
// (but for /healthz, which needs none).
func TestUnroutedRequests(t *testing.T) {
	s := New(&fakeCore{}, token)
	cases := []struct {
		method, path, auth string
		code               int
		ec, allow          string
	}{
		{"POST", "/v1/status", "Bearer " + token, 405, "method-not-allowed", "GET"},
		{"DELETE", "/v1/tickets", "Bearer " + token, 405, "method-not-allowed", "POST"},
		{"POST", "/healthz", "", 405, "method-not-allowed", "GET"},
		{"GET", "/v1/nothing", "Bearer " + token, 404, "not-found", ""},
		{"GET", "/elsewhere", "Bearer " + token, 404, "not-found", ""},
		{"GET", "/v1/nothing", "", 401, "unauthorized", ""},
		{"POST", "/v1/status", "Bearer wrong", 401, "unauthorized", ""},
	}
	for _, c := range cases {
		w, m := do(t, s, c.method, c.path, c.auth, "")
		if w.Code != c.code || errCode(m) != c.ec || w.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: %d %v Allow %q, want %d %s Allow %q", c.method, c.path, w.Code, m, w.Header().Get("Allow"), c.code, c.ec, c.allow)
		}
	}
}

// A body announced over 64 KiB is 413 on every endpoint, even one that reads no body.
func TestBigBodyRefusedEverywhere(t *testing.T) {
	s := New(&fakeCore{}, token)
	big := strings.Repeat("x", MaxBody+1)
	for _, ep := range [][2]string{{"GET", "/v1/card"}, {"GET", "/v1/status"}, {"POST", "/v1/tickets"}} {
		w, m := do(t, s, ep[0], ep[1], "Bearer "+token, big)
		if w.Code != http.StatusRequestEntityTooLarge || errCode(m) != "too-large" {
			t.Errorf("%s %s with %d bytes: %d %v", ep[0], ep[1], len(big), w.Code, m)
		}
	}
}

// The scheme's name of the Authorization header is case-insensitive.
func TestBearerSchemeCaseInsensitive(t *testing.T) {
	s := New(&fakeCore{}, token)
	for _, h := range []string{"bearer " + token, "BEARER " + token, "Bearer  " + token} {
		if w, m := do(t, s, "GET", "/v1/status", h, ""); w.Code != 200 {
			t.Errorf("%q: %d %v", h, w.Code, m)
		}
	}
	if w, _ := do(t, s, "GET", "/v1/status", "Basic "+token, ""); w.Code != 401 {
		t.Errorf("Basic scheme: %d", w.Code)
	}
}
