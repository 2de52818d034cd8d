package ptytest_test

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/escpos/emulator/ptytest"
)

func newEmu(t *testing.T, baud int) *emulator.Printer {
	t.Helper()
	emu, err := emulator.New(emulator.Config{SkipPNG: true, Baud: baud})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	return emu
}

// openHost opens the host's end as a plain file (socat already made it raw).
func openHost(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// ask sends DLE EOT n and returns the one reply byte.
func ask(t *testing.T, f *os.File, n byte) byte {
	t.Helper()
	if _, err := f.Write([]byte{0x10, 0x04, n}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	if _, err := f.Read(b[:]); err != nil {
		t.Fatalf("no reply to DLE EOT %d: %v", n, err)
	}
	return b[0]
}

func TestLineVanishAndReturn(t *testing.T) {
	emu := newEmu(t, 0)
	l := ptytest.Start(t, emu)
	if l.Emulator() != emu {
		t.Error("Emulator() is not the printer served")
	}
	host := openHost(t, l.Path)
	if got := ask(t, host, 1); got != 0x16 {
		t.Fatalf("reply %#x, want 0x16", got)
	}
	emu.SetCondition(emulator.PaperOut)

	l.Vanish()
	l.Vanish() // idempotent
	if _, err := os.Stat(l.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the host's path still exists after Vanish: %v", err)
	}
	// The open descriptor hangs up, as with an unplugged adapter.
	if _, err := host.Write([]byte{0x10, 0x04, 0x01}); err == nil {
		host.SetReadDeadline(time.Now().Add(10 * time.Second))
		var b [1]byte
		if n, err := host.Read(b[:]); err == nil {
			t.Fatalf("read %d bytes from a vanished line", n)
		}
	}

	l.Return()
	l.Return() // idempotent
	host2 := openHost(t, l.Path)
	if got := ask(t, host2, 2); got != 0x32 {
		t.Errorf("after Return: reply %#x, want the paper-out 0x32 (the printer keeps its state)", got)
	}
}

// At 9600 baud a request behind 480 bytes is answered only when the line has carried them.
func TestLinePaces(t *testing.T) {
	l := ptytest.Start(t, newEmu(t, 9600))
	host := openHost(t, l.Path)
	ask(t, host, 1)
	start := time.Now()
	if _, err := host.Write(make([]byte, 480)); err != nil {
		t.Fatal(err)
	}
	ask(t, host, 1)
	floor := 483 * 10 * time.Second / 9600
	if took := time.Since(start); took < floor*9/10 {
		t.Errorf("reply after %v, before the line could carry the bytes (%v)", took, floor)
	}
}
