package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.bug.st/serial"
	"golang.org/x/sys/unix"

	"citizenhome/devices/escpos"
	"citizenhome/devices/pcsc"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/hall"
	"citizenhome/kiosk/store"
	"citizenhome/kiosk/telemetry/link"
	"citizenhome/kiosk/telemetry/wire"
)

const doctorUsage = `
on the kiosk:
  doctor [-config FILE] [--timeout D]   checklist: config, catalog, hall key, store, card readers,
                         ID reader, printer, broker, clock; exit 1 on any FAIL
`

// Outcomes of a check. warn does not change the exit status.
const (
	checkOK   = "ok"
	checkFail = "FAIL"
	checkWarn = "warn"
)

// checkResult is one line of the doctor's checklist (and one object of `doctor --json`).
type checkResult struct {
	Name    string `json:"name"`
	Status  string `json:"status"` // ok, FAIL, warn
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"` // what to do, for FAIL and warn
}

func okCheck(name, format string, args ...any) checkResult {
	return checkResult{Name: name, Status: checkOK, Message: fmt.Sprintf(format, args...)}
}

func failCheck(name, fix, format string, args ...any) checkResult {
	return checkResult{Name: name, Status: checkFail, Message: fmt.Sprintf(format, args...), Fix: fix}
}

func warnCheck(name, fix, format string, args ...any) checkResult {
	return checkResult{Name: name, Status: checkWarn, Message: fmt.Sprintf(format, args...), Fix: fix}
}

// doctor runs the checks. Its probes of the machine are fields so that tests can replace the
// ones the test machine cannot provide (a synchronised clock in a container).
type doctor struct {
	cfg     config.Config
	timeout time.Duration
	// listReaders lists the PC/SC readers (pcsc.ListReaders).
	listReaders func() ([]string, error)
	// timedatectl returns `timedatectl show -p NTPSynchronized --value`.
	timedatectl func(ctx context.Context) (string, error)
	// adjtimex returns the kernel's clock status word and state (unix.Adjtimex, read only).
	adjtimex func() (status int32, state int, err error)
	// proc is the procfs root, for finding who holds a serial port.
	proc string
	// kioskProcs are the process names (comm) of the kiosk, whose holding a port is normal;
	// skipProcs are names not counted as holders at all.
	kioskProcs, skipProcs map[string]bool
}

// doctorHook, when set (by tests), adjusts every doctor runDoctor makes.
var doctorHook func(*doctor)

func newDoctor(cfg config.Config, timeout time.Duration) *doctor {
	return &doctor{cfg: cfg, timeout: timeout, listReaders: pcsc.ListReaders, timedatectl: timedatectl,
		adjtimex: adjtimex, proc: "/proc", kioskProcs: map[string]bool{"kiosk": true, "kioskd": true}}
}

func timedatectl(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "timedatectl", "show", "-p", "NTPSynchronized", "--value").Output()
	return strings.TrimSpace(string(out)), err
}

func adjtimex() (int32, int, error) {
	var tx unix.Timex // Modes 0: read only
	state, err := unix.Adjtimex(&tx)
	return tx.Status, state, err
}

func runDoctor(args []string, stdout, stderr io.Writer) int {
	fs, asJSON := commandFlags("doctor", stderr)
	cfgPath := fs.String("config", defaultConfig, "configuration file")
	timeout := fs.Duration("timeout", 10*time.Second, "how long each check may take")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	out := printer{w: stdout, json: *asJSON}
	var results []checkResult
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		results = append(results, failCheck("config", "fix the line named (kioskctl check-config "+*cfgPath+"); every key is explained in /usr/share/doc/citizenhome-common/kiosk.example.toml",
			"%v", err), warnCheck("others", "", "the other checks need a valid configuration"))
	} else {
		results = append(results, okCheck("config", "%s is valid (hall %s, kiosk %s)", *cfgPath, cfg.Hall.ID, cfg.Kiosk.ID))
		d := newDoctor(cfg, *timeout)
		if doctorHook != nil {
			doctorHook(d)
		}
		results = append(results, d.run(context.Background())...)
	}
	return printChecks(out, results)
}

func printChecks(out printer, results []checkResult) int {
	code := 0
	for _, r := range results {
		if r.Status == checkFail {
			code = 1
		}
	}
	if out.json {
		out.emit(map[string]any{"ok": code == 0, "checks": results})
		return code
	}
	for _, r := range results {
		fmt.Fprintf(out.w, "%-4s  %-12s %s\n", r.Status, r.Name, r.Message)
		if r.Fix != "" {
			fmt.Fprintf(out.w, "      %-12s → %s\n", "", r.Fix)
		}
	}
	return code
}

