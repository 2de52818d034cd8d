package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"citizenhome/telemetry/wire"
)

const root = "citizenhome/v1/h1/k01"

var k01 = wire.Kiosk{Hall: "h1", Kiosk: "k01"}

type msg struct {
	topic    string
	payload  any // marshalled; a string is sent as is ("" = empty payload)
	retained bool
}

func state(s string, boot int64) msg {
	return msg{topic: root + "/state", payload: wire.State{State: s, Boot: boot}}
}

func status(s string, boot, seq int64, alerts ...string) msg {
	return msg{topic: root + "/status", payload: wire.Status{State: s, Boot: boot, Seq: seq, Alerts: alerts}}
}

func event(id string, boot, seq int64) msg {
	return msg{topic: root + "/event", payload: wire.Event{ID: id, Boot: boot, Seq: seq, Type: "x", Data: json.RawMessage(`{}`)}}
}

func alert(code string, boot, seq int64) msg {
	return msg{topic: root + "/alert/" + code, payload: wire.Alert{Code: code, Boot: boot, Seq: seq, Severity: "error"}}
}

func cleared(code string) msg {
	return msg{topic: root + "/alert/" + code, payload: "", retained: true}
}

func (m msg) ret() msg { m.retained = true; return m }

func apply(t *testing.T, v *View, ms ...msg) []Update {
	t.Helper()
	var out []Update
	for _, m := range ms {
		var b []byte
		switch p := m.payload.(type) {
		case string:
			b = []byte(p)
		default:
			b, _ = json.Marshal(p)
		}
		u, err := v.Apply(m.topic, b, m.retained)
		if err != nil {
			t.Fatalf("Apply(%s): %v", m.topic, err)
		}
		out = append(out, u)
	}
	return out
}

func TestViewLifecycle(t *testing.T) {
	cases := []struct {
		name     string
		msgs     []msg
		state    string
		boot     int64
		alerts   []string
		rebirths int
		gaps     int
	}{
		{"birth", []msg{state("init", 7), status("ready", 7, 1), state("ready", 7)}, "ready", 7, nil, 0, 0},
		{"lost with the same boot", []msg{state("ready", 7), status("ready", 7, 1), state("lost", 7)}, "lost", 7, nil, 0, 0},
		{"stale will after a new birth", []msg{state("ready", 7), state("init", 8), status("ready", 8, 1), state("ready", 8), state("lost", 7)}, "ready", 8, nil, 0, 0},
		{"retained stale will, newer retained status", []msg{state("lost", 7).ret(), status("ready", 8, 40).ret()}, "ready", 8, nil, 0, 0},
		{"retained status first, then stale will", []msg{status("locked", 8, 40).ret(), state("lost", 7).ret()}, "locked", 8, nil, 0, 0},
		{"retained lost and a status of the same boot", []msg{state("lost", 7).ret(), status("ready", 7, 40).ret()}, "lost", 7, nil, 0, 0},
		{"planned shutdown", []msg{state("ready", 3), status("ready", 3, 1), state("disconnected", 3)}, "disconnected", 3, nil, 0, 0},
		{"gap asks for a rebirth", []msg{status("ready", 5, 1), event("e1", 5, 2), event("e2", 5, 4)}, "ready", 5, nil, 1, 1},
		{"second gap within the limit: no second rebirth", []msg{status("ready", 5, 1), event("e1", 5, 3), event("e2", 5, 6)}, "ready", 5, nil, 1, 2},
		{"no gap from retained to first live", []msg{status("ready", 5, 10).ret(), event("e1", 5, 25), event("e2", 5, 26)}, "ready", 5, nil, 0, 0},
		{"repeat delivery is not a gap", []msg{status("ready", 5, 1), event("e1", 5, 2), event("e1", 5, 2), event("e2", 5, 3)}, "ready", 5, nil, 0, 0},
		{"new session live starts at 1", []msg{status("ready", 5, 9), state("init", 6), status("ready", 6, 1), event("e", 6, 2)}, "ready", 6, nil, 0, 0},
		{"new session missing its start", []msg{status("ready", 5, 9), state("init", 6), status("ready", 6, 3)}, "ready", 6, nil, 1, 1},
		{"alert raised then cleared", []msg{status("ready", 5, 1), alert("printer-paper-out", 5, 2), cleared("printer-paper-out")}, "ready", 5, nil, 0, 0},
		{"alert kept", []msg{status("degraded", 5, 1), alert("printer-paper-out", 5, 2), status("degraded", 5, 3, "printer-paper-out")}, "degraded", 5, []string{"printer-paper-out"}, 0, 0},
		{"missed clearing, the status drops it", []msg{status("ready", 5, 1), alert("printer-paper-out", 5, 2), status("ready", 5, 3)}, "ready", 5, nil, 0, 0},
		{"retained alert of an older boot, dropped by the status", []msg{alert("printer-paper-out", 4, 9).ret(), status("ready", 5, 2).ret()}, "ready", 5, nil, 0, 0},
		{"missed alert: rebirth", []msg{status("ready", 5, 1), status("degraded", 5, 2, "printer-paper-out")}, "degraded", 5, nil, 1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := NewView()
			apply(t, v, c.msgs...)
			k, ok := v.Kiosk(k01)
			if !ok {
				t.Fatal("kiosk not in the view")
			}
			if k.State != c.state || k.Boot != c.boot {
				t.Errorf("state %q boot %d, want %q boot %d", k.State, k.Boot, c.state, c.boot)
			}
			if got := k.ActiveAlerts(); fmt.Sprint(got) != fmt.Sprint(append([]string{}, c.alerts...)) {
				t.Errorf("alerts %v, want %v", got, c.alerts)
			}
			if k.Rebirths != c.rebirths || k.Gaps != c.gaps {
				t.Errorf("rebirths %d gaps %d, want %d %d", k.Rebirths, k.Gaps, c.rebirths, c.gaps)
			}
		})
	}
}

