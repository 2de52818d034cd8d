package rig

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/escpos/emulator"
	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/store"
)

// demoKiosk runs the core on the demo's simulated devices, as `kiosk -demo` does, without a screen.
func demoKiosk(t *testing.T) (*kiosk.Kiosk, *Devices, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Kiosk.Store = filepath.Join(dir, "demo.db")
	cfg.Kiosk.PrintDir = filepath.Join(dir, "prints")
	cfg.Hours.Weekday = []string{"00:00-23:59"}
	cfg.Hours.Weekend = []string{"00:00-23:59"}
	if _, err := os.Stat(cfg.Devices.Font); err != nil {
		t.Fatalf("CJK font missing (scripts/deps.sh installs fonts-droid-fallback): %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	devs, err := Demo(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devs.Close() })
	devs.Sim.sam.SetReadDelay(0, 0)
	st, err := store.Open(cfg.Kiosk.Store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := catalog.NewHolder(catalog.Demo())
	// A fixed Thursday morning: the test must not depend on the hour it runs at (23:59 is shut).
	now := func() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)) }
	k, err := kiosk.New(ctx, kiosk.Options{Config: cfg, Store: st, Catalog: h, Printer: devs.KioskPrinter(), Log: log, Now: now, Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	go devs.Watch(ctx, k)
	return k, devs, cfg.Kiosk.PrintDir
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDemoTicketIsPrintedAsPNG(t *testing.T) {
	k, devs, dir := demoKiosk(t)
	got := make(chan []byte, 1)
	devs.Sim.OnTicket(func(b []byte) { got <- b })
	m := k.Catalog().All()[0]
	is, err := k.TakeTicket(context.Background(), m.ID)
	if err != nil || is.PrintErr != nil {
		t.Fatalf("take: %v %v", err, is.PrintErr)
	}
	var b []byte
	select {
	case b = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no ticket came out of the simulated printer")
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() != 576 {
		t.Fatalf("ticket PNG: %v %v", img.Bounds(), err)
	}
	tk := devs.Sim.emu.Tickets()
	last := tk[len(tk)-1]
	text := strings.Join(last.Lines, "\n")
	for _, want := range []string{is.Ticket.Code, m.Name.Zh, "演示号票"} {
		if !strings.Contains(text, want) {
			t.Errorf("ticket text lacks %q:\n%s", want, text)
		}
	}
	if len(last.QR) != 1 || !strings.Contains(last.QR[0], is.Ticket.LookupCode) {
		t.Errorf("QR %q, lookup %q", last.QR, is.Ticket.LookupCode)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "ticket-*.png"))
	if len(files) != 1 {
		t.Errorf("ticket files: %v", files)
	}
	if os.Getenv("CITIZENHOME_KEEP_TICKET") != "" {
		os.WriteFile(os.Getenv("CITIZENHOME_KEEP_TICKET"), b, 0o644)
	}
}

func TestDemoPaperOutRefusesTicket(t *testing.T) {
	k, devs, _ := demoKiosk(t)
	devs.Sim.SetPrinter(emulator.PaperOut)
	_, err := k.TakeTicket(context.Background(), k.Catalog().All()[0].ID)
	var pe *kiosk.PrinterError
	if err == nil || !asPrinterError(err, &pe) || pe.State != kiosk.StatePaperOut {
		t.Fatalf("paper out: %v", err)
	}
}

func asPrinterError(err error, pe **kiosk.PrinterError) bool {
	e, ok := err.(*kiosk.PrinterError)
	*pe = e
	return ok
}

func TestDemoIDCardJoinsSession(t *testing.T) {
	k, devs, _ := demoKiosk(t)
	if err := devs.Sim.TapIDCard("elder"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the elder's card to be read", func() bool { return k.Person() != nil })
	p := k.Person()
	if p.Age(k.Now()) < 65 || p.Kind != "resident" {
		t.Errorf("person %v aged %d", p, p.Age(k.Now()))
	}
	m := k.Catalog().All()[0]
	is, err := k.TakeTicket(context.Background(), m.ID)
	if err != nil || !is.Ticket.Priority {
		t.Fatalf("elder ticket: %+v %v", is.Ticket, err)
	}
	if err := devs.Sim.TapCityCard(); err != nil {
		t.Fatal(err)
	}
	c := k.CityCard()
	if c == nil || c.BalanceFen <= 0 || !strings.Contains(c.Masked(), "****") {
		t.Fatalf("city card %v", c)
	}
	k.Staff(kiosk.Remote("test-ops")).Reset(context.Background())
	if k.Person() != nil || k.CityCard() != nil {
		t.Error("reset kept personal data")
	}
	if d := k.Devices()[kiosk.DeviceIDReader]; d.State != kiosk.StateOK {
		t.Errorf("id reader %+v", d)
	}
}
