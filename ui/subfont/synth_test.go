package subfont

import (
	"encoding/binary"
	"slices"
)

// synthGlyph is a glyph of a synthetic test font: a square outline, or a composite.
type synthGlyph struct {
	square [4]int16 // xMin yMin xMax yMax of a one-contour square; zero for empty
	parts  []synthPart
	adv    uint16
	lsb    int16
}

type synthPart struct {
	gid    uint16
	dx, dy int16
	scale  bool // a 2.14 scale of 0.5, to exercise the optional fields
}

// synthFont describes a small TrueType font built by the tests, so that composite glyphs,
// short hmtx, long loca and supplementary runes are covered without depending on which
// system fonts are installed.
type synthFont struct {
	glyphs   []synthGlyph
	cmap     []mapping // sorted by rune
	nhm      int       // numberOfHMetrics; 0: len(glyphs)
	longLoca bool
	extra    []table // more tables (OS/2, name, fpgm, ...)
	drop     string  // a required table to leave out
}

// defaultSynth: .notdef, a square (A, U+20000), a composite of it (B), a composite of that
// composite plus the square with a scale (C), an unmapped glyph, a space (U+0020) and a glyph
// for Z; advances differ up to glyph 3 so the lsb-only part of hmtx is used.
func defaultSynth() synthFont {
	return synthFont{
		glyphs: []synthGlyph{
			{square: [4]int16{50, 0, 450, 700}, adv: 500, lsb: 50},
			{square: [4]int16{100, -100, 600, 600}, adv: 700, lsb: 100},
			{parts: []synthPart{{gid: 1, dx: 30, dy: 40}}, adv: 800, lsb: 130},
			{parts: []synthPart{{gid: 2, dx: -10, dy: 5}, {gid: 1, dx: 300, dy: 0, scale: true}}, adv: 900, lsb: 120},
			{square: [4]int16{0, 0, 10, 10}, adv: 900, lsb: 0},
			{adv: 900},
			{square: [4]int16{20, 30, 880, 730}, adv: 900, lsb: 20},
		},
		cmap: []mapping{{' ', 5}, {'A', 1}, {'B', 2}, {'C', 3}, {'Z', 6}, {0x20000, 1}},
		nhm:  4,
		extra: []table{
			{"OS/2", make([]byte, 96)},
			{"name", []byte{0, 0, 0, 0, 0, 6}},
			{"fpgm", []byte{0xB0, 0x00}},
			{"GSUB", []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0}},
		},
	}
}

func (s synthFont) build() []byte {
	var glyf []byte
	offsets := []uint32{0}
	for _, g := range s.glyphs {
		glyf = append(glyf, g.encode()...)
		offsets = append(offsets, uint32(len(glyf)))
	}
	var loca []byte
	for _, o := range offsets {
		if s.longLoca {
			loca = binary.BigEndian.AppendUint32(loca, o)
		} else {
			loca = binary.BigEndian.AppendUint16(loca, uint16(o/2))
		}
	}
	nhm := s.nhm
	if nhm == 0 {
		nhm = len(s.glyphs)
	}
	var hmtx []byte
	for i, g := range s.glyphs {
		if i < nhm {
			hmtx = binary.BigEndian.AppendUint16(hmtx, g.adv)
		}
		hmtx = binary.BigEndian.AppendUint16(hmtx, uint16(g.lsb))
	}
	head := make([]byte, 54)
	binary.BigEndian.PutUint32(head, 0x00010000)
	binary.BigEndian.PutUint32(head[12:], 0x5F0F3CF5)
	binary.BigEndian.PutUint16(head[18:], 1000) // unitsPerEm
	if s.longLoca {
		binary.BigEndian.PutUint16(head[50:], 1)
	}
	hhea := make([]byte, 36)
	binary.BigEndian.PutUint32(hhea, 0x00010000)
	binary.BigEndian.PutUint16(hhea[4:], 880)
	binary.BigEndian.PutUint16(hhea[6:], uint16(0xFFFF-120+1))
	binary.BigEndian.PutUint16(hhea[34:], uint16(nhm))
	maxp := make([]byte, 32)
	binary.BigEndian.PutUint32(maxp, 0x00010000)
	binary.BigEndian.PutUint16(maxp[4:], uint16(len(s.glyphs)))
	binary.BigEndian.PutUint16(maxp[6:], 8)  // maxPoints
	binary.BigEndian.PutUint16(maxp[8:], 2)  // maxContours
	binary.BigEndian.PutUint16(maxp[10:], 8) // maxCompositePoints
	binary.BigEndian.PutUint16(maxp[12:], 2)
	binary.BigEndian.PutUint16(maxp[14:], 1)
	binary.BigEndian.PutUint16(maxp[28:], 2) // maxComponentElements
	binary.BigEndian.PutUint16(maxp[30:], 2) // maxComponentDepth
	post := make([]byte, 32)
	binary.BigEndian.PutUint32(post, 0x00030000)

	tables := []table{{"head", head}, {"hhea", hhea}, {"maxp", maxp}, {"hmtx", hmtx},
		{"cmap", buildCmap(slices.Clone(s.cmap))}, {"loca", loca}, {"glyf", glyf}, {"post", post}}
	tables = append(tables, s.extra...)
	tables = slices.DeleteFunc(tables, func(t table) bool { return t.tag == s.drop })
	return assemble(sigTrueType, tables)
}

func (g synthGlyph) encode() []byte {
	var b []byte
	put := func(v int16) { b = binary.BigEndian.AppendUint16(b, uint16(v)) }
	switch {
	case len(g.parts) > 0:
		put(-1)
		put(0)
		put(0)
		put(1000)
		put(1000) // bbox: tests compare outlines, not this
		for i, p := range g.parts {
			flags := int16(argsAreWords | 0x0002) // ARGS_ARE_XY_VALUES
			if p.scale {
				flags |= haveScale
			}
			if i < len(g.parts)-1 {
				flags |= moreComponents
			}
			put(flags)
			put(int16(p.gid))
			put(p.dx)
			put(p.dy)
			if p.scale {
				put(0x2000) // 0.5 in F2Dot14
			}
		}
	case g.square != [4]int16{}:
		x0, y0, x1, y1 := g.square[0], g.square[1], g.square[2], g.square[3]
		put(1)
		put(x0)
		put(y0)
		put(x1)
		put(y1)
		put(3) // endPtsOfContours
		put(0) // instructionLength
		b = append(b, 1, 1, 1, 1)
		put(x0) // x deltas: (x0,y0) (x1,y0) (x1,y1) (x0,y1)
		put(x1 - x0)
		put(0)
		put(x0 - x1)
		put(y0)
		put(0)
		put(y1 - y0)
		put(0)
	}
	for len(b)%2 != 0 {
		b = append(b, 0)
	}
	return b
}
