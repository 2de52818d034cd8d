package subfont

import (
	"encoding/binary"
	"slices"
)

// The CFF table (Adobe Technical Note #5176) is read into its parts, and written again with
// only the kept glyphs' charstrings, charset and FDSelect entries. Subroutines, the String
// INDEX and the Private DICTs are copied unchanged: a charstring calls subroutines by index,
// and those indices stay valid. Every offset the writer sets is a 5-byte integer, so that a
// DICT's length does not depend on the offsets written into it.

const cffTag = "CFF "

// CFF DICT operators the subsetter reads or rewrites; two-byte operators (12 x) are 1200+x.
const (
	opUniqueID       = 13
	opXUID           = 14
	opCharset        = 15
	opEncoding       = 16
	opCharStrings    = 17
	opPrivate        = 18
	opSubrs          = 19
	opCharstringType = 1206
	opSyntheticBase  = 1220
	opROS            = 1230
	opFDArray        = 1236
	opFDSelect       = 1237
)

// maxDictArgs is the most operands a DICT operator may have (the CFF operand stack limit).
const maxDictArgs = 48

// cffIndex is a CFF INDEX: item i is data[off[i]:off[i+1]].
type cffIndex struct {
	raw  []byte   // the whole INDEX as read, for copying it unchanged
	off  []uint32 // count+1 ascending offsets into data; empty for an empty INDEX
	data []byte
}

func (x cffIndex) count() int {
	if len(x.off) == 0 {
		return 0
	}
	return len(x.off) - 1
}

func (x cffIndex) item(i int) []byte { return x.data[x.off[i]:x.off[i+1]] }

// readIndex reads the INDEX at b[at:] and returns it with the offset just past it. The offsets
// array is checked to fit in b before it is allocated.
func readIndex(b []byte, at int, what string) (cffIndex, int, error) {
	if at < 0 || at+2 > len(b) {
		return cffIndex{}, 0, errorf(CodeTruncated, cffTag, "%s INDEX at %d past the table end %d", what, at, len(b))
	}
	count := int(u16(b, at))
	if count == 0 {
		return cffIndex{raw: b[at : at+2]}, at + 2, nil
	}
	if at+3 > len(b) {
		return cffIndex{}, 0, errorf(CodeTruncated, cffTag, "%s INDEX header", what)
	}
	size := int(b[at+2])
	if size < 1 || size > 4 {
		return cffIndex{}, 0, errorf(CodeCorrupt, cffTag, "%s INDEX offSize %d", what, size)
	}
	dataAt := at + 3 + (count+1)*size
	if dataAt > len(b) {
		return cffIndex{}, 0, errorf(CodeTruncated, cffTag, "%s INDEX of %d items: offsets end at %d, past the table end %d", what, count, dataAt, len(b))
	}
	off := make([]uint32, count+1)
	for i := range off {
		var v uint32
		for _, c := range b[at+3+i*size : at+3+(i+1)*size] {
			v = v<<8 | uint32(c)
		}
		if v == 0 || i == 0 && v != 1 || i > 0 && v-1 < off[i-1] {
			return cffIndex{}, 0, errorf(CodeCorrupt, cffTag, "%s INDEX offset %d of %d is %d: not ascending from 1", what, i, count, v)
		}
		off[i] = v - 1
	}
	end := uint64(dataAt) + uint64(off[count])
	if end > uint64(len(b)) {
		return cffIndex{}, 0, errorf(CodeTruncated, cffTag, "%s INDEX data ends at %d, past the table end %d", what, end, len(b))
	}
	return cffIndex{raw: b[at:end], off: off, data: b[dataAt:end]}, int(end), nil
}