// run runs every check at once, each under the timeout, and returns them in a fixed order.
func (d *doctor) run(ctx context.Context) []checkResult {
	checks := []struct {
		name string
		fn   func(context.Context) checkResult
	}{
		{"catalog", d.checkCatalog}, {"hall-key", d.checkKey}, {"store", d.checkStore},
		{"card-readers", d.checkCardReaders}, {"id-reader", d.checkIDReader}, {"printer", d.checkPrinter},
		{"broker", d.checkBroker}, {"clock", d.checkClock},
	}
	results := make([]checkResult, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, d.timeout)
			defer cancel()
			done := make(chan checkResult, 1)
			// A probe stuck in a system call (a hung pcscd, a dead USB adapter) is left behind:
			// the process ends soon anyway.
			go func() { done <- c.fn(cctx) }()
			select {
			case r := <-done:
				results[i] = r
			case <-cctx.Done():
				results[i] = failCheck(c.name, "see the other checks and journalctl -b for what hangs", "no answer within %s", d.timeout)
			}
		}()
	}
	wg.Wait()
	return results
}

func (d *doctor) checkCatalog(context.Context) checkResult {
	const name = "catalog"
	if d.cfg.Kiosk.Catalog == "" {
		return warnCheck(name, "set kiosk.catalog to the hall's catalog file", "no catalog configured: the built-in demo catalog is in force (marked as demo)")
	}
	c, err := catalog.LoadFile(d.cfg.Kiosk.Catalog)
	if err != nil {
		return failCheck(name, "fix the file (kioskctl check-catalog "+d.cfg.Kiosk.Catalog+" names the matter and field) or put the previous one back", "%v", err)
	}
	return okCheck(name, "%s: %d sections, %d matters", d.cfg.Kiosk.Catalog, len(c.Sections()), len(c.All()))
}

func (d *doctor) checkKey(context.Context) checkResult {
	const name = "hall-key"
	path := d.cfg.Privacy.KeyFile
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return warnCheck(name, "start the kiosk once (it creates the key), or copy the hall's key file here with mode 600",
			"%s does not exist yet", path)
	}
	// The file exists, so LoadKey only reads it.
	if _, err := hall.LoadKey(path); err != nil {
		return failCheck(name, "chmod 600 the file, owned by the kiosk's user; if its content is damaged, copy the hall's key back (a new key makes the stored hashes useless: push the hall data again)", "%v", err)
	}
	return okCheck(name, "%s readable, owner only", path)
}

// checkStore checks the database without changing it: store.Open would move a damaged file
// aside and migrate an old one, which is the kiosk's decision at its next start, not ours.
func (d *doctor) checkStore(ctx context.Context) checkResult {
	const name = "store"
	path := d.cfg.Kiosk.Store
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return warnCheck(name, "start the kiosk: it creates the store", "%s does not exist yet", path)
	}
	if err != nil {
		return failCheck(name, "run kioskctl doctor as root or as the kiosk's user", "%v", err)
	}
	if fi.IsDir() {
		return failCheck(name, "kiosk.store must name a file", "%s is a directory", path)
	}
	version, err := store.Check(ctx, path)
	var ce *store.CorruptError
	var tn *store.TooNewError
	latest := len(store.Migrations)
	switch {
	case errors.As(err, &ce):
		return failCheck(name, "stop the kiosk (systemctl stop kioskd or citizenhome-kiosk), move the file and its -wal/-shm aside for the record, start the kiosk (it begins an empty store; today's ticket numbers restart)",
			"%s is damaged: %s", path, ce.Detail)
	case errors.As(err, &tn):
		return failCheck(name, "install the same version of kioskctl as the kiosk (apt policy citizenhome-kiosk)",
			"%s has schema version %d, this kioskctl knows up to %d", path, tn.Have, tn.Known)
	case err != nil:
		return failCheck(name, "run kioskctl doctor as root or as the kiosk's user", "%v", err)
	case version < latest:
		return warnCheck(name, "restart the kiosk: it migrates the store when it starts",
			"%s is healthy, schema version %d of %d", path, version, latest)
	}
	return okCheck(name, "%s healthy (%s, schema version %d)", path, sizeOf(fi.Size()), version)
}

