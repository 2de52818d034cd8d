package subfont

import (
	"encoding/binary"
	"math/bits"
	"sort"
)

// mappings calls fn for each rune of the font's best Unicode cmap subtable (format 12 over
// format 4), in ascending rune order, each rune once, with its glyph id, which is in
// 1..numGlyphs-1. Segments and groups must be sorted and disjoint, as the format requires:
// that is what bounds the work to one call per Unicode code point.
func (f *font) mappings(fn func(r rune, gid uint16)) error {
	cmap := f.tables["cmap"]
	n := int(u16(cmap, 2))
	if 4+8*n > len(cmap) {
		return errorf(CodeTruncated, "cmap", "%d encoding records need %d bytes, the table has %d", n, 4+8*n, len(cmap))
	}
	var (
		sub  []byte
		best uint16
	)
	for i := range n {
		rec := cmap[4+8*i:]
		pid, eid, off := u16(rec, 0), u16(rec, 2), u32(rec, 4)
		if pid != 0 && (pid != 3 || eid != 1 && eid != 10) {
			continue // Macintosh Roman, symbol or legacy CJK encodings
		}
		if uint64(off)+2 > uint64(len(cmap)) {
			return errorf(CodeTruncated, "cmap", "subtable %d at %d is past the table end %d", i, off, len(cmap))
		}
		if format := u16(cmap, int(off)); (format == 4 || format == 12) && format > best {
			sub, best = cmap[off:], format
		}
	}
	switch best {
	case 4:
		return f.format4(sub, fn)
	case 12:
		return f.format12(sub, fn)
	}
	return errorf(CodeUnsupported, "cmap", "no Unicode subtable of format 4 or 12 (a symbol font?)")
}

func skipRune(c int) bool { return c == 0xFFFF || c >= 0xD800 && c <= 0xDFFF }

// format4 reads a segment mapping to delta values; sub runs to the end of the cmap table, as
// some fonts understate the subtable length.
func (f *font) format4(sub []byte, fn func(rune, uint16)) error {
	if len(sub) < 14 {
		return errorf(CodeTruncated, "cmap", "format 4 header")
	}
	segX2 := int(u16(sub, 6))
	if segX2 == 0 || segX2%2 != 0 {
		return errorf(CodeCorrupt, "cmap", "format 4 segCountX2 %d", segX2)
	}
	if 16+4*segX2 > len(sub) {
		return errorf(CodeTruncated, "cmap", "format 4 with %d segments", segX2/2)
	}
	ends, starts, deltas, ranges := 14, 16+segX2, 16+2*segX2, 16+3*segX2
	prevEnd := -1
	for i := range segX2 / 2 {
		end, start := int(u16(sub, ends+2*i)), int(u16(sub, starts+2*i))
		delta, ro := u16(sub, deltas+2*i), int(u16(sub, ranges+2*i))
		if start > end || start <= prevEnd {
			return errorf(CodeCorrupt, "cmap", "format 4 segment %d (%04X–%04X) is reversed, unsorted or overlapping", i, start, end)
		}
		prevEnd = end
		for c := start; c <= end; c++ {
			if skipRune(c) {
				continue
			}
			g := uint16(c) + delta
			if ro != 0 {
				at := ranges + 2*i + ro + 2*(c-start)
				if at+2 > len(sub) {
					return errorf(CodeTruncated, "cmap", "format 4 glyph of U+%04X at %d is past the table end", c, at)
				}
				if g = u16(sub, at); g != 0 {
					g += delta
				}
			}
			if g != 0 && int(g) < f.numGlyphs {
				fn(rune(c), g)
			}
		}
	}
	return nil
}

// format12 reads a segmented coverage subtable.
func (f *font) format12(sub []byte, fn func(rune, uint16)) error {
	if len(sub) < 16 {
		return errorf(CodeTruncated, "cmap", "format 12 header")
	}
	ng := uint64(u32(sub, 12))
	if 16+12*ng > uint64(len(sub)) {
		return errorf(CodeTruncated, "cmap", "format 12 with %d groups", ng)
	}
	prevEnd := int64(-1)
	for i := range int(ng) {
		grp := sub[16+12*i:]
		start, end, g0 := int64(u32(grp, 0)), int64(u32(grp, 4)), int64(u32(grp, 8))
		if start > end || start <= prevEnd || end > 0x10FFFF {
			return errorf(CodeCorrupt, "cmap", "format 12 group %d (%X–%X) is reversed, unsorted, overlapping or past U+10FFFF", i, start, end)
		}
		prevEnd = end
		for c := start; c <= end; c++ {
			g := g0 + c - start
			if g >= int64(f.numGlyphs) {
				break
			}
			if g != 0 && !skipRune(int(c)) {
				fn(rune(c), uint16(g))
			}
		}
	}
	return nil
}