// buildIndex writes an INDEX of items with the smallest offset size that fits.
func buildIndex(items [][]byte) []byte {
	if len(items) == 0 {
		return []byte{0, 0}
	}
	total := 1
	for _, it := range items {
		total += len(it)
	}
	size := 1
	for total >= 1<<(8*size) {
		size++
	}
	out := make([]byte, 3, 3+(len(items)+1)*size+total-1)
	binary.BigEndian.PutUint16(out, uint16(len(items)))
	out[2] = byte(size)
	put := func(v int) {
		for k := size - 1; k >= 0; k-- {
			out = append(out, byte(v>>(8*k)))
		}
	}
	at := 1
	put(at)
	for _, it := range items {
		at += len(it)
		put(at)
	}
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

// dictEntry is one operator of a DICT with its operands.
type dictEntry struct {
	op   int    // 0..21, or 1200+x for the two-byte operator 12 x
	args []byte // the operands as written
	ints []int  // the operands' values; a real number reads as 0 and sets real
	real bool
}

// parseDict reads a DICT. Operands beyond maxDictArgs, reserved bytes and operands without
// an operator at the end are corrupt.
func parseDict(b []byte, what string) ([]dictEntry, error) {
	var out []dictEntry
	start := 0
	var ints []int
	real := false
	for i := 0; i < len(b); {
		b0 := int(b[i])
		need := 1
		switch {
		case b0 <= 21:
			op := b0
			i++
			if b0 == 12 {
				if i >= len(b) {
					return nil, errorf(CodeTruncated, cffTag, "%s DICT ends inside an operator", what)
				}
				op = 1200 + int(b[i])
				i++
			}
			argEnd := i - 1
			if op >= 1200 {
				argEnd--
			}
			out = append(out, dictEntry{op: op, args: b[start:argEnd], ints: ints, real: real})
			start, ints, real = i, nil, false
			continue
		case b0 == 28:
			need = 3
		case b0 == 29:
			need = 5
		case b0 == 30:
			j := i + 1
			for j < len(b) && b[j]>>4 != 0xF && b[j]&0xF != 0xF {
				j++
			}
			if j >= len(b) {
				return nil, errorf(CodeTruncated, cffTag, "%s DICT ends inside a real number", what)
			}
			need = j + 1 - i
		case b0 >= 32 && b0 <= 246:
		case b0 >= 247 && b0 <= 254:
			need = 2
		default:
			return nil, errorf(CodeCorrupt, cffTag, "%s DICT has the reserved byte %d", what, b0)
		}
		if i+need > len(b) {
			return nil, errorf(CodeTruncated, cffTag, "%s DICT ends inside an operand", what)
		}
		var v int
		switch {
		case b0 == 28:
			v = int(int16(u16(b, i+1)))
		case b0 == 29:
			v = int(int32(u32(b, i+1)))
		case b0 == 30:
			real = true
		case b0 <= 246:
			v = b0 - 139
		case b0 <= 250:
			v = (b0-247)*256 + int(b[i+1]) + 108
		default:
			v = -(b0-251)*256 - int(b[i+1]) - 108
		}
		ints = append(ints, v)
		if len(ints) > maxDictArgs {
			return nil, errorf(CodeCorrupt, cffTag, "%s DICT has more than %d operands in a row", what, maxDictArgs)
		}
		i += need
	}
	if start != len(b) {
		return nil, errorf(CodeCorrupt, cffTag, "%s DICT ends with operands and no operator", what)
	}
	return out, nil
}

// lookup returns the integer operands of op in d: ok is false when op is absent; an entry
// with other than n operands, or a real one, is corrupt.
func lookup(d []dictEntry, op, n int, what string) (vals []int, ok bool, err error) {
	for _, e := range d {
		if e.op != op {
			continue
		}
		if len(e.ints) != n || e.real {
			return nil, false, errorf(CodeCorrupt, cffTag, "%s DICT operator %d has %d operands, want %d integers", what, op, len(e.ints), n)
		}
		return e.ints, true, nil
	}
	return nil, false, nil
}

// writeDict writes d with the operands of each operator in set replaced by 5-byte integers
// (appended, in the order of set, when d lacks them) and the operators in drop left out.
func writeDict(d []dictEntry, set []dictEntry, drop ...int) []byte {
	var out []byte
	putOp := func(op int) {
		if op >= 1200 {
			out = append(out, 12, byte(op-1200))
		} else {
			out = append(out, byte(op))
		}
	}
	putSet := func(e dictEntry) {
		for _, v := range e.ints {
			out = append(out, 29)
			out = binary.BigEndian.AppendUint32(out, uint32(int32(v)))
		}
		putOp(e.op)
	}
	done := make([]bool, len(set))
outer:
	for _, e := range d {
		if slices.Contains(drop, e.op) {
			continue
		}
		for i, s := range set {
			if s.op == e.op {
				if !done[i] {
					putSet(s)
					done[i] = true
				}
				continue outer
			}
		}
		out = append(out, e.args...)
		putOp(e.op)
	}
	for i, s := range set {
		if !done[i] {
			putSet(s)
		}
	}
	return out
}

// cffFont is a parsed CFF table.
type cffFont struct {
	name, strings, gsubrs cffIndex // copied unchanged
	top                   []dictEntry
	charStrings           cffIndex
	cid                   bool     // CID-keyed: FDArray and FDSelect
	charset               []uint16 // glyph id → SID (name-keyed) or CID; charset[0] is .notdef's 0
	fdSelect              []uint8  // CID: glyph id → Font DICT
	fds                   []cffFD  // CID: the FDArray; name-keyed: the one Private DICT
	size                  int      // of the CFF table read
}

// cffFD is a Font DICT of a CID-keyed font (dict nil for a name-keyed font) with its Private
// DICT and local subroutines.
type cffFD struct {
	dict, private []dictEntry
	subrs         cffIndex // raw nil when there are none
}

// maxFDs is the FDArray's limit: FDSelect stores a Font DICT number in a byte.
const maxFDs = 256

func parseCFF(b []byte, numGlyphs int) (*cffFont, error) {
	if len(b) < 4 {
		return nil, errorf(CodeTruncated, cffTag, "%d bytes, the header needs 4", len(b))
	}
	if b[0] != 1 {
		return nil, errorf(CodeUnsupported, cffTag, "CFF version %d.%d", b[0], b[1])
	}
	c := &cffFont{size: len(b)}
	var (
		topIdx cffIndex
		err    error
	)
	at := int(b[2])
	if at < 4 {
		return nil, errorf(CodeCorrupt, cffTag, "header size %d", at)
	}
	if c.name, at, err = readIndex(b, at, "Name"); err != nil {
		return nil, err
	}
	if topIdx, at, err = readIndex(b, at, "Top DICT"); err != nil {
		return nil, err
	}
	if n := topIdx.count(); n != 1 {
		return nil, errorf(CodeUnsupported, cffTag, "%d fonts in one CFF table; one is supported", n)
	}
	if c.strings, at, err = readIndex(b, at, "String"); err != nil {
		return nil, err
	}
	if c.gsubrs, _, err = readIndex(b, at, "Global Subr"); err != nil {
		return nil, err
	}
	if c.top, err = parseDict(topIdx.item(0), "Top"); err != nil {
		return nil, err
	}
	if v, ok, err := lookup(c.top, opCharstringType, 1, "Top"); err != nil {
		return nil, err
	} else if ok && v[0] != 2 {
		return nil, errorf(CodeUnsupported, cffTag, "charstring type %d; only Type 2 is supported", v[0])
	}
	if _, ok, _ := lookup(c.top, opSyntheticBase, 1, "Top"); ok {
		return nil, errorf(CodeUnsupported, cffTag, "a synthetic font")
	}
	cs, ok, err := lookup(c.top, opCharStrings, 1, "Top")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf(CodeMissingTable, cffTag, "no CharStrings")
	}
	if c.charStrings, _, err = readIndex(b, cs[0], "CharStrings"); err != nil {
		return nil, err
	}
	if n := c.charStrings.count(); n != numGlyphs {
		return nil, errorf(CodeCorrupt, cffTag, "%d charstrings for %d glyphs in maxp", n, numGlyphs)
	}
	for _, e := range c.top {
		if e.op == opROS {
			c.cid = true
		}
	}
	if err := c.parseCharset(b, numGlyphs); err != nil {
		return nil, err
	}
	if c.cid {
		return c, c.parseFDs(b, numGlyphs)
	}
	fd, err := parsePrivate(b, c.top, "Top", map[int]cffIndex{})
	if err != nil {
		return nil, err
	}
	c.fds = []cffFD{fd}
	return c, nil
}

