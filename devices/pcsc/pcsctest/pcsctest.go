// Package pcsctest runs tests against the real pcscd that scripts/testenv.sh starts, with two
// vpcd virtual readers: "ID card reader" and "City card reader".
//
// pcscd is one per machine and go test runs packages in parallel, so Open takes a
// cross-process lock (flock on CITIZENHOME_PCSC_LOCK) that the test holds until it ends: tests
// that use pcscd run one at a time, whichever package they are in. Keep them in few packages.
//
// Without the environment (the CITIZENHOME_* variables testenv.sh exports) Open skips the
// test with a message saying how to run it; under CI (CI set) it fails instead, since a CI
// machine must run them.
package pcsctest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebfe/scard"
	"golang.org/x/sys/unix"

	"citizenhome/devices/pcsc"
	"citizenhome/devices/pcsc/vpcd"
)

// The readers' configured names (FRIENDLYNAME), and the names pcscd lists for their first slot.
const (
	IDReader       = "ID card reader"
	CityReader     = "City card reader"
	IDReaderSlot   = IDReader + " 00 00"
	CityReaderSlot = CityReader + " 00 00"
)

// confFile maps a reader to its file in the configuration directory.
var confFile = map[string]string{IDReader: "id", CityReader: "city"}

// Env is the pcscd test environment, held by one test at a time.
type Env struct {
	Conf     string // pcscd's reader.conf.d
	Cmd      string // pcscd's command line
	PIDFile  string
	Ctl      string // FIFO: "start" restarts pcscd after Kill
	Log      string
	IDPort   int
	CityPort int
	// IDSlot and CitySlot are the virtual card slots of the two readers' first slot. Cards left
	// in them are removed when the test ends.
	IDSlot, CitySlot *vpcd.Slot
}

// Timeouts of the helpers. They are deadlines, not sleeps: the conditions are polled.
const (
	LockTimeout  = 10 * time.Minute // another package's pcscd tests may hold the lock that long
	StartTimeout = 10 * time.Second
)

// Open returns the environment, holding the lock until tb ends; pcscd is running with both
// readers listed. When the test ends, the cards are taken out, and pcscd is brought back (and
// its configuration restored) if the test left it dead.
func Open(tb testing.TB) *Env {
	tb.Helper()
	e := &Env{
		Conf: os.Getenv("CITIZENHOME_PCSCD_CONF"), Cmd: os.Getenv("CITIZENHOME_PCSCD_CMD"),
		PIDFile: os.Getenv("CITIZENHOME_PCSCD_PIDFILE"), Ctl: os.Getenv("CITIZENHOME_PCSCD_CTL"),
		Log: os.Getenv("CITIZENHOME_PCSCD_LOG"),
	}
	idPort, err1 := strconv.Atoi(os.Getenv("CITIZENHOME_VPCD_ID_PORT"))
	cityPort, err2 := strconv.Atoi(os.Getenv("CITIZENHOME_VPCD_CITY_PORT"))
	lock := os.Getenv("CITIZENHOME_PCSC_LOCK")
	if err1 != nil || err2 != nil || e.Conf == "" || e.PIDFile == "" || e.Ctl == "" || lock == "" {
		const how = "run it through scripts/testenv.sh (make test does): `scripts/testenv.sh go test ./devices/pcsc/`"
		if os.Getenv("CI") != "" {
			tb.Fatal("pcscd test environment missing under CI; " + how)
		}
		tb.Skip("no pcscd test environment (CITIZENHOME_VPCD_ID_PORT unset); " + how)
	}
	e.IDPort, e.CityPort = idPort, cityPort
	takeLock(tb, lock)
	e.IDSlot = vpcd.NewSlot(e.addr(idPort))
	e.CitySlot = vpcd.NewSlot(e.addr(cityPort))
	tb.Cleanup(func() {
		for _, s := range []*vpcd.Slot{e.IDSlot, e.CitySlot} {
			_ = s.Remove()
		}
		e.heal(tb)
		e.WaitNoCards(tb) // the next test must not see this one's cards
	})
	e.heal(tb)
	e.WaitNoCards(tb)
	return e
}

// WaitNoCards waits until pcscd sees no card in the readers named, by default either reader's
// first slot: pcscd notices a card taken away at its next presence poll, up to about 400 ms
// later, and a card put in before then would look like the one that never left.
func (e *Env) WaitNoCards(tb testing.TB, readers ...string) {
	tb.Helper()
	if len(readers) == 0 {
		readers = []string{IDReaderSlot, CityReaderSlot}
	}
	ctx, err := scard.EstablishContext()
	if err != nil {
		tb.Fatalf("pcscd: %v", err)
	}
	defer ctx.Release()
	states := make([]scard.ReaderState, len(readers))
	for i, r := range readers {
		states[i].Reader = r
	}
	deadline := time.Now().Add(StartTimeout)
	for {
		err := ctx.GetStatusChange(states, time.Until(deadline))
		if err != nil {
			tb.Fatalf("waiting for %q to be empty: %v", readers, err)
		}
		empty := true
		for i := range states {
			if states[i].EventState&scard.StateEmpty == 0 {
				empty = false
			}
			states[i].CurrentState = states[i].EventState &^ scard.StateChanged
		}
		if empty {
			return
		}
	}
}

