package ui

import (
	"image"
	"image/color"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/image/font/sfnt"

	"citizenhome/kiosk/catalog"
	"citizenhome/ui/subfont"
)

// pinnedFonts are the pinned regular and bold faces, whole, read once for the package's tests.
var pinnedFonts = func() func(t *testing.T) ThemeFonts {
	var (
		once  sync.Once
		fonts ThemeFonts
		err   error
	)
	return func(t *testing.T) ThemeFonts {
		t.Helper()
		once.Do(func() {
			if fonts.Regular, err = LoadFont(pinnedFont); err == nil {
				fonts.Bold, err = LoadFont(pinnedBold)
			}
		})
		if err != nil {
			t.Fatalf("pinned fonts: %v (scripts/deps.sh installs fonts-noto-cjk)", err)
		}
		return fonts
	}
}()

// The subset draws the screens exactly as the full font does: same outlines, same advances,
// same layout, pixel for pixel, in Chinese, English and elder mode, regular and bold.
func TestSubsetFontDrawsTheSame(t *testing.T) {
	full := pinnedFonts(t)
	var sub ThemeFonts
	for _, p := range []struct{ from, to *fyne.Resource }{{&full.Regular, &sub.Regular}, {&full.Bold, &sub.Bold}} {
		s, err := SubsetFont(*p.from, catalog.Demo())
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Content())*3 > len((*p.from).Content()) {
			t.Errorf("subset is %d bytes of the full %d: not a subset", len(s.Content()), len((*p.from).Content()))
		}
		*p.to = s
		checkSubsetCovers(t, *p.from, s)
	}
	shots := func(font *Theme) []image.Image {
		f := newFixtureWith(t, thursday, font)
		var out []image.Image
		shot := func() { out = append(out, f.win.Canvas().Capture()) }
		shot()
		f.tap(t, "办事指南")
		for _, k := range "SFZ" {
			f.tap(t, string(k))
		}
		f.tap(t, "居民身份证换领")
		shot()
		f.tap(t, "首页")
		f.tap(t, "大字模式")
		shot()
		f.tap(t, "标准字体")
		f.tap(t, "English")
		shot()
		return out
	}
	a, b := shots(NewThemeFonts(full)), shots(NewThemeFonts(sub))
	for i := range 3 {
		if !sameImage(a[i], b[i]) {
			t.Errorf("screen %d differs between the full fonts and the subsets", i)
		}
	}
	// English is where the subsets' missing layout tables show: Noto's GPOS kerns Latin pairs
	// ("To", "AV") and its GSUB makes the fi ligature. Without them (the faces with every glyph
	// but no layout tables) the English screen is drawn exactly as by the subsets; with them it
	// is not, which is the known cost of dropping GSUB and GPOS.
	var bare ThemeFonts
	for _, p := range []struct{ from, to *fyne.Resource }{{&full.Regular, &bare.Regular}, {&full.Bold, &bare.Bold}} {
		data, err := subfont.Subset((*p.from).Content(), nil)
		if err != nil {
			t.Fatal(err)
		}
		*p.to = fyne.NewStaticResource((*p.from).Name(), data)
	}
	c := shots(NewThemeFonts(bare))
	for i := range c {
		if !sameImage(c[i], b[i]) {
			t.Errorf("screen %d differs between the faces without layout tables and the subsets", i)
		}
	}
	if sameImage(a[3], b[3]) {
		t.Log("the English screen is the same with and without Noto's kerning: it has no kerned pair")
	}
}

// checkSubsetCovers checks that sub maps every character of the translations and the catalog
// that full has. Fyne would draw a missing character from the system's fonts, so equal pixels
// alone do not prove the subset holds the screens' text.
func checkSubsetCovers(t *testing.T, full, sub fyne.Resource) {
	t.Helper()
	fullFont, err := sfnt.Parse(full.Content())
	if err != nil {
		t.Fatal(err)
	}
	subFont, err := sfnt.Parse(sub.Content())
	if err != nil {
		t.Fatal(err)
	}
	texts, err := shownTexts(catalog.Demo())
	if err != nil {
		t.Fatal(err)
	}
	var buf sfnt.Buffer
	missing := map[rune]bool{}
	for _, s := range texts {
		for _, r := range s {
			if g, _ := fullFont.GlyphIndex(&buf, r); g == 0 {
				continue
			}
			if g, err := subFont.GlyphIndex(&buf, r); err != nil || g == 0 {
				missing[r] = true
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("the subset lacks %d characters of the screens, e.g. %q", len(missing), firstRunes(missing, 10))
	}
}

// Bold text is drawn with the bold face: its strokes are heavier, so the same label in bold
// puts clearly more ink on the screen. With one font for both styles (NewTheme, the old
// kiosk's Droid Sans Fallback) the two draw the same ink: Fyne does not embolden a font itself.
func TestBoldFaceDrawsHeavier(t *testing.T) {
	full := pinnedFonts(t)
	var sub ThemeFonts
	var err error
	if sub.Regular, err = SubsetFont(full.Regular, catalog.Demo()); err != nil {
		t.Fatal(err)
	}
	if sub.Bold, err = SubsetFont(full.Bold, catalog.Demo()); err != nil {
		t.Fatal(err)
	}
	const text = "市民之家 办事指南 Citizen Service"
	ink := func(th *Theme, bold bool) float64 {
		app := test.NewTempApp(t)
		app.Settings().SetTheme(th)
		label := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: bold})
		w := test.NewWindow(container.NewVBox(label))
		defer w.Close()
		w.Resize(fyne.NewSize(900, 120))
		return darkness(w.Canvas().Capture())
	}
	one := NewTheme(sub.Regular)
	if r, b := ink(one, false), ink(one, true); r == 0 || b/r > 1.02 || b/r < 0.98 {
		t.Errorf("one font for both styles: bold ink %.0f, regular %.0f: want the same", b, r)
	}
	two := NewThemeFonts(sub)
	r, b := ink(two, false), ink(two, true)
	if r == 0 || b/r < 1.25 {
		t.Errorf("bold face: bold ink %.0f, regular %.0f (×%.2f): want at least ×1.25", b, r, b/r)
	}
	t.Logf("ink: regular %.0f, bold %.0f (×%.2f)", r, b, b/r)
	if ink(two, false) != r {
		t.Error("the regular label's ink changes from one drawing to the next: the measure is not stable")
	}
}

// darkness sums how much darker than white each pixel is (0-1 each).
func darkness(img image.Image) float64 {
	var sum float64
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			g := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
			sum += float64(255-g.Y) / 255
		}
	}
	return sum
}

func firstRunes(m map[rune]bool, n int) string {
	var out []rune
	for r := range m {
		if len(out) == n {
			break
		}
		out = append(out, r)
	}
	return string(out)
}

func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}
