package slip

import (
	"strings"
	"testing"
	"time"

	"citizenhome/devices/escpos"
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

// The slip reads right when the emulator parses it back, and its QR code is what the kiosk's
// progress lookup accepts.
func TestComplaintPrintsWhatItShould(t *testing.T) {
	c := sampleComplaint(true, false)
	slip, _ := printed(t, c.Doc(), escpos.Paper58, escpos.QRNative)
	text := strings.Join(slip.Lines, "\n")
	for _, want := range []string{"开封市民之家", "投诉回执", "TS20261126K7Q2M9", "服务态度", "Staff attitude",
		"2026-11-26 09:30:05", "kiosk-07", "请凭投诉编号查询处理结果", "办件查询"} {
		if !strings.Contains(text, want) {
			t.Errorf("slip lacks %q:\n%s", want, text)
		}
	}
	if len(slip.QR) != 1 || slip.QR[0] != LookupURI("TS20261126K7Q2M9") {
		t.Errorf("QR %q", slip.QR)
	}
	for _, line := range slip.Lines {
		if w := escpos.Width(line); w > escpos.Paper58.Columns() {
			t.Errorf("line %q is %d columns wide on a 58 mm roll", line, w)
		}
	}
}
