package agent

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"citizenhome/kiosk/kiosktest"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

func TestCommands(t *testing.T) {
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	rec := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	p := kiosktest.NewPrinter(okStatus())
	k, st := newKiosk(t, env.Hall, id, "", p)
	a := newAgent(t, k, st, env.Kiosk(id), nil)
	startAgent(t, a)
	rec.Wait(t, 10*time.Second, "ready", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateReady, 0) })
	staff := staffClient(t, env)
	ticket, err := k.TakeTicketInCategory(context.Background(), "A", false)
	if err != nil {
		t.Fatal(err)
	}
	past := cmd("c-expired", "lock", nil)
	past["expires"] = time.Now().Add(-time.Minute).Format(time.RFC3339)
	far := cmd("c-far", "lock", nil)
	far["expires"] = time.Now().Add(wire.MaxCommandLife + time.Minute).Format(time.RFC3339)
	cases := []struct {
		name    string
		cmd     any
		id      string
		ok      bool
		code    string
		check   func(t *testing.T, r wire.Reply)
		lockNow *bool
	}{
		{name: "lock", cmd: cmd("c-lock", "lock", map[string]string{"message": "设备维护中"}), id: "c-lock", ok: true, lockNow: ptr(true)},
		{name: "unlock", cmd: cmd("c-unlock", "unlock", nil), id: "c-unlock", ok: true, lockNow: ptr(false)},
		{name: "reset", cmd: cmd("c-reset", "reset", nil), id: "c-reset", ok: true},
		{name: "rebirth", cmd: cmd("c-rebirth", "rebirth", nil), id: "c-rebirth", ok: true},
		{name: "selftest", cmd: cmd("c-selftest", "selftest", nil), id: "c-selftest", ok: true, check: func(t *testing.T, r wire.Reply) {
			if !strings.Contains(string(r.Result), `"printer":"ok"`) {
				t.Errorf("selftest result %s", r.Result)
			}
		}},
		{name: "reprint", cmd: cmd("c-reprint", "reprint", map[string]string{"ticket": ticket.Ticket.Code}), id: "c-reprint", ok: true},
		{name: "reprint unknown ticket", cmd: cmd("c-reprint-x", "reprint", map[string]string{"ticket": "Z999"}), id: "c-reprint-x", code: wire.RefuseNotFound},
		{name: "reprint no ticket", cmd: cmd("c-reprint-y", "reprint", nil), id: "c-reprint-y", code: wire.RefuseBadArgs},
		{name: "reload demo catalog", cmd: cmd("c-reload", "reload-catalog", nil), id: "c-reload", code: wire.RefuseFailed},
		{name: "set-config allowed", cmd: cmd("c-set", "set-config", map[string]string{"kiosk.idle_timeout": "90s", "hall.locked_message": "暂停"}), id: "c-set", ok: true},
		{name: "set-config not allowed", cmd: cmd("c-set-x", "set-config", map[string]string{"kiosk.store": "/tmp/x"}), id: "c-set-x", code: wire.RefuseBadArgs},
		{name: "set-config bad value", cmd: cmd("c-set-y", "set-config", map[string]string{"kiosk.idle_timeout": "1s"}), id: "c-set-y", code: wire.RefuseBadArgs},
		{name: "unknown", cmd: cmd("c-unknown", "format-disk", nil), id: "c-unknown", code: wire.RefuseUnknown},
		{name: "expired", cmd: past, id: "c-expired", code: wire.RefuseExpired, lockNow: ptr(false)},
		{name: "expires too far ahead", cmd: far, id: "c-far", code: wire.RefuseBadExpiry, lockNow: ptr(false)},
		{name: "unknown arg", cmd: cmd("c-arg", "unlock", map[string]int{"x": 1}), id: "c-arg", code: wire.RefuseBadArgs},
		{name: "malformed with id", cmd: `{"id":"c-bad","name":"lock"}`, id: "c-bad", code: wire.RefuseMalformed, lockNow: ptr(false)},
		{name: "malformed", cmd: `not json`, id: "", code: wire.RefuseMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sendCmd(t, staff, root, c.cmd)
			ms := rec.Wait(t, 10*time.Second, "the reply to "+c.id, func(ms []mqtttest.Msg) bool { return len(replies(ms, root)[c.id]) > 0 })
			r := replies(ms, root)[c.id][0]
			if r.OK != c.ok || r.Code != c.code || (!c.ok && r.Error == "") || r.TS.IsZero() {
				t.Errorf("reply %+v, want ok=%v code=%q", r, c.ok, c.code)
			}
			if c.check != nil {
				c.check(t, r)
			}
			if c.lockNow != nil {
				if locked, _ := k.Locked(); locked != *c.lockNow {
					t.Errorf("locked = %v after %s", locked, c.name)
				}
			}
		})
	}
	if n := p.Printed(); n != 3 { // the ticket, the self-test page, the reprint
		t.Errorf("%d print jobs, want 3", n)
	}
	if to, _ := k.Sessions().Timeout(); to != 90*time.Second {
		t.Errorf("idle timeout %s after set-config", to)
	}
	hall(k).Lock(context.Background(), "")
	if _, msg := k.Locked(); msg != "暂停" {
		t.Errorf("lock message after set-config: %q", msg)
	}
	hall(k).Unlock(context.Background())

	// Every command with an id is in the audit table, with its by; only executed ones marked so.
	rows, err := st.DB().Query(`SELECT id, name, by_user, executed, ok FROM command_audit`)
	if err != nil {
		t.Fatal(err)
	}
	audit := map[string][2]bool{}
	for rows.Next() {
		var id, name, by string
		var ex, ok bool
		if err := rows.Scan(&id, &name, &by, &ex, &ok); err != nil {
			t.Fatal(err)
		}
		if id != "c-bad" && by != "test-ops" {
			t.Errorf("audit %s by %q", id, by)
		}
		audit[id] = [2]bool{ex, ok}
	}
	rows.Close()
	for _, c := range cases {
		if c.id == "" {
			continue
		}
		got, ok := audit[c.id]
		if !ok {
			t.Errorf("%s not in the audit table", c.id)
			continue
		}
		wantExec := c.ok || c.code == wire.RefuseFailed
		if got[0] != wantExec || got[1] != c.ok {
			t.Errorf("audit %s: executed=%v ok=%v", c.id, got[0], got[1])
		}
	}
	// command.done events for the executed ones.
	ms := rec.Wait(t, 5*time.Second, "command.done events", func(ms []mqtttest.Msg) bool {
		n := 0
		for _, e := range events(ms, root) {
			if e.Type == wire.EventCommandDone {
				n++
			}
		}
		return n >= 8
	})
	var reset bool
	for _, e := range events(ms, root) {
		reset = reset || e.Type == wire.EventKioskReset
	}
	if !reset {
		t.Error("no kiosk.reset event")
	}
}

