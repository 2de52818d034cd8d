package ui

import (
	"context"
	"errors"
	"image/color"
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
)

// Every style, enabled and disabled, in standard and elder mode: its text at 7:1 or more
// against its fill (WCAG AAA, what elder mode asks; the palette is one for both modes), and its
// edge (the outline, or the fill where there is none) at 3:1 or more against what surrounds it.
// The colours are the ones the widgets draw (Button.colours, Tile.colours, the theme's names).
func TestStylesMeetContrast(t *testing.T) {
	test.NewTempApp(t)
	for _, large := range []bool{false, true} {
		th := &Theme{Large: large}
		check := func(what string, fill color.Color, text fyne.ThemeColorName, edge, around color.Color) {
			t.Helper()
			fg := th.Color(text, theme.VariantLight)
			if c := contrast(fg, fill); c < 7 {
				t.Errorf("large=%v %s: text %v on %v at %.2f:1, want 7:1", large, what, fg, fill, c)
			}
			if edge == nil {
				edge = fill
			}
			if c := contrast(edge, around); c < 3 {
				t.Errorf("large=%v %s: edge %v against %v at %.2f:1, want 3:1", large, what, edge, around, c)
			}
		}
		for _, s := range []Style{Secondary, Primary, Danger, OnBand} {
			for _, off := range []bool{false, true} {
				b := NewButton("x", s, "", nil)
				if off {
					b.Disable()
				}
				around := color.Color(colBackground)
				if s == OnBand {
					around = colPrimary // the header band
				}
				fill, text, edge := b.colours()
				check(styleName(s, off), fill, text, edge, around)
			}
		}
		for _, primary := range []bool{false, true} {
			for _, off := range []bool{false, true} {
				tl := NewTile("x", primary, nil)
				if off {
					tl.Disable()
				}
				fill, text, edge := tl.colours()
				check("tile primary="+map[bool]string{false: "no", true: "yes"}[primary]+map[bool]string{false: "", true: " disabled"}[off],
					fill, text, edge, colBackground)
				// The icon is a graphic: 3:1 against the tile.
				if c := contrast(tl.iconColour(), fill); c < 3 {
					t.Errorf("large=%v tile primary=%v disabled=%v: icon at %.2f:1", large, primary, off, c)
				}
			}
		}
		// Text that is not on a control: the header band's, the demo badge, the waiting panel,
		// body text and a hint, the status colours.
		if c := contrast(th.Color(theme.ColorNameForegroundOnPrimary, theme.VariantLight), colPrimary); c < 7 {
			t.Errorf("large=%v: header text at %.2f:1 on the band", large, c)
		}
		for name, pair := range map[string][2]color.Color{
			"body":         {th.Color(theme.ColorNameForeground, 0), colBackground},
			"hint":         {th.Color(theme.ColorNamePlaceHolder, 0), colBackground},
			"demo badge":   {colPrimary, colBackground},
			"panel":        {colText, colPanel},
			"warning":      {colWarning, colBackground},
			"success":      {colSuccess, colBackground},
			"info":         {colInfo, colBackground},
			"danger":       {colDanger, colBackground},
			"entry border": {th.Color(theme.ColorNameInputBorder, 0), colBackground},
		} {
			want := 7.0
			if name == "entry border" {
				want = 3
			}
			if c := contrast(pair[0], pair[1]); c < want {
				t.Errorf("large=%v %s: %.2f:1, want %.1f:1", large, name, c, want)
			}
		}
		// A dialog's outline stands out from the screen it dims, and the text behind stays
		// legible.
		dim := over(colBackground, colBackdrop)
		if c := contrast(colEdge, dim); c < 3 {
			t.Errorf("dialog outline against its backdrop: %.2f:1", c)
		}
		if c := contrast(over(colText, colBackdrop), dim); c < 7 {
			t.Errorf("text behind a dialog: %.2f:1", c)
		}
	}
}

func styleName(s Style, off bool) string {
	n := []string{"secondary", "primary", "danger", "on band"}[s]
	if off {
		n += " disabled"
	}
	return n
}

// over is c drawn over an opaque base.
func over(base color.NRGBA, c color.NRGBA) color.NRGBA {
	a := float64(c.A) / 255
	mix := func(b, f uint8) uint8 { return uint8(float64(f)*a + float64(b)*(1-a) + 0.5) }
	return color.NRGBA{mix(base.R, c.R), mix(base.G, c.G), mix(base.B, c.B), 0xFF}
}

