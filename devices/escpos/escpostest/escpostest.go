// Package escpostest holds what the tests of package escpos and of its driver share: a ticket
// with every block kind, and an emulator that closes when the test ends.
package escpostest

import (
	"testing"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/emulator"
)

// SampleDoc is a queue ticket with every block kind.
func SampleDoc() escpos.Doc {
	var d escpos.Doc
	d.Add(
		escpos.Text{Text: "市民之家 Citizen Hall", Width: 2, Height: 2, Bold: true, Align: escpos.AlignCenter},
		escpos.Rule{Char: '='},
		escpos.Text{Text: "排队号 Queue No.", Align: escpos.AlignCenter},
		escpos.Text{Text: "A023", Width: 4, Height: 4, Bold: true, Align: escpos.AlignCenter},
		escpos.Text{Text: "业务：社保卡补办 Social security card replacement"},
		escpos.Text{Text: "前面还有 12 人等候。请留意叫号屏幕，过号请重新取号。Please watch the display; a missed number must be taken again."},
		escpos.Rule{},
		escpos.Feed{Lines: 1},
		escpos.QR{Data: "https://hall.example.cn/q?t=A023&d=20240521", Module: 5, Align: escpos.AlignCenter},
		escpos.Feed{Lines: 1},
		escpos.Barcode{Data: "A023-0521", HRI: true, Align: escpos.AlignCenter},
		escpos.Text{Text: "2024-05-21 09:41  3号窗口", Align: escpos.AlignRight},
		escpos.Feed{Lines: 2},
		escpos.Cut{Partial: true},
	)
	return d
}

// NewEmulator starts an emulated printer on paper (0: 58 mm), closed when t ends; it fails t if
// the emulator cannot start.
func NewEmulator(t testing.TB, paper escpos.Paper) *emulator.Printer {
	t.Helper()
	e, err := emulator.New(emulator.Config{Paper: paper})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}
