package kiosk

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// Session keys of the personal data a session holds.
const (
	keyPerson = "person"
	keyCity   = "city-card"
)

// Person is what the kiosk keeps of a citizen's ID card, for one session only. Its String and
// LogValue are masked, so it cannot reach a log by accident.
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

// MaskedName shows the first and last characters of a name: 张*三, 李*; names of one character
// show nothing.
func MaskedName(name string) string {
	r := []rune(strings.TrimSpace(name))
	switch len(r) {
	case 0, 1:
		return "*"
	case 2:
		return string(r[0]) + "*"
	default:
		return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
	}
}

// MaskedNumber keeps the first 3 and last 4 characters: 410***********1234.
func MaskedNumber(n string) string {
	if utf8.RuneCountInString(n) <= 7 {
		return strings.Repeat("*", utf8.RuneCountInString(n))
	}
	r := []rune(n)
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// String is masked.
func (p *Person) String() string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s %s", MaskedName(p.Name), MaskedNumber(p.Number))
}

// LogValue is masked.
func (p *Person) LogValue() slog.Value { return slog.StringValue(p.String()) }

// Wipe drops the data (Go strings cannot be overwritten in place; dropping the last reference is
// what can be done).
func (p *Person) Wipe() { *p = Person{} }

// SetPerson attaches an ID card's holder to the session (starting one: a card tap is a touch).
func (k *Kiosk) SetPerson(p *Person) {
	k.sessions.Put(keyPerson, p)
	k.emit(Event{Kind: EventCard, Card: CardID})
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
