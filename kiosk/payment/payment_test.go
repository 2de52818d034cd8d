package payment_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/citycard/psamsim"
	"citizenhome/kiosk/kiosktest"
	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/payment/paymenttest"
	"citizenhome/kiosk/store"
	"citizenhome/telemetry/wire"
)

const (
	fullCard     = "3104000012345678" // cardsim.Sample
	startBalance = 12345
	fee          = 2500
	matter       = "bdc-002"
)

var t0 = time.Date(2026, 11, 26, 9, 30, 5, 0, citycard.ChinaTime)

// event is one recorded event, kept only once its transaction committed.
type event struct {
	typ  string
	data payment.Event
}

type env struct {
	t      testing.TB
	st     *store.Store
	clk    *kiosktest.Clock
	card   *cardsim.Card
	psam   *psamsim.PSAM
	term   *paymenttest.Terminal
	j      *payment.Journal
	steps  []payment.Step
	stop   payment.Step // AfterStep panics (a crash) after this step is journaled
	mu     sync.Mutex
	events []event
}

type crash struct{ at payment.Step }

func hash(no string) []byte {
	m := hmac.New(sha256.New, []byte("test hall key"))
	m.Write([]byte(no))
	return m.Sum(nil)
}

func newEnv(t testing.TB, editCard func(*cardsim.Config), editPSAM func(*psamsim.Config)) *env {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cc := cardsim.Sample()
	pc := *cc.Purchase
	cc.Purchase = &pc
	if editCard != nil {
		editCard(&cc)
	}
	card, err := cardsim.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	ps := psamsim.Sample()
	if editPSAM != nil {
		editPSAM(&ps)
	}
	psam, err := psamsim.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, clk: kiosktest.NewClock(t0), card: card, psam: psam, term: paymenttest.NewTerminal(card, psam)}
	e.j = e.journal()
	return e
}

