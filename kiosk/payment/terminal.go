package payment

import (
	"context"
	"fmt"
	"sync"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/citycard/psamsim"
)

// Conn is a connection to one card, the citizen's city card or the kiosk's PSAM: it exchanges
// APDUs (citycard.Card) and is closed after use. A PC/SC card handle (pcsc.Card) is one.
type Conn interface {
	citycard.Card
	Close() error
}

// Terminal is what a payment needs of the kiosk's hardware: the city card on the card reader
// and the PSAM in its slot. The rig implements it over pcscd; Fake over the card and PSAM models.
type Terminal interface {
	// Card connects to the city card on the card reader now; none there is an error matching
	// ErrNoCard.
	Card(ctx context.Context) (Conn, error)
	// PSAM connects to the PSAM; none configured or answering is an error matching ErrNoPSAM
	// and citycard.ErrPSAM (so that Message tells the citizen the payment module failed).
	// Its Close may keep the connection for the next payment.
	PSAM(ctx context.Context) (Conn, error)
}

// Fake is a Terminal over the card and PSAM models (cardsim, psamsim), in process: for unit
// tests and the demo. A nil Card (or PSAM) is an empty reader (or slot). Safe for concurrent use.
type Fake struct {
	mu   sync.Mutex
	card *cardsim.Card
	psam *psamsim.PSAM
}

// NewFake returns a Fake with these models (either may be nil).
func NewFake(card *cardsim.Card, psam *psamsim.PSAM) *Fake { return &Fake{card: card, psam: psam} }

// SetCard puts a card on the reader (nil takes it off). A card put back is a fresh tap:
// Reinsert is called on it.
func (f *Fake) SetCard(c *cardsim.Card) {
	if c != nil {
		c.Reinsert()
	}
	f.mu.Lock()
	f.card = c
	f.mu.Unlock()
}

// Card implements Terminal.
func (f *Fake) Card(context.Context) (Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.card == nil {
		return nil, ErrNoCard
	}
	return fakeConn{f.card}, nil
}

// PSAM implements Terminal.
func (f *Fake) PSAM(context.Context) (Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.psam == nil {
		return nil, fmt.Errorf("%w (%w)", ErrNoPSAM, citycard.ErrPSAM)
	}
	return fakeConn{f.psam}, nil
}

type fakeConn struct{ citycard.Card }

func (fakeConn) Close() error { return nil }
