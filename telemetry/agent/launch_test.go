package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citizenhome/kiosk/config"
	"citizenhome/telemetry/broker"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// mqtt.embedded = true: the broker runs in the process with the kiosk's own account and the
// hall's password file and ACL beside the credentials file.
func TestLaunchEmbedded(t *testing.T) {
	dir := t.TempDir()
	k, st := newKiosk(t, "h1", "k01", "", nil)
	cfg := k.Config()
	cfg.MQTT = config.MQTT{Enabled: true, Embedded: true, URL: "tcp://127.0.0.1:0", CredentialsFile: filepath.Join(dir, "mqtt.credentials")}
	cfg.MQTT.Heartbeat.Duration = time.Minute
	if err := link.WriteCredentials(cfg.MQTT.CredentialsFile, "kiosk-h1-k01", "kpass"); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "mosquitto"), 0o700)
	os.WriteFile(filepath.Join(dir, EmbeddedPasswordFile), []byte("ops:"+broker.HashPassword("opspass", []byte("0123456789ab"))+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, EmbeddedACLFile), []byte("user ops\ntopic read citizenhome/v1/h1/#\ntopic write citizenhome/v1/h1/+/cmd\n"), 0o600)
	r, err := Launch(context.Background(), cfg, LaunchOptions{Kiosk: k, Store: st, Version: "t", Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	staff := link.Settings{URL: r.Broker.URL(), Username: "ops", Password: "opspass", ClientID: "ops-1"}
	rec := mqtttest.Record(t, staff, "citizenhome/v1/h1/#", mqtttest.RecordOptions{})
	rec.Wait(t, 10*time.Second, "the kiosk ready", func(ms []mqtttest.Msg) bool {
		return hasState(ms, "citizenhome/v1/h1/k01", wire.StateReady, 0)
	})
	// The kiosk's account must be named after the kiosk.
	link.WriteCredentials(cfg.MQTT.CredentialsFile, "kiosk-h1-k02", "kpass")
	cfg.MQTT.URL = "tcp://127.0.0.1:0"
	if _, err := Launch(context.Background(), cfg, LaunchOptions{Kiosk: k, Store: st, Log: quietLog()}); err == nil {
		t.Error("an embedded broker started with another kiosk's account")
	}
}

// The demo: an embedded broker with fresh accounts, the staff's written for kioskctl.
func TestLaunchDemo(t *testing.T) {
	dir := t.TempDir()
	k, st := newKiosk(t, "demo", "demo-01", "", nil)
	r, err := Launch(context.Background(), k.Config(), LaunchOptions{Kiosk: k, Store: st, Log: quietLog(), DemoDir: dir, DemoAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	u, p, err := link.ReadCredentials(filepath.Join(dir, "mqtt-staff.credentials"))
	if err != nil {
		t.Fatal(err)
	}
	rec := mqtttest.Record(t, link.Settings{URL: r.Broker.URL(), Username: u, Password: p, ClientID: "x"}, "citizenhome/v1/demo/#", mqtttest.RecordOptions{})
	rec.Wait(t, 10*time.Second, "the demo kiosk ready", func(ms []mqtttest.Msg) bool {
		return hasState(ms, "citizenhome/v1/demo/demo-01", wire.StateReady, 0)
	})
	// Off: nothing started.
	if r, err := Launch(context.Background(), k.Config(), LaunchOptions{Kiosk: k, Store: st}); r != nil || err != nil {
		t.Errorf("Launch with mqtt.enabled = false: %v %v", r, err)
	}
}

// hall.command_key reaches the agent: a kiosk launched with it refuses an unsigned command.
func TestLaunchCommandKey(t *testing.T) {
	dir := t.TempDir()
	k, st := newKiosk(t, "demo", "demo-01", "", nil)
	cfg := k.Config()
	cfg.Hall.CommandKey = "ed25519:" + strings.Repeat("A", 43) + "="
	r, err := Launch(context.Background(), cfg, LaunchOptions{Kiosk: k, Store: st, Log: quietLog(), DemoDir: dir, DemoAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if want, _ := wire.ParseCommandKey(cfg.Hall.CommandKey); !r.Agent.o.CommandKey.Equal(want) {
		t.Errorf("agent key %x", r.Agent.o.CommandKey)
	}
	cfg.Hall.CommandKey = "ed25519:short"
	if r2, err := Launch(context.Background(), cfg, LaunchOptions{Kiosk: k, Store: st, Log: quietLog(), DemoDir: t.TempDir(), DemoAddr: "127.0.0.1:0"}); err == nil {
		r2.Close()
		t.Error("a bad hall.command_key was launched")
	}
}
