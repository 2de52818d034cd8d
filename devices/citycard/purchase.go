package citycard

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"citizenhome/mask"
)

// Step is how far a purchase has got. A kiosk writes each step to its journal, durably, before
// the next command goes out (Purchase.Run's hook): whatever instant the card leaves or the power
// fails, the journal then says whether DEBIT can have been sent.
type Step uint8

// The steps of a purchase, in order.
const (
	// StepNone: nothing sent yet.
	StepNone Step = iota
	// StepInit: the card answered INITIALIZE FOR PURCHASE (balance, offline serial, random).
	// Nothing is taken.
	StepInit
	// StepAuthorized: the PSAM gave the terminal serial and MAC1. Nothing is taken yet, but DEBIT
	// is the next command: a journal that stops here must be recovered from the card.
	StepAuthorized
	// StepDebited: the card answered DEBIT with TAC and MAC2: the money is taken.
	StepDebited
	// StepConfirmed: the PSAM accepted MAC2: the card that debited is genuine.
	StepConfirmed
)

var stepNames = [...]string{"none", "init", "authorized", "debited", "confirmed"}

// String gives "none", "init", "authorized", "debited", "confirmed", or "step-N".
func (s Step) String() string {
	if int(s) < len(stepNames) {
		return stepNames[s]
	}
	return fmt.Sprintf("step-%d", s)
}

// Outcome says whether a purchase took the money. The zero value is OutcomeUnknown, so that a
// forgotten field never claims that nothing was taken.
type Outcome uint8

// The outcomes.
const (
	// OutcomeUnknown: DEBIT may or may not have been carried out; only the card can tell, on its
	// next tap (Session.Recover). Never charge again, never cancel the matter, until it has.
	OutcomeUnknown Outcome = iota
	// OutcomeNotDebited: the card's purse is as it was.
	OutcomeNotDebited
	// OutcomeDebited: the money is taken: it must end in a receipt and a record.
	OutcomeDebited
)

// String gives "unknown", "not-debited" or "debited".
func (o Outcome) String() string {
	switch o {
	case OutcomeNotDebited:
		return "not-debited"
	case OutcomeDebited:
		return "debited"
	}
	return "unknown"
}

// Side tells who failed a purchase step.
type Side uint8

// The sides.
const (
	SideTerminal Side = iota // the kiosk itself: context, journal, order of calls, amount
	SideCard                 // the city card or its reader
	SidePSAM                 // the PSAM or its reader
)

// String gives "terminal", "card" or "psam".
func (s Side) String() string {
	switch s {
	case SideCard:
		return "card"
	case SidePSAM:
		return "psam"
	}
	return "terminal"
}

// ErrOutOfOrder: a purchase step called before the one it follows succeeded, or a second time.
// Each step runs at most once: a purchase that failed is abandoned (or recovered), never
// retried, so DEBIT can never go out twice.
var ErrOutOfOrder = errors.New("citycard: purchase step out of order")

// PurchaseError is how every purchase step fails. It wraps the cause: errors.Is(err,
// ErrInsufficientBalance), errors.Is(err, ErrPSAM), errors.Is(err, ErrNoResponse) all work
// through it, and errors.As gives the status word.
type PurchaseError struct {
	Step    Step    // the step that failed, or whose journal write (Run's hook) failed
	Side    Side    // who failed it
	Outcome Outcome // whether the money is taken, as far as the terminal knows
	Err     error
}

// Error gives "citycard: purchase debited (card, outcome unknown): ..."; it never holds the
// card number.
func (e *PurchaseError) Error() string {
	return fmt.Sprintf("citycard: purchase %s (%s, outcome %s): %v", e.Step, e.Side, e.Outcome, e.Err)
}

// Unwrap gives the cause.
func (e *PurchaseError) Unwrap() error { return e.Err }

// Message gives what to tell the citizen; see CitizenMessage.
func (e *PurchaseError) Message() Message { return CitizenMessage(e) }

// Purchase is one debit of a city card through a PSAM (PBOC 2.0 e-purse purchase). Its steps
// (Init, Authorize, Debit, Confirm) each send what the reference lists and advance State; each
// runs at most once, in order. Run runs them all with a journal hook between them.
//
// A Purchase is not safe for concurrent use, and it is one-shot: after any failure, start a
// new one (after recovery, if the outcome is unknown).
type Purchase struct {
	// Card is the session of the card to debit. Init selects the purse if the session has not.
	Card *Session
	// PSAM is the PSAM in the second slot.
	PSAM *PSAM
	// KeyIndex is the card's purchase key index; 0 means 1.
	KeyIndex byte
	// Now gives the terminal's date and time, written to the card's log in China time (or
	// Card.Location); nil means time.Now.
	Now func() time.Time

	st      State
	tried   Step    // the last step attempted
	outcome Outcome // what the terminal knows of the debit
}

// NewPurchase prepares the debit of amountFen (1 to MaxAmountFen) from the card; nothing is sent
// until Init.
func NewPurchase(card *Session, psam *PSAM, amountFen int64) *Purchase {
	return &Purchase{Card: card, PSAM: psam, st: State{Type: TxPurchase, AmountFen: amountFen}, outcome: OutcomeNotDebited}
}

