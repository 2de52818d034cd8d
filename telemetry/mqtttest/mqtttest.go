// Package mqtttest gives tests a real MQTT broker with the contract's accounts and ACL: the
// shared Mosquitto that scripts/testenv.sh starts (Shared), or a private Mosquitto that a test
// may kill and restart (StartMosquitto), and a recorder of what the broker delivers.
//
// A test that needs a broker and finds none is skipped, with the reason, unless CI=true: there
// a missing broker fails the test.
package mqtttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citizenhome/telemetry/link"
)

// Environment variables that scripts/testenv.sh exports for the shared Mosquitto.
const (
	EnvURL                = "CITIZENHOME_MQTT_URL"
	EnvHall               = "CITIZENHOME_MQTT_HALL"
	EnvKiosks             = "CITIZENHOME_MQTT_KIOSKS" // space-separated kiosk ids with accounts
	EnvKioskPassword      = "CITIZENHOME_MQTT_KIOSK_PASSWORD"
	EnvStaffUser          = "CITIZENHOME_MQTT_STAFF_USER"
	EnvStaffPassword      = "CITIZENHOME_MQTT_STAFF_PASSWORD"
	EnvControllerUser     = "CITIZENHOME_MQTT_CONTROLLER_USER"
	EnvControllerPassword = "CITIZENHOME_MQTT_CONTROLLER_PASSWORD"
)

// Env is a broker and its test accounts: one per kiosk (kiosk-{hall}-{kiosk}, all with
// KioskPassword), a staff account and a controller account, with the ACL of
// packaging/mosquitto/citizenhome-acl.
type Env struct {
	URL                string
	Hall               string
	Kiosks             []string
	KioskPassword      string
	StaffUser          string
	StaffPassword      string
	ControllerUser     string
	ControllerPassword string
	// TLS: the CA of the broker's certificate, and a client certificate every account presents.
	CAFile, CertFile, KeyFile string
}

// KioskUser is the account (and client id) of a kiosk.
func (e Env) KioskUser(kiosk string) string { return "kiosk-" + e.Hall + "-" + kiosk }

// Settings are link settings for an account; clientID "" gets a random one.
func (e Env) Settings(user, pass, clientID string) link.Settings {
	if clientID == "" {
		clientID = "test-" + RandomHex(6)
	}
	return link.Settings{URL: e.URL, Username: user, Password: pass, ClientID: clientID,
		CAFile: e.CAFile, CertFile: e.CertFile, KeyFile: e.KeyFile,
		KeepAlive: 5 * time.Second, ConnectTimeout: 5 * time.Second}
}

// Staff returns link settings of the staff account.
func (e Env) Staff() link.Settings { return e.Settings(e.StaffUser, e.StaffPassword, "") }

// Controller returns link settings of the hall controller's account (a random client id).
func (e Env) Controller() link.Settings {
	return e.Settings(e.ControllerUser, e.ControllerPassword, "")
}

// Kiosk returns link settings of a kiosk's account with its contract client id.
func (e Env) Kiosk(kiosk string) link.Settings {
	return e.Settings(e.KioskUser(kiosk), e.KioskPassword, e.KioskUser(kiosk))
}

// Missing skips the test with why, or fails it under CI=true.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: a missing broker is a failure; run the tests through scripts/testenv.sh)", why)
	}
	t.Skipf("%s; skipped (run `make test`, which starts it through scripts/testenv.sh)", why)
}

// Shared returns the shared Mosquitto of scripts/testenv.sh, after checking it answers. The
// kiosk ids a package uses must not overlap another package's: packages run in parallel.
func Shared(t testing.TB) Env {
	t.Helper()
	e := Env{
		URL: os.Getenv(EnvURL), Hall: os.Getenv(EnvHall), Kiosks: strings.Fields(os.Getenv(EnvKiosks)),
		KioskPassword: os.Getenv(EnvKioskPassword), StaffUser: os.Getenv(EnvStaffUser),
		StaffPassword: os.Getenv(EnvStaffPassword), ControllerUser: os.Getenv(EnvControllerUser),
		ControllerPassword: os.Getenv(EnvControllerPassword),
	}
	if e.URL == "" {
		Missing(t, "no test MQTT broker ("+EnvURL+" is not set)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := RoundTrip(ctx, e.Staff(), e.Hall); err != nil {
		t.Fatalf("the shared test broker at %s does not answer: %v", e.URL, err)
	}
	return e
}

// RepoRoot is the repository's root directory, found from this file's place (telemetry/mqtttest).
func RepoRoot() string {
	_, f, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(f), "..", ".."))
}

