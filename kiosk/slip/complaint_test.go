package slip

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/kiosk/catalog"
)

func sampleComplaint(english, demo bool) Complaint {
	loc := time.FixedZone("CST", 8*3600)
	return Complaint{
		Hall: "开封市民之家", HallEn: "Kaifeng Citizen Home", KioskID: "kiosk-07",
		Number: "TS20261126K7Q2M9", Category: catalog.Text{Zh: "服务态度", En: "Staff attitude"},
		Time: time.Date(2026, 11, 26, 9, 30, 5, 0, loc), English: english, Demo: demo, Loc: loc,
	}
}

// The exact bytes of the complaint slip are pinned, like the ticket's (go test -update rewrites
// them after a deliberate change).
func TestComplaintGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		c     Complaint
		paper escpos.Paper
		qr    escpos.QRMode
	}{
		{"complaint-80mm-zh", sampleComplaint(false, false), escpos.Paper80, escpos.QRNative},
		{"complaint-58mm-en-raster", sampleComplaint(true, false), escpos.Paper58, escpos.QRRaster},
		{"complaint-80mm-demo", sampleComplaint(false, true), escpos.Paper80, escpos.QRNative},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := escpos.Encode(tc.c.Doc(), escpos.Options{Paper: tc.paper, QRMode: tc.qr})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.name+".bin")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update once)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: %d bytes, golden %d bytes differ (go test -update after checking the change)", tc.name, len(got), len(want))
			}
		})
	}
}

// The slip reads right when the emulator parses it back, and its QR code is what the kiosk's
// progress lookup accepts.
func TestComplaintPrintsWhatItShould(t *testing.T) {
	c := sampleComplaint(true, false)
	b, err := escpos.Encode(c.Doc(), escpos.Options{Paper: escpos.Paper58})
	if err != nil {
		t.Fatal(err)
	}
	p, err := emulator.New(emulator.Config{Paper: escpos.Paper58, SkipPNG: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write(b); err != nil {
		t.Fatal(err)
	}
	ts := p.Tickets()
	if len(ts) != 1 {
		t.Fatalf("%d slips cut", len(ts))
	}
	text := strings.Join(ts[0].Lines, "\n")
	for _, want := range []string{"开封市民之家", "投诉回执", "TS20261126K7Q2M9", "服务态度", "Staff attitude",
		"2026-11-26 09:30:05", "kiosk-07", "请凭投诉编号查询处理结果", "办件查询"} {
		if !strings.Contains(text, want) {
			t.Errorf("slip lacks %q:\n%s", want, text)
		}
	}
	if len(ts[0].QR) != 1 || ts[0].QR[0] != LookupURI("TS20261126K7Q2M9") {
		t.Errorf("QR %q", ts[0].QR)
	}
	for _, line := range ts[0].Lines {
		if w := escpos.Width(line); w > escpos.Paper58.Columns() {
			t.Errorf("line %q is %d columns wide on a 58 mm roll", line, w)
		}
	}
}
