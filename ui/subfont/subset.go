package subfont

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
)

// Subset returns a TrueType font holding .notdef and the glyphs of every rune that ttf maps
// and keep accepts, with the components of composite glyphs they use. Glyph ids are
// renumbered compactly in rune order, so the new cmap is made of few long ranges.
//
// keep is called at most once per rune the font maps (never for a rune it does not map);
// U+FFFF and surrogates are never passed. A nil keep keeps every mapped rune. If keep accepts
// no rune the result is a valid font with .notdef only.
//
// The result copies head, hhea, maxp, OS/2 and name from ttf with the glyph count, bounding
// box, metrics extremes, loca format, first/last character index and checksums updated; post
// becomes version 3.0 (no glyph names); fpgm, prep, cvt and gasp are copied when present, so
// hinting still works; every other table (GSUB, GPOS, kern, vmtx, ...) is dropped. ttf is
// not modified and the result shares no memory with it.
//
// Errors are [*Error]: [ErrNotTrueType] for a .ttc collection, a CFF .otf or a WOFF file,
// [ErrMissingTable], [ErrTruncated], [ErrCorrupt], [ErrUnsupported] (no Unicode cmap of
// format 4 or 12).
func Subset(ttf []byte, keep func(r rune) bool) ([]byte, error) {
	f, err := parse(ttf)
	if err != nil {
		return nil, err
	}
	if keep == nil {
		keep = func(rune) bool { return true }
	}
	var m []mapping
	err = f.mappings(func(r rune, gid uint16) {
		if keep(r) {
			m = append(m, mapping{r, gid})
		}
	})
	if err != nil {
		return nil, err
	}
	order, err := f.closure(m)
	if err != nil {
		return nil, err
	}
	return f.write(m, order)
}

// mapping is one cmap entry: a rune and its glyph id, old or new depending on the stage.
type mapping struct {
	r   rune
	gid uint16
}

// font is a parsed TrueType font; every slice aliases the input.
type font struct {
	tables    map[string][]byte
	numGlyphs int
	loca      []uint32 // numGlyphs+1 offsets into glyf, checked ascending and in range
	glyf      []byte
	nhm       int // hhea.numberOfHMetrics, 1..numGlyphs
	hmtx      []byte
	renumber  []int32 // old glyph id → new, -1 when dropped; set by closure
}

func u16(b []byte, off int) uint16 { return binary.BigEndian.Uint16(b[off:]) }
func u32(b []byte, off int) uint32 { return binary.BigEndian.Uint32(b[off:]) }

// required lists the tables a TrueType font cannot do without, with their minimum lengths.
var required = []struct {
	tag string
	min int
}{{"head", 54}, {"hhea", 36}, {"maxp", 6}, {"hmtx", 0}, {"cmap", 4}, {"loca", 0}, {"glyf", 0}}

func parse(b []byte) (*font, error) {
	if len(b) < 12 {
		return nil, errorf(CodeNotTrueType, "", "%d bytes is too short for a font", len(b))
	}
	switch v := string(b[:4]); v {
	case "\x00\x01\x00\x00", "true":
	case "ttcf":
		return nil, errorf(CodeNotTrueType, "", "a font collection (.ttc); extract one font or configure a single .ttf")
	case "OTTO":
		return nil, errorf(CodeNotTrueType, "", "an OpenType font with CFF outlines (.otf); only TrueType (glyf) outlines can be subset")
	case "wOFF", "wOF2":
		return nil, errorf(CodeNotTrueType, "", "a WOFF web font; decompress it to .ttf first")
	default:
		return nil, errorf(CodeNotTrueType, "", "unknown signature %q", v)
	}
	n := int(u16(b, 4))
	if 12+16*n > len(b) {
		return nil, errorf(CodeTruncated, "", "table directory of %d entries needs %d bytes, file has %d", n, 12+16*n, len(b))
	}
	f := &font{tables: make(map[string][]byte, n)}
	for i := range n {
		rec := b[12+16*i:]
		tag := string(rec[:4])
		off, length := uint64(u32(rec, 8)), uint64(u32(rec, 12))
		if off+length > uint64(len(b)) {
			return nil, errorf(CodeTruncated, fmt.Sprintf("%q", tag), "table at %d+%d runs past the end of the %d-byte file", off, length, len(b))
		}
		if _, dup := f.tables[tag]; !dup {
			f.tables[tag] = b[off : off+length : off+length]
		}
	}
	if _, ok := f.tables["glyf"]; !ok {
		if _, cff := f.tables["CFF "]; cff {
			return nil, errorf(CodeNotTrueType, "", "an OpenType font with CFF outlines; only TrueType (glyf) outlines can be subset")
		}
		if _, cff := f.tables["CFF2"]; cff {
			return nil, errorf(CodeNotTrueType, "", "an OpenType font with CFF2 outlines; only TrueType (glyf) outlines can be subset")
		}
	}
	for _, r := range required {
		t, ok := f.tables[r.tag]
		if !ok {
			return nil, errorf(CodeMissingTable, r.tag, "the font has no %s table", r.tag)
		}
		if len(t) < r.min {
			return nil, errorf(CodeTruncated, r.tag, "%d bytes, at least %d needed", len(t), r.min)
		}
	}
	f.numGlyphs = int(u16(f.tables["maxp"], 4))
	if f.numGlyphs == 0 {
		return nil, errorf(CodeCorrupt, "maxp", "the font has no glyphs, not even .notdef")
	}
	f.glyf = f.tables["glyf"]
	if err := f.parseLoca(); err != nil {
		return nil, err
	}
	f.nhm = int(u16(f.tables["hhea"], 34))
	if f.nhm == 0 || f.nhm > f.numGlyphs {
		return nil, errorf(CodeCorrupt, "hhea", "numberOfHMetrics %d for %d glyphs", f.nhm, f.numGlyphs)
	}
	f.hmtx = f.tables["hmtx"]
	if len(f.hmtx) < 4*f.nhm {
		return nil, errorf(CodeTruncated, "hmtx", "%d bytes for %d metrics", len(f.hmtx), f.nhm)
	}
	return f, nil
}