func sizeOf(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func (d *doctor) checkCardReaders(ctx context.Context) checkResult {
	const name = "card-readers"
	dv := d.cfg.Devices
	var want []string
	for _, n := range []string{dv.CardReader, dv.UIDReader, dv.PSAMReader} {
		if n != "" && !slices.Contains(want, n) {
			want = append(want, n)
		}
	}
	if len(want) == 0 {
		return okCheck(name, "no PC/SC reader configured (devices.card_reader, uid_reader, psam_reader)")
	}
	listed, err := d.listReaders()
	if errors.Is(err, pcsc.ErrNoService) {
		return failCheck(name, "systemctl restart pcscd.socket; journalctl -u pcscd", "pcscd is not running: %v", err)
	}
	if err != nil {
		return failCheck(name, "systemctl restart pcscd; journalctl -u pcscd", "cannot list the readers: %v", err)
	}
	var missing []string
	for _, n := range want {
		found := false
		for _, l := range listed {
			found = found || pcsc.MatchReader(n, l)
		}
		if !found {
			missing = append(missing, strconv.Quote(n))
		}
	}
	if len(missing) > 0 {
		seen := "none"
		if len(listed) > 0 {
			seen = strings.Join(quoteAll(listed), ", ")
		}
		return failCheck(name, "plug the reader in (pcsc_scan lists what pcscd sees); the name in the config is the one pcsc_scan shows, without its \" 00 00\" suffix",
			"not seen: %s (pcscd lists: %s)", strings.Join(missing, ", "), seen)
	}
	return okCheck(name, "seen: %s", strings.Join(quoteAll(want), ", "))
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

const udevFix = "plug it in; check its udev name (ls -l /dev/citizenhome-*; udevadm info --attribute-walk --name=/dev/ttyUSB0) and the rule in /lib/udev/rules.d/70-citizenhome.rules"

// serialDevice checks that path is a character device the kiosk can open, and says who holds it.
func (d *doctor) serialDevice(name, key, path string) (target string, holders []holder, r *checkResult) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		c := failCheck(name, udevFix, "%s (%s) does not exist", path, key)
		return "", nil, &c
	}
	if err != nil {
		c := failCheck(name, udevFix, "%s (%s): %v", path, key, err)
		return "", nil, &c
	}
	if fi.Mode()&os.ModeCharDevice == 0 {
		c := failCheck(name, "devices."+key+" must name the serial device (/dev/citizenhome-...)", "%s is not a serial device", path)
		return "", nil, &c
	}
	target, _ = filepath.EvalSymlinks(path)
	if err := unix.Access(path, unix.R_OK|unix.W_OK); err != nil {
		c := failCheck(name, "the udev rule gives the device to group citizenhome (GROUP, MODE 0660); the kiosk's user must be in that group", "%s: %v", path, err)
		return target, nil, &c
	}
	return target, d.holders(path), nil
}

func (d *doctor) checkIDReader(context.Context) checkResult {
	const name = "id-reader"
	path := d.cfg.Devices.IDReader
	if path == "" {
		return okCheck(name, "no SAM ID card reader configured (devices.id_reader)")
	}
	target, hs, r := d.serialDevice(name, "id_reader", path)
	if r != nil {
		return *r
	}
	msg := path
	if target != "" && target != path {
		msg += " → " + target
	}
	if r := d.heldBy(name, path, hs); r != nil {
		return *r
	}
	return okCheck(name, "%s present", msg)
}

// heldBy says who holds the device: the kiosk is fine, anything else keeps the kiosk from it. nil
// when nobody does.
func (d *doctor) heldBy(name, path string, hs []holder) *checkResult {
	for _, h := range hs {
		if !d.kioskProcs[h.comm] {
			r := failCheck(name, "stop that program (a terminal program left open?): the kiosk needs the port to itself",
				"%s is held by %s", path, h)
			return &r
		}
	}
	if len(hs) > 0 {
		r := okCheck(name, "%s in use by the kiosk: %s", path, hs[0])
		return &r
	}
	return nil
}

// holder is a process that has a device open.
type holder struct {
	pid  int
	comm string
}

func (h holder) String() string { return fmt.Sprintf("%s (pid %d)", h.comm, h.pid) }

// holders lists the processes with path open, from /proc/*/fd (those of other users are seen
// only by root; a non-root doctor then learns of the kiosk from the port being busy). The
// doctor itself has not opened path when it asks, so its own process counts too: it is a test
// holding the port.
func (d *doctor) holders(path string) []holder {
	var want syscall.Stat_t
	if syscall.Stat(path, &want) != nil {
		return nil
	}
	procs, _ := os.ReadDir(d.proc)
	var out []holder
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join(d.proc, p.Name(), "fd")
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			var st syscall.Stat_t
			if syscall.Stat(filepath.Join(dir, fd.Name()), &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFCHR && st.Rdev == want.Rdev {
				comm, _ := os.ReadFile(filepath.Join(d.proc, p.Name(), "comm"))
				if h := (holder{pid: pid, comm: strings.TrimSpace(string(comm))}); !d.skipProcs[h.comm] {
					out = append(out, h)
				}
				break
			}
		}
	}
	return out
}

