package subfont

import (
	"encoding/binary"
	"slices"
	"unicode/utf16"
)

// cffGlyph is a glyph of a synthetic CFF font: a box drawn inline, by a local subroutine of
// its Font DICT (a 200×300 box) or by the global subroutine (100×100), or nothing.
type cffGlyph struct {
	box  [4]int16 // x0 y0 x1 y1 of an inline box; with a subroutine, only x0 y0 count
	call int      // 0: inline; 1: local subroutine 0; 2: global subroutine 0
	adv  uint16
	fd   int // Font DICT (CID-keyed fonts)
}

// synthCFF describes a small OpenType CFF font built by the tests, independently of the
// package's writer: CID-keyed with two Font DICTs of different nominal widths (Noto Sans CJK's
// kind) or name-keyed, with each charset and FDSelect format, so that every reading path is
// covered without the system's fonts.
type synthCFF struct {
	glyphs        []cffGlyph
	cmap          []mapping
	nameKeyed     bool
	charsetFormat int // 0, 1 or 2; name-keyed with -1: the predefined ISOAdobe charset
	fdSelect0     bool
	family        string // name id 1; "" leaves the name table out
	typoFamily    string // name id 16 when set
	topExtra      []byte // appended to the Top DICT, after CharStrings
	padSubrs      int    // unused local subroutines before the box one: 1,240 or more changes the bias
	hints         bool   // glyphs declare stems and a hintmask before drawing
	indirect      bool   // local calls take their index from global subroutine 1: no literal to rewrite
	extra         []table
	drop          string
}

func defaultCFF() synthCFF {
	return synthCFF{
		glyphs: []cffGlyph{
			{box: [4]int16{50, 0, 450, 700}, adv: 500},
			{box: [4]int16{100, -100, 600, 600}, adv: 700},
			{box: [4]int16{30, 40}, call: 1, adv: 1000, fd: 1},
			{box: [4]int16{10, 20}, call: 2, adv: 900, fd: 1},
			{box: [4]int16{0, 0, 10, 10}, adv: 900},
			{adv: 500},
			{box: [4]int16{20, 30, 880, 730}, call: 1, adv: 600},
		},
		cmap:          []mapping{{' ', 5}, {'A', 1}, {'B', 2}, {'C', 3}, {'Z', 6}, {0x20000, 1}},
		charsetFormat: 2,
		family:        "Synth CFF",
		extra:         []table{{"OS/2", make([]byte, 96)}, {"GSUB", []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0}}, {"VORG", []byte{0, 1, 0, 0, 3, 0x70, 0, 0}}},
	}
}

// Type 2 charstring and DICT number encodings.
func csNum(b []byte, v int) []byte {
	switch {
	case v >= -107 && v <= 107:
		return append(b, byte(v+139))
	case v >= 108 && v <= 1131:
		v -= 108
		return append(b, byte(v/256+247), byte(v%256))
	case v >= -1131 && v <= -108:
		v = -v - 108
		return append(b, byte(v/256+251), byte(v%256))
	}
	return append(b, 28, byte(v>>8), byte(v))
}

func dictInt5(b []byte, v int) []byte {
	return binary.BigEndian.AppendUint32(append(b, 29), uint32(int32(v)))
}

// nominal and default widths of the two Font DICTs.
var synthNominal, synthDefault = [2]int{0, 600}, [2]int{500, 1000}

func (g cffGlyph) charstring(fd int, s synthCFF) []byte {
	var b []byte
	if int(g.adv) != synthDefault[fd] {
		b = csNum(b, int(g.adv)-synthNominal[fd])
	}
	if s.hints && g.box != [4]int16{} {
		// 9 stems (two mask bytes): hstemhm with 3 pairs, then an implied vstemhm of 6 pairs
		b = append(csNum(csNum(csNum(csNum(csNum(csNum(b, 0), 10), 20), 10), 40), 10), 18)
		for range 6 {
			b = csNum(csNum(b, 50), 5)
		}
		b = append(b, 19, 0xFF, 0x80) // hintmask; mask bytes that read as numbers if miscounted
	}
	switch {
	case g.call == 0 && g.box == [4]int16{}:
	case g.call == 0:
		b = csNum(csNum(b, int(g.box[0])), int(g.box[1]))
		b = append(b, 21) // rmoveto
		b = append(csNum(b, int(g.box[2]-g.box[0])), 6)
		b = append(csNum(b, int(g.box[3]-g.box[1])), 7)
		b = append(csNum(b, int(g.box[0]-g.box[2])), 6)
	default:
		b = csNum(csNum(b, int(g.box[0])), int(g.box[1]))
		b = append(b, 21)
		if g.call == 1 && s.indirect {
			b = append(csNum(b, 1-107), 29) // global subroutine 1 pushes the local index
		} else if g.call == 1 { // local subroutine padSubrs
			b = csNum(b, s.padSubrs-bias(s.padSubrs+1))
		} else {
			b = csNum(b, -107) // global subroutine 0 with the bias of 107 for fewer than 1,240
		}
		if g.call == 1 {
			b = append(b, 10)
		} else {
			b = append(b, 29)
		}
	}
	return append(b, 14) // endchar
}

