package agent

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"citizenhome/kiosk"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/store"
	"citizenhome/telemetry/broker"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/wire"
)

// Files an embedded broker reads beside mqtt.credentials_file, when they exist: the hall's
// Mosquitto password file and ACL (the same files an external Mosquitto uses), for the staff and
// controller accounts. The kiosk's own account needs neither: it is the credentials file.
const (
	EmbeddedPasswordFile = "mosquitto/passwd"
	EmbeddedACLFile      = "mosquitto/acl"
)

// DemoListen is where `kiosk -demo` runs its embedded broker.
const DemoListen = "127.0.0.1:1883"

// LaunchOptions are what Launch needs besides the configuration.
type LaunchOptions struct {
	Kiosk   *kiosk.Kiosk
	Store   *store.Store
	Version string
	Log     *slog.Logger
	// DemoDir, when set, runs the demo's telemetry whatever mqtt.enabled says: an embedded
	// broker on DemoAddr with fresh accounts, the staff's written to DemoDir/mqtt-staff.credentials
	// and the controller's to DemoDir/mqtt-controller.credentials (for kioskctl).
	DemoDir  string
	DemoAddr string // default DemoListen
}

// Running is telemetry started from the configuration: the agent and, for a one-machine hall
// or the demo, the embedded broker.
type Running struct {
	Agent  *Agent
	Broker *broker.Broker // nil with an external broker
}

// Close publishes the planned shutdown, disconnects, then stops the embedded broker.
func (r *Running) Close() error {
	if r == nil {
		return nil
	}
	err := r.Agent.Close()
	if r.Broker != nil {
		err = errors.Join(err, r.Broker.Close())
	}
	return err
}

// Launch starts telemetry as cfg's [mqtt] says; it returns nil, nil when telemetry is off
// (mqtt.enabled = false and no demo). The agent runs until Close; a broker that is not there
// yet is retried in the background, and events wait in the outbox meanwhile.
func Launch(ctx context.Context, cfg config.Config, o LaunchOptions) (*Running, error) {
	m := cfg.MQTT
	if !m.Enabled && o.DemoDir == "" {
		return nil, nil
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	id := wire.Kiosk{Hall: cfg.Hall.ID, Kiosk: cfg.Kiosk.ID}
	s := link.Settings{URL: m.URL, CAFile: m.CAFile, CertFile: m.CertFile, KeyFile: m.KeyFile}
	r := &Running{}
	var err error
	switch {
	case o.DemoDir != "":
		r.Broker, s, err = demoBroker(id, o)
	case m.Embedded:
		r.Broker, s, err = embeddedBroker(id, m, o.Log)
	case m.CredentialsFile != "":
		s.Username, s.Password, err = link.ReadCredentials(m.CredentialsFile)
	}
	var key ed25519.PublicKey
	if err == nil && cfg.Hall.CommandKey != "" {
		key, err = wire.ParseCommandKey(cfg.Hall.CommandKey) // config.Check has said why already
	}
	if err != nil {
		if r.Broker != nil {
			r.Broker.Close()
		}
		return nil, err
	}
	a, err := New(Options{Kiosk: o.Kiosk, Store: o.Store, Link: s, Heartbeat: m.Heartbeat.Duration, Version: o.Version, Log: o.Log, CommandKey: key})
	if err != nil {
		if r.Broker != nil {
			r.Broker.Close()
		}
		return nil, err
	}
	r.Agent = a
	a.Start(ctx)
	return r, nil
}

func embeddedBroker(id wire.Kiosk, m config.MQTT, log *slog.Logger) (*broker.Broker, link.Settings, error) {
	u, err := url.Parse(m.URL)
	if err != nil || u.Scheme != "tcp" {
		return nil, link.Settings{}, fmt.Errorf("mqtt.url %q: an embedded broker listens on a tcp:// loopback address", m.URL)
	}
	if m.CredentialsFile == "" {
		return nil, link.Settings{}, errors.New("mqtt.credentials_file: the embedded broker needs the kiosk's account")
	}
	user, pass, err := link.ReadCredentials(m.CredentialsFile)
	if err != nil {
		return nil, link.Settings{}, err
	}
	if user != id.ClientID() {
		return nil, link.Settings{}, fmt.Errorf("mqtt.credentials_file: the kiosk's account must be named %s, not %s", id.ClientID(), user)
	}
	bc := broker.Config{Listen: u.Host, Log: log,
		Accounts: []broker.Account{{Username: user, Password: pass, Rules: broker.KioskRules(id.Hall, id.Kiosk)}}}
	dir := filepath.Dir(m.CredentialsFile)
	if p := filepath.Join(dir, EmbeddedPasswordFile); exists(p) {
		bc.PasswordFile = p
	}
	if p := filepath.Join(dir, EmbeddedACLFile); exists(p) {
		bc.ACLFile = p
	}
	b, err := broker.Start(bc)
	if err != nil {
		return nil, link.Settings{}, err
	}
	log.Info("embedded MQTT broker listening", "addr", b.Addr(), "password_file", bc.PasswordFile, "acl_file", bc.ACLFile)
	return b, link.Settings{URL: b.URL(), Username: user, Password: pass}, nil
}

func demoBroker(id wire.Kiosk, o LaunchOptions) (*broker.Broker, link.Settings, error) {
	addr := o.DemoAddr
	if addr == "" {
		addr = DemoListen
	}
	pass, err := newID()
	if err != nil {
		return nil, link.Settings{}, err
	}
	staffPass, _ := newID()
	ctlPass, _ := newID()
	staff, ctl := "ops-"+id.Hall, "ctl-"+id.Hall
	b, err := broker.Start(broker.Config{Listen: addr, Log: o.Log, Accounts: []broker.Account{
		{Username: id.ClientID(), Password: pass, Rules: broker.KioskRules(id.Hall, id.Kiosk)},
		{Username: staff, Password: staffPass, Rules: broker.StaffRules(id.Hall)},
		{Username: ctl, Password: ctlPass, Rules: broker.ControllerRules(id.Hall)},
	}})
	if err != nil {
		return nil, link.Settings{}, err
	}
	if err := os.MkdirAll(o.DemoDir, 0o700); err != nil {
		b.Close()
		return nil, link.Settings{}, err
	}
	sf := filepath.Join(o.DemoDir, "mqtt-staff.credentials")
	if err := link.WriteCredentials(sf, staff, staffPass); err != nil {
		b.Close()
		return nil, link.Settings{}, err
	}
	if err := link.WriteCredentials(filepath.Join(o.DemoDir, "mqtt-controller.credentials"), ctl, ctlPass); err != nil {
		b.Close()
		return nil, link.Settings{}, err
	}
	o.Log.Info("demo telemetry: embedded MQTT broker", "url", b.URL(),
		"try", fmt.Sprintf("kioskctl status --url %s --credentials %s --hall %s", b.URL(), sf, id.Hall))
	return b, link.Settings{URL: b.URL(), Username: id.ClientID(), Password: pass, KeepAlive: 15 * time.Second}, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
