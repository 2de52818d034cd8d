package escpos_test

import (
	"fmt"
	"strings"
	"testing"

	"citizenhome/devices/escpos"
)

func TestDocStringHidesContent(t *testing.T) {
	var d escpos.Doc
	d.Add(escpos.Text{Text: "姓名：张三", Width: 2, Bold: true}, escpos.QR{Data: "410101199001011234"},
		escpos.Barcode{Data: "A023"}, escpos.Rule{}, escpos.Cut{})
	s := fmt.Sprintf("%v %+v", d, d.Blocks)
	for _, secret := range []string{"张三", "410101199001011234", "A023"} {
		if strings.Contains(s, secret) {
			t.Errorf("%q leaks %q", s, secret)
		}
	}
	if !strings.Contains(s, "Text{5 chars 2x1 bold left}") {
		t.Errorf("unexpected summary %q", s)
	}
}

func TestPaperAndAlign(t *testing.T) {
	for _, tc := range []struct {
		p          escpos.Paper
		dots, cols int
	}{{0, 384, 32}, {escpos.Paper58, 384, 32}, {escpos.Paper80, 576, 48}, {60, 0, 0}} {
		if tc.p.Dots() != tc.dots || tc.p.Columns() != tc.cols {
			t.Errorf("Paper %d: %d dots %d columns", tc.p, tc.p.Dots(), tc.p.Columns())
		}
	}
	if escpos.AlignCenter.String() != "center" || escpos.Align(9).String() != "align(9)" {
		t.Error("Align.String")
	}
}
