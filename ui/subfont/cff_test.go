package subfont

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	gotext "github.com/go-text/typesetting/font"
	"golang.org/x/image/font/sfnt"
)

func TestSubsetCFF(t *testing.T) {
	cases := []struct {
		name   string
		font   func(*synthCFF)
		keep   func(rune) bool
		glyphs int // glyphs of the subset, .notdef included
		fds    []int
		subrs  []int // local subroutines of each Font DICT, then global ones, in the subset
	}{
		{"all", nil, nil, 6, []int{0, 1, 0}, []int{1, 1, 1}},
		{"all, indirect calls", func(s *synthCFF) { s.indirect = true }, nil, 6, []int{0, 1, 0}, []int{1, 1, 2}},
		{"nothing", nil, Runes(), 1, []int{0}, []int{0, 0, 0}},
		{"local subroutine", nil, Runes("B"), 2, []int{0, 1}, []int{0, 1, 0}},
		{"global subroutine and local", nil, Runes("CZ"), 3, []int{0, 1, 0}, []int{1, 0, 1}},
		{"supplementary only", nil, Runes("\U00020000"), 2, []int{0}, []int{0, 0, 0}},
		{"space", nil, Runes(" "), 2, []int{0}, []int{0, 0, 0}},
		{"charset format 0", func(s *synthCFF) { s.charsetFormat = 0 }, Runes("BC"), 3, []int{0, 1}, []int{0, 1, 1}},
		{"charset format 1", func(s *synthCFF) { s.charsetFormat = 1 }, Runes("AZ"), 3, []int{0}, []int{1, 0, 0}},
		{"FDSelect format 0", func(s *synthCFF) { s.fdSelect0 = true }, Runes("ABZ"), 4, []int{0, 1, 0}, []int{1, 1, 0}},
		{"name-keyed", func(s *synthCFF) { s.nameKeyed = true }, Runes("ACZ"), 4, nil, []int{1, 1}},
		{"name-keyed ISOAdobe", func(s *synthCFF) { s.nameKeyed, s.charsetFormat = true, -1 }, Runes("BZ"), 3, nil, []int{1, 0}},
		{"no optional tables", func(s *synthCFF) { s.extra, s.family = nil, "" }, Runes("AB"), 3, []int{0, 1}, []int{0, 1, 0}},
		// 1,300 unused subroutines first: the call's bias goes from 1,131 to 107.
		{"bias changes", func(s *synthCFF) { s.padSubrs = 1300 }, Runes("BZ"), 3, []int{0, 1, 0}, []int{1, 1, 0}},
		{"hint masks", func(s *synthCFF) { s.hints = true }, Runes("ABCZ"), 5, []int{0, 1, 0}, []int{1, 1, 1}},
		// A call whose index a subroutine pushed: the walker stops, every subroutine is kept.
		{"indirect call keeps all", func(s *synthCFF) { s.indirect, s.padSubrs = true, 3 }, Runes("B"), 2, []int{0, 1}, []int{4, 4, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := defaultCFF()
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
			// x/image/font/sfnt and go-text both run the charstrings, subroutines included.
			checkSubset(t, orig, sub, bmpAnd("\U00020000\U00020001"), keep)
			checkChecksums(t, sub)
			if string(sub[:4]) != sigCFF {
				t.Errorf("signature %q", sub[:4])
			}
			f, err := parse(sub, "")
			if err != nil {
				t.Fatal(err)
			}
			if f.numGlyphs != c.glyphs || f.cff.charStrings.count() != c.glyphs {
				t.Errorf("%d glyphs, %d charstrings, want %d", f.numGlyphs, f.cff.charStrings.count(), c.glyphs)
			}
			var subrs []int
			for _, fd := range f.cff.fds {
				subrs = append(subrs, fd.subrs.count())
			}
			if subrs = append(subrs, f.cff.gsubrs.count()); !slices.Equal(subrs, c.subrs) {
				t.Errorf("subroutines %v, want %v", subrs, c.subrs)
			}
			if c.fds != nil && !slices.Equal(fdRuns(f.cff.fdSelect), c.fds) {
				t.Errorf("Font DICTs by glyph %v, want runs %v", f.cff.fdSelect, c.fds)
			}
			// Each kept glyph keeps its CID (or SID) and, when it calls no subroutine, its
			// charstring byte for byte (calls are renumbered; checkSubset compared the outlines).
			of, _ := parse(orig, "")
			for _, m := range subsetMappings(t, sub) {
				og := origGlyph(t, of, m.r)
				calls := bytes.ContainsAny(of.cff.charStrings.item(og), "\x0a\x1d")
				if f.cff.charset[m.gid] != of.cff.charset[og] || !calls && !bytes.Equal(f.cff.charStrings.item(int(m.gid)), of.cff.charStrings.item(og)) {
					t.Errorf("U+%04X: glyph %d is not the original glyph %d", m.r, m.gid, og)
				}
			}
			for _, e := range f.cff.top {
				if e.op == opUniqueID || e.op == opEncoding {
					t.Errorf("Top DICT keeps operator %d", e.op)
				}
			}
			if ts := tags(sub); slices.Contains(ts, "GSUB") || slices.Contains(ts, "VORG") {
				t.Errorf("tables %q: layout or vertical tables kept", ts)
			}
			again, err := Subset(sub, nil)
			if err != nil || !bytes.Equal(again, sub) {
				t.Errorf("subset of the subset differs (%v)", err)
			}
		})
	}
}

