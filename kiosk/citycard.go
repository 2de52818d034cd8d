package kiosk

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// CityCard is what the kiosk keeps of a city one-card (市民卡) for one session. The full card
// number is personal data: String, LogValue and Masked show it masked.
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

// MaskedCard keeps the first 4 and last 4 digits: 3104********1234.
func MaskedCard(no string) string {
	if len(no) <= 8 {
		return strings.Repeat("*", len(no))
	}
	return no[:4] + strings.Repeat("*", len(no)-8) + no[len(no)-4:]
}

// Masked is the card number as it may be shown, printed or sent.
func (c *CityCard) Masked() string { return MaskedCard(c.CardNo) }

// String is masked.
func (c *CityCard) String() string {
	if c == nil {
		return "<nil>"
	}
	return fmt.Sprintf("city card %s", c.Masked())
}

// LogValue is masked.
func (c *CityCard) LogValue() slog.Value { return slog.StringValue(c.String()) }

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