func TestViewRebirthRateLimit(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	v := NewView()
	v.Now = func() time.Time { return now }
	us := apply(t, v, status("ready", 5, 1), event("a", 5, 3))
	if !us[1].Gap || !us[1].Rebirth {
		t.Fatalf("first gap: %+v", us[1])
	}
	now = now.Add(10 * time.Second)
	if us = apply(t, v, event("b", 5, 5)); !us[0].Gap || us[0].Rebirth {
		t.Errorf("gap 10 s later: %+v", us[0])
	}
	now = now.Add(DefaultRebirthEvery)
	if us = apply(t, v, event("c", 5, 7)); !us[0].Rebirth {
		t.Errorf("gap after the limit: %+v", us[0])
	}
}

func TestViewEventDedupe(t *testing.T) {
	v := NewView()
	us := apply(t, v, status("ready", 5, 1), event("e1", 5, 2), state("init", 6), status("ready", 6, 1), event("e1", 6, 2), event("e2", 6, 3))
	if us[1].Event == nil || us[4].Event != nil || !us[4].Duplicate || us[5].Event == nil {
		t.Errorf("dedupe: %+v %+v %+v", us[1], us[4], us[5])
	}
	// A late copy from an older session is stale, and its id still dedupes.
	us = apply(t, v, event("e3", 5, 3))
	if !us[0].Stale || us[0].Event == nil {
		t.Errorf("late copy of a new event from an old session: %+v", us[0])
	}
}

func TestViewRejects(t *testing.T) {
	v := NewView()
	for _, c := range []struct{ topic, payload string }{
		{"other/v1/h1/k01/state", `{}`},
		{root + "/state", `not json`},
		{root + "/state", `{"state":"exploded","boot":1}`},
		{root + "/status", `[1,2]`},
		{root + "/event", `{"seq":1}`},
		{root + "/unknown", `{}`},
		{"citizenhome/v1/H1/k01/state", `{"state":"ready"}`},
	} {
		if _, err := v.Apply(c.topic, []byte(c.payload), false); err == nil {
			t.Errorf("Apply(%s, %s) accepted", c.topic, c.payload)
		}
	}
	if len(v.Kiosks()) != 0 {
		t.Errorf("rejected messages made kiosks: %+v", v.Kiosks())
	}
}

