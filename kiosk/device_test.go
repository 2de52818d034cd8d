package kiosk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/kiosktest"
	"citizenhome/kiosk/store"
)

func TestDegraded(t *testing.T) {
	for _, tc := range []struct {
		name string
		devs map[string]Device
		want bool
	}{
		{"none", nil, false},
		{"all well", map[string]Device{DevicePrinter: {State: StateOK}, DeviceIDReader: {State: StateOK}}, false},
		{"paper low still prints", map[string]Device{DevicePrinter: {State: StatePaperLow}}, false},
		{"absent is not a fault", map[string]Device{DeviceCardReader: {State: StateAbsent}}, false},
		{"paper out", map[string]Device{DevicePrinter: {State: StatePaperOut}, DeviceIDReader: {State: StateOK}}, true},
		{"reader offline", map[string]Device{DeviceIDReader: {State: StateOffline}}, true},
		{"a silent kiosk still serves", map[string]Device{DeviceSpeaker: {State: StateOffline}, DevicePrinter: {State: StateOK}}, false},
	} {
		if got := Degraded(tc.devs); got != tc.want {
			t.Errorf("%s: Degraded = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// logLines is a concurrency-safe log of JSON lines.
type logLines struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the records whose msg is not empty, decoded.
func (l *logLines) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, s := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if s == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("log line %q: %v", s, err)
		}
		out = append(out, m)
	}
	return out
}

// deviceLines are the log records about device.
func (l *logLines) deviceLines(t *testing.T, device string) []map[string]any {
	var out []map[string]any
	for _, m := range l.lines(t) {
		if m["device"] == device {
			out = append(out, m)
		}
	}
	return out
}

// loggedKiosk is a core with printer p (nil: none) logging JSON to the returned lines.
func loggedKiosk(t *testing.T, p Printer) (*Kiosk, *kiosktest.Clock, *logLines) {
	t.Helper()
	cfg := config.Default()
	cfg.Kiosk.Store = filepath.Join(t.TempDir(), "kiosk.db")
	st, err := store.Open(cfg.Kiosk.Store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := kiosktest.NewClock(at("2026-11-26", "09:00"))
	h := &catalog.Holder{}
	h.Replace(catalog.Demo())
	ll := &logLines{}
	k, err := New(context.Background(), Options{Config: cfg, Store: st, Catalog: h, Printer: p, Now: c.Now,
		Log: slog.New(slog.NewJSONHandler(ll, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return k, c, ll
}

// A fault reported at every poll, its detail different each time, is one line; so is its end.
// Levels: faults and paper low warn, back to ok is info. Since is when the state began.
func TestDeviceChangesLoggedOnce(t *testing.T) {
	k, clk, ll := loggedKiosk(t, kiosktest.NewPrinter(okStatus))
	if got := ll.deviceLines(t, DevicePrinter); len(got) != 1 || got[0]["msg"] != "device ok" || got[0]["level"] != "INFO" {
		t.Fatalf("the printer's first state: %v", got)
	}
	began := clk.Now()
	for i := range 200 {
		clk.Set(began.Add(time.Duration(i) * 5 * time.Second))
		k.SetDevice(DevicePrinter, StateOffline, fmt.Sprintf("escpos: reopen backoff; attempt %d: no such file", i))
	}
	got := ll.deviceLines(t, DevicePrinter)
	if len(got) != 2 {
		t.Fatalf("%d printer lines after 200 polls of one fault, want 2: %v", len(got), got)
	}
	if l := got[1]; l["msg"] != "device offline" || l["level"] != "WARN" || l["state"] != "offline" || l["was"] != "ok" ||
		!strings.Contains(l["detail"].(string), "attempt 0") {
		t.Errorf("offline line: %v", l)
	}
	if d := k.Devices()[DevicePrinter]; !d.Since.Equal(began) || !strings.Contains(d.Detail, "attempt 199") {
		t.Errorf("device after the polls: %+v (since should stay %v, detail be the latest)", d, began)
	}
	for range 50 {
		k.SetDevice(DevicePrinter, StateOK, "")
	}
	k.SetDevice(DevicePrinter, StatePaperLow, "")
	k.SetDevice(DevicePrinter, StatePaperOut, "")
	k.SetDevice(DevicePrinter, StateCoverOpen, "")
	k.SetDevice(DevicePrinter, StateError, "escpos: cutter jammed")
	k.SetDevice(DevicePrinter, StateOK, "")
	want := []struct{ msg, level, was string }{
		{"device back", "INFO", "offline"},
		{"printer paper low", "WARN", "ok"},
		{"printer out of paper", "WARN", "paper-low"},
		{"printer cover open", "WARN", "paper-out"},
		{"device error", "WARN", "cover-open"},
		{"device back", "INFO", "error"},
	}
	got = ll.deviceLines(t, DevicePrinter)[2:]
	if len(got) != len(want) {
		t.Fatalf("lines %v, want %d", got, len(want))
	}
	for i, w := range want {
		if got[i]["msg"] != w.msg || got[i]["level"] != w.level || got[i]["was"] != w.was {
			t.Errorf("line %d: %v, want %+v", i, got[i], w)
		}
	}
	if got[4]["detail"] != "escpos: cutter jammed" {
		t.Errorf("the reason is missing: %v", got[4])
	}
	// A device the kiosk has not configured is said once, as info.
	k.SetDevice(DeviceIDReader, StateAbsent, "")
	k.SetDevice(DeviceIDReader, StateAbsent, "")
	if got := ll.deviceLines(t, DeviceIDReader); len(got) != 1 || got[0]["msg"] != "device not configured" || got[0]["level"] != "INFO" {
		t.Errorf("absent reader: %v", got)
	}
}

// A printer that does not answer at start is logged then (the pollers only report changes).
func TestPrinterOfflineAtStartLogged(t *testing.T) {
	offline := &kiosktest.Printer{}
	offline.SetStatus(escpos.Status{}, errors.New("escpos: open /dev/citizenhome-printer: no such file or directory"))
	_, _, ll := loggedKiosk(t, offline)
	got := ll.deviceLines(t, DevicePrinter)
	if len(got) != 1 || got[0]["msg"] != "device offline" || got[0]["level"] != "WARN" || got[0]["detail"] == nil {
		t.Errorf("printer offline at start: %v", got)
	}
	_, _, ll = loggedKiosk(t, nil)
	if got := ll.deviceLines(t, DevicePrinter); len(got) != 1 || got[0]["msg"] != "device not configured" {
		t.Errorf("no printer: %v", got)
	}
}

func TestAlerts(t *testing.T) {
	since := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	got := Alerts(map[string]Device{
		DevicePrinter:    {State: StatePaperLow, Since: since},
		DeviceIDReader:   {State: StateOffline, Detail: "idcard: find: input/output error"},
		DeviceCardReader: {State: StateAbsent},
		DevicePayment:    {State: StateOK},
	})
	if len(got) != 2 || got[0].Code != "id-reader-offline" || got[0].Warning || got[0].Detail == "" ||
		got[1].Code != "printer-paper-low" || !got[1].Warning || !got[1].Since.Equal(since) {
		t.Errorf("alerts %+v", got)
	}
	if got := Alerts(map[string]Device{DeviceSpeaker: {State: StateOffline}}); len(got) != 1 || got[0].Code != "speaker-offline" || !got[0].Warning {
		t.Errorf("a missing audio device: %+v, want the warning speaker-offline", got)
	}
	if got := Alerts(map[string]Device{DevicePrinter: {State: StateOK}}); got != nil {
		t.Errorf("alerts of a healthy kiosk: %+v", got)
	}
}

func TestUptime(t *testing.T) {
	k, clk, _ := loggedKiosk(t, nil)
	start := clk.Now()
	if k.Uptime() != 0 || !k.Started().Equal(start) {
		t.Fatalf("uptime at start %v, started %v", k.Uptime(), k.Started())
	}
	clk.Set(start.Add(90 * time.Minute))
	if k.Uptime() != 90*time.Minute {
		t.Errorf("uptime %v, want 1h30m", k.Uptime())
	}
	clk.Set(start.Add(-time.Hour)) // the clock set back
	if k.Uptime() != 0 {
		t.Errorf("uptime after the clock went back: %v", k.Uptime())
	}
}
