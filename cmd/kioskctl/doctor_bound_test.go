package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"citizenhome/internal/localapi"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/telemetrytest"
	"citizenhome/telemetry/wire"
)

// The broker binds a kiosk account to the kiosk's own client id, so the doctor's probe under
// another id is refused even with the right password; with the kiosk running, the doctor must
// not log in under the kiosk's own id either (the broker would end the kiosk's session). It
// takes kioskd's word, or says a kiosk holds the store, and the kiosk stays connected.
func TestDoctorBrokerBound(t *testing.T) {
	env := mqtttest.Shared(t)
	k, _, a := telemetrytest.StartKiosk(t, env, "k37", "9.9")
	root := "citizenhome/v1/" + env.Hall + "/k37"
	rec := mqtttest.Record(t, env.Staff(), root+"/state", mqtttest.RecordOptions{})
	rec.Wait(t, 10*time.Second, "the kiosk's birth", func(ms []mqtttest.Msg) bool {
		return len(ms) > 0 && strings.Contains(string(ms[len(ms)-1].Payload), `"ready"`)
	})
	boot := a.Snapshot(context.Background()).Boot

	s := newSetup(t)
	creds := filepath.Join(s.dir, "k37.credentials")
	if err := link.WriteCredentials(creds, env.KioskUser("k37"), env.KioskPassword); err != nil {
		t.Fatal(err)
	}
	s.mqtt = fmt.Sprintf("enabled = true\nurl = %q\ncredentials_file = %q", env.URL, creds)

	// kioskd runs (its local API, with the agent's status): it is connected.
	withProbes(t, nil)
	api := localapi.New(k, "secret")
	api.UseTelemetry(a)
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: api}
	go srv.Serve(ln)
	if err := os.WriteFile(s.tokenPath, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, d := runDoctorJSON(t, s.write(t))
	if r := d.check(t, "broker"); r.Status != checkOK || !strings.Contains(r.Message, "connected as "+env.KioskUser("k37")) {
		t.Errorf("kioskd connected: %+v", r)
	}
	srv.Close()

	// The kiosk app holds the store (a stand-in process of a name the doctor counts as a
	// kiosk's): a warning, and no login.
	holder := exec.Command("tail", "-f", s.storePath)
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	waitOpen(t, holder.Process.Pid, s.storePath)
	withProbes(t, func(d *doctor) { d.kioskProcs = map[string]bool{"tail": true} })
	_, d = runDoctorJSON(t, s.write(t))
	if r := d.check(t, "broker"); r.Status != checkWarn || !strings.Contains(r.Message, "tail (pid "+strconv.Itoa(holder.Process.Pid)+") holds") {
		t.Errorf("the kiosk app running: %+v", r)
	}

	// The running kiosk was never knocked off: it answers a command on its first session (a
	// takeover would have made it reconnect, with the next boot), and no lost will went out.
	replies := mqtttest.Record(t, env.Staff(), root+"/reply", mqtttest.RecordOptions{})
	id := "after-doctor-" + mqtttest.RandomHex(4)
	b, _ := json.Marshal(wire.Command{ID: id, Name: wire.CmdRebirth, By: "test", Expires: time.Now().Add(time.Minute)})
	if tok := mqtttest.Connect(t, env.Staff()).Publish(root+"/cmd", 1, false, b); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	replies.Wait(t, 10*time.Second, "the rebirth's reply", func(ms []mqtttest.Msg) bool {
		for _, m := range ms {
			if strings.Contains(string(m.Payload), id) {
				return true
			}
		}
		return false
	})
	if got := a.Snapshot(context.Background()).Boot; got != boot {
		t.Errorf("the kiosk's session changed (boot %d, then %d): the doctor took it over", boot, got)
	}
	for _, m := range rec.Messages() {
		if strings.Contains(string(m.Payload), `"`+wire.StateLost+`"`) {
			t.Errorf("the kiosk was reported lost: %s", m.Payload)
		}
	}
}

// waitOpen polls until process pid has path open.
func waitOpen(t *testing.T, pid int, path string) {
	t.Helper()
	want, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
		fds, _ := os.ReadDir(dir)
		for _, fd := range fds {
			if fi, err := os.Stat(filepath.Join(dir, fd.Name())); err == nil && os.SameFile(fi, want) {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d did not open %s", pid, path)
}
