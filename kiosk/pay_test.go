package kiosk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/citycard/psamsim"
	"citizenhome/devices/escpos"
	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/payment/paymenttest"
	"citizenhome/telemetry/wire"
)

type testHasher struct{}

func (testHasher) CardHash(no string) []byte {
	m := hmac.New(sha256.New, []byte("kiosk test key"))
	m.Write([]byte(no))
	return m.Sum(nil)
}

// events records event types, in the transaction (a rolled back one would still be seen, but
// no test here rolls back after recording).
type events struct {
	mu    sync.Mutex
	types []string
	data  []any
}

func (e *events) RecordEvent(_ *sql.Tx, typ string, data any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.types, e.data = append(e.types, typ), append(e.data, data)
	return nil
}

func (e *events) count(typ string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, t := range e.types {
		if t == typ {
			n++
		}
	}
	return n
}

type payRig struct {
	*rigT
	pay  *Payments
	card *cardsim.Card
	psam *psamsim.PSAM
	term *paymenttest.Terminal
	ev   *events
}

func newPayRig(t *testing.T, tune func(*payment.Options)) *payRig {
	t.Helper()
	r := newRig(t, nil)
	card, err := cardsim.New(cardsim.Sample())
	if err != nil {
		t.Fatal(err)
	}
	psam, err := psamsim.New(psamsim.Sample())
	if err != nil {
		t.Fatal(err)
	}
	p := &payRig{rigT: r, card: card, psam: psam, term: paymenttest.NewTerminal(card, psam), ev: &events{}}
	r.k.SetEventRecorder(p.ev)
	if p.pay, err = r.k.UsePayments(context.Background(), testHasher{}, p.term, tune); err != nil {
		t.Fatal(err)
	}
	return p
}

// docText is the text of a document's text blocks, one per line.
func docText(d escpos.Doc) string {
	var b strings.Builder
	for _, bl := range d.Blocks {
		if t, ok := bl.(escpos.Text); ok {
			b.WriteString(t.Text + "\n")
		}
	}
	return b.String()
}

// payEventually polls cond until it holds, failing after 5 s.
func payEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// paidMatter is a demo matter with a fee served on weekdays: zh-001, 20.00 元.
const paidMatter = "zh-001"

func TestPayPrintsReceipt(t *testing.T) {
	p := newPayRig(t, nil)
	paid, err := p.pay.Pay(context.Background(), paidMatter)
	if err != nil {
		t.Fatal(err)
	}
	e := paid.Payment
	if e.Status != payment.StatusPaid || e.Receipt != payment.ReceiptPrinted || paid.PrintErr != nil || e.AmountFen != paid.Matter.Fee.AmountFen {
		t.Fatalf("paid %+v", paid)
	}
	if got := p.card.Balance(); got != 12345-e.AmountFen {
		t.Errorf("balance %d", got)
	}
	if p.p.Printed() != 1 {
		t.Fatalf("%d print jobs", p.p.Printed())
	}
	txt := docText(p.p.Doc(0))
	for _, want := range []string{"缴费凭证", e.TAC, e.Txn(), "3104********5678", "20.00 元", "103.45 元"} {
		if !strings.Contains(txt, want) {
			t.Errorf("receipt lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "3104000012345678") {
		t.Error("receipt prints the full card number")
	}
	if p.ev.count(wire.EventPaymentCompleted) != 1 || len(p.ev.types) != 1 {
		t.Errorf("events %v", p.ev.types)
	}
	if d := p.k.Devices()[DevicePayment]; d.State != StateOK {
		t.Errorf("payment device %+v", d)
	}
	// A double touch does not pay twice.
	p.term.SetCard(p.card)
	again, err := p.pay.Pay(context.Background(), paidMatter)
	if !errors.Is(err, payment.ErrAlreadyPaid) || again.Payment.ID != e.ID || p.card.Balance() != 12345-e.AmountFen {
		t.Fatalf("second pay: %v %v balance %d", err, again.Payment, p.card.Balance())
	}
	if _, err := p.pay.PayAgain(context.Background(), paidMatter); err != nil {
		t.Fatal(err)
	}
	if p.card.Balance() != 12345-2*e.AmountFen || p.p.Printed() != 2 {
		t.Errorf("pay again: balance %d, %d receipts", p.card.Balance(), p.p.Printed())
	}
}

func TestPayRefusesBeforeCharging(t *testing.T) {
	p := newPayRig(t, nil)
	ctx := context.Background()
	var free string
	for _, m := range p.k.Catalog().All() {
		if m.Fee.Free && !m.Weekend {
			free = m.ID
		}
	}
	if _, err := p.pay.Pay(ctx, free); !errors.Is(err, ErrFree) {
		t.Errorf("free matter: %v", err)
	}
	if _, err := p.pay.Pay(ctx, "no-such"); !errors.Is(err, ErrUnknownMatter) {
		t.Errorf("unknown matter: %v", err)
	}
	p.p.Set(outStatus, nil, nil)
	if _, err := p.pay.Pay(ctx, paidMatter); !errors.Is(err, ErrNoPrinter) {
		t.Errorf("paper out: %v", err)
	}
	p.p.Set(okStatus, nil, nil)
	hallCmd(p.k).Lock(ctx, "")
	if _, err := p.pay.Pay(ctx, paidMatter); !errors.Is(err, ErrLocked) {
		t.Errorf("locked: %v", err)
	}
	hallCmd(p.k).Unlock(ctx)
	p.term.SetCard(nil)
	if _, err := p.pay.Pay(ctx, paidMatter); !errors.Is(err, payment.ErrNoCard) {
		t.Errorf("no card: %v", err)
	}
	if p.card.Count(cardsim.CmdInitPurchase) != 0 || p.p.Printed() != 0 || len(p.ev.types) != 0 {
		t.Error("something was sent, printed or recorded")
	}
	if _, err := (NoPayments{}).Pay(ctx, paidMatter); !errors.Is(err, ErrNoPayments) {
		t.Errorf("no payments: %v", err)
	}
}

// TestPayReceiptFails: the printer fails the receipt after the debit: the payment stands,
// the receipt is marked failed, staff reprint it.
func TestPayReceiptFails(t *testing.T) {
	p := newPayRig(t, nil)
	p.p.Set(okStatus, nil, errors.New("paper jam"))
	paid, err := p.pay.Pay(context.Background(), paidMatter)
	if err != nil || paid.PrintErr == nil || paid.Payment.Status != payment.StatusPaid || paid.Payment.Receipt != payment.ReceiptFailed {
		t.Fatalf("err %v paid %+v", err, paid)
	}
	p.p.Set(okStatus, nil, nil)
	if _, err := hallCmd(p.k).ReprintReceipt(context.Background(), paid.Payment.ID); err != nil {
		t.Fatal(err)
	}
	e, _ := p.pay.Entry(context.Background(), paid.Payment.ID)
	if e.Receipt != payment.ReceiptPrinted || p.p.Printed() != 1 {
		t.Errorf("after reprint: %v %s, %d jobs", e, e.Receipt, p.p.Printed())
	}
}

// TestPayTornThenTapped: the card leaves with DEBIT carried out; its next tap settles it: a
// receipt, a payment.recovered event, the right balance.
func TestPayTornThenTapped(t *testing.T) {
	p := newPayRig(t, nil)
	p.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true, After: true})
	paid, err := p.pay.Pay(context.Background(), paidMatter)
	if m := payment.Message(err); m != citycard.MsgUnknown {
		t.Fatalf("err %v: message %q", err, m.En)
	}
	if paid.Payment.Status != payment.StatusOpen || p.p.Printed() != 0 {
		t.Fatalf("torn payment %v, %d receipts", paid.Payment, p.p.Printed())
	}
	p.card.Reinsert()
	settled, err := p.pay.CardTapped(context.Background(), "3104000012345678", p.card)
	if err != nil || len(settled) != 1 || settled[0].Status != payment.StatusPaid || settled[0].Receipt != payment.ReceiptPrinted {
		t.Fatalf("tap: %v %v", settled, err)
	}
	if p.ev.count(wire.EventPaymentRecovered) != 1 || p.p.Printed() != 1 || p.card.Balance() != 12345-2000 {
		t.Errorf("events %v, %d receipts, balance %d", p.ev.types, p.p.Printed(), p.card.Balance())
	}
	// A card with nothing pending costs no APDU.
	n := len(p.card.Log())
	if s, err := p.pay.CardTapped(context.Background(), "3104000012345678", p.card); err != nil || s != nil || len(p.card.Log()) != n {
		t.Errorf("second tap: %v %v, %d APDUs", s, err, len(p.card.Log())-n)
	}
}

