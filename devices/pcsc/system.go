package pcsc

import (
	"time"

	"github.com/ebfe/scard"
)

// The PC/SC calls the package makes, as interfaces, so that the Monitor's recovery logic is
// tested against a fake pcscd as well as the real one. The real ones are thin over scard.

// system establishes contexts (a connection to pcscd each).
type system interface {
	establish() (pcscContext, error)
}

type pcscContext interface {
	ListReaders() ([]string, error)
	// GetStatusChange has pcsc-lite's semantics: it returns when a reader's state differs
	// from its CurrentState (or at once for StateUnaware), on timeout, or when cancelled.
	GetStatusChange(states []scard.ReaderState, timeout time.Duration) error
	Cancel() error
	Release() error
	Connect(reader string, mode scard.ShareMode, proto scard.Protocol) (pcscCard, error)
}

type pcscCard interface {
	Transmit(cmd []byte) ([]byte, error)
	Disconnect(d scard.Disposition) error
	ActiveProtocol() scard.Protocol
}

// libpcsclite is the real system.
type libpcsclite struct{}

func (libpcsclite) establish() (pcscContext, error) {
	c, err := scard.EstablishContext()
	if err != nil {
		return nil, err
	}
	return realContext{c}, nil
}

type realContext struct{ *scard.Context }

func (c realContext) Connect(reader string, mode scard.ShareMode, proto scard.Protocol) (pcscCard, error) {
	card, err := c.Context.Connect(reader, mode, proto)
	if err != nil {
		return nil, err
	}
	return card, nil
}

func (c realContext) GetStatusChange(states []scard.ReaderState, timeout time.Duration) error {
	if len(states) == 0 {
		return scard.ErrInvalidParameter // scard indexes states[0]
	}
	return c.Context.GetStatusChange(states, timeout)
}

// PnPNotification is the pseudo-reader whose state changes when a reader is added or removed.
// pcsc-lite keeps the reader count in the upper 16 bits of its event state: handing it back as
// the current state is what makes the next wait block; handing it StateUnaware makes every
// wait return at once (a busy loop).
const PnPNotification = `\\?PnP?\Notification`
