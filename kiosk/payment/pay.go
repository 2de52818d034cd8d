package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/mask"
	"citizenhome/telemetry/wire"
)

// Request is one payment to make.
type Request struct {
	Matter    string // the catalog matter the fee is for
	AmountFen int64  // the fee, from the catalog
	// AllowRepeat lets the card pay the same matter and amount again within the repeat window
	// (the citizen confirmed a second payment); otherwise that is ErrAlreadyPaid.
	AllowRepeat bool
}

// Result is what a tap to pay did.
type Result struct {
	// Entry is the payment made: Status paid when the money was taken (even if a step after
	// the debit failed: then err says what, and the citizen is told the payment went through);
	// zero ID when none was started. With ErrAlreadyPaid, the earlier payment.
	Entry Entry
	// Settled are earlier payments of this card that this tap settled (paid ones need their
	// receipt printed).
	Settled []Entry
}

// Pay takes r.AmountFen from the city card on card through the PSAM on psam, journaling each step
// before the next command goes out (see the package doc). First it settles the card's earlier
// unsettled payments (Recover); if one stays unsettled, it refuses with ErrPending. A payment of
// the same matter and amount by this card within the repeat window is ErrAlreadyPaid.
//
// Errors: before the intent is journaled, a *citycard.PurchaseError at StepNone (nothing taken)
// or the refusals above; after, the purchase's *citycard.PurchaseError (its Outcome says whether
// money was taken; Message gives the citizen's text). When the card left with DEBIT in flight,
// Pay tries once to read the outcome from the card still on the reader; if it cannot, the entry
// stays open at debit-sent for the next tap (or is flagged after Grace), and the error's Outcome
// is citycard.OutcomeUnknown. A journal write that fails stops the payment where it is (nothing
// goes out unjournaled) and is returned wrapped.
func (j *Journal) Pay(ctx context.Context, card, psam citycard.Card, r Request) (Result, error) {
	var res Result
	pre := func(side citycard.Side, err error) error {
		return &citycard.PurchaseError{Step: citycard.StepNone, Side: side, Outcome: citycard.OutcomeNotDebited, Err: err}
	}
	if r.AmountFen <= 0 || r.AmountFen > citycard.MaxAmountFen || r.Matter == "" {
		return res, pre(citycard.SideTerminal, fmt.Errorf("%w (matter %q)", citycard.ErrAmount, r.Matter))
	}
	if card == nil {
		return res, pre(citycard.SideCard, ErrNoCard)
	}
	if psam == nil {
		return res, pre(citycard.SidePSAM, fmt.Errorf("%w: %w", citycard.ErrPSAM, ErrNoPSAM))
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	sess := citycard.NewSession(card)
	if _, err := sess.Select(); err != nil {
		return res, pre(citycard.SideCard, err)
	}
	pub, err := sess.Public()
	if err != nil {
		return res, pre(citycard.SideCard, err)
	}
	hash := j.o.Hash(pub.CardNo)
	settled, pending, err := j.recoverCard(ctx, sess, pub, hash)
	res.Settled = settled
	if err != nil {
		return res, pre(citycard.SideCard, err)
	}
	if pending > 0 {
		return res, ErrPending
	}
	if !r.AllowRepeat && j.o.RepeatWindow > 0 {
		since := j.o.Now().Add(-j.o.RepeatWindow).UnixNano()
		prev, err := j.query(ctx, `card_hash = ? AND matter_id = ? AND amount_fen = ? AND status = 'paid' AND created_at >= ?`,
			hash, r.Matter, r.AmountFen, since)
		if err != nil {
			return res, err
		}
		if len(prev) > 0 {
			res.Entry = prev[len(prev)-1]
			return res, ErrAlreadyPaid
		}
	}

	// intent
	now := j.o.Now()
	var id int64
	err = j.o.Store.Tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRow(`INSERT INTO payment (day, created_at, updated_at, matter_id, amount_fen, card_masked, card_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			now.In(j.o.Location).Format(time.DateOnly), now.UnixNano(), now.UnixNano(), r.Matter, r.AmountFen,
			mask.Card(pub.CardNo), hash).Scan(&id)
	})
	if err != nil {
		return res, pre(citycard.SideTerminal, fmt.Errorf("journal: %w", err))
	}
	j.after(StepIntent)

	ps := citycard.NewPSAM(psam)
	ps.Terminal = j.tid
	p := citycard.NewPurchase(sess, ps, r.AmountFen)
	p.KeyIndex, p.Now = j.o.KeyIndex, j.o.Now
	st, runErr := p.Run(ctx, func(s citycard.Step, st citycard.State) error { return j.hook(ctx, id, hash, s, st) })
	if st.Step >= citycard.StepInit {
		j.tid = st.Terminal
	}
	if runErr == nil {
		res.Entry, err = j.Get(ctx, id)
		return res, err
	}
	var pe *citycard.PurchaseError
	if !errors.As(runErr, &pe) {
		pe = &citycard.PurchaseError{Step: st.Step, Side: citycard.SideTerminal, Outcome: p.Outcome(), Err: runErr}
		runErr = pe
	}
	// Once the money is taken, the payment's context no longer governs the journal: the
	// record must be written whatever the caller does.
	wctx := context.WithoutCancel(ctx)
	switch {
	case pe.Outcome == citycard.OutcomeNotDebited:
		if err := j.close(wctx, id, StatusNotCharged, runErr.Error()); err != nil {
			return res, errors.Join(runErr, err)
		}
	case st.Step >= citycard.StepDebited:
		// Debited, then the PSAM's MAC2 check (or its journal write) failed: the money is
		// taken; the record goes to the clearing centre as it is, unverified.
		if err := j.finish(wctx, id, wire.EventPaymentCompleted, false, "", false, "MAC2 not confirmed by the PSAM: "+runErr.Error()); err != nil {
			return res, errors.Join(runErr, err)
		}
	default:
		// DEBIT in flight when the card left (unknown), or answered with its data lost
		// (debited, no TAC): ask the card once more if it is still there.
		if pe.Step == citycard.StepDebited && st.Step == citycard.StepAuthorized {
			rec, rerr := p.Resume(wctx, citycard.NewSession(card))
			if rerr == nil && rec.Outcome != citycard.OutcomeUnknown {
				// The PSAM still holds this purchase's session: it can check the proof's MAC2.
				verified := rec.Proof != nil && p.Confirm(wctx) == nil
				if err := j.settleFromCard(wctx, id, rec, wire.EventPaymentCompleted, verified); err != nil {
					return res, errors.Join(runErr, err)
				}
				if rec.Outcome == citycard.OutcomeDebited {
					runErr = nil // the payment went through after all
				} else {
					runErr = &citycard.PurchaseError{Step: pe.Step, Side: pe.Side, Outcome: citycard.OutcomeNotDebited, Err: pe.Err}
				}
			}
		}
	}
	res.Entry, err = j.Get(wctx, id)
	if err != nil {
		return res, errors.Join(runErr, err)
	}
	return res, runErr
}

func (j *Journal) after(s Step) {
	if j.o.AfterStep != nil {
		j.o.AfterStep(s)
	}
}

// hook journals one purchase step; it runs before the next command goes out.
func (j *Journal) hook(ctx context.Context, id int64, hash []byte, s citycard.Step, st citycard.State) error {
	if h := j.o.Hash(st.CardNo); string(h) != string(hash) {
		return errors.New("the card answering the purchase is not the card of the intent")
	}
	blob, err := blank(st)
	if err != nil {
		return err
	}
	now := j.o.Now().UnixNano()
	var step Step
	err = j.o.Store.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		switch s {
		case citycard.StepInit:
			step = StepInit
			_, err = tx.Exec(`UPDATE payment SET step = 'init', state = ?, terminal = ?, offline_serial = ?, balance_before = ?,
				updated_at = ? WHERE id = ? AND status = 'open'`,
				blob, hexUpper(st.Terminal[:]), st.OfflineSerial, st.BalanceBeforeFen, now, id)
		case citycard.StepAuthorized:
			step = StepDebitSent
			_, err = tx.Exec(`UPDATE payment SET step = 'debit-sent', state = ?, terminal_serial = ?, tx_time = ?, updated_at = ?
				WHERE id = ? AND status = 'open'`, blob, st.TerminalSerial, st.Time.In(citycard.ChinaTime).Format("20060102150405"), now, id)
		case citycard.StepDebited:
			step = StepDebited
			_, err = tx.Exec(`UPDATE payment SET step = 'debited', status = 'paid', state = ?, tac = ?, updated_at = ?
				WHERE id = ? AND status = 'open'`, blob, hexUpper(st.TAC[:]), now, id)
		case citycard.StepConfirmed:
			step = StepConfirmed
			if _, err = tx.Exec(`UPDATE payment SET step = 'confirmed', state = ?, mac2_verified = 1, closed_at = ?, updated_at = ?
				WHERE id = ? AND status = 'paid'`, blob, now, now, id); err != nil {
				return err
			}
			err = j.record(tx, id, wire.EventPaymentCompleted, "")
		}
		return err
	})
	if err != nil {
		return err
	}
	j.after(step)
	return nil
}

// record writes the entry's event in tx (the transaction that completes its record).
func (j *Journal) record(tx *sql.Tx, id int64, typ string, tornAt Step) error {
	if j.o.Events == nil {
		return nil
	}
	e, err := scanEntry(tx.QueryRow(`SELECT `+entryCols+` FROM payment WHERE id = ?`, id))
	if err != nil {
		return err
	}
	ev := j.event(e)
	if typ == wire.EventPaymentRecovered {
		ev.TornAt, ev.Reason = tornAt, e.Reason
	}
	return j.o.Events(tx, typ, ev)
}

// close ends an open (or undecided) entry as not charged, or flags it undecided.
func (j *Journal) close(ctx context.Context, id int64, status Status, reason string) error {
	now := j.o.Now().UnixNano()
	return j.o.Store.Tx(ctx, func(tx *sql.Tx) error {
		closed := any(now)
		if status == StatusUndecided {
			closed = nil
		}
		_, err := tx.Exec(`UPDATE payment SET status = ?, reason = ?, closed_at = ?, updated_at = ? WHERE id = ? AND status IN ('open', 'undecided')`,
			string(status), reason, closed, now, id)
		return err
	})
}

// finish completes a paid record: closed, with its event (typ), in one transaction. tac, when
// not empty, is the TAC the card proved (recovery); step moves to debited with it, and to
// confirmed when the PSAM checked the proof's MAC2 (verified).
func (j *Journal) finish(ctx context.Context, id int64, typ string, recovered bool, tac string, verified bool, reason string) error {
	now := j.o.Now().UnixNano()
	return j.o.Store.Tx(ctx, func(tx *sql.Tx) error {
		var tornAt string
		if err := tx.QueryRow(`SELECT step FROM payment WHERE id = ?`, id).Scan(&tornAt); err != nil {
			return err
		}
		step := tornAt
		switch {
		case verified:
			step = string(StepConfirmed)
		case tac != "" && step == string(StepDebitSent):
			step = string(StepDebited)
		}
		_, err := tx.Exec(`UPDATE payment SET status = 'paid', recovered = ?, closed_at = ?, updated_at = ?,
			tac = CASE WHEN ? <> '' THEN ? ELSE tac END, step = ?, mac2_verified = ?,
			reason = ? WHERE id = ? AND status IN ('open', 'undecided', 'paid') AND closed_at IS NULL`,
			b2i(recovered), now, now, tac, tac, step, b2i(verified), reason, id)
		if err != nil {
			return err
		}
		return j.record(tx, id, typ, Step(tornAt))
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
