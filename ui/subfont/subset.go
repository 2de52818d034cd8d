package subfont

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
)

// Subset returns a font holding .notdef and the glyphs of every rune that font maps and keep
// accepts. It is SubsetFace with no family: the first face of a collection.
func Subset(font []byte, keep func(r rune) bool) ([]byte, error) {
	return SubsetFace(font, "", keep)
}

// SubsetFace returns a font holding .notdef and the glyphs of every rune that font maps and
// keep accepts, with the components of composite glyphs they use. Glyph ids are renumbered
// compactly in rune order, so the new cmap is made of few long ranges.
//
// font is a TrueType font (glyf outlines), an OpenType font with CFF outlines ("OTTO", CID-keyed
// like Noto Sans CJK or name-keyed), or a collection (.ttc) of either. family chooses the face
// of a collection by its family name (name id 16 or 1, any language, case and surrounding
// space ignored: "Noto Sans CJK SC"); "" takes the first face. family is ignored for a single
// font, so that one configuration serves a collection and a plain .ttf.
//
// keep is called at most once per rune the font maps (never for a rune it does not map);
// U+FFFF and surrogates are never passed. A nil keep keeps every mapped rune. If keep accepts
// no rune the result is a valid font with .notdef only.
//
// The result copies head, hhea, maxp, OS/2 and name from the font with the glyph count, bounding
// box (TrueType only), metrics extremes, loca format, first/last character index and checksums
// updated; post becomes version 3.0 (no glyph names); for TrueType fpgm, prep, cvt and gasp
// are copied when present, so hinting still works; a CFF table is rebuilt with the kept
// glyphs' charstrings, their charset and FDSelect entries, the subroutines they call
// (renumbered, the calls rewritten) and the Font and Private DICTs; every other table (GSUB,
// GPOS, kern, vmtx, VORG, ...) is dropped, so Latin loses its kerning and ligatures. font is
// not modified and the result shares no memory with it.
//
// Errors are [*Error]: [ErrNotTrueType] for a WOFF file or no font at all, [ErrNoFace] for a
// collection without the family, [ErrMissingTable], [ErrTruncated], [ErrCorrupt],
// [ErrUnsupported] (no Unicode cmap of format 4 or 12, CFF2 outlines, a CFF feature the
// package does not handle).
func SubsetFace(font []byte, family string, keep func(r rune) bool) ([]byte, error) {
	f, err := parse(font, family)
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
	if f.cff != nil {
		return f.writeCFF(m, order)
	}
	return f.write(m, order)
}

// mapping is one cmap entry: a rune and its glyph id, old or new depending on the stage.
type mapping struct {
	r   rune
	gid uint16
}

// font is a parsed TrueType or CFF font; every slice aliases the input.
type font struct {
	tables    map[string][]byte
	numGlyphs int
	loca      []uint32 // TrueType: numGlyphs+1 offsets into glyf, checked ascending and in range
	glyf      []byte
	cff       *cffFont // CFF outlines; nil for TrueType
	nhm       int      // hhea.numberOfHMetrics, 1..numGlyphs
	hmtx      []byte
	renumber  []int32 // old glyph id → new, -1 when dropped; set by closure
}

func u16(b []byte, off int) uint16 { return binary.BigEndian.Uint16(b[off:]) }
func u32(b []byte, off int) uint32 { return binary.BigEndian.Uint32(b[off:]) }

// required lists the tables every font this package reads needs, with their minimum lengths;
// TrueType adds loca and glyf, CFF the CFF table.
var required = []struct {
	tag string
	min int
}{{"head", 54}, {"hhea", 36}, {"maxp", 6}, {"hmtx", 0}, {"cmap", 4}}

// Signatures of a single font (sfnt version) and of a collection.
const (
	sigTrueType = "\x00\x01\x00\x00"
	sigApple    = "true"
	sigCFF      = "OTTO"
	sigTTC      = "ttcf"
)

