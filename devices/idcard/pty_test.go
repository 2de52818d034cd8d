//go:build linux

package idcard_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"citizenhome/devices/idcard"
	"citizenhome/devices/idcard/samsim"
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
	r, err := idcard.Open(slave, 0)
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
	if _, err := idcard.Open("/dev/does-not-exist", 0); err == nil {
		t.Error("opened a missing device")
	}
}
