package agent

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/store"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// A citizen's call for staff (呼叫工作人员) is a retained alert/help-requested, a warning of device
// "kiosk", listed in the status; staff opening staff mode at the kiosk clear it with an empty
// retained payload, and nothing stays retained.
func TestHelpRequestedAlert(t *testing.T) {
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	cfg := config.Default()
	cfg.Hall.ID, cfg.Kiosk.ID = env.Hall, id
	cfg.Staff.Cards = []string{"04A1B2C3"}
	hash, err := config.HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Staff.PINHash = hash
	cfg.Kiosk.Store = filepath.Join(t.TempDir(), "kiosk.db")
	st, err := store.Open(cfg.Kiosk.Store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	k, err := kiosk.New(context.Background(), kiosk.Options{Config: cfg, Store: st,
		Catalog: catalog.NewHolder(catalog.Demo()), Log: quietLog(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	rec := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	a := newAgent(t, k, st, env.Kiosk(id), nil)
	startAgent(t, a)
	rec.Wait(t, 10*time.Second, "ready", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateReady, 0) })

	topic := root + "/alert/" + kiosk.AlertHelpRequested
	raised := func(ms []mqtttest.Msg) int {
		n := 0
		for _, m := range ms {
			if m.Topic == topic && len(m.Payload) > 0 {
				n++
			}
		}
		return n
	}
	k.RequestHelp(context.Background())
	k.RequestHelp(context.Background()) // a second tap: still one alert
	ms := rec.Wait(t, 5*time.Second, "the help alert", func(ms []mqtttest.Msg) bool { return raised(ms) > 0 })
	var al wire.Alert
	for _, m := range ms {
		if m.Topic == topic {
			if err := json.Unmarshal(m.Payload, &al); err != nil {
				t.Fatal(err)
			}
		}
	}
	if al.Code != kiosk.AlertHelpRequested || al.Severity != wire.SeverityWarning || al.Device != kiosk.DeviceKiosk ||
		al.Seq == 0 || !contains(al.Message, "呼叫工作人员") || al.Since.IsZero() {
		t.Errorf("alert: %+v", al)
	}
	rec.Wait(t, 5*time.Second, "a status listing it", func(ms []mqtttest.Msg) bool {
		for _, s := range statuses(ms, root) {
			if slices.Contains(s.Alerts, kiosk.AlertHelpRequested) {
				return true
			}
		}
		return false
	})
	if s := a.Snapshot(context.Background()); !slices.Contains(s.Alerts, kiosk.AlertHelpRequested) {
		t.Errorf("snapshot alerts %v", s.Alerts)
	}
	// A new subscriber (the hall's dashboard starting) is handed the alert: it is retained.
	late := mqtttest.Record(t, env.Staff(), root+"/alert/#", mqtttest.RecordOptions{})
	late.Wait(t, 5*time.Second, "the retained alert", func(ms []mqtttest.Msg) bool {
		return len(ms) == 1 && ms[0].Retained && ms[0].Topic == topic
	})
	if n := raised(rec.Messages()); n != 1 {
		t.Errorf("the alert was raised %d times for one call", n)
	}

	if _, err := k.StaffLogin().Card("04a1b2c3", "246810"); err != nil {
		t.Fatal(err)
	}
	rec.Wait(t, 5*time.Second, "the alert cleared", func(ms []mqtttest.Msg) bool {
		for _, m := range ms {
			if m.Topic == topic && len(m.Payload) == 0 {
				return true
			}
		}
		return false
	})
	if s := a.Snapshot(context.Background()); slices.Contains(s.Alerts, kiosk.AlertHelpRequested) {
		t.Errorf("snapshot alerts after staff came %v", s.Alerts)
	}
	after := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	ms = after.Wait(t, 5*time.Second, "the retained state", func(ms []mqtttest.Msg) bool { return len(states(ms, root)) > 0 })
	for _, m := range ms {
		if m.Topic == topic {
			t.Errorf("help alert still retained after staff came: %s", m.Payload)
		}
	}
}