// buildCmap writes a cmap for m (sorted by rune, distinct runes, glyph ids > 0): format 4 for
// the BMP under Unicode and Windows platform ids, and format 12 too when a rune is beyond the
// BMP or format 4 would pass its 64 KiB limit (then format 12 alone carries the BMP as well).
func buildCmap(m []mapping) []byte {
	split := sort.Search(len(m), func(i int) bool { return m[i].r > 0xFFFF })
	f4 := format4(m[:split])
	var f12 []byte
	if f4 == nil || split < len(m) {
		f12 = format12(m)
	}
	type record struct {
		pid, eid uint16
		f12      bool
	}
	var recs []record
	if f4 != nil {
		recs = append(recs, record{0, 3, false})
	}
	if f12 != nil {
		recs = append(recs, record{0, 4, true})
	}
	if f4 != nil {
		recs = append(recs, record{3, 1, false})
	}
	if f12 != nil {
		recs = append(recs, record{3, 10, true})
	}
	out := make([]byte, 4+8*len(recs))
	binary.BigEndian.PutUint16(out[2:], uint16(len(recs)))
	at4 := len(out)
	out = append(out, f4...)
	at12 := len(out)
	out = append(out, f12...)
	for i, r := range recs {
		rec := out[4+8*i:]
		binary.BigEndian.PutUint16(rec, r.pid)
		binary.BigEndian.PutUint16(rec[2:], r.eid)
		at := at4
		if r.f12 {
			at = at12
		}
		binary.BigEndian.PutUint32(rec[4:], uint32(at))
	}
	return out
}

// segment is one format 4 segment: a delta segment when glyphs is nil, else an array one.
type segment struct {
	start, end, delta uint16
	glyphs            []uint16
}

// minDeltaRun is the shortest run of constant delta worth its own segment: a segment costs 8
// bytes, an array entry 2.
const minDeltaRun = 4

// format4 returns the format 4 subtable of BMP mappings m, or nil when it would exceed
// 65535 bytes.
func format4(m []mapping) []byte {
	var segs []segment
	for i := 0; i < len(m); {
		j := i + 1
		for j < len(m) && m[j].r == m[j-1].r+1 {
			j++
		}
		segs = appendRun(segs, m[i:j])
		i = j
	}
	segs = append(segs, segment{start: 0xFFFF, end: 0xFFFF, delta: 1})
	n := len(segs)
	size := 16 + 8*n
	for _, s := range segs {
		size += 2 * len(s.glyphs)
	}
	if size > 0xFFFF {
		return nil
	}
	out := make([]byte, 16+8*n, size)
	pow := 1 << (bits.Len(uint(n)) - 1)
	binary.BigEndian.PutUint16(out, 4)
	binary.BigEndian.PutUint16(out[2:], uint16(size))
	binary.BigEndian.PutUint16(out[6:], uint16(2*n))
	binary.BigEndian.PutUint16(out[8:], uint16(2*pow))
	binary.BigEndian.PutUint16(out[10:], uint16(bits.Len(uint(pow))-1))
	binary.BigEndian.PutUint16(out[12:], uint16(2*n-2*pow))
	ends, starts, deltas, ranges := 14, 16+2*n, 16+4*n, 16+6*n
	arrayIndex := 0
	for i, s := range segs {
		binary.BigEndian.PutUint16(out[ends+2*i:], s.end)
		binary.BigEndian.PutUint16(out[starts+2*i:], s.start)
		binary.BigEndian.PutUint16(out[deltas+2*i:], s.delta)
		if s.glyphs != nil {
			binary.BigEndian.PutUint16(out[ranges+2*i:], uint16(2*(n-i)+2*arrayIndex))
			for _, g := range s.glyphs {
				out = binary.BigEndian.AppendUint16(out, g)
			}
			arrayIndex += len(s.glyphs)
		}
	}
	return out
}

// appendRun appends the segments of a run of consecutive runes: one delta segment when the
// glyph ids follow the runes, else delta segments for long enough stretches and array
// segments for what lies between.
func appendRun(segs []segment, run []mapping) []segment {
	delta := func(e mapping) uint16 { return e.gid - uint16(e.r) }
	pending := -1 // start index in run of the array segment being gathered
	flush := func(end int) {
		if pending < 0 {
			return
		}
		s := segment{start: uint16(run[pending].r), end: uint16(run[end-1].r), glyphs: make([]uint16, 0, end-pending)}
		for _, e := range run[pending:end] {
			s.glyphs = append(s.glyphs, e.gid)
		}
		segs = append(segs, s)
		pending = -1
	}
	for i := 0; i < len(run); {
		j := i + 1
		for j < len(run) && delta(run[j]) == delta(run[i]) {
			j++
		}
		if j-i >= minDeltaRun || (i == 0 && j == len(run)) {
			flush(i)
			segs = append(segs, segment{start: uint16(run[i].r), end: uint16(run[j-1].r), delta: delta(run[i])})
		} else if pending < 0 {
			pending = i
		}
		i = j
	}
	flush(len(run))
	return segs
}

// format12 returns the format 12 subtable of m: one group per stretch where both runes and
// glyph ids go up by one.
func format12(m []mapping) []byte {
	out := make([]byte, 16)
	binary.BigEndian.PutUint16(out, 12)
	ng := 0
	for i := 0; i < len(m); {
		j := i + 1
		for j < len(m) && m[j].r == m[j-1].r+1 && m[j].gid == m[j-1].gid+1 {
			j++
		}
		out = binary.BigEndian.AppendUint32(out, uint32(m[i].r))
		out = binary.BigEndian.AppendUint32(out, uint32(m[j-1].r))
		out = binary.BigEndian.AppendUint32(out, uint32(m[i].gid))
		ng++
		i = j
	}
	binary.BigEndian.PutUint32(out[4:], uint32(len(out)))
	binary.BigEndian.PutUint32(out[12:], uint32(ng))
	return out
}
