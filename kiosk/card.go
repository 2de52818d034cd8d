package kiosk

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/idcard"
	"citizenhome/mask"
)

// CardUnknown is the kind of a card that is neither an ID card (CardID) nor a city card
// (CardCity): the kinds are the strings of the local API.
const CardUnknown = "unknown"

// PresentCard is a card on one of the kiosk's readers now, as the device watchers found it.
// It holds personal data (the identity, the city card number): it prints itself masked, and
// the kiosk keeps it only while the card is on the reader.
type PresentCard struct {
	Kind   string // CardID, CardCity or CardUnknown
	Reader string // the PC/SC reader's name, or DeviceIDReader for the SAM reader
	// UID is the card's physical UID (an ID card on a PC/SC reader): an opaque handle, to be
	// treated like the card's data (not logged).
	UID  []byte
	ID   *idcard.Identity // read through the SAM reader; never with its photo
	City *citycard.Info   // a city card
	// Err is set when the card is there but could not be read completely (it answers badly);
	// its text holds no card data.
	Err   error
	Since time.Time
}

// String is masked: "city-card on City card reader 00 00: citycard 3104********5678 (MOHURD)".
func (c PresentCard) String() string {
	s := c.Kind + " on " + c.Reader
	switch {
	case c.City != nil:
		s += ": " + c.City.String()
	case c.ID != nil:
		s += ": " + c.ID.String()
	}
	if c.Err != nil {
		s += " (read failed)"
	}
	return s
}

// Format prints String for every verb, so %+v cannot print a field.
func (c PresentCard) Format(f fmt.State, verb rune) { mask.Format(f, verb, c.String()) }

// LogValue is masked: the kind, the reader and the card's data as they log themselves.
func (c PresentCard) LogValue() slog.Value { return c.fields().LogValue() }

// MarshalJSON writes what LogValue gives; never the UID. The local API, which hands out the
// card's data, maps the fields itself.
func (c PresentCard) MarshalJSON() ([]byte, error) { return c.fields().MarshalJSON() }

func (c PresentCard) fields() mask.Fields {
	fs := mask.Fields{}.Add("kind", c.Kind).Add("reader", c.Reader)
	if c.ID != nil {
		fs = fs.Add("id", *c.ID)
	}
	if c.City != nil {
		fs = fs.Add("city", *c.City)
	}
	return fs.Add("read_failed", c.Err != nil)
}

// UIDHex is the UID in upper-case hex, "" without one.
func (c PresentCard) UIDHex() string { return strings.ToUpper(hex.EncodeToString(c.UID)) }

// CardEvent says that a card came to or left a reader. It carries no personal data but the
// UID (an opaque handle, not to be logged); the card's data are read with Cards.
type CardEvent struct {
	Inserted bool // false: removed
	Kind     string
	Reader   string
	UID      []byte
	Failed   bool // inserted, but could not be read completely
	Time     time.Time
}

// cardBoard is the cards on the readers now. Its zero value is ready.
type cardBoard struct {
	mu    sync.Mutex
	cards []PresentCard // newest last
	subs  []func(CardEvent)
}

// CardInserted records the card now on c.Reader (replacing the one recorded there) and tells
// the card subscribers. A zero Since is set to now. The rig calls it; the card's data stay
// until CardRemoved.
func (k *Kiosk) CardInserted(c PresentCard) {
	if c.Since.IsZero() {
		c.Since = k.now()
	}
	// A card put on a reader is someone at the kiosk: it postpones the idle end of their session
	// (it starts none: what the card is decides that, once read).
	k.sessions.Activity()
	b := &k.cards
	b.mu.Lock()
	b.cards = slices.DeleteFunc(b.cards, func(x PresentCard) bool { return x.Reader == c.Reader })
	b.cards = append(b.cards, c)
	subs := slices.Clone(b.subs)
	b.mu.Unlock()
	e := CardEvent{Inserted: true, Kind: c.Kind, Reader: c.Reader, UID: slices.Clone(c.UID), Failed: c.Err != nil, Time: c.Since}
	for _, fn := range subs {
		fn(e)
	}
}

// CardRemoved forgets the card on reader, if any, and tells the card subscribers. A reader
// with no card recorded is not an event.
func (k *Kiosk) CardRemoved(reader string) {
	b := &k.cards
	b.mu.Lock()
	i := slices.IndexFunc(b.cards, func(x PresentCard) bool { return x.Reader == reader })
	if i < 0 {
		b.mu.Unlock()
		return
	}
	gone := b.cards[i]
	b.cards = slices.Delete(b.cards, i, i+1)
	subs := slices.Clone(b.subs)
	b.mu.Unlock()
	e := CardEvent{Kind: gone.Kind, Reader: reader, Time: k.now()}
	for _, fn := range subs {
		fn(e)
	}
}

// Cards returns the cards on the readers now, newest first.
func (k *Kiosk) Cards() []PresentCard {
	b := &k.cards
	b.mu.Lock()
	defer b.mu.Unlock()
	out := slices.Clone(b.cards)
	slices.Reverse(out)
	return out
}

// SubscribeCards registers fn for every later card event. fn is called from the device
// watcher's goroutine and must not block.
func (k *Kiosk) SubscribeCards(fn func(CardEvent)) {
	b := &k.cards
	b.mu.Lock()
	b.subs = append(b.subs, fn)
	b.mu.Unlock()
}
