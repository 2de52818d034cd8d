package slip

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/driver"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/escpos/emulator/ptytest"
)

// BenchmarkSlipBytes reports the size of each template on each paper and, for the slips with
// a QR code, each QR mode: what goes down the serial line per slip (bytes/slip), and the time
// to lay it out and encode it.
func BenchmarkSlipBytes(b *testing.B) {
	native := []escpos.QRMode{escpos.QRNative}
	both := []escpos.QRMode{escpos.QRNative, escpos.QRRaster}
	slips := []struct {
		name string
		qr   []escpos.QRMode
		doc  func(escpos.Paper, escpos.QRMode) escpos.Doc
	}{
		{"ticket", both, func(escpos.Paper, escpos.QRMode) escpos.Doc { return sample(false, false).Doc() }},
		{"ticket-en-priority", both, func(escpos.Paper, escpos.QRMode) escpos.Doc { return sample(true, true).Doc() }},
		{"receipt", native, func(escpos.Paper, escpos.QRMode) escpos.Doc { return sampleReceipt(false).Doc() }},
		{"receipt-en", native, func(escpos.Paper, escpos.QRMode) escpos.Doc { return sampleReceipt(true).Doc() }},
		{"selftest", both, func(p escpos.Paper, q escpos.QRMode) escpos.Doc { return sampleSelfTest(false, p, q).Doc() }},
	}
	for _, s := range slips {
		for _, paper := range []escpos.Paper{escpos.Paper58, escpos.Paper80} {
			for _, qr := range s.qr {
				b.Run(fmt.Sprintf("%s/%dmm/%s", s.name, paper, qrName(qr)), func(b *testing.B) {
					var n int
					for b.Loop() {
						out, err := escpos.Encode(s.doc(paper, qr), escpos.Options{Paper: paper, QRMode: qr})
						if err != nil {
							b.Fatal(err)
						}
						n = len(out)
					}
					b.ReportMetric(float64(n), "bytes/slip")
				})
			}
		}
	}
}

func qrName(q escpos.QRMode) string {
	if q == escpos.QRRaster {
		return "raster"
	}
	return "native"
}

// BenchmarkPrintSerial prints the queue ticket with the real driver over a pty to the emulator
// pacing at the line's baud, and compares the time taken with the physical floor, bytes*10/baud
// (8N1) of the job alone. last-byte-x is the ratio for the time from calling Print to the
// printer having received the cut (the ticket can be torn off); confirmed-x is the ratio for
// Print returning, the status checks before and after the job included. Medians over the
// iterations; -max is the worst.
func BenchmarkPrintSerial(b *testing.B) {
	for _, baud := range []int{9600, 115200} {
		for _, qr := range []escpos.QRMode{escpos.QRNative, escpos.QRRaster} {
			b.Run(fmt.Sprintf("%dbaud/80mm/%s", baud, qrName(qr)), func(b *testing.B) {
				benchPrintSerial(b, baud, escpos.Paper80, qr)
			})
		}
	}
}

func benchPrintSerial(b *testing.B, baud int, paper escpos.Paper, qr escpos.QRMode) {
	cut := make(chan time.Time, 1)
	emu, err := emulator.New(emulator.Config{Paper: paper, SkipPNG: true, Baud: baud,
		OnTicket: func(emulator.Ticket) { cut <- time.Now() }})
	if err != nil {
		b.Fatal(err)
	}
	defer emu.Close()
	line := ptytest.Start(b, emu)
	p, err := driver.Open(line.Path, driver.SerialConfig{Baud: baud,
		Printer: driver.Config{Paper: paper, QRMode: qr, StatusTimeout: 2 * time.Second}})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	doc := sample(false, false).Doc()
	job, err := escpos.Encode(doc, escpos.Options{Paper: paper, QRMode: qr})
	if err != nil {
		b.Fatal(err)
	}
	floor := time.Duration(len(job)) * 10 * time.Second / time.Duration(baud)
	ctx := context.Background()
	if _, err := p.Status(ctx); err != nil { // opening drains fully once; not part of a print
		b.Fatal(err)
	}
	var lastByte, confirmed []float64
	for b.Loop() {
		start := time.Now()
		if err := p.Print(ctx, doc); err != nil {
			b.Fatal(err)
		}
		done := time.Since(start)
		var at time.Time
		select {
		case at = <-cut:
		case <-time.After(30 * time.Second):
			b.Fatal("the printer never cut the ticket")
		}
		lastByte = append(lastByte, float64(at.Sub(start))/float64(floor))
		confirmed = append(confirmed, float64(done)/float64(floor))
	}
	slices.Sort(lastByte)
	slices.Sort(confirmed)
	b.ReportMetric(float64(len(job)), "bytes/slip")
	b.ReportMetric(float64(floor.Microseconds())/1000, "floor-ms")
	b.ReportMetric(lastByte[len(lastByte)/2], "last-byte-x")
	b.ReportMetric(confirmed[len(confirmed)/2], "confirmed-x")
	b.ReportMetric(confirmed[len(confirmed)-1], "confirmed-x-max")
}
