package pcsc

import (
	"errors"
	"fmt"
)

// ErrBadATR: an answer to reset that does not follow ISO 7816-3 (wrapped with the reason).
var ErrBadATR = errors.New("pcsc: malformed ATR")

// ATR is a parsed answer to reset (ISO 7816-3).
type ATR struct {
	// Protocols are the T values the interface bytes offer, in order; empty means T=0 only.
	Protocols []int
	// Historical are the historical bytes. A contactless reader (PC/SC part 3) puts an ISO
	// 14443-4 type A card's ATS historical bytes here, and a type B card's ATQB data.
	Historical []byte
	// TCK tells whether the ATR ends with a check byte (it must when a protocol other than
	// T=0 is offered); ParseATR has verified it.
	TCK bool
	// Contactless: the ATR has the shape PC/SC part 3 gives contactless cards, 3B 8n 80 01.
	Contactless bool
}

// ParseATR parses an answer to reset: TS (3B direct or 3F inverse convention), T0, the
// interface bytes, the historical bytes and TCK. A short ATR, bytes left over, or a wrong TCK
// are ErrBadATR. The result does not alias b.
func ParseATR(b []byte) (ATR, error) {
	bad := func(format string, a ...any) (ATR, error) {
		return ATR{}, fmt.Errorf("%w: %s", ErrBadATR, fmt.Sprintf(format, a...))
	}
	if len(b) < 2 {
		return bad("%d bytes", len(b))
	}
	if b[0] != 0x3B && b[0] != 0x3F {
		return bad("TS %02X is neither 3B nor 3F", b[0])
	}
	var a ATR
	k := int(b[1] & 0x0F)
	y := b[1] >> 4
	i := 2
	needTCK := false
	for {
		for _, bit := range []byte{0x1, 0x2, 0x4} { // TA, TB, TC
			if y&bit != 0 {
				if i >= len(b) {
					return bad("interface bytes cut short")
				}
				i++
			}
		}
		if y&0x8 == 0 {
			break
		}
		if i >= len(b) {
			return bad("interface bytes cut short")
		}
		td := b[i]
		i++
		t := int(td & 0x0F)
		a.Protocols = append(a.Protocols, t)
		if t != 0 {
			needTCK = true
		}
		y = td >> 4
	}
	if i+k > len(b) {
		return bad("%d historical bytes announced, %d left", k, len(b)-i)
	}
	a.Historical = append([]byte{}, b[i:i+k]...)
	i += k
	switch {
	case i == len(b) && needTCK:
		return bad("TCK missing")
	case i == len(b):
	case i+1 == len(b):
		var x byte
		for _, c := range b[1:] {
			x ^= c
		}
		if x != 0 {
			return bad("TCK %02X does not check", b[i])
		}
		a.TCK = true
	default:
		return bad("%d bytes after the ATR", len(b)-i)
	}
	a.Contactless = len(b) >= 4 && b[0] == 0x3B && b[1]&0xF0 == 0x80 && b[2] == 0x80 && b[3] == 0x01
	return a, nil
}
