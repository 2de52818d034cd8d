package agent

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/kiosktest"
	"citizenhome/kiosk/store"
)

// clockedKiosk is a core on clk with no printer.
func clockedKiosk(t *testing.T, clk *kiosktest.Clock) (*kiosk.Kiosk, *store.Store) {
	t.Helper()
	cfg := config.Default()
	cfg.Hall.ID, cfg.Kiosk.ID = "h1", "k1"
	cfg.Kiosk.Store = filepath.Join(t.TempDir(), "kiosk.db")
	st, err := store.Open(cfg.Kiosk.Store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	k, err := kiosk.New(context.Background(), kiosk.Options{Config: cfg, Store: st, Catalog: catalog.NewHolder(catalog.Demo()),
		Now: clk.Now, Log: quietLog(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return k, st
}

// uptime_s counts from the core's start, connected or not, however late the agent came.
func TestSnapshotUptimeFromCore(t *testing.T) {
	clk := kiosktest.NewClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	k, st := clockedKiosk(t, clk)
	clk.Set(clk.Now().Add(20 * time.Second)) // devices opened, telemetry launched later
	a := newAgent(t, k, st, offline, nil)
	if s := a.Snapshot(context.Background()); s.UptimeS != 20 {
		t.Errorf("uptime_s %d at the agent's start, want 20 (the core's)", s.UptimeS)
	}
	clk.Set(clk.Now().Add(10 * time.Minute))
	if s := a.Snapshot(context.Background()); s.UptimeS != 620 {
		t.Errorf("uptime_s %d, want 620", s.UptimeS)
	}
}

// An idle start counts no error; a device fault has its alert while it lasts and counts once,
// however often its watcher reports it; paper low is a warning alert.
func TestSnapshotAlertsAndErrors(t *testing.T) {
	clk := kiosktest.NewClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	k, st := clockedKiosk(t, clk)
	a := newAgent(t, k, st, offline, nil)
	k.SetDevice(kiosk.DeviceIDReader, kiosk.StateOK, "")
	k.SetDevice(kiosk.DeviceCardReader, kiosk.StateAbsent, "")
	ctx := context.Background()
	if s := a.Snapshot(ctx); s.Counters.Errors != 0 || len(s.Alerts) != 0 || s.State != "ready" {
		t.Fatalf("idle start: errors %d alerts %v state %s", s.Counters.Errors, s.Alerts, s.State)
	}
	for i := range 20 {
		clk.Set(clk.Now().Add(5 * time.Second))
		k.SetDevice(kiosk.DeviceIDReader, kiosk.StateOffline, "idcard: find: input/output error #"+string(rune('a'+i)))
	}
	s := a.Snapshot(ctx)
	if !slices.Equal(s.Alerts, []string{"id-reader-offline"}) || s.Counters.Errors != 1 || s.State != "degraded" {
		t.Errorf("reader offline: alerts %v errors %d state %s", s.Alerts, s.Counters.Errors, s.State)
	}
	if al := a.activeAlerts()["id-reader-offline"]; al.Severity != "error" || al.Device != kiosk.DeviceIDReader {
		t.Errorf("alert %+v", al)
	}
	k.SetDevice(kiosk.DeviceIDReader, kiosk.StateOK, "")
	if s := a.Snapshot(ctx); len(s.Alerts) != 0 || s.Counters.Errors != 1 || s.State != "ready" {
		t.Errorf("reader back: alerts %v errors %d state %s", s.Alerts, s.Counters.Errors, s.State)
	}
	k.SetDevice(kiosk.DevicePrinter, kiosk.StatePaperLow, "")
	if al := a.activeAlerts()["printer-paper-low"]; al.Severity != "warning" {
		t.Errorf("paper low alert %+v", al)
	}
}