// journal opens a journal over the env's store, as a (re)started kiosk does.
func (e *env) journal() *payment.Journal {
	j, err := payment.New(payment.Options{
		Store: e.st, Hash: hash, Now: e.clk.Now,
		Events: func(tx *sql.Tx, typ string, data any) error {
			ev := data.(payment.Event)
			// Kept in the table too, so that a rolled-back step leaves no event behind.
			b, _ := json.Marshal(ev)
			if _, err := tx.Exec(`INSERT INTO telemetry_outbox (id, ts, type, data) VALUES (?, ?, ?, ?)`,
				fmt.Sprintf("ev-%d", time.Now().UnixNano()), 0, typ, string(b)); err != nil {
				return err
			}
			e.mu.Lock()
			e.events = append(e.events, event{typ, ev})
			e.mu.Unlock()
			return nil
		},
		AfterStep: func(s payment.Step) {
			e.steps = append(e.steps, s)
			if s == e.stop {
				panic(crash{s})
			}
		},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return j
}

func (e *env) pay(r payment.Request) (payment.Result, error) {
	e.t.Helper()
	card, err := e.term.Card(context.Background())
	if err != nil {
		return payment.Result{}, err
	}
	psam, err := e.term.PSAM(context.Background())
	if err != nil {
		return payment.Result{}, err
	}
	return e.j.Pay(context.Background(), card, psam, r)
}

// payCrash pays until AfterStep "crashes" at step.
func (e *env) payCrash(step payment.Step) {
	e.t.Helper()
	e.stop = step
	defer func() {
		e.stop = ""
		r := recover()
		if c, ok := r.(crash); !ok || c.at != step {
			e.t.Fatalf("wanted a crash at %s, got %v", step, r)
		}
	}()
	e.pay(payment.Request{Matter: matter, AmountFen: fee})
}

// outbox counts the events committed to the store, by type.
func (e *env) outbox() map[string]int {
	e.t.Helper()
	rows, err := e.st.DB().Query(`SELECT type FROM telemetry_outbox`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var typ string
		rows.Scan(&typ)
		out[typ]++
	}
	return out
}

func (e *env) entries() []payment.Entry {
	e.t.Helper()
	r, err := payment.DailyReport(context.Background(), e.st.DB(), "2026-11-26", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.Entries
}

// agree checks the invariants every test ends with: the card's balance is the start less the
// paid entries (no double debit, no debit without a record), each paid entry has exactly one
// event, and the card's log holds exactly one purchase record per paid entry.
func (e *env) agree(wantPaid int) {
	e.t.Helper()
	paid := 0
	var sum int64
	for _, en := range e.entries() {
		if en.Status == payment.StatusPaid {
			paid++
			sum += en.AmountFen
		}
	}
	if paid != wantPaid {
		e.t.Errorf("paid entries = %d, want %d", paid, wantPaid)
	}
	if got := e.card.Balance(); got != startBalance-sum {
		e.t.Errorf("card balance %d, journal says %d paid: want %d", got, sum, startBalance-sum)
	}
	ob := e.outbox()
	if n := ob[wire.EventPaymentCompleted] + ob[wire.EventPaymentRecovered]; n != paid {
		e.t.Errorf("%d payment events (%v) for %d paid entries", n, ob, paid)
	}
	if n := e.card.Count(cardsim.CmdDebit); n < paid {
		e.t.Errorf("%d DEBIT commands for %d paid entries", n, paid)
	}
}

func TestPay(t *testing.T) {
	e := newEnv(t, nil, nil)
	res, err := e.pay(payment.Request{Matter: matter, AmountFen: fee})
	if err != nil {
		t.Fatal(err)
	}
	en := res.Entry
	if en.Status != payment.StatusPaid || en.Step != payment.StepConfirmed || !en.MAC2Verified || en.Recovered {
		t.Fatalf("entry %v: mac2 %v recovered %v", en, en.MAC2Verified, en.Recovered)
	}
	if en.CardMasked != "3104********5678" || en.AmountFen != fee || en.Matter != matter || en.Closed.IsZero() {
		t.Errorf("entry fields: %+v", en)
	}
	if en.BalanceBeforeFen != startBalance || en.BalanceAfterFen() != startBalance-fee || en.OfflineSerial != 13 ||
		en.Terminal != "475000000301" || en.TerminalSerial != 1000 || len(en.TAC) != 8 {
		t.Errorf("entry card data: before %d after %d serial %d terminal %s tserial %d tac %q",
			en.BalanceBeforeFen, en.BalanceAfterFen(), en.OfflineSerial, en.Terminal, en.TerminalSerial, en.TAC)
	}
	if en.Txn() != fmt.Sprintf("20261126%06d", en.ID) {
		t.Errorf("txn %s", en.Txn())
	}
	want := []payment.Step{payment.StepIntent, payment.StepInit, payment.StepDebitSent, payment.StepDebited, payment.StepConfirmed}
	if !slices.Equal(e.steps, want) {
		t.Errorf("journal steps %v, want %v", e.steps, want)
	}
	if len(e.events) != 1 || e.events[0].typ != wire.EventPaymentCompleted {
		t.Fatalf("events %v", e.events)
	}
	ev := e.events[0].data
	if ev.TAC != en.TAC || ev.AmountFen != fee || ev.Card != "3104********5678" || !ev.MAC2Verified ||
		ev.BalanceAfterFen != startBalance-fee || ev.Txn != en.Txn() || ev.Time != "2026-11-26T09:30:05+08:00" {
		t.Errorf("event %+v", ev)
	}
	// The TAC is the card's, as the clearing centre will check it.
	if tacOnCard := lastTAC(t, e.card); tacOnCard != en.TAC {
		t.Errorf("journal TAC %s, the card's %s", en.TAC, tacOnCard)
	}
	e.agree(1)
}

// lastTAC asks the card itself for the TAC of its last transaction.
func lastTAC(t *testing.T, c *cardsim.Card) string {
	t.Helper()
	c.Reinsert()
	s := citycard.NewSession(c)
	if _, err := s.Select(); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Records(1)
	if err != nil || len(recs) == 0 {
		t.Fatal(err)
	}
	p, err := s.Prove(recs[0].Serial, citycard.TxPurchase)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ToUpper(hex.EncodeToString(p.TAC[:]))
}

func TestPayPrivacy(t *testing.T) {
	e := newEnv(t, nil, nil)
	if _, err := e.pay(payment.Request{Matter: matter, AmountFen: fee}); err != nil {
		t.Fatal(err)
	}
	serial, _ := hex.DecodeString("3104000012345678")
	rows, err := e.st.DB().Query(`SELECT * FROM payment`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		rows.Scan(ptrs...)
		for i, v := range vals {
			var b []byte
			switch x := v.(type) {
			case []byte:
				b = x
			case string:
				b = []byte(x)
			}
			if bytes.Contains(b, []byte(fullCard)) || bytes.Contains(b, serial) {
				t.Errorf("column %s holds the card number", cols[i])
			}
		}
	}
	for _, ev := range e.events {
		b, _ := json.Marshal(ev.data)
		if strings.Contains(string(b), fullCard) {
			t.Errorf("event holds the card number: %s", b)
		}
	}
	if s := fmt.Sprintf("%v %+v", e.entries()[0], e.entries()[0]); strings.Contains(s, fullCard) {
		t.Errorf("entry prints the card number: %s", s)
	}
}

// TestPayRefused: each refusal takes nothing, closes the journal entry (or writes none when the
// card cannot even be selected) and tells the citizen so.
func TestPayRefused(t *testing.T) {
	cases := []struct {
		name     string
		card     func(*cardsim.Config)
		psam     func(*psamsim.Config)
		fault    func(*env)
		amount   int64
		msg      citycard.Message
		is       error
		entry    bool // an entry was journaled (and closed as not charged)
		mac1Sent bool
	}{
		{name: "insufficient balance", amount: startBalance + 1, msg: citycard.MsgInsufficientBalance, is: citycard.ErrInsufficientBalance, entry: true},
		{name: "locked card", card: func(c *cardsim.Config) { c.Locked = true }, msg: citycard.MsgAppLocked, is: citycard.ErrAppLocked},
		{name: "key index missing", card: func(c *cardsim.Config) { c.Purchase.KeyIndex = 2 }, msg: citycard.MsgKeyNotFound, is: citycard.ErrKeyNotFound, entry: true},
		{name: "PSAM refuses MAC1", fault: func(e *env) { e.psam.Inject(psamsim.Fault{On: psamsim.CmdMAC1, SW: 0x6985}) },
			msg: citycard.MsgPSAM, is: citycard.ErrPSAM, entry: true, mac1Sent: true},
		{name: "PSAM refuses its directory", fault: func(e *env) { e.psam.Inject(psamsim.Fault{On: psamsim.CmdSelect, SW: 0x6A82}) },
			msg: citycard.MsgPSAM, is: citycard.ErrPSAM, entry: true},
		{name: "PSAM gone", fault: func(e *env) { e.psam.Inject(psamsim.Fault{Leave: true}) }, msg: citycard.MsgPSAM, is: citycard.ErrPSAM, entry: true},
		{name: "wrong MAC1 (card rejects it)", fault: func(e *env) { e.psam.Inject(psamsim.Fault{On: psamsim.CmdMAC1, Corrupt: true}) },
			msg: citycard.MsgMACInvalid, is: citycard.ErrMACInvalid, entry: true, mac1Sent: true},
		{name: "card with another master key", card: func(c *cardsim.Config) {
			c.Purchase.MasterPurchaseKey = strings.Repeat("11", 16)
		}, msg: citycard.MsgMACInvalid, is: citycard.ErrMACInvalid, entry: true, mac1Sent: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.card, c.psam)
			if c.fault != nil {
				c.fault(e)
			}
			amount := c.amount
			if amount == 0 {
				amount = fee
			}
			res, err := e.pay(payment.Request{Matter: matter, AmountFen: amount})
			if err == nil {
				t.Fatal("paid")
			}
			if !errors.Is(err, c.is) {
				t.Errorf("err = %v, want %v", err, c.is)
			}
			if m := payment.Message(err); m != c.msg {
				t.Errorf("message %q, want %q", m.En, c.msg.En)
			}
			var pe *citycard.PurchaseError
			if !errors.As(err, &pe) || pe.Outcome != citycard.OutcomeNotDebited {
				t.Errorf("err %v: not a not-debited PurchaseError", err)
			}
			ens := e.entries()
			if c.entry != (len(ens) == 1) {
				t.Fatalf("entries %v, want one: %v", ens, c.entry)
			}
			if c.entry && (ens[0].Status != payment.StatusNotCharged || ens[0].Closed.IsZero() || ens[0].Reason == "" || res.Entry.ID != ens[0].ID) {
				t.Errorf("entry %v reason %q", ens[0], ens[0].Reason)
			}
			if got := e.psam.Count(psamsim.CmdMAC1) > 0; got != c.mac1Sent {
				t.Errorf("MAC1 asked: %v", got)
			}
			if e.card.Count(cardsim.CmdDebit) > 0 && !c.mac1Sent {
				t.Error("DEBIT sent")
			}
			e.agree(0)
			// Nothing is left pending: the card pays at once when the cause is gone.
			if pending, _ := e.j.Pending(context.Background(), fullCard); pending {
				t.Error("card left with a pending payment")
			}
		})
	}
}

// TestPayMAC2Wrong: a card whose MAC2 is wrong (the PSAM rejects it) has debited all the same:
// the payment is paid, recorded unverified for the clearing centre, with one event.
func TestPayMAC2Wrong(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Corrupt: true})
	res, err := e.pay(payment.Request{Matter: matter, AmountFen: fee})
	if !errors.Is(err, citycard.ErrMACInvalid) || payment.Message(err) != citycard.MsgDebited {
		t.Fatalf("err = %v (%s)", err, payment.Message(err).En)
	}
	en := res.Entry
	if en.Status != payment.StatusPaid || en.MAC2Verified || en.Step != payment.StepDebited || en.TAC == "" || en.Closed.IsZero() {
		t.Fatalf("entry %v mac2 %v tac %q", en, en.MAC2Verified, en.TAC)
	}
	if len(e.events) != 1 || e.events[0].typ != wire.EventPaymentCompleted || e.events[0].data.MAC2Verified {
		t.Fatalf("events %+v", e.events)
	}
	e.agree(1)
}

