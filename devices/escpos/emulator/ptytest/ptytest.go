// Package ptytest puts an emulator.Printer on a real serial line for tests: socat makes a pair
// of pseudo-terminals joined back to back (like a null-modem cable), the emulator serves one
// end, and the code under test opens the other by its path, with the real serial driver
// (escpos/driver: Open, go.bug.st/serial), exactly as it would open /dev/ttyUSB0.
//
// The line can vanish (as when a USB serial adapter is unplugged: the host's open descriptor
// fails with EIO and the path disappears) and come back on the same path, with the same
// printer state, as a replugged adapter does.
//
// It needs socat on the PATH (scripts/deps.sh test installs it); Start skips the test when it
// is missing. Every wait is bounded by a deadline; nothing sleeps for a fixed time.
package ptytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"citizenhome/devices/escpos/emulator"
)

// Timeout bounds each wait for socat: the links to appear when it starts, and its exit when
// the line vanishes. Generous, because the tests share a loaded machine.
const Timeout = 10 * time.Second

// Line is a pty pair carrying one emulated printer. Its methods are safe for concurrent use.
type Line struct {
	// Path is the host's end, a symbolic link to /dev/pts/N that stays the same across
	// Vanish and Return. Give it to driver.Open (or a configuration's devices.printer).
	Path string
	// Dev is the printer's end; the emulator has it open while the line is up.
	Dev string

	emu *emulator.Printer
	tb  testing.TB

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	log    *syncWriter   // socat's -d -d diagnostics, for failure messages
	dev    *os.File
	served chan error // Serve's result for the current dev
	stop   context.CancelFunc
	closed bool
}

// Start makes a pty pair in a new temporary directory, serves emu on one end and returns the
// Line; the host's end is Line.Path. The line is torn down when the test ends (emu itself is
// not closed). It skips the test when socat is not installed and fails it when socat does
// not come up within Timeout.
func Start(tb testing.TB, emu *emulator.Printer) *Line {
	tb.Helper()
	if _, err := exec.LookPath("socat"); err != nil {
		tb.Skip("socat not installed (scripts/deps.sh test): pty tests skipped")
	}
	dir := tb.TempDir()
	l := &Line{Path: filepath.Join(dir, "host"), Dev: filepath.Join(dir, "printer"), emu: emu, tb: tb}
	tb.Cleanup(l.Close)
	if err := l.up(); err != nil {
		tb.Fatal(err)
	}
	return l
}

// Emulator returns the printer on the line.
func (l *Line) Emulator() *emulator.Printer { return l.emu }

// Vanish takes the line away: socat is stopped, so the host's open descriptor hangs up (reads
// and writes fail with EIO) and Path no longer leads anywhere. Bytes still in the kernel's
// buffers are lost, as with an unplugged adapter. The emulator keeps its state (a half-received
// command stays half-received). Vanish on a line that is down does nothing.
func (l *Line) Vanish() {
	l.tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.down(); err != nil {
		l.tb.Fatal(err)
	}
}

// Return brings the line back on the same paths (new pty devices behind them) and serves the
// same emulator on it. Return on a line that is up does nothing.
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

func (l *Line) up() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("ptytest: line closed")
	}
	if l.cmd != nil {
		return nil
	}
	// A link left by a socat that did not exit cleanly would be taken for the new one.
	for _, p := range []string{l.Path, l.Dev} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	log := &syncWriter{}
	cmd := exec.Command("socat", "-d", "-d",
		"pty,raw,echo=0,link="+l.Path, "pty,raw,echo=0,link="+l.Dev)
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("ptytest: starting socat: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	l.cmd, l.exited, l.log = cmd, exited, log

	deadline := time.Now().Add(Timeout)
	for !(ptyReady(l.Path) && ptyReady(l.Dev)) {
		select {
		case <-exited:
			l.cmd = nil
			return fmt.Errorf("ptytest: socat exited before making the ptys: %v", l.log)
		default:
		}
		if time.Now().After(deadline) {
			l.kill()
			return fmt.Errorf("ptytest: socat made no ptys within %v: %v", Timeout, l.log)
		}
		time.Sleep(2 * time.Millisecond) // polling interval, bounded by the deadline above
	}
	f, err := os.OpenFile(l.Dev, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		l.kill()
		return fmt.Errorf("ptytest: opening the printer's end: %w", err)
	}
	served := make(chan error, 1)
	ctx, stop := context.WithCancel(context.Background())
	go func() { served <- l.emu.ServeContext(ctx, f) }()
	l.dev, l.served, l.stop = f, served, stop
	return nil
}

// ptyReady reports whether path is a link that leads to a terminal device.
func ptyReady(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// down stops socat and the emulator's Serve. Caller holds mu.
func (l *Line) down() error {
	if l.cmd == nil {
		return nil
	}
	var errs []error
	if err := l.kill(); err != nil {
		errs = append(errs, err)
	}
	// With socat gone the emulator's reads fail with EIO; closing the file makes sure, and
	// stop ends a Serve that is paused and not reading.
	l.stop()
	_ = l.dev.Close()
	select {
	case <-l.served: // EIO or a closed file: the line is gone, which is the point
	case <-time.After(Timeout):
		errs = append(errs, fmt.Errorf("ptytest: emulator still serving %v after the line went down", Timeout))
	}
	l.dev, l.served, l.stop = nil, nil, nil
	for _, p := range []string{l.Path, l.Dev} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// kill stops socat and waits for it. Caller holds mu.
func (l *Line) kill() error {
	cmd, exited := l.cmd, l.exited
	l.cmd = nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(Timeout):
	}
	_ = cmd.Process.Kill()
	select {
	case <-exited:
		return nil
	case <-time.After(Timeout):
		return fmt.Errorf("ptytest: socat (pid %d) did not exit", cmd.Process.Pid)
	}
}

// syncWriter lets exec's copying goroutine and the error paths share a buffer.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(bytes.TrimSpace(w.b.Bytes()))
}
