package kiosk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/kiosk/payment"
)

// Payments is one-card payments (一卡通缴费) on this kiosk, as UsePayments set them up: what the
// payment screens and the card reader's watcher use. Calling UsePayments again replaces the
// setup behind every Payments already handed out. Its methods are safe for concurrent use.
type Payments struct{ k *Kiosk }

// UsePayments sets up one-card payments over the kiosk's store, clock and event recorder
// (telemetry's outbox, looked up at each event), with the card reader and PSAM of t and the
// card hashes keyed by key (the hall key). tune, when not nil, adjusts the journal's options
// (tests set AfterStep and Grace). It then settles what it can of the journal without a card
// (payment.Journal.RecoverStart), prints the receipts a stop cut off, and reports the payment
// device (error while a payment is undecided). Calling it again replaces the setup.
//
// Without a key or a terminal nothing is set up (nil, an error). A recovery at start that fails
// leaves payments set up (the Payments is returned with the error): the payments it could not
// settle stay open for the next tap of their card, or for staff.
func (k *Kiosk) UsePayments(ctx context.Context, key CardHasher, t payment.Terminal, tune func(*payment.Options)) (*Payments, error) {
	if key == nil || t == nil {
		return nil, errors.New("payments need the hall key and a terminal")
	}
	o := payment.Options{
		Store: k.store, Hash: key.CardHash, Now: k.now, Location: k.sched.Location(),
		Events: func(tx *sql.Tx, typ string, data any) error {
			if r := k.recorder(); r != nil {
				return r.RecordEvent(tx, typ, data)
			}
			return nil
		},
	}
	if tune != nil {
		tune(&o)
	}
	j, err := payment.New(o)
	if err != nil {
		return nil, err
	}
	k.payments.mu.Lock()
	k.payments.j, k.payments.term = j, t
	k.payments.mu.Unlock()
	p := &Payments{k: k}
	rec, err := j.RecoverStart(ctx)
	if err != nil {
		return p, fmt.Errorf("payments: recovery at start: %w", err)
	}
	for _, e := range rec.Settled {
		k.log.Info("payment settled at start", "payment", e.Txn(), "status", e.Status, "reason", e.Reason)
	}
	k.printDue(ctx, j)
	k.armFlag(j)
	k.reportPayments(ctx, j)
	return p, nil
}

// Ready is nil: payments are set up. (NoPayments.Ready says why they are not.)
func (p *Payments) Ready() error { return nil }

// Pay takes the fee of matterID (catalog fee.amount_fen) from the city card on the card reader,
// through the PSAM, and prints the receipt (slip.Receipt). The payment journal makes it safe
// (see package payment): a debit that happened always ends in a record, a payment.completed or
// payment.recovered event and a receipt, and a card is never charged twice.
//
// It refuses, taking nothing, when the kiosk is locked (ErrLocked), the hall is closed
// (*ClosedError), the matter is unknown (ErrUnknownMatter) or free (ErrFree), the printer cannot
// print the receipt (*PrinterError), no card is on the reader (payment.ErrNoCard) or the PSAM
// does not answer (payment.ErrNoPSAM). The card's refusals and faults come as the payment's
// errors: payment.Message(err) is what to tell the citizen, and says first whether money was
// taken. A payment whose DEBIT was in doubt when the card left stays open until the card comes
// back (CardTapped) and is flagged to the hall after payment.DefaultGrace. The same card paying
// the same matter again within payment.DefaultRepeatWindow is refused with
// payment.ErrAlreadyPaid (Paid.Payment is the earlier payment): a double touch must not pay
// twice; PayAgain is for a second payment the citizen confirmed.
func (p *Payments) Pay(ctx context.Context, matterID string) (Paid, error) {
	return p.k.pay(ctx, matterID, false)
}

// PayAgain is Pay for a citizen who confirmed paying the same matter once more.
func (p *Payments) PayAgain(ctx context.Context, matterID string) (Paid, error) {
	return p.k.pay(ctx, matterID, true)
}

// Entry is the journal's payment id as it stands now; an error wrapping payment.ErrNotFound
// when there is none.
func (p *Payments) Entry(ctx context.Context, id int64) (payment.Entry, error) {
	j, _ := p.k.paySet()
	return j.Get(ctx, id)
}

// CardTapped settles the unsettled payments of a city card just tapped (its number read by the
// rig, card the connection still open on it): a card without any costs one query and no APDU.
// It returns the payments settled (paid ones got their receipt printed), and an error when the
// card could not be read for it (the entries stay as they were, for the next tap). A nil card
// settles nothing.
func (p *Payments) CardTapped(ctx context.Context, cardNo string, card citycard.Card) ([]payment.Entry, error) {
	k := p.k
	j, _ := k.paySet()
	if card == nil {
		return nil, nil
	}
	pending, err := j.Pending(ctx, cardNo)
	if err != nil || !pending {
		return nil, err
	}
	rec, err := j.Recover(ctx, card)
	out := append(rec.Settled, rec.Flagged...)
	for i, e := range out {
		if e.Status == payment.StatusPaid && e.Receipt == payment.ReceiptNone {
			k.printReceipt(context.WithoutCancel(ctx), j, &out[i])
		}
		k.log.Info("payment settled on a tap of its card", "payment", e.Txn(), "status", e.Status, "reason", e.Reason)
	}
	k.armFlag(j)
	k.reportPayments(context.WithoutCancel(ctx), j)
	return out, err
}

// receiptsUnprinted is StaffHandle.ReceiptsUnprinted.
func (k *Kiosk) receiptsUnprinted(ctx context.Context) ([]payment.Entry, error) {
	if j, _ := k.paySet(); j == nil {
		return nil, ErrNoPayments
	}
	loc := k.sched.Location()
	r, err := payment.DailyReport(ctx, k.store.DB(), k.now().In(loc).Format(time.DateOnly), loc)
	if err != nil {
		return nil, err
	}
	var out []payment.Entry
	for _, e := range r.Entries {
		if e.Status == payment.StatusPaid && e.Receipt != payment.ReceiptPrinted {
			out = append(out, e)
		}
	}
	return out, nil
}

// NoPayments stands in for Payments on a kiosk that runs without one-card payments (no PSAM
// reader configured, the hall key unreadable): handed to the screens in their place at wiring, it
// says why (Ready), and the pay buttons show as unavailable. Its methods refuse, taking nothing,
// with Ready's error.
type NoPayments struct {
	// Reason is why there are no payments, for the log; nil says only ErrNoPayments.
	Reason error
}

// Ready is ErrNoPayments, with Reason when there is one.
func (n NoPayments) Ready() error { return unavailable(ErrNoPayments, n.Reason) }

// Pay refuses with Ready's error.
func (n NoPayments) Pay(context.Context, string) (Paid, error) { return Paid{}, n.Ready() }

// PayAgain refuses with Ready's error.
func (n NoPayments) PayAgain(context.Context, string) (Paid, error) { return Paid{}, n.Ready() }

// Entry refuses with Ready's error: there is no journal.
func (n NoPayments) Entry(context.Context, int64) (payment.Entry, error) {
	return payment.Entry{}, n.Ready()
}

// unavailable is the error of a service the kiosk runs without: what (ErrNoHall, ErrNoPayments),
// with why when known.
func unavailable(what, why error) error {
	switch {
	case why == nil:
		return what
	case errors.Is(why, what):
		return why
	}
	return fmt.Errorf("%w: %w", what, why)
}
