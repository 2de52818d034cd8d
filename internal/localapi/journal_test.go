package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/kiosktest"
	"citizenhome/kiosk/store"
)

type jsonLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *jsonLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *jsonLog) take(t *testing.T) (lines []map[string]any, raw string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	raw = l.b.String()
	l.b.Reset()
	for _, s := range strings.Split(strings.TrimSpace(raw), "\n") {
		if s == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("log line %q: %v", s, err)
		}
		lines = append(lines, m)
	}
	return lines, raw
}

// A refused token is logged at once, as a warning naming the remote address and the endpoint,
// never the token; a flood after it is one line a minute with its count; none is left out.
func TestRefusedTokensLogged(t *testing.T) {
	log := &jsonLog{}
	clk := kiosktest.NewClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	s := New(&fakeCore{}, token, WithLog(slog.New(slog.NewJSONHandler(log, nil))), withClock(clk.Now, clk.AfterFunc))
	const wrong = "Bearer wrong-token-0123456789-SECRET"
	refuse := func(auth, path, remote string) {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		req.Host = "127.0.0.1:7788"
		req.RemoteAddr = remote
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 401 {
			t.Fatalf("GET %s with %q: %d", path, auth, w.Code)
		}
	}
	refuse(wrong, "/v1/card", "192.0.2.7:51000")
	lines, raw := log.take(t)
	if len(lines) != 1 {
		t.Fatalf("first refusal: %d lines:\n%s", len(lines), raw)
	}
	l := lines[0]
	if l["level"] != "WARN" || l["remote"] != "192.0.2.7:51000" || l["endpoint"] != "GET /v1/card" || l["reason"] != "wrong token" || l["count"] != 1.0 {
		t.Errorf("first refusal: %v", l)
	}
	if strings.Contains(raw, "wrong-token") || strings.Contains(raw, "SECRET") {
		t.Errorf("the token is in the log: %s", raw)
	}

	// A hundred more within the minute, one of them to a path that is no endpoint (the caller's
	// own text, not repeated in the log).
	for range 99 {
		clk.Add(500 * time.Millisecond)
		refuse("", "/v1/status", "192.0.2.8:4000")
	}
	refuse(wrong, "/v1/Zhang-San-410105198503071234", "192.0.2.9:4001")
	if lines, raw := log.take(t); len(lines) != 0 {
		t.Fatalf("lines within the minute:\n%s", raw)
	}
	clk.Add(time.Minute)
	lines, raw = log.take(t)
	if len(lines) != 1 || lines[0]["count"] != 100.0 || lines[0]["remote"] != "192.0.2.9:4001" || lines[0]["endpoint"] != "unknown" {
		t.Fatalf("summary: %v\n%s", lines, raw)
	}
	if strings.Contains(raw, "Zhang") || strings.Contains(raw, "410105") {
		t.Errorf("the caller's path is in the log: %s", raw)
	}
	if s.unauthorized.Load() != 101 {
		t.Errorf("counted %d, want 101", s.unauthorized.Load())
	}
	// A unix socket's caller has no address.
	clk.Add(time.Hour)
	refuse("", "/v1/status", "")
	if lines, _ := log.take(t); len(lines) != 1 || lines[0]["remote"] != "unix socket" || lines[0]["reason"] != "no token" {
		t.Errorf("unix socket: %v", lines)
	}
}

// statusPrinter is a printer whose status error the test sets; these tests print nothing.
func statusPrinter(err error) *kiosktest.Printer {
	p := kiosktest.NewPrinter(kiosktest.Ready)
	p.Set(kiosktest.Ready, err, errors.New("not in this test"))
	return p
}

