package kiosk

import (
	"context"
	"testing"

	"citizenhome/devices/citycard/cardsim"
)

// The session's city card shows a payment made from it (the balance after, the purchase on top
// of its records), and only that card: a payment recognises it by its keyed hash, not by the
// masked number, which an 8-digit card shares with every short card and a 16-digit card with
// every card of the same first and last 4 digits.
func TestPayUpdatesSessionCard(t *testing.T) {
	for _, tc := range []struct {
		name    string
		paying  string // the card on the reader
		session string // the card the session read
		same    bool
	}{
		{"same card", "3104000012345678", "3104000012345678", true},
		{"same card of 8 digits", "12345678", "12345678", true},
		{"another card masked alike", "3104000012345678", "3104999999995678", false},
		{"another card of 8 digits", "12345678", "87654321", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPayRig(t, nil)
			cfg := cardsim.Sample()
			cfg.CardNo, cfg.CardNoPadded = tc.paying, len(tc.paying) < 16
			card, err := cardsim.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			p.term.SetCard(card)
			const before = 50000
			p.k.SetCityCard(&CityCard{CardNo: tc.session, BalanceFen: before})
			paid, err := p.k.pay(context.Background(), paidMatter, false)
			if err != nil || paid.BalanceFen != card.Balance() || paid.BalanceFen < 0 {
				t.Fatalf("pay: %v, balance %d (card %d)", err, paid.BalanceFen, card.Balance())
			}
			c := p.k.CityCard()
			switch {
			case c == nil || c.CardNo != tc.session:
				t.Fatalf("session card %v", c)
			case tc.same && (c.BalanceFen != card.Balance() || len(c.Records) != 1 || c.Records[0].AmountFen != paid.Payment.AmountFen):
				t.Errorf("the paying card in the session: balance %d, records %+v; want %d and the purchase", c.BalanceFen, c.Records, card.Balance())
			case !tc.same && (c.BalanceFen != before || len(c.Records) != 0):
				t.Errorf("another card in the session took the payment: balance %d, records %+v", c.BalanceFen, c.Records)
			}
		})
	}
}
