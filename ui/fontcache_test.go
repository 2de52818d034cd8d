package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"golang.org/x/image/font/sfnt"

	"citizenhome/kiosk/catalog"
)

// cachedSubset runs SubsetFontCached and fails the test on an error.
func cachedSubset(t *testing.T, font fyne.Resource, cat *catalog.Catalog, dir string) (fyne.Resource, FontCacheReport) {
	t.Helper()
	sub, rep, err := SubsetFontCached(font, cat, dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SaveErr != nil {
		t.Fatalf("cache not saved: %v", rep.SaveErr)
	}
	return sub, rep
}

func pinned(t *testing.T) fyne.Resource {
	t.Helper()
	full, err := LoadFont(pinnedFont)
	if err != nil {
		t.Fatalf("pinned font: %v (scripts/deps.sh installs fonts-droid-fallback)", err)
	}
	return full
}

// A first start cuts the font and keeps it; the next one reads exactly that font back, which is
// what SubsetFont makes.
func TestFontCacheMissThenHit(t *testing.T) {
	full, dir := pinned(t), t.TempDir()
	want, err := SubsetFont(full, catalog.Demo())
	if err != nil {
		t.Fatal(err)
	}
	first, rep := cachedSubset(t, full, catalog.Demo(), dir)
	if rep.Hit || rep.Found != "none" {
		t.Errorf("empty cache: report %+v, want a miss finding none", rep)
	}
	if !bytes.Equal(first.Content(), want.Content()) {
		t.Error("the font cut on a miss differs from SubsetFont's")
	}
	second, rep := cachedSubset(t, full, catalog.Demo(), dir)
	if !rep.Hit {
		t.Errorf("second start: report %+v, want a hit", rep)
	}
	if !bytes.Equal(second.Content(), want.Content()) {
		t.Error("the cached font differs from SubsetFont's")
	}
	if second.Name() != full.Name() {
		t.Errorf("cached font named %q, want %q", second.Name(), full.Name())
	}
	if names, _ := filepath.Glob(filepath.Join(dir, "*")); len(names) != 1 {
		t.Errorf("cache dir holds %q, want the one cache file (no temporary left)", names)
	}
}

// A damaged cache file is never used: it is cut again, replaced, and the start after uses the
// new file.
func TestFontCacheCorrupt(t *testing.T) {
	full := pinned(t)
	want, err := SubsetFont(full, catalog.Demo())
	if err != nil {
		t.Fatal(err)
	}
	damage := map[string]func([]byte) []byte{
		"a flipped byte in the font": func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b },
		"a flipped byte in the key":  func(b []byte) []byte { b[len(cacheMagic)+3] ^= 1; return b },
		"truncated font":             func(b []byte) []byte { return b[:len(b)-100] },
		"truncated header":           func(b []byte) []byte { return b[:20] },
		"empty":                      func([]byte) []byte { return nil },
		"another format":             func(b []byte) []byte { b[0] = 'X'; return b },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cachedSubset(t, full, catalog.Demo(), dir)
			path := filepath.Join(dir, FontCacheFile)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, f(b), 0o644); err != nil {
				t.Fatal(err)
			}
			got, rep := cachedSubset(t, full, catalog.Demo(), dir)
			// A flipped key byte fails the key, not the checksum: stale is as good a reason.
			if rep.Hit || rep.Found != "corrupt" && !(name == "a flipped byte in the key" && rep.Found == "stale") {
				t.Errorf("report %+v, want a miss finding a corrupt cache", rep)
			}
			if !bytes.Equal(got.Content(), want.Content()) {
				t.Error("the font after a corrupt cache differs from SubsetFont's")
			}
			if _, rep := cachedSubset(t, full, catalog.Demo(), dir); !rep.Hit {
				t.Errorf("after the rebuild: report %+v, want a hit", rep)
			}
		})
	}
}

// A catalog with other characters makes another glyph set: the cached font of the old one is
// stale, and the new subset has the new character.
func TestFontCacheOtherGlyphSet(t *testing.T) {
	full, dir := pinned(t), t.TempDir()
	const rare = '龘' // in the font, outside GB 2312 and the demo catalog
	demoJSON := string(catalog.DemoJSON())
	if !strings.Contains(demoJSON, "综合窗口") {
		t.Fatal("the demo catalog changed: pick another name to edit")
	}
	other, err := catalog.Parse([]byte(strings.Replace(demoJSON, "综合窗口", "综合窗口"+string(rare), 1)))
	if err != nil {
		t.Fatal(err)
	}
	glyph := func(font fyne.Resource) bool {
		f, err := sfnt.Parse(font.Content())
		if err != nil {
			t.Fatal(err)
		}
		g, err := f.GlyphIndex(&sfnt.Buffer{}, rare)
		return err == nil && g != 0
	}
	old, _ := cachedSubset(t, full, catalog.Demo(), dir)
	if glyph(old) {
		t.Fatalf("the demo's subset already has %q: the test proves nothing", rare)
	}
	sub, rep := cachedSubset(t, full, other, dir)
	if rep.Hit || rep.Found != "stale" {
		t.Errorf("other catalog: report %+v, want a miss finding a stale cache", rep)
	}
	if !glyph(sub) {
		t.Errorf("the subset for the other catalog lacks %q", rare)
	}
	if _, rep := cachedSubset(t, full, other, dir); !rep.Hit {
		t.Errorf("other catalog again: report %+v, want a hit", rep)
	}
	if _, rep := cachedSubset(t, full, catalog.Demo(), dir); rep.Hit || rep.Found != "stale" {
		t.Errorf("back to the demo catalog: report %+v, want a miss finding a stale cache", rep)
	}
}

// The key covers the font's bytes and the set of characters, not their order or repeats.
func TestFontCacheKey(t *testing.T) {
	font := []byte("font bytes")
	base := cacheKey(font, []string{"取号", "ab"})
	if cacheKey(font, []string{"ba号取", "a"}) != base {
		t.Error("the same characters in another order or repeated give another key")
	}
	if cacheKey(font, []string{"取号", "abc"}) == base {
		t.Error("another character gives the same key")
	}
	if cacheKey([]byte("font byteS"), []string{"取号", "ab"}) == base {
		t.Error("another font gives the same key")
	}
}

// A cache that cannot be written costs only the subsetting: the font is still cut and used.
func TestFontCacheUnwritable(t *testing.T) {
	full := pinned(t)
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sub, rep, err := SubsetFontCached(full, catalog.Demo(), filepath.Join(file, "cache"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.SaveErr == nil || rep.Hit {
		t.Errorf("report %+v, want a save error", rep)
	}
	if len(sub.Content()) == 0 || len(sub.Content()) >= len(full.Content()) {
		t.Errorf("font of %d bytes, want a subset", len(sub.Content()))
	}
}
