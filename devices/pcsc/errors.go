package pcsc

import (
	"errors"
	"fmt"

	"github.com/ebfe/scard"

	"citizenhome/devices/citycard"
	"citizenhome/devices/idcard"
)

// Code classifies a failure. Every Code is an error itself, so errors.Is(err, ErrNoService)
// works on the *Error values the package returns; errors.As gives the *Error with the
// operation, the reader and the PC/SC error underneath (a scard.Error, also reachable with
// errors.Is(err, scard.ErrNoService)).
type Code uint8

// The codes.
const (
	// ErrNoService: pcscd is not running, or died (SCARD_E_NO_SERVICE, SCARD_F_COMM_ERROR,
	// SCARD_E_SERVICE_STOPPED). A Monitor re-establishes its contexts by itself; a Card of the
	// old context stays dead.
	ErrNoService Code = iota + 1
	// ErrNoReader: the reader is not listed (unplugged, or not configured in pcscd).
	ErrNoReader
	// ErrNoCard: no card in the reader.
	ErrNoCard
	// ErrRemoved: the card left the reader (SCARD_W_REMOVED_CARD), or an exchange failed as
	// it does when a contactless card leaves the field mid-command
	// (SCARD_E_NOT_TRANSACTED, what vpcd and most contactless readers report). Only the read in
	// progress is lost: the next card needs a new Connect.
	ErrRemoved
	// ErrNoResponse: the card answered fewer than 2 bytes, no status word. vpcd does this,
	// without any error, for the command in flight when the card leaves the field.
	ErrNoResponse
	// ErrSharing: another program holds the card or reader exclusively.
	ErrSharing
	// ErrCancelled: a wait was cancelled (the Monitor's context ended).
	ErrCancelled
	// ErrTimeout: a wait ran out of time.
	ErrTimeout
	// ErrBadAPDU: the command cannot be sent: empty, or longer than an extended APDU.
	ErrBadAPDU
	// ErrClosed: the Card or Monitor was closed, or the Card belongs to a pcscd connection
	// that has since been replaced (pcscd restarted).
	ErrClosed
	// ErrCard: the card does not work: mute, unresponsive, unpowered, unsupported protocol.
	ErrCard
	// ErrPCSC: any other PC/SC failure.
	ErrPCSC
)

var codeText = map[Code]string{
	ErrNoService:  "pcscd not running",
	ErrNoReader:   "reader not connected",
	ErrNoCard:     "no card in the reader",
	ErrRemoved:    "card removed",
	ErrNoResponse: "response without status word (card left the field?)",
	ErrSharing:    "card in use by another program",
	ErrCancelled:  "cancelled",
	ErrTimeout:    "timed out",
	ErrBadAPDU:    "not a command APDU that can be sent",
	ErrClosed:     "closed",
	ErrCard:       "card not working",
	ErrPCSC:       "PC/SC failure",
}

// String gives a short description ("card removed"); "code N" for an unknown Code.
func (c Code) String() string {
	if s, ok := codeText[c]; ok {
		return s
	}
	return fmt.Sprintf("code %d", uint8(c))
}

// Error gives "pcsc: card removed".
func (c Code) Error() string { return "pcsc: " + c.String() }

// Error is a failed operation: Op ("transmit", "connect", "wait", "establish", "list"),
// Reader when one is concerned, Code, and the cause (a scard.Error, or nil). Its text never
// holds card data.
type Error struct {
	Op     string
	Reader string
	Code   Code
	Err    error
}

// Error gives "pcsc: transmit (City card reader 00 00): card removed: scard: Card was removed.".
func (e *Error) Error() string {
	s := "pcsc: " + e.Op
	if e.Reader != "" {
		s += " (" + e.Reader + ")"
	}
	s += ": " + e.Code.String()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap gives the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the Code: errors.Is(err, pcsc.ErrRemoved).
func (e *Error) Is(target error) bool {
	c, ok := target.(Code)
	return ok && c == e.Code
}

// wrap turns a PC/SC error into an *Error; nil stays nil.
func wrap(op, reader string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Reader: reader, Code: codeOf(err), Err: err}
}

// codeOf classifies a PC/SC error.
func codeOf(err error) Code {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	var c Code
	if errors.As(err, &c) {
		return c
	}
	var se scard.Error
	if !errors.As(err, &se) {
		return ErrPCSC
	}
	switch se {
	case scard.ErrNoService, scard.ErrServiceStopped, scard.ErrCommError, scard.ErrShutdown:
		return ErrNoService
	case scard.ErrUnknownReader, scard.ErrReaderUnavailable, scard.ErrNoReadersAvailable:
		return ErrNoReader
	case scard.ErrNoSmartcard:
		return ErrNoCard
	case scard.ErrRemovedCard, scard.ErrNotTransacted, scard.ErrResetCard:
		return ErrRemoved
	case scard.ErrSharingViolation:
		return ErrSharing
	case scard.ErrCancelled, scard.ErrSystemCancelled:
		return ErrCancelled
	case scard.ErrTimeout:
		return ErrTimeout
	case scard.ErrInvalidHandle:
		return ErrClosed
	case scard.ErrUnresponsiveCard, scard.ErrUnpoweredCard, scard.ErrUnsupportedCard,
		scard.ErrCardUnsupported, scard.ErrProtoMismatch, scard.ErrInvalidAtr:
		return ErrCard
	}
	return ErrPCSC
}

// serviceLost reports whether err means the connection to pcscd is gone: the context must be
// released and established again.
func serviceLost(err error) bool {
	switch codeOf(err) {
	case ErrNoService, ErrClosed:
		return true
	}
	return false
}

// Gone reports whether err means the card is no longer there to be read: it left the field
// (ErrRemoved, ErrNoResponse, ErrNoCard), its reader vanished (ErrNoReader), or pcscd went
// away (ErrNoService, ErrClosed). Such a read failed because of the card's absence, not because
// of the card: a kiosk says nothing about the card and waits for the next tap.
func Gone(err error) bool {
	if errors.Is(err, citycard.ErrNoResponse) || errors.Is(err, idcard.ErrNoResponse) {
		return true // a model in tests, or another Transmitter, saying the same
	}
	switch codeOf(err) {
	case ErrRemoved, ErrNoResponse, ErrNoCard, ErrNoReader, ErrNoService, ErrClosed:
		return true
	}
	return false
}