// fdRuns returns the Font DICT of each run of glyphs.
func fdRuns(sel []uint8) []int {
	var out []int
	for i, fd := range sel {
		if i == 0 || sel[i-1] != fd {
			out = append(out, int(fd))
		}
	}
	return out
}

func subsetMappings(t *testing.T, font []byte) []mapping {
	t.Helper()
	f, err := parse(font, "")
	if err != nil {
		t.Fatal(err)
	}
	var m []mapping
	if err := f.mappings(func(r rune, g uint16) { m = append(m, mapping{r, g}) }); err != nil {
		t.Fatal(err)
	}
	return m
}

func origGlyph(t *testing.T, f *font, r rune) int {
	t.Helper()
	g := -1
	if err := f.mappings(func(c rune, gid uint16) {
		if c == r {
			g = int(gid)
		}
	}); err != nil || g < 0 {
		t.Fatalf("U+%04X not in the original (%v)", r, err)
	}
	return g
}

// TestCollection picks faces of a .ttc by family: a TrueType face and a CFF face whose
// typographic family (name id 16) differs from its legacy one.
func TestCollection(t *testing.T) {
	tt := defaultSynth()
	tt.extra = append(tt.extra[:0:0], table{"name", nameTable("Alpha Sans", "")})
	cff := defaultCFF()
	cff.family, cff.typoFamily = "Beta Sans Bold", "Beta Sans"
	alpha, beta := tt.build(), cff.build()
	ttc := collection(alpha, beta)
	keep := Runes("AZ")
	for _, c := range []struct {
		family string
		want   []byte
	}{{"", alpha}, {"Alpha Sans", alpha}, {"  beta sans ", beta}, {"Beta Sans Bold", beta}} {
		sub, err := SubsetFace(ttc, c.family, keep)
		if err != nil {
			t.Fatalf("%q: %v", c.family, err)
		}
		want, err := Subset(c.want, keep)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sub, want) {
			t.Errorf("%q: the subset is not the face's", c.family)
		}
		face, err := Face(ttc, c.family)
		if err != nil {
			t.Fatal(err)
		}
		checkSubset(t, c.want, face, bmpAnd(""), func(rune) bool { return true })
		if !slices.Equal(tags(face), tags(c.want)) {
			t.Errorf("%q: face has tables %q, want %q", c.family, tags(face), tags(c.want))
		}
	}
	_, err := SubsetFace(ttc, "Gamma", keep)
	if !errors.Is(err, ErrNoFace) || !strings.Contains(err.Error(), `"Alpha Sans", "Beta Sans"`) {
		t.Errorf("unknown family: %v", err)
	}
	if _, err := Face(ttc, "Gamma"); !errors.Is(err, ErrNoFace) {
		t.Errorf("Face of an unknown family: %v", err)
	}
	// A single font ignores the family: the configured face name serves a plain .ttf too.
	if _, err := SubsetFace(alpha, "Gamma", keep); err != nil {
		t.Errorf("single font with a family: %v", err)
	}
	if b, err := Face(alpha, "Gamma"); err != nil || !bytes.Equal(b, alpha) {
		t.Errorf("Face of a single font: %v", err)
	}
	// x/image reads the synthetic collection too: it is a well-formed one.
	if c, err := sfnt.ParseCollection(ttc); err != nil || c.NumFonts() != 2 {
		t.Errorf("x/image: %v", err)
	}
}

