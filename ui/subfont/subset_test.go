package subfont

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	gotext "github.com/go-text/typesetting/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// droidPath is the kiosk's theme font, installed by scripts/deps.sh (fonts-droid-fallback).
const droidPath = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

// droid returns the Droid font's bytes; the test skips without it, or fails under CI=true.
func droid(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(droidPath)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("theme font missing under CI (run scripts/deps.sh): %v", err)
		}
		tb.Skipf("theme font missing (run scripts/deps.sh): %v", err)
	}
	return b
}

// sample is the kind of text the catalog holds, with characters outside GB 2312 that only the
// texts bring in: 龘 (U+9F98), Deseret 𐐀 (U+10400, one of the five supplementary runes the
// Droid font has, so format 12 is needed), and 𠮷 (U+20BB7), which the Droid font lacks.
const sample = "居住证办理 Residence permit 龘 𐐀 𠮷"

// checkSubset verifies sub against orig for every rune in runes: a kept rune the original
// maps must map to a glyph with the same outline (compared segment by segment, at 1 unit per
// em unit) and advance in both x/image/font/sfnt and go-text (Fyne's parser); any other rune
// must map to .notdef. It returns the number of runes kept.
func checkSubset(t *testing.T, orig, sub []byte, runes []rune, keep func(rune) bool) int {
	t.Helper()
	of, err := sfnt.Parse(orig)
	if err != nil {
		t.Fatalf("original: %v", err)
	}
	sf, err := sfnt.Parse(sub)
	if err != nil {
		t.Fatalf("subset does not parse with x/image/font/sfnt: %v", err)
	}
	tf, err := gotext.ParseTTF(bytes.NewReader(sub))
	if err != nil {
		t.Fatalf("subset does not parse with go-text: %v", err)
	}
	if of.UnitsPerEm() != sf.UnitsPerEm() {
		t.Fatalf("unitsPerEm %d, want %d", sf.UnitsPerEm(), of.UnitsPerEm())
	}
	ppem := fixed.Int26_6(of.UnitsPerEm()) // 1/64 px per unit: segments are in font units
	var ob, sb sfnt.Buffer
	kept := 0
	for _, r := range runes {
		og, err := of.GlyphIndex(&ob, r)
		if err != nil {
			t.Fatalf("original U+%04X: %v", r, err)
		}
		sg, err := sf.GlyphIndex(&sb, r)
		if err != nil {
			t.Fatalf("subset U+%04X: %v", r, err)
		}
		tg, tok := tf.NominalGlyph(r)
		tok = tok && tg != 0 // go-text reports U+FFFF, mapped to .notdef by the last segment, as found
		if og == 0 || !keep(r) {
			if sg != 0 || tok {
				t.Errorf("U+%04X dropped but maps to glyph %d (go-text %d)", r, sg, tg)
			}
			continue
		}
		kept++
		if sg == 0 || !tok || int(tg) != int(sg) {
			t.Errorf("U+%04X kept but maps to glyph %d (go-text %d, %v)", r, sg, tg, tok)
			continue
		}
		oseg, err := of.LoadGlyph(&ob, og, ppem, nil)
		if err != nil {
			t.Fatalf("original glyph %d: %v", og, err)
		}
		oseg = slices.Clone(oseg)
		sseg, err := sf.LoadGlyph(&sb, sg, ppem, nil)
		if err != nil {
			t.Errorf("U+%04X: subset glyph %d: %v", r, sg, err)
			continue
		}
		if !slices.Equal(oseg, sseg) {
			t.Errorf("U+%04X: outline differs: %d segments, want %d", r, len(sseg), len(oseg))
		}
		oadv, _ := of.GlyphAdvance(&ob, og, ppem, 0)
		sadv, err := sf.GlyphAdvance(&sb, sg, ppem, 0)
		if err != nil || sadv != oadv {
			t.Errorf("U+%04X: advance %v (%v), want %v", r, sadv, err, oadv)
		}
		if ta := tf.HorizontalAdvance(tg); int(ta) != int(oadv) {
			t.Errorf("U+%04X: go-text advance %v, want %v", r, ta, oadv)
		}
	}
	return kept
}

