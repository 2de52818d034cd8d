package subfont

import "encoding/binary"

// Subroutine pruning. A Noto Sans CJK face has 45,000 local subroutines (1.1 MB), of which the
// kiosk's glyphs use a part; go-text keeps a slice header for each. The subset keeps the
// subroutines its charstrings call, renumbered in their old order, and rewrites each call's
// index. Finding the calls means walking the Type 2 charstrings: an operator's operands are on
// a stack, hintmask and cntrmask are followed by one bit per stem hint declared so far, and a
// subroutine's number is the operand on top of the stack, biased by the INDEX's size.

// maxCallDepth is Type 2's subroutine nesting limit.
const maxCallDepth = 10

// Type 2 charstring operators the walker treats apart.
const (
	csHstem     = 1
	csVstem     = 3
	csCallsubr  = 10
	csReturn    = 11
	csEscape    = 12
	csEndchar   = 14
	csHstemhm   = 18
	csHintmask  = 19
	csCntrmask  = 20
	csVstemhm   = 23
	csCallgsubr = 29
	csMaxStack  = 48
)

// bias is the number added to a call's operand to index a subroutine INDEX of n entries.
func bias(n int) int {
	switch {
	case n < 1240:
		return 107
	case n < 33900:
		return 1131
	}
	return 32768
}

// callSite is a subroutine call in a charstring: the operand's bytes at off (n of them) and
// the subroutine called.
type callSite struct {
	off, n int
	global bool
	index  int
}

// subrUse is what walking the kept glyphs found: the subroutines called, and the call sites in
// each charstring and subroutine.
type subrUse struct {
	local  []map[int]bool // per Font DICT: local subroutines used
	global map[int]bool
	// sites of each piece of code, by key: glyph g is {-1, g}, local subroutine i of Font DICT
	// fd is {fd, i}, global subroutine i is {-2, i}. A subroutine must tokenize the same from
	// every caller (it would not if a hintmask in it saw another stem count).
	sites map[[2]int][]callSite
	// budget is how many more tokens the walk may read, over all glyphs: 16 a byte of the CFF
	// table, so that subroutines called over and over cannot make a small font take hours.
	budget int
}

// errSubrs reports a charstring the walker cannot follow; the caller then keeps every
// subroutine, which is always correct.
func errSubrs(format string, args ...any) error {
	return errorf(CodeUnsupported, cffTag, format, args...)
}

