package kiosk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/slip"
)

// DevicePayment is the payment journal as a device of the status snapshot: ok while every
// payment is settled, error while one is undecided (the telemetry agent raises the alert
// "payment-error" for it, as for any device in error), absent without payments.
const DevicePayment = "payment"

// ErrNoPayments: the kiosk has no one-card payments (no PSAM reader, or UsePayments not called).
var ErrNoPayments = errors.New("one-card payments are not set up on this kiosk")

// ErrFree: the matter has no fee to pay.
var ErrFree = errors.New("this matter has no fee")

// CardHasher gives the keyed hash of a city card number; civic.Key is one.
type CardHasher interface {
	CardHash(cardNo string) []byte
}

// paySetup holds the payments once UsePayments installed them (the Kiosk's payments field).
type paySetup struct {
	mu    sync.Mutex
	j     *payment.Journal
	term  payment.Terminal
	timer *time.Timer // flags torn payments whose card does not come back within Grace
}

func (k *Kiosk) paySet() (*payment.Journal, payment.Terminal) {
	k.payments.mu.Lock()
	defer k.payments.mu.Unlock()
	return k.payments.j, k.payments.term
}

// Paid is what a tap to pay gave.
type Paid struct {
	// Payment is the journal entry: Status paid when the money was taken. With
	// payment.ErrAlreadyPaid, the earlier payment of this matter.
	Payment payment.Entry
	Matter  *catalog.Matter
	// PrintErr is nil when the receipt was printed. Otherwise the payment stands (it is
	// recorded) and its receipt is marked failed for staff to reprint (ReprintReceipt).
	PrintErr error
	// Settled are earlier payments of this card that the tap settled; paid ones got their
	// receipt printed too.
	Settled []payment.Entry
	// BalanceFen is the card's balance as this tap left it, for the screen: after the debit
	// when the money was taken; read from the card when it refused for insufficient balance
	// (94 01 carries none); -1 when unknown (any other outcome, or the card gone).
	BalanceFen int64
}

func (k *Kiosk) pay(ctx context.Context, matterID string, allowRepeat bool) (Paid, error) {
	if _, err := k.serving(); err != nil {
		return Paid{}, err
	}
	m := k.catalog.Current().Matter(matterID)
	if m == nil {
		return Paid{}, fmt.Errorf("%w: %q", ErrUnknownMatter, matterID)
	}
	if m.Fee.Free || m.Fee.AmountFen <= 0 {
		return Paid{Matter: m}, ErrFree
	}
	j, term := k.paySet()
	if j == nil {
		return Paid{Matter: m}, ErrNoPayments
	}
	if err := k.printerReady(ctx); err != nil {
		return Paid{Matter: m}, err
	}
	card, err := term.Card(ctx)
	if err != nil {
		return Paid{Matter: m}, err
	}
	defer card.Close()
	psam, err := term.PSAM(ctx)
	if err != nil {
		return Paid{Matter: m}, err
	}
	defer psam.Close()
	done := k.sessions.Begin()
	defer done()
	res, err := j.Pay(ctx, card, psam, payment.Request{Matter: m.ID, AmountFen: m.Fee.AmountFen, AllowRepeat: allowRepeat})
	paid := Paid{Payment: res.Entry, Matter: m, Settled: res.Settled, BalanceFen: -1}
	switch {
	case res.Entry.Status == payment.StatusPaid && res.Entry.BalanceBeforeFen >= 0 && !errors.Is(err, payment.ErrAlreadyPaid):
		paid.BalanceFen = res.Entry.BalanceAfterFen()
		k.cardPaid(ctx, j, res.Entry)
	case errors.Is(err, citycard.ErrInsufficientBalance):
		// One GET BALANCE on the card that just refused: the citizen wants to know how much
		// is missing.
		if b, berr := citycard.NewSession(card).Balance(); berr == nil {
			paid.BalanceFen = b
		}
	}
	pctx := context.WithoutCancel(ctx) // a debit that happened gets its receipt whatever the caller does
	for i, e := range paid.Settled {
		if e.Status == payment.StatusPaid && e.Receipt == payment.ReceiptNone {
			k.printReceipt(pctx, j, &paid.Settled[i])
		}
	}
	if e := paid.Payment; e.Status == payment.StatusPaid && e.Receipt == payment.ReceiptNone {
		paid.PrintErr = k.printReceipt(pctx, j, &paid.Payment)
	}
	var pe *citycard.PurchaseError
	if errors.As(err, &pe) && pe.Outcome != citycard.OutcomeNotDebited {
		k.log.Warn("payment torn", "payment", paid.Payment.Txn(), "outcome", pe.Outcome, "err", err)
	}
	k.armFlag(j)
	k.reportPayments(pctx, j)
	return paid, err
}

