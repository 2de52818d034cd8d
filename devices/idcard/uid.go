package idcard

import (
	"errors"
	"fmt"
)

// Card is a card connection that exchanges APDUs, such as a PC/SC card handle: Transmit
// sends a command APDU and returns the response APDU, data and status word.
type Card interface {
	Transmit(apdu []byte) ([]byte, error)
}

// GetUID is the APDU an ID card answers with its 8-byte physical UID.
var GetUID = []byte{0x00, 0x36, 0x00, 0x00, 0x08}

// ErrNoResponse: the card answered with fewer than 2 bytes, no status word. A PC/SC reader
// does this when the card leaves the field mid-command.
var ErrNoResponse = errors.New("idcard: empty response (card left?)")

// StatusWordError is a UID request the card refused: SW is its status word (0x6D00, ...).
type StatusWordError struct{ SW uint16 }

// Error gives "idcard: card status word 6D00".
func (e *StatusWordError) Error() string { return fmt.Sprintf("idcard: card status word %04X", e.SW) }

// ReadUID reads the physical UID of an ID card on a contactless reader, which the ATR does not
// carry (the card is ISO 14443 type B with PUPI 0). The UID names the card, not the person:
// it is an opaque handle, useful to see the same card again. Errors: the Card's own error,
// ErrNoResponse, a *StatusWordError when the card does not answer 90 00, or a length error
// when the data are not 8 bytes.
func ReadUID(card Card) ([]byte, error) {
	resp, err := card.Transmit(GetUID)
	if err != nil {
		return nil, fmt.Errorf("idcard: get UID: %w", err)
	}
	if len(resp) < 2 {
		return nil, ErrNoResponse
	}
	n := len(resp) - 2
	if sw := uint16(resp[n])<<8 | uint16(resp[n+1]); sw != 0x9000 {
		return nil, &StatusWordError{SW: sw}
	}
	if n != 8 {
		return nil, &FrameError{Err: ErrBadLength, Got: n, Want: 8}
	}
	return append([]byte(nil), resp[:n]...), nil
}