func (f *font) parseLoca() error {
	loca := f.tables["loca"]
	var long bool
	switch format := int16(u16(f.tables["head"], 50)); format {
	case 0:
	case 1:
		long = true
	default:
		return errorf(CodeCorrupt, "head", "indexToLocFormat %d", format)
	}
	size := 2
	if long {
		size = 4
	}
	if len(loca) < size*(f.numGlyphs+1) {
		return errorf(CodeTruncated, "loca", "%d bytes for %d glyphs", len(loca), f.numGlyphs)
	}
	f.loca = make([]uint32, f.numGlyphs+1)
	for i := range f.loca {
		if long {
			f.loca[i] = u32(loca, 4*i)
		} else {
			f.loca[i] = 2 * uint32(u16(loca, 2*i))
		}
		if i > 0 && f.loca[i] < f.loca[i-1] {
			return errorf(CodeCorrupt, "loca", "offset of glyph %d goes backwards", i)
		}
	}
	if end := f.loca[f.numGlyphs]; uint64(end) > uint64(len(f.glyf)) {
		return errorf(CodeTruncated, "glyf", "loca says the glyphs end at %d, the table has %d bytes", end, len(f.glyf))
	}
	return nil
}

// glyph returns the outline data of glyph g (empty for a glyph without contours, like space).
func (f *font) glyph(g int) ([]byte, error) {
	d := f.glyf[f.loca[g]:f.loca[g+1]]
	if len(d) > 0 && len(d) < 10 {
		return nil, errorf(CodeTruncated, "glyf", "glyph %d has %d bytes, its header needs 10", g, len(d))
	}
	return d, nil
}

// Composite glyph component flags (OpenType glyf table).
const (
	argsAreWords   = 0x0001
	haveScale      = 0x0008
	moreComponents = 0x0020
	haveXYScale    = 0x0040
	have2x2        = 0x0080
)

// components calls fn with the offset of the glyph index of each component of composite
// glyph d, and the index. It does nothing for a simple or empty glyph.
func components(d []byte, g int, fn func(off int, gid uint16) error) error {
	if len(d) == 0 || int16(u16(d, 0)) >= 0 {
		return nil
	}
	off := 10
	for {
		if off+4 > len(d) {
			return errorf(CodeTruncated, "glyf", "composite glyph %d ends inside a component", g)
		}
		flags := u16(d, off)
		if err := fn(off+2, u16(d, off+2)); err != nil {
			return err
		}
		off += 4
		if flags&argsAreWords != 0 {
			off += 4
		} else {
			off += 2
		}
		switch {
		case flags&haveScale != 0:
			off += 2
		case flags&haveXYScale != 0:
			off += 4
		case flags&have2x2 != 0:
			off += 8
		}
		if off > len(d) {
			return errorf(CodeTruncated, "glyf", "composite glyph %d ends inside a component", g)
		}
		if flags&moreComponents == 0 {
			return nil
		}
	}
}

