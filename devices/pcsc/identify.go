package pcsc

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"citizenhome/devices/citycard"
	"citizenhome/devices/idcard"
)

// Kind is what a card turned out to be. The strings are those of the local API.
type Kind string

// The kinds Read tells apart.
const (
	KindIDCard   Kind = "id-card"   // a resident ID card (or a card sharing its format) without SAM: UID only
	KindCityCard Kind = "city-card" // a city one-card with a purse application
	KindUnknown  Kind = "unknown"   // anything else (a bank card, a transport card of another city...)
)

// Transmitter exchanges one APDU with a card: a *Card, or a card model in tests.
type Transmitter interface {
	Transmit(apdu []byte) ([]byte, error)
}

// Contents is what Read found on a card. City holds personal data (the card number): Contents
// prints itself masked.
type Contents struct {
	Kind Kind
	// UID is an ID card's 8-byte physical UID: an opaque handle for "this card again".
	UID []byte
	// City is a city card's data; on a read that failed part-way, what was read before.
	City *citycard.Info
	// APDUs counts the commands sent, GET RESPONSEs and resends included.
	APDUs int
}

// String gives "id-card 5A3C0F1E2D4B6978", "city-card citycard 3104********5678 (MOHURD)" or
// "unknown".
func (c *Contents) String() string {
	if c == nil {
		return "<nil>"
	}
	switch {
	case c.City != nil:
		return string(c.Kind) + " " + c.City.String()
	case len(c.UID) > 0:
		return string(c.Kind) + " " + strings.ToUpper(hex.EncodeToString(c.UID))
	}
	return string(c.Kind)
}

// Format prints String for every verb, so %+v cannot print the card number.
func (c *Contents) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue is masked.
func (c *Contents) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Read tells what card t is and reads it: an ID card gives its UID (00 36 00 00 08 answered
// with 8 bytes and 90 00); a city card its purse (citycard.Read: PSE, then file 1001, the
// MOHURD or the T-Union application, public data, balance, log); any other card is
// KindUnknown with no error. The ATR decides which is tried first: a contactless ATR without
// historical bytes (how readers present the type B ID card) tries the UID first, anything else
// the purse first, so the common case costs no extra command.
//
// Errors: a card that leaves, a reader that fails, or pcscd dying (Gone(err) tells) ends Read
// with what it knew; a city card whose purse answers badly once selected (a status word, or
// malformed data after the public data) gives KindCityCard, the Info read so far (maybe nil)
// and the error; malformed answers before that (61 xx without end, a public data file that
// does not parse) give KindUnknown and the error.
func Read(t Transmitter, atr []byte) (*Contents, error) {
	c := &counting{t: t}
	out := &Contents{Kind: KindUnknown}
	probes := []func(*counting, *Contents) (bool, error){probeCity, probeID}
	if idLike(atr) {
		probes[0], probes[1] = probeID, probeCity
	}
	for _, p := range probes {
		done, err := p(c, out)
		if done || err != nil {
			out.APDUs = c.n
			return out, err
		}
	}
	out.APDUs = c.n
	return out, nil
}

// idLike: a contactless ATR with no (or all-zero) historical bytes, as readers build for
// ISO 14443 type B cards that carry no application data, like the ID card.
func idLike(atr []byte) bool {
	a, err := ParseATR(atr)
	if err != nil || !a.Contactless {
		return false
	}
	for _, b := range a.Historical {
		if b != 0 {
			return false
		}
	}
	return true
}

type counting struct {
	t Transmitter
	n int
}

func (c *counting) Transmit(apdu []byte) ([]byte, error) {
	c.n++
	return c.t.Transmit(apdu)
}

func probeID(c *counting, out *Contents) (bool, error) {
	data, err := citycard.Exchange(c, idcard.GetUID)
	if err != nil {
		if cardAnswered(err) {
			return false, nil
		}
		return false, err
	}
	if len(data) != 8 {
		return false, nil
	}
	out.Kind, out.UID = KindIDCard, data
	return true, nil
}

func probeCity(c *counting, out *Contents) (bool, error) {
	info, err := citycard.Read(c)
	var sw citycard.SW
	switch {
	case err == nil:
		out.Kind, out.City = KindCityCard, info
		return true, nil
	case errors.Is(err, citycard.ErrNoApplication):
		return false, nil
	case info != nil:
		// Public data read, then a failure: a city card, with what it gave.
		out.Kind, out.City = KindCityCard, info
		return true, err
	case errors.As(err, &sw):
		// Status words other than ErrNoApplication's come only once a purse is selected.
		out.Kind = KindCityCard
		return true, err
	}
	// Malformed answers (to the selection or to the public data), or the exchange failing:
	// nothing says what the card is.
	return false, err
}

// cardAnswered: the card gave an answer (a status word, malformed data), as opposed to the
// exchange itself failing.
func cardAnswered(err error) bool {
	var sw citycard.SW
	return errors.As(err, &sw) || errors.Is(err, citycard.ErrMalformed)
}
