package localapi

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"citizenhome/kiosk"
	"citizenhome/telemetry/wire"
)

type fakeTelemetry struct {
	state  string
	errors atomic.Int64
}

func (f *fakeTelemetry) State() string { return f.state }
func (f *fakeTelemetry) Snapshot(context.Context) wire.Status {
	return wire.Status{Boot: 7, Seq: 3, State: f.state, Session: wire.SessionInUse, Outbox: 12,
		Devices: map[string]wire.Device{"printer": {State: "paper-low"}}, Alerts: []string{"printer-paper-low"},
		Counters: wire.Counters{Tickets: 5, Errors: f.errors.Load()}, TS: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
}
func (f *fakeTelemetry) CountError() { f.errors.Add(1) }

// With telemetry, /healthz is its lifecycle state (maintenance included, which the core alone
// cannot know) and /v1/status its snapshot; a wrong token counts in the snapshot's errors.
func TestStatusFromTelemetry(t *testing.T) {
	c := &fakeCore{devices: map[string]kiosk.Device{"printer": {State: kiosk.StateOK}}}
	s := New(c, token)
	tel := &fakeTelemetry{state: wire.StateMaintenance}
	s.UseTelemetry(tel)
	if _, m := do(t, s, "GET", "/healthz", "", ""); m["state"] != "maintenance" {
		t.Errorf("healthz %v", m)
	}
	if w, m := do(t, s, "GET", "/v1/status", "Bearer wrong", ""); w.Code != 401 || errCode(m) != "unauthorized" {
		t.Fatalf("status with a wrong token: %d %v", w.Code, m)
	}
	if tel.errors.Load() != 1 {
		t.Errorf("refused token counted %d times in telemetry, want 1", tel.errors.Load())
	}
	w, m := do(t, s, "GET", "/v1/status", "Bearer "+token, "")
	if w.Code != 200 || m["boot"] != 7.0 || m["outbox"] != 12.0 || m["session"] != "in-use" {
		t.Fatalf("status %d %v", w.Code, m)
	}
	if cn, _ := m["counters"].(map[string]any); cn["errors"] != 1.0 || cn["tickets"] != 5.0 {
		t.Errorf("counters %v", m["counters"])
	}
}

// Without telemetry the status comes from the core: its devices, its lock and state.
func TestStatusWithoutTelemetry(t *testing.T) {
	c := &fakeCore{devices: map[string]kiosk.Device{"printer": {State: kiosk.StatePaperOut, Detail: "no paper"}}}
	s := New(c, token)
	w, m := do(t, s, "GET", "/v1/status", "Bearer "+token, "")
	if w.Code != 200 || m["state"] != "degraded" || m["boot"] != 0.0 {
		t.Fatalf("status %d %v", w.Code, m)
	}
	devs, _ := m["devices"].(map[string]any)
	p, _ := devs["printer"].(map[string]any)
	if p["state"] != "paper-out" || p["detail"] != "no paper" {
		t.Errorf("devices %v", devs)
	}
	for _, d := range []string{"id-reader", "card-reader"} {
		if dv, _ := devs[d].(map[string]any); dv["state"] != "absent" {
			t.Errorf("device %s not named absent: %v", d, devs)
		}
	}
	c.locked = true
	if _, m := do(t, s, "GET", "/v1/status", "Bearer "+token, ""); m["state"] != "locked" {
		t.Errorf("locked: %v", m)
	}
}