// A button draws what its style says: the fill under its text, the text's colour, the outline,
// and the icon in the text's colour; a disabled one greys all of them.
func TestButtonDrawsItsStyle(t *testing.T) {
	test.NewTempApp(t)
	fyne.CurrentApp().Settings().SetTheme(NewTheme(nil))
	for _, s := range []Style{Secondary, Primary, Danger, OnBand} {
		b := NewButton("确认", s, iconHome, func() {})
		w := test.NewWindow(b)
		for _, off := range []bool{false, true} {
			if off {
				b.Disable()
			}
			r := test.WidgetRenderer(b).(*styledRenderer)
			fill, text, edge := b.colours()
			objs := r.inner.Objects()
			if bg := objs[0].(*canvas.Rectangle); bg.FillColor != fill {
				t.Errorf("%s: background %v, want %v", styleName(s, off), bg.FillColor, fill)
			}
			var label *widget.RichText
			for _, o := range objs {
				if rt, ok := o.(*widget.RichText); ok {
					label = rt
				}
			}
			if label == nil || label.Segments[0].(*widget.TextSegment).Style.ColorName != text {
				t.Errorf("%s: label colour not %s", styleName(s, off), text)
			}
			if edge == nil && r.edge.StrokeWidth != 0 || edge != nil && (r.edge.StrokeColor != edge || r.edge.StrokeWidth < edgeWidth) {
				t.Errorf("%s: outline %v %.0f px, want %v", styleName(s, off), r.edge.StrokeColor, r.edge.StrokeWidth, edge)
			}
			want := icon(iconHome, palette.Color(text, 0))
			if b.Icon == nil || b.Icon.Name() != want.Name() {
				t.Errorf("%s: icon %v, want %s", styleName(s, off), b.Icon, want.Name())
			}
			if m := b.MinSize(); m.Width < TouchTarget || m.Height < TouchTarget {
				t.Errorf("%s: %v smaller than the touch target", styleName(s, off), m)
			}
		}
		w.Close()
	}
}

// Every icon is one of our drawings, embedded, and draws something: rendered at 64 px, a fair
// part of it is in the colour asked for, and none in any other.
func TestIconsDraw(t *testing.T) {
	test.NewTempApp(t)
	fyne.CurrentApp().Settings().SetTheme(NewTheme(nil)) // a white background
	names := []string{iconTicket, iconAppointment, iconGuide, iconProgress, iconCityCard, iconRating,
		iconComplaint, iconHelp, iconElder, iconLanguage, iconHome, iconBack, iconPrint, iconAlert,
		iconPeople, iconCard}
	ink := color.NRGBA{0x12, 0x34, 0xAB, 0xFF}
	for _, n := range names {
		img := iconImage(n, ink, 64)
		w := test.NewWindow(img)
		w.SetPadded(false)
		w.Resize(fyne.NewSize(64, 64))
		shot := w.Canvas().Capture()
		inked, other := 0, 0
		b := shot.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.NRGBAModel.Convert(shot.At(x, y)).(color.NRGBA)
				switch {
				case near8(c.R, ink.R) && near8(c.G, ink.G) && near8(c.B, ink.B):
					inked++
				case c.R > 0xF0 && c.G > 0xF0 && c.B > 0xF0, between(c, ink):
					// the background, or the anti-aliased edge of a stroke
				default:
					other++
				}
			}
		}
		w.Close()
		if share := float64(inked) / float64(b.Dx()*b.Dy()); share < 0.04 {
			t.Errorf("icon %s: %.1f %% of it drawn", n, 100*share)
		}
		if other > 0 {
			t.Errorf("icon %s: %d pixels in another colour than asked", n, other)
		}
	}
	if r := icon(iconHome, ink); r != icon(iconHome, ink) || r == icon(iconHome, colText) {
		t.Error("one resource per icon and colour expected")
	}
}

func near8(a, b uint8) bool { d := int(a) - int(b); return d > -12 && d < 12 }

// between reports whether c lies on the way from white to ink (an anti-aliased stroke edge).
func between(c, ink color.NRGBA) bool {
	a := func(v, i uint8) float64 { return float64(255-int(v)) / float64(255-int(i)) }
	ar, ag, ab := a(c.R, ink.R), a(c.G, ink.G), a(c.B, ink.B)
	return math.Abs(ar-ag) < 0.2 && math.Abs(ag-ab) < 0.2
}

