package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/fleet/fleetsim"
	"citizenhome/kiosk"
	"citizenhome/seal"
	"citizenhome/telemetry/agent"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/telemetrytest"
	"citizenhome/telemetry/wire"
)

// This package's kiosk ids on the shared broker: k30-k39.

func startKiosk(t *testing.T, env mqtttest.Env, id string) *kiosk.Kiosk {
	t.Helper()
	k, _, _ := telemetrytest.StartKiosk(t, env, id, "9.9")
	// Connected and born: its retained state says so.
	rec := mqtttest.Record(t, env.Staff(), "citizenhome/v1/"+env.Hall+"/"+id+"/state", mqtttest.RecordOptions{})
	rec.Wait(t, 10*time.Second, "the kiosk's birth", func(ms []mqtttest.Msg) bool {
		return len(ms) > 0 && strings.Contains(string(ms[len(ms)-1].Payload), `"ready"`)
	})
	return k
}

func conn(env mqtttest.Env) []string {
	return []string{"--url", env.URL, "--user", env.StaffUser, "--password", env.StaffPassword, "--hall", env.Hall}
}

func TestFleetCommands(t *testing.T) {
	env := mqtttest.Shared(t)
	k := startKiosk(t, env, "k30")
	c := conn(env)

	code, out, errs := runCtl(append([]string{"status", "--json"}, c...), "")
	var rows []statusRow
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil {
		t.Fatalf("status --json: %d %q %q", code, out, errs)
	}
	var row *statusRow
	for i := range rows {
		if rows[i].Kiosk == "k30" {
			row = &rows[i]
		}
	}
	if row == nil || row.State != "ready" || row.Devices["printer"] != "absent" || row.Version != "9.9" || row.Alerts == nil {
		t.Errorf("status row: %+v", row)
	}
	code, out, _ = runCtl(append([]string{"status"}, c...), "")
	if code != 0 || !strings.Contains(out, "KIOSK") || !strings.Contains(out, env.Hall+"/k30") || !strings.Contains(out, "ready") {
		t.Errorf("status table: %d\n%s", code, out)
	}

	// Flags after the kiosks work too.
	code, out, errs = runCtl(append(append([]string{"lock"}, c...), "k30", "--message", "设备维护"), "")
	if code != 0 || !strings.Contains(out, "k30: ok") {
		t.Fatalf("lock: %d %q %q", code, out, errs)
	}
	if locked, msg := k.Locked(); !locked || msg != "设备维护" {
		t.Errorf("kiosk after kioskctl lock: %v %q", locked, msg)
	}
	code, out, _ = runCtl(append([]string{"unlock", "--json"}, append(c, env.Hall+"/k30")...), "")
	var res []cmdResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res) != 1 || !res[0].OK {
		t.Errorf("unlock --json: %d %q", code, out)
	}
	// A refusal: exit 1, the reason shown.
	code, out, _ = runCtl(append([]string{"reprint", "--ticket", "Z999"}, append(c, "k30")...), "")
	if code != 1 || !strings.Contains(out, wire.RefuseNotFound) {
		t.Errorf("reprint of no ticket: %d %q", code, out)
	}
	// No kiosk there: exit 1 on the timeout; the kiosk that is there still answers.
	code, out, _ = runCtl(append([]string{"rebirth", "--timeout", "1s"}, append(c, "k30", "k39")...), "")
	if code != 1 || !strings.Contains(out, "k30: ok") || !strings.Contains(out, "k39: timeout") {
		t.Errorf("rebirth k30 k39: %d %q", code, out)
	}
	code, out, _ = runCtl(append([]string{"set-config", "--set", "kiosk.store=/x"}, append(c, "k30")...), "")
	if code != 1 || !strings.Contains(out, wire.RefuseBadArgs) {
		t.Errorf("set-config of a key not allowed: %d %q", code, out)
	}

	// alerts: none, then the printer's.
	code, out, _ = runCtl(append([]string{"alerts", "--json"}, c...), "")
	if code != 0 || strings.Contains(out, "k30") {
		t.Errorf("alerts before a fault: %d %q", code, out)
	}
	k.SetDevice(kiosk.DevicePrinter, kiosk.StateCoverOpen, "")
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out, _ = runCtl(append([]string{"alerts"}, c...), "")
		if strings.Contains(out, "printer-cover-open") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alerts never showed the cover: %d %q", code, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	k.SetDevice(kiosk.DevicePrinter, kiosk.StateAbsent, "")

	// watch sees a lock live. It first prints the retained state: then it is subscribed.
	var wout syncBuffer
	done := make(chan struct{})
	go func() {
		run(append([]string{"watch", "--json", "--for", "3s"}, c...), strings.NewReader(""), &wout, io.Discard)
		close(done)
	}()
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(wout.String(), `"kiosk":"`+env.Hall+`/k30","kind":"state"`) {
		if time.Now().After(deadline) {
			t.Fatalf("watch never showed the retained state: %q", wout.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	k.Staff(kiosk.Remote("test-ops")).Lock(context.Background(), "")
	<-done
	k.Staff(kiosk.Remote("test-ops")).Unlock(context.Background())
	out = wout.String()
	var sawLock bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var l watchLine
		if json.Unmarshal([]byte(line), &l) != nil {
			t.Errorf("watch --json line %q", line)
			continue
		}
		if l.Kind == "state" && l.State.State == wire.StateLocked && l.Kiosk == env.Hall+"/k30" {
			sawLock = true
		}
	}
	if !sawLock {
		t.Errorf("watch did not show the lock:\n%s", out)
	}
}

// A kiosk that requires the hall's signature: kioskctl with the hall's key file (halld's
// command.key) signs and the command runs; without it the kiosk refuses, and kioskctl says why.
func TestFleetSignedCommands(t *testing.T) {
	env := mqtttest.Shared(t)
	keyFile := filepath.Join(t.TempDir(), "command.key")
	seed, _, err := seal.LoadSecret(keyFile) // as halld makes it
	if err != nil {
		t.Fatal(err)
	}
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	k, _, _ := telemetrytest.StartKioskWith(t, env, "k31", "9.9", func(o *agent.Options) { o.CommandKey = pub })
	rec := mqtttest.Record(t, env.Staff(), "citizenhome/v1/"+env.Hall+"/k31/state", mqtttest.RecordOptions{})
	rec.Wait(t, 10*time.Second, "the kiosk's birth", func(ms []mqtttest.Msg) bool {
		return len(ms) > 0 && strings.Contains(string(ms[len(ms)-1].Payload), `"ready"`)
	})
	c := conn(env)
	code, out, _ := runCtl(append([]string{"lock", "--message", "设备维护"}, append(c, "k31")...), "")
	if code != 1 || !strings.Contains(out, wire.RefuseUnsigned) {
		t.Errorf("lock without the key: %d %q", code, out)
	}
	if locked, _ := k.Locked(); locked {
		t.Error("an unsigned lock ran")
	}
	code, out, errs := runCtl(append([]string{"lock", "--message", "设备维护", "--command-key", keyFile}, append(c, "k31")...), "")
	if code != 0 || !strings.Contains(out, "k31: ok") {
		t.Errorf("lock with the key: %d %q %q", code, out, errs)
	}
	if locked, msg := k.Locked(); !locked || msg != "设备维护" {
		t.Errorf("kiosk after a signed lock: %v %q", locked, msg)
	}
	code, out, errs = runCtl(append([]string{"unlock", "--command-key", keyFile + ".missing"}, append(c, "k31")...), "")
	if code == 0 || !strings.Contains(out+errs, "--command-key") {
		t.Errorf("a missing key file: %d %q %q", code, out, errs)
	}
	if locked, _ := k.Locked(); !locked {
		t.Error("the kiosk was unlocked without the key")
	}
}

func TestFleetUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"status", "--user", "u", "--password", "p"}, 1, "no hall"},
		{[]string{"status", "--hall", "h1"}, 1, "no account"},
		{[]string{"lock", "--hall", "h1", "--user", "u", "--password", "p", "--url", "http://x:1"}, 1, "scheme"},
		{[]string{"status", "--bogus"}, 2, ""},
	} {
		code, out, errs := runCtl(c.args, "")
		if code != c.code || !strings.Contains(out+errs, c.want) {
			t.Errorf("%v: %d %q %q", c.args, code, out, errs)
		}
	}
}

func TestSimulate(t *testing.T) {
	const n = 5
	var ids []string
	for i := 1; i <= n; i++ {
		ids = append(ids, fleetsim.SimName("sim", i))
	}
	m := mqtttest.StartMosquitto(t, mqtttest.NewEnv("simhall", ids...))
	code, out, errs := runCtl([]string{"simulate", "--json", "--url", m.URL, "--user", m.StaffUser, "--password", m.StaffPassword,
		"--hall", "simhall", "-n", "5", "--for", "2s", "--every", "200ms", "--kiosk-password", m.KioskPassword}, "")
	var r fleetsim.Report
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("simulate: %d %q %q", code, out, errs)
	}
	if r.Connected != n || r.Lost != 0 || r.Received < n*5 || r.LagMax >= fleetsim.MaxLag {
		t.Errorf("simulate report: %+v", r)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
