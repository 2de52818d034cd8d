package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/kiosk/catalog"
)

// openGuide shows a matter's guide detail as the guide's list does.
func (f *fixture) openGuide(t *testing.T, id string) *catalog.Matter {
	t.Helper()
	m := f.k.Catalog().Matter(id)
	if m == nil {
		t.Fatalf("demo catalog lacks %s", id)
	}
	f.ui.showGuideDetail(m, f.ui.showGuide)
	return m
}

// The detail puts what to bring first and the legal basis last: materials, conditions,
// procedure, time and fees, forms, basis.
func TestGuideDetailSectionOrder(t *testing.T) {
	f := newFixture(t, thursday)
	f.openGuide(t, "zh-001")
	order := []string{"申请材料", "办理条件", "办理流程", "办理时限和收费", "设定依据"}
	last := -1
	for _, s := range order {
		i := f.textIndex(s)
		if i < 0 || i < last {
			t.Fatalf("%q at %d after %d; texts %q", s, i, last, f.texts())
		}
		last = i
	}
	// The materials are listed under their heading, before the conditions.
	if i := f.textIndex("原居民身份证"); i < f.textIndex("申请材料") || i > f.textIndex("办理条件") {
		t.Errorf("first material at %d; texts %q", i, f.texts())
	}
}

// The handling is a time a citizen understands, in both languages, on the detail and the lists.
func TestGuideHandlingAsTime(t *testing.T) {
	f := newFixture(t, thursday)
	for _, c := range []struct{ id, zh, en string }{
		{"zh-001", "15个工作日办结", "Done within 15 working days"},
		{"zh-003", "当场办结", "Done on the spot"},
		{"crj-004", "急办件：3个工作日办结", "Urgent (green channel): done within 3 working days"},
	} {
		f.ui.setLanguage("zh")
		f.openGuide(t, c.id)
		f.mustShow(t, "办结时间", c.zh)
		f.mustNotShow(t, "承诺件", "即办件", "承诺时限")
		f.ui.setLanguage("en")
		f.mustShow(t, "Time to finish", c.en)
		f.mustNotShow(t, "Promised", "Immediate")
	}
	f.ui.setLanguage("zh")
	f.ui.showGuide()
	f.mustShow(t, "居民身份证换领  ·  15个工作日办结")
}

// The legal basis is folded: its text shows only after a tap, and folds again.
func TestGuideBasisFolded(t *testing.T) {
	f := newFixture(t, thursday)
	m := f.openGuide(t, "zh-001")
	basis := m.Basis[0].Zh
	if f.shows(basis) {
		t.Fatal("the legal basis is open before a tap")
	}
	f.tap(t, "设定依据 ▶ 点击展开")
	f.mustShow(t, basis, "设定依据 ▼ 点击收起")
	if f.textIndex(basis) < f.textIndex("办理时限和收费") {
		t.Error("the opened basis is not last")
	}
	f.tap(t, "设定依据 ▼ 点击收起")
	if f.shows(basis) {
		t.Error("the legal basis did not fold again")
	}
}