// parse reads the font, or the face of the collection named family ("": the first).
func parse(b []byte, family string) (*font, error) {
	if len(b) < 12 {
		return nil, errorf(CodeNotTrueType, "", "%d bytes is too short for a font", len(b))
	}
	dir := 0
	switch v := string(b[:4]); v {
	case sigTrueType, sigApple, sigCFF:
	case sigTTC:
		var err error
		if dir, err = faceDir(b, family); err != nil {
			return nil, err
		}
	case "wOFF", "wOF2":
		return nil, errorf(CodeNotTrueType, "", "a WOFF web font; decompress it to .ttf or .otf first")
	default:
		return nil, errorf(CodeNotTrueType, "", "unknown signature %q", v)
	}
	tables, sig, err := directory(b, dir)
	if err != nil {
		return nil, err
	}
	f := &font{tables: tables}
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
	if sig == sigCFF {
		if _, ok := f.tables["CFF "]; !ok {
			if _, ok := f.tables["CFF2"]; ok {
				return nil, errorf(CodeUnsupported, "CFF2", "CFF2 (variable font) outlines cannot be subset")
			}
			return nil, errorf(CodeMissingTable, "CFF ", "an OpenType CFF font (OTTO) without a CFF table")
		}
		if f.cff, err = parseCFF(f.tables["CFF "], f.numGlyphs); err != nil {
			return nil, err
		}
	} else {
		for _, tag := range []string{"loca", "glyf"} {
			if _, ok := f.tables[tag]; !ok {
				return nil, errorf(CodeMissingTable, tag, "a TrueType font without a %s table", tag)
			}
		}
		f.glyf = f.tables["glyf"]
		if err := f.parseLoca(); err != nil {
			return nil, err
		}
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

// directory reads the table directory at b[at:] (a font's start, or a face's in a collection:
// table offsets count from the file's start either way) and returns the tables by tag, first
// one winning, and the sfnt version.
func directory(b []byte, at int) (map[string][]byte, string, error) {
	if at+12 > len(b) {
		return nil, "", errorf(CodeTruncated, "", "table directory at %d past the end of the %d-byte file", at, len(b))
	}
	sig := string(b[at : at+4])
	switch sig {
	case sigTrueType, sigApple, sigCFF:
	default:
		return nil, "", errorf(CodeNotTrueType, "", "unknown face signature %q at %d", sig, at)
	}
	n := int(u16(b, at+4))
	if at+12+16*n > len(b) {
		return nil, "", errorf(CodeTruncated, "", "table directory of %d entries needs %d bytes, file has %d", n, 12+16*n, len(b)-at)
	}
	tables := make(map[string][]byte, n)
	for i := range n {
		rec := b[at+12+16*i:]
		tag := string(rec[:4])
		off, length := uint64(u32(rec, 8)), uint64(u32(rec, 12))
		if off+length > uint64(len(b)) {
			return nil, "", errorf(CodeTruncated, fmt.Sprintf("%q", tag), "table at %d+%d runs past the end of the %d-byte file", off, length, len(b))
		}
		if _, dup := tables[tag]; !dup {
			tables[tag] = b[off : off+length : off+length]
		}
	}
	return tables, sig, nil
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
	if f.cff != nil {
		return nil, nil // no composites, no glyf bounding box
	}
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
	packed, nhm := packHmtx(hmtx, n)

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
	// The version says which fields follow (go-text refuses a version it does not know).
	if len(maxp) >= 32 {
		binary.BigEndian.PutUint32(maxp, 0x00010000)
	} else {
		maxp = append(maxp[:0], 0, 0, 0x50, 0, maxp[4], maxp[5])
	}

	tables := []table{{"head", head}, {"hhea", hhea}, {"maxp", maxp}}
	if os2, ok := f.os2(m); ok {
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
	tables = append(tables, table{"post", f.post()})
	if gasp, ok := f.tables["gasp"]; ok {
		tables = append(tables, table{"gasp", slices.Clone(gasp)})
	}
	return assemble(sigTrueType, tables), nil
}

// packHmtx packs the n long metrics of hmtx: glyphs past the last change of advance share it,
// so their long metrics shrink to a left side bearing each (for a CJK font, nearly every glyph).
func packHmtx(hmtx []byte, n int) (packed []byte, nhm int) {
	nhm = n
	for nhm > 1 && u16(hmtx, 4*(nhm-1)) == u16(hmtx, 4*(nhm-2)) {
		nhm--
	}
	packed = slices.Clone(hmtx[:4*nhm])
	for i := nhm; i < n; i++ {
		packed = append(packed, hmtx[4*i+2:4*i+4]...)
	}
	return packed, nhm
}

// os2 returns a copy of the OS/2 table with the first and last character index of m.
func (f *font) os2(m []mapping) ([]byte, bool) {
	os2, ok := f.tables["OS/2"]
	if !ok {
		return nil, false
	}
	os2 = slices.Clone(os2)
	if len(os2) >= 68 {
		var first, last uint16
		if len(m) > 0 {
			first, last = uint16(min(m[0].r, 0xFFFF)), uint16(min(m[len(m)-1].r, 0xFFFF))
		}
		binary.BigEndian.PutUint16(os2[64:], first)
		binary.BigEndian.PutUint16(os2[66:], last)
	}
	return os2, true
}

// post returns a post table of version 3.0 (no glyph names) with the font's italic angle,
// underline and fixed-pitch values.
func (f *font) post() []byte {
	post := make([]byte, 32)
	if p := f.tables["post"]; len(p) >= 32 {
		copy(post, p)
		clear(post[16:]) // memory-use hints of a Type 42 printer; meaningless for the subset
	}
	binary.BigEndian.PutUint32(post, 0x00030000)
	return post
}

func clamp16(v int) int { return max(-0x8000, min(0x7FFF, v)) }

// assemble writes the table directory and the tables, 4-byte aligned, and sets
// head.checkSumAdjustment so that the whole file sums to 0xB1B0AFBA.
func assemble(sig string, tables []table) []byte {
	n := len(tables)
	size := 12 + 16*n
	for _, t := range tables {
		size += (len(t.data) + 3) &^ 3
	}
	out := make([]byte, 12+16*n, size)
	copy(out, sig)
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

// writeCFF writes the CFF font of the glyphs in order. The bounding box in head and the side
// bearing extremes in hhea stay the original font's, which bound the subset's too: working
// them out would mean running every charstring.
func (f *font) writeCFF(m []mapping, order []int) ([]byte, error) {
	n := len(order)
	hmtx := make([]byte, 0, 4*n)
	var maxAdv uint16
	for _, g := range order {
		adv, lsb := f.metric(g, nil)
		hmtx = binary.BigEndian.AppendUint16(hmtx, adv)
		hmtx = binary.BigEndian.AppendUint16(hmtx, uint16(lsb))
		maxAdv = max(maxAdv, adv)
	}
	packed, nhm := packHmtx(hmtx, n)

	head := slices.Clone(f.tables["head"][:54])
	binary.BigEndian.PutUint32(head[8:], 0) // checkSumAdjustment, set last
	hhea := slices.Clone(f.tables["hhea"][:36])
	binary.BigEndian.PutUint16(hhea[10:], maxAdv)
	binary.BigEndian.PutUint16(hhea[34:], uint16(nhm))
	maxp := make([]byte, 6) // version 0.5: a CFF font has no TrueType maxima
	binary.BigEndian.PutUint32(maxp, 0x00005000)
	binary.BigEndian.PutUint16(maxp[4:], uint16(n))

	tables := []table{{"head", head}, {"hhea", hhea}, {"maxp", maxp}}
	if os2, ok := f.os2(m); ok {
		tables = append(tables, table{"OS/2", os2})
	}
	if name, ok := f.tables["name"]; ok {
		tables = append(tables, table{"name", slices.Clone(name)})
	}
	tables = append(tables, table{"cmap", buildCmap(m)}, table{"post", f.post()},
		table{cffTag, f.cff.write(order)}, table{"hmtx", packed})
	return assemble(sigCFF, tables), nil
}