func TestSubsetCFFErrors(t *testing.T) {
	good := defaultCFF().build()
	cffAt := func(b []byte) (int, int) {
		for i := range int(u16(b, 4)) {
			rec := b[12+16*i:]
			if string(rec[:4]) == cffTag {
				return int(u32(rec, 8)), int(u32(rec, 12))
			}
		}
		t.Fatal("no CFF table")
		return 0, 0
	}
	patch := func(fn func(cff []byte)) []byte {
		b := slices.Clone(good)
		off, n := cffAt(b)
		fn(b[off : off+n])
		return b
	}
	s := defaultCFF()
	s.drop = cffTag
	noCFF := s.build()
	cff2 := slices.Clone(noCFF)
	for i := range int(u16(cff2, 4)) {
		if rec := cff2[12+16*i:]; string(rec[:4]) == "post" {
			copy(rec, "CFF2")
		}
	}
	tooMany := defaultCFF()
	tooMany.glyphs = append(tooMany.glyphs, cffGlyph{adv: 500})
	withTop := func(extra ...byte) []byte {
		s := defaultCFF()
		s.topExtra = extra
		return s.build()
	}
	cases := []struct {
		name  string
		input []byte
		want  error
		text  string
	}{
		{"OTTO without CFF", noCFF, ErrMissingTable, "CFF"},
		{"CFF2", cff2, ErrUnsupported, "CFF2"},
		{"CFF version 2 header", patch(func(c []byte) { c[0] = 2 }), ErrUnsupported, "version"},
		{"header size", patch(func(c []byte) { c[2] = 1 }), ErrCorrupt, "header size"},
		{"name INDEX offSize", patch(func(c []byte) { c[6] = 7 }), ErrCorrupt, "offSize"},
		{"name INDEX past the end", patch(func(c []byte) { c[4], c[5] = 0xFF, 0xFF }), ErrTruncated, "Name"},
		{"name INDEX first offset", patch(func(c []byte) { c[7] = 2 }), ErrCorrupt, "ascending"},
		{"glyph count", func() []byte {
			b := tooMany.build()
			for i := range int(u16(b, 4)) {
				if rec := b[12+16*i:]; string(rec[:4]) == "maxp" {
					off := u32(rec, 8)
					b[off+5]--
				}
			}
			return b
		}(), ErrCorrupt, "charstrings for"},
		{"reserved DICT byte", withTop(255), ErrCorrupt, "reserved"},
		{"DICT ends in operands", withTop(139), ErrCorrupt, "no operator"},
		{"DICT ends in a real", withTop(30, 0x12), ErrTruncated, "real"},
		{"Type 1 charstrings", withTop(140, 12, 6), ErrUnsupported, "charstring type"},
		{"real where an integer belongs", withTop(30, 0x1F, 12, 6), ErrCorrupt, "integers"},
		{"FDSelect to a missing Font DICT", patch(func(c []byte) {
			// the FDSelect is the only format 3 data: 3, 0, nRanges (3), first 0, fd
			i := bytes.Index(c, []byte{3, 0, 3, 0, 0, 0})
			if i < 0 {
				t.Fatal("no FDSelect found")
			}
			c[i+5] = 9
		}), ErrCorrupt, "Font DICT 9"},
		{"collection of none", []byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x00"), ErrCorrupt, "no fonts"},
		{"collection cut", collection(good)[:40], ErrTruncated, ""},
		{"collection past the end", []byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\xFF\xFF"), ErrTruncated, "past the end"},
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

// TestGoTextDrawsCFF checks the subset with Fyne's own parser beyond the cmap: go-text's
// outline of a kept glyph equals the original's.
func TestGoTextDrawsCFF(t *testing.T) {
	orig := defaultCFF().build()
	sub, err := Subset(orig, Runes("CZ"))
	if err != nil {
		t.Fatal(err)
	}
	of, err := gotext.ParseTTF(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	sf, err := gotext.ParseTTF(bytes.NewReader(sub))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range "CZ" {
		og, _ := of.NominalGlyph(r)
		sg, _ := sf.NominalGlyph(r)
		o, s := of.GlyphData(og), sf.GlyphData(sg)
		if og == 0 || sg == 0 || !reflect.DeepEqual(o, s) {
			t.Errorf("%c: go-text outline %v, want %v", r, s, o)
		}
	}
}