// findSubrs walks the charstrings of the glyphs in order.
func (c *cffFont) findSubrs(order []int) (*subrUse, error) {
	u := &subrUse{local: make([]map[int]bool, len(c.fds)), global: map[int]bool{}, sites: map[[2]int][]callSite{},
		budget: 16*c.size + 1<<20}
	for i := range u.local {
		u.local[i] = map[int]bool{}
	}
	for _, g := range order {
		fd := 0
		if c.cid {
			fd = int(c.fdSelect[g])
		}
		w := walker{c: c, u: u, fd: fd}
		if _, err := w.run(c.charStrings.item(g), [2]int{-1, g}, 0); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// walker follows one glyph's charstring and the subroutines it calls.
type walker struct {
	c     *cffFont
	u     *subrUse
	fd    int
	stack []int // operands; a 16.16 fixed number is kept as its integer part
	lits  []int // for each operand, the offset of its literal just before the operator, or -1
	litN  []int
	stems int
}

// run walks code; it returns true once endchar ends the glyph.
func (w *walker) run(code []byte, key [2]int, depth int) (bool, error) {
	if depth > maxCallDepth {
		return false, errSubrs("subroutines nested deeper than %d", maxCallDepth)
	}
	var sites []callSite
	// Operands from the caller are no literals of this code.
	for j := range w.lits {
		w.lits[j] = -1
	}
	done := func(ended bool) (bool, error) {
		if prev, seen := w.u.sites[key]; !seen {
			w.u.sites[key] = sites
		} else if !sameSites(prev, sites) {
			return false, errSubrs("subroutine %v reads differently from two callers", key)
		}
		return ended, nil
	}
	for i := 0; i < len(code); {
		if w.u.budget--; w.u.budget < 0 {
			return false, errSubrs("the charstrings run too long")
		}
		b0 := int(code[i])
		if b0 >= 32 || b0 == 28 {
			n, v := 1, 0
			switch {
			case b0 == 28:
				n = 3
			case b0 <= 246:
				v = b0 - 139
			case b0 <= 254:
				n = 2
			default:
				n = 5
			}
			if i+n > len(code) {
				return false, errorf(CodeTruncated, cffTag, "charstring ends inside a number")
			}
			switch {
			case b0 == 28:
				v = int(int16(binary.BigEndian.Uint16(code[i+1:])))
			case b0 >= 247 && b0 <= 250:
				v = (b0-247)*256 + int(code[i+1]) + 108
			case b0 >= 251 && b0 <= 254:
				v = -(b0-251)*256 - int(code[i+1]) - 108
			case b0 == 255:
				v = int(int32(binary.BigEndian.Uint32(code[i+1:])) >> 16)
			}
			if len(w.stack) >= csMaxStack {
				return false, errorf(CodeCorrupt, cffTag, "charstring stack overflow")
			}
			w.stack = append(w.stack, v)
			w.lits = append(w.lits, i)
			w.litN = append(w.litN, n)
			if b0 == 255 {
				w.lits[len(w.lits)-1] = -1 // a fixed-point number is no subroutine index
			}
			i += n
			continue
		}
		i++
		switch b0 {
		case csCallsubr, csCallgsubr:
			if len(w.stack) == 0 || w.lits[len(w.lits)-1] < 0 {
				return false, errSubrs("a subroutine call without a literal index")
			}
			top := len(w.stack) - 1
			site := callSite{off: w.lits[top], n: w.litN[top], global: b0 == csCallgsubr}
			idx := w.stack[top]
			w.stack, w.lits, w.litN = w.stack[:top], w.lits[:top], w.litN[:top]
			var (
				subrs cffIndex
				k     [2]int
				used  map[int]bool
			)
			if site.global {
				subrs, used = w.c.gsubrs, w.u.global
				idx += bias(subrs.count())
				k = [2]int{-2, idx}
			} else {
				subrs, used = w.c.fds[w.fd].subrs, w.u.local[w.fd]
				idx += bias(subrs.count())
				k = [2]int{w.fd, idx}
			}
			if idx < 0 || idx >= subrs.count() {
				return false, errorf(CodeCorrupt, cffTag, "call of subroutine %d of %d", idx, subrs.count())
			}
			site.index = idx
			sites = append(sites, site)
			used[idx] = true
			// The walk goes on from the call site with the subroutine's effect on the stack
			// and stems, so the rest of the caller tokenizes right.
			ended, err := w.run(subrs.item(idx), k, depth+1)
			if err != nil {
				return false, err
			}
			if ended {
				return done(true)
			}
			// The operands after the call come from the subroutine: none is a literal here.
			for j := range w.lits {
				w.lits[j] = -1
			}
			continue
		case csReturn:
			return done(false)
		case csEndchar:
			return done(true)
		case csHstem, csVstem, csHstemhm, csVstemhm:
			w.stems += len(w.stack) / 2
		case csHintmask, csCntrmask:
			w.stems += len(w.stack) / 2 // the vstem hints an implied vstemhm declares
			i += (w.stems + 7) / 8
			if i > len(code) {
				return false, errorf(CodeTruncated, cffTag, "charstring ends inside a hint mask")
			}
		case csEscape:
			if i >= len(code) {
				return false, errorf(CodeTruncated, cffTag, "charstring ends inside an operator")
			}
			op := int(code[i])
			i++
			if op != 0 && (op < 34 || op > 37) { // but dotsection and flex, these compute on the stack
				return false, errSubrs("charstring operator 12 %d", op)
			}
		case 0, 2, 9, 13, 15, 16, 17:
			return false, errSubrs("charstring operator %d", b0)
		}
		w.stack, w.lits, w.litN = w.stack[:0], w.lits[:0], w.litN[:0]
	}
	return done(false)
}

func sameSites(a, b []callSite) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// prunedSubrs is the subset's subroutines: for each used one its new number.
type prunedSubrs struct {
	global map[int]int   // old global subroutine → new
	local  []map[int]int // per Font DICT
	use    *subrUse
}

// pruneSubrs finds the subroutines the glyphs in order use and numbers them anew, in their old
// order. It fails (and the caller keeps every subroutine) on a charstring the walker cannot
// follow, and on a global subroutine calling a local one: its one rewrite could not serve
// Font DICTs whose local subroutines are numbered differently.
func (c *cffFont) pruneSubrs(order []int) (*prunedSubrs, error) {
	u, err := c.findSubrs(order)
	if err != nil {
		return nil, err
	}
	for k, sites := range u.sites {
		if k[0] != -2 {
			continue
		}
		for _, s := range sites {
			if !s.global {
				return nil, errSubrs("global subroutine %d calls a local one", k[1])
			}
		}
	}
	number := func(used map[int]bool, n int) map[int]int {
		m := make(map[int]int, len(used))
		next := 0
		for i := range n {
			if used[i] {
				m[i] = next
				next++
			}
		}
		return m
	}
	p := &prunedSubrs{global: number(u.global, c.gsubrs.count()), use: u}
	for fd := range c.fds {
		p.local = append(p.local, number(u.local[fd], c.fds[fd].subrs.count()))
	}
	return p, nil
}

// rewrite returns code (the piece key) with each call's operand set to the subroutine's new
// number, biased for the new INDEX's size; fd is the Font DICT whose local subroutines it calls.
func (p *prunedSubrs) rewrite(code []byte, key [2]int, fd int) []byte {
	sites := p.use.sites[key]
	if len(sites) == 0 {
		return code
	}
	out := make([]byte, 0, len(code)+4)
	at := 0
	for _, s := range sites {
		out = append(out, code[at:s.off]...)
		m := p.global
		if !s.global {
			m = p.local[fd]
		}
		out = appendCSNum(out, m[s.index]-bias(len(m)))
		at = s.off + s.n
	}
	return append(out, code[at:]...)
}

// appendCSNum appends v (within int16) in the shortest Type 2 charstring encoding.
func appendCSNum(b []byte, v int) []byte {
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

// renumbered returns the used subroutines of x in their new order, rewritten; kind is -2 for
// the global ones, else the Font DICT, and fd the Font DICT their local calls go to.
func (p *prunedSubrs) renumbered(x cffIndex, m map[int]int, kind, fd int) [][]byte {
	out := make([][]byte, len(m))
	for old, n := range m {
		out[n] = p.rewrite(x.item(old), [2]int{kind, old}, fd)
	}
	return out
}
