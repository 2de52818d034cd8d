//go:build linux

package ptytest_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"citizenhome/devices/idcard"
	"citizenhome/devices/idcard/samsim"
	"citizenhome/devices/idcard/samsim/ptytest"
	"citizenhome/devices/idcard/tty"
)

// The host may close and open the line again while it is up (the sim keeps serving); Vanish
// hangs the host up and removes the link; Return points the link at a new pty.
func TestLine(t *testing.T) {
	sim := samsim.New()
	l := ptytest.Start(t, sim)
	if dst, err := os.Readlink(l.Path); err != nil || dst != l.TTY() {
		t.Fatalf("link %s -> %q (%v), want %s", l.Path, dst, err, l.TTY())
	}
	ctx := context.Background()
	for range 2 {
		r, err := tty.Open(l.Path, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Find(ctx); !errors.Is(err, idcard.ErrNoCard) {
			t.Fatalf("find: %v", err)
		}
		r.Close()
	}
	r, err := tty.Open(l.Path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	first := l.TTY()
	hold, err := os.Open(first) // keeps the number taken, so that Return must use another
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()

	l.Vanish()
	if _, err := os.Lstat(l.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("link still there after Vanish: %v", err)
	}
	var pe *idcard.PortError
	if err := r.Find(ctx); !errors.As(err, &pe) {
		t.Fatalf("find on a vanished line: %v, want a port error", err)
	}
	l.Vanish() // down already: nothing

	l.Return()
	if l.TTY() == first || l.TTY() == "" {
		t.Fatalf("returned on %q, was %s", l.TTY(), first)
	}
	if dst, _ := os.Readlink(l.Path); dst != l.TTY() {
		t.Errorf("link -> %q, want %s", dst, l.TTY())
	}
	if err := r.Find(ctx); !errors.Is(err, idcard.ErrNoCard) {
		t.Fatalf("find after Return: %v", err)
	}
}
