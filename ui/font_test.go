package ui

import (
	"image"
	"testing"

	"golang.org/x/image/font/sfnt"

	"citizenhome/kiosk/catalog"
)

// The subset draws the screens exactly as the full font does: same outlines, same advances,
// same layout, pixel for pixel, in Chinese, English and elder mode.
func TestSubsetFontDrawsTheSame(t *testing.T) {
	full, err := LoadFont(pinnedFont)
	if err != nil {
		t.Fatalf("pinned font: %v (scripts/deps.sh installs fonts-droid-fallback)", err)
	}
	sub, err := SubsetFont(full, catalog.Demo())
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Content())*3 > len(full.Content()) {
		t.Errorf("subset is %d bytes of the full %d: not a subset", len(sub.Content()), len(full.Content()))
	}
	// Fyne would draw a missing character from the system's fonts, so equal pixels alone do not
	// prove the subset holds the screens' text: its own table must map every character the
	// translations and the catalog have that the full font has.
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
	a, b := shots(NewTheme(full)), shots(NewTheme(sub))
	for i := range a {
		if !sameImage(a[i], b[i]) {
			t.Errorf("screen %d differs between the full font and the subset", i)
		}
	}
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
