//go:build linux

package idcard_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"citizenhome/devices/idcard"
	"citizenhome/devices/idcard/samsim"
	"citizenhome/devices/idcard/samsim/ptytest"
	"citizenhome/devices/idcard/tty"
)

// openPTY gives the master side of a new pty and the path of its slave.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no ptys here: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("ptsname: %v", err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

// Open on a real tty device (a pty, as a later integration step uses), with the sim on the
// master side: the read timeout of go.bug.st/serial returns (0, nil) and the driver copes.
func TestOpenOverPTY(t *testing.T) {
	m, slave := openPTY(t)
	sim := samsim.New()
	sim.SetReadDelay(0, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, m) }()
	r, err := tty.Open(slave, 0)
	if err != nil {
		cancel()
		m.Close()
		<-done
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		r.Close()
		m.Close()
		<-done
	})
	p, want := sample(t, "foreigner")
	if err := sim.PlacePerson(p); err != nil {
		t.Fatal(err)
	}
	got, err := r.Read(context.Background())
	if err != nil || !sameIdentity(*got, *want) {
		t.Fatalf("read over pty: %v", err)
	}
	sim.Inject(samsim.Fault{Kind: samsim.FaultSilence, Cmd: idcard.CmdFind})
	if err := r.Find(context.Background()); !errors.Is(err, idcard.ErrTimeout) {
		t.Fatalf("silence: %v, want ErrTimeout", err)
	}
	if got, err := r.Read(context.Background()); err != nil || !sameIdentity(*got, *want) {
		t.Fatalf("read after the timeout: %v", err)
	}
	if _, err := tty.Open("/dev/does-not-exist", 0); err == nil {
		t.Error("opened a missing device")
	}
}

// The reader's USB adapter pulled while a card is on it, then plugged in again as another tty
// behind the same udev link: Poll reports the card removed and the reader failed, then, at
// most ReopenMax plus one poll after the new tty appears, the reader back and the card read
// again, through the real serial driver.
func TestPollReaderReturnsOverPTY(t *testing.T) {
	sim := samsim.New()
	sim.SetReadDelay(0, 0)
	line := ptytest.Start(t, sim)
	// Hold the first tty, so that the kernel cannot hand its number out again: the link must
	// lead to another device when the reader comes back.
	old, err := os.OpenFile(line.TTY(), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	oldTTY := line.TTY()
	r, err := tty.Open(line.Path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type stamped struct {
		idcard.Event
		at time.Time
	}
	events := make(chan stamped, 32)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- r.Poll(ctx, 0, func(e idcard.Event) { events <- stamped{e, time.Now()} })
	}()
	defer func() {
		cancel()
		<-done
	}()
	next := func(want idcard.EventKind) stamped {
		t.Helper()
		select {
		case e := <-events:
			if e.Kind != want {
				t.Fatalf("event %v (%v), want %v", e.Kind, e.Err, want)
			}
			return e
		case <-time.After(10 * time.Second):
			t.Fatalf("no %v event", want)
		}
		panic("unreachable")
	}

	p, want := sample(t, "adult")
	if err := sim.PlacePerson(p); err != nil {
		t.Fatal(err)
	}
	if e := next(idcard.EventArrived); !sameIdentity(*e.Identity, *want) {
		t.Fatalf("arrived %v", e.Identity)
	}
	reads := sim.Count(idcard.CmdRead)

	line.Vanish()
	if e := next(idcard.EventRemoved); e.Err == nil {
		t.Error("the removal for a failed reader carries no error")
	}
	failed := next(idcard.EventReaderFailed)
	var pe *idcard.PortError
	if !errors.As(failed.Err, &pe) {
		t.Errorf("reader failed with %v, want a port error", failed.Err)
	}
	// Away long enough for the back-off to reach its cap.
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		select {
		case e := <-events:
			t.Fatalf("event %v while the reader is away", e.Kind)
		case <-time.After(100 * time.Millisecond):
		}
	}

	line.Return()
	back := time.Now()
	if line.TTY() == oldTTY {
		t.Fatalf("the link leads to %s again", oldTTY)
	}
	ok := next(idcard.EventReaderOK)
	e := next(idcard.EventArrived)
	if !sameIdentity(*e.Identity, *want) {
		t.Fatalf("arrived again %v", e.Identity)
	}
	took := ok.at.Sub(back)
	t.Logf("reader back %v after the new tty appeared, card read again %v after", took.Round(time.Millisecond), e.at.Sub(back).Round(time.Millisecond))
	if took > 2*time.Second {
		t.Errorf("reader back %v after it returned, want within 2 s", took)
	}
	if sim.Count(idcard.CmdRead) != reads+1 {
		t.Errorf("card read %d times after the return, want once", sim.Count(idcard.CmdRead)-reads)
	}
}