func ptr[T any](v T) *T { return &v }

// A repeated id gets the first reply again and is not executed twice.
func TestCommandRepeatedID(t *testing.T) {
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	rec := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	p := kiosktest.NewPrinter(okStatus())
	k, st := newKiosk(t, env.Hall, id, "", p)
	a := newAgent(t, k, st, env.Kiosk(id), nil)
	startAgent(t, a)
	rec.Wait(t, 10*time.Second, "ready", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateReady, 0) })
	staff := staffClient(t, env)
	c := cmd("same-id", "selftest", nil)
	sendCmd(t, staff, root, c)
	sendCmd(t, staff, root, c)
	// A different command under the same id is the same command: answered, not run.
	c2 := cmd("same-id", "lock", nil)
	sendCmd(t, staff, root, c2)
	ms := rec.Wait(t, 10*time.Second, "three replies", func(ms []mqtttest.Msg) bool { return len(replies(ms, root)["same-id"]) >= 3 })
	rs := replies(ms, root)["same-id"]
	b0, _ := json.Marshal(rs[0])
	for _, r := range rs[1:] {
		if b, _ := json.Marshal(r); string(b) != string(b0) {
			t.Errorf("repeat answered %s, first %s", b, b0)
		}
	}
	if n := p.Printed(); n != 1 {
		t.Errorf("self-test printed %d times", n)
	}
	if locked, _ := k.Locked(); locked {
		t.Error("a repeated id executed another command")
	}
}

// A command that disturbs a citizen waits for the transaction in progress; force does not.
func TestCommandWaitsForTransaction(t *testing.T) {
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	rec := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	k, st := newKiosk(t, env.Hall, id, "", nil)
	a := newAgent(t, k, st, env.Kiosk(id), func(o *Options) { o.MaxDefer = 2 * time.Second })
	startAgent(t, a)
	rec.Wait(t, 10*time.Second, "ready", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateReady, 0) })
	staff := staffClient(t, env)
	done := k.Sessions().Begin() // a citizen mid-transaction (printing, paying)
	sendCmd(t, staff, root, cmd("wait-lock", "lock", nil))
	// The reply must not come while the transaction lasts: poll for a while, then end it.
	deadline := time.Now().Add(700 * time.Millisecond)
	for time.Now().Before(deadline) {
		if len(replies(rec.Messages(), root)["wait-lock"]) > 0 {
			t.Fatal("lock executed during a citizen's transaction")
		}
		if locked, _ := k.Locked(); locked {
			t.Fatal("locked during a citizen's transaction")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ended := time.Now()
	done()
	ms := rec.Wait(t, 5*time.Second, "the lock's reply", func(ms []mqtttest.Msg) bool { return len(replies(ms, root)["wait-lock"]) > 0 })
	if r := replies(ms, root)["wait-lock"][0]; !r.OK {
		t.Errorf("deferred lock: %+v", r)
	}
	if locked, _ := k.Locked(); !locked {
		t.Error("not locked after the transaction ended")
	}
	if lat := time.Since(ended); lat > 2*time.Second {
		t.Errorf("lock ran %s after the transaction ended", lat)
	}
	hall(k).Unlock(context.Background())

	// force: no wait.
	done = k.Sessions().Begin()
	sendCmd(t, staff, root, cmd("force-lock", "lock", map[string]any{"force": true}))
	rec.Wait(t, 3*time.Second, "the forced lock's reply", func(ms []mqtttest.Msg) bool { return len(replies(ms, root)["force-lock"]) > 0 })
	done()
	hall(k).Unlock(context.Background())

	// A transaction that outlasts MaxDefer: busy, nothing done.
	done = k.Sessions().Begin()
	defer done()
	sendCmd(t, staff, root, cmd("busy-lock", "lock", nil))
	ms = rec.Wait(t, 10*time.Second, "the busy reply", func(ms []mqtttest.Msg) bool { return len(replies(ms, root)["busy-lock"]) > 0 })
	if r := replies(ms, root)["busy-lock"][0]; r.OK || r.Code != wire.RefuseBusy {
		t.Errorf("lock during a long transaction: %+v", r)
	}
	if locked, _ := k.Locked(); locked {
		t.Error("locked although refused as busy")
	}
}