// TestPayUndecidedRaisesDevice: a torn payment whose card never comes back within the grace is
// flagged: the payment device goes to error (the telemetry agent's alert), and back to ok once
// the card settles it.
func TestPayUndecidedRaisesDevice(t *testing.T) {
	p := newPayRig(t, func(o *payment.Options) { o.Grace = 1 }) // 1 ns: overdue at once
	p.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true})
	p.pay.Pay(context.Background(), paidMatter)
	p.clock.Set(p.clock.Now().Add(time.Minute)) // the card does not come back
	payEventually(t, "the payment device in error", func() bool { return p.k.Devices()[DevicePayment].State == StateError })
	if d := p.k.Devices()[DevicePayment]; !strings.Contains(d.Detail, "undecided") {
		t.Errorf("detail %q", d.Detail)
	}
	p.card.Reinsert()
	settled, err := p.pay.CardTapped(context.Background(), "3104000012345678", p.card)
	if err != nil || len(settled) != 1 || settled[0].Status != payment.StatusNotCharged {
		t.Fatalf("tap: %v %v", settled, err)
	}
	if d := p.k.Devices()[DevicePayment]; d.State != StateOK {
		t.Errorf("payment device after settling: %+v", d)
	}
	if p.card.Balance() != 12345 || p.p.Printed() != 0 || len(p.ev.types) != 0 {
		t.Errorf("balance %d, %d receipts, events %v", p.card.Balance(), p.p.Printed(), p.ev.types)
	}
}

// TestPayRestartPrintsDueReceipt: the kiosk stops after the debit is journaled; the next start
// completes the record (payment.recovered) and prints the receipt.
func TestPayRestartPrintsDueReceipt(t *testing.T) {
	p := newPayRig(t, func(o *payment.Options) {
		o.AfterStep = func(s payment.Step) {
			if s == payment.StepDebited {
				panic("power cut")
			}
		}
	})
	func() {
		defer func() { recover() }()
		p.pay.Pay(context.Background(), paidMatter)
	}()
	if p.p.Printed() != 0 {
		t.Fatal("printed before the cut")
	}
	if _, err := p.k.UsePayments(context.Background(), testHasher{}, p.term, nil); err != nil {
		t.Fatal(err)
	}
	if p.p.Printed() != 1 || p.ev.count(wire.EventPaymentRecovered) != 1 || len(p.ev.types) != 1 {
		t.Fatalf("%d receipts, events %v", p.p.Printed(), p.ev.types)
	}
	j, _ := p.k.paySet()
	due, _ := j.ReceiptsDue(context.Background())
	if len(due) != 0 || p.card.Balance() != 12345-2000 {
		t.Errorf("due %v, balance %d", due, p.card.Balance())
	}
}