// checkChecksums verifies each table's checksum and head.checkSumAdjustment.
func checkChecksums(t *testing.T, font []byte) {
	t.Helper()
	n := int(u16(font, 4))
	for i := range n {
		rec := font[12+16*i:]
		off, length := int(u32(rec, 8)), int(u32(rec, 12))
		padded := make([]byte, (length+3)&^3)
		copy(padded, font[off:off+length])
		if string(rec[:4]) == "head" {
			binary.BigEndian.PutUint32(padded[8:], 0)
		}
		if got, want := checksum(padded), u32(rec, 4); got != want {
			t.Errorf("table %q checksum %08X, directory says %08X", rec[:4], got, want)
		}
		if off%4 != 0 {
			t.Errorf("table %q at unaligned offset %d", rec[:4], off)
		}
	}
	if s := checksum(font); s != 0xB1B0AFBA {
		t.Errorf("whole-font checksum %08X, want B1B0AFBA", s)
	}
}

// tags returns the table tags of font in directory order.
func tags(font []byte) []string {
	var out []string
	for i := range int(u16(font, 4)) {
		out = append(out, string(font[12+16*i:16+16*i]))
	}
	return out
}

func bmpAnd(extra string) []rune {
	var rs []rune
	for r := rune(0); r <= 0xFFFF; r++ {
		rs = append(rs, r)
	}
	for _, r := range extra {
		if r > 0xFFFF {
			rs = append(rs, r)
		}
	}
	return rs
}

func TestSubsetDroid(t *testing.T) {
	orig := droid(t)
	keep := Kiosk(sample)
	start := time.Now()
	sub, err := Subset(orig, keep)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	kept := checkSubset(t, orig, sub, bmpAnd(sample), keep)
	checkChecksums(t, sub)
	f, err := parse(sub, "")
	if err != nil {
		t.Fatal(err)
	}
	// 6,763 hanzi, ASCII and some symbols, and the components the hanzi are built of.
	if kept < 6763+95 || f.numGlyphs > 16000 {
		t.Errorf("kept %d runes in %d glyphs; expected ≥6,858 runes and ≤16,000 glyphs", kept, f.numGlyphs)
	}
	if len(sub) > len(orig)/3 {
		t.Errorf("subset is %d bytes, more than a third of the original %d", len(sub), len(orig))
	}
	if got, want := tags(sub), []string{"OS/2", "cmap", "cvt ", "fpgm", "gasp", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "name", "post", "prep"}; !slices.Equal(got, want) {
		t.Errorf("tables %q, want %q", got, want)
	}
	// 𐐀 is the one supplementary rune kept: format 12 must be there for it.
	var sb sfnt.Buffer
	sf, _ := sfnt.Parse(sub)
	if g, _ := sf.GlyphIndex(&sb, '𐐀'); g == 0 {
		t.Error("𐐀 (U+10400, from the texts) is not in the subset")
	}
	of, _ := parse(orig, "")
	t.Logf("Droid %d bytes → %d bytes, %d runes, %d glyphs (of %d), in %v", len(orig), len(sub), kept, f.numGlyphs, of.numGlyphs, took)
}

func TestSubsetSynthetic(t *testing.T) {
	cases := []struct {
		name   string
		font   func(*synthFont)
		keep   func(rune) bool
		glyphs int // glyphs of the subset, .notdef included
	}{
		{"all", nil, nil, 6},
		{"nothing", nil, Runes(), 1},
		{"composite pulls its components", nil, Runes("C"), 4},
		{"component kept once when also mapped", nil, Runes("AC"), 4},
		{"supplementary only", nil, Runes("\U00020000"), 2},
		{"space and Z", nil, Runes(" Z"), 3},
		{"long loca", func(s *synthFont) { s.longLoca = true }, Runes("BZ"), 4},
		{"full hmtx", func(s *synthFont) { s.nhm = len(s.glyphs) }, Runes("CZ"), 5},
		{"one metric", func(s *synthFont) { s.nhm = 1 }, Runes("CZ"), 5},
		{"no optional tables", func(s *synthFont) { s.extra = nil }, Runes("AZ"), 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := defaultSynth()
			if c.font != nil {
				c.font(&s)
			}
			orig := s.build()
			sub, err := Subset(orig, c.keep)
			if err != nil {
				t.Fatal(err)
			}
			keep := c.keep
			if keep == nil {
				keep = func(rune) bool { return true }
			}
			checkSubset(t, orig, sub, bmpAnd("\U00020000\U00020001"), keep)
			checkChecksums(t, sub)
			f, err := parse(sub, "")
			if err != nil {
				t.Fatal(err)
			}
			if f.numGlyphs != c.glyphs {
				t.Errorf("%d glyphs, want %d", f.numGlyphs, c.glyphs)
			}
			if slices.Contains(tags(sub), "GSUB") {
				t.Error("GSUB kept")
			}
			// Subsetting the subset with everything kept changes nothing.
			again, err := Subset(sub, nil)
			if err != nil || !bytes.Equal(again, sub) {
				t.Errorf("subset of the subset differs (%v)", err)
			}
		})
	}
}

