package slip

import (
	"strings"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk/catalog"
)

func sampleChecklist(t *testing.T, english bool) (Checklist, *catalog.Matter) {
	t.Helper()
	m := catalog.Demo().Matter("zh-001")
	if m == nil {
		t.Fatal("demo catalog lacks zh-001")
	}
	loc := time.FixedZone("CST", 8*3600)
	return Checklist{
		Hall: "开封市民之家", HallEn: "Kaifeng Citizen Home", Matter: m.Name,
		Section:  catalog.Text{Zh: "综合窗口", En: "General window"},
		Handling: m.HandlingTime(), Fee: catalog.Text{Zh: m.Fee.Label("zh"), En: m.Fee.Label("en")},
		Materials: m.Materials, Steps: m.Steps, English: english, Loc: loc,
		Time: time.Date(2026, 11, 26, 9, 30, 5, 0, loc),
	}, m
}

// The checklist as the emulator reads it back: every material with what of it to bring, every
// step in order, the handling as a time; English lines only when asked for; nothing wider than
// the narrow roll.
func TestChecklistPrintsWhatItShould(t *testing.T) {
	for _, english := range []bool{false, true} {
		c, m := sampleChecklist(t, english)
		tk, _ := printed(t, c.Doc(), escpos.Paper58, escpos.QRNative)
		text := strings.Join(tk.Lines, "\n")
		want := []string{"开封市民之家", "一次性告知单", m.Name.Zh, "申请材料", "办理流程", "15个工作日办结",
			"综合窗口", "2026-11-26 09:30"}
		for _, mt := range m.Materials {
			want = append(want, mt.Name.Zh, mt.Kind.Label().Zh)
		}
		if english {
			want = append(want, "Checklist", "Materials to bring", "Procedure", "Done within 15 working days",
				"Kaifeng Citizen Home")
			for _, mt := range m.Materials {
				want = append(want, mt.Name.En)
			}
		}
		// Wrapping breaks lines at spaces and anywhere in Chinese: compare without white space.
		flat := squash(text)
		for _, w := range want {
			if !strings.Contains(flat, squash(w)) {
				t.Errorf("english=%v: checklist lacks %q:\n%s", english, w, text)
			}
		}
		// The steps, numbered in catalog order.
		last := -1
		for i, s := range m.Steps {
			at := strings.Index(flat, squash(s.Zh))
			if at < 0 || at < last {
				t.Errorf("step %d %q missing or out of order:\n%s", i+1, s.Zh, text)
			}
			last = at
		}
		if !english && strings.Contains(text, "Checklist") {
			t.Errorf("English line on a Chinese-only checklist:\n%s", text)
		}
		for _, line := range tk.Lines {
			if w := escpos.Width(line); w > escpos.Paper58.Columns() {
				t.Errorf("line %q is %d columns wide on a 58 mm roll", line, w)
			}
		}
		if c.Materials[0].Name.Zh != "" && strings.Index(flat, "申请材料") > strings.Index(flat, "办理流程") {
			t.Errorf("materials must come before the procedure:\n%s", text)
		}
	}
}

func checklistOf(t *testing.T, english bool) Checklist {
	c, _ := sampleChecklist(t, english)
	return c
}

func squash(s string) string { return strings.Join(strings.Fields(s), "") }
