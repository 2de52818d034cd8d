package samsim

import (
	"errors"
	"sync"
)

// ErrRemoved is what IDCard.Transmit returns once the card has left the field, as a PC/SC
// reader fails the command after the one in flight when the card left.
var ErrRemoved = errors.New("samsim: card removed")

// ATR is the answer to reset a contactless PC/SC reader builds for an ID card: ISO 14443
// type B without historical bytes (PC/SC part 3), which is why the UID must be asked for.
var ATR = []byte{0x3B, 0x80, 0x80, 0x01, 0x01}

// IDCard is an ID card on a contactless PC/SC reader: it answers only the GET UID APDU
// (00 36 00 00 08), since the identity needs a SAM. Safe for concurrent use.
type IDCard struct {
	mu    sync.Mutex
	uid   []byte
	leave bool // the next command gets an empty response
	gone  bool
}

// NewIDCard returns a card with this 8-byte UID (other lengths are kept as given, for tests).
func NewIDCard(uid []byte) *IDCard { return &IDCard{uid: append([]byte(nil), uid...)} }

// NewIDCardFor returns the card of a person from a data file, with the person's UID (or one
// derived from the number when the file gives none).
func NewIDCardFor(p Person) (*IDCard, error) {
	uid, err := p.uid()
	if err != nil {
		return nil, err
	}
	return NewIDCard(uid), nil
}

// ATR returns the card's answer to reset.
func (c *IDCard) ATR() []byte { return append([]byte(nil), ATR...) }

// Leave makes the card leave the field during the next command: that command gets an empty
// response (no status word) and every later one ErrRemoved, as vpcd behaves.
func (c *IDCard) Leave() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leave = true
}

// Transmit answers one command APDU. GET UID with Le 08 gives the UID and 90 00; a wrong Le
// 6C 08; other P1 P2 6B 00; another instruction 6D 00; another class 6E 00; fewer than 4
// bytes 67 00.
func (c *IDCard) Transmit(apdu []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.gone:
		return nil, ErrRemoved
	case c.leave:
		c.leave, c.gone = false, true
		return []byte{}, nil
	case len(apdu) < 4:
		return sw(0x6700), nil
	case apdu[0] != 0x00:
		return sw(0x6E00), nil
	case apdu[1] != 0x36:
		return sw(0x6D00), nil
	case apdu[2] != 0 || apdu[3] != 0:
		return sw(0x6B00), nil
	case len(apdu) != 5:
		return sw(0x6700), nil
	case int(apdu[4]) != len(c.uid):
		return sw(0x6C00 | uint16(len(c.uid))), nil
	}
	return append(append([]byte(nil), c.uid...), 0x90, 0x00), nil
}

func sw(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }
