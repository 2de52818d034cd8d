package kiosk

import (
	"context"
	"database/sql"
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

// UsePayments sets up one-card payments over the kiosk's store, clock and event recorder
// (telemetry's outbox, looked up at each event), with the card reader and PSAM of t and the
// card hashes keyed by key (the hall key). tune, when not nil, adjusts the journal's options
// (tests set AfterStep and Grace). It then settles what it can of the journal without a card
// (payment.Journal.RecoverStart), prints the receipts a stop cut off, and reports the payment
// device (error while a payment is undecided). Calling it again replaces the setup.
func (k *Kiosk) UsePayments(ctx context.Context, key CardHasher, t payment.Terminal, tune func(*payment.Options)) (*payment.Journal, error) {
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
	rec, err := j.RecoverStart(ctx)
	if err != nil {
		return j, fmt.Errorf("payments: recovery at start: %w", err)
	}
	for _, e := range rec.Settled {
		k.log.Info("payment settled at start", "payment", e.Txn(), "status", e.Status, "reason", e.Reason)
	}
	k.printDue(ctx, j)
	k.armFlag(j)
	k.reportPayments(ctx, j)
	return j, nil
}

// Payments returns the payment journal, nil before UsePayments.
func (k *Kiosk) Payments() *payment.Journal {
	j, _ := k.paySet()
	return j
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

// Pay takes the fee of matterID (catalog fee.amount_fen) from the city card on the card reader,
// through the PSAM, and prints the receipt (slip.Receipt). The payment journal makes it safe
// (see package payment): a debit that happened always ends in a record, a payment.completed or
// payment.recovered event and a receipt, and a card is never charged twice.
//
// It refuses, taking nothing, when the kiosk is locked (ErrLocked), the hall is closed
// (*ClosedError), the matter is unknown (ErrUnknownMatter) or free (ErrFree), payments are not
// set up (ErrNoPayments), the printer cannot print the receipt (*PrinterError), no card is on
// the reader (payment.ErrNoCard) or the PSAM does not answer (payment.ErrNoPSAM). The card's
// refusals and faults come as the payment's errors: payment.Message(err) is what to tell the
// citizen, and says first whether money was taken. A payment whose DEBIT was in doubt when the
// card left stays open until the card comes back (CardTapped) and is flagged to the hall after
// payment.DefaultGrace. The same card paying the same matter again within
// payment.DefaultRepeatWindow is refused with payment.ErrAlreadyPaid (Paid.Payment is the earlier
// payment): a double touch must not pay twice; PayAgain is for a second payment the citizen
// confirmed.
func (k *Kiosk) Pay(ctx context.Context, matterID string) (Paid, error) {
	return k.pay(ctx, matterID, false)
}

// PayAgain is Pay for a citizen who confirmed paying the same matter once more.
func (k *Kiosk) PayAgain(ctx context.Context, matterID string) (Paid, error) {
	return k.pay(ctx, matterID, true)
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
		k.cardPaid(res.Entry)
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
// is recognised by its masked number (the journal keeps no other); a session with another card,
// or none, is left alone. A new copy goes into the session (which wipes the old one): screens
// read the card afresh from the session each time they are drawn.
func (k *Kiosk) cardPaid(e payment.Entry) {
	c := k.CityCard()
	if c == nil || c.Masked() != e.CardMasked {
		return
	}
	n := *c
	n.BalanceFen = e.BalanceAfterFen()
	rec := CardRecord{Time: e.Time(k.sched.Location()), Type: citycard.TxPurchase.String(), AmountFen: e.AmountFen}
	n.Records = append([]CardRecord{rec}, c.Records...)
	k.sessions.Put(keyCity, &n)
}

// CardTapped settles the unsettled payments of a city card just tapped (its number read by the
// rig, card the connection still open on it): a card without any costs one query and no APDU.
// It returns the payments settled (paid ones got their receipt printed), and an error when the
// card could not be read for it (the entries stay as they were, for the next tap).
func (k *Kiosk) CardTapped(ctx context.Context, cardNo string, card citycard.Card) ([]payment.Entry, error) {
	j, _ := k.paySet()
	if j == nil || card == nil {
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

// ReprintReceipt prints a paid payment's receipt again (staff, after a printer fault) and
// records it.
func (k *Kiosk) ReprintReceipt(ctx context.Context, id int64) error {
	_, err := k.reprintReceipt(ctx, id)
	return err
}

// reprintReceipt is ReprintReceipt giving the entry as it stands afterwards (zero when there is
// no such paid payment).
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

// ReceiptsUnprinted lists today's paid payments (the day of their intent, in the hall's zone)
// whose receipt did not come out: failed at the printer, or never attempted (a stop between the
// debit and the printer that the start could not print either). Oldest first; none is an empty
// list. Without payments set up it returns ErrNoPayments. A payment of an earlier day no longer
// shows: staff look those up with kioskctl payments.
func (k *Kiosk) ReceiptsUnprinted(ctx context.Context) ([]payment.Entry, error) {
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