// printerStateResult turns a printer state (the kiosk's words: ok, paper-low, paper-out, ...)
// into the checklist's line.
func printerStateResult(state, where string) checkResult {
	const name = "printer"
	switch state {
	case "ok":
		return okCheck(name, "%s: ok", where)
	case "paper-low":
		return warnCheck(name, "replace the roll soon (docs/operator-guide.md, Paper)", "%s: paper low", where)
	case "paper-out":
		return failCheck(name, "load a new roll, close the cover, then tap 已换纸 (Paper replaced) in staff mode", "%s: paper out", where)
	case "cover-open":
		return failCheck(name, "close the printer's cover until it clicks", "%s: cover open", where)
	case "error":
		return failCheck(name, "clear the paper jam or cutter; switch the printer off and on", "%s: printer error (cutter, head too hot, or jam)", where)
	case "offline", "timeout", "garbled":
		return failCheck(name, "check the printer's power and cable, and devices.printer_baud against the printer's self-test page (hold FEED at power-on)", "%s: %s (no usable answer to a status request)", where, state)
	case "absent":
		return failCheck(name, udevFix, "%s: absent", where)
	}
	return failCheck(name, "journalctl -u kioskd -u citizenhome-kiosk", "%s: %s", where, state)
}

func (d *doctor) checkPrinter(ctx context.Context) checkResult {
	const name = "printer"
	path := d.cfg.Devices.Printer
	if path == "" {
		return warnCheck(name, "set devices.printer to /dev/citizenhome-printer", "no printer configured: the kiosk cannot print tickets")
	}
	if r, running := d.askKioskd(ctx); running {
		return r
	}
	_, hs, r := d.serialDevice(name, "printer", path)
	if r != nil {
		return *r
	}
	if r := d.heldBy(name, path, hs); r != nil {
		if r.Status == checkOK {
			r.Message += "; its state shows in kioskctl status and on the staff screen"
		}
		return *r
	}
	p, err := escpos.Open(path, escpos.SerialConfig{Baud: d.cfg.Devices.PrinterBaud, RTSCTS: d.cfg.Devices.PrinterFlow == "rtscts"})
	var pe *serial.PortError
	if errors.As(err, &pe) && pe.Code() == serial.PortBusy {
		return okCheck(name, "%s in use by the kiosk (the port is busy); its state shows in kioskctl status and on the staff screen", path)
	}
	if err != nil {
		return failCheck(name, udevFix, "%s: %v", path, err)
	}
	defer p.Close()
	st, err := p.Status(ctx)
	var ee *escpos.Error
	if errors.As(err, &ee) {
		return printerStateResult(ee.Code.String(), path)
	}
	if err != nil {
		return failCheck(name, "check the printer's power and cable", "%s: %v", path, err)
	}
	return printerStateResult(st.State().String(), path)
}

// askKioskd asks a running kioskd (the local API, api.listen) for the printer: it holds the
// port. running is false when nothing answers there.
func (d *doctor) askKioskd(ctx context.Context) (checkResult, bool) {
	const name = "printer"
	c := apiClient(d.cfg.API.Listen)
	base := "http://kioskd"
	hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var health struct {
		State string `json:"state"`
	}
	if code, err := getJSON(hctx, c, base+"/healthz", "", &health); err != nil || code != http.StatusOK {
		return checkResult{}, false
	}
	where := "kioskd at " + d.cfg.API.Listen
	token, terr := os.ReadFile(d.cfg.API.TokenFile)
	if terr == nil {
		var st wire.Status
		if code, err := getJSON(ctx, c, base+"/v1/status", strings.TrimSpace(string(token)), &st); err == nil && code == http.StatusOK {
			if dev, ok := st.Devices["printer"]; ok {
				return printerStateResult(dev.State, where+" says the printer is"), true
			}
		}
	}
	// This kioskd does not report its devices one by one: its overall state says whether one
	// of them is unusable.
	switch health.State {
	case "ready":
		return okCheck(name, "%s holds the printer; its devices are fine (state ready)", where), true
	case "locked":
		return warnCheck(name, "kioskctl unlock, or unlock in staff mode", "%s holds the printer; the kiosk is locked (暂停服务)", where), true
	}
	return failCheck(name, "kioskctl status shows which device; journalctl -u kioskd", "%s holds the printer; state %s: a device is not usable", where, health.State), true
}

