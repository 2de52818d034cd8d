package kiosk

import (
	"fmt"
	"log/slog"
	"time"

	"citizenhome/mask"
)

// Session keys of the personal data a session holds.
const (
	keyPerson = "person"
	keyCity   = "city-card"
)

// Person is what the kiosk keeps of a citizen's ID card, for one session only. It prints itself
// masked with every fmt verb, slog and JSON (package mask), so it cannot reach a log by accident;
// code that must show the real values reads the fields.
type Person struct {
	Name   string
	Number string // the ID number
	Birth  time.Time
	// Kind is "resident", "foreigner" or "hmt".
	Kind string
}

// Age in whole years at t (the birthday counts from its day; 29 February counts from 1 March in
// common years).
func (p *Person) Age(t time.Time) int {
	if p == nil || p.Birth.IsZero() {
		return 0
	}
	t = t.In(p.Birth.Location())
	age := t.Year() - p.Birth.Year()
	if t.Month() < p.Birth.Month() || t.Month() == p.Birth.Month() && t.Day() < p.Birth.Day() {
		age--
	}
	return age
}

// MaskedName is the name as it may be shown: 张*丰 (package mask).
func (p Person) MaskedName() string { return mask.Name(p.Name) }

// String is masked: "张*丰 410***********1234". A nil *Person prints "<nil>" with fmt.
func (p Person) String() string { return p.MaskedName() + " " + mask.ID(p.Number) }

// Format prints String for every verb, so %#v or %+v cannot print the name or the number.
func (p Person) Format(f fmt.State, verb rune) { mask.Format(f, verb, p.String()) }

// LogValue gives slog the masked name and number, and the kind of card.
func (p Person) LogValue() slog.Value { return p.fields().LogValue() }

// MarshalJSON writes what LogValue gives.
func (p Person) MarshalJSON() ([]byte, error) { return p.fields().MarshalJSON() }

func (p Person) fields() mask.Fields {
	return mask.Fields{}.Add("name", p.MaskedName()).Add("number", mask.ID(p.Number)).Add("kind", p.Kind)
}

// Wipe drops the data (Go strings cannot be overwritten in place; dropping the last reference is
// what can be done).
func (p *Person) Wipe() { *p = Person{} }

// SetPerson attaches an ID card's holder to the session (starting one: a card tap is a touch).
func (k *Kiosk) SetPerson(p *Person) {
	k.sessions.Put(keyPerson, p)
	k.emit(Event{Kind: EventCard, Card: CardID})
}

// ElderOffer reports whether the screen should offer elder mode (large text) now: the ID card
// read in this session shows an age of queue.elder_age or more, elder mode is off, and it was not
// offered yet in this session. A true answer is the offer: it is not made again in the session,
// whatever the citizen answers. Without a session or an ID card it is false.
func (k *Kiosk) ElderOffer() bool {
	p := k.Person()
	if p == nil || p.Age(k.now()) < k.cfg.Queue.ElderAge {
		return false
	}
	return k.sessions.OfferElder()
}

// CardUnreadable tells the screen that a card was tapped but could not be read (a read
// failure, a card of an unknown kind), so the citizen is asked to try again.
func (k *Kiosk) CardUnreadable(kind string, err error) {
	k.sessions.Touch()
	k.emit(Event{Kind: EventCard, Card: kind, CardErr: err})
}

// Card kinds in events.
const (
	CardID   = "id-card"
	CardCity = "city-card"
)

// Person returns the session's ID card holder, or nil.
func (k *Kiosk) Person() *Person {
	p, _ := k.sessions.Get(keyPerson).(*Person)
	return p
}