func (c *cffFont) parseCharset(b []byte, n int) error {
	v, ok, err := lookup(c.top, opCharset, 1, "Top")
	if err != nil {
		return err
	}
	off := 0
	if ok {
		off = v[0]
	}
	c.charset = make([]uint16, n)
	switch {
	case off == 0 && !c.cid:
		// ISOAdobe: glyph i is SID i, for the 229 glyphs that charset names.
		if n > 229 {
			return errorf(CodeCorrupt, cffTag, "the ISOAdobe charset for %d glyphs; it names 229", n)
		}
		for i := range c.charset {
			c.charset[i] = uint16(i)
		}
		return nil
	case off <= 2:
		return errorf(CodeUnsupported, cffTag, "predefined charset %d", off)
	case off >= len(b):
		return errorf(CodeTruncated, cffTag, "charset at %d past the table end %d", off, len(b))
	}
	format := b[off]
	at := off + 1
	switch format {
	case 0:
		if at+2*(n-1) > len(b) {
			return errorf(CodeTruncated, cffTag, "charset of %d glyphs", n)
		}
		for g := 1; g < n; g++ {
			c.charset[g] = u16(b, at+2*(g-1))
		}
	case 1, 2:
		for g := 1; g < n; {
			size := 3 + int(format) - 1
			if at+size > len(b) {
				return errorf(CodeTruncated, cffTag, "charset range for glyph %d", g)
			}
			first, left := int(u16(b, at)), int(b[at+2])
			if format == 2 {
				left = int(u16(b, at+2))
			}
			at += size
			if first+left > 0xFFFF {
				return errorf(CodeCorrupt, cffTag, "charset range %d+%d past 65535", first, left)
			}
			for k := 0; k <= left && g < n; k++ {
				c.charset[g] = uint16(first + k)
				g++
			}
		}
	default:
		return errorf(CodeCorrupt, cffTag, "charset format %d", format)
	}
	return nil
}

