package citycard

import (
	"encoding/hex"
	"errors"
	"strings"
)

// ErrOtherCard: Recover was given a card other than the one of the pending purchase.
var ErrOtherCard = errors.New("citycard: not the card of the pending purchase")

// Verdict is what a card's balance and log say about a pending debit.
type Verdict struct {
	Outcome Outcome
	// Index is the debit's own record among the records judged (0: the newest), -1 when none.
	Index int
	// Reason says why, in English, for the journal and staff; it holds no personal data.
	Reason string
}

// Judge decides from a card's balance now and its log (newest first, as Session.Records reads
// it) whether the debit of s happened. It is the heart of recovery, and errs only towards
// OutcomeUnknown, never towards a wrong answer:
//
//  1. s before StepAuthorized: DEBIT never went out: OutcomeNotDebited.
//  2. A purchase record with the same amount, terminal id and date-time (the wall clock, to the
//     second) and a serial of s.OfflineSerial or s.OfflineSerial+1: OutcomeDebited. Both
//     serials are accepted because cards differ: PBOC writes the serial the transaction used
//     (INITIALIZE's), some cards the one after it. The terminal id and the second make the
//     match unique in practice; the serial makes it certain.
//  3. s at StepDebited or later: the card said so: OutcomeDebited, with Index -1 if its record
//     is no longer in the log.
//  4. No such record and the balance is still s.BalanceBeforeFen: OutcomeNotDebited.
//  5. No such record and another balance: the card was used elsewhere since, and its log
//     cannot tell: OutcomeUnknown, for the clearing centre to settle. Never charge again.
//
// The offline serial itself cannot be read without INITIALIZE FOR PURCHASE, which starts a new
// purchase on the card: recovery does without it and reads the log and balance only.
func (s State) Judge(balanceFen int64, records []Record) Verdict {
	if s.Step < StepAuthorized {
		return Verdict{OutcomeNotDebited, -1, "DEBIT was never sent"}
	}
	term := strings.ToUpper(hex.EncodeToString(s.Terminal[:]))
	when := wall(s.Time)
	for i, r := range records {
		if r.Type == s.Type && r.AmountFen == s.AmountFen && r.Terminal == term && wall(r.Time) == when &&
			(r.Serial == s.OfflineSerial || r.Serial == s.OfflineSerial+1) {
			return Verdict{OutcomeDebited, i, "the card's log holds the debit"}
		}
	}
	switch {
	case s.Step >= StepDebited:
		return Verdict{OutcomeDebited, -1, "the card answered DEBIT; its record has left the log"}
	case balanceFen == s.BalanceBeforeFen:
		return Verdict{OutcomeNotDebited, -1, "no record of the debit and the balance is unchanged"}
	}
	return Verdict{OutcomeUnknown, -1, "no record of the debit but the balance changed: the card was used elsewhere"}
}

// Recovery is what Session.Recover found.
type Recovery struct {
	Verdict
	BalanceFen int64    // the balance now
	Records    []Record // the log now, newest first
	// Proof is the card's MAC2 and TAC of the debit from GET TRANSACTION PROVE; nil when the
	// debit did not happen, or is not the card's last transaction any more (the card keeps the
	// proof of its last one only), or the card gave it for neither serial.
	Proof *Proof
	// ProofSerial is the serial the card gave the proof for (see Session.Prove).
	ProofSerial uint16
}

// Recover reads what a pending purchase's recovery needs from the card tapped again: it
// selects the purse (if the session has not), checks that the card is the one of st (else
// ErrOtherCard), reads the balance and the log and judges them (State.Judge). When the debit
// happened and is the card's last transaction, it asks GET TRANSACTION PROVE for its MAC2 and
// TAC, with the serial in the log record first, then INITIALIZE's serial + 1 (the card's current
// serial) and INITIALIZE's serial: sources disagree on which serial a card wants, and since the
// last transaction is known to be this one, whichever the card answers proves this debit. A card
// that answers none with 90 00 leaves Proof nil; a debit that happened stays OutcomeDebited
// without it.
//
// On a card or reader error Recover returns what it has so far with the error: a Verdict only
// once balance and log are read (before that, Outcome is OutcomeUnknown).
func (s *Session) Recover(st State) (Recovery, error) {
	rec := Recovery{Verdict: Verdict{Outcome: OutcomeUnknown, Index: -1, Reason: "the card could not be read"}}
	if s.app == "" {
		if _, err := s.Select(); err != nil {
			return rec, err
		}
	}
	pub, err := s.Public()
	if err != nil {
		return rec, err
	}
	if pub.CardNo != st.CardNo {
		rec.Reason = "another card"
		return rec, ErrOtherCard
	}
	if rec.BalanceFen, err = s.Balance(); err != nil {
		return rec, err
	}
	if rec.Records, err = s.Records(MaxRecords); err != nil {
		return rec, err
	}
	rec.Verdict = st.Judge(rec.BalanceFen, rec.Records)
	if rec.Outcome != OutcomeDebited || rec.Index != 0 {
		return rec, nil
	}
	candidates := []uint16{rec.Records[0].Serial, st.OfflineSerial + 1, st.OfflineSerial}
	tried := map[uint16]bool{}
	for _, serial := range candidates {
		if tried[serial] {
			continue
		}
		tried[serial] = true
		p, err := s.Prove(serial, st.Type)
		if isSW(err) {
			continue // not this serial on this card
		}
		if err != nil {
			return rec, err
		}
		rec.Proof, rec.ProofSerial = &p, serial
		break
	}
	return rec, nil
}