// RandomHex returns n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewEnv makes accounts with fresh random passwords for hall and kiosks (no URL yet).
func NewEnv(hall string, kiosks ...string) Env {
	return Env{
		Hall: hall, Kiosks: kiosks, KioskPassword: RandomHex(12),
		StaffUser: "ops-" + hall, StaffPassword: RandomHex(12),
		ControllerUser: "ctl-" + hall, ControllerPassword: RandomHex(12),
	}
}

// WriteBrokerFiles writes, in dir, the Mosquitto password file "passwd" (hashed with
// mosquitto_passwd), the ACL "acl" and the dynamic-security plugin's file "bind.json" that binds
// each kiosk account to its client id (both from packaging/mosquitto/citizenhome-acl) for e.
func WriteBrokerFiles(dir string, e Env) (passwd, acl string, err error) {
	passwd, acl = filepath.Join(dir, "passwd"), filepath.Join(dir, "acl")
	var pw bytes.Buffer
	fmt.Fprintf(&pw, "%s:%s\n%s:%s\n", e.StaffUser, e.StaffPassword, e.ControllerUser, e.ControllerPassword)
	for _, k := range e.Kiosks {
		fmt.Fprintf(&pw, "%s:%s\n", e.KioskUser(k), e.KioskPassword)
	}
	if err := os.WriteFile(passwd, pw.Bytes(), 0o600); err != nil {
		return "", "", err
	}
	mp, err := lookBin("mosquitto_passwd")
	if err != nil {
		return "", "", err
	}
	if out, err := exec.Command(mp, "-U", passwd).CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("mosquitto_passwd -U: %v: %s", err, out)
	}
	args := []string{"-c", e.ControllerUser, "-s", e.StaffUser, e.Hall}
	gen := exec.Command(filepath.Join(RepoRoot(), "packaging", "mosquitto", "citizenhome-acl"), append(args, e.Kiosks...)...)
	var aclText, stderr bytes.Buffer
	gen.Stdout, gen.Stderr = &aclText, &stderr
	if err := gen.Run(); err != nil {
		return "", "", fmt.Errorf("citizenhome-acl: %v: %s", err, stderr.String())
	}
	if err := os.WriteFile(acl, aclText.Bytes(), 0o600); err != nil {
		return "", "", err
	}
	bind := exec.Command(filepath.Join(RepoRoot(), "packaging", "mosquitto", "citizenhome-acl"), append([]string{"-b", e.Hall}, e.Kiosks...)...)
	var bindText bytes.Buffer
	stderr.Reset()
	bind.Stdout, bind.Stderr = &bindText, &stderr
	if err := bind.Run(); err != nil {
		return "", "", fmt.Errorf("citizenhome-acl -b: %v: %s", err, stderr.String())
	}
	if err := os.WriteFile(filepath.Join(dir, "bind.json"), bindText.Bytes(), 0o600); err != nil {
		return "", "", err
	}
	return passwd, acl, nil
}

// ShippedConf is packaging/mosquitto/citizenhome.conf with what belongs to one machine put in
// by set: each setting named in set is replaced, where it first stands, by set's lines ("" drops
// it; later occurrences are dropped), every other setting is kept as shipped, comments are
// left out. The settings in must have to be in the shipped file: a test of the shipped
// configuration that silently ran without one would test something else.
func ShippedConf(set map[string]string, must ...string) (string, error) {
	b, err := os.ReadFile(filepath.Join(RepoRoot(), "packaging", "mosquitto", "citizenhome.conf"))
	if err != nil {
		return "", err
	}
	var out strings.Builder
	seen := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		key, _, _ := strings.Cut(line, " ")
		repl, ok := set[key]
		switch {
		case !ok:
			out.WriteString(line + "\n")
		case !seen[key] && repl != "":
			out.WriteString(repl + "\n")
		}
		seen[key] = true
	}
	for _, k := range must {
		if !seen[k] {
			return "", fmt.Errorf("packaging/mosquitto/citizenhome.conf has no %s line", k)
		}
	}
	return out.String(), nil
}

