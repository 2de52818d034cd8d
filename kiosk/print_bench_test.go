package kiosk

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/driver"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/escpos/emulator/ptytest"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/store"
)

// BenchmarkConfirmToLastByte measures what a citizen waits for between pressing 确认取号 and
// the ticket being out: TakeTicket on the core with the real serial driver over a pty, to the
// printer emulator pacing at the line's baud. Everything is in: the status check before the
// number is committed, the SQLite commit, the driver's own status checks around the job, the
// job. Ratios are to the physical floor, the job's bytes*10/baud (8N1): last-byte-x until the
// printer has the cut, confirmed-x until TakeTicket returns (printed and recorded). Medians;
// -max is the worst iteration.
func BenchmarkConfirmToLastByte(b *testing.B) {
	for _, baud := range []int{9600, 115200} {
		b.Run(fmt.Sprintf("%dbaud/80mm/native", baud), func(b *testing.B) { benchConfirm(b, baud) })
	}
}

func benchConfirm(b *testing.B, baud int) {
	type cutAt struct {
		at    time.Time
		bytes int
	}
	cuts := make(chan cutAt, 1)
	emu, err := emulator.New(emulator.Config{Paper: escpos.Paper80, SkipPNG: true, Baud: baud,
		OnTicket: func(t emulator.Ticket) { cuts <- cutAt{time.Now(), len(t.Raw)} }})
	if err != nil {
		b.Fatal(err)
	}
	defer emu.Close()
	line := ptytest.Start(b, emu)
	p, err := driver.Open(line.Path, driver.SerialConfig{Baud: baud,
		// StatusFresh as internal/rig sets it: the core has just asked, the driver need not again.
		Printer: driver.Config{Paper: escpos.Paper80, StatusTimeout: 2 * time.Second, StatusFresh: 500 * time.Millisecond}})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()

	cfg := config.Default()
	cfg.Kiosk.Store = filepath.Join(b.TempDir(), "kiosk.db")
	cfg.Hours.Weekday = []string{"00:00-23:59"}
	cfg.Hours.Weekend = []string{"00:00-23:59"}
	st, err := store.Open(cfg.Kiosk.Store)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	h := &catalog.Holder{}
	h.Replace(catalog.Demo())
	noon := at("2026-11-26", "12:00")
	k, err := New(context.Background(), Options{Config: cfg, Store: st, Catalog: h, Printer: p,
		Now: func() time.Time { return noon }})
	if err != nil {
		b.Fatal(err)
	}
	m := k.Catalog().All()[0]
	ctx := context.Background()
	if _, err := p.Status(ctx); err != nil { // the port's first, full drain is not part of a ticket
		b.Fatal(err)
	}
	var lastByte, confirmed []float64
	for b.Loop() {
		start := time.Now()
		is, err := k.TakeTicket(ctx, m.ID)
		if err != nil || is.PrintErr != nil {
			b.Fatalf("TakeTicket: %v %v", err, is.PrintErr)
		}
		done := time.Since(start)
		var c cutAt
		select {
		case c = <-cuts:
		case <-time.After(30 * time.Second):
			b.Fatal("the printer never cut the ticket")
		}
		floor := float64(time.Duration(c.bytes) * 10 * time.Second / time.Duration(baud))
		lastByte = append(lastByte, float64(c.at.Sub(start))/floor)
		confirmed = append(confirmed, float64(done)/floor)
	}
	slices.Sort(lastByte)
	slices.Sort(confirmed)
	b.ReportMetric(lastByte[len(lastByte)/2], "last-byte-x")
	b.ReportMetric(confirmed[len(confirmed)/2], "confirmed-x")
	b.ReportMetric(confirmed[len(confirmed)-1], "confirmed-x-max")
}