// The home screen's services are icon tiles with a subtitle each, in Chinese and English and in
// elder mode (one column there), large enough to hit without aiming; the elder-mode tile and
// 呼叫工作人员 are among them.
func TestHomeTilesHaveIconsAndSubtitles(t *testing.T) {
	f := newFixture(t, thursday)
	withHall(t, f)
	for _, lang := range Languages {
		for _, large := range []bool{false, true} {
			f.ui.setLarge(large)
			f.ui.setLanguage(lang)
			f.ui.showHome()
			var tiles []*Tile
			f.visit(false, func(o fyne.CanvasObject) bool {
				if tl, ok := o.(*Tile); ok {
					tiles = append(tiles, tl)
				}
				return true
			})
			if len(tiles) != len(homeServices) {
				t.Fatalf("%s large=%v: %d tiles, want %d", lang, large, len(tiles), len(homeServices))
			}
			x := tiles[1].Position().X
			for i, tl := range tiles {
				s := homeServices[i]
				if tl.IconName != s.icon {
					t.Errorf("%s large=%v: tile %q has icon %q, want %q", lang, large, tl.Text, tl.IconName, s.icon)
				}
				if tl.Sub == "" || strings.HasPrefix(tl.Sub, "home.") {
					t.Errorf("%s large=%v: tile %q has subtitle %q", lang, large, tl.Text, tl.Sub)
				}
				if sz := tl.Size(); sz.Height < homeTileHeight || sz.Width < 2*TouchTarget {
					t.Errorf("%s large=%v: tile %q is %v", lang, large, tl.Text, sz)
				}
				if large && tl.Position().X != x {
					t.Errorf("elder mode: tile %q not in the one column", tl.Text)
				}
			}
			elder, normal := f.ui.t("home.elder"), f.ui.t("home.normal")
			want := map[bool]string{false: elder, true: normal}[large]
			if tiles[7].Text != want || tiles[8].Text != f.ui.t("home.help") {
				t.Errorf("%s large=%v: last tiles %q, %q", lang, large, tiles[7].Text, tiles[8].Text)
			}
		}
	}
	// The elder-mode tile switches elder mode on, and (saying 标准字体) off.
	f.ui.setLarge(false)
	f.ui.setLanguage("zh")
	f.ui.showHome()
	test.Tap(f.homeTile(t, "大字模式"))
	if !f.ui.theme.Large {
		t.Fatal("the 大字模式 tile did not switch elder mode on")
	}
	test.Tap(f.homeTile(t, "标准字体"))
	if f.ui.theme.Large {
		t.Fatal("the 标准字体 tile did not switch elder mode off")
	}
	// A service that cannot be used keeps its icon and gives the reason instead of its subtitle.
	f.k.SetDevice(kiosk.DevicePrinter, kiosk.StatePaperOut, "")
	tl := f.homeTile(t, "取号")
	r := test.WidgetRenderer(tl).(*tileRenderer)
	if !tl.Disabled() || tl.IconName != iconTicket || !r.sub.Visible() ||
		!strings.Contains(r.sub.String(), "暂不可用") || strings.Contains(r.sub.String(), "排队取号") {
		t.Errorf("paper out: tile %q disabled=%v sub %q", tl.Text, tl.Disabled(), r.sub.String())
	}
}

// homeTile is the home tile whose title (first line) is title, enabled or not.
func (f *fixture) homeTile(t *testing.T, title string) *Tile {
	t.Helper()
	var found *Tile
	f.visit(false, func(o fyne.CanvasObject) bool {
		if tl, ok := o.(*Tile); ok && strings.SplitN(tl.Text, "\n", 2)[0] == title {
			found = tl
		}
		return found == nil
	})
	if found == nil {
		t.Fatalf("no tile %q on screen: %q", title, f.texts())
	}
	return found
}

// downCore is the core whose waiting counts fail (the store or the hall's figures out of
// reach), or lack a section.
type downCore struct {
	Core
	err     error
	without string // a section ID left out of the counts
}

func (c *downCore) WaitingBySection(ctx context.Context) (map[string]int, error) {
	if c.err != nil {
		return nil, c.err
	}
	m, err := c.Core.WaitingBySection(ctx)
	delete(m, c.without)
	return m, err
}

