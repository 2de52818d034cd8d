package slip

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/queue"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func sample(english, priority bool) Ticket {
	loc := time.FixedZone("CST", 8*3600)
	return Ticket{
		Hall: "开封市民之家", HallEn: "Kaifeng Citizen Home", English: english, Loc: loc,
		Section: catalog.Text{Zh: "社保", En: "Social insurance"},
		Matter:  catalog.Text{Zh: "城乡居民基本养老保险参保登记", En: "Enrolment in the urban and rural residents' basic pension"},
		Ticket: queue.Ticket{Code: "B012", Number: 12, Category: "B", Priority: priority, WaitingAhead: 7,
			EstimatedWait: 18 * time.Minute, LookupCode: "K7Q2M9XAB",
			IssuedAt: time.Date(2026, 11, 26, 9, 30, 5, 0, loc)},
	}
}

// The exact bytes of each template are pinned: a change to a ticket's layout shows in review.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		t     Ticket
		paper escpos.Paper
		qr    escpos.QRMode
	}{
		{"ticket-80mm-zh", sample(false, false), escpos.Paper80, escpos.QRNative},
		{"ticket-80mm-en-priority", sample(true, true), escpos.Paper80, escpos.QRNative},
		{"ticket-58mm-raster", sample(false, false), escpos.Paper58, escpos.QRRaster},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := escpos.Encode(tc.t.Doc(), escpos.Options{Paper: tc.paper, QRMode: tc.qr})
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

// What is printed reads right when the emulator parses it back.
func TestTicketPrintsWhatItShould(t *testing.T) {
	tk := sample(true, true)
	b, err := escpos.Encode(tk.Doc(), escpos.Options{Paper: escpos.Paper80})
	if err != nil {
		t.Fatal(err)
	}
	p, err := emulator.New(emulator.Config{Paper: escpos.Paper80, SkipPNG: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write(b); err != nil {
		t.Fatal(err)
	}
	ts := p.Tickets()
	if len(ts) != 1 {
		t.Fatalf("%d tickets cut", len(ts))
	}
	text := strings.Join(ts[0].Lines, "\n")
	for _, want := range []string{"开封市民之家", "B012", "绿色通道", "社保", "城乡居民基本养老保险参保登记",
		"前面等候 7 人", "18 分钟", "2026-11-26 09:30:05", "K7Q2M9XAB", "Queue number"} {
		if !strings.Contains(text, want) {
			t.Errorf("ticket lacks %q:\n%s", want, text)
		}
	}
	if len(ts[0].QR) != 1 || ts[0].QR[0] != LookupURI("K7Q2M9XAB") {
		t.Errorf("QR %q", ts[0].QR)
	}
	if len(b) > 1200 {
		t.Errorf("a ticket of %d bytes: keep it small, it goes down a serial line", len(b))
	}
	t.Logf("ticket: %d bytes (80 mm, native QR, English lines)", len(b))
}
