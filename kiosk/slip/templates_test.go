package slip

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/kiosk/catalog"
	"citizenhome/mask"
)

const fullCard = "3104000012345678"

func sampleReceipt(english bool) Receipt {
	loc := time.FixedZone("CST", 8*3600)
	return Receipt{
		Hall: "开封市民之家", HallEn: "Kaifeng Citizen Home", KioskID: "kiosk-07",
		Matter: catalog.Text{Zh: "不动产登记资料查询", En: "Real estate register search"},
		FeeFen: 2500, BalanceFen: 12345, CardNo: fullCard, TAC: "1A2B3C4D", Txn: "202611260930050007",
		Time: time.Date(2026, 11, 26, 9, 30, 5, 0, loc), English: english, Loc: loc,
	}
}

func sampleSelfTest(english bool, paper escpos.Paper, qr escpos.QRMode) SelfTest {
	loc := time.FixedZone("CST", 8*3600)
	return SelfTest{
		Hall: "开封市民之家", HallEn: "Kaifeng Citizen Home", KioskID: "kiosk-07", Version: "1.4.2",
		Printer: "paper-low", Paper: paper, QRMode: qr, English: english, Loc: loc,
		Time: time.Date(2026, 11, 26, 8, 15, 0, 0, loc),
	}
}

type doccer interface{ Doc() escpos.Doc }

// checkGolden compares got with testdata/name.bin (rewritten with -update).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".bin")
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
		t.Errorf("%s: %d bytes, golden %d bytes differ (go test -update after checking the change)", name, len(got), len(want))
	}
}

// The exact bytes of every template are pinned: a change to a slip's layout shows in review.
func TestTemplatesGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		slip  doccer
		paper escpos.Paper
		qr    escpos.QRMode
	}{
		{"ticket-80mm-zh", sample(false, false), escpos.Paper80, escpos.QRNative},
		{"ticket-80mm-en-priority", sample(true, true), escpos.Paper80, escpos.QRNative},
		{"ticket-58mm-raster", sample(false, false), escpos.Paper58, escpos.QRRaster},
		{"complaint-80mm-zh", sampleComplaint(false, false), escpos.Paper80, escpos.QRNative},
		{"complaint-58mm-en-raster", sampleComplaint(true, false), escpos.Paper58, escpos.QRRaster},
		{"complaint-80mm-demo", sampleComplaint(false, true), escpos.Paper80, escpos.QRNative},
		{"receipt-80mm-zh", sampleReceipt(false), escpos.Paper80, escpos.QRNative},
		{"receipt-58mm-en", sampleReceipt(true), escpos.Paper58, escpos.QRNative},
		{"selftest-80mm-zh", sampleSelfTest(false, escpos.Paper80, escpos.QRNative), escpos.Paper80, escpos.QRNative},
		{"selftest-58mm-en-raster", sampleSelfTest(true, escpos.Paper58, escpos.QRRaster), escpos.Paper58, escpos.QRRaster},
		{"checklist-80mm-zh", checklistOf(t, false), escpos.Paper80, escpos.QRNative},
		{"checklist-58mm-en", checklistOf(t, true), escpos.Paper58, escpos.QRNative},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := escpos.Encode(tc.slip.Doc(), escpos.Options{Paper: tc.paper, QRMode: tc.qr})
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.name, got)
		})
	}
}

