//go:build linux

// Package ptytest puts a samsim.Sim on a real pseudo-terminal for tests: the sim serves the
// pty's master side, and the code under test opens the slave side by a path, with the real
// serial driver (idcard/tty: Open, SerialOpener, go.bug.st/serial), exactly as it would open
// /dev/ttyUSB0.
//
// The path is a symbolic link to /dev/pts/N, as udev makes one (/dev/idreader ->
// /dev/ttyUSB1). The line can vanish, as when the reader's USB serial adapter is pulled: the
// master side closes, so the host's open descriptor hangs up (writes fail with EIO, reads
// report the port closed), and the link is removed. It can come back as a new pty whose link,
// at the same path, now points at another /dev/pts/M: a host that still holds the old
// descriptor must open the path again to find it. The sim keeps its state across (a card on
// it stays on it).
//
// Nothing here sleeps for a fixed time; every wait is bounded by Timeout.
package ptytest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"citizenhome/devices/idcard/samsim"
)

// Timeout bounds the wait for the sim to stop serving a line that vanishes.
const Timeout = 10 * time.Second

// Line is a pty carrying one simulated SAM reader. Its methods are safe for concurrent use.
type Line struct {
	// Path is the link the host opens. It stays the same across Vanish and Return; while the
	// line is down it does not exist.
	Path string

	sim *samsim.Sim
	tb  testing.TB

	mu     sync.Mutex
	master *os.File
	// slave is the line's own descriptor of the slave side, held so that the device stays up
	// while the host closes and reopens it (the master would read EIO while no slave is
	// open, and the sim would stop), as a real adapter stays plugged in when a program closes
	// it.
	slave  *os.File
	tty    string
	served chan error
	stop   context.CancelFunc
	ups    int
	closed bool
}

// Start makes a pty, links a path in a new temporary directory to it, serves sim on it and
// returns the Line. The line is torn down when the test ends (sim itself needs no closing).
// It skips the test when the system gives no ptys.
func Start(tb testing.TB, sim *samsim.Sim) *Line {
	tb.Helper()
	l := &Line{Path: filepath.Join(tb.TempDir(), "idreader"), sim: sim, tb: tb}
	tb.Cleanup(l.Close)
	if err := l.up(); err != nil {
		if errors.Is(err, errNoPTY) {
			tb.Skip(err)
		}
		tb.Fatal(err)
	}
	return l
}

// TTY is the pty device behind Path now (/dev/pts/N), "" while the line is down.
func (l *Line) TTY() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tty
}

// Vanish takes the line away: the link is removed and the master side closed, so the host's
// descriptor hangs up; bytes in flight are lost. It returns once the sim has stopped serving
// the old pty. Vanish on a line that is down does nothing.
func (l *Line) Vanish() {
	l.tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.down(); err != nil {
		l.tb.Fatal(err)
	}
}

// Return brings the line back: a new pty, served by the same sim, and the link at Path pointed
// at it (replaced in one rename, as udev does). The new pty has another number than the one
// the host may still hold. Return on a line that is up does nothing.
func (l *Line) Return() {
	l.tb.Helper()
	if err := l.up(); err != nil {
		l.tb.Fatal(err)
	}
}

// Close takes the line down for good. Idempotent; Start registers it with the test.
func (l *Line) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if err := l.down(); err != nil {
		l.tb.Error(err)
	}
}

var errNoPTY = errors.New("ptytest: no ptys here")

func (l *Line) up() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("ptytest: line closed")
	}
	if l.master != nil {
		return nil
	}
	m, tty, err := openPTY()
	if err != nil {
		return err
	}
	s, err := os.OpenFile(tty, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return fmt.Errorf("ptytest: opening %s: %w", tty, err)
	}
	if err := makeRaw(s); err != nil {
		s.Close()
		m.Close()
		return err
	}
	// A new link beside the old path, renamed over it: the path never leads nowhere while
	// it is being replaced, as with udev.
	l.ups++
	tmp := fmt.Sprintf("%s.%d", l.Path, l.ups)
	if err := os.Symlink(tty, tmp); err != nil {
		s.Close()
		m.Close()
		return err
	}
	if err := os.Rename(tmp, l.Path); err != nil {
		os.Remove(tmp)
		s.Close()
		m.Close()
		return err
	}
	served := make(chan error, 1)
	ctx, stop := context.WithCancel(context.Background())
	go func() { served <- l.sim.Serve(ctx, m) }()
	l.master, l.slave, l.tty, l.served, l.stop = m, s, tty, served, stop
	return nil
}

// down removes the link, closes the pty and waits for the sim to stop. Caller holds mu.
func (l *Line) down() error {
	if l.master == nil {
		return nil
	}
	var errs []error
	if err := os.Remove(l.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	l.stop()
	_ = l.master.Close() // hangs the host's descriptor up, and ends the sim's read
	_ = l.slave.Close()
	select {
	case <-l.served: // a closed file or a cancelled context: the line is gone, which is the point
	case <-time.After(Timeout):
		errs = append(errs, fmt.Errorf("ptytest: sim still serving %v after the line went down", Timeout))
	}
	l.master, l.slave, l.tty, l.served, l.stop = nil, nil, "", nil, nil
	return errors.Join(errs...)
}

// openPTY gives the master side of a new pty and the path of its slave.
func openPTY() (*os.File, string, error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", errNoPTY, err)
	}
	var n int
	err = control(m, func(fd int) error {
		if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
			return fmt.Errorf("unlockpt: %w", err)
		}
		var err error
		if n, err = unix.IoctlGetInt(fd, unix.TIOCGPTN); err != nil {
			return fmt.Errorf("ptsname: %w", err)
		}
		return nil
	})
	if err != nil {
		m.Close()
		return nil, "", fmt.Errorf("%w: %w", errNoPTY, err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n), nil
}

// control runs fn on f's descriptor without File.Fd, which would put it in blocking mode: a
// Read blocked on it would then hold the descriptor open past Close, and the host's side
// would never hang up.
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// makeRaw sets the slave side raw (no echo, no line editing), before any byte passes: an echo
// would hand the sim its own replies as commands.
func makeRaw(f *os.File) error {
	return control(f, func(fd int) error {
		t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		if err != nil {
			return fmt.Errorf("ptytest: termios: %w", err)
		}
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
		if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
			return fmt.Errorf("ptytest: termios: %w", err)
		}
		return nil
	})
}