// TestCmapFormats checks the cmap writer at its limits: format 4 only for the BMP, format 12
// added for supplementary runes, and format 12 alone when format 4 would pass 64 KiB.
func TestCmapFormats(t *testing.T) {
	scattered := func(n int) []mapping { // glyph ids going down as runes go up: no ranges
		var m []mapping
		for i := range n {
			m = append(m, mapping{rune(0x100 + i), uint16(n - i)})
		}
		return m
	}
	cases := []struct {
		name string
		m    []mapping
		want [][2]uint16 // platform, encoding of the records
		f4   bool
	}{
		{"empty", nil, [][2]uint16{{0, 3}, {3, 1}}, true},
		{"bmp", []mapping{{'A', 1}, {'B', 2}, {'D', 3}}, [][2]uint16{{0, 3}, {3, 1}}, true},
		{"supplementary", []mapping{{'A', 1}, {0x20BB7, 2}}, [][2]uint16{{0, 3}, {0, 4}, {3, 1}, {3, 10}}, true},
		{"overflow", scattered(40000), [][2]uint16{{0, 4}, {3, 10}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cm := buildCmap(c.m)
			var got [][2]uint16
			for i := range int(u16(cm, 2)) {
				got = append(got, [2]uint16{u16(cm, 4+8*i), u16(cm, 6+8*i)})
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("records %v, want %v", got, c.want)
			}
			f := &font{tables: map[string][]byte{"cmap": cm}, numGlyphs: 1 << 16}
			var back []mapping
			if err := f.mappings(func(r rune, g uint16) { back = append(back, mapping{r, g}) }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(back, c.m) {
				t.Errorf("read back %d mappings, wrote %d", len(back), len(c.m))
			}
			if has4 := format4(c.m) != nil; has4 != c.f4 {
				t.Errorf("format 4 present %v, want %v", has4, c.f4)
			}
		})
	}
}

// TestAppendRun checks the choice between delta and array segments.
func TestAppendRun(t *testing.T) {
	d := func(gid uint16, r rune) uint16 { return gid - uint16(r) } // wraps, as in the font
	run := func(start rune, gids ...uint16) []mapping {
		var m []mapping
		for i, g := range gids {
			m = append(m, mapping{start + rune(i), g})
		}
		return m
	}
	cases := []struct {
		name string
		m    []mapping
		want []segment
	}{
		{"one range", run(0x41, 5, 6, 7), []segment{{start: 0x41, end: 0x43, delta: d(5, 0x41)}}},
		{"single", run(0x41, 9), []segment{{start: 0x41, end: 0x41, delta: d(9, 0x41)}}},
		{"scattered", run(0x41, 9, 3, 7), []segment{{start: 0x41, end: 0x43, glyphs: []uint16{9, 3, 7}}}},
		{"array then range", run(0x41, 9, 3, 10, 11, 12, 13), []segment{
			{start: 0x41, end: 0x42, glyphs: []uint16{9, 3}},
			{start: 0x43, end: 0x46, delta: d(10, 0x43)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := appendRun(nil, c.m)
			if !slices.EqualFunc(got, c.want, func(a, b segment) bool {
				return a.start == b.start && a.end == b.end && a.delta == b.delta && slices.Equal(a.glyphs, b.glyphs)
			}) {
				t.Errorf("segments %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestSubsetErrors(t *testing.T) {
	good := defaultSynth().build()
	patch := func(b []byte, tag string, fn func(tbl []byte)) []byte {
		b = slices.Clone(b)
		for i := range int(u16(b, 4)) {
			rec := b[12+16*i:]
			if string(rec[:4]) == tag {
				off, n := u32(rec, 8), u32(rec, 12)
				fn(b[off : off+n])
			}
		}
		return b
	}
	without := func(tag string) []byte {
		s := defaultSynth()
		s.drop = tag
		return s.build()
	}
	withCFF := func() []byte {
		s := defaultSynth()
		s.drop = "glyf"
		s.extra = append(s.extra, table{"CFF ", []byte{1, 0, 4, 1}})
		return s.build()
	}
	cases := []struct {
		name  string
		input []byte
		want  error
		text  string // in the message
	}{
		{"empty", nil, ErrNotTrueType, "too short"},
		// A collection's font count is the font's sfnt version here: 65,536 fonts.
		{"collection", append([]byte("ttcf\x00\x01\x00\x00"), good...), ErrUnsupported, "more than 256"},
		{"otf with glyf outlines", append([]byte("OTTO"), good[4:]...), ErrMissingTable, "CFF"},
		{"truetype with CFF outlines", withCFF(), ErrMissingTable, "glyf"},
		{"woff", append([]byte("wOFF"), good[4:]...), ErrNotTrueType, "WOFF"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), ErrNotTrueType, "signature"},
		{"directory cut", good[:40], ErrTruncated, ""},
		{"file cut", good[:len(good)-8], ErrTruncated, ""},
		{"no glyf", without("glyf"), ErrMissingTable, "glyf"},
		{"no cmap", without("cmap"), ErrMissingTable, "cmap"},
		{"no head", without("head"), ErrMissingTable, "head"},
		{"zero glyphs", patch(good, "maxp", func(b []byte) { binary.BigEndian.PutUint16(b[4:], 0) }), ErrCorrupt, "maxp"},
		{"glyph count past loca", patch(good, "maxp", func(b []byte) { binary.BigEndian.PutUint16(b[4:], 500) }), ErrTruncated, "loca"},
		{"bad loca format", patch(good, "head", func(b []byte) { binary.BigEndian.PutUint16(b[50:], 7) }), ErrCorrupt, "indexToLocFormat"},
		{"loca backwards", patch(good, "loca", func(b []byte) { binary.BigEndian.PutUint16(b[4:], 0) }), ErrCorrupt, "backwards"},
		{"loca past glyf", patch(good, "loca", func(b []byte) { binary.BigEndian.PutUint16(b[len(b)-2:], 0xFFFF) }), ErrTruncated, "glyf"},
		{"hmetrics zero", patch(good, "hhea", func(b []byte) { binary.BigEndian.PutUint16(b[34:], 0) }), ErrCorrupt, "numberOfHMetrics"},
		{"composite to nowhere", func() []byte {
			s := defaultSynth()
			s.glyphs[3].parts[1].gid = 999
			return s.build()
		}(), ErrCorrupt, "uses glyph 999"},
		{"symbol cmap only", patch(good, "cmap", func(b []byte) {
			for i := range int(u16(b, 2)) {
				binary.BigEndian.PutUint16(b[4+8*i:], 3)
				binary.BigEndian.PutUint16(b[6+8*i:], 0)
			}
		}), ErrUnsupported, "format 4 or 12"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := Subset(c.input, nil)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if out != nil {
				t.Error("output with an error")
			}
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(err.Error(), c.text) {
				t.Errorf("error %q should be an *Error mentioning %q", err, c.text)
			}
		})
	}
}

func TestErrorCodes(t *testing.T) {
	err := error(&Error{Code: CodeCorrupt, Table: "loca", Detail: "offset of glyph 3 goes backwards"})
	if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTruncated) {
		t.Error("errors.Is must compare codes")
	}
	if got, want := err.Error(), "subfont: loca: corrupt: offset of glyph 3 goes backwards"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if got := Code(99).String(); got != "code(99)" {
		t.Errorf("unknown code prints %q", got)
	}
}

func BenchmarkSubsetDroid(b *testing.B) {
	orig := droid(b)
	keep := Kiosk(sample)
	b.SetBytes(int64(len(orig)))
	b.ReportAllocs()
	var out []byte
	for b.Loop() {
		var err error
		if out, err = Subset(orig, keep); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(out)), "out-bytes")
}

// Noto Sans CJK, the kiosk's theme fonts, installed by scripts/deps.sh (fonts-noto-cjk).
const (
	notoRegular = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
	notoBold    = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
	notoSC      = "Noto Sans CJK SC"
)

// systemFont returns a font file's bytes; the test skips without it, or fails under CI=true.
func systemFont(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("theme font missing under CI (run scripts/deps.sh): %v", err)
		}
		tb.Skipf("theme font missing (run scripts/deps.sh): %v", err)
	}
	return b
}

// TestSubsetNoto cuts the simplified-Chinese face out of both Noto Sans CJK collections (CFF,
// CID-keyed) and checks every BMP rune against the face extracted whole: kept runes draw the
// same outline with the same advance in x/image and go-text, dropped ones are gone.
func TestSubsetNoto(t *testing.T) {
	for _, path := range []string{notoRegular, notoBold} {
		t.Run(path[strings.LastIndex(path, "-")+1:], func(t *testing.T) {
			ttc := systemFont(t, path)
			orig, err := Face(ttc, notoSC)
			if err != nil {
				t.Fatal(err)
			}
			keep := Kiosk(sample)
			start := time.Now()
			sub, err := SubsetFace(ttc, notoSC, keep)
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			kept := checkSubset(t, orig, sub, bmpAnd(sample), keep)
			checkChecksums(t, sub)
			if got, want := tags(sub), []string{"CFF ", "OS/2", "cmap", "head", "hhea", "hmtx", "maxp", "name", "post"}; !slices.Equal(got, want) {
				t.Errorf("tables %q, want %q", got, want)
			}
			f, err := parse(sub, "")
			if err != nil {
				t.Fatal(err)
			}
			// Some runes share a glyph (compatibility ideographs): no more than one glyph a rune.
			if kept < 6763+95 || f.numGlyphs > kept+1 {
				t.Errorf("kept %d runes in %d glyphs; expected ≥6,858 runes and at most one glyph each and .notdef", kept, f.numGlyphs)
			}
			if len(sub) > len(orig)/6 {
				t.Errorf("subset is %d bytes, more than a sixth of the face's %d", len(sub), len(orig))
			}
			// Only the subroutines the kept glyphs call are left (15 % of them for the kiosk).
			of, err := parse(orig, "")
			if err != nil {
				t.Fatal(err)
			}
			subrs := func(c *cffFont) (n int) {
				for _, fd := range c.fds {
					n += fd.subrs.count()
				}
				return n
			}
			if n, was := subrs(f.cff), subrs(of.cff); n == 0 || n > was/3 {
				t.Errorf("%d local subroutines of the face's %d kept", n, was)
			}
			// The face is the simplified-Chinese one: 直 differs from the Japanese face's.
			zh, ja := outline(t, sub, '直'), outline(t, ttcFace(t, ttc, 0), '直')
			if slices.Equal(zh, ja) || !slices.Equal(zh, outline(t, orig, '直')) {
				t.Error("直 is not drawn as in the SC face")
			}
			again, err := Subset(sub, nil)
			if err != nil || !bytes.Equal(again, sub) {
				t.Errorf("subset of the subset differs (%v)", err)
			}
			t.Logf("%s: face %d bytes → %d bytes, %d runes, %d glyphs, in %v", path, len(orig), len(sub), kept, f.numGlyphs, took)
		})
	}
}

// ttcFace returns face i of a collection, whole, as a font of its own.
func ttcFace(t *testing.T, ttc []byte, i int) []byte {
	t.Helper()
	tables, sig, err := directory(ttc, int(u32(ttc, 12+4*i)))
	if err != nil {
		t.Fatal(err)
	}
	var list []table
	for tag, d := range tables {
		list = append(list, table{tag, d})
	}
	slices.SortFunc(list, func(a, b table) int { return strings.Compare(a.tag, b.tag) })
	return assemble(sig, list)
}

// outline returns r's glyph's segments at one pixel per font unit.
func outline(t *testing.T, font []byte, r rune) []sfnt.Segment {
	t.Helper()
	f, err := sfnt.Parse(font)
	if err != nil {
		t.Fatal(err)
	}
	var b sfnt.Buffer
	g, err := f.GlyphIndex(&b, r)
	if err != nil || g == 0 {
		t.Fatalf("U+%04X: glyph %d, %v", r, g, err)
	}
	seg, err := f.LoadGlyph(&b, g, fixed.Int26_6(f.UnitsPerEm()), nil)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(seg)
}