func (c *cffFont) parseFDs(b []byte, n int) error {
	v, ok, err := lookup(c.top, opFDArray, 1, "Top")
	if err != nil {
		return err
	}
	if !ok {
		return errorf(CodeMissingTable, cffTag, "a CID-keyed font without an FDArray")
	}
	arr, _, err := readIndex(b, v[0], "FDArray")
	if err != nil {
		return err
	}
	if k := arr.count(); k == 0 || k > maxFDs {
		return errorf(CodeCorrupt, cffTag, "FDArray of %d Font DICTs", k)
	}
	read := map[int]cffIndex{} // Subrs INDEXes by offset: Font DICTs may share one
	for i := range arr.count() {
		d, err := parseDict(arr.item(i), "Font")
		if err != nil {
			return err
		}
		fd, err := parsePrivate(b, d, "Font", read)
		if err != nil {
			return err
		}
		fd.dict = d
		c.fds = append(c.fds, fd)
	}
	if v, ok, err = lookup(c.top, opFDSelect, 1, "Top"); err != nil {
		return err
	} else if !ok {
		return errorf(CodeMissingTable, cffTag, "a CID-keyed font without an FDSelect")
	}
	off := v[0]
	if off < 0 || off >= len(b) {
		return errorf(CodeTruncated, cffTag, "FDSelect at %d past the table end %d", off, len(b))
	}
	c.fdSelect = make([]uint8, n)
	switch b[off] {
	case 0:
		if off+1+n > len(b) {
			return errorf(CodeTruncated, cffTag, "FDSelect of %d glyphs", n)
		}
		copy(c.fdSelect, b[off+1:])
	case 3:
		if off+3 > len(b) {
			return errorf(CodeTruncated, cffTag, "FDSelect header")
		}
		ranges := int(u16(b, off+1))
		at := off + 3
		if ranges == 0 {
			return errorf(CodeCorrupt, cffTag, "FDSelect of no ranges")
		}
		if at+3*ranges+2 > len(b) {
			return errorf(CodeTruncated, cffTag, "FDSelect of %d ranges", ranges)
		}
		for r := range ranges {
			first, fd := int(u16(b, at+3*r)), b[at+3*r+2]
			next := int(u16(b, at+3*r+3)) // the next range's first, or the sentinel
			if r == 0 && first != 0 || next <= first || next > n || r == ranges-1 && next != n {
				return errorf(CodeCorrupt, cffTag, "FDSelect range %d (%d–%d) of %d glyphs", r, first, next, n)
			}
			for g := first; g < next; g++ {
				c.fdSelect[g] = fd
			}
		}
	default:
		return errorf(CodeCorrupt, cffTag, "FDSelect format %d", b[off])
	}
	for g, fd := range c.fdSelect {
		if int(fd) >= len(c.fds) {
			return errorf(CodeCorrupt, cffTag, "glyph %d uses Font DICT %d of %d", g, fd, len(c.fds))
		}
	}
	return nil
}

