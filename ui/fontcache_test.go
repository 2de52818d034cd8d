package ui

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"golang.org/x/image/font/sfnt"

	"citizenhome/kiosk/catalog"
	"citizenhome/ui/subfont"
)

// droidFont is the kiosk's former theme font, a single TrueType file with one weight: what an
// old configuration names (fonts-droid-fallback, kept for the printer emulator).
const droidFont = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

var (
	pinnedRegularFile = FontFile{Path: pinnedFont, Face: DefaultFace}
	pinnedBoldFile    = FontFile{Path: pinnedBold, Face: DefaultFace}
)

// cachedFonts runs SubsetFontsCached and fails the test on an error.
func cachedFonts(t *testing.T, regular, bold FontFile, cat *catalog.Catalog, dir string) (ThemeFonts, FontCacheReport) {
	t.Helper()
	fonts, rep, err := SubsetFontsCached(regular, bold, cat, dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SaveErr != nil {
		t.Fatalf("cache not saved: %v", rep.SaveErr)
	}
	return fonts, rep
}

// pinnedSubsets are SubsetFont's cuts of the pinned faces: what the cache must hold.
func pinnedSubsets(t *testing.T, cat *catalog.Catalog) ThemeFonts {
	t.Helper()
	full := pinnedFonts(t)
	var out ThemeFonts
	var err error
	if out.Regular, err = SubsetFont(full.Regular, cat); err != nil {
		t.Fatal(err)
	}
	if out.Bold, err = SubsetFont(full.Bold, cat); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameFonts(a, b ThemeFonts) bool {
	content := func(r fyne.Resource) []byte {
		if r == nil {
			return nil
		}
		return r.Content()
	}
	return bytes.Equal(content(a.Regular), content(b.Regular)) && bytes.Equal(content(a.Bold), content(b.Bold)) &&
		(a.Bold == nil) == (b.Bold == nil)
}

// A first start cuts both fonts and keeps them; the next one reads exactly those fonts back,
// which are what SubsetFont makes of each face.
func TestFontCacheMissThenHit(t *testing.T) {
	dir := t.TempDir()
	want := pinnedSubsets(t, catalog.Demo())
	first, rep := cachedFonts(t, pinnedRegularFile, pinnedBoldFile, catalog.Demo(), dir)
	if rep.Hit || rep.Found != "none" {
		t.Errorf("empty cache: report %+v, want a miss finding none", rep)
	}
	if !sameFonts(first, want) {
		t.Error("the fonts cut on a miss differ from SubsetFont's")
	}
	second, rep := cachedFonts(t, pinnedRegularFile, pinnedBoldFile, catalog.Demo(), dir)
	if !rep.Hit {
		t.Errorf("second start: report %+v, want a hit", rep)
	}
	if !sameFonts(second, want) {
		t.Error("the cached fonts differ from SubsetFont's")
	}
	if second.Regular.Name() == second.Bold.Name() {
		t.Errorf("both cached fonts are named %q", second.Regular.Name())
	}
	if names, _ := filepath.Glob(filepath.Join(dir, "*")); len(names) != 1 {
		t.Errorf("cache dir holds %q, want the one cache file (no temporary left)", names)
	}
}

// An old configuration names one single-weight .ttf (Droid Sans Fallback) and no bold font:
// it is cut and cached alone, and bold text uses it (ThemeFonts.Bold nil). Naming the same
// file as bold is the same.
func TestFontCacheOneFont(t *testing.T) {
	droid := FontFile{Path: droidFont, Face: DefaultFace} // the face is ignored for a single font
	full, err := LoadFace(droid)
	if err != nil {
		t.Fatalf("%v (scripts/deps.sh installs fonts-droid-fallback)", err)
	}
	want, err := SubsetFont(full, catalog.Demo())
	if err != nil {
		t.Fatal(err)
	}
	for _, bold := range []FontFile{{}, droid} {
		dir := t.TempDir()
		got, rep := cachedFonts(t, droid, bold, catalog.Demo(), dir)
		if rep.Hit || got.Bold != nil || !bytes.Equal(got.Regular.Content(), want.Content()) {
			t.Errorf("bold %+v: report %+v, bold %v: want the Droid subset alone", bold, rep, got.Bold)
		}
		if got, rep := cachedFonts(t, droid, bold, catalog.Demo(), dir); !rep.Hit || got.Bold != nil || !bytes.Equal(got.Regular.Content(), want.Content()) {
			t.Errorf("bold %+v again: report %+v: want a hit with the Droid subset alone", bold, rep)
		}
	}
}

// The cache knows a font file by its path, face, size and modification time: a hit does not
// read the file at all (here its bytes are replaced, size and time kept, and the cut fonts
// still come back), and a new modification time or another face makes the cache stale.
func TestFontCacheFileIdentity(t *testing.T) {
	dir, fonts := t.TempDir(), t.TempDir()
	regular := FontFile{Path: filepath.Join(fonts, "regular.ttc"), Face: DefaultFace}
	data, err := os.ReadFile(pinnedFont)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(regular.Path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	first, _ := cachedFonts(t, regular, pinnedBoldFile, catalog.Demo(), dir)
	info, err := os.Stat(regular.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(regular.Path, make([]byte, len(data)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(regular.Path, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
	if got, rep := cachedFonts(t, regular, pinnedBoldFile, catalog.Demo(), dir); !rep.Hit || !sameFonts(got, first) {
		t.Errorf("same size and time: report %+v, want a hit with the fonts cut before", rep)
	}
	// The zeroed file is no font: once its time changes the cache is stale and cutting fails.
	later := info.ModTime().Add(time.Second)
	if err := os.Chtimes(regular.Path, later, later); err != nil {
		t.Fatal(err)
	}
	if _, _, err := SubsetFontsCached(regular, pinnedBoldFile, catalog.Demo(), dir); !errors.Is(err, subfont.ErrNotTrueType) {
		t.Errorf("a zeroed font with a new time: error %v, want the subsetter's not-a-font", err)
	}
	var pe *os.PathError
	if _, _, err := SubsetFontsCached(regular, pinnedBoldFile, catalog.Demo(), dir); !errors.As(err, &pe) || pe.Path != regular.Path {
		t.Errorf("error %v does not name the font file", err)
	}
	if err := os.WriteFile(regular.Path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, rep := cachedFonts(t, regular, pinnedBoldFile, catalog.Demo(), dir); rep.Hit || rep.Found != "stale" {
		t.Errorf("font file rewritten: report %+v, want a miss finding a stale cache", rep)
	}
	tc := regular
	tc.Face = "Noto Sans CJK TC"
	if _, rep := cachedFonts(t, tc, pinnedBoldFile, catalog.Demo(), dir); rep.Hit || rep.Found != "stale" {
		t.Errorf("another face: report %+v, want a miss finding a stale cache", rep)
	}
	if _, _, err := SubsetFontsCached(FontFile{Path: filepath.Join(fonts, "missing.ttc")}, pinnedBoldFile, catalog.Demo(), dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing font: error %v, want not-exist", err)
	}
	if _, _, err := SubsetFontsCached(FontFile{Path: pinnedFont, Face: "No Such Face"}, pinnedBoldFile, catalog.Demo(), t.TempDir()); !errors.Is(err, subfont.ErrNoFace) {
		t.Errorf("unknown face: error %v, want no-face", err)
	}
}

// A damaged cache file is never used: it is cut again, replaced, and the start after uses the
// new file.
func TestFontCacheCorrupt(t *testing.T) {
	want := pinnedSubsets(t, catalog.Demo())
	lenAt := len(cacheMagic) + 64
	damage := map[string]func([]byte) []byte{
		"a flipped byte in the font": func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b },
		"a flipped byte in the key":  func(b []byte) []byte { b[len(cacheMagic)+3] ^= 1; return b },
		"truncated font":             func(b []byte) []byte { return b[:len(b)-100] },
		"truncated header":           func(b []byte) []byte { return b[:20] },
		"empty":                      func([]byte) []byte { return nil },
		"another format":             func(b []byte) []byte { b[0] = 'X'; return b },
		"regular font's length past the end, checksum redone": func(b []byte) []byte {
			b[lenAt] = 0xFF
			return resum(b)
		},
		"no bold font, checksum redone": func(b []byte) []byte {
			n := int(b[lenAt])<<24 | int(b[lenAt+1])<<16 | int(b[lenAt+2])<<8 | int(b[lenAt+3])
			return resum(b[:lenAt+4+n])
		},
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cachedFonts(t, pinnedRegularFile, pinnedBoldFile, catalog.Demo(), dir)
			path := filepath.Join(dir, FontCacheFile)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, f(b), 0o644); err != nil {
				t.Fatal(err)
			}
			got, rep := cachedFonts(t, pinnedRegularFile, pinnedBoldFile, catalog.Demo(), dir)
			// A flipped key byte fails the key, not the checksum: stale is as good a reason.
			if rep.Hit || rep.Found != "corrupt" && !(name == "a flipped byte in the key" && rep.Found == "stale") {
				t.Errorf("report %+v, want a miss finding a corrupt cache", rep)
			}
			if !sameFonts(got, want) {
				t.Error("the fonts after a corrupt cache differ from SubsetFont's")
			}
			if _, rep := cachedFonts(t, pinnedRegularFile, pinnedBoldFile, catalog.Demo(), dir); !rep.Hit {
				t.Errorf("after the rebuild: report %+v, want a hit", rep)
			}
		})
	}
}

// resum sets a cache file's content checksum to match its (edited) content.
func resum(b []byte) []byte {
	head := len(cacheMagic) + 64
	sum := sha256Sum(b[head:])
	copy(b[len(cacheMagic)+32:head], sum[:])
	return b
}

// A catalog with other characters makes another glyph set: the cached fonts of the old one are
// stale, and the new subsets have the new character.
func TestFontCacheOtherGlyphSet(t *testing.T) {
	dir := t.TempDir()
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
	old, _ := cachedFonts(t, pinnedRegularFile, pinnedBoldFile, catalog.Demo(), dir)
	if glyph(old.Regular) || glyph(old.Bold) {
		t.Fatalf("the demo's subsets already have %q: the test proves nothing", rare)
	}
	sub, rep := cachedFonts(t, pinnedRegularFile, pinnedBoldFile, other, dir)
	if rep.Hit || rep.Found != "stale" {
		t.Errorf("other catalog: report %+v, want a miss finding a stale cache", rep)
	}
	if !glyph(sub.Regular) || !glyph(sub.Bold) {
		t.Errorf("the subsets for the other catalog lack %q", rare)
	}
	if _, rep := cachedFonts(t, pinnedRegularFile, pinnedBoldFile, other, dir); !rep.Hit {
		t.Errorf("other catalog again: report %+v, want a hit", rep)
	}
	if _, rep := cachedFonts(t, pinnedRegularFile, pinnedBoldFile, catalog.Demo(), dir); rep.Hit || rep.Found != "stale" {
		t.Errorf("back to the demo catalog: report %+v, want a miss finding a stale cache", rep)
	}
}

// fakeInfo is a font file's identity for cacheKey.
type fakeInfo struct {
	fs.FileInfo
	size int64
	mod  time.Time
}

func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) ModTime() time.Time { return f.mod }

// The key covers each font file's path, face, size and time, which fonts there are, and the set
// of characters, not their order or repeats.
func TestFontCacheKey(t *testing.T) {
	at := time.Date(2022, 1, 27, 0, 0, 0, 0, time.UTC)
	reg, bold := FontFile{"/f/r.ttc", "A"}, FontFile{"/f/b.ttc", "A"}
	info := fakeInfo{size: 100, mod: at}
	files, ids := []FontFile{reg, bold}, []fs.FileInfo{info, info}
	texts := []string{"取号", "ab"}
	base := cacheKey(files, ids, texts)
	if cacheKey(files, ids, []string{"ba号取", "a"}) != base {
		t.Error("the same characters in another order or repeated give another key")
	}
	differ := map[string][32]byte{
		"another character":          cacheKey(files, ids, []string{"取号", "abc"}),
		"another path":               cacheKey([]FontFile{{"/f/r2.ttc", "A"}, bold}, ids, texts),
		"another face":               cacheKey([]FontFile{reg, {"/f/b.ttc", "B"}}, ids, texts),
		"another size":               cacheKey(files, []fs.FileInfo{info, fakeInfo{size: 101, mod: at}}, texts),
		"another time":               cacheKey(files, []fs.FileInfo{fakeInfo{size: 100, mod: at.Add(time.Nanosecond)}, info}, texts),
		"no bold font":               cacheKey(files[:1], ids[:1], texts),
		"fonts swapped":              cacheKey([]FontFile{bold, reg}, ids, texts),
		"path and face run together": cacheKey([]FontFile{{"/f/r.ttcA", ""}, bold}, ids, texts),
	}
	for name, k := range differ {
		if k == base {
			t.Errorf("%s gives the same key", name)
		}
	}
}

// A cache that cannot be written costs only the subsetting: the fonts are still cut and used.
func TestFontCacheUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fonts, rep, err := SubsetFontsCached(pinnedRegularFile, pinnedBoldFile, catalog.Demo(), filepath.Join(file, "cache"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.SaveErr == nil || rep.Hit {
		t.Errorf("report %+v, want a save error", rep)
	}
	if !sameFonts(fonts, pinnedSubsets(t, catalog.Demo())) {
		t.Error("the fonts are not the subsets")
	}
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