func TestViewCommand(t *testing.T) {
	v := NewView()
	apply(t, v, status("ready", 5, 1))
	before, _ := v.Kiosk(k01)
	cmd := `{"id":"c1","name":"lock","args":{"message":"维护"},"expires":"2026-11-26T09:01:00+08:00","by":"kioskctl@crew"}`
	u, err := v.Apply(root+"/cmd", []byte(cmd), false)
	if err != nil {
		t.Fatal(err)
	}
	if c := u.Command; c == nil || c.ID != "c1" || c.Name != wire.CmdLock || c.By != "kioskctl@crew" ||
		string(c.Args) != `{"message":"维护"}` || !c.Expires.Equal(time.Date(2026, 11, 26, 1, 1, 0, 0, time.UTC)) {
		t.Errorf("command: %+v", u.Command)
	}
	if u.Addr.Kiosk != k01 || u.Addr.Kind != wire.KindCmd {
		t.Errorf("address: %+v", u.Addr)
	}
	after, _ := v.Kiosk(k01)
	if !after.LastSeen.Equal(before.LastSeen) || after.State != before.State || after.LastSeq != before.LastSeq {
		t.Errorf("a command changed the kiosk: %+v, was %+v", after, before)
	}
	// A command to a kiosk the view does not know is returned but adds no kiosk.
	if u, err := v.Apply("citizenhome/v1/h1/k99/cmd", []byte(cmd), false); err != nil || u.Command == nil {
		t.Errorf("command to an unknown kiosk: %+v %v", u, err)
	}
	if _, ok := v.Kiosk(wire.Kiosk{Hall: "h1", Kiosk: "k99"}); ok {
		t.Error("a command added a kiosk")
	}
	for _, bad := range []string{
		``, `not json`, `{"name":"lock","expires":"2026-11-26T09:01:00+08:00","by":"x"}`,
		`{"id":"c2","name":"lock","expires":"soon","by":"x"}`,
		`{"id":"c3","name":"lock","expires":"2026-11-26T09:01:00+08:00","by":"x","args":[1]}`,
	} {
		u, err := v.Apply(root+"/cmd", []byte(bad), false)
		if !errors.Is(err, &wire.CommandError{Code: wire.RefuseMalformed}) || u.Command != nil {
			t.Errorf("malformed command %q: %+v %v", bad, u, err)
		}
	}
	if k, _ := v.Kiosk(k01); !k.LastSeen.Equal(before.LastSeen) {
		t.Error("a malformed command changed the kiosk")
	}
}

func TestViewController(t *testing.T) {
	v := NewView()
	if _, err := v.Apply("citizenhome/v1/h1/controller/state", []byte(`{"online":true}`), true); err != nil {
		t.Fatal(err)
	}
	if s, ok := v.Controller("h1"); !ok || !s.Online {
		t.Errorf("controller: %+v %v", s, ok)
	}
	if len(v.Kiosks()) != 0 {
		t.Error("the controller shows as a kiosk")
	}
}

func TestIDSetBounded(t *testing.T) {
	s := newIDSet(3)
	for _, id := range []string{"a", "b", "c", "d"} {
		if !s.add(id) {
			t.Errorf("%s not new", id)
		}
	}
	if s.add("d") || s.add("b") {
		t.Error("recent ids forgotten")
	}
	if !s.add("a") {
		t.Error("the oldest id kept beyond the bound")
	}
	if len(s.set) != 3 {
		t.Errorf("%d ids kept", len(s.set))
	}
}

func FuzzApply(f *testing.F) {
	f.Add(root+"/state", []byte(`{"state":"ready","boot":3,"since":"2026-11-26T09:00:00+08:00","version":"1"}`), true)
	f.Add(root+"/status", []byte(`{"boot":3,"seq":2,"state":"ready","alerts":["a"]}`), false)
	f.Add(root+"/alert/printer-paper-out", []byte(`{"severity":"error","boot":3,"seq":3}`), true)
	f.Add(root+"/event", []byte(`{"id":"x","boot":3,"seq":4,"type":"t","data":{}}`), false)
	f.Add(root+"/reply", []byte(`{"id":"c","ok":false,"error":"e"}`), false)
	f.Add(root+"/cmd", []byte(`{"id":"c","name":"lock","args":{"message":"m"},"expires":"2026-11-26T09:01:00+08:00","by":"crew"}`), false)
	f.Fuzz(func(t *testing.T, topic string, payload []byte, retained bool) {
		v := NewView()
		_, _ = v.Apply(topic, payload, retained)
		_, _ = v.Apply(topic, payload, !retained)
		for _, k := range v.Kiosks() {
			if k.ID.Check() != nil {
				t.Fatalf("kiosk with a bad id in the view: %+v", k.ID)
			}
		}
	})
}