// TestCardPulled pulls the card at each command of a payment, puts it back (a new tap), and
// checks that recovery settles the entry the way the card says, exactly once.
func TestCardPulled(t *testing.T) {
	cases := []struct {
		on        cardsim.Command
		after     bool
		skip      int
		t0        bool // a T=0 card: DEBIT's data come by GET RESPONSE
		wantPaid  bool
		wantEntry bool
		immediate bool // settled within Pay (the answer was lost but the card stayed)
	}{
		{on: cardsim.CmdSelectPSE},
		{on: cardsim.CmdReadPublic},
		{on: cardsim.CmdReadPublic, skip: 1, wantEntry: true}, // Init's own read, after the intent
		{on: cardsim.CmdInitPurchase, wantEntry: true},
		{on: cardsim.CmdInitPurchase, after: true, wantEntry: true},
		{on: cardsim.CmdDebit, wantEntry: true},
		{on: cardsim.CmdDebit, after: true, wantEntry: true, wantPaid: true},
		{on: cardsim.CmdGetResponse, skip: 5, t0: true, wantEntry: true, wantPaid: true}, // DEBIT's 61 08 answered, data lost
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s-after%v-skip%d-t0%v", c.on, c.after, c.skip, c.t0)
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(cc *cardsim.Config) { cc.T0 = c.t0 }, nil)
			e.card.Inject(cardsim.Fault{On: c.on, Leave: true, After: c.after, Skip: c.skip})
			_, err := e.pay(payment.Request{Matter: matter, AmountFen: fee})
			if err == nil {
				t.Fatal("paid with the card pulled")
			}
			ens := e.entries()
			if (len(ens) == 1) != c.wantEntry {
				t.Fatalf("entries %v", ens)
			}
			if c.on == cardsim.CmdDebit || c.on == cardsim.CmdGetResponse {
				var pe *citycard.PurchaseError
				if !errors.As(err, &pe) || pe.Outcome == citycard.OutcomeNotDebited {
					t.Errorf("err %v: outcome must not be not-debited with DEBIT in flight", err)
				}
				if ens[0].Status != payment.StatusOpen || ens[0].Step != payment.StepDebitSent {
					t.Fatalf("entry after a torn DEBIT: %v", ens[0])
				}
			} else if c.wantEntry && ens[0].Status != payment.StatusNotCharged {
				t.Fatalf("entry %v, want not charged at once", ens[0])
			}
			debits := e.card.Count(cardsim.CmdDebit)
			// The tap again.
			e.term.SetCard(e.card)
			conn, _ := e.term.Card(context.Background())
			rec, err := e.j.Recover(context.Background(), conn)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Unsettled != 0 || len(rec.Flagged) != 0 {
				t.Errorf("recovery left %d unsettled, flagged %v", rec.Unsettled, rec.Flagged)
			}
			if e.card.Count(cardsim.CmdDebit) != debits {
				t.Error("recovery sent DEBIT")
			}
			ens = e.entries()
			if c.wantPaid {
				en := ens[0]
				if len(rec.Settled) != 1 || en.Status != payment.StatusPaid || !en.Recovered || en.TAC == "" || en.TAC != lastTAC(t, e.card) {
					t.Fatalf("settled %v; entry %v recovered %v tac %q", rec.Settled, en, en.Recovered, en.TAC)
				}
				if len(e.events) != 1 || e.events[0].typ != wire.EventPaymentRecovered || e.events[0].data.TornAt != payment.StepDebitSent {
					t.Errorf("events %+v", e.events)
				}
			} else if c.wantEntry && ens[0].Status != payment.StatusNotCharged {
				t.Fatalf("entry %v", ens[0])
			}
			e.agree(map[bool]int{true: 1}[c.wantPaid])
			// And the card pays normally now, once.
			if _, err := e.pay(payment.Request{Matter: "other", AmountFen: 100}); err != nil {
				t.Fatalf("next payment: %v", err)
			}
			e.agree(map[bool]int{true: 2, false: 1}[c.wantPaid])
		})
	}
}