// boxSubr draws a w×h box from the current point and returns.
func boxSubr(w, h int) []byte {
	b := append(csNum(nil, w), 6)
	b = append(csNum(b, h), 7)
	b = append(csNum(b, -w), 6)
	return append(b, 11)
}

func (s synthCFF) cffTable() []byte {
	n := len(s.glyphs)
	fdOf := func(g int) int {
		if s.nameKeyed {
			return 0
		}
		return s.glyphs[g].fd
	}
	var cs [][]byte
	for i, g := range s.glyphs {
		cs = append(cs, g.charstring(fdOf(i), s))
	}
	// CIDs (or SIDs, name-keyed: standard strings) 1, 2, 3, then 10, 11, ...
	ids := []int{0}
	for g := 1; g < n; g++ {
		if g < 4 {
			ids = append(ids, g)
		} else {
			ids = append(ids, g+6)
		}
	}
	var charset []byte
	switch s.charsetFormat {
	case 0:
		charset = []byte{0}
		for _, id := range ids[1:] {
			charset = binary.BigEndian.AppendUint16(charset, uint16(id))
		}
	case 1, 2:
		charset = []byte{byte(s.charsetFormat)}
		for g := 1; g < n; {
			j := g + 1
			for j < n && ids[j] == ids[j-1]+1 {
				j++
			}
			charset = binary.BigEndian.AppendUint16(charset, uint16(ids[g]))
			if s.charsetFormat == 1 {
				charset = append(charset, byte(j-g-1))
			} else {
				charset = binary.BigEndian.AppendUint16(charset, uint16(j-g-1))
			}
			g = j
		}
	}
	var fdSelect []byte
	if !s.nameKeyed {
		if s.fdSelect0 {
			fdSelect = []byte{0}
			for g := range n {
				fdSelect = append(fdSelect, byte(fdOf(g)))
			}
		} else {
			var ranges [][2]int
			for g := range n {
				if len(ranges) == 0 || ranges[len(ranges)-1][1] != fdOf(g) {
					ranges = append(ranges, [2]int{g, fdOf(g)})
				}
			}
			fdSelect = binary.BigEndian.AppendUint16([]byte{3}, uint16(len(ranges)))
			for _, r := range ranges {
				fdSelect = append(binary.BigEndian.AppendUint16(fdSelect, uint16(r[0])), byte(r[1]))
			}
			fdSelect = binary.BigEndian.AppendUint16(fdSelect, uint16(n))
		}
	}
	numFDs := 2
	if s.nameKeyed {
		numFDs = 1
	}
	private := func(fd int) []byte {
		b := append(csNum(nil, synthDefault[fd]), 20) // defaultWidthX
		b = append(csNum(b, synthNominal[fd]), 21)    // nominalWidthX
		b = dictInt5(b, len(b)+6)                     // Subrs right after this DICT
		return append(b, 19)
	}
	subrs := func(fd int) []byte {
		var list [][]byte
		for range s.padSubrs {
			list = append(list, []byte{11})
		}
		return buildIndex(append(list, boxSubr(200+100*fd, 300)))
	}
	name := buildIndex([][]byte{[]byte("Synth")})
	strs := buildIndex([][]byte{[]byte("Adobe"), []byte("Identity")})
	gsubrs := buildIndex([][]byte{boxSubr(100, 100), append(csNum(nil, s.padSubrs-bias(s.padSubrs+1)), 11)})
	top := func(at [5]int) []byte { // charset, FDSelect, CharStrings, FDArray or Private size, offset
		var b []byte
		if !s.nameKeyed {
			b = append(csNum(csNum(csNum(b, 391), 392), 0), 12, 30) // ROS Adobe-Identity-0
			b = append(csNum(b, n+6), 12, 34)                       // CIDCount
			b = append(dictInt5(b, at[1]), 12, 37)
			b = append(dictInt5(b, at[3]), 12, 36)
		} else {
			b = append(dictInt5(dictInt5(b, at[3]), at[4]), 18)
		}
		b = append(csNum(b, -100), 12, 3) // UnderlinePosition: a plain entry, copied
		b = append(csNum(b, 7), 13)       // UniqueID, which a subset must drop
		if s.charsetFormat >= 0 {
			b = append(dictInt5(b, at[0]), 15)
		}
		return append(append(dictInt5(b, at[2]), 17), s.topExtra...)
	}
	fontDict := func(fd, size, off int) []byte {
		return append(dictInt5(dictInt5(nil, size), off), 18)
	}
	var at [5]int
	topLen := len(buildIndex([][]byte{top(at)}))
	at[0] = 4 + len(name) + topLen + len(strs) + len(gsubrs)
	at[1] = at[0] + len(charset)
	at[2] = at[1] + len(fdSelect)
	csIdx := buildIndex(cs)
	fdArrAt := at[2] + len(csIdx)
	var fdArr []byte
	privAt := fdArrAt
	if !s.nameKeyed {
		fdArrLen := len(buildIndex(make([][]byte, numFDs)))
		for range numFDs {
			fdArrLen += len(fontDict(0, 0, 0))
		}
		privAt += fdArrLen
		var dicts [][]byte
		off := privAt
		for fd := range numFDs {
			dicts = append(dicts, fontDict(fd, len(private(fd)), off))
			off += len(private(fd)) + len(subrs(fd))
		}
		fdArr = buildIndex(dicts)
		at[3] = fdArrAt
	} else {
		at[3], at[4] = len(private(0)), privAt
	}
	out := append([]byte{1, 0, 4, 4}, name...)
	out = append(out, buildIndex([][]byte{top(at)})...)
	out = append(out, strs...)
	out = append(out, gsubrs...)
	out = append(out, charset...)
	out = append(out, fdSelect...)
	out = append(out, csIdx...)
	out = append(out, fdArr...)
	for fd := range numFDs {
		out = append(out, private(fd)...)
		out = append(out, subrs(fd)...)
	}
	return out
}

