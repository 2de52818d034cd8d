package payment_test

import (
	"context"
	"errors"
	"testing"

	"citizenhome/devices/citycard/cardsim"
	"citizenhome/kiosk/payment"
	"citizenhome/mask/masktest"
)

// A payment knows its card by the card's keyed hash, never by the masked number: a card of 8
// digits (all stars masked, like every other short card) and a card that masks like another
// are told apart.
func TestSameCard(t *testing.T) {
	const short = "12345678"
	e := newEnv(t, func(c *cardsim.Config) { c.CardNo, c.CardNoPadded = short, true }, nil)
	res, err := e.pay(payment.Request{Matter: matter, AmountFen: fee})
	if err != nil || res.Entry.Status != payment.StatusPaid {
		t.Fatalf("pay: %+v %v", res, err)
	}
	if res.Entry.CardMasked != "********" {
		t.Errorf("journal's masked card %q, want ********", res.Entry.CardMasked)
	}
	ctx := context.Background()
	for no, want := range map[string]bool{
		short:              true,
		"0000000012345678": false, // the same digits, zero-filled: another card number
		"87654321":         false, // masks the same: ********
		"":                 false,
	} {
		if got, err := e.j.SameCard(ctx, res.Entry.ID, no); err != nil || got != want {
			t.Errorf("SameCard(%q) = %v %v, want %v", no, got, err, want)
		}
	}

	long := newEnv(t, nil, nil)
	res, err = long.pay(payment.Request{Matter: matter, AmountFen: fee})
	if err != nil {
		t.Fatal(err)
	}
	for no, want := range map[string]bool{fullCard: true, "3104999999995678": false} { // both 3104********5678
		if got, err := long.j.SameCard(ctx, res.Entry.ID, no); err != nil || got != want {
			t.Errorf("SameCard(%q) = %v %v, want %v", no, got, err, want)
		}
	}
	if _, err := long.j.SameCard(ctx, res.Entry.ID+1, fullCard); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("unknown payment: %v", err)
	}
}

// An entry prints its card masked even when handed a full number.
func TestEntryMasked(t *testing.T) {
	e := payment.Entry{ID: 42, Day: "2026-11-26", Matter: matter, AmountFen: fee, CardMasked: "3104729581630457",
		Status: payment.StatusPaid, Step: payment.StepConfirmed}
	masktest.Check(t, e, masktest.Number("card number", e.CardMasked))
	if s := e.String(); s != "payment 20261126000042 bdc-002 2500 fen card 3104********0457 paid (confirmed)" {
		t.Errorf("String() = %q", s)
	}
}