// parsePrivate reads the Private DICT that d (a Top or Font DICT) points to, and its local
// subroutines, each Subrs INDEX once (read holds those read so far, by offset, so that Font
// DICTs sharing one cost no more memory than one). A DICT without one gets an empty Private
// DICT.
func parsePrivate(b []byte, d []dictEntry, what string, read map[int]cffIndex) (cffFD, error) {
	var fd cffFD
	v, ok, err := lookup(d, opPrivate, 2, what)
	if err != nil || !ok {
		return fd, err
	}
	size, off := v[0], v[1]
	if size < 0 || off < 0 || uint64(off)+uint64(size) > uint64(len(b)) {
		return fd, errorf(CodeTruncated, cffTag, "Private DICT at %d+%d past the table end %d", off, size, len(b))
	}
	if fd.private, err = parseDict(b[off:off+size], "Private"); err != nil {
		return fd, err
	}
	s, ok, err := lookup(fd.private, opSubrs, 1, "Private")
	if err != nil || !ok {
		return fd, err
	}
	if s[0] <= 0 {
		return fd, errorf(CodeCorrupt, cffTag, "local Subrs at %d from their Private DICT", s[0])
	}
	at := off + s[0]
	if x, ok := read[at]; ok {
		fd.subrs = x
		return fd, nil
	}
	fd.subrs, _, err = readIndex(b, at, "Subrs")
	read[at] = fd.subrs
	return fd, err
}