// State gives what the purchase has got so far: what a journal writes.
func (p *Purchase) State() State { return p.st }

// Outcome gives whether the money is taken, as far as the terminal knows now.
func (p *Purchase) Outcome() Outcome { return p.outcome }

// String gives the state so far, masked: "purchase 200 fen, card 3104********5678, debited".
func (p Purchase) String() string { return p.st.String() }

// Format prints String for every verb: %+v of a Purchase would otherwise print its state whole.
func (p Purchase) Format(f fmt.State, verb rune) { mask.Format(f, verb, p.String()) }

// LogValue is the state's.
func (p Purchase) LogValue() slog.Value { return p.st.LogValue() }

// MarshalJSON is the state's.
func (p Purchase) MarshalJSON() ([]byte, error) { return p.st.MarshalJSON() }

func (p *Purchase) fail(step Step, side Side, out Outcome, err error) error {
	if side != SideTerminal && errors.Is(err, ErrPSAM) {
		side = SidePSAM
	}
	return &PurchaseError{Step: step, Side: side, Outcome: out, Err: err}
}

// begin checks that step may run now and marks it attempted.
func (p *Purchase) begin(ctx context.Context, step Step) error {
	if p.tried >= step || p.st.Step != step-1 {
		return p.fail(step, SideTerminal, p.outcome, ErrOutOfOrder)
	}
	if err := ctx.Err(); err != nil {
		return p.fail(step, SideTerminal, p.outcome, err)
	}
	p.tried = step
	return nil
}

func (p *Purchase) location() *time.Location {
	if p.Card != nil && p.Card.Location != nil {
		return p.Card.Location
	}
	return ChinaTime
}

// Init reads the card's public data (the card number and serial the keys derive from), gets
// the terminal id from the PSAM unless PSAM.Terminal is set, selects the PSAM's purse directory
// and sends INITIALIZE FOR PURCHASE. Nothing is taken whatever happens: every failure is
// OutcomeNotDebited (94 01 insufficient balance, 93 03 a locked purse, 94 03 a key the card
// lacks, ErrPSAM, ErrNoResponse).
func (p *Purchase) Init(ctx context.Context) error {
	if err := p.begin(ctx, StepInit); err != nil {
		return err
	}
	fail := func(side Side, err error) error { return p.fail(StepInit, side, OutcomeNotDebited, err) }
	if err := checkAmount(p.st.AmountFen); err != nil {
		return fail(SideTerminal, err)
	}
	if p.Card == nil || p.PSAM == nil {
		return fail(SideTerminal, errors.New("citycard: purchase without card or PSAM"))
	}
	s := p.Card
	if s.App() == "" {
		if _, err := s.Select(); err != nil {
			return fail(SideCard, err)
		}
	}
	pub, err := s.Public()
	if err != nil {
		return fail(SideCard, err)
	}
	if p.PSAM.Terminal == ([6]byte{}) {
		if _, err := p.PSAM.ReadTerminalID(); err != nil {
			return fail(SidePSAM, err)
		}
	}
	if err := p.PSAM.Select(); err != nil {
		return fail(SidePSAM, err)
	}
	key := p.KeyIndex
	if key == 0 {
		key = 1
	}
	a, err := s.InitPurchase(key, p.st.AmountFen, p.PSAM.Terminal)
	if err != nil {
		return fail(SideCard, err)
	}
	p.st = State{
		Step: StepInit, Type: TxPurchase, CardNo: pub.CardNo, CardSerial: pub.AppSerial, KeyIndex: key,
		AmountFen: p.st.AmountFen, Terminal: p.PSAM.Terminal, BalanceBeforeFen: a.BalanceFen,
		OfflineSerial: a.OfflineSerial, Overdraft: a.Overdraft, KeyVersion: a.KeyVersion,
		Algorithm: a.Algorithm, Random: a.Random,
	}
	return nil
}

