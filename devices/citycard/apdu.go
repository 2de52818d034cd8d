package citycard

import (
	"fmt"
)

// Card is a card connection that exchanges APDUs, such as a PC/SC card handle: Transmit
// sends a command APDU and returns the response APDU, data then status word.
type Card interface {
	Transmit(apdu []byte) ([]byte, error)
}

// ParseResponse splits a response APDU into data and status word. A response shorter than
// the status word is ErrNoResponse. data aliases resp.
func ParseResponse(resp []byte) (data []byte, sw SW, err error) {
	if len(resp) < 2 {
		return nil, 0, ErrNoResponse
	}
	n := len(resp) - 2
	return resp[:n], SW(resp[n])<<8 | SW(resp[n+1]), nil
}

// maxExchanges bounds the GET RESPONSE chain and Le retries of one command: a card that keeps
// answering 61xx must not hold the caller forever.
const maxExchanges = 64

// Exchange sends one command and returns its data, following the T=0 conventions: on 61 xx
// it fetches the rest with GET RESPONSE (00 C0 00 00 xx), as often as the card asks; on 6C xx
// it sends the command again with Le = xx. A final status word other than 90 00 is returned
// as the error (an SW), with whatever data came. Errors from the Card come back wrapped, and a
// response without status word is ErrNoResponse.
func Exchange(c Card, apdu []byte) ([]byte, error) {
	var out []byte
	cmd := apdu
	for range maxExchanges {
		resp, err := c.Transmit(cmd)
		if err != nil {
			return out, fmt.Errorf("citycard: transmit: %w", err)
		}
		data, sw, err := ParseResponse(resp)
		if err != nil {
			return out, err
		}
		switch sw >> 8 {
		case 0x61:
			out = append(out, data...)
			cmd = []byte{0x00, 0xC0, 0x00, 0x00, byte(sw)}
			continue
		case 0x6C:
			again, ok := withLe(cmd, byte(sw))
			if !ok || (len(cmd) == len(again) && cmd[len(cmd)-1] == byte(sw)) {
				return out, sw // the card refuses the very Le it asked for
			}
			cmd = again
			continue
		}
		out = append(out, data...)
		if sw != SWOK {
			return out, sw
		}
		return out, nil
	}
	return out, fmt.Errorf("%w: more than %d exchanges for one command", ErrMalformed, maxExchanges)
}

// withLe gives a copy of a short APDU with its Le set to le (added when it had none); false
// for an APDU whose shape it cannot tell (extended length, Lc not matching).
func withLe(apdu []byte, le byte) ([]byte, bool) {
	switch n := len(apdu); {
	case n == 4:
		return append(append([]byte(nil), apdu...), le), true
	case n == 5:
		c := append([]byte(nil), apdu...)
		c[4] = le
		return c, true
	case n > 5:
		lc := int(apdu[4])
		if lc == 0 {
			return nil, false // extended length
		}
		switch n {
		case 5 + lc:
			return append(append([]byte(nil), apdu...), le), true
		case 6 + lc:
			c := append([]byte(nil), apdu...)
			c[n-1] = le
			return c, true
		}
	}
	return nil, false
}