// cardPaid brings the session's city card (what the one-card screen shows) up to date with a
// payment just made from it: its balance after and the purchase on top of its records. The card
// is recognised by its keyed hash (payment.Journal.SameCard): a masked number is shared by many
// cards, and by every card of 8 digits or fewer. A session with another card, or none, is left
// alone, and so is the session when the journal cannot tell. A new copy goes into the session
// (which wipes the old one): screens read the card afresh from the session each time they are
// drawn.
func (k *Kiosk) cardPaid(ctx context.Context, j *payment.Journal, e payment.Entry) {
	c := k.CityCard()
	if c == nil {
		return
	}
	if same, err := j.SameCard(ctx, e.ID, c.CardNo); err != nil || !same {
		return
	}
	n := *c
	n.BalanceFen = e.BalanceAfterFen()
	rec := CardRecord{Time: e.Time(k.sched.Location()), Type: citycard.TxPurchase.String(), AmountFen: e.AmountFen}
	n.Records = append([]CardRecord{rec}, c.Records...)
	k.sessions.Put(keyCity, &n)
}

// reprintReceipt prints a paid payment's receipt again (StaffHandle.ReprintReceipt) and gives
// the entry as it stands afterwards (zero when there is no such paid payment).
func (k *Kiosk) reprintReceipt(ctx context.Context, id int64) (payment.Entry, error) {
	j, _ := k.paySet()
	if j == nil {
		return payment.Entry{}, ErrNoPayments
	}
	e, err := j.Get(ctx, id)
	if err != nil {
		return payment.Entry{}, err
	}
	if e.Status != payment.StatusPaid {
		return payment.Entry{}, fmt.Errorf("%w: payment %s is %s, not paid", payment.ErrNotFound, e.Txn(), e.Status)
	}
	if err := k.printerReady(ctx); err != nil {
		return e, err
	}
	return e, k.printReceipt(ctx, j, &e)
}

// printReceipt prints e's receipt and journals the outcome (e is updated).
func (k *Kiosk) printReceipt(ctx context.Context, j *payment.Journal, e *payment.Entry) error {
	var perr error
	if k.printer == nil {
		perr = &PrinterError{State: StateAbsent}
	} else if pe := k.printDoc(ctx, k.receiptSlip(*e).Doc()); pe != nil {
		perr = pe
	}
	if err := j.SetReceipt(ctx, e.ID, perr); err != nil {
		k.log.Error("receipt outcome not journaled", "payment", e.Txn(), "err", err)
	} else if n, err := j.Get(ctx, e.ID); err == nil {
		*e = n
	}
	if perr != nil {
		k.log.Warn("receipt not printed; staff can reprint it", "payment", e.Txn(), "err", perr)
	}
	return perr
}

func (k *Kiosk) receiptSlip(e payment.Entry) slip.Receipt {
	r := slip.Receipt{
		Hall: k.cfg.Hall.Name, HallEn: k.cfg.Hall.NameEn, KioskID: k.cfg.Kiosk.ID,
		FeeFen: e.AmountFen, BalanceFen: e.BalanceAfterFen(), CardNo: e.CardMasked, TAC: e.TAC, Txn: e.Txn(),
		Time: e.Time(k.sched.Location()), English: k.cfg.Devices.PrinterEnglish, Demo: k.demo, Loc: k.sched.Location(),
	}
	if m := k.catalog.Current().Matter(e.Matter); m != nil {
		r.Matter = m.Name
	} else {
		r.Matter = catalog.Text{Zh: e.Matter, En: e.Matter}
	}
	if r.TAC == "" {
		r.TAC = "-" // recovered from the card's log without its proof: the clearing centre settles it
	}
	return r
}

// printDue prints the receipts of paid entries a stop cut off before their printing.
func (k *Kiosk) printDue(ctx context.Context, j *payment.Journal) {
	due, err := j.ReceiptsDue(ctx)
	if err != nil {
		k.log.Error("payments: receipts due not read", "err", err)
		return
	}
	for i := range due {
		k.printReceipt(ctx, j, &due[i])
	}
}

// armFlag has the journal flag, once Grace has passed, the torn payments whose card has not
// come back by then.
func (k *Kiosk) armFlag(j *payment.Journal) {
	ctx := context.Background()
	uns, err := j.Unsettled(ctx)
	if err != nil {
		return
	}
	waiting := false
	for _, e := range uns {
		if e.Status == payment.StatusOpen && e.Step == payment.StepDebitSent {
			waiting = true
		}
	}
	k.payments.mu.Lock()
	defer k.payments.mu.Unlock()
	if k.payments.timer != nil {
		k.payments.timer.Stop()
		k.payments.timer = nil
	}
	if !waiting {
		return
	}
	k.payments.timer = time.AfterFunc(j.Grace()+time.Second, func() {
		flagged, _, err := j.FlagOverdue(ctx)
		if err != nil {
			k.log.Error("payments: flagging torn payments", "err", err)
		}
		for _, e := range flagged {
			k.log.Warn("payment undecided: its card did not come back; staff must settle it", "payment", e.Txn())
		}
		k.reportPayments(ctx, j)
		k.armFlag(j)
	})
}

// reportPayments sets the payment device: error while a payment is undecided.
func (k *Kiosk) reportPayments(ctx context.Context, j *payment.Journal) {
	n, err := j.Undecided(ctx)
	switch {
	case err != nil:
		k.SetDevice(DevicePayment, StateError, "payment journal unreadable: "+err.Error())
	case n > 0:
		k.SetDevice(DevicePayment, StateError, fmt.Sprintf("%d payment(s) undecided: the card could not tell whether it was charged; settle with the clearing centre (kioskctl payments)", n))
	default:
		k.SetDevice(DevicePayment, StateOK, "")
	}
}