func (e *Env) addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// takeLock holds the cross-process lock until tb ends.
func takeLock(tb testing.TB, path string) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(LockTimeout)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			tb.Fatalf("pcscd test lock %s: %v", path, err)
		}
		time.Sleep(20 * time.Millisecond) // polling another process's lock: there is no event
	}
	tb.Cleanup(func() {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	})
}

// heal brings pcscd back with its full configuration if a test left it otherwise, and waits
// for both readers.
func (e *Env) heal(tb testing.TB) {
	tb.Helper()
	restored := false
	for name, file := range confFile {
		if _, err := os.Stat(filepath.Join(e.Conf, file)); errors.Is(err, os.ErrNotExist) {
			if !restored && e.alive() {
				e.Kill(tb)
			}
			if err := os.Rename(e.parked(name), filepath.Join(e.Conf, file)); err != nil {
				tb.Fatalf("restoring the %s configuration: %v", name, err)
			}
			restored = true
		}
	}
	if !e.alive() {
		e.Start(tb)
	}
	e.WaitReaders(tb, IDReaderSlot, CityReaderSlot)
}

// parked is where WithoutReader keeps a reader's configuration file (outside the directory
// pcscd reads).
func (e *Env) parked(name string) string {
	return filepath.Join(filepath.Dir(e.Conf), confFile[name]+".parked")
}

// PID is pcscd's process id now; 0 if unknown.
func (e *Env) PID() int {
	b, err := os.ReadFile(e.PIDFile)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func (e *Env) alive() bool {
	pid := e.PID()
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// Kill kills pcscd with SIGKILL, as a crash would, and waits until it is gone.
func (e *Env) Kill(tb testing.TB) {
	tb.Helper()
	pid := e.PID()
	if pid <= 0 {
		tb.Fatal("pcscd pid unknown")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		tb.Fatal(err)
	}
	Eventually(tb, "pcscd to die", StartTimeout, func() bool { return syscall.Kill(pid, 0) != nil })
}

// Start has testenv.sh's supervisor start pcscd again (after Kill) and waits until pcscd
// answers. Readers may still be coming: wait for them with WaitReaders.
func (e *Env) Start(tb testing.TB) {
	tb.Helper()
	old := e.PID()
	f, err := os.OpenFile(e.Ctl, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		tb.Fatalf("pcscd supervisor not listening on %s: %v", e.Ctl, err)
	}
	_, err = f.WriteString("start\n")
	f.Close()
	if err != nil {
		tb.Fatal(err)
	}
	Eventually(tb, "pcscd to start", StartTimeout, func() bool {
		if e.PID() == old || !e.alive() {
			return false
		}
		_, err := pcsc.ListReaders()
		return err == nil
	})
}

// Restart kills pcscd and starts it again.
func (e *Env) Restart(tb testing.TB) {
	tb.Helper()
	e.Kill(tb)
	e.Start(tb)
}

// WaitCard waits until pcscd sees a card in reader: a vpcd card inserted shows at pcscd's next
// presence poll, and later under load; a test that uses the card at once would race that poll.
func (e *Env) WaitCard(tb testing.TB, reader string) {
	tb.Helper()
	ctx, err := scard.EstablishContext()
	if err != nil {
		tb.Fatalf("pcscd: %v", err)
	}
	defer ctx.Release()
	states := []scard.ReaderState{{Reader: reader}}
	deadline := time.Now().Add(StartTimeout)
	for states[0].EventState&scard.StatePresent == 0 {
		if err := ctx.GetStatusChange(states, time.Until(deadline)); err != nil {
			tb.Fatalf("waiting for a card in %q: %v", reader, err)
		}
		states[0].CurrentState = states[0].EventState &^ scard.StateChanged
	}
}

// WaitReaders waits until pcscd lists every reader named.
func (e *Env) WaitReaders(tb testing.TB, names ...string) {
	tb.Helper()
	Eventually(tb, fmt.Sprintf("readers %q", names), StartTimeout, func() bool {
		listed, err := pcsc.ListReaders()
		if err != nil {
			return false
		}
		for _, n := range names {
			if !slices.Contains(listed, n) {
				return false
			}
		}
		return true
	})
}

// WithoutReader restarts pcscd without the reader (IDReader or CityReader) in its
// configuration: the reader is gone, as if unplugged. WithReader, or the end of the test,
// brings it back.
func (e *Env) WithoutReader(tb testing.TB, name string) {
	tb.Helper()
	file, ok := confFile[name]
	if !ok {
		tb.Fatalf("no reader %q", name)
	}
	e.Kill(tb)
	if err := os.Rename(filepath.Join(e.Conf, file), e.parked(name)); err != nil {
		tb.Fatal(err)
	}
	e.Start(tb)
}

// WithReader restarts pcscd with its full configuration and waits for both readers.
func (e *Env) WithReader(tb testing.TB) {
	tb.Helper()
	e.heal(tb)
}

// Eventually polls cond until it holds, failing tb after timeout.
func Eventually(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
