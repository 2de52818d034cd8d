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
	"citizenhome/devices/escpos/driver"
	"citizenhome/devices/idcard"
	"citizenhome/devices/idcard/tty"
	"citizenhome/devices/pcsc"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/store"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/wire"
)

const doctorUsage = `
on the kiosk:
  doctor [-config FILE] [-user NAME] [--timeout D]
                        checklist: config, catalog, hall key, store, API token (kioskd), card
                        readers, ID reader, printer, broker, clock; exit 1 on any FAIL. Files and
                        devices are checked as the user the installed kioskd.service or
                        citizenhome-kiosk.service runs as (run it as root), or as -user NAME
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
	// Details are further lines: every problem of a configuration file after the first.
	Details []string `json:"details,omitempty"`
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
	// user is -user: check access as this user instead of the installed unit's.
	user string
	// unitDirs are searched for kioskd.service and citizenhome-kiosk.service (systemdDirs).
	unitDirs []string
	// exe is this program, started again as the daemon's user to check access.
	exe string
	// configPath is the configuration file, whose access is checked too ("": none).
	configPath string

	prepared sync.Once
	plan     *accessPlan
	access   map[probeKey]accessAnswer
	// accessErr: the access check could not run; every check then says nothing of access.
	accessErr error

	kioskdOnce sync.Once
	kd         kioskdView
}

// doctorHook, when set (by tests), adjusts every doctor runDoctor makes.
var doctorHook func(*doctor)

func newDoctor(cfg config.Config, timeout time.Duration) *doctor {
	exe, _ := os.Executable()
	return &doctor{cfg: cfg, timeout: timeout, listReaders: pcsc.ListReaders, timedatectl: timedatectl,
		adjtimex: adjtimex, proc: "/proc", kioskProcs: map[string]bool{"kiosk": true, "kioskd": true},
		unitDirs: systemdDirs, exe: exe}
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
	asUser := fs.String("user", "", "check file and device access as this user (default: the installed unit's User=)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	out := printer{w: stdout, json: *asJSON}
	var results []checkResult
	cfg, warnings, err := config.Inspect(*cfgPath)
	if err != nil {
		r := failCheck("config", "fix the lines named (kioskctl check-config "+*cfgPath+" lists them all); every key is explained in "+exampleConfig,
			"%v", err)
		var es config.Errors
		if errors.As(err, &es) && len(es) > 1 {
			r.Message = fmt.Sprintf("%v (and %d more below)", es[0], len(es)-1)
			for _, e := range es[1:] {
				r.Details = append(r.Details, e.Error())
			}
		}
		results = append(results, r, warnCheck("others", "", "the other checks need a valid configuration"))
	} else {
		d := newDoctor(cfg, *timeout)
		d.user, d.configPath = *asUser, *cfgPath
		if doctorHook != nil {
			doctorHook(d)
		}
		ctx := context.Background()
		d.prepare(ctx)
		results = append(results, d.checkConfig(warnings))
		results = append(results, d.run(ctx)...)
	}
	return printChecks(out, results)
}

// checkConfig is the first line: the file is valid, whom the doctor checks as, whether that
// user may read the file, and the example's placeholder ids left in place.
func (d *doctor) checkConfig(warnings []config.Warning) checkResult {
	const name = "config"
	p := d.plan
	r := okCheck(name, "%s is valid (hall %s, kiosk %s)", d.configPath, d.cfg.Hall.ID, d.cfg.Kiosk.ID)
	worse := func(status, msg, fix string) {
		if status == checkFail || r.Status == checkOK {
			r.Status = status
		}
		r.Message += "; " + msg
		r.Fix = joinNote(r.Fix, fix)
	}
	switch {
	case p.fail != "":
		worse(checkFail, p.fail, p.fix)
	case d.accessErr != nil:
		worse(checkWarn, fmt.Sprintf("file access not checked as %s: %v", p.target.Name, d.accessErr), "run kioskctl doctor as root")
	default:
		how := p.checked.Name
		if p.unit.Name != "" && p.checked.UID == p.target.UID {
			how += " (" + p.unit.Name + ")"
		} else if p.from != "" && !strings.HasPrefix(p.from, "User=") && p.checked.UID == p.target.UID {
			how += " (" + p.from + ")"
		}
		r.Message += fmt.Sprintf("; files checked as %s, groups %s", how, p.checked.groupList())
		if p.warn != "" {
			worse(checkWarn, p.warn, p.fix)
		}
		if pid, missing := d.staleGroups(p); len(missing) > 0 {
			names := make([]string, len(missing))
			for i, g := range missing {
				names[i] = groupName(g)
			}
			worse(checkWarn, fmt.Sprintf("%s (pid %d) runs without group %s, which %s has been given since it started: it may not open what the group allows",
				p.program(), pid, strings.Join(names, ", "), p.target.Name), p.restartHint()+" (a service takes its groups when it starts)")
		}
		if msg, fix, bad := d.refused(d.configPath, wantRead, kindShared); bad {
			worse(checkFail, msg, fix)
		}
	}
	var keys []string
	for _, w := range warnings {
		line := ""
		if w.Line > 0 {
			line = fmt.Sprintf(" (line %d)", w.Line)
		}
		worse(checkWarn, fmt.Sprintf("%s%s: %s", w.Key, line, w.Msg), "")
		keys = append(keys, w.Key)
	}
	if len(keys) > 0 {
		r.Fix = joinNote(r.Fix, fmt.Sprintf("set %s in %s, then restart the kiosk", strings.Join(keys, " and "), d.configPath))
	}
	return r
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
		for _, l := range r.Details {
			fmt.Fprintf(out.w, "      %-12s %s\n", "", l)
		}
		if r.Fix != "" {
			fmt.Fprintf(out.w, "      %-12s → %s\n", "", r.Fix)
		}
	}
	return code
}

// prepare decides whom to check access as and asks about every file and device the
// configuration names, once, before the checks run: as another user that takes a process.
func (d *doctor) prepare(ctx context.Context) {
	d.prepared.Do(func() {
		d.plan = d.whom()
		if d.plan.fail != "" {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, d.timeout)
		defer cancel()
		d.access, d.accessErr = d.runProbes(ctx, d.plan, d.probes())
	})
}

// run runs every check at once, each under the timeout, and returns them in a fixed order.
func (d *doctor) run(ctx context.Context) []checkResult {
	d.prepare(ctx)
	type check struct {
		name string
		fn   func(context.Context) checkResult
	}
	checks := []check{{"catalog", d.checkCatalog}, {"hall-key", d.checkKey}, {"store", d.checkStore}}
	if d.tokenApplies() {
		checks = append(checks, check{"api-token", d.checkToken})
	}
	checks = append(checks, []check{
		{"card-readers", d.checkCardReaders}, {"id-reader", d.checkIDReader}, {"printer", d.checkPrinter},
		{"broker", d.checkBroker}, {"clock", d.checkClock},
	}...)
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
	if msg, fix, bad := d.refused(d.cfg.Kiosk.Catalog, wantRead, kindShared); bad {
		return failCheck(name, fix, "%s", msg)
	}
	return okCheck(name, "%s: %d sections, %d matters", d.cfg.Kiosk.Catalog, len(c.Sections()), len(c.All()))
}

func (d *doctor) checkKey(context.Context) checkResult {
	const name = "hall-key"
	path := d.cfg.Privacy.KeyFile
	if _, err := os.Stat(civic.SealedKeyFile); err == nil {
		// Sealed: the units load it as a credential; the key file must be gone.
		if _, err := os.Lstat(path); err == nil {
			return warnCheck(name, "kioskctl hall-key seal (as root) finishes the move: it checks the sealed key and removes the file",
				"the hall key is sealed in %s, but %s still holds it in clear on the data disk", civic.SealedKeyFile, path)
		}
		return okCheck(name, "sealed in %s (systemd credential %s), no key file on the disk", civic.SealedKeyFile, civic.CredentialName)
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if msg, fix, bad := d.refused(path, wantCreate, kindState); bad {
			return failCheck(name, fix, "%s does not exist yet, and the kiosk cannot create it: %s", path, msg)
		}
		if msg, fix := d.sandboxWrite(filepath.Dir(path)); msg != "" {
			return failCheck(name, fix, "%s does not exist yet, and the kiosk cannot create it: %s", path, msg)
		}
		return warnCheck(name, "start the kiosk once (it creates the key), or copy the hall's key file here with mode 600",
			"%s does not exist yet", path)
	}
	// The file exists, so LoadKey only reads it.
	if _, err := civic.LoadKey(path); err != nil {
		return failCheck(name, "chmod 600 the file, owned by the kiosk's user; if its content is damaged, copy the hall's key back (a new key makes the stored hashes useless: push the hall data again)", "%v", err)
	}
	// Read above as the doctor; what counts is whether the daemon's user may: without the key
	// the hall services are off.
	if msg, fix, bad := d.refused(path, wantRead, kindSecret); bad {
		return failCheck(name, fix, "%s (without the key the hall services are off)", msg)
	}
	return okCheck(name, "%s readable%s, owner only (on the data disk: kioskctl hall-key seal moves it into a systemd credential)", path, d.by())
}

// by is " by citizenhome": whom the access checks were for ("" when they could not run).
func (d *doctor) by() string {
	if d.plan == nil || d.plan.fail != "" || d.accessErr != nil {
		return ""
	}
	return " by " + d.plan.checked.Name
}

// checkToken checks kioskd's API token file as kioskd would read it (localapi.LoadToken's rules:
// readable by its owner, and its group if any, writable by its owner only; at least 16
// characters) and as kioskd's user. The rules are repeated here because LoadToken creates a
// missing file, and the doctor creates nothing.
func (d *doctor) checkToken(context.Context) checkResult {
	const name = "api-token"
	path := d.cfg.API.TokenFile
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		if msg, fix, bad := d.refused(path, wantCreate, kindState); bad {
			return failCheck(name, fix, "%s does not exist yet, and kioskd cannot create it: %s", path, msg)
		}
		if msg, fix := d.sandboxWrite(filepath.Dir(path)); msg != "" {
			return failCheck(name, fix, "%s does not exist yet, and kioskd cannot create it: %s", path, msg)
		}
		return warnCheck(name, "start kioskd: it creates the token at its first start", "%s does not exist yet", path)
	}
	if err != nil {
		return failCheck(name, "run kioskctl doctor as root", "%v", err)
	}
	if fi.Mode().Perm()&0o037 != 0 {
		return failCheck(name, "chmod 640 "+path+" (its group: the window applications' users) or chmod 600: anyone who can read it can read citizens' ID cards through the API",
			"%s has mode %04o: kioskd refuses a token others may read or anyone but its owner may write", path, fi.Mode().Perm())
	}
	if msg, fix, bad := d.refused(path, wantRead, kindSecret); bad {
		return failCheck(name, fix, "%s (kioskd does not start without its token)", msg)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return failCheck(name, "run kioskctl doctor as root", "%v", err)
	}
	if len(strings.TrimSpace(string(b))) < 16 {
		return failCheck(name, "remove the file: kioskd makes a new one at its next start (give it to the window software again)",
			"%s: token too short (at least 16 characters)", path)
	}
	who := "owner only"
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().Perm()&0o040 != 0 {
		who = "owner and group " + groupName(st.Gid)
	}
	return okCheck(name, "%s readable%s, %s", path, d.by(), who)
}

// checkStore checks the database without changing it: store.Open would move a damaged file
// aside and migrate an old one, which is the kiosk's decision at its next start, not ours.
func (d *doctor) checkStore(ctx context.Context) checkResult {
	const name = "store"
	path := d.cfg.Kiosk.Store
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		if msg, fix, bad := d.refused(path, wantCreate, kindState); bad {
			return failCheck(name, fix, "%s does not exist yet, and the kiosk cannot create it: %s", path, msg)
		}
		if msg, fix := d.sandboxWrite(filepath.Dir(path)); msg != "" {
			return failCheck(name, fix, "%s does not exist yet, and the kiosk cannot create it: %s", path, msg)
		}
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
	}
	// The kiosk writes the file and, next to it, its -wal and -shm files.
	for _, f := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if msg, fix, bad := d.refused(f, wantWrite, kindState); bad {
			return failCheck(name, fix, "%s (the kiosk cannot keep tickets)", msg)
		}
	}
	if msg, fix, bad := d.refused(path+"-wal", wantCreate, kindState); bad {
		return failCheck(name, fix, "%s: it cannot make %s-wal next to the store", msg, filepath.Base(path))
	}
	if msg, fix := d.sandboxWrite(filepath.Dir(path)); msg != "" {
		return failCheck(name, fix, "%s (the kiosk cannot keep tickets)", msg)
	}
	if version < latest {
		return warnCheck(name, "restart the kiosk: it migrates the store when it starts",
			"%s is healthy, schema version %d of %d", path, version, latest)
	}
	return okCheck(name, "%s healthy (%s, schema version %d)%s", path, sizeOf(fi.Size()), version, writable(d.by()))
}

// writable is ", writable by citizenhome" from d.by's " by citizenhome".
func writable(by string) string {
	if by == "" {
		return ""
	}
	return ", writable" + by
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

// adapterGlobs are where USB serial adapters appear.
var adapterGlobs = []string{"/dev/ttyUSB*", "/dev/ttyACM*"}

// adaptersPresent says which USB serial adapters the kernel has now: what a missing device's
// link should point to.
func adaptersPresent() string {
	var found []string
	for _, g := range adapterGlobs {
		m, _ := filepath.Glob(g)
		found = append(found, m...)
	}
	if len(found) == 0 {
		return "no USB serial adapter is present at all (the kernel sees none: cable, power, dmesg)"
	}
	return "USB serial adapters present: " + strings.Join(found, ", ")
}

// node checks the device node at path (devices.<key>) before anything talks to it, and names
// what is wrong in the order a technician fixes it: no node, a udev link to a device that is
// gone, not a serial device, the daemon's user may not open it. target is where a link leads.
func (d *doctor) node(name, key, path string) (target string, r *checkResult) {
	fail := func(fix, format string, args ...any) (string, *checkResult) {
		c := failCheck(name, fix, format, args...)
		return target, &c
	}
	li, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fail(udevFix, "%s (devices.%s) does not exist: no device node; %s", path, key, adaptersPresent())
	}
	if err != nil {
		return fail("run kioskctl doctor as root", "%s (devices.%s): %v", path, key, err)
	}
	if li.Mode()&os.ModeSymlink != 0 {
		link, _ := os.Readlink(path)
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return fail("plug the device in: udev makes the link again when it comes back; if the adapter is in, udevadm trigger --subsystem-match=tty re-applies the rule (a link made by hand is removed with rm "+path+")",
				"%s (devices.%s) is a link to %s, which does not exist: the device it named is gone (unplugged, or back under another name); %s", path, key, link, adaptersPresent())
		}
		target, _ = filepath.EvalSymlinks(path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fail("run kioskctl doctor as root", "%s (devices.%s): %v", path, key, err)
	}
	if fi.Mode()&os.ModeCharDevice == 0 {
		return fail("devices."+key+" must name the serial device (/dev/citizenhome-...)", "%s is not a serial device", path)
	}
	if msg, fix, bad := d.refused(path, wantWrite, kindDevice); bad {
		return fail(fix, "%s", msg)
	}
	if msg, fix := d.sandboxDevice(path, target); msg != "" {
		return fail(fix, "%s", msg)
	}
	return target, nil
}

// shown is "path → target" for a udev link, else path.
func shown(path, target string) string {
	if target != "" && target != path {
		return path + " → " + target
	}
	return path
}

// checkIDReader: the node, then who holds the port (the kiosk: ask kioskd what it sees), then the
// reader itself with a SAM status request.
func (d *doctor) checkIDReader(ctx context.Context) checkResult {
	const name = "id-reader"
	path := d.cfg.Devices.IDReader
	if path == "" {
		return okCheck(name, "no SAM ID card reader configured (devices.id_reader)")
	}
	target, r := d.node(name, "id_reader", path)
	if r != nil {
		return *r
	}
	msg := shown(path, target)
	hs := d.holders(path)
	if r := d.heldBy(name, msg, hs); r != nil {
		if r.Status == checkOK {
			return d.idReaderFromKioskd(ctx, *r)
		}
		return *r
	}
	rd, err := tty.Open(path, d.cfg.Devices.IDReaderBaud)
	var pe *serial.PortError
	if errors.As(err, &pe) && pe.Code() == serial.PortBusy {
		return d.idReaderFromKioskd(ctx, okCheck(name, "%s in use by the kiosk (the port is busy)", msg))
	}
	if err != nil {
		return failCheck(name, udevFix, "%s: %v", msg, err)
	}
	defer rd.Close()
	err = rd.SAMStatus(ctx)
	var st idcard.Status
	var fe *idcard.FrameError
	switch {
	case err == nil:
		return okCheck(name, "%s: the reader answers, its SAM is ready", msg)
	case errors.Is(err, idcard.ErrTimeout) || errors.Is(err, context.DeadlineExceeded):
		return failCheck(name, fmt.Sprintf("check the reader's power (its light) and its USB cable; then devices.id_reader_baud (%d) against the reader's manual (most SAM readers use 115200)", d.cfg.Devices.IDReaderBaud),
			"%s opens, but the reader does not answer a SAM status request", msg)
	case errors.As(err, &fe):
		return failCheck(name, fmt.Sprintf("devices.id_reader_baud (%d) does not match the reader's speed (most SAM readers use 115200); a loose cable garbles bytes too", d.cfg.Devices.IDReaderBaud),
			"%s answers with garbled bytes (%v)", msg, err)
	case errors.As(err, &st):
		return failCheck(name, "switch the reader off and on (unplug its USB cable for a few seconds); if it stays, the reader's SAM module needs the vendor",
			"%s answers, but its SAM reports: %s", msg, st.Meaning())
	}
	return failCheck(name, "check the reader's power and cable", "%s: %v", msg, err)
}

// idReaderFromKioskd: the kiosk holds the reader; a running kioskd says what it sees of it.
func (d *doctor) idReaderFromKioskd(ctx context.Context, held checkResult) checkResult {
	kd := d.kioskd(ctx)
	dev, ok := kd.device("id-reader") // kiosk.DeviceIDReader
	if !ok {
		return held
	}
	where := "kioskd at " + d.cfg.API.Listen
	switch dev.State {
	case "ok":
		return okCheck(held.Name, "%s says the ID reader is: ok", where)
	case "offline", "absent":
		return failCheck(held.Name, "check the reader's power (its light) and its USB cable, then devices.id_reader_baud; kioskd reopens it by itself",
			"%s holds the port but says the ID reader is %s: it does not answer (%s)", where, dev.State, dev.Detail)
	}
	return failCheck(held.Name, "journalctl -u kioskd", "%s says the ID reader is %s (%s)", where, dev.State, dev.Detail)
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
	case "offline", "timeout":
		return failCheck(name, "the device node is there and may be opened, so: check the printer's power (its light) and its cable; then devices.printer_baud against the printer's self-test page (hold FEED at power-on)",
			"%s: %s (the port opens, but no usable answer to a status request)", where, state)
	case "garbled":
		return failCheck(name, "devices.printer_baud does not match the printer: its self-test page (hold FEED at power-on) shows its speed; a loose cable garbles bytes too",
			"%s: garbled (the port opens, but the answer to a status request is garbled)", where)
	case "absent":
		return failCheck(name, udevFix, "%s: absent", where)
	}
	return failCheck(name, "journalctl -u kioskd -u citizenhome-kiosk", "%s: %s", where, state)
}

// deviceFault: a state in which the device itself may be missing or out of reach, so that its
// node is worth a look.
func deviceFault(state string) bool {
	switch state {
	case "offline", "timeout", "garbled", "absent", "error":
		return true
	}
	return false
}

func (d *doctor) checkPrinter(ctx context.Context) checkResult {
	const name = "printer"
	path := d.cfg.Devices.Printer
	if path == "" {
		return warnCheck(name, "set devices.printer to /dev/citizenhome-printer", "no printer configured: the kiosk cannot print tickets")
	}
	if r, state, running := d.askKioskd(ctx); running {
		// kioskd's word for a printer it cannot reach is "offline", whatever the cause: the
		// node says which cause it is.
		if r.Status == checkFail && deviceFault(state) {
			if _, nr := d.node(name, "printer", path); nr != nil {
				nr.Message = r.Message + "; " + nr.Message
				return *nr
			}
		}
		return r
	}
	target, r := d.node(name, "printer", path)
	if r != nil {
		return *r
	}
	where := shown(path, target)
	if r := d.heldBy(name, where, d.holders(path)); r != nil {
		if r.Status == checkOK {
			r.Message += "; its state shows in kioskctl status and on the staff screen"
		}
		return *r
	}
	p, err := driver.Open(path, driver.SerialConfig{Baud: d.cfg.Devices.PrinterBaud, RTSCTS: d.cfg.Devices.PrinterFlow == "rtscts"})
	var pe *serial.PortError
	if errors.As(err, &pe) && pe.Code() == serial.PortBusy {
		return okCheck(name, "%s in use by the kiosk (the port is busy); its state shows in kioskctl status and on the staff screen", where)
	}
	if err != nil {
		return failCheck(name, udevFix, "%s: %v", where, err)
	}
	defer p.Close()
	st, err := p.Status(ctx)
	var ee *escpos.Error
	if errors.As(err, &ee) {
		return printerStateResult(ee.Code.String(), path)
	}
	if err != nil {
		return failCheck(name, "check the printer's power and cable", "%s: %v", where, err)
	}
	return printerStateResult(st.State().String(), path)
}

// kioskdView is what a running kioskd says: its overall state (/healthz) and, with the token,
// its status (/v1/status).
type kioskdView struct {
	running bool
	health  string
	status  *wire.Status
}

func (v kioskdView) device(name string) (wire.Device, bool) {
	if v.status == nil {
		return wire.Device{}, false
	}
	dev, ok := v.status.Devices[name]
	return dev, ok
}

// kioskd asks a running kioskd (the local API, api.listen), once for all checks.
func (d *doctor) kioskd(ctx context.Context) kioskdView {
	d.kioskdOnce.Do(func() {
		c := apiClient(d.cfg.API.Listen)
		// Over TCP the Host must be the API's own address: kioskd refuses other names (DNS
		// rebinding); over the unix socket any name will do.
		base := "http://kioskd"
		if !strings.HasPrefix(d.cfg.API.Listen, "unix:") {
			base = "http://" + d.cfg.API.Listen
		}
		hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		var health struct {
			State string `json:"state"`
		}
		if code, err := getJSON(hctx, c, base+"/healthz", "", &health); err != nil || code != http.StatusOK {
			return
		}
		d.kd = kioskdView{running: true, health: health.State}
		token, err := os.ReadFile(d.cfg.API.TokenFile)
		if err != nil {
			return
		}
		var st wire.Status
		if code, err := getJSON(ctx, c, base+"/v1/status", strings.TrimSpace(string(token)), &st); err == nil && code == http.StatusOK {
			d.kd.status = &st
		}
	})
	return d.kd
}

// askKioskd asks a running kioskd for the printer: it holds the port. running is false when
// nothing answers there; state is the printer's state as kioskd reports it, or kioskd's own
// overall state when it does not report devices to this caller (no token).
func (d *doctor) askKioskd(ctx context.Context) (r checkResult, state string, running bool) {
	const name = "printer"
	kd := d.kioskd(ctx)
	if !kd.running {
		return checkResult{}, "", false
	}
	where := "kioskd at " + d.cfg.API.Listen
	if dev, ok := kd.device("printer"); ok {
		return printerStateResult(dev.State, where+" says the printer is"), dev.State, true
	}
	// This kioskd does not report its devices one by one: its overall state says whether one
	// of them is unusable.
	switch kd.health {
	case "ready":
		return okCheck(name, "%s holds the printer; its devices are fine (state ready)", where), "ok", true
	case "locked":
		return warnCheck(name, "kioskctl unlock, or unlock in staff mode", "%s holds the printer; the kiosk is locked (暂停服务)", where), "ok", true
	}
	return failCheck(name, "kioskctl status shows which device; journalctl -u kioskd", "%s holds the printer; state %s: a device is not usable", where, kd.health), "offline", true
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
	for _, f := range []struct {
		path string
		kind fileKind
	}{{m.CredentialsFile, kindSecret}, {m.CAFile, kindShared}, {m.CertFile, kindShared}, {m.KeyFile, kindSecret}} {
		if msg, fix, bad := d.refused(f.path, wantRead, f.kind); bad {
			return failCheck(name, fix, "%s (the kiosk cannot reach the broker)", msg)
		}
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
	if err := s.CheckConfigured(); err != nil {
		fix := "fix the [mqtt] keys"
		switch {
		case errors.Is(err, link.ErrClearText):
			fix = "use a broker on this machine (tcp://127.0.0.1:1883), or ssl:// with mqtt.ca_file naming the hall's CA certificate"
		case errors.Is(err, link.ErrNoCA):
			fix = "set mqtt.ca_file to the hall's CA certificate (the one that signed the broker's certificate)"
		}
		return failCheck(name, fix, "%v", err)
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
	err = tok.Error()
	if err != nil && refusedAccount(err) {
		// The broker binds a kiosk account to the kiosk's own client id (docs/telemetry.md,
		// "Bound identities"), so the probe's id is refused even with the right password.
		if r, ok := d.brokerBound(ctx, s); ok {
			return r
		}
		err = d.probeOwnID(ctx, s)
	}
	if err != nil {
		fix := "check that the broker runs and that this kiosk reaches it (nc -vz HOST PORT); for ssl://, mqtt.ca_file must hold the hall's CA"
		if refusedAccount(err) {
			fix = "the broker refused the account: check mqtt.credentials_file against the broker's password file (the account is " + wire.Kiosk{Hall: d.cfg.Hall.ID, Kiosk: d.cfg.Kiosk.ID}.ClientID() + ")"
		}
		if m.Embedded {
			return warnCheck(name, "the embedded broker runs inside the kiosk: start the kiosk", "%s: %v", m.URL, err)
		}
		return failCheck(name, fix, "%s: %v", m.URL, err)
	}
	if c.IsConnected() {
		c.Disconnect(100)
	}
	who := s.Username
	if who == "" {
		who = "the client certificate"
	}
	return okCheck(name, "%s accepts %s", m.URL, who)
}

func refusedAccount(err error) bool {
	return strings.Contains(err.Error(), "user name or password") || strings.Contains(err.Error(), "not Authorized")
}

// brokerBound judges the broker when it refused the account under the probe's client id: a
// running kiosk holds the account's own id, and doctor must not log in beside it (the broker
// would end the kiosk's session). ok is false when no kiosk runs: the caller then probes with
// the kiosk's own id.
func (d *doctor) brokerBound(ctx context.Context, s link.Settings) (r checkResult, ok bool) {
	const name = "broker"
	if kd := d.kioskd(ctx); kd.running && kd.status != nil {
		if kd.status.Boot > 0 {
			return okCheck(name, "%s: kioskd at %s is connected as %s (boot %d)", s.URL, d.cfg.API.Listen, s.Username, kd.status.Boot), true
		}
		return failCheck(name, "journalctl -u kioskd says why; check mqtt.credentials_file against the broker's password file",
			"%s: kioskd at %s is not connected to the broker, which refuses %s under another client id than its own", s.URL, d.cfg.API.Listen, s.Username), true
	}
	if hs := d.storeHolders(); len(hs) > 0 {
		return warnCheck(name, "kioskctl status at the hall shows whether this kiosk is connected",
			"%s admits %s only under its own client id, which the running %s (pid %d) holds: doctor does not log in beside it", s.URL, s.Username, hs[0].comm, hs[0].pid), true
	}
	return checkResult{}, false
}

// storeHolders are the kiosk processes (kiosk, kioskd) that have the store open.
func (d *doctor) storeHolders() []holder {
	want, err := os.Stat(d.cfg.Kiosk.Store)
	if err != nil {
		return nil
	}
	procs, _ := os.ReadDir(d.proc)
	var out []holder
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join(d.proc, p.Name(), "comm"))
		h := holder{pid: pid, comm: strings.TrimSpace(string(comm))}
		if !d.kioskProcs[h.comm] {
			continue
		}
		dir := filepath.Join(d.proc, p.Name(), "fd")
		fds, _ := os.ReadDir(dir)
		for _, fd := range fds {
			if fi, err := os.Stat(filepath.Join(dir, fd.Name())); err == nil && os.SameFile(fi, want) {
				out = append(out, h)
				break
			}
		}
	}
	return out
}

// probeOwnID logs in with the kiosk's own client id, when no kiosk runs here. It keeps the
// kiosk's session (clean session off) and acknowledges nothing, so commands queued for the
// kiosk stay queued: the broker sends them again when the kiosk connects.
func (d *doctor) probeOwnID(ctx context.Context, s link.Settings) error {
	s.ClientID = s.Username
	o, err := s.Options()
	if err != nil {
		return err
	}
	o.SetCleanSession(false).SetAutoAckDisabled(true).SetAutoReconnect(false).
		SetDefaultPublishHandler(func(paho.Client, paho.Message) {})
	c := paho.NewClient(o)
	tok := c.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := tok.Error(); err != nil {
		return err
	}
	c.Disconnect(100)
	return nil
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