// The home screen shows how many wait for each section, from the core, and follows the queue
// every WaitingPoll; without figures it says so instead of showing 0.
func TestHomeWaitingPanel(t *testing.T) {
	f := newFixture(t, thursday)
	secs := f.k.Catalog().Sections()
	noWait := f.ui.t("ticket.no_wait")
	if !f.shows(f.ui.t("waiting.title")) {
		t.Fatalf("no waiting panel on the home screen: %q", f.texts())
	}
	count := func(n int) string { return f.ui.tf("ticket.section_waiting", map[string]any{"N": n}) }
	labels := func(s string) (n int) {
		f.visit(false, func(o fyne.CanvasObject) bool {
			if l, ok := o.(*widget.Label); ok && l.Text == s {
				n++
			}
			return true
		})
		return n
	}
	if n := labels(noWait); n != len(secs) {
		t.Errorf("%d sections say %s, want all %d: %q", n, noWait, len(secs), f.texts())
	}
	for _, s := range secs {
		if !f.shows(s.Name.Zh) {
			t.Errorf("section %s not in the panel", s.Name.Zh)
		}
	}
	sec := f.k.Offer().Sections[0]
	for i := 0; i < 3; i++ {
		if _, err := f.k.TakeTicket(context.Background(), sec.Matters[0].ID); err != nil {
			t.Fatal(err)
		}
	}
	f.ui.showHome() // the ticket flow ends on the home screen: the take above did not redraw it
	f.tick(WaitingPoll)
	want, err := f.k.WaitingBySection(context.Background())
	if err != nil || want[sec.Section.ID] != 3 {
		t.Fatalf("core counts %v %v", want, err)
	}
	if !f.shows(count(3)) {
		t.Errorf("panel does not say %q: %q", count(3), f.texts())
	}
	if _, err := f.k.TakeTicket(context.Background(), sec.Matters[0].ID); err != nil {
		t.Fatal(err)
	}
	f.tick(WaitingPoll)
	if !f.shows(count(4)) || f.shows(count(3)) {
		t.Errorf("after another ticket: %q", f.texts())
	}

	// A section without a figure says so.
	other := secs[len(secs)-1]
	f.ui.core = &downCore{Core: f.k, without: other.ID}
	f.ui.showHome()
	if !f.shows(f.ui.t("waiting.unknown")) || !f.shows(count(4)) {
		t.Errorf("one section without a figure: %q", f.texts())
	}
	// No figures at all: one line says so, and no count is shown, not even 无需等候.
	f.ui.core = &downCore{Core: f.k, err: errors.New("store closed")}
	f.tick(WaitingPoll)
	if !f.shows(f.ui.t("waiting.unavailable")) {
		t.Errorf("core failing: %q", f.texts())
	}
	if f.shows(noWait) || f.shows(count(4)) {
		t.Errorf("counts shown while the core has none: %q", f.texts())
	}
	// In English, from a fresh build.
	f.ui.core = f.k
	f.ui.setLanguage("en")
	if !f.shows("Waiting now") || !f.shows("4 waiting") || !f.shows("No wait") {
		t.Errorf("English panel: %q", f.texts())
	}
}

// The staff actions that stop citizens' service are danger buttons, and their confirmation
// answers in the danger style too.
func TestStaffDangerButtons(t *testing.T) {
	f := newFixture(t, thursday)
	f.ui.staff.enter(f.staffByPIN(t))
	for _, label := range []string{"暂停服务", "重置", "退出程序"} {
		b := f.styledButton(label)
		if b == nil || b.Style != Danger || b.IconName != iconAlert {
			t.Errorf("%q: %+v, want a danger button with the alert icon", label, b)
		}
	}
	for _, label := range []string{"打印测试页", "退出工作人员模式"} {
		if b := f.styledButton(label); b == nil || b.Style == Danger {
			t.Errorf("%q is not an ordinary button", label)
		}
	}
	f.tap(t, "重置")
	if b := f.styledButton(f.ui.t("confirm.yes")); b == nil || b.Style != Danger {
		t.Errorf("the confirmation's yes: %+v", b)
	}
	if b := f.styledButton(f.ui.t("confirm.no")); b == nil || b.Style != Secondary {
		t.Errorf("the confirmation's no: %+v", b)
	}
}

// Headings are bold and clearly larger than body text: the screen's title, a section's title.
func TestHeadingSizes(t *testing.T) {
	f := newFixture(t, thursday)
	for _, large := range []bool{false, true} {
		th := &Theme{Large: large}
		body := th.Size(theme.SizeNameText)
		h := f.ui.heading("x")
		s := f.ui.section("x")
		if !h.TextStyle.Bold || th.Size(h.SizeName) < 1.5*body {
			t.Errorf("large=%v: heading %v bold=%v, body %v", large, th.Size(h.SizeName), h.TextStyle.Bold, body)
		}
		if !s.TextStyle.Bold || th.Size(s.SizeName) < 1.2*body {
			t.Errorf("large=%v: section %v bold=%v, body %v", large, th.Size(s.SizeName), s.TextStyle.Bold, body)
		}
	}
}