// TestLostAnswerSettledAtOnce: DEBIT's answer lost in a reader glitch while the card stays: Pay
// asks the card at once (GET TRANSACTION PROVE) and the PSAM checks the proof's MAC2: paid, no
// second tap needed.
func TestLostAnswerSettledAtOnce(t *testing.T) {
	e := newEnv(t, nil, nil)
	card := &glitch{Card: e.card}
	psam, _ := e.term.PSAM(context.Background())
	res, err := e.j.Pay(context.Background(), card, psam, payment.Request{Matter: matter, AmountFen: fee})
	if err != nil {
		t.Fatal(err)
	}
	if en := res.Entry; en.Status != payment.StatusPaid || !en.MAC2Verified || en.Step != payment.StepConfirmed || en.TAC != lastTAC(t, e.card) {
		t.Fatalf("entry %v mac2 %v tac %s", en, en.MAC2Verified, en.TAC)
	}
	if len(e.events) != 1 || e.events[0].typ != wire.EventPaymentCompleted {
		t.Errorf("events %+v", e.events)
	}
	e.agree(1)
}

// glitch loses the answer to the first DEBIT (after the card carried it out), as a reader
// error would, and works afterwards.
type glitch struct {
	*cardsim.Card
	done bool
}

func (g *glitch) Transmit(apdu []byte) ([]byte, error) {
	resp, err := g.Card.Transmit(apdu)
	if !g.done && cardsim.Classify(apdu) == cardsim.CmdDebit {
		g.done = true
		return nil, errors.New("reader: transfer interrupted")
	}
	return resp, err
}