// addBrokerFiles adds o's accounts (hashed by mosquitto_passwd -b) and ACL sections.
func addBrokerFiles(passwd, acl string, o BrokerOptions) error {
	if len(o.Users) > 0 {
		mp, err := lookBin("mosquitto_passwd")
		if err != nil {
			return err
		}
		for u, p := range o.Users {
			if out, err := exec.Command(mp, "-b", passwd, u, p).CombinedOutput(); err != nil {
				return fmt.Errorf("mosquitto_passwd -b %s: %v: %s", u, err, out)
			}
		}
	}
	if o.ACL == "" {
		return nil
	}
	f, err := os.OpenFile(acl, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString("\n" + o.ACL + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func lookBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/bin"} {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found (apt-get install mosquitto mosquitto-clients)", name)
}

// Mosquitto is a private broker for one test: its own port, files and persistence directory.
type Mosquitto struct {
	Env
	Dir  string
	Port int
	Log  string

	mu  sync.Mutex
	cmd *exec.Cmd
	t   testing.TB
}

// StartMosquitto starts a private Mosquitto on a free loopback port with the shipped
// configuration (packaging/mosquitto/citizenhome.conf, see ShippedConf) and e's accounts (e.URL
// is set), persistence on (saved every second, so sessions survive a SIGKILL), and waits until
// a publish/subscribe round trip works. It is stopped at the end of the test.
func StartMosquitto(t testing.TB, e Env) *Mosquitto {
	return startMosquitto(t, e, false, BrokerOptions{})
}

// BrokerOptions add to a private broker what a test of several brokers needs (a bridge).
type BrokerOptions struct {
	// Users are more accounts (name: password), beside e's.
	Users map[string]string
	// ACL is appended to the generated ACL file: the sections of Users.
	ACL string
	// Conf is appended to mosquitto.conf, after every other setting: a bridge's connection
	// section must come last, as each setting after "connection" belongs to that bridge.
	Conf string
}

// StartMosquittoWith is StartMosquitto with o's accounts, ACL and configuration added.
func StartMosquittoWith(t testing.TB, e Env, o BrokerOptions) *Mosquitto {
	return startMosquitto(t, e, false, o)
}

// StartMosquittoTLS is StartMosquitto with a TLS listener only: a fresh CA signs the broker's
// certificate (localhost, 127.0.0.1) and a client certificate, which the broker requires. The
// URL is ssl://127.0.0.1:PORT (an address, not a name: a fresh machine may have no /etc/hosts,
// and "localhost" would then go to DNS) and CAFile, CertFile, KeyFile are set.
func StartMosquittoTLS(t testing.TB, e Env) *Mosquitto {
	return startMosquitto(t, e, true, BrokerOptions{})
}

func startMosquitto(t testing.TB, e Env, withTLS bool, o BrokerOptions) *Mosquitto {
	t.Helper()
	bin, err := lookBin("mosquitto")
	if err != nil {
		Missing(t, err.Error())
	}
	if _, err := lookBin("mosquitto_passwd"); err != nil {
		Missing(t, err.Error())
	}
	dir := t.TempDir()
	passwd, acl, err := WriteBrokerFiles(dir, e)
	if err != nil {
		t.Fatal(err)
	}
	if err := addBrokerFiles(passwd, acl, o); err != nil {
		t.Fatal(err)
	}
	m := &Mosquitto{Env: e, Dir: dir, Log: filepath.Join(dir, "mosquitto.log"), t: t}
	runAs := "root"
	if u, err := user.Current(); err == nil {
		runAs = u.Username
	}
	tlsConf := ""
	if withTLS {
		ca, cert, key, ccert, ckey, err := writeTestPKI(dir)
		if err != nil {
			t.Fatal(err)
		}
		m.CAFile, m.CertFile, m.KeyFile = ca, ccert, ckey
		tlsConf = fmt.Sprintf("\ncafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\ntls_version tlsv1.2", ca, cert, key)
	}
	bind := filepath.Join(dir, "bind.json")
	for try := 0; ; try++ {
		m.Port = freePort(t)
		m.URL = fmt.Sprintf("tcp://127.0.0.1:%d", m.Port)
		if withTLS {
			m.URL = fmt.Sprintf("ssl://127.0.0.1:%d", m.Port)
		}
		// The shipped configuration (its security above all: anonymous refused, the identity
		// binding), with this test's port, files and directory, persistence saved every second
		// (so that sessions survive a SIGKILL) and no queue limits.
		shipped, err := ShippedConf(map[string]string{
			"listener":               fmt.Sprintf("listener %d 127.0.0.1", m.Port) + tlsConf,
			"certfile":               "",
			"keyfile":                "",
			"cafile":                 "",
			"require_certificate":    "",
			"tls_version":            "",
			"password_file":          "password_file " + passwd,
			"acl_file":               "acl_file " + acl,
			"plugin_opt_config_file": "plugin_opt_config_file " + bind,
			"persistence_location":   "persistence_location " + dir + "/",
			"autosave_interval":      "autosave_interval 1",
			"max_queued_messages":    "max_queued_messages 0",
			"max_inflight_messages":  "max_inflight_messages 0",
		}, "listener", "password_file", "acl_file", "plugin", "plugin_opt_config_file", "allow_anonymous")
		if err != nil {
			t.Fatal(err)
		}
		conf := fmt.Sprintf("# private test broker\nuser %s\n", runAs) + shipped +
			fmt.Sprintf("log_dest file %s\nlog_type error\nlog_type warning\nlog_type notice\n", m.Log) + o.Conf
		if err := os.WriteFile(filepath.Join(dir, "mosquitto.conf"), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		err = m.start(bin)
		if err == nil {
			break
		}
		if try >= 3 {
			t.Fatalf("private mosquitto did not start: %v", err)
		}
	}
	t.Cleanup(m.Stop)
	return m
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (m *Mosquitto) start(bin string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cmd := exec.Command(bin, "-c", filepath.Join(m.Dir, "mosquitto.conf"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	m.cmd = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		err := RoundTrip(rctx, m.Staff(), m.Hall)
		rcancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-exited:
			log, _ := os.ReadFile(m.Log)
			return fmt.Errorf("mosquitto exited: %v\n%s", werr, log)
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			log, _ := os.ReadFile(m.Log)
			return fmt.Errorf("mosquitto not ready: %v\n%s", err, log)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Kill kills the broker with SIGKILL (no goodbye to anyone, nothing saved beyond the last
// autosave).
func (m *Mosquitto) Kill() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		_ = m.cmd.Process.Signal(syscall.SIGKILL)
		// Wait until it is gone so that the port is free for the restart.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if err := m.cmd.Process.Signal(syscall.Signal(0)); err != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		m.cmd = nil
	}
}

// Restart starts the broker again on the same port with the same files.
func (m *Mosquitto) Restart() error {
	bin, err := lookBin("mosquitto")
	if err != nil {
		return err
	}
	return m.start(bin)
}

// Stop ends the broker (SIGTERM: it saves its persistence file).
func (m *Mosquitto) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		_ = m.cmd.Process.Signal(syscall.SIGTERM)
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if err := m.cmd.Process.Signal(syscall.Signal(0)); err != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		_ = m.cmd.Process.Signal(syscall.SIGKILL)
		m.cmd = nil
	}
}

// RoundTrip proves a broker works: the staff account publishes a marker to the command topic
// of "kioskctl-probe" (a kiosk id nobody has, the probe of hall/fleet's Conn, which hall-side
// readers already ignore) and must receive it. It uses the real accounts and ACL, so it also
// proves those are loaded. No kiosk account takes part: a kiosk account is bound to its own
// client id, and a probe under it would end the session of a kiosk a test is running.
func RoundTrip(ctx context.Context, staff link.Settings, hall string) error {
	topic := "citizenhome/v1/" + hall + "/kioskctl-probe/cmd"
	marker := "roundtrip-" + RandomHex(6)
	got := make(chan struct{}, 1)
	so, err := staff.Options()
	if err != nil {
		return err
	}
	so.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
		if bytes.Contains(m.Payload(), []byte(marker)) {
			select {
			case got <- struct{}{}:
			default:
			}
		}
	})
	sc := paho.NewClient(so)
	if err := waitTok(ctx, sc.Connect()); err != nil {
		return fmt.Errorf("staff connect: %w", err)
	}
	defer sc.Disconnect(0)
	if err := waitTok(ctx, sc.Subscribe(topic, 1, nil)); err != nil {
		return fmt.Errorf("staff subscribe: %w", err)
	}
	if err := waitTok(ctx, sc.Publish(topic, 1, false, `{"probe":"`+marker+`"}`)); err != nil {
		return fmt.Errorf("staff publish: %w", err)
	}
	select {
	case <-got:
		return nil
	case <-ctx.Done():
		return errors.New("published, but nothing arrived")
	}
}

func waitTok(ctx context.Context, t paho.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Msg is one message a Recorder received.
type Msg struct {
	Topic    string
	Payload  []byte
	Retained bool
	At       time.Time
}

// Recorder records what the broker delivers on a subscription. With Durable it keeps a
// persistent session (fixed client id, clean session off) and reconnects by itself, so that
// it survives a broker restart without losing queued messages.
type Recorder struct {
	Client paho.Client
	mu     sync.Mutex
	msgs   []Msg
	notify chan struct{}
}

// RecordOptions tune Record.
type RecordOptions struct {
	Durable  bool
	ClientID string
	Extra    []string // more filters on the same connection
}

// Record connects with s, subscribes to filter and records every message until the test ends.
func Record(t testing.TB, s link.Settings, filter string, o RecordOptions) *Recorder {
	t.Helper()
	r := &Recorder{notify: make(chan struct{}, 1)}
	if o.ClientID != "" {
		s.ClientID = o.ClientID
	}
	opts, err := s.Options()
	if err != nil {
		t.Fatal(err)
	}
	opts.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
		r.mu.Lock()
		r.msgs = append(r.msgs, Msg{Topic: m.Topic(), Payload: append([]byte(nil), m.Payload()...), Retained: m.Retained(), At: time.Now()})
		r.mu.Unlock()
		select {
		case r.notify <- struct{}{}:
		default:
		}
	})
	subscribed := make(chan error, 1)
	opts.SetOnConnectHandler(func(c paho.Client) {
		filters := map[string]byte{filter: 1}
		for _, f := range o.Extra {
			filters[f] = 1
		}
		tok := c.SubscribeMultiple(filters, nil)
		go func() {
			tok.Wait()
			select {
			case subscribed <- tok.Error():
			default:
			}
		}()
	})
	if o.Durable {
		opts.SetCleanSession(false).SetAutoReconnect(true).SetMaxReconnectInterval(500 * time.Millisecond).
			SetConnectRetry(true).SetConnectRetryInterval(500 * time.Millisecond)
	}
	r.Client = paho.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := waitTok(ctx, r.Client.Connect()); err != nil {
		t.Fatalf("recorder connect: %v", err)
	}
	select {
	case err := <-subscribed:
		if err != nil {
			t.Fatalf("recorder subscribe: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("recorder subscribe timed out")
	}
	t.Cleanup(func() { r.Client.Disconnect(100) })
	return r
}

// Messages returns a copy of what was recorded so far.
func (r *Recorder) Messages() []Msg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Msg(nil), r.msgs...)
}

