package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/driver"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/escpos/emulator/ptytest"
	"citizenhome/devices/pcsc/pcsctest"
	"citizenhome/internal/localapi"
	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/store"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/mqtttest"
)

// This package's kiosk ids on the shared broker: k30-k39 (k38 for the doctor).

// kioskSetup is a kiosk's configuration and files in a temporary directory; fields name what
// the test changes before writing the configuration.
type kioskSetup struct {
	dir                         string
	storePath, keyPath, catPath string
	tokenPath, listen           string
	printer, idReader           string
	cardReader, uidReader       string
	mqtt                        string // the [mqtt] table's body; empty: telemetry off
	extra                       string // more TOML at the end
}

func newSetup(t *testing.T) *kioskSetup {
	t.Helper()
	dir := t.TempDir()
	s := &kioskSetup{dir: dir, storePath: filepath.Join(dir, "kiosk.db"), keyPath: filepath.Join(dir, "hall.key"),
		catPath: filepath.Join(dir, "catalog.json"), tokenPath: filepath.Join(dir, "api.token"), listen: freeAddr(t)}
	if err := os.WriteFile(s.catPath, catalog.DemoJSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(s.storePath)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := civic.LoadKey(s.keyPath); err != nil {
		t.Fatal(err)
	}
	return s
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (s *kioskSetup) config() string {
	c := fmt.Sprintf(`[hall]
id = "test"
[kiosk]
id = "k38"
store = %q
catalog = %q
[devices]
printer = %q
id_reader = %q
card_reader = %q
uid_reader = %q
[api]
listen = %q
token_file = %q
[privacy]
key_file = %q
`, s.storePath, s.catPath, s.printer, s.idReader, s.cardReader, s.uidReader, s.listen, s.tokenPath, s.keyPath)
	if s.mqtt != "" {
		c += "[mqtt]\n" + s.mqtt + "\n"
	}
	return c + s.extra
}

func (s *kioskSetup) write(t *testing.T) string {
	t.Helper()
	p := filepath.Join(s.dir, "kiosk.toml")
	if err := os.WriteFile(p, []byte(s.config()), 0o640); err != nil {
		t.Fatal(err)
	}
	return p
}

func (s *kioskSetup) cfg(t *testing.T) config.Config {
	t.Helper()
	c, err := config.Load(s.write(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testProbes makes the doctor's clock synchronised (a container has no NTP) and ignores socat,
// which keeps both ends of a ptytest line open. The machine's own units (a kioskd.service the
// packaging test left installed) do not decide whom the doctor checks as: the tests do.
func testProbes(d *doctor) {
	d.timedatectl = func(context.Context) (string, error) { return "yes", nil }
	d.skipProcs = map[string]bool{"socat": true}
	d.unitDirs = nil
}

func withProbes(t *testing.T, extra func(*doctor)) {
	doctorHook = func(d *doctor) {
		testProbes(d)
		if extra != nil {
			extra(d)
		}
	}
	t.Cleanup(func() { doctorHook = nil })
}

type doctorOut struct {
	OK     bool          `json:"ok"`
	Checks []checkResult `json:"checks"`
}

func runDoctorJSON(t *testing.T, cfgPath string, args ...string) (int, doctorOut) {
	t.Helper()
	code, out, errs := runCtl(append([]string{"doctor", "--json", "-config", cfgPath}, args...), "")
	var d doctorOut
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("doctor --json: %d %q %q: %v", code, out, errs, err)
	}
	return code, d
}

func (d doctorOut) check(t *testing.T, name string) checkResult {
	t.Helper()
	for _, c := range d.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, d.Checks)
	return checkResult{}
}

func startPrinter(t *testing.T) (*emulator.Printer, *ptytest.Line) {
	t.Helper()
	emu, err := emulator.New(emulator.Config{Paper: escpos.Paper80, SkipPNG: true, Baud: 115200})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	return emu, ptytest.Start(t, emu)
}

func kioskCredentials(t *testing.T, dir string, env mqtttest.Env, pass string) string {
	t.Helper()
	p := filepath.Join(dir, "mqtt.credentials")
	if err := link.WriteCredentials(p, env.KioskUser("k38"), pass); err != nil {
		t.Fatal(err)
	}
	return p
}

// Everything there and working: a printer on a serial line, the SAM reader's port, the broker
// with the kiosk's account. Every check passes and the printer was really asked.
func TestDoctorAllOK(t *testing.T) {
	env := mqtttest.Shared(t)
	emu, line := startPrinter(t)
	idLine := startSAM(t) // the doctor asks the SAM reader for its status: it must be one
	s := newSetup(t)
	s.printer, s.idReader = line.Path, idLine.Path
	s.mqtt = fmt.Sprintf("enabled = true\nurl = %q\ncredentials_file = %q", env.URL, kioskCredentials(t, s.dir, env, env.KioskPassword))
	p := s.write(t)
	withProbes(t, nil)

	code, d := runDoctorJSON(t, p)
	if code != 0 || !d.OK {
		t.Fatalf("doctor: %d %+v", code, d.Checks)
	}
	want := []string{"config", "catalog", "hall-key", "store", "card-readers", "id-reader", "printer", "broker", "clock"}
	if len(d.Checks) != len(want) {
		t.Fatalf("checks: %+v", d.Checks)
	}
	for i, c := range d.Checks {
		if c.Name != want[i] || c.Status != checkOK {
			t.Errorf("check %d: %+v, want %s ok", i, c, want[i])
		}
	}
	if emu.Stats().StatusRequests == 0 {
		t.Error("the printer was never asked for its status")
	}
	if r := d.check(t, "broker"); !strings.Contains(r.Message, env.KioskUser("k38")) {
		t.Errorf("broker: %+v", r)
	}

	// The text form: one line per check, no FAIL.
	code, out, _ := runCtl([]string{"doctor", "-config", p}, "")
	if code != 0 || strings.Count(out, "\n") != len(want) || strings.Contains(out, "FAIL") || !strings.Contains(out, "ok    printer") {
		t.Errorf("doctor text: %d\n%s", code, out)
	}
}

// The PC/SC readers named in the configuration, against the real pcscd and its vpcd readers.
func TestDoctorCardReaders(t *testing.T) {
	pc := pcsctest.Open(t)
	withProbes(t, nil)
	s := newSetup(t)
	s.cardReader, s.uidReader = pcsctest.CityReader, pcsctest.IDReader
	code, d := runDoctorJSON(t, s.write(t))
	if c := d.check(t, "card-readers"); code != 0 || c.Status != checkOK || !strings.Contains(c.Message, pcsctest.CityReader) ||
		!strings.Contains(c.Message, pcsctest.IDReader) {
		t.Errorf("readers there: %d %+v", code, c)
	}

	// A reader the config names that pcscd does not have: FAIL, exit 1, with what pcscd lists.
	s.cardReader = "Missing reader"
	code, d = runDoctorJSON(t, s.write(t))
	if c := d.check(t, "card-readers"); code != 1 || c.Status != checkFail || !strings.Contains(c.Message, `not seen: "Missing reader"`) ||
		!strings.Contains(c.Message, pcsctest.IDReader) || c.Fix == "" {
		t.Errorf("missing reader: %d %+v", code, c)
	}

	// pcscd gone: says so.
	pc.Kill(t)
	code, d = runDoctorJSON(t, s.write(t))
	if c := d.check(t, "card-readers"); code != 1 || c.Status != checkFail || !strings.Contains(c.Message, "pcscd is not running") {
		t.Errorf("pcscd down: %d %+v", code, c)
	}
}

func TestDoctorBadConfig(t *testing.T) {
	s := newSetup(t)
	s.extra = "[kiosk]\nidle_timeout = \"sixty\"\n" // a second [kiosk] table: a TOML error
	code, out, _ := runCtl([]string{"doctor", "-config", s.write(t)}, "")
	if code != 1 || !strings.Contains(out, "FAIL  config") || !strings.Contains(out, "kiosk.toml") {
		t.Errorf("bad config: %d\n%s", code, out)
	}
	s.extra = ""
	p := s.write(t)
	os.WriteFile(p, []byte(s.config()+"\n[queue]\nelder_age = 5\n"), 0o640)
	code, d := runDoctorJSON(t, p)
	if c := d.check(t, "config"); code != 1 || c.Status != checkFail || !strings.Contains(c.Message, "queue.elder_age") {
		t.Errorf("invalid value: %d %+v", code, d.Checks)
	}
	code, d = runDoctorJSON(t, filepath.Join(s.dir, "missing.toml"))
	if code != 1 || d.OK || d.Checks[0].Status != checkFail {
		t.Errorf("missing config: %d %+v", code, d)
	}
}

func TestDoctorStore(t *testing.T) {
	withProbes(t, nil)
	t.Run("corrupt", func(t *testing.T) {
		s := newSetup(t)
		junk := []byte("SQLite format 3\x00" + strings.Repeat("garbage ", 600))
		if err := os.WriteFile(s.storePath, junk, 0o600); err != nil {
			t.Fatal(err)
		}
		code, d := runDoctorJSON(t, s.write(t))
		c := d.check(t, "store")
		if code != 1 || c.Status != checkFail || !strings.Contains(c.Message, "damaged") || !strings.Contains(c.Fix, "move the file") {
			t.Errorf("corrupt store: %d %+v", code, c)
		}
		// The doctor looks, it does not touch: the file is where it was, unchanged.
		if b, err := os.ReadFile(s.storePath); err != nil || string(b) != string(junk) {
			t.Errorf("the doctor changed or moved the store: %v", err)
		}
	})
	t.Run("not sqlite", func(t *testing.T) {
		s := newSetup(t)
		os.WriteFile(s.storePath, []byte("hello"), 0o600)
		code, d := runDoctorJSON(t, s.write(t))
		if c := d.check(t, "store"); code != 1 || c.Status != checkFail || !strings.Contains(c.Message, "not a SQLite database") {
			t.Errorf("not a database: %d %+v", code, c)
		}
	})
	t.Run("old schema", func(t *testing.T) {
		s := newSetup(t)
		os.Remove(s.storePath)
		st, err := store.OpenWith(s.storePath, store.Options{Migrations: store.Migrations[:1]})
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		code, d := runDoctorJSON(t, s.write(t))
		c := d.check(t, "store")
		if code != 0 || c.Status != checkWarn || !strings.Contains(c.Message, fmt.Sprintf("version 1 of %d", len(store.Migrations))) {
			t.Errorf("old schema: %d %+v", code, c)
		}
	})
	t.Run("missing", func(t *testing.T) {
		s := newSetup(t)
		os.Remove(s.storePath)
		code, d := runDoctorJSON(t, s.write(t))
		if c := d.check(t, "store"); code != 0 || c.Status != checkWarn {
			t.Errorf("missing store: %d %+v", code, c)
		}
		if _, err := os.Stat(s.storePath); !errors.Is(err, os.ErrNotExist) {
			t.Error("the doctor created the store")
		}
	})
	t.Run("key readable by others", func(t *testing.T) {
		s := newSetup(t)
		os.Chmod(s.keyPath, 0o644)
		code, d := runDoctorJSON(t, s.write(t))
		if c := d.check(t, "hall-key"); code != 1 || c.Status != checkFail || !strings.Contains(c.Fix, "chmod 600") {
			t.Errorf("key 0644: %d %+v", code, c)
		}
	})
}

func TestDoctorPrinter(t *testing.T) {
	withProbes(t, nil)
	emu, line := startPrinter(t)
	s := newSetup(t)
	s.printer = line.Path
	p := s.write(t)
	for _, c := range []struct {
		cond   emulator.Condition
		code   int
		status string
		want   string
	}{
		{emulator.Ready, 0, checkOK, ": ok"},
		{emulator.PaperLow, 0, checkWarn, "paper low"},
		{emulator.PaperOut, 1, checkFail, "paper out"},
		{emulator.CoverOpen, 1, checkFail, "cover open"},
		{emulator.NoAnswer, 1, checkFail, "offline"},
	} {
		emu.SetCondition(c.cond)
		code, d := runDoctorJSON(t, p)
		if r := d.check(t, "printer"); code != c.code || r.Status != c.status || !strings.Contains(r.Message, c.want) {
			t.Errorf("%v: %d %+v", c.cond, code, r)
		}
	}
	emu.SetCondition(emulator.Ready)

	// Held by the kiosk (here: this test process, named as the kiosk): ok, and not asked.
	held, err := driver.Open(line.Path, driver.SerialConfig{Baud: 115200})
	if err != nil {
		t.Fatal(err)
	}
	self, _ := os.ReadFile("/proc/self/comm")
	before := emu.Stats().StatusRequests
	withProbes(t, func(d *doctor) { d.kioskProcs[strings.TrimSpace(string(self))] = true })
	code, d := runDoctorJSON(t, p)
	if r := d.check(t, "printer"); code != 0 || r.Status != checkOK || !strings.Contains(r.Message, "in use by the kiosk") {
		t.Errorf("held by the kiosk: %d %+v", code, r)
	}
	if emu.Stats().StatusRequests != before {
		t.Error("the doctor talked to a printer the kiosk holds")
	}
	// Held by something else: FAIL, naming it.
	withProbes(t, nil)
	code, d = runDoctorJSON(t, p)
	if r := d.check(t, "printer"); code != 1 || r.Status != checkFail || !strings.Contains(r.Message, "is held by") {
		t.Errorf("held by another program: %d %+v", code, r)
	}
	held.Close()

	// Unplugged: the path is gone.
	line.Vanish()
	code, d = runDoctorJSON(t, p)
	if r := d.check(t, "printer"); code != 1 || r.Status != checkFail || !strings.Contains(r.Message, "does not exist") || !strings.Contains(r.Fix, "udev") {
		t.Errorf("unplugged: %d %+v", code, r)
	}
	line.Return()

	s.idReader = filepath.Join(s.dir, "no-such-tty")
	code, d = runDoctorJSON(t, s.write(t))
	if r := d.check(t, "id-reader"); code != 1 || r.Status != checkFail || !strings.Contains(r.Message, "does not exist") {
		t.Errorf("ID reader missing: %d %+v", code, r)
	}
	s.idReader = s.catPath
	code, d = runDoctorJSON(t, s.write(t))
	if r := d.check(t, "id-reader"); code != 1 || r.Status != checkFail || !strings.Contains(r.Message, "not a serial device") {
		t.Errorf("ID reader a plain file: %d %+v", code, r)
	}
}

// With kioskd running, the doctor asks its local API instead of the port kioskd holds.
func TestDoctorAsksKioskd(t *testing.T) {
	withProbes(t, nil)
	s := newSetup(t)
	s.printer = "/dev/citizenhome-printer-not-here"
	cfg := s.cfg(t)
	cfg.Hours.Weekday, cfg.Hours.Weekend = []string{"00:00-23:59"}, []string{"00:00-23:59"}
	st, err := store.Open(filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k, err := kiosk.New(context.Background(), kiosk.Options{Config: cfg, Store: st, Catalog: catalog.NewHolder(catalog.Demo()),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: localapi.New(k, "secret")}
	go srv.Serve(ln)
	defer srv.Close()
	os.WriteFile(s.tokenPath, []byte("secret\n"), 0o600)

	check := func(what string, code int, status string, want ...string) {
		t.Helper()
		c, d := runDoctorJSON(t, s.write(t))
		r := d.check(t, "printer")
		ok := c == code && r.Status == status && strings.Contains(r.Message, "kioskd at "+s.listen)
		for _, w := range want {
			ok = ok && strings.Contains(r.Message, w)
		}
		if !ok {
			t.Errorf("%s: %d %+v", what, c, r)
		}
	}
	// With the token: the printer's own state, from GET /v1/status.
	k.SetDevice(kiosk.DevicePrinter, kiosk.StateOK, "")
	check("ok", 0, checkOK, "says the printer is: ok")
	k.SetDevice(kiosk.DevicePrinter, kiosk.StatePaperOut, "")
	check("paper out", 1, checkFail, "paper out")
	// Without it (a doctor run by another user): /healthz's overall state.
	os.Remove(s.tokenPath)
	check("degraded", 1, checkFail, "degraded")
	k.SetDevice(kiosk.DevicePrinter, kiosk.StateOK, "")
	check("ready", 0, checkOK, "state ready")
	k.Staff(kiosk.Remote("test-ops")).Lock(context.Background(), "")
	check("locked", 0, checkWarn, "locked")
}

func TestDoctorBroker(t *testing.T) {
	env := mqtttest.Shared(t)
	withProbes(t, nil)
	s := newSetup(t)
	for _, c := range []struct {
		name, url, pass string
		want            string
	}{
		{"down", "tcp://" + freeAddr(t), env.KioskPassword, "connection refused"},
		{"wrong password", env.URL, "wrong", ""},
	} {
		s.mqtt = fmt.Sprintf("enabled = true\nurl = %q\ncredentials_file = %q", c.url, kioskCredentials(t, s.dir, env, c.pass))
		code, d := runDoctorJSON(t, s.write(t))
		r := d.check(t, "broker")
		if code != 1 || r.Status != checkFail || !strings.Contains(r.Message, c.want) {
			t.Errorf("%s: %d %+v", c.name, code, r)
		}
		if c.name == "wrong password" && !strings.Contains(r.Fix, "refused the account") {
			t.Errorf("wrong password: fix %q", r.Fix)
		}
	}
	s.mqtt = "enabled = false"
	code, d := runDoctorJSON(t, s.write(t))
	if r := d.check(t, "broker"); code != 0 || r.Status != checkOK || !strings.Contains(r.Message, "telemetry off") {
		t.Errorf("telemetry off: %d %+v", code, r)
	}
}

func TestDoctorClock(t *testing.T) {
	noSystemd := errors.New("System has not been booted with systemd")
	for _, c := range []struct {
		name   string
		out    string
		err    error
		status int32
		state  int
		aerr   error
		want   string
	}{
		{"ntp yes", "yes", nil, 0, 0, nil, checkOK},
		{"ntp no", "no", nil, 0, 0, nil, checkFail},
		{"kernel synced", "", noSystemd, 0, 0, nil, checkOK},
		{"kernel unsynced", "", noSystemd, staUnsync, timeError, nil, checkWarn},
		{"cannot tell", "", noSystemd, 0, 0, errors.New("EPERM"), checkWarn},
	} {
		d := &doctor{
			timedatectl: func(context.Context) (string, error) { return c.out, c.err },
			adjtimex:    func() (int32, int, error) { return c.status, c.state, c.aerr },
		}
		if r := d.checkClock(context.Background()); r.Status != c.want || r.Name != "clock" || (r.Status != checkOK && r.Fix == "") {
			t.Errorf("%s: %+v", c.name, r)
		}
	}
}

// A check that hangs (a stuck pcscd) fails on the timeout; the others still report.
func TestDoctorTimeout(t *testing.T) {
	s := newSetup(t)
	s.cardReader = "City card reader"
	cfg := s.cfg(t)
	d := newDoctor(cfg, 300*time.Millisecond)
	testProbes(d)
	stuck := make(chan struct{})
	defer close(stuck)
	d.listReaders = func() ([]string, error) { <-stuck; return nil, nil }
	start := time.Now()
	rs := d.run(context.Background())
	if time.Since(start) > 5*time.Second {
		t.Errorf("run took %s", time.Since(start))
	}
	var got checkResult
	for _, r := range rs {
		if r.Name == "card-readers" {
			got = r
		} else if r.Status == checkFail {
			t.Errorf("%+v", r)
		}
	}
	if got.Status != checkFail || !strings.Contains(got.Message, "no answer within 300ms") {
		t.Errorf("stuck check: %+v", got)
	}
}
