package pcsc

import (
	"sync"

	"github.com/ebfe/scard"
)

// Protocol is the transmission protocol a card was connected with.
type Protocol uint8

// The protocols.
const (
	ProtocolUnknown Protocol = iota
	T0                       // character protocol: case 4 commands go out as case 3, data come by 61 xx
	T1                       // block protocol (also what contactless readers present)
)

// String gives "T=0", "T=1" or "unknown".
func (p Protocol) String() string {
	switch p {
	case T0:
		return "T=0"
	case T1:
		return "T=1"
	}
	return "unknown"
}

func protocolOf(p scard.Protocol) Protocol {
	switch p {
	case scard.ProtocolT0:
		return T0
	case scard.ProtocolT1:
		return T1
	}
	return ProtocolUnknown
}

// MaxAPDU is the longest command Transmit sends: an extended case 4 APDU with 65535 data bytes.
const MaxAPDU = 4 + 3 + 65535 + 3

// Card is a connection to the card in one reader, from Monitor.Connect or Connect. It
// satisfies idcard.Card and citycard.Card. Safe for concurrent use; commands go one at a time.
// A Card serves one presence of a card: after the card left (ErrRemoved, ErrNoResponse) or
// pcscd restarted (ErrNoService, ErrClosed) every command fails, and the next card needs a new
// Connect.
type Card struct {
	reader string
	atr    []byte
	proto  Protocol
	gen    *generation

	mu     sync.Mutex
	h      pcscCard
	closed bool
	sent   int
}

// Reader is the name of the card's reader, as pcscd lists it ("City card reader 00 00").
func (c *Card) Reader() string { return c.reader }

// ATR is the card's answer to reset, as the reader reported it when the card was seen (a copy).
func (c *Card) ATR() []byte { return append([]byte(nil), c.atr...) }

// Protocol is the protocol the card was connected with.
func (c *Card) Protocol() Protocol { return c.proto }

// Sent counts the commands transmitted to the card (each GET RESPONSE and each resend too).
func (c *Card) Sent() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent
}

// Transmit sends one command APDU and returns the response APDU (data, then SW1 SW2), as the
// card gave it: status words are not interpreted here (citycard.Exchange follows 61 xx and
// 6C xx). On T=0 a short case 4 command is sent without its Le, as ISO 7816-3 maps it; the
// card then answers 61 xx.
//
// Errors are *Error: ErrBadAPDU for a command shorter than 4 bytes or longer than MaxAPDU,
// ErrNoResponse for a response shorter than 2 bytes, ErrRemoved when the card left, ErrNoService
// when pcscd died, ErrClosed after Close or once the Monitor replaced the dead connection.
func (c *Card) Transmit(apdu []byte) ([]byte, error) {
	if len(apdu) < 4 || len(apdu) > MaxAPDU {
		return nil, &Error{Op: "transmit", Reader: c.reader, Code: ErrBadAPDU}
	}
	if c.proto == T0 {
		apdu = t0Command(apdu)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, &Error{Op: "transmit", Reader: c.reader, Code: ErrClosed}
	}
	unlock, ok := c.gen.use()
	if !ok {
		return nil, &Error{Op: "transmit", Reader: c.reader, Code: ErrClosed}
	}
	c.sent++
	resp, err := c.h.Transmit(apdu)
	unlock()
	if err != nil {
		return nil, wrap("transmit", c.reader, err)
	}
	if len(resp) < 2 {
		return nil, &Error{Op: "transmit", Reader: c.reader, Code: ErrNoResponse}
	}
	return resp, nil
}

// t0Command drops the Le of a short case 4 command (CLA INS P1 P2 Lc data Le), which T=0
// cannot carry.
func t0Command(apdu []byte) []byte {
	if len(apdu) > 5 && apdu[4] != 0 && len(apdu) == 6+int(apdu[4]) {
		return apdu[:len(apdu)-1]
	}
	return apdu
}

// Close disconnects from the card, leaving it powered for the next program. Closing twice, or
// after pcscd died, is not an error.
func (c *Card) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	unlock, ok := c.gen.use()
	if !ok {
		return nil
	}
	defer unlock()
	if err := c.h.Disconnect(scard.LeaveCard); err != nil && !serviceLost(err) {
		return wrap("disconnect", c.reader, err)
	}
	return nil
}

// generation is one context to pcscd, shared by the Cards connected through it. Releasing it
// waits for the commands in flight (they fail fast once pcscd is gone).
type generation struct {
	mu       sync.RWMutex
	ctx      pcscContext
	released bool
}

// use holds the context for one call; false once it was released.
func (g *generation) use() (unlock func(), ok bool) {
	g.mu.RLock()
	if g.released {
		g.mu.RUnlock()
		return nil, false
	}
	return g.mu.RUnlock, true
}

func (g *generation) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.released {
		g.released = true
		_ = g.ctx.Release() // fails with NO_SERVICE when pcscd died: the memory is freed anyway
	}
}

// connect connects to the card in reader through g.
func (g *generation) connect(reader string, atr []byte) (*Card, error) {
	unlock, ok := g.use()
	if !ok {
		return nil, &Error{Op: "connect", Reader: reader, Code: ErrNoService}
	}
	defer unlock()
	h, err := g.ctx.Connect(reader, scard.ShareShared, scard.ProtocolAny)
	if err != nil {
		return nil, wrap("connect", reader, err)
	}
	p := protocolOf(h.ActiveProtocol())
	if p == ProtocolUnknown {
		// scard panics when transmitting with an undefined protocol.
		_ = h.Disconnect(scard.LeaveCard)
		return nil, &Error{Op: "connect", Reader: reader, Code: ErrCard}
	}
	return &Card{reader: reader, atr: append([]byte(nil), atr...), proto: p, gen: g, h: h}, nil
}