// TestCrashAtEachStep stops the kiosk (a panic out of AfterStep, the journal write being
// committed) after each step, starts a new journal on the same store (RecoverStart), taps the
// card again, and checks that everything agrees.
func TestCrashAtEachStep(t *testing.T) {
	for _, c := range []struct {
		step     payment.Step
		wantPaid bool
		// the kind of event the payment ends with
		event string
	}{
		{payment.StepIntent, false, ""},
		{payment.StepInit, false, ""},
		{payment.StepDebitSent, false, ""}, // DEBIT never left: the card says not debited
		{payment.StepDebited, true, wire.EventPaymentRecovered},
		{payment.StepConfirmed, true, wire.EventPaymentCompleted},
	} {
		t.Run(string(c.step), func(t *testing.T) {
			e := newEnv(t, nil, nil)
			e.payCrash(c.step)
			e.j = e.journal() // restart
			rec, err := e.j.RecoverStart(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			wantUnsettled := map[bool]int{true: 1}[c.step == payment.StepDebitSent]
			if rec.Unsettled != wantUnsettled {
				t.Errorf("unsettled after start: %d, want %d", rec.Unsettled, wantUnsettled)
			}
			e.term.SetCard(e.card)
			conn, _ := e.term.Card(context.Background())
			if _, err := e.j.Recover(context.Background(), conn); err != nil {
				t.Fatal(err)
			}
			en := e.entries()[0]
			if en.Status == payment.StatusOpen || en.Status == payment.StatusUndecided {
				t.Fatalf("entry still unsettled: %v", en)
			}
			if (en.Status == payment.StatusPaid) != c.wantPaid {
				t.Fatalf("entry %v", en)
			}
			if c.wantPaid && (en.TAC == "" || en.Closed.IsZero()) {
				t.Errorf("paid entry without TAC or completion: %v", en)
			}
			if c.event != "" && (len(e.events) != 1 || e.events[0].typ != c.event) {
				t.Errorf("events %+v, want one %s", e.events, c.event)
			}
			due, _ := e.j.ReceiptsDue(context.Background())
			if c.wantPaid != (len(due) == 1) {
				t.Errorf("receipts due %v", due)
			}
			e.agree(map[bool]int{true: 1}[c.wantPaid])
		})
	}
}

// TestUndecided: the card torn at debit-sent is used elsewhere before it comes back: its log
// and balance cannot tell. The entry is flagged, the card cannot pay until staff settle it,
// and nothing is guessed.
func TestUndecided(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true})
	if _, err := e.pay(payment.Request{Matter: matter, AmountFen: fee}); err == nil {
		t.Fatal("paid")
	}
	// Elsewhere: a bus ride on another terminal.
	e.card.Reinsert()
	other, _ := psamsim.New(func() psamsim.Config { c := psamsim.Sample(); c.Terminal = "475000009999"; return c }())
	p := citycard.NewPurchase(citycard.NewSession(e.card), citycard.NewPSAM(other), 200)
	if _, err := p.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	e.term.SetCard(e.card)
	res, err := e.pay(payment.Request{Matter: matter, AmountFen: fee})
	if !errors.Is(err, payment.ErrPending) || payment.Message(err) != payment.MsgPending {
		t.Fatalf("err = %v", err)
	}
	if len(res.Settled) != 1 || res.Settled[0].Status != payment.StatusUndecided || res.Settled[0].Reason == "" {
		t.Fatalf("settled %v", res.Settled)
	}
	if n, _ := e.j.Undecided(context.Background()); n != 1 {
		t.Errorf("undecided = %d", n)
	}
	if got := e.card.Balance(); got != startBalance-200 {
		t.Errorf("balance %d: only the bus ride is taken", got)
	}
	if e.card.Count(cardsim.CmdDebit) != 2 {
		t.Errorf("%d DEBITs", e.card.Count(cardsim.CmdDebit))
	}
	if len(e.events) != 0 {
		t.Errorf("events %v", e.events)
	}
}

