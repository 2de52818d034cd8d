package agent

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/kiosktest"
	"citizenhome/kiosk/store"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// A staff PIN entry locked after repeated wrong PINs is a retained alert/staff-pin-lockout, a
// warning of device "kiosk" listed in the status, on a real broker: raised at the lockout, raised
// again by the next program on the same store (the lockout outlives a restart), and cleared when
// staff type the right PIN after the lockout.
func TestStaffPINLockoutAlert(t *testing.T) {
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	topic := root + "/alert/" + kiosk.AlertStaffPINLockout
	cfg := config.Default()
	cfg.Hall.ID, cfg.Kiosk.ID = env.Hall, id
	hash, err := config.HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Staff.PINHash = hash
	cfg.Kiosk.Store = filepath.Join(t.TempDir(), "kiosk.db")
	clock := kiosktest.NewClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	start := func() (*kiosk.Kiosk, *Agent) {
		st, err := store.Open(cfg.Kiosk.Store)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		k, err := kiosk.New(context.Background(), kiosk.Options{Config: cfg, Store: st, Now: clock.Now,
			Catalog: catalog.NewHolder(catalog.Demo()), Log: quietLog(), Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		a := newAgent(t, k, st, env.Kiosk(id), nil)
		startAgent(t, a)
		return k, a
	}
	raised := func(ms []mqtttest.Msg) (wire.Alert, bool) {
		for _, m := range slices.Backward(ms) {
			if m.Topic == topic && len(m.Payload) > 0 {
				var al wire.Alert
				if err := json.Unmarshal(m.Payload, &al); err != nil {
					t.Fatal(err)
				}
				return al, true
			}
		}
		return wire.Alert{}, false
	}

	rec := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	k, a := start()
	rec.Wait(t, 10*time.Second, "ready", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateReady, 0) })
	for i := range kiosk.StaffMaxTries {
		if _, err := k.StaffLogin().PIN("000000"); err == nil {
			t.Fatalf("wrong PIN %d accepted", i)
		}
	}
	ms := rec.Wait(t, 5*time.Second, "the lockout alert", func(ms []mqtttest.Msg) bool { _, ok := raised(ms); return ok })
	al, _ := raised(ms)
	if al.Code != kiosk.AlertStaffPINLockout || al.Severity != wire.SeverityWarning || al.Device != kiosk.DeviceKiosk ||
		!strings.Contains(al.Message, "工作人员密码") || al.Since.IsZero() {
		t.Errorf("alert: %+v", al)
	}
	rec.Wait(t, 5*time.Second, "a status listing it", func(ms []mqtttest.Msg) bool {
		for _, s := range statuses(ms, root) {
			if slices.Contains(s.Alerts, kiosk.AlertStaffPINLockout) {
				return true
			}
		}
		return false
	})

	// The program restarts on the same store: the alert is raised again at its birth.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	rec2 := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	k2, _ := start()
	rec2.Wait(t, 10*time.Second, "the alert after a restart", func(ms []mqtttest.Msg) bool {
		al, ok := raised(ms)
		return ok && al.Boot > 1
	})
	if _, err := k2.StaffLogin().PIN("246810"); !errors.Is(err, kiosk.ErrStaffLockedOut) {
		t.Fatalf("right PIN during the lockout after a restart: %v", err)
	}
	clock.Add(kiosk.StaffLockoutFirst)
	if _, err := k2.StaffLogin().PIN("246810"); err != nil {
		t.Fatal(err)
	}
	rec2.Wait(t, 5*time.Second, "the alert cleared", func(ms []mqtttest.Msg) bool {
		for _, m := range ms {
			if m.Topic == topic && len(m.Payload) == 0 {
				return true
			}
		}
		return false
	})
}
