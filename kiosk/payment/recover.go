package payment

import (
	"context"
	"errors"
	"fmt"

	"citizenhome/devices/citycard"

	"citizenhome/telemetry/wire"
)

// Recovery is what a recovery run settled.
type Recovery struct {
	// Settled are the entries this run finished or closed, as they are now: paid ones (with
	// Recovered set) need their receipt printed; not-charged ones are for the log.
	Settled []Entry
	// Flagged are the entries this run flagged undecided (an alert for the hall).
	Flagged []Entry
	// Unsettled counts the entries still open or undecided after the run: RecoverStart counts
	// them all, Recover those of the card tapped.
	Unsettled int
}

// RecoverStart settles what the kiosk can without a card, when it starts (before it serves):
// entries that never reached debit-sent are closed as not charged (DEBIT never went out);
// paid records whose completion was cut short (the debit journaled, the event not) are
// completed with a payment.recovered event; entries at debit-sent wait for their card, and
// those older than Grace are flagged undecided. It never sends a command to a card.
func (j *Journal) RecoverStart(ctx context.Context) (Recovery, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var r Recovery
	open, err := j.query(ctx, `status IN ('open', 'paid') AND closed_at IS NULL`)
	if err != nil {
		return r, err
	}
	for _, e := range open {
		switch {
		case e.Status == StatusPaid:
			err = j.finish(ctx, e.ID, wire.EventPaymentRecovered, true, "", false, "the kiosk stopped before the PSAM checked MAC2; TAC from the card's answer")
		case e.Step == StepIntent || e.Step == StepInit:
			err = j.close(ctx, e.ID, StatusNotCharged, "the kiosk stopped before DEBIT was sent")
		default:
			continue
		}
		if err != nil {
			return r, err
		}
		if e, err = j.Get(ctx, e.ID); err != nil {
			return r, err
		}
		r.Settled = append(r.Settled, e)
	}
	flagged, _, err := j.flagOverdue(ctx)
	r.Flagged = flagged
	if err != nil {
		return r, err
	}
	err = j.o.Store.DB().QueryRowContext(ctx, `SELECT count(*) FROM payment WHERE status IN ('open', 'undecided')`).Scan(&r.Unsettled)
	return r, err
}

// FlagOverdue flags undecided the entries torn at debit-sent whose card has not come back
// within Grace, and returns them with the number still waiting. The kiosk calls it once Grace
// has passed after a torn payment.
func (j *Journal) FlagOverdue(ctx context.Context) ([]Entry, int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.flagOverdue(ctx)
}

func (j *Journal) flagOverdue(ctx context.Context) ([]Entry, int, error) {
	waiting, err := j.query(ctx, `status = 'open' AND step = 'debit-sent'`)
	if err != nil {
		return nil, 0, err
	}
	cut := j.o.Now().Add(-j.o.Grace)
	var flagged []Entry
	n := 0
	for _, e := range waiting {
		if e.Updated.After(cut) {
			n++
			continue
		}
		reason := fmt.Sprintf("the card did not come back within %s with DEBIT in doubt; only the card (or the clearing centre) can tell", j.o.Grace)
		if err := j.close(ctx, e.ID, StatusUndecided, reason); err != nil {
			return flagged, n, err
		}
		if e, err = j.Get(ctx, e.ID); err != nil {
			return flagged, n, err
		}
		flagged = append(flagged, e)
	}
	return flagged, n, nil
}

// Recover settles the unsettled entries (open or undecided) of the city card on card, on a tap:
// it selects the purse, reads the card number and finds the card's entries by their keyed hash;
// for each it decides from the card's balance and log (citycard.Session.Recover): taken (paid,
// with the TAC the card proves when it still can, and a payment.recovered event), not taken
// (closed as not charged), or undecidable (flagged undecided, kept for a later tap and for
// staff). A card without such entries costs the selection and one read.
//
// A card that leaves or answers badly during recovery leaves the entry as it was, and the
// error says why; nothing is decided from a partial read.
func (j *Journal) Recover(ctx context.Context, card citycard.Card) (Recovery, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	sess := citycard.NewSession(card)
	if _, err := sess.Select(); err != nil {
		return Recovery{}, err
	}
	pub, err := sess.Public()
	if err != nil {
		return Recovery{}, err
	}
	var r Recovery
	settled, pending, err := j.recoverCard(ctx, sess, pub, j.o.Hash(pub.CardNo))
	for _, e := range settled {
		if e.Status == StatusUndecided {
			r.Flagged = append(r.Flagged, e)
		} else {
			r.Settled = append(r.Settled, e)
		}
	}
	r.Unsettled = pending
	return r, err
}

// recoverCard settles the card's unsettled entries with the session open on it. It returns
// the entries it changed and how many stay unsettled (open or undecided). j.mu is held.
func (j *Journal) recoverCard(ctx context.Context, sess *citycard.Session, pub citycard.Public, hash []byte) ([]Entry, int, error) {
	entries, err := j.query(ctx, `card_hash = ? AND status IN ('open', 'undecided')`, hash)
	if err != nil || len(entries) == 0 {
		return nil, 0, err
	}
	var changed []Entry
	pending := 0
	for _, e := range entries {
		switch e.Step {
		case StepIntent, StepInit:
			err = j.close(ctx, e.ID, StatusNotCharged, "DEBIT was never sent")
		case StepDebitSent:
			var st citycard.State
			st, err = e.purchaseState()
			if err != nil {
				if e.Status == StatusUndecided {
					pending++
					continue
				}
				err = j.close(ctx, e.ID, StatusUndecided, err.Error())
				break
			}
			st.CardNo, st.CardSerial = pub.CardNo, pub.AppSerial
			var rec citycard.Recovery
			rec, err = sess.Recover(st)
			if err != nil && rec.Outcome != citycard.OutcomeDebited {
				// A card that left or answered badly: decide nothing now.
				return changed, pending + 1, fmt.Errorf("payment %s: reading the card for recovery: %w", e.Txn(), err)
			}
			err = j.settleFromCard(ctx, e.ID, rec, wire.EventPaymentRecovered, false)
		default:
			// debited or confirmed: paid already; nothing the card can add.
			continue
		}
		if err != nil {
			return changed, pending + 1, err
		}
		if e, err = j.Get(ctx, e.ID); err != nil {
			return changed, pending + 1, err
		}
		changed = append(changed, e)
		if e.Status == StatusOpen || e.Status == StatusUndecided {
			pending++
		}
	}
	return changed, pending, nil
}

// settleFromCard writes what the card said about a debit in doubt.
func (j *Journal) settleFromCard(ctx context.Context, id int64, rec citycard.Recovery, typ string, verified bool) error {
	switch rec.Outcome {
	case citycard.OutcomeDebited:
		tac := ""
		reason := rec.Reason
		if rec.Proof != nil {
			tac = hexUpper(rec.Proof.TAC[:])
			reason += "; TAC from GET TRANSACTION PROVE"
		} else {
			reason += "; the card no longer gives its TAC (settle with the clearing centre)"
		}
		return j.finish(ctx, id, typ, typ == wire.EventPaymentRecovered, tac, verified, reason)
	case citycard.OutcomeNotDebited:
		return j.close(ctx, id, StatusNotCharged, rec.Reason)
	}
	if rec.Reason == "" {
		return errors.New("payment: recovery without a verdict")
	}
	return j.close(ctx, id, StatusUndecided, rec.Reason)
}