// TestFlagOverdue: a torn payment whose card does not come back within Grace is flagged; the
// card coming back later still settles it.
func TestFlagOverdue(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true, After: true})
	e.pay(payment.Request{Matter: matter, AmountFen: fee})
	flagged, waiting, err := e.j.FlagOverdue(context.Background())
	if err != nil || len(flagged) != 0 || waiting != 1 {
		t.Fatalf("within grace: flagged %v waiting %d err %v", flagged, waiting, err)
	}
	e.clk.Add(e.j.Grace() + time.Second)
	flagged, waiting, err = e.j.FlagOverdue(context.Background())
	if err != nil || len(flagged) != 1 || waiting != 0 || flagged[0].Status != payment.StatusUndecided {
		t.Fatalf("after grace: flagged %v waiting %d err %v", flagged, waiting, err)
	}
	e.term.SetCard(e.card)
	conn, _ := e.term.Card(context.Background())
	rec, err := e.j.Recover(context.Background(), conn)
	if err != nil || len(rec.Settled) != 1 || rec.Settled[0].Status != payment.StatusPaid {
		t.Fatalf("late tap: %+v %v", rec, err)
	}
	if n, _ := e.j.Undecided(context.Background()); n != 0 {
		t.Errorf("undecided = %d after the card settled it", n)
	}
	e.agree(1)
}