// Wait polls until cond holds for the messages recorded so far, or fails the test after
// timeout with what it has.
func (r *Recorder) Wait(t testing.TB, timeout time.Duration, what string, cond func([]Msg) bool) []Msg {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		ms := r.Messages()
		if cond(ms) {
			return ms
		}
		select {
		case <-r.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline.C:
			ms = r.Messages()
			if cond(ms) {
				return ms
			}
			var b strings.Builder
			for i, m := range ms {
				if i >= len(ms)-20 {
					fmt.Fprintf(&b, "\n  %s retained=%v %s", m.Topic, m.Retained, trunc(m.Payload))
				}
			}
			t.Fatalf("timed out after %s waiting for %s; %d messages, the last:%s", timeout, what, len(ms), b.String())
		}
	}
}

func trunc(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// ClearRetained removes whatever a kiosk left retained on the broker (state, status, alerts)
// from an earlier test, using the kiosk's own account and client id: call it before the kiosk
// starts.
func ClearRetained(t testing.TB, e Env, kiosk string) {
	t.Helper()
	root := "citizenhome/v1/" + e.Hall + "/" + kiosk
	rec := Record(t, e.Staff(), root+"/#", RecordOptions{})
	// Retained messages arrive right after the subscription; a marker published after it, on
	// the same connection order, tells when they are all in. The kiosk's own client id (its
	// account is bound to it): the kiosk is not running yet, and the clean session this
	// connection asks for ends whatever an earlier test's kiosk of this id left queued.
	ko, _ := e.Kiosk(kiosk).Options()
	kc := paho.NewClient(ko)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := waitTok(ctx, kc.Connect()); err != nil {
		t.Fatalf("clear retained: %v", err)
	}
	defer kc.Disconnect(0)
	marker := RandomHex(6)
	if err := waitTok(ctx, kc.Publish(root+"/event", 1, false, `{"clear":"`+marker+`"}`)); err != nil {
		t.Fatal(err)
	}
	ms := rec.Wait(t, 10*time.Second, "the clearing marker", func(ms []Msg) bool {
		for _, m := range ms {
			if bytes.Contains(m.Payload, []byte(marker)) {
				return true
			}
		}
		return false
	})
	for _, m := range ms {
		if m.Retained && len(m.Payload) > 0 {
			if err := waitTok(ctx, kc.Publish(m.Topic, 1, true, []byte{})); err != nil {
				t.Fatal(err)
			}
		}
	}
	rec.Client.Disconnect(0)
}