// closure returns the old glyph ids to keep, in their new order: .notdef, the glyphs of m in
// rune order (first use wins), then the components of composites breadth first. It rewrites
// m's glyph ids to the new numbering.
func (f *font) closure(m []mapping) ([]int, error) {
	newID := make([]int32, f.numGlyphs)
	for i := range newID {
		newID[i] = -1
	}
	order := []int{0}
	newID[0] = 0
	for i, e := range m {
		if newID[e.gid] < 0 {
			newID[e.gid] = int32(len(order))
			order = append(order, int(e.gid))
		}
		m[i].gid = uint16(newID[e.gid])
	}
	for i := 0; i < len(order); i++ {
		g := order[i]
		d, err := f.glyph(g)
		if err != nil {
			return nil, err
		}
		err = components(d, g, func(_ int, c uint16) error {
			if int(c) >= f.numGlyphs {
				return errorf(CodeCorrupt, "glyf", "composite glyph %d uses glyph %d of %d", g, c, f.numGlyphs)
			}
			if newID[c] < 0 {
				newID[c] = int32(len(order))
				order = append(order, int(c))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	f.renumber = newID
	return order, nil
}

// metric returns the advance width and left side bearing of old glyph g. A left side bearing
// missing from a short hmtx is taken as the glyph's xMin, which is what it must equal.
func (f *font) metric(g int, d []byte) (adv uint16, lsb int16) {
	if g < f.nhm {
		return u16(f.hmtx, 4*g), int16(u16(f.hmtx, 4*g+2))
	}
	adv = u16(f.hmtx, 4*(f.nhm-1))
	if off := 4*f.nhm + 2*(g-f.nhm); off+2 <= len(f.hmtx) {
		return adv, int16(u16(f.hmtx, off))
	}
	if len(d) >= 10 {
		lsb = int16(u16(d, 2))
	}
	return adv, lsb
}

// table is one table of the font being written.
type table struct {
	tag  string
	data []byte
}

func (f *font) write(m []mapping, order []int) ([]byte, error) {
	n := len(order)
	// glyf and loca, with the glyph bounding boxes and metrics extremes for head and hhea.
	var size int
	for _, g := range order {
		size += int(f.loca[g+1]-f.loca[g]+3) &^ 3
	}
	glyf := make([]byte, 0, size)
	offsets := make([]uint32, n+1)
	hmtx := make([]byte, 0, 4*n)
	var (
		box                    [4]int16 // xMin yMin xMax yMax over glyphs with outlines
		anyBox                 bool
		maxAdv                 uint16
		minLSB, minRSB, maxExt int
	)
	for i, g := range order {
		d, err := f.glyph(g)
		if err != nil {
			return nil, err
		}
		start := len(glyf)
		glyf = append(glyf, d...)
		err = components(d, g, func(off int, c uint16) error {
			binary.BigEndian.PutUint16(glyf[start+off:], uint16(f.renumber[c]))
			return nil
		})
		if err != nil {
			return nil, err
		}
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
		offsets[i+1] = uint32(len(glyf))

		adv, lsb := f.metric(g, d)
		hmtx = binary.BigEndian.AppendUint16(hmtx, adv)
		hmtx = binary.BigEndian.AppendUint16(hmtx, uint16(lsb))
		maxAdv = max(maxAdv, adv)
		if len(d) == 0 {
			continue
		}
		gb := [4]int16{int16(u16(d, 2)), int16(u16(d, 4)), int16(u16(d, 6)), int16(u16(d, 8))}
		rsb := int(adv) - (int(lsb) + int(gb[2]) - int(gb[0]))
		ext := int(lsb) + int(gb[2]) - int(gb[0])
		if !anyBox {
			box, anyBox = gb, true
			minLSB, minRSB, maxExt = int(lsb), rsb, ext
			continue
		}
		box[0], box[1] = min(box[0], gb[0]), min(box[1], gb[1])
		box[2], box[3] = max(box[2], gb[2]), max(box[3], gb[3])
		minLSB, minRSB, maxExt = min(minLSB, int(lsb)), min(minRSB, rsb), max(maxExt, ext)
	}
	longLoca := offsets[n]/2 > 0xFFFF
	var loca []byte
	for _, o := range offsets {
		if longLoca {
			loca = binary.BigEndian.AppendUint32(loca, o)
		} else {
			loca = binary.BigEndian.AppendUint16(loca, uint16(o/2))
		}
	}
	// Glyphs past the last change of advance share it, so their long metrics shrink to a
	// left side bearing each: for a CJK font that is nearly every glyph.
	nhm := n
	for nhm > 1 && u16(hmtx, 4*(nhm-1)) == u16(hmtx, 4*(nhm-2)) {
		nhm--
	}
	packed := slices.Clone(hmtx[:4*nhm])
	for i := nhm; i < n; i++ {
		packed = append(packed, hmtx[4*i+2:4*i+4]...)
	}

	head := slices.Clone(f.tables["head"][:54])
	binary.BigEndian.PutUint32(head[8:], 0) // checkSumAdjustment, set last
	for i, v := range box {
		binary.BigEndian.PutUint16(head[36+2*i:], uint16(v))
	}
	binary.BigEndian.PutUint16(head[50:], 0)
	if longLoca {
		binary.BigEndian.PutUint16(head[50:], 1)
	}

	hhea := slices.Clone(f.tables["hhea"][:36])
	binary.BigEndian.PutUint16(hhea[10:], maxAdv)
	binary.BigEndian.PutUint16(hhea[12:], uint16(int16(clamp16(minLSB))))
	binary.BigEndian.PutUint16(hhea[14:], uint16(int16(clamp16(minRSB))))
	binary.BigEndian.PutUint16(hhea[16:], uint16(int16(clamp16(maxExt))))
	binary.BigEndian.PutUint16(hhea[34:], uint16(nhm))

	maxp := slices.Clone(f.tables["maxp"])
	binary.BigEndian.PutUint16(maxp[4:], uint16(n))

	tables := []table{{"head", head}, {"hhea", hhea}, {"maxp", maxp}}
	if os2, ok := f.tables["OS/2"]; ok {
		os2 = slices.Clone(os2)
		if len(os2) >= 68 {
			var first, last uint16
			if len(m) > 0 {
				first, last = uint16(min(m[0].r, 0xFFFF)), uint16(min(m[len(m)-1].r, 0xFFFF))
			}
			binary.BigEndian.PutUint16(os2[64:], first)
			binary.BigEndian.PutUint16(os2[66:], last)
		}
		tables = append(tables, table{"OS/2", os2})
	}
	tables = append(tables, table{"hmtx", packed}, table{"cmap", buildCmap(m)})
	for _, tag := range []string{"fpgm", "prep", "cvt "} {
		if t, ok := f.tables[tag]; ok {
			tables = append(tables, table{tag, slices.Clone(t)})
		}
	}
	tables = append(tables, table{"loca", loca}, table{"glyf", glyf})
	if name, ok := f.tables["name"]; ok {
		tables = append(tables, table{"name", slices.Clone(name)})
	}
	post := make([]byte, 32)
	if p := f.tables["post"]; len(p) >= 32 {
		copy(post, p)
		clear(post[16:]) // memory-use hints of a Type 42 printer; meaningless for the subset
	}
	binary.BigEndian.PutUint32(post, 0x00030000)
	tables = append(tables, table{"post", post})
	if gasp, ok := f.tables["gasp"]; ok {
		tables = append(tables, table{"gasp", slices.Clone(gasp)})
	}
	return assemble(tables), nil
}

func clamp16(v int) int { return max(-0x8000, min(0x7FFF, v)) }

// assemble writes the table directory and the tables, 4-byte aligned, and sets
// head.checkSumAdjustment so that the whole file sums to 0xB1B0AFBA.
func assemble(tables []table) []byte {
	n := len(tables)
	size := 12 + 16*n
	for _, t := range tables {
		size += (len(t.data) + 3) &^ 3
	}
	out := make([]byte, 12+16*n, size)
	binary.BigEndian.PutUint32(out, 0x00010000)
	pow := 1 << (bits.Len(uint(n)) - 1)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	binary.BigEndian.PutUint16(out[6:], uint16(16*pow))
	binary.BigEndian.PutUint16(out[8:], uint16(bits.Len(uint(pow))-1))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-16*pow))

	byTag := slices.Clone(tables)
	slices.SortFunc(byTag, func(a, b table) int {
		if a.tag < b.tag {
			return -1
		}
		if a.tag > b.tag {
			return 1
		}
		return 0
	})
	offset := map[string]int{}
	headAt := -1
	for _, t := range tables {
		offset[t.tag] = len(out)
		if t.tag == "head" {
			headAt = len(out)
		}
		out = append(out, t.data...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	for i, t := range byTag {
		rec := out[12+16*i:]
		copy(rec, t.tag)
		off := offset[t.tag]
		binary.BigEndian.PutUint32(rec[4:], checksum(out[off:off+(len(t.data)+3)&^3]))
		binary.BigEndian.PutUint32(rec[8:], uint32(off))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(t.data)))
	}
	if headAt >= 0 {
		binary.BigEndian.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	}
	return out
}

// checksum is the OpenType table checksum: the sum of big-endian uint32s, len(b)%4 == 0.
func checksum(b []byte) uint32 {
	var s uint32
	for i := 0; i+4 <= len(b); i += 4 {
		s += u32(b, i)
	}
	return s
}