// nameTable returns a name table with the family (id 1) and typographic family (id 16) in
// Windows Unicode English and, for id 1, in Mac Roman too.
func nameTable(family, typo string) []byte {
	type rec struct {
		pid, eid, lang, id uint16
		data               []byte
	}
	u := func(s string) []byte {
		var b []byte
		for _, c := range utf16.Encode([]rune(s)) {
			b = binary.BigEndian.AppendUint16(b, c)
		}
		return b
	}
	recs := []rec{{1, 0, 0, 1, []byte(family)}, {3, 1, 0x409, 1, u(family)}}
	if typo != "" {
		recs = append(recs, rec{3, 1, 0x409, 16, u(typo)})
	}
	out := binary.BigEndian.AppendUint16(nil, 0)
	out = binary.BigEndian.AppendUint16(out, uint16(len(recs)))
	out = binary.BigEndian.AppendUint16(out, uint16(6+12*len(recs)))
	var strs []byte
	for _, r := range recs {
		for _, v := range []uint16{r.pid, r.eid, r.lang, r.id, uint16(len(r.data)), uint16(len(strs))} {
			out = binary.BigEndian.AppendUint16(out, v)
		}
		strs = append(strs, r.data...)
	}
	return append(out, strs...)
}

func (s synthCFF) build() []byte {
	n := len(s.glyphs)
	var hmtx []byte
	for _, g := range s.glyphs {
		hmtx = binary.BigEndian.AppendUint16(hmtx, g.adv)
		hmtx = binary.BigEndian.AppendUint16(hmtx, uint16(g.box[0]))
	}
	head := make([]byte, 54)
	binary.BigEndian.PutUint32(head, 0x00010000)
	binary.BigEndian.PutUint32(head[12:], 0x5F0F3CF5)
	binary.BigEndian.PutUint16(head[18:], 1000)
	hhea := make([]byte, 36)
	binary.BigEndian.PutUint32(hhea, 0x00010000)
	binary.BigEndian.PutUint16(hhea[4:], 880)
	binary.BigEndian.PutUint16(hhea[6:], uint16(0xFFFF-120+1))
	binary.BigEndian.PutUint16(hhea[34:], uint16(n))
	maxp := binary.BigEndian.AppendUint16([]byte{0, 0, 0x50, 0}, uint16(n))
	post := make([]byte, 32)
	binary.BigEndian.PutUint32(post, 0x00030000)
	tables := []table{{"head", head}, {"hhea", hhea}, {"maxp", maxp}, {"hmtx", hmtx},
		{"cmap", buildCmap(slices.Clone(s.cmap))}, {"CFF ", s.cffTable()}, {"post", post}}
	if s.family != "" {
		tables = append(tables, table{"name", nameTable(s.family, s.typoFamily)})
	}
	tables = append(tables, s.extra...)
	tables = slices.DeleteFunc(tables, func(t table) bool { return t.tag == s.drop })
	return assemble(sigCFF, tables)
}

// collection returns a font collection (.ttc) of fonts, each face's tables copied after the
// header and the directories.
func collection(fonts ...[]byte) []byte {
	out := []byte(sigTTC)
	out = binary.BigEndian.AppendUint32(out, 0x00010000)
	out = binary.BigEndian.AppendUint32(out, uint32(len(fonts)))
	dirAt := 12 + 4*len(fonts)
	for _, f := range fonts {
		out = binary.BigEndian.AppendUint32(out, uint32(dirAt))
		dirAt += 12 + 16*int(u16(f, 4))
	}
	dataAt := dirAt
	var data []byte
	for _, f := range fonts {
		n := int(u16(f, 4))
		dir := slices.Clone(f[:12+16*n])
		for i := range n {
			rec := dir[12+16*i:]
			off, length := u32(rec, 8), u32(rec, 12)
			binary.BigEndian.PutUint32(rec[8:], uint32(dataAt+len(data)))
			data = append(data, f[off:off+length]...)
			for len(data)%4 != 0 {
				data = append(data, 0)
			}
		}
		out = append(out, dir...)
	}
	return append(out, data...)
}
