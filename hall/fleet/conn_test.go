package fleet_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"citizenhome/hall/fleet"
	"citizenhome/kiosk"
	"citizenhome/kiosk/store"
	"citizenhome/telemetry/agent"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/telemetrytest"
	"citizenhome/telemetry/wire"
)

// This package's kiosk ids on the shared broker: k20-k29.

func startKiosk(t *testing.T, env mqtttest.Env, id string) (*kiosk.Kiosk, *store.Store, *agent.Agent) {
	return telemetrytest.StartKiosk(t, env, id, "test")
}

func waitView(t *testing.T, v *fleet.View, id wire.Kiosk, what string, cond func(fleet.Kiosk) bool) fleet.Kiosk {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		k, ok := v.Kiosk(id)
		if ok && cond(k) {
			return k
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %+v", what, k)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestConnCommandsAndView(t *testing.T) {
	env := mqtttest.Shared(t)
	k, _, a := startKiosk(t, env, "k20")
	id := wire.Kiosk{Hall: env.Hall, Kiosk: "k20"}
	v := fleet.NewView()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan wire.Event, 16)
	c, err := fleet.Dial(ctx, env.Staff(), v, fleet.DialOptions{Hall: env.Hall, By: "crew-1", OnUpdate: func(u fleet.Update) {
		// The shared broker carries other packages' kiosks of the same hall: k20's events only.
		if u.Event != nil && u.Event.Type == wire.EventCommandDone && u.Addr.Kiosk == id {
			select {
			case done <- *u.Event:
			default:
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitView(t, v, id, "ready", func(k fleet.Kiosk) bool { return k.State == wire.StateReady && k.Status != nil })
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	r, err := c.Command(cctx, id, fleet.Order{Name: wire.CmdLock, Args: map[string]string{"message": "维护"}, By: "crew-li"})
	ccancel()
	if err != nil || !r.OK {
		t.Fatalf("lock: %+v %v", r, err)
	}
	if locked, msg := k.Locked(); !locked || msg != "维护" {
		t.Errorf("kiosk after lock: %v %q", locked, msg)
	}
	// The order's sender, not the connection's, is who the kiosk's audit names.
	select {
	case e := <-done:
		var d struct{ Command, By string }
		if err := json.Unmarshal(e.Data, &d); err != nil || d.Command != r.ID || d.By != "crew-li" {
			t.Errorf("command.done %s: %+v %v, want command %s by crew-li", e.Data, d, err, r.ID)
		}
	case <-time.After(10 * time.Second):
		t.Error("no command.done event for the lock")
	}
	waitView(t, v, id, "locked", func(k fleet.Kiosk) bool { return k.State == wire.StateLocked })
	cctx, ccancel = context.WithTimeout(ctx, 10*time.Second)
	_, err = c.Command(cctx, id, fleet.Order{Name: "dance"})
	ccancel()
	var ce *fleet.CommandError
	if !errors.As(err, &ce) || ce.Reply.Code != wire.RefuseUnknown {
		t.Errorf("unknown command: %v", err)
	}
	// No kiosk: no reply, in time.
	cctx, ccancel = context.WithTimeout(ctx, 500*time.Millisecond)
	r, err = c.Command(cctx, wire.Kiosk{Hall: env.Hall, Kiosk: "k29"}, fleet.Order{Name: wire.CmdUnlock})
	ccancel()
	if !errors.Is(err, fleet.ErrNoReply) || r.ID == "" {
		t.Errorf("command to an absent kiosk: %+v %v (want ErrNoReply and the command's id)", r, err)
	}
	a.Close()
	waitView(t, v, id, "disconnected", func(k fleet.Kiosk) bool { return k.State == wire.StateDisconnected })

	// A view that starts now sees the retained picture.
	v2 := fleet.NewView()
	c2, err := fleet.Dial(ctx, env.Staff(), v2, fleet.DialOptions{Hall: env.Hall})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if k, ok := v2.Kiosk(id); !ok || k.State != wire.StateDisconnected || k.Status == nil {
		t.Errorf("retained picture after Dial: %+v", k)
	}
}

// A gap in seq makes the view ask the kiosk for a rebirth, which it answers.
func TestConnRebirthOnGap(t *testing.T) {
	// A private broker with a forger's account that may write k21's events: k21's own account
	// is bound to its client id, which the running kiosk holds.
	env := mqtttest.NewEnv("gap", "k21")
	forger := mqtttest.RandomHex(8)
	env = mqtttest.StartMosquittoWith(t, env, mqtttest.BrokerOptions{Users: map[string]string{"forger": forger},
		ACL: "user forger\ntopic write citizenhome/v1/gap/k21/event"}).Env
	_, st, _ := startKiosk(t, env, "k21")
	id := wire.Kiosk{Hall: env.Hall, Kiosk: "k21"}
	v := fleet.NewView()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := fleet.Dial(ctx, env.Staff(), v, fleet.DialOptions{Hall: env.Hall, By: "crew-2", AutoRebirth: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	k := waitView(t, v, id, "ready", func(k fleet.Kiosk) bool { return k.State == wire.StateReady && k.Status != nil })
	// Two live messages with a hole between them, as if the view had missed some: an event
	// one ahead (the baseline), then one three further.
	forge := func(seq int64) {
		s := env.Settings("forger", forger, "")
		b, _ := json.Marshal(wire.Event{ID: mqtttest.RandomHex(8), Boot: k.Boot, Seq: seq, Type: "test", Data: json.RawMessage(`{}`)})
		if tok := mqtttest.Connect(t, s).Publish(id.Topic(wire.KindEvent), 1, false, b); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	forge(k.LastSeq + 1)
	forge(k.LastSeq + 5)
	waitView(t, v, id, "a rebirth asked", func(k fleet.Kiosk) bool { return k.Rebirths == 1 && k.Gaps == 1 })
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := st.DB().QueryRow(`SELECT count(*) FROM command_audit WHERE name = 'rebirth' AND by_user = 'crew-2' AND ok = 1`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the kiosk never got the rebirth command")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// halld's account (the controller's, ACL from packaging/mosquitto/citizenhome-acl) sees every
// command on the broker, kioskctl's and its own, for its history; a command to a kiosk nobody
// knows adds no kiosk to the view.
func TestConnSeesEveryCommand(t *testing.T) {
	env := mqtttest.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	seen := make(chan wire.Command, 16)
	hv := fleet.NewView()
	halld, err := fleet.Dial(ctx, env.Controller(), hv, fleet.DialOptions{Hall: env.Hall, By: "halld-test",
		OnUpdate: func(u fleet.Update) {
			if u.Command != nil && u.Addr.Kiosk.Kiosk == "k28" {
				select {
				case seen <- *u.Command:
				default:
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer halld.Close()
	crew, err := fleet.Dial(ctx, env.Staff(), fleet.NewView(), fleet.DialOptions{Hall: env.Hall, By: "kioskctl-crew"})
	if err != nil {
		t.Fatal(err)
	}
	defer crew.Close()
	absent := wire.Kiosk{Hall: env.Hall, Kiosk: "k28"}
	for _, c := range []struct {
		conn *fleet.Conn
		name string
		by   string
	}{{crew, wire.CmdUnlock, "kioskctl-crew"}, {halld, wire.CmdSelftest, "halld-test"}} {
		cctx, ccancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err := c.conn.Command(cctx, absent, fleet.Order{Name: c.name})
		ccancel()
		if !errors.Is(err, fleet.ErrNoReply) {
			t.Fatalf("%s to an absent kiosk: %v", c.name, err)
		}
		select {
		case got := <-seen:
			if got.Name != c.name || got.By != c.by || got.ID == "" {
				t.Errorf("seen %+v, want %s by %s", got, c.name, c.by)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("halld never saw %s by %s", c.name, c.by)
		}
	}
	if _, ok := hv.Kiosk(absent); ok {
		t.Error("commands added a kiosk to the view")
	}
}
