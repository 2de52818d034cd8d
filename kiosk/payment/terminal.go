package payment

import (
	"context"

	"citizenhome/devices/citycard"
)

// Conn is a connection to one card, the citizen's city card or the kiosk's PSAM: it exchanges
// APDUs (citycard.Card) and is closed after use. A PC/SC card handle (pcsc.Card) is one.
type Conn interface {
	citycard.Card
	Close() error
}

// Terminal is what a payment needs of the kiosk's hardware: the city card on the card reader
// and the PSAM in its slot. internal/rig implements it over pcscd, and over the card and PSAM
// models for the demo; paymenttest.Terminal is the tests'.
type Terminal interface {
	// Card connects to the city card on the card reader now; none there is an error matching
	// ErrNoCard.
	Card(ctx context.Context) (Conn, error)
	// PSAM connects to the PSAM; none configured or answering is an error matching ErrNoPSAM
	// and citycard.ErrPSAM (so that Message tells the citizen the payment module failed).
	// Its Close may keep the connection for the next payment.
	PSAM(ctx context.Context) (Conn, error)
}