// apiClient reaches the local API at listen (host:port or unix:/path).
func apiClient(listen string) *http.Client {
	network, addr := "tcp", listen
	if p, ok := strings.CutPrefix(listen, "unix:"); ok {
		network, addr = "unix", p
	}
	var dialer net.Dialer
	return &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
	}}
}

func getJSON(ctx context.Context, c *http.Client, u, token string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode == http.StatusOK {
		err = json.Unmarshal(b, v)
	}
	return resp.StatusCode, err
}

func (d *doctor) checkBroker(ctx context.Context) checkResult {
	const name = "broker"
	m := d.cfg.MQTT
	if !m.Enabled {
		return okCheck(name, "telemetry off (mqtt.enabled = false)")
	}
	s := link.Settings{URL: m.URL, CAFile: m.CAFile, CertFile: m.CertFile, KeyFile: m.KeyFile}
	if m.CredentialsFile != "" {
		u, p, err := link.ReadCredentials(m.CredentialsFile)
		if err != nil {
			return failCheck(name, "the credentials file has two lines, username then password, mode 600, owned by the kiosk's user", "%v", err)
		}
		s.Username, s.Password = u, p
	}
	// Never the kiosk's own client id: the broker would end the running kiosk's session.
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	s.ClientID = "kioskctl-doctor-" + hex.EncodeToString(b)
	if dl, ok := ctx.Deadline(); ok {
		s.ConnectTimeout = max(time.Until(dl)-100*time.Millisecond, 100*time.Millisecond)
	}
	o, err := s.Options()
	if err != nil {
		return failCheck(name, "fix the [mqtt] keys", "%v", err)
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		return failCheck(name, "check the network path to the broker (firewall, port 8883 for ssl://)", "%s: no answer", m.URL)
	}
	if err := tok.Error(); err != nil {
		fix := "check that the broker runs and that this kiosk reaches it (nc -vz HOST PORT); for ssl://, mqtt.ca_file must hold the hall's CA"
		if strings.Contains(err.Error(), "user name or password") || strings.Contains(err.Error(), "not Authorized") {
			fix = "the broker refused the account: check mqtt.credentials_file against the broker's password file (the account is " + wire.Kiosk{Hall: d.cfg.Hall.ID, Kiosk: d.cfg.Kiosk.ID}.ClientID() + ")"
		}
		if m.Embedded {
			return warnCheck(name, "the embedded broker runs inside the kiosk: start the kiosk", "%s: %v", m.URL, err)
		}
		return failCheck(name, fix, "%s: %v", m.URL, err)
	}
	c.Disconnect(100)
	who := s.Username
	if who == "" {
		who = "the client certificate"
	}
	return okCheck(name, "%s accepts %s", m.URL, who)
}

// Kernel clock status (adjtimex): unsynchronised bit, and the state that says the same.
const (
	staUnsync = 0x0040
	timeError = 5
)

func (d *doctor) checkClock(ctx context.Context) checkResult {
	const name = "clock"
	const fix = "timedatectl set-ntp true; the hall's time server goes in /etc/systemd/timesyncd.conf (NTP=); timedatectl timesync-status shows what it hears"
	out, err := d.timedatectl(ctx)
	if err == nil {
		switch out {
		case "yes":
			return okCheck(name, "synchronised (NTP, timedatectl)")
		case "no":
			return failCheck(name, fix, "not synchronised (timedatectl: NTPSynchronized=no): tickets, receipts and the hall's records carry wrong times")
		}
	}
	status, state, aerr := d.adjtimex()
	if aerr != nil {
		return warnCheck(name, fix, "cannot tell: timedatectl: %v; adjtimex: %v", errOr(err, out), aerr)
	}
	if status&staUnsync != 0 || state == timeError {
		return warnCheck(name, fix, "the kernel says the clock is not synchronised (adjtimex), and timedatectl cannot tell (%v)", errOr(err, out))
	}
	return okCheck(name, "synchronised (kernel clock status)")
}

func errOr(err error, out string) any {
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(bytes.TrimSpace(ee.Stderr)) > 0 {
			return strings.Join(strings.Fields(string(ee.Stderr)), " ")
		}
		return err
	}
	return fmt.Sprintf("answered %q", out)
}
