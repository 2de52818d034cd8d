// Package paymenttest holds the payment terminal the tests of payments share: a
// payment.Terminal over the city card and PSAM models (cardsim, psamsim), in process.
//
// It lives here, beside the interface it stands in for, and not in package payment, so that the
// production payment code links no simulator (layers_test.go checks it). The demo's terminal,
// which must ship, is wired from the same models in internal/rig.
package paymenttest

import (
	"context"
	"fmt"
	"sync"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/citycard/psamsim"
	"citizenhome/kiosk/payment"
)

var _ payment.Terminal = (*Terminal)(nil)

// Terminal is a payment.Terminal over the card and PSAM models. A nil card (or PSAM) is an empty
// reader (or slot). Safe for concurrent use.
type Terminal struct {
	mu   sync.Mutex
	card *cardsim.Card
	psam *psamsim.PSAM
}

// NewTerminal returns a Terminal with these models (either may be nil).
func NewTerminal(card *cardsim.Card, psam *psamsim.PSAM) *Terminal {
	return &Terminal{card: card, psam: psam}
}

// SetCard puts a card on the reader (nil takes it off). A card put back is a fresh tap:
// Reinsert is called on it.
func (t *Terminal) SetCard(c *cardsim.Card) {
	if c != nil {
		c.Reinsert()
	}
	t.mu.Lock()
	t.card = c
	t.mu.Unlock()
}

// Card implements payment.Terminal: an empty reader is an error matching payment.ErrNoCard.
func (t *Terminal) Card(context.Context) (payment.Conn, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.card == nil {
		return nil, payment.ErrNoCard
	}
	return conn{t.card}, nil
}

// PSAM implements payment.Terminal: an empty slot is an error matching payment.ErrNoPSAM and
// citycard.ErrPSAM.
func (t *Terminal) PSAM(context.Context) (payment.Conn, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.psam == nil {
		return nil, fmt.Errorf("%w (%w)", payment.ErrNoPSAM, citycard.ErrPSAM)
	}
	return conn{t.psam}, nil
}

// conn is a model's connection: closing it keeps the model as it is.
type conn struct{ citycard.Card }

func (conn) Close() error { return nil }
