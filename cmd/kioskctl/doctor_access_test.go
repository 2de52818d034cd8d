package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/idcard"
	"citizenhome/devices/idcard/samsim"
	"citizenhome/devices/idcard/tty"
	"citizenhome/internal/localapi"
	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/store"
)

// TestMain lets the test binary be the doctor's access helper, as kioskctl is in production:
// the doctor starts its own executable with accessHelperArg. With ctlArg it is kioskctl itself,
// for tests that run a command as another user.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == accessHelperArg {
		os.Exit(runAccessHelper(os.Stdin, os.Stdout))
	}
	if len(os.Args) > 1 && os.Args[1] == ctlArg {
		os.Exit(run(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const ctlArg = "__kioskctl-test"

// samLine is the SAM reader simulator on a real serial line: socat joins two ptys back to back
// (a null-modem cable), the simulator serves one end, and the code under test opens Path, a link
// to the other, with the real serial driver.
type samLine struct {
	Path string
	Sim  *samsim.Sim
}

func startSAM(t *testing.T) *samLine {
	t.Helper()
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("socat not installed (scripts/deps.sh test): pty tests skipped")
	}
	dir := t.TempDir()
	l := &samLine{Path: filepath.Join(dir, "host"), Sim: samsim.New()}
	l.Sim.SetReadDelay(0, 0)
	dev := filepath.Join(dir, "sam")
	var log bytes.Buffer
	cmd := exec.Command("socat", "-d", "-d", "pty,raw,echo=0,link="+l.Path, "pty,raw,echo=0,link="+dev)
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for !isCharDevice(l.Path) || !isCharDevice(dev) {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("socat made no ptys within 10s: %s", log.String())
		}
		time.Sleep(2 * time.Millisecond) // polling interval, bounded by the deadline
	}
	f, err := os.OpenFile(dev, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- l.Sim.Serve(ctx, f) }()
	t.Cleanup(func() {
		cancel()
		f.Close()
		<-served
		stop()
	})
	return l
}

func isCharDevice(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// The ID reader: a SAM that answers, one that is silent, one whose SAM fails, no node, a udev
// link to a device that is gone. Each names its own cause and its own fix.
func TestDoctorIDReader(t *testing.T) {
	withProbes(t, nil)
	sam := startSAM(t)
	s := newSetup(t)
	s.idReader = sam.Path
	p := s.write(t)
	code, d := runDoctorJSON(t, p)
	if r := d.check(t, "id-reader"); code != 0 || r.Status != checkOK || !strings.Contains(r.Message, "SAM is ready") {
		t.Errorf("answering reader: %d %+v", code, r)
	}
	if sam.Sim.Count(idcard.CmdSAMStatus) == 0 {
		t.Error("the reader was never asked")
	}

	sam.Sim.Inject(samsim.Fault{Kind: samsim.FaultSilence, Times: -1})
	code, d = runDoctorJSON(t, p)
	if r := d.check(t, "id-reader"); code != 1 || r.Status != checkFail || !strings.Contains(r.Message, "opens, but the reader does not answer") ||
		!strings.Contains(r.Fix, "power") || !strings.Contains(r.Fix, "id_reader_baud") {
		t.Errorf("silent reader: %d %+v", code, r)
	}
	sam.Sim.ClearFaults()

	sam.Sim.Inject(samsim.Fault{Kind: samsim.FaultStatus, Status: idcard.ErrSelfTest, Times: -1})
	code, d = runDoctorJSON(t, p)
	if r := d.check(t, "id-reader"); code != 1 || r.Status != checkFail || !strings.Contains(r.Message, "its SAM reports") ||
		strings.Contains(r.Fix, "baud") {
		t.Errorf("SAM fault: %d %+v", code, r)
	}
	sam.Sim.ClearFaults()

	s.idReader = filepath.Join(s.dir, "ttyUSB7")
	code, d = runDoctorJSON(t, s.write(t))
	if r := d.check(t, "id-reader"); code != 1 || !strings.Contains(r.Message, "does not exist: no device node") ||
		!strings.Contains(r.Message, "adapter") || strings.Contains(r.Fix, "baud") || !strings.Contains(r.Fix, "udev") {
		t.Errorf("no node: %d %+v", code, r)
	}

	link := filepath.Join(s.dir, "citizenhome-idreader")
	gone := filepath.Join(s.dir, "ttyUSB3")
	if err := os.Symlink(gone, link); err != nil {
		t.Fatal(err)
	}
	s.idReader = link
	code, d = runDoctorJSON(t, s.write(t))
	if r := d.check(t, "id-reader"); code != 1 || !strings.Contains(r.Message, "is a link to "+gone+", which does not exist") ||
		strings.Contains(r.Fix, "baud") || !strings.Contains(r.Fix, "udevadm trigger") {
		t.Errorf("dangling link: %d %+v", code, r)
	}

	// The same link, pointing at the reader again: found, shown with where it leads.
	os.Remove(link)
	if err := os.Symlink(sam.Path, link); err != nil {
		t.Fatal(err)
	}
	code, d = runDoctorJSON(t, s.write(t))
	if r := d.check(t, "id-reader"); code != 0 || r.Status != checkOK || !strings.Contains(r.Message, link+" → /dev/pts/") {
		t.Errorf("link to the reader: %d %+v", code, r)
	}
}

// The printer's device faults, each with its cause: no node and a dangling link are udev
// matters (never the baud rate); a port that opens but does not answer is power, cable, baud.
func TestDoctorPrinterCauses(t *testing.T) {
	withProbes(t, nil)
	emu, line := startPrinter(t)
	s := newSetup(t)
	s.printer = line.Path
	p := s.write(t)

	emu.SetCondition(emulator.NoAnswer)
	code, d := runDoctorJSON(t, p)
	if r := d.check(t, "printer"); code != 1 || !strings.Contains(r.Message, "the port opens, but no usable answer") ||
		!strings.Contains(r.Fix, "power") || !strings.Contains(r.Fix, "printer_baud") {
		t.Errorf("no answer: %d %+v", code, r)
	}
	emu.SetCondition(emulator.Ready)

	line.Vanish()
	code, d = runDoctorJSON(t, p)
	if r := d.check(t, "printer"); code != 1 || !strings.Contains(r.Message, "no device node") || strings.Contains(r.Fix, "baud") {
		t.Errorf("unplugged: %d %+v", code, r)
	}
	line.Return()

	link := filepath.Join(s.dir, "citizenhome-printer")
	if err := os.Symlink("ttyUSB0", link); err != nil { // relative, as udev writes them
		t.Fatal(err)
	}
	s.printer = link
	code, d = runDoctorJSON(t, s.write(t))
	if r := d.check(t, "printer"); code != 1 || !strings.Contains(r.Message, "is a link to "+filepath.Join(s.dir, "ttyUSB0")+", which does not exist") ||
		strings.Contains(r.Fix, "baud") {
		t.Errorf("dangling link: %d %+v", code, r)
	}
}

// kioskd running says "offline" for a printer whose node is missing: the doctor names the
// missing node, not the baud rate (the finding).
func TestDoctorKioskdOfflineNamesNode(t *testing.T) {
	withProbes(t, nil)
	s := newSetup(t)
	s.printer = filepath.Join(s.dir, "citizenhome-printer")
	cfg := s.cfg(t)
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
	srv := &http.Server{Handler: localapi.New(k, "0123456789abcdef0123")}
	go srv.Serve(ln)
	defer srv.Close()
	os.WriteFile(s.tokenPath, []byte("0123456789abcdef0123\n"), 0o600)

	k.SetDevice(kiosk.DevicePrinter, kiosk.StateOffline, "")
	code, d := runDoctorJSON(t, s.write(t))
	r := d.check(t, "printer")
	if code != 1 || !strings.Contains(r.Message, "kioskd at "+s.listen+" says the printer is: offline") ||
		!strings.Contains(r.Message, "does not exist: no device node") || strings.Contains(r.Fix, "baud") {
		t.Errorf("offline, node missing: %d %+v", code, r)
	}
	// The node there: then offline means no answer, and the advice is power, cable, baud.
	_, line := startPrinter(t)
	os.Symlink(line.Path, s.printer)
	code, d = runDoctorJSON(t, s.write(t))
	if r := d.check(t, "printer"); code != 1 || !strings.Contains(r.Message, "offline") || !strings.Contains(r.Fix, "printer_baud") {
		t.Errorf("offline, node there: %d %+v", code, r)
	}

	// The ID reader held by the kiosk (here: this test process, named as the kiosk): what kioskd
	// says of it.
	sam := startSAM(t)
	held, err := tty.Open(sam.Path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	self, _ := os.ReadFile("/proc/self/comm")
	withProbes(t, func(d *doctor) { d.kioskProcs[strings.TrimSpace(string(self))] = true })
	s.idReader = sam.Path
	k.SetDevice(kiosk.DevicePrinter, kiosk.StateOK, "")
	k.SetDevice(kiosk.DeviceIDReader, kiosk.StateOffline, "idcard: find: input/output error")
	before := sam.Sim.Count(0)
	code, d = runDoctorJSON(t, s.write(t))
	if r := d.check(t, "id-reader"); code != 1 || r.Status != checkFail || !strings.Contains(r.Message, "holds the port but says the ID reader is offline") ||
		!strings.Contains(r.Fix, "id_reader_baud") {
		t.Errorf("held, kioskd says offline: %d %+v", code, r)
	}
	k.SetDevice(kiosk.DeviceIDReader, kiosk.StateOK, "")
	if _, d = runDoctorJSON(t, s.write(t)); d.check(t, "id-reader").Status != checkOK {
		t.Errorf("held, kioskd says ok: %+v", d.check(t, "id-reader"))
	}
	if sam.Sim.Count(0) != before {
		t.Error("the doctor talked to a reader the kiosk holds")
	}
}

// The example's placeholder ids: a warning on the config line (exit 0), naming the keys.
func TestDoctorPlaceholderIDs(t *testing.T) {
	withProbes(t, nil)
	s := newSetup(t)
	s.extra = ""
	p := s.write(t)
	body, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(bytes.Replace(body, []byte(`id = "test"`), []byte(`id = "hall"`), 1), []byte(`id = "k38"`), []byte(`id = "kiosk-01"`), 1), 0o640)
	code, d := runDoctorJSON(t, p)
	c := d.check(t, "config")
	if code != 0 || c.Status != checkWarn || !strings.Contains(c.Message, `hall.id (line 2): "hall" is the example's placeholder`) ||
		!strings.Contains(c.Message, `kiosk.id (line 4): "kiosk-01" is the example's placeholder`) || !strings.Contains(c.Fix, "set hall.id and kiosk.id in "+p) {
		t.Errorf("placeholders: %d %+v", code, c)
	}
	code, d = runDoctorJSON(t, s.write(t))
	if c := d.check(t, "config"); code != 0 || c.Status != checkOK || strings.Contains(c.Message, "placeholder") {
		t.Errorf("own ids: %d %+v", code, c)
	}
}

// A file with several problems: the config line shows the first and how many more, the
// details list the others, each with its line.
func TestDoctorConfigListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "kiosk.toml")
	os.WriteFile(p, []byte("[kiosk]\nlanguage = \"de\"\n[[queue.category]]\nletter = \"A\"\ncounters = \"3\"\n[devices]\nprinter_baud = 0\n"), 0o600)
	code, d := runDoctorJSON(t, p)
	c := d.check(t, "config")
	if code != 1 || c.Status != checkFail || !strings.Contains(c.Message, p+":2: kiosk.language") || !strings.Contains(c.Message, "and 2 more below") ||
		len(c.Details) != 2 || !strings.HasPrefix(c.Details[0], p+`:5: queue.category[0].counters (letter "A"): expected a whole number`) ||
		!strings.HasPrefix(c.Details[1], p+":7: devices.printer_baud") {
		t.Errorf("config: %d %+v", code, c)
	}
	_, out, _ := runCtl([]string{"doctor", "-config", p}, "")
	if !strings.Contains(out, "\n                   "+p+":7: devices.printer_baud") {
		t.Errorf("text: details not under the line:\n%s", out)
	}
}

