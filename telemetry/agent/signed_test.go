package agent

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"testing"
	"time"

	"citizenhome/hall/fleet"
	"citizenhome/kiosk/kiosktest"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// A kiosk given the hall's key (hall.command_key) runs only the commands the hall signed for
// it, on a real Mosquitto with the shipped configuration: signed ones run, unsigned, altered,
// foreign-key, other-kiosk, expired and too-far ones are refused with their code and change
// nothing.
func TestSignedCommands(t *testing.T) {
	m := mqtttest.StartMosquitto(t, mqtttest.NewEnv("sig", "k1", "k2"))
	env := m.Env
	root := "citizenhome/v1/sig/k1"
	id := wire.Kiosk{Hall: "sig", Kiosk: "k1"}
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x42}, ed25519.SeedSize))
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	rec := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	k, st := newKiosk(t, env.Hall, "k1", "", kiosktest.NewPrinter(okStatus()))
	a := newAgent(t, k, st, env.Kiosk("k1"), func(o *Options) { o.CommandKey = priv.Public().(ed25519.PublicKey) })
	startAgent(t, a)
	rec.Wait(t, 10*time.Second, "ready", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateReady, 0) })
	staff := staffClient(t, env)

	signed := func(key ed25519.PrivateKey, to wire.Kiosk, c wire.Command) wire.Command {
		t.Helper()
		s, err := wire.SignCommand(key, to, c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	command := func(cid, name, args string, expires time.Duration) wire.Command {
		c := wire.Command{ID: cid, Name: name, By: "crew", Expires: time.Now().Add(expires).Truncate(time.Second)}
		if args != "" {
			c.Args = json.RawMessage(args)
		}
		return c
	}
	// The signature of a lock with one message, on a lock with another.
	tampered := signed(priv, id, command("s-tampered", wire.CmdLock, `{"message":"设备维护中"}`, time.Minute))
	tampered.Args = json.RawMessage(`{"message":"本机已停用，请勿使用"}`)

	cases := []struct {
		name   string
		cmd    wire.Command
		code   string // "" for ok
		locked bool   // after it
	}{
		{"signed lock runs", signed(priv, id, command("s-lock", wire.CmdLock, `{"message":"<维护> & 检修"}`, time.Minute)), "", true},
		{"unsigned unlock refused", command("s-unsigned", wire.CmdUnlock, "", time.Minute), wire.RefuseUnsigned, true},
		{"tampered args refused", tampered, wire.RefuseBadSignature, true},
		{"another key refused", signed(otherPriv, id, command("s-other-key", wire.CmdUnlock, "", time.Minute)), wire.RefuseBadSignature, true},
		{"signed for another kiosk refused", signed(priv, wire.Kiosk{Hall: "sig", Kiosk: "k2"}, command("s-other-kiosk", wire.CmdUnlock, "", time.Minute)), wire.RefuseBadSignature, true},
		{"signed but expired refused", signed(priv, id, command("s-expired", wire.CmdUnlock, "", -time.Minute)), wire.RefuseExpired, true},
		{"signed but expiring too far ahead refused", signed(priv, id, command("s-far", wire.CmdUnlock, "", wire.MaxCommandLife+time.Hour)), wire.RefuseBadExpiry, true},
		{"signed unlock runs", signed(priv, id, command("s-unlock", wire.CmdUnlock, "", time.Minute)), "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sendCmd(t, staff, root, c.cmd)
			ms := rec.Wait(t, 10*time.Second, "the reply to "+c.cmd.ID, func(ms []mqtttest.Msg) bool { return len(replies(ms, root)[c.cmd.ID]) > 0 })
			r := replies(ms, root)[c.cmd.ID][0]
			if r.OK != (c.code == "") || r.Code != c.code {
				t.Errorf("reply %+v, want code %q", r, c.code)
			}
			if locked, msg := k.Locked(); locked != c.locked {
				t.Errorf("locked = %v (%q) after it, want %v", locked, msg, c.locked)
			}
		})
	}
	if _, msg := k.Locked(); msg != "" {
		t.Errorf("lock message %q left", msg)
	}

	// halld's and kioskctl's sender: a fleet connection with the hall's key signs what it sends;
	// without it, the kiosk refuses.
	for _, withKey := range []bool{true, false} {
		o := fleet.DialOptions{Hall: env.Hall, By: "crew"}
		if withKey {
			o.CommandKey = priv
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		c, err := fleet.Dial(ctx, env.Staff(), fleet.NewView(), o)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		r, err := c.Command(ctx, id, fleet.Order{Name: wire.CmdLock, Args: map[string]string{"message": "<检修> & 维护"}})
		c.Close()
		cancel()
		switch {
		case withKey && (err != nil || !r.OK):
			t.Errorf("a fleet connection with the key: %+v %v", r, err)
		case !withKey && (err == nil || r.Code != wire.RefuseUnsigned):
			t.Errorf("a fleet connection without the key: %+v %v", r, err)
		}
		if locked, msg := k.Locked(); locked != withKey || (withKey && msg != "<检修> & 维护") {
			t.Errorf("with key %v: locked %v %q", withKey, locked, msg)
		}
		if withKey {
			hall(k).Unlock(context.Background())
		}
	}
}