func TestAlreadyPaid(t *testing.T) {
	e := newEnv(t, nil, nil)
	first, err := e.pay(payment.Request{Matter: matter, AmountFen: fee})
	if err != nil {
		t.Fatal(err)
	}
	e.term.SetCard(e.card)
	res, err := e.pay(payment.Request{Matter: matter, AmountFen: fee})
	if !errors.Is(err, payment.ErrAlreadyPaid) || res.Entry.ID != first.Entry.ID {
		t.Fatalf("second tap: %v, entry %v", err, res.Entry)
	}
	e.agree(1)
	e.term.SetCard(e.card)
	if _, err := e.pay(payment.Request{Matter: matter, AmountFen: fee, AllowRepeat: true}); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(payment.DefaultRepeatWindow + time.Second)
	e.term.SetCard(e.card)
	if _, err := e.pay(payment.Request{Matter: matter, AmountFen: fee}); err != nil {
		t.Fatal(err)
	}
	e.agree(3)
}

func TestPayBadRequest(t *testing.T) {
	e := newEnv(t, nil, nil)
	for _, r := range []payment.Request{{Matter: matter}, {Matter: matter, AmountFen: -1}, {AmountFen: 100}} {
		if _, err := e.pay(r); !errors.Is(err, citycard.ErrAmount) {
			t.Errorf("%+v: err = %v", r, err)
		}
	}
	e.term = paymenttest.NewTerminal(nil, e.psam)
	if _, err := e.pay(payment.Request{Matter: matter, AmountFen: 1}); !errors.Is(err, payment.ErrNoCard) {
		t.Errorf("no card: %v", err)
	}
	if len(e.entries()) != 0 || e.card.Count(cardsim.CmdInitPurchase) != 0 {
		t.Error("something was journaled or sent")
	}
}

func TestReceiptAndReport(t *testing.T) {
	e := newEnv(t, nil, nil)
	a, err := e.pay(payment.Request{Matter: matter, AmountFen: fee})
	if err != nil {
		t.Fatal(err)
	}
	e.term.SetCard(e.card)
	e.pay(payment.Request{Matter: "x", AmountFen: startBalance}) // insufficient now
	e.term.SetCard(e.card)
	b, err := e.pay(payment.Request{Matter: "y", AmountFen: 150})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := e.j.SetReceipt(ctx, a.Entry.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.j.SetReceipt(ctx, b.Entry.ID, errors.New("paper out")); err != nil {
		t.Fatal(err)
	}
	if err := e.j.SetReceipt(ctx, 2, nil); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("receipt of a not-charged entry: %v", err)
	}
	r, err := payment.DailyReport(ctx, e.st.DB(), "2026-11-26", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Paid != 2 || r.TotalFen != fee+150 || r.NotCharged != 1 || r.Undecided != 0 || r.Open != 0 || len(r.Lines) != 3 {
		t.Fatalf("report %+v", r)
	}
	if r.Lines[0].Receipt != "printed" || r.Lines[2].Receipt != "failed" || !strings.Contains(r.Lines[2].Reason, "paper out") {
		t.Errorf("receipts: %+v", r.Lines)
	}
	for _, l := range r.Lines {
		if l.Status == payment.StatusPaid && l.TAC == "" {
			t.Errorf("paid line without TAC: %+v", l)
		}
	}
	if r, _ := payment.DailyReport(ctx, e.st.DB(), "2026-11-25", nil); r.Paid != 0 || len(r.Lines) != 0 {
		t.Errorf("other day: %+v", r)
	}
	if _, err := payment.DailyReport(ctx, e.st.DB(), "26/11/2026", nil); err == nil {
		t.Error("bad day accepted")
	}
}
