package kiosk

import (
	"fmt"
	"log/slog"
	"time"

	"citizenhome/mask"
)

// CityCard is what the kiosk keeps of a city one-card (市民卡) for one session. The full card
// number is personal data: Masked, and every fmt verb, slog and JSON, show it masked (package
// mask); code that must show it reads the field.
type CityCard struct {
	CardNo     string
	Issuer     string
	BalanceFen int64
	ValidTo    time.Time
	Records    []CardRecord
}

// CardRecord is one transaction from the card's log.
type CardRecord struct {
	Time      time.Time
	Type      string // "purchase", "load", ...
	AmountFen int64
}

// Masked is the card number as it may be shown, printed or sent: 3104********1234 (package
// mask; a number of 8 digits or fewer is all stars).
func (c CityCard) Masked() string { return mask.Card(c.CardNo) }

// String is masked: "city card 3104********1234". A nil *CityCard prints "<nil>" with fmt.
func (c CityCard) String() string { return fmt.Sprintf("city card %s", c.Masked()) }

// Format prints String for every verb, so %#v or %+v cannot print the card number.
func (c CityCard) Format(f fmt.State, verb rune) { mask.Format(f, verb, c.String()) }

// LogValue gives slog the masked number and the issuer.
func (c CityCard) LogValue() slog.Value { return c.fields().LogValue() }

// MarshalJSON writes what LogValue gives.
func (c CityCard) MarshalJSON() ([]byte, error) { return c.fields().MarshalJSON() }

func (c CityCard) fields() mask.Fields {
	return mask.Fields{}.Add("card_no", c.Masked()).Add("issuer", c.Issuer)
}

// Wipe drops the data.
func (c *CityCard) Wipe() { *c = CityCard{} }

// SetCityCard attaches a city card to the session (starting one: a card tap is a touch).
func (k *Kiosk) SetCityCard(c *CityCard) {
	k.sessions.Put(keyCity, c)
	k.emit(Event{Kind: EventCard, Card: CardCity})
}

// CityCard returns the session's city card, or nil.
func (k *Kiosk) CityCard() *CityCard {
	c, _ := k.sessions.Get(keyCity).(*CityCard)
	return c
}