// printed runs a slip through the emulator and returns the one ticket it cut.
func printed(t *testing.T, d escpos.Doc, paper escpos.Paper, qr escpos.QRMode) (emulator.Ticket, []byte) {
	t.Helper()
	b, err := escpos.Encode(d, escpos.Options{Paper: paper, QRMode: qr})
	if err != nil {
		t.Fatal(err)
	}
	p, err := emulator.New(emulator.Config{Paper: paper, SkipPNG: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Write(b); err != nil {
		t.Fatal(err)
	}
	ts := p.Tickets()
	if len(ts) != 1 {
		t.Fatalf("%d tickets cut", len(ts))
	}
	return ts[0], b
}

func TestReceiptPrintsWhatItShould(t *testing.T) {
	for _, english := range []bool{false, true} {
		tk, b := printed(t, sampleReceipt(english).Doc(), escpos.Paper58, escpos.QRNative)
		text := strings.Join(tk.Lines, "\n")
		want := []string{"开封市民之家", "缴费凭证", "不动产登记资料查询", "25.00 元", "3104********5678",
			"123.45 元", "202611260930050007", "1A2B3C4D", "kiosk-07", "2026-11-26 09:30:05"}
		if english {
			want = append(want, "Payment receipt", "Real estate register", "Balance", "Kaifeng Citizen Home")
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("english=%v: receipt lacks %q:\n%s", english, w, text)
			}
		}
		if english != strings.Contains(text, "Amount") {
			t.Errorf("english=%v but English labels present=%v", english, !english)
		}
		// The full card number is personal data: never on paper, in any encoding.
		if bytes.Contains(b, []byte(fullCard)) || strings.Contains(text, fullCard) || strings.Contains(text, "00001234") {
			t.Errorf("english=%v: the full card number is printed", english)
		}
	}
}

func TestReceiptDoesNotLeakCard(t *testing.T) {
	r := sampleReceipt(false)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("paid", "receipt", r)
	for _, s := range []string{fmt.Sprint(r), fmt.Sprintf("%v %+v %#v %s", r, r, r, r), logged.String()} {
		if strings.Contains(s, fullCard) {
			t.Errorf("card number in %q", s)
		}
		if !strings.Contains(s, "3104********5678") {
			t.Errorf("masked card missing from %q", s)
		}
	}
}

func TestMaskCardAndYuan(t *testing.T) {
	for in, want := range map[string]string{
		fullCard: "3104********5678", "12345678": "********", "": "", "123456789": "1234*6789",
		"卡号12345678九": "卡号12***678九",
	} {
		if got := mask.Card(in); got != want {
			t.Errorf("mask.Card(%q) = %q, want %q", in, got, want)
		}
	}
	for fen, want := range map[int64]string{0: "0.00", 5: "0.05", 1250: "12.50", -5: "-0.05", -1250: "-12.50",
		-9223372036854775808: "-92233720368547758.08", 9223372036854775807: "92233720368547758.07"} {
		if got := Yuan(fen); got != want {
			t.Errorf("Yuan(%d) = %q, want %q", fen, got, want)
		}
	}
}

func TestSelfTestPrintsWhatItShould(t *testing.T) {
	for _, tc := range []struct {
		paper escpos.Paper
		qr    escpos.QRMode
	}{{escpos.Paper58, escpos.QRNative}, {escpos.Paper80, escpos.QRNative}, {escpos.Paper58, escpos.QRRaster}, {escpos.Paper80, escpos.QRRaster}} {
		name := fmt.Sprintf("%dmm-qr%d", tc.paper, tc.qr)
		s := sampleSelfTest(true, tc.paper, tc.qr)
		tk, _ := printed(t, s.Doc(), tc.paper, tc.qr)
		text := strings.Join(tk.Lines, "\n")
		for _, w := range []string{"打印机自检页", "纸将用尽 (paper-low)", "kiosk-07", "开封市民之家", "1.4.2",
			"2026-11-26 08:15:00", "Printer self-test", fmt.Sprintf("%d mm", tc.paper)} {
			if !strings.Contains(text, w) {
				t.Errorf("%s: page lacks %q:\n%s", name, w, text)
			}
		}
		// The rulers fill exactly one printed line each: the emulator wraps like a printer.
		cols := tc.paper.Columns()
		tens, units := Ruler(cols)
		han := hanRuler(cols / 2)
		found := 0
		for _, l := range tk.Lines {
			if l == strings.TrimRight(tens, " ") || l == units || l == han {
				found++
			}
		}
		if found != 3 {
			t.Errorf("%s: %d of 3 ruler lines printed whole:\n%s", name, found, text)
		}
		if len(tk.Barcodes) != 1 || tk.Barcodes[0] != SelfTestBarcode {
			t.Errorf("%s: barcodes %q", name, tk.Barcodes)
		}
		if tc.qr == escpos.QRNative && (len(tk.QR) != 1 || tk.QR[0] != SelfTestQR("kiosk-07")) {
			t.Errorf("%s: QR %q", name, tk.QR)
		}
		if tc.qr == escpos.QRRaster && len(tk.Rasters) != 1 {
			t.Errorf("%s: %d raster images, want the QR code", name, len(tk.Rasters))
		}
	}
}

func TestRuler(t *testing.T) {
	tens, units := Ruler(12)
	if tens != "         1  " || units != "123456789012" {
		t.Errorf("Ruler(12) = %q, %q", tens, units)
	}
	if h := hanRuler(12); h != "一二三四五六七八九十一二" || escpos.Width(h) != 24 {
		t.Errorf("hanRuler(12) = %q", h)
	}
	if q := SelfTestQR(strings.Repeat("k", 100)); len(q) != len("citizenhome:selftest:")+64 {
		t.Errorf("SelfTestQR of a long ID: %d bytes", len(q))
	}
}

// An unknown state word prints as it is; a self-test page never fails to encode, whatever the
// configuration holds (the barcode is fixed ASCII, the QR data bounded).
func TestSelfTestOddInput(t *testing.T) {
	s := sampleSelfTest(false, 0, escpos.QRNative)
	s.Printer = "state(9)"
	s.KioskID = "大厅一号机\x1b@"
	for _, paper := range []escpos.Paper{escpos.Paper58, escpos.Paper80} {
		tk, _ := printed(t, s.Doc(), paper, escpos.QRNative)
		if !strings.Contains(strings.Join(tk.Lines, "\n"), "state(9)") {
			t.Errorf("%v: %q", paper, tk.Lines)
		}
	}
}
