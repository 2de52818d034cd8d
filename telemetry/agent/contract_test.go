package agent

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"citizenhome/kiosk"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// offline is a broker address nothing listens on: agents built with it are never started.
var offline = link.Settings{URL: "tcp://127.0.0.1:1"}

// The status names the contract's three devices whatever the kiosk configured, a missing one
// as "absent", and counts today's printed receipts from the payment journal.
func TestSnapshotContractFields(t *testing.T) {
	k, st := newKiosk(t, "h1", "k1", "", nil)
	a := newAgent(t, k, st, offline, nil)
	k.SetDevice(kiosk.DevicePayment, kiosk.StateOK, "")

	now := time.Now()
	ins := func(day string, receipt string, at time.Time) {
		t.Helper()
		var receiptAt any
		if receipt != "none" {
			receiptAt = at.UnixNano()
		}
		_, err := st.DB().Exec(`INSERT INTO payment (day, created_at, updated_at, matter_id, amount_fen, card_masked,
			card_hash, step, status, receipt, receipt_at) VALUES (?, ?, ?, 'm1', 100, '3104********1234', x'00', 'confirmed', 'paid', ?, ?)`,
			day, at.UnixNano(), at.UnixNano(), receipt, receiptAt)
		if err != nil {
			t.Fatal(err)
		}
	}
	ins(now.Format(time.DateOnly), "printed", now)
	ins(now.Format(time.DateOnly), "printed", now)
	ins(now.Format(time.DateOnly), "failed", now)
	ins(now.AddDate(0, 0, -2).Format(time.DateOnly), "printed", now.AddDate(0, 0, -2))

	s := a.Snapshot(context.Background())
	for _, d := range []string{"printer", "id-reader", "card-reader"} {
		dev, ok := s.Devices[d]
		if !ok || dev.State != "absent" || dev.Since.IsZero() {
			t.Errorf("device %s: %+v (present %v), want absent", d, dev, ok)
		}
	}
	if s.Devices["payment"].State != "ok" {
		t.Errorf("an extra device is kept: %+v", s.Devices)
	}
	if s.Counters.Receipts != 2 {
		t.Errorf("receipts = %d, want the 2 printed today", s.Counters.Receipts)
	}
	if s.Boot != 0 || s.Seq != 0 {
		t.Errorf("boot %d seq %d while never connected", s.Boot, s.Seq)
	}
	b, _ := json.Marshal(s)
	var raw map[string]any
	_ = json.Unmarshal(b, &raw)
	for _, f := range []string{"boot", "seq", "ts", "version", "state", "session", "uptime_s", "devices", "counters", "outbox"} {
		if _, ok := raw[f]; !ok {
			t.Errorf("status without %q: %s", f, b)
		}
	}
	if _, ok := raw["alerts"].([]any); !ok {
		t.Errorf("alerts is %v, want a list (empty)", raw["alerts"])
	}
}

// set-config is all or nothing: a value that does not fit the kiosk's other settings refuses the
// whole command before any key is applied.
func TestSetConfigChangesNothingWhenRefused(t *testing.T) {
	k, st := newKiosk(t, "h1", "k1", "", nil)
	a := newAgent(t, k, st, offline, nil)
	k.Sessions().SetTimeout(60*time.Second, 30*time.Second)
	c := cmd("cfg-1", wire.CmdSetConfig, map[string]string{"hall.locked_message": "换纸中", "kiosk.idle_timeout": "20s"})
	b, _ := json.Marshal(c)
	var r wire.Reply
	if err := json.Unmarshal(a.process(context.Background(), inbound{payload: b, received: time.Now()}), &r); err != nil {
		t.Fatal(err)
	}
	if r.OK || r.Code != wire.RefuseBadArgs || r.ID != "cfg-1" {
		t.Errorf("reply %+v, want bad-args", r)
	}
	if to, _ := k.Sessions().Timeout(); to != 60*time.Second {
		t.Errorf("idle timeout %s after a refused set-config", to)
	}
	hall(k).Lock(context.Background(), "")
	if _, msg := k.Locked(); msg == "换纸中" {
		t.Error("a refused set-config changed hall.locked_message")
	}
	var n int
	if err := st.DB().QueryRow(`SELECT count(*) FROM remote_setting`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d remote settings stored (%v)", n, err)
	}
}

// A controller that comes online for the first time (no state retained before) is a change to
// online: the kiosk publishes its birth again.
func TestControllerFirstOnlineRebirth(t *testing.T) {
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	ctl := staffClient(t, mqtttest.Env{URL: env.URL, StaffUser: env.ControllerUser, StaffPassword: env.ControllerPassword})
	pub := func(b []byte) {
		t.Helper()
		if tok := ctl.Publish(wire.ControllerStateTopic(env.Hall), 1, true, b); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	pub(nil) // nothing retained: the controller never ran
	t.Cleanup(func() { pub(nil) })
	rec := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	k, st := newKiosk(t, env.Hall, id, "", nil)
	a := newAgent(t, k, st, env.Kiosk(id), nil)
	startAgent(t, a)
	ms := rec.Wait(t, 10*time.Second, "birth", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateReady, 0) })
	n := len(statuses(ms, root))
	b, _ := json.Marshal(wire.ControllerState{Online: true, TS: time.Now()})
	pub(b)
	rec.Wait(t, 5*time.Second, "a rebirth status", func(ms []mqtttest.Msg) bool { return len(statuses(ms, root)) > n })

	// /v1/status's snapshot names the session up now.
	if ok, boot := a.Connected(); !ok || a.Snapshot(context.Background()).Boot != boot || a.Snapshot(context.Background()).Seq < 1 {
		t.Errorf("snapshot boot/seq %d/%d, session %v %d", a.Snapshot(context.Background()).Boot, a.Snapshot(context.Background()).Seq, ok, boot)
	}
}