// realCore is a kiosk core on a temporary store, its clock settable.
func realCore(t *testing.T, p kiosk.Printer) (*kiosk.Kiosk, *kiosktest.Clock) {
	t.Helper()
	cfg := config.Default()
	cfg.Kiosk.Store = filepath.Join(t.TempDir(), "kiosk.db")
	st, err := store.Open(cfg.Kiosk.Store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := kiosktest.NewClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	k, err := kiosk.New(context.Background(), kiosk.Options{Config: cfg, Store: st, Catalog: catalog.NewHolder(catalog.Demo()),
		Printer: p, Now: clk.Now, Version: "test", Log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return k, clk
}

// Without telemetry, /v1/status answers from the core: an idle start has no error and an uptime
// that grows; a printer that goes offline has its alert while it lasts, and the state degraded.
func TestStatusFromCore(t *testing.T) {
	p := statusPrinter(nil)
	k, clk := realCore(t, p)
	s := New(k, token, WithLog(slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))))
	status := func() (map[string]any, []any, map[string]any) {
		t.Helper()
		w, m := do(t, s, "GET", "/v1/status", "Bearer "+token, "")
		if w.Code != 200 {
			t.Fatalf("status %d %v", w.Code, m)
		}
		al, ok := m["alerts"].([]any)
		if !ok {
			t.Fatalf("alerts not a list: %v", m)
		}
		cn, _ := m["counters"].(map[string]any)
		return m, al, cn
	}
	m, al, cn := status()
	if m["state"] != "ready" || len(al) != 0 || cn["errors"] != 0.0 || m["uptime_s"] != 0.0 {
		t.Fatalf("idle start: %v", m)
	}
	clk.Add(7*time.Minute + 30*time.Second)
	if m, _, cn := status(); m["uptime_s"] != 450.0 || cn["errors"] != 0.0 {
		t.Errorf("7m30s later: uptime_s %v, errors %v", m["uptime_s"], cn["errors"])
	}

	// The printer vanishes: its watcher reports it at every poll, the detail changing.
	for i := range 5 {
		k.SetDevice(kiosk.DevicePrinter, kiosk.StateOffline, "escpos: reopen backoff "+strings.Repeat(".", i))
	}
	m, al, _ = status()
	if m["state"] != "degraded" || len(al) != 1 || al[0] != "printer-offline" {
		t.Errorf("printer offline: state %v alerts %v", m["state"], al)
	}
	k.SetDevice(kiosk.DeviceIDReader, kiosk.StateOffline, "idcard: find: input/output error")
	k.SetDevice(kiosk.DevicePayment, kiosk.StateError, "1 payment(s) undecided")
	if _, al, _ = status(); len(al) != 3 || al[0] != "id-reader-offline" || al[1] != "payment-error" || al[2] != "printer-offline" {
		t.Errorf("three faults: alerts %v", al)
	}
	k.SetDevice(kiosk.DevicePrinter, kiosk.StateOK, "")
	k.SetDevice(kiosk.DeviceIDReader, kiosk.StateOK, "")
	k.SetDevice(kiosk.DevicePayment, kiosk.StateOK, "")
	if m, al, cn := status(); m["state"] != "ready" || len(al) != 0 || cn["errors"] != 0.0 {
		t.Errorf("all back: %v", m)
	}
	k.SetDevice(kiosk.DevicePrinter, kiosk.StatePaperLow, "")
	if m, al, _ := status(); m["state"] != "ready" || len(al) != 1 || al[0] != "printer-paper-low" {
		t.Errorf("paper low (a warning, still printing): state %v alerts %v", m["state"], al)
	}
	// Counters count what happened: one refused token, one error.
	do(t, s, "GET", "/v1/status", "Bearer nope", "")
	if _, _, cn := status(); cn["errors"] != 1.0 {
		t.Errorf("after one refused token: errors %v", cn["errors"])
	}
}

// A printer that does not answer at start has its alert from the first status on.
func TestStatusPrinterOfflineAtStart(t *testing.T) {
	k, _ := realCore(t, statusPrinter(errors.New("escpos: open: no such file or directory")))
	s := New(k, token, WithLog(slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))))
	_, m := do(t, s, "GET", "/v1/status", "Bearer "+token, "")
	if al, _ := m["alerts"].([]any); m["state"] != "degraded" || len(al) != 1 || al[0] != "printer-offline" {
		t.Errorf("status %v", m)
	}
}