// write returns the CFF table of the glyphs in order (old glyph ids, .notdef first), in this
// layout: header, Name, Top DICT, String and Global Subr INDEXes, charset, FDSelect,
// CharStrings, FDArray, then each Private DICT followed by its Subrs.
func (c *cffFont) write(order []int) []byte {
	charset := []byte{0}
	for _, g := range order[1:] {
		charset = binary.BigEndian.AppendUint16(charset, c.charset[g])
	}
	var fdSelect []byte
	if c.cid {
		var ranges [][2]int // first new glyph, Font DICT
		for i, g := range order {
			if fd := int(c.fdSelect[g]); len(ranges) == 0 || ranges[len(ranges)-1][1] != fd {
				ranges = append(ranges, [2]int{i, fd})
			}
		}
		fdSelect = []byte{3}
		fdSelect = binary.BigEndian.AppendUint16(fdSelect, uint16(len(ranges)))
		for _, r := range ranges {
			fdSelect = binary.BigEndian.AppendUint16(fdSelect, uint16(r[0]))
			fdSelect = append(fdSelect, byte(r[1]))
		}
		fdSelect = binary.BigEndian.AppendUint16(fdSelect, uint16(len(order)))
	}
	// The subroutines the kept glyphs call, renumbered; or, for charstrings the walker cannot
	// follow, all of them as they are.
	gsubrs := c.gsubrs.raw
	subrs := make([][]byte, len(c.fds)) // each Font DICT's Subrs INDEX; nil: none
	for i, fd := range c.fds {
		subrs[i] = fd.subrs.raw
	}
	items := make([][]byte, len(order))
	pruned, err := c.pruneSubrs(order)
	for i, g := range order {
		items[i] = c.charStrings.item(g)
		if err == nil && c.cid {
			items[i] = pruned.rewrite(items[i], [2]int{-1, g}, int(c.fdSelect[g]))
		} else if err == nil {
			items[i] = pruned.rewrite(items[i], [2]int{-1, g}, 0)
		}
	}
	if err == nil {
		gsubrs = buildIndex(pruned.renumbered(c.gsubrs, pruned.global, -2, 0))
		for i, fd := range c.fds {
			subrs[i] = nil
			if len(pruned.local[i]) > 0 {
				subrs[i] = buildIndex(pruned.renumbered(fd.subrs, pruned.local[i], i, i))
			}
		}
	}
	charStrings := buildIndex(items)

	// Private DICTs with their Subrs right behind them: the Subrs offset is the DICT's length.
	privates := make([][]byte, len(c.fds))
	privSizes := make([]int, len(c.fds))
	for i, fd := range c.fds {
		if subrs[i] == nil {
			privates[i] = writeDict(fd.private, nil, opSubrs)
			privSizes[i] = len(privates[i])
			continue
		}
		p := writeDict(fd.private, []dictEntry{{op: opSubrs, ints: []int{0}}})
		p = writeDict(fd.private, []dictEntry{{op: opSubrs, ints: []int{len(p)}}})
		privSizes[i] = len(p)
		privates[i] = append(p, subrs[i]...)
	}
	privSize := func(i int) int { return privSizes[i] }
	// Offsets are 5-byte integers, so the DICTs' sizes are known before the offsets are.
	fontDicts := func(privAt []int) [][]byte {
		out := make([][]byte, len(c.fds))
		for i, fd := range c.fds {
			out[i] = writeDict(fd.dict, []dictEntry{{op: opPrivate, ints: []int{privSize(i), privAt[i]}}})
		}
		return out
	}
	topDict := func(charsetAt, fdSelectAt, charStringsAt, fdArrayAt, privateAt int) []byte {
		set := []dictEntry{{op: opCharset, ints: []int{charsetAt}}, {op: opCharStrings, ints: []int{charStringsAt}}}
		if c.cid {
			set = append(set, dictEntry{op: opFDSelect, ints: []int{fdSelectAt}}, dictEntry{op: opFDArray, ints: []int{fdArrayAt}})
		} else {
			set = append(set, dictEntry{op: opPrivate, ints: []int{privSize(0), privateAt}})
		}
		// A subset must not claim the original's unique ids; the Encoding is the standard one
		// (a cmap maps the characters); the DICT of the other kind of font is dropped.
		drop := []int{opEncoding, opUniqueID, opXUID, opPrivate}
		if !c.cid {
			drop = []int{opEncoding, opUniqueID, opXUID, opFDArray, opFDSelect}
		}
		return writeDict(c.top, set, drop...)
	}
	zeros := make([]int, len(c.fds))
	var fdArrayLen int
	if c.cid {
		fdArrayLen = len(buildIndex(fontDicts(zeros)))
	}
	topLen := len(buildIndex([][]byte{topDict(0, 0, 0, 0, 0)}))
	charsetAt := 4 + len(c.name.raw) + topLen + len(c.strings.raw) + len(gsubrs)
	fdSelectAt := charsetAt + len(charset)
	charStringsAt := fdSelectAt + len(fdSelect)
	fdArrayAt := charStringsAt + len(charStrings)
	privAt := make([]int, len(c.fds))
	at := fdArrayAt + fdArrayLen
	for i, p := range privates {
		privAt[i] = at
		at += len(p)
	}
	out := make([]byte, 0, at)
	out = append(out, 1, 0, 4, 4)
	out = append(out, c.name.raw...)
	out = append(out, buildIndex([][]byte{topDict(charsetAt, fdSelectAt, charStringsAt, fdArrayAt, privAt[0])})...)
	out = append(out, c.strings.raw...)
	out = append(out, gsubrs...)
	out = append(out, charset...)
	out = append(out, fdSelect...)
	out = append(out, charStrings...)
	if c.cid {
		out = append(out, buildIndex(fontDicts(privAt))...)
	}
	for _, p := range privates {
		out = append(out, p...)
	}
	return out
}
