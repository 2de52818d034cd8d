package kiosk

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	// EnglishName is a foreigner card's name as printed on it, "MUELLER, ANNA MARIA" (surname,
	// comma, given names); empty on the other cards. A foreigner card may have no Name.
	EnglishName string
}

// KindForeigner is Kind for a foreign resident's permanent residence card (外国人永久居留身份证).
const KindForeigner = "foreigner"

// Foreign reports whether the card is a foreign resident's.
func (p *Person) Foreign() bool { return p != nil && p.Kind == KindForeigner }

// Language is the screen language the card's holder most likely reads: "en" for a foreign
// resident, "" (no preference: keep the screen's) for everyone else and for nil.
func (p *Person) Language() string {
	if p.Foreign() {
		return "en"
	}
	return ""
}

// Greeting is the name to greet the holder by on screen, masked like every name shown: a
// foreign resident by their English name ("MUELLER, ANNA MARIA" → "Anna M.": the first given
// name and the surname's initial), everyone else, and a foreigner card without an English name,
// by MaskedName (张*丰).
func (p Person) Greeting() string {
	if p.Kind == KindForeigner {
		if g := greetEnglish(p.EnglishName); g != "" {
			return g
		}
	}
	return p.MaskedName()
}

// greetEnglish is "Anna M." for "MUELLER, ANNA MARIA" (the card's order: surname, given
// names) and for "ANNA MUELLER" (written without a comma: given names first); a single name
// keeps its initial only ("M."); "" for a blank name.
func greetEnglish(name string) string {
	var surname string
	var given []string
	if sur, giv, ok := strings.Cut(name, ","); ok {
		surname, given = strings.TrimSpace(sur), strings.Fields(giv)
	} else if f := strings.Fields(name); len(f) > 0 {
		surname, given = f[len(f)-1], f[:len(f)-1]
	}
	initial := func(s string) string {
		r, _ := utf8.DecodeRuneInString(s)
		return string(unicode.ToUpper(r)) + "."
	}
	switch {
	case surname == "" && len(given) == 0:
		return ""
	case len(given) == 0:
		return initial(surname)
	case surname == "":
		return title(given[0])
	}
	return title(given[0]) + " " + initial(surname)
}

// title is "Anna" for "ANNA", "Jean-Luc" for "JEAN-LUC".
func title(s string) string {
	r := []rune(strings.ToLower(s))
	for i := range r {
		if i == 0 || r[i-1] == '-' || r[i-1] == '\'' {
			r[i] = unicode.ToUpper(r[i])
		}
	}
	return string(r)
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

// MaskedName is the name as it may be shown: 张*丰 (package mask); a foreigner card without a
// Chinese name masks its English name.
func (p Person) MaskedName() string {
	if p.Name == "" && p.EnglishName != "" {
		return mask.Name(p.EnglishName)
	}
	return mask.Name(p.Name)
}

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
