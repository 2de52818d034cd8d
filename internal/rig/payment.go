package rig

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"citizenhome/devices/citycard"
	"citizenhome/devices/pcsc"
	"citizenhome/kiosk"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/payment"
)

// pcscTerminal is the payment terminal over pcscd: the city card on devices.card_reader and
// the PSAM on devices.psam_reader, both through the Monitor that watches them. The PSAM's
// connection is kept between payments (its Close keeps it): connecting costs a round trip to
// pcscd, and the PSAM never leaves its slot; a connection that fails is dropped and the next
// payment connects again.
type pcscTerminal struct {
	m          *pcsc.Monitor
	card, psam string // configured names

	mu   sync.Mutex
	conn *pcsc.Card // the PSAM's, kept
}

// connect connects to a card in the first listed slot of name that holds one.
func (t *pcscTerminal) connect(name string) (*pcsc.Card, error) {
	var last error
	for _, r := range t.m.Readers() {
		if !pcsc.MatchReader(name, r) {
			continue
		}
		c, err := t.m.Connect(r)
		if err == nil {
			return c, nil
		}
		// An empty slot says less than the slot that has the card and failed: keep the latter.
		if last == nil || !errors.Is(err, pcsc.ErrNoCard) {
			last = err
		}
	}
	if last == nil {
		last = &pcsc.Error{Op: "connect", Reader: name, Code: pcsc.ErrNoReader}
	}
	return nil, last
}

// Card implements payment.Terminal.
func (t *pcscTerminal) Card(context.Context) (payment.Conn, error) {
	c, err := t.connect(t.card)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", payment.ErrNoCard, err)
	}
	return cardConn{c}, nil
}

// cardConn is the city card's connection for a payment. A card gone from the reader is also
// citycard.ErrNoResponse, so that the citizen is told the card was moved away (MsgCardLeft).
type cardConn struct{ *pcsc.Card }

func (c cardConn) Transmit(apdu []byte) ([]byte, error) {
	resp, err := c.Card.Transmit(apdu)
	if err != nil && pcsc.Gone(err) {
		err = fmt.Errorf("%w: %w", citycard.ErrNoResponse, err)
	}
	return resp, err
}

// PSAM implements payment.Terminal.
func (t *pcscTerminal) PSAM(context.Context) (payment.Conn, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == nil {
		c, err := t.connect(t.psam)
		if err != nil {
			return nil, fmt.Errorf("%w (%w): %w", payment.ErrNoPSAM, citycard.ErrPSAM, err)
		}
		t.conn = c
	}
	return &keptPSAM{t: t, c: t.conn}, nil
}

// keptPSAM is the PSAM connection lent to one payment.
type keptPSAM struct {
	t *pcscTerminal
	c *pcsc.Card
}

func (k *keptPSAM) Transmit(apdu []byte) ([]byte, error) {
	resp, err := k.c.Transmit(apdu)
	if err != nil && pcsc.Gone(err) {
		k.t.drop(k.c)
	}
	return resp, err
}

// Close keeps the connection for the next payment.
func (k *keptPSAM) Close() error { return nil }

func (t *pcscTerminal) drop(c *pcsc.Card) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == c {
		t.conn = nil
		c.Close()
	}
}

// forget closes the kept PSAM connection, if any; the next payment connects again. A payment
// using it meanwhile fails as it would have (its reader or pcscd is gone).
func (t *pcscTerminal) forget() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn != nil {
		t.conn.Close()
		t.conn = nil
	}
}

// Close forgets the kept connection.
func (t *pcscTerminal) Close() error {
	t.forget()
	return nil
}

// startPayments sets up one-card payments when a PSAM is configured (devices.psam_reader, and a
// card reader) or in the demo (the sample card and PSAM models): the journal over the store, its
// card hashes keyed by the hall key (the demo keeps its key beside its store, as startHall does).
// Without a PSAM the kiosk has no payments: nil, and an error that says so (for kiosk.NoPayments).
// A key that cannot be read leaves payments off, the error for the log. A recovery at start that
// failed leaves them on (both returned): what it could not settle waits for its card.
func startPayments(ctx context.Context, cfg config.Config, k *kiosk.Kiosk, d *Devices, demo bool) (*kiosk.Payments, error) {
	if d.Pay == nil {
		return nil, errors.New("no PSAM reader is configured (devices.psam_reader)")
	}
	key, _, _, err := hallKey(cfg, demo)
	if err != nil {
		return nil, fmt.Errorf("payments off: %w", err)
	}
	p, err := d.usePayments(ctx, k, key, nil)
	if err != nil {
		return p, fmt.Errorf("payments: %w", err)
	}
	return p, nil
}

// usePayments sets payments up on k over d's terminal (kiosk.UsePayments) and keeps them for the
// card reader's taps (tapped). Call it before Watch: the watchers read what it keeps.
func (d *Devices) usePayments(ctx context.Context, k *kiosk.Kiosk, key kiosk.CardHasher, tune func(*payment.Options)) (*kiosk.Payments, error) {
	p, err := k.UsePayments(ctx, key, d.Pay, tune)
	if p != nil {
		d.payments = p
		if d.Sim != nil {
			d.Sim.mu.Lock()
			d.Sim.payments = p
			d.Sim.mu.Unlock()
		}
	}
	return p, err
}

// payTerminal is the payment terminal of the configured readers: nil unless both the card
// reader and the PSAM reader are configured.
func (d *Devices) payTerminal(dc config.Devices) payment.Terminal {
	if d.PCSC == nil || dc.CardReader == "" || dc.PSAMReader == "" {
		return nil
	}
	t := &pcscTerminal{m: d.PCSC, card: dc.CardReader, psam: dc.PSAMReader}
	d.psam = t
	d.closers = append(d.closers, t)
	return t
}

// tapped settles the payments of a city card just read on the card reader, with its connection
// still open (kiosk.Payments.CardTapped: no APDU unless the card has one unsettled).
func (d *Devices) tapped(reader, cardNo string, card *pcsc.Card) {
	if d.payments == nil || !pcsc.MatchReader(d.pcscReaders.card, reader) {
		return
	}
	settled, err := d.payments.CardTapped(context.Background(), cardNo, card)
	if err != nil && !errors.Is(err, context.Canceled) {
		d.log.Warn("payment recovery on a tap failed; the next tap tries again", "reader", reader, "err", err, "settled", len(settled))
	}
}