// requireRoot: the tests that check as another user must switch to it. CI runs as root, so
// there they must run.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs the tests as root; this one checks as another user and must run there")
		}
		t.Skip("not root: cannot check as another user (run the tests as root, as CI does)")
	}
}

// openTo lets everybody through the directories above path up to the temporary directory (the
// testing package makes them 0700), as /var/lib and /etc let a service user through.
func openTo(t *testing.T, path string) {
	t.Helper()
	top := filepath.Clean(os.TempDir())
	for dir := top; ; dir = filepath.Dir(dir) {
		if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o001 == 0 {
			t.Fatalf("%s is closed to other users, so no service user reaches the test's files: run the tests with TMPDIR=/tmp", dir)
		}
		if dir == "/" {
			break
		}
	}
	for dir := filepath.Dir(path); strings.HasPrefix(dir, top+"/"); dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func lookupIDs(t *testing.T, name string) (uid, gid int) {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Skipf("no user %s here: %v", name, err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

func groupID(t *testing.T, name string) int {
	t.Helper()
	g, err := user.LookupGroup(name)
	if err != nil {
		t.Skipf("no group %s here: %v", name, err)
	}
	n, _ := strconv.Atoi(g.Gid)
	return n
}

// As root, with kioskd.service installed to run as nobody: every file and device is checked as
// nobody with nobody's groups, from the unit (and its drop-ins). Root may read them all; nobody
// may not, until each is given to nobody the way the fix says.
func TestDoctorChecksAsDaemonUser(t *testing.T) {
	requireRoot(t)
	uid, gid := lookupIDs(t, "nobody")
	dialout := groupID(t, "dialout")
	units := t.TempDir()
	writeFile(t, filepath.Join(units, "kioskd.service"), "[Unit]\nDescription=test\n[Service]\nExecStart=/usr/bin/kioskd\nUser=root\nGroup=root\n")
	writeFile(t, filepath.Join(units, "kioskd.service.d", "user.conf"), "[Service]\nUser=nobody\nGroup=nogroup\n")
	withProbes(t, func(d *doctor) { d.unitDirs = []string{units} })

	emu, line := startPrinter(t)
	s := newSetup(t)
	s.printer = line.Path
	os.WriteFile(s.tokenPath, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	p := s.write(t)
	dev, _ := filepath.EvalSymlinks(line.Path)
	// A USB serial adapter as Debian makes it: root:dialout 0660.
	if err := os.Chown(dev, 0, dialout); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dev, 0o660)

	// The private temporary directories keep nobody out of everything.
	code, d := runDoctorJSON(t, p)
	c := d.check(t, "config")
	if code != 1 || c.Status != checkFail || !strings.Contains(c.Message, "files checked as nobody (kioskd.service), groups nogroup") ||
		!strings.Contains(c.Message, "nobody may not enter the directory") {
		t.Fatalf("config: %d %+v", code, c)
	}
	if r := d.check(t, "hall-key"); r.Status != checkFail || !strings.Contains(r.Message, "nobody may not enter the directory "+filepath.Dir(s.dir)+" (root:root drwx------)") ||
		!strings.Contains(r.Message, "hall services are off") {
		t.Errorf("hall key behind a closed directory: %+v", r)
	}

	// The directories open, the files still root's: each says whose it is and what to run.
	openTo(t, p)
	openTo(t, line.Path)
	os.Chmod(p, 0o644)
	code, d = runDoctorJSON(t, p)
	if c := d.check(t, "config"); c.Status != checkOK {
		t.Errorf("config readable by all: %+v", c)
	}
	key := d.check(t, "hall-key")
	if code != 1 || key.Status != checkFail ||
		!strings.Contains(key.Message, "only its owner root may read "+s.keyPath+" (root:root -rw-------)") ||
		key.Fix != "chown nobody:nogroup "+s.keyPath+" && chmod 600 "+s.keyPath+" (only the daemon's user may read it)" {
		t.Errorf("root's hall key: %+v", key)
	}
	if r := d.check(t, "store"); r.Status != checkFail || !strings.Contains(r.Message, "only its owner root may read and write "+s.storePath) ||
		!strings.Contains(r.Fix, "chown nobody:nogroup "+s.storePath) {
		t.Errorf("root's store: %+v", r)
	}
	if r := d.check(t, "api-token"); r.Status != checkFail || !strings.Contains(r.Message, "may read "+s.tokenPath) || !strings.Contains(r.Fix, "chown nobody:nogroup") {
		t.Errorf("root's token: %+v", r)
	}
	pr := d.check(t, "printer")
	if pr.Status != checkFail || !strings.Contains(pr.Message, "nobody is not in group dialout, which may read and write "+line.Path+" → "+dev) ||
		!strings.Contains(pr.Fix, "adduser nobody dialout, then systemctl restart kioskd") {
		t.Errorf("printer of group dialout: %+v", pr)
	}
	if emu.Stats().StatusRequests != 0 {
		t.Error("the printer was asked although kioskd's user may not open it")
	}

	// Everything given to nobody, and dialout added in a drop-in as the packaged unit does.
	for _, f := range []string{s.keyPath, s.storePath, s.tokenPath, s.dir} {
		if err := os.Chown(f, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	// The doctor's read-only look at the store (as root) leaves a WAL behind, which SQLite gives
	// to the database's owner: root's, then.
	for _, f := range []string{s.storePath + "-wal", s.storePath + "-shm"} {
		if err := os.Chown(f, uid, gid); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(units, "kioskd.service.d", "groups.conf"), "[Service]\nSupplementaryGroups=dialout\n")
	code, d = runDoctorJSON(t, p)
	if code != 0 || !d.OK {
		t.Fatalf("all given to nobody: %d %+v", code, d.Checks)
	}
	if c := d.check(t, "config"); !strings.Contains(c.Message, "groups nogroup, dialout") {
		t.Errorf("config: %+v", c)
	}
	for name, want := range map[string]string{"hall-key": "readable by nobody, owner only", "store": "writable by nobody",
		"api-token": "readable by nobody, owner only", "printer": ": ok"} {
		if r := d.check(t, name); r.Status != checkOK || !strings.Contains(r.Message, want) {
			t.Errorf("%s: %+v, want ok %q", name, r, want)
		}
	}
	if emu.Stats().StatusRequests == 0 {
		t.Error("the printer was never asked")
	}

	// A -wal file left by a command run as root: kioskd could not write the store.
	wal := s.storePath + "-wal"
	os.Remove(wal)
	os.WriteFile(wal, nil, 0o644)
	code, d = runDoctorJSON(t, p)
	if r := d.check(t, "store"); code != 1 || !strings.Contains(r.Message, "only its owner root may read and write "+wal+" (root:root -rw-r--r--)") ||
		!strings.Contains(r.Fix, "chown nobody:nogroup "+wal) {
		t.Errorf("root's -wal: %d %+v", code, r)
	}
	os.Remove(wal)

	// The unit's user does not exist: nothing can be checked, and the unit cannot start.
	writeFile(t, filepath.Join(units, "kioskd.service.d", "zz.conf"), "[Service]\nUser=citizenhome-no-such-user\n")
	code, d = runDoctorJSON(t, p)
	if c := d.check(t, "config"); code != 1 || c.Status != checkFail || !strings.Contains(c.Message, "kioskd.service runs as citizenhome-no-such-user") ||
		!strings.Contains(c.Fix, "citizenhome-common") {
		t.Errorf("missing user: %d %+v", code, c)
	}
}

// A doctor that is neither root nor the daemon's user checks as itself and says how to check
// right: here the real command, run as nobody, for the daemon user daemon.
func TestDoctorAsAnotherUser(t *testing.T) {
	requireRoot(t)
	uid, gid := lookupIDs(t, "nobody")
	lookupIDs(t, "daemon")
	s := newSetup(t)
	p := s.write(t)
	openTo(t, p)
	for _, f := range []string{p, s.keyPath, s.storePath, s.catPath, s.dir} {
		os.Chown(f, uid, gid)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("/proc/self/fd/3", ctlArg, "doctor", "--json", "-config", p, "-user", "daemon", "--timeout", "5s")
	cmd.ExtraFiles = []*os.File{f}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, _ := cmd.Output()
	var d doctorOut
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("%v: %s %s", err, out, stderr.String())
	}
	c := d.check(t, "config")
	if c.Status != checkWarn || !strings.Contains(c.Message, "checked as nobody, not as daemon (the user -user names)") ||
		!strings.Contains(c.Fix, "runuser -u daemon -- kioskctl doctor") {
		t.Errorf("config: %+v", c)
	}
	if r := d.check(t, "hall-key"); r.Status != checkOK || !strings.Contains(r.Message, "readable by nobody") {
		t.Errorf("hall key: %+v", r)
	}
}

// Whom to check as, from the units as systemd reads them: the most important directory's file,
// drop-ins from every directory by name (a later one replacing User=, adding to
// SupplementaryGroups=, an empty one clearing it), a masked unit not installed.
func TestFindUnit(t *testing.T) {
	etc, lib := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(lib, "kioskd.service"), "[Service]\nUser=citizenhome\nGroup=citizenhome\nSupplementaryGroups=dialout\n[Install]\nUser=nobody\n")
	writeFile(t, filepath.Join(lib, "kioskd.service.d", "10-a.conf"), "[Service]\nSupplementaryGroups=video input\n")
	writeFile(t, filepath.Join(lib, "kioskd.service.d", "20-b.conf"), "[Service]\nUser=lib-user\n")
	writeFile(t, filepath.Join(etc, "kioskd.service.d", "20-b.conf"), "[Service]\n# the admin's\nUser=etc-user\n")
	u, ok := findUnit([]string{etc, lib}, "kioskd.service")
	if !ok || u.User != "etc-user" || u.Group != "citizenhome" || strings.Join(u.Supplementary, " ") != "dialout video input" || u.Path != filepath.Join(lib, "kioskd.service") {
		t.Errorf("unit: %+v %v", u, ok)
	}
	writeFile(t, filepath.Join(etc, "kioskd.service.d", "30-c.conf"), "[Service]\nSupplementaryGroups=\nSupplementaryGroups=tty\n")
	if u, _ := findUnit([]string{etc, lib}, "kioskd.service"); strings.Join(u.Supplementary, " ") != "tty" {
		t.Errorf("reset: %+v", u)
	}
	writeFile(t, filepath.Join(etc, "kioskd.service"), "[Service]\nUser=override\n")
	if u, _ := findUnit([]string{etc, lib}, "kioskd.service"); u.Path != filepath.Join(etc, "kioskd.service") || u.Group != "" {
		t.Errorf("override in /etc: %+v", u)
	}
	os.Remove(filepath.Join(etc, "kioskd.service"))
	if err := os.Symlink(os.DevNull, filepath.Join(etc, "kioskd.service")); err != nil {
		t.Fatal(err)
	}
	if _, ok := findUnit([]string{etc, lib}, "kioskd.service"); ok {
		t.Error("a masked unit counts as installed")
	}
	if _, ok := findUnit([]string{etc, lib}, "citizenhome-kiosk.service"); ok {
		t.Error("found a unit that is not there")
	}
	// The packaged units: the doctor reads the user each program runs as from them.
	for _, c := range daemonUnits {
		u, ok := findUnit([]string{"../../packaging/systemd"}, c.unit)
		want := grepUnit(t, filepath.Join("../../packaging/systemd", c.unit), "User=")
		if !ok || u.User == "" || u.User != want {
			t.Errorf("%s: %+v, want User=%s", c.unit, u, want)
		}
	}
}

func grepUnit(t *testing.T, path, prefix string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), prefix); ok {
			return v
		}
	}
	return ""
}

// The explanation of a refusal from owner, group and mode, for each way a file shuts a user
// out, on real files (root only: the files must belong to other users).
func TestDenied(t *testing.T) {
	requireRoot(t)
	uid, gid := lookupIDs(t, "nobody")
	dialout := groupID(t, "dialout")
	me, err := lookupIdentity("nobody", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	inDialout, _ := lookupIdentity("nobody", "", []string{"dialout"})
	dir := t.TempDir()
	openTo(t, filepath.Join(dir, "x"))
	os.Chmod(dir, 0o755)
	file := func(name string, owner, group int, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("x"), mode)
		os.Chown(p, owner, group)
		os.Chmod(p, mode)
		return p
	}
	for _, c := range []struct {
		name    string
		who     identity
		path    string
		want    string
		kind    fileKind
		msg     string
		fix     string
		allowed bool
	}{
		{"owner lacks", me, file("a", uid, gid, 0o200), wantRead, kindShared, "nobody owns", "chmod u+r", false},
		{"group lacks", inDialout, file("b", 0, dialout, 0o604&0o600), wantWrite, kindShared, "is in group dialout", "chmod g+rw", false},
		{"not in group", me, file("c", 0, dialout, 0o660), wantWrite, kindDevice, "nobody is not in group dialout", "adduser nobody dialout", false},
		{"owner only", me, file("d", 0, 0, 0o600), wantRead, kindSecret, "only its owner root may read", "chown nobody:nogroup", false},
		{"owner only, shared", me, file("e", 0, 0, 0o600), wantRead, kindShared, "only its owner root", "chgrp nogroup", false},
		{"device only root may open", me, file("f", 0, 0, 0o600), wantWrite, kindDevice, "only its owner root", "udev rule", false},
		{"in group", inDialout, file("g", 0, dialout, 0o660), wantWrite, kindDevice, "", "", true},
		{"others may", me, file("h", 0, 0, 0o644), wantRead, kindShared, "", "", true},
	} {
		plan := &accessPlan{target: c.who, checked: c.who, helper: true, unit: unitInfo{Name: "kioskd.service"}}
		d := &doctor{exe: mustExe(t), timeout: 5 * time.Second}
		got, err := d.runProbes(context.Background(), plan, []accessProbe{{Path: c.path, Want: c.want}})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		a := got[probeKey{c.path, c.want}]
		if a.ok() != c.allowed {
			t.Errorf("%s: allowed %v, want %v (%+v)", c.name, a.ok(), c.allowed, a)
			continue
		}
		if c.allowed {
			continue
		}
		msg, fix := denied(plan, c.path, c.want, a, c.kind)
		if !strings.Contains(msg, c.msg) || !strings.Contains(fix, c.fix) {
			t.Errorf("%s: %q → %q; want %q → %q", c.name, msg, fix, c.msg, c.fix)
		}
	}
}

func mustExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// whom's decision for a doctor that is neither root nor the daemon's user (TestDoctorAsAnotherUser
// runs one for real, as root).
func TestWhomNotRoot(t *testing.T) {
	units := t.TempDir()
	writeFile(t, filepath.Join(units, "kioskd.service"), "[Service]\nUser=root\n")
	alice := identity{Name: "alice", UID: 4242, GID: 4242, Groups: []uint32{4242}}
	d := &doctor{unitDirs: []string{units}}
	p := d.decide(alice)
	if p.helper || p.checked.UID != 4242 || p.target.UID != 0 || p.fail != "" ||
		!strings.Contains(p.warn, "checked as alice, not as root (the user kioskd.service runs as)") ||
		!strings.Contains(p.fix, "runuser -u root -- kioskctl doctor") {
		t.Errorf("plan: %+v", p)
	}
	// The daemon's user itself, with the unit's groups: checked as itself, said so if its
	// login's groups differ from the unit's.
	rootish := identity{Name: "root", UID: 0, GID: 0, Groups: []uint32{0}}
	if p := d.decide(rootish); p.warn != "" || p.checked.Name != "root" {
		t.Errorf("as the daemon's user: %+v", p)
	}
	// No unit: the current user, and nothing to warn of.
	d.unitDirs = nil
	if p := d.decide(alice); p.warn != "" || p.helper || p.checked.Name != "alice" || !strings.Contains(p.from, "no kioskd.service") {
		t.Errorf("no unit: %+v", p)
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[uint32]string{
		syscall.S_IFCHR | 0o660: "crw-rw----", syscall.S_IFDIR | 0o750: "drwxr-x---", syscall.S_IFREG | 0o600: "-rw-------",
	} {
		if got := modeString(m); got != want {
			t.Errorf("%o: %s, want %s", m, got, want)
		}
	}
}

// The daemon runs without a group its user was given after it started (adduser citizenhome
// dialout, no restart): the config line says to restart it. The "daemon" here is a copy of
// sleep named kioskd, run as nobody with no groups, while the unit gives nobody dialout.
func TestDoctorDaemonWithoutNewGroup(t *testing.T) {
	requireRoot(t)
	uid, gid := lookupIDs(t, "nobody")
	groupID(t, "dialout")
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	units := t.TempDir()
	writeFile(t, filepath.Join(units, "kioskd.service"), "[Service]\nUser=nobody\nGroup=nogroup\nSupplementaryGroups=dialout\n")
	withProbes(t, func(d *doctor) { d.unitDirs = []string{units} })
	s := newSetup(t)
	p := s.write(t)
	openTo(t, p)
	os.Chmod(p, 0o644)

	b, _ := os.ReadFile(sleep)
	bin := filepath.Join(t.TempDir(), "kioskd")
	openTo(t, bin)
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	_, d := runDoctorJSON(t, p)
	c := d.check(t, "config")
	want := fmt.Sprintf("kioskd (pid %d) runs without group dialout, which nobody has been given since it started", cmd.Process.Pid)
	if c.Status != checkWarn || !strings.Contains(c.Message, want) || !strings.Contains(c.Fix, "systemctl restart kioskd") {
		t.Errorf("config: %+v\nwant %q", c, want)
	}
	// Restarted with the group: nothing to say.
	cmd.Process.Kill()
	cmd.Wait()
	cmd = exec.Command(bin, "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{uint32(groupID(t, "dialout"))}}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_, d = runDoctorJSON(t, p)
	if c := d.check(t, "config"); strings.Contains(c.Message, "runs without group") {
		t.Errorf("restarted: %+v", c)
	}
}

// The unit's sandbox refuses what file modes allow: with ProtectSystem=strict kioskd writes
// only its state directory and ReadWritePaths=, with DevicePolicy=closed it opens only the
// devices DeviceAllow= names (the packaged unit allows USB serial adapters, not a built-in
// ttyS port). Checked for the user the doctor runs as, so that only the sandbox differs.
func TestDoctorUnitSandbox(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	units := t.TempDir()
	writeFile(t, filepath.Join(units, "kioskd.service"), "[Service]\nUser="+me.Username+"\nProtectSystem=strict\nStateDirectory=citizenhome\n"+
		"DevicePolicy=closed\nDeviceAllow=/dev/citizenhome-printer rw\nDeviceAllow=char-ttyUSB rw\nDeviceAllow=char-ttyACM rw\n")
	withProbes(t, func(d *doctor) { d.unitDirs = []string{units} })
	_, line := startPrinter(t)
	s := newSetup(t)
	s.printer = line.Path
	p := s.write(t)
	os.WriteFile(s.tokenPath, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)

	code, d := runDoctorJSON(t, p)
	if r := d.check(t, "store"); code != 1 || r.Status != checkFail ||
		!strings.Contains(r.Message, "kioskd.service makes the whole file system read-only for kioskd but /var/lib/citizenhome (ProtectSystem=strict): it cannot write in "+s.dir) ||
		!strings.Contains(r.Fix, "ReadWritePaths="+s.dir) {
		t.Errorf("store outside the state directory: %d %+v", code, r)
	}
	dev, _ := filepath.EvalSymlinks(line.Path)
	if r := d.check(t, "printer"); r.Status != checkFail ||
		!strings.Contains(r.Message, "kioskd.service lets kioskd open only the devices it allows (DevicePolicy=closed; DeviceAllow=/dev/citizenhome-printer rw, char-ttyUSB rw, char-ttyACM rw): "+line.Path+" → "+dev+" (driver pts) is not among them") ||
		!strings.Contains(r.Fix, "DeviceAllow=char-pts rw") {
		t.Errorf("a device the unit does not allow: %+v", r)
	}

	writeFile(t, filepath.Join(units, "kioskd.service.d", "local.conf"), "[Service]\nReadWritePaths=-"+s.dir+"\nDeviceAllow=char-pts rw\n")
	code, d = runDoctorJSON(t, p)
	for _, name := range []string{"store", "printer", "api-token"} {
		if r := d.check(t, name); r.Status != checkOK {
			t.Errorf("allowed by a drop-in: %s %+v", name, r)
		}
	}
	// The token given to the window applications' group (0640): fine; writable by the group:
	// kioskd refuses it.
	os.Chmod(s.tokenPath, 0o640)
	_, d = runDoctorJSON(t, p)
	if r := d.check(t, "api-token"); r.Status != checkOK || !strings.Contains(r.Message, "owner and group") {
		t.Errorf("token 0640: %+v", r)
	}
	os.Chmod(s.tokenPath, 0o660)
	_, d = runDoctorJSON(t, p)
	if r := d.check(t, "api-token"); r.Status != checkFail || !strings.Contains(r.Message, "mode 0660") {
		t.Errorf("token 0660: %+v", r)
	}
	os.Chmod(s.tokenPath, 0o600)

	// The device by a path DeviceAllow= names, read-only there: still refused.
	writeFile(t, filepath.Join(units, "kioskd.service.d", "local.conf"), "[Service]\nReadWritePaths="+s.dir+"\nDeviceAllow=\nDeviceAllow="+line.Path+" r\n")
	_, d = runDoctorJSON(t, p)
	if r := d.check(t, "printer"); r.Status != checkFail || !strings.Contains(r.Message, "is not among them") {
		t.Errorf("allowed read-only: %+v", r)
	}
	writeFile(t, filepath.Join(units, "kioskd.service.d", "local.conf"), "[Service]\nReadWritePaths="+s.dir+"\nDeviceAllow=\nDeviceAllow="+line.Path+" rw\n")
	_, d = runDoctorJSON(t, p)
	if r := d.check(t, "printer"); r.Status != checkOK {
		t.Errorf("allowed by its path: %+v", r)
	}
}