// printedLines runs a printed document through the printer emulator and returns its text.
func printedLines(t *testing.T, d escpos.Doc) string {
	t.Helper()
	b, err := escpos.Encode(d, escpos.Options{Paper: escpos.Paper80})
	if err != nil {
		t.Fatal(err)
	}
	p, err := emulator.New(emulator.Config{Paper: escpos.Paper80, SkipPNG: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Write(b); err != nil {
		t.Fatal(err)
	}
	ts := p.Tickets()
	if len(ts) != 1 {
		t.Fatalf("%d slips cut", len(ts))
	}
	return strings.Join(strings.Fields(strings.Join(ts[0].Lines, "\n")), "")
}

// 打印材料清单 prints the materials and procedure; the screen says to take it and leads back.
func TestGuidePrintChecklist(t *testing.T) {
	f := newFixture(t, thursday)
	m := f.openGuide(t, "zh-001")
	f.tap(t, "打印材料清单")
	if f.p.Printed() != 1 {
		t.Fatalf("%d jobs printed", f.p.Printed())
	}
	text := printedLines(t, f.p.Doc(0))
	for _, w := range []string{"一次性告知单", m.Name.Zh, m.Materials[0].Name.Zh, m.Materials[1].Name.Zh, m.Steps[0].Zh,
		m.Steps[len(m.Steps)-1].Zh, "15个工作日办结"} {
		if !strings.Contains(text, strings.Join(strings.Fields(w), "")) {
			t.Errorf("checklist lacks %q: %s", w, text)
		}
	}
	f.mustShow(t, "材料清单已打印")
	f.tap(t, "返回")
	f.mustShow(t, "打印材料清单", m.Materials[0].Name.Zh)

	// In English the checklist has its English lines.
	f.ui.setLanguage("en")
	f.tap(t, "Print checklist")
	if !strings.Contains(printedLines(t, f.p.Doc(1)), "Checklist") {
		t.Error("no English on the checklist printed from the English screen")
	}
	f.mustShow(t, "Checklist printed")
}

// A printer out of paper prints nothing and says so, as for a ticket; back leads to the guide.
func TestGuidePrintChecklistPrinterError(t *testing.T) {
	f := newFixture(t, thursday)
	m := f.openGuide(t, "zh-001")
	f.p.Set(printerPaperOut, nil, nil)
	f.tap(t, "打印材料清单")
	if f.p.Printed() != 0 {
		t.Fatalf("%d jobs printed with the paper out", f.p.Printed())
	}
	f.mustShow(t, "打印机无法打印材料清单", "缺纸")
	f.tap(t, "返回")
	f.mustShow(t, m.Name.Zh, "申请材料")
}

// ▼ pages down and ▲ back up; "more below" shows while there is more below; the page buttons
// are touch-sized.
func TestGuidePageButtons(t *testing.T) {
	f := newFixture(t, thursday)
	f.openGuide(t, "zh-001")
	var sc *container.Scroll
	f.visit(false, func(o fyne.CanvasObject) bool {
		if s, ok := o.(*container.Scroll); ok && sc == nil {
			sc = s
		}
		return true
	})
	if sc == nil {
		t.Fatal("no scroll on the detail")
	}
	up, down := f.ui.t("guide.page_up"), f.ui.t("guide.page_down")
	for _, l := range []string{up, down} {
		var b *Button
		f.visit(false, func(o fyne.CanvasObject) bool {
			if w, ok := o.(*Button); ok && w.Text == l {
				b = w
			}
			return b == nil
		})
		if b == nil {
			t.Fatalf("no page button %q", l)
		}
		if s := b.Size(); s.Width < 80 || s.Height < 80 {
			t.Errorf("%q is %.0fx%.0f", l, s.Width, s.Height)
		}
	}
	if !f.shows("下面还有内容") || f.enabled(up) || !f.enabled(down) {
		t.Fatalf("at the top: hint %v, up %v, down %v", f.shows("下面还有内容"), f.enabled(up), f.enabled(down))
	}
	var offsets []float32
	for i := 0; i < 20 && f.enabled(down); i++ {
		test.Tap(f.find(t, down, true))
		offsets = append(offsets, sc.Offset.Y)
	}
	if len(offsets) == 0 || offsets[0] <= 0 {
		t.Fatalf("▼ did not scroll: %v", offsets)
	}
	for i := 1; i < len(offsets); i++ {
		if offsets[i] <= offsets[i-1] {
			t.Errorf("▼ %d did not move on: %v", i, offsets)
		}
	}
	bottom := sc.Content.MinSize().Height - sc.Size().Height
	if got := offsets[len(offsets)-1]; got < bottom-1 {
		t.Errorf("▼ stops at %.0f, bottom is %.0f", got, bottom)
	}
	if f.shows("下面还有内容") {
		t.Error("the hint still shows at the bottom")
	}
	test.Tap(f.find(t, up, true))
	if sc.Offset.Y >= offsets[len(offsets)-1] || !f.shows("下面还有内容") {
		t.Errorf("▲: offset %.0f, hint %v", sc.Offset.Y, f.shows("下面还有内容"))
	}
}

// Every topic chip finds something in both languages, and reads in the screen's language.
func TestGuideTopicsFindInBothLanguages(t *testing.T) {
	f := newFixture(t, thursday)
	c := f.k.Catalog()
	for _, k := range guideTopics {
		for _, q := range []string{k.Zh, k.En} {
			if len(c.Search(q)) == 0 {
				t.Errorf("topic %q finds nothing", q)
			}
		}
	}
	f.ui.setLanguage("en")
	f.ui.showGuide()
	f.tapExact(t, "Passport")
	f.mustShow(t, "Typed: Passport", c.Matter("crj-001").Name.En)
}