// Authorize takes the terminal's date and time (whole seconds) and gets the terminal serial and
// MAC1 from the PSAM. Nothing is taken: every failure is OutcomeNotDebited. After it, DEBIT is
// the next command: journal the state (StepAuthorized) before calling Debit.
func (p *Purchase) Authorize(ctx context.Context) error {
	if err := p.begin(ctx, StepAuthorized); err != nil {
		return err
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	t := now().Truncate(time.Second).In(p.location())
	dt, ok := bcdDateTime(t)
	if !ok {
		return p.fail(StepAuthorized, SideTerminal, OutcomeNotDebited, fmt.Errorf("citycard: clock out of range: year %d", t.Year()))
	}
	a, err := p.PSAM.MAC1(MAC1Request{
		Random: p.st.Random, OfflineSerial: p.st.OfflineSerial, AmountFen: p.st.AmountFen, Type: p.st.Type,
		DateTime: dt, KeyVersion: p.st.KeyVersion, Algorithm: p.st.Algorithm, CardSerial: p.st.CardSerial,
	})
	if err != nil {
		return p.fail(StepAuthorized, SidePSAM, OutcomeNotDebited, err)
	}
	p.st.Time, p.st.TerminalSerial, p.st.MAC1 = t, a.TerminalSerial, a.MAC1
	p.st.Step = StepAuthorized
	return nil
}

// Debit sends DEBIT FOR PURCHASE. On success the money is taken and the state holds TAC and
// MAC2 (StepDebited). On failure the PurchaseError's Outcome says what the card did (see
// Session.DebitPurchase): OutcomeNotDebited when the card refused (93 02 a wrong MAC1, 94 01),
// OutcomeDebited when it answered but the data were lost, OutcomeUnknown when the card left
// with the command: then call Resume on the card's next tap, or Session.Recover with the
// journaled state after a restart.
func (p *Purchase) Debit(ctx context.Context) error {
	if err := p.begin(ctx, StepDebited); err != nil {
		return err
	}
	a, out, err := p.Card.DebitPurchase(p.st.TerminalSerial, p.st.DateTime(), p.st.MAC1)
	p.outcome = out
	if err != nil {
		return p.fail(StepDebited, SideCard, out, err)
	}
	p.st.TAC, p.st.MAC2 = a.TAC, a.MAC2
	p.st.Step = StepDebited
	return nil
}

// Confirm has the PSAM check MAC2, which proves that a genuine card debited. The money is taken
// whatever the PSAM says: a failure (93 02, ErrPSAM) is OutcomeDebited, to be recorded for the
// clearing centre to settle, never refunded or charged again on the spot.
func (p *Purchase) Confirm(ctx context.Context) error {
	if err := p.begin(ctx, StepConfirmed); err != nil {
		return err
	}
	if err := p.PSAM.VerifyMAC2(p.st.MAC2); err != nil {
		return p.fail(StepConfirmed, SidePSAM, OutcomeDebited, err)
	}
	p.st.Step = StepConfirmed
	return nil
}

// Resume recovers a Debit whose outcome was unknown (or whose answer was lost) on the card's
// next tap, while this process and its PSAM session still live: it runs card.Recover (card is
// a new Session on the re-tapped card) and, when the card gives the proof, the state gets its
// TAC and MAC2 and reaches StepDebited, so that Confirm has the PSAM check the MAC2 the card
// gave: a genuine proof of this very debit. When the card shows no debit, the outcome becomes
// OutcomeNotDebited and the purchase is over. Resume may be called again if the card leaves
// during it; it never sends DEBIT.
func (p *Purchase) Resume(ctx context.Context, card *Session) (Recovery, error) {
	if p.tried != StepDebited || p.st.Step != StepAuthorized || p.outcome == OutcomeNotDebited {
		return Recovery{}, p.fail(StepDebited, SideTerminal, p.outcome, ErrOutOfOrder)
	}
	if err := ctx.Err(); err != nil {
		return Recovery{}, p.fail(StepDebited, SideTerminal, p.outcome, err)
	}
	rec, err := card.Recover(p.st)
	if err != nil && rec.Outcome != OutcomeDebited {
		return rec, p.fail(StepDebited, SideCard, p.outcome, err)
	}
	p.Card = card
	switch rec.Outcome {
	case OutcomeDebited:
		p.outcome = OutcomeDebited
		if rec.Proof != nil {
			p.st.TAC, p.st.MAC2 = rec.Proof.TAC, rec.Proof.MAC2
			p.st.Step = StepDebited
		}
	case OutcomeNotDebited:
		p.outcome = OutcomeNotDebited
	}
	if err != nil {
		return rec, p.fail(StepDebited, SideCard, p.outcome, err)
	}
	return rec, nil
}

// Run runs Init, Authorize, Debit and Confirm, calling hook after each step that succeeded,
// with the step and the state. hook must write the state durably (fsync, SQLite synchronous
// FULL) before returning nil: no command goes out before it has. A hook error stops the
// purchase, wrapped in a PurchaseError of the step it was called for (SideTerminal) with the
// outcome so far: after StepAuthorized nothing is taken, after StepDebited the money is. hook
// may be nil. Run returns the last state with the first error.
func (p *Purchase) Run(ctx context.Context, hook func(Step, State) error) (State, error) {
	steps := []struct {
		step Step
		do   func(context.Context) error
	}{{StepInit, p.Init}, {StepAuthorized, p.Authorize}, {StepDebited, p.Debit}, {StepConfirmed, p.Confirm}}
	for _, s := range steps {
		if err := s.do(ctx); err != nil {
			return p.st, err
		}
		if hook == nil {
			continue
		}
		if err := hook(s.step, p.st); err != nil {
			return p.st, p.fail(s.step, SideTerminal, p.outcome, fmt.Errorf("journal: %w", err))
		}
	}
	return p.st, nil
}

// bcdDateTime gives t's wall clock as BCD YYYYMMDDhhmmss; false for a year outside 1900-9999
// (the years ParseRecord reads back).
func bcdDateTime(t time.Time) ([7]byte, bool) {
	var b [7]byte
	if y := t.Year(); y < 1900 || y > 9999 {
		return b, false
	}
	hex.Decode(b[:], []byte(t.Format("20060102150405")))
	return b, true
}
