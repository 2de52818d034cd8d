package citycard_test

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
)

// pendingState is a purchase torn at DEBIT: what recovery works from.
func pendingState() citycard.State {
	return citycard.State{
		Step: citycard.StepAuthorized, Type: citycard.TxPurchase, CardNo: "3104000012345678",
		CardSerial: [8]byte{0x31, 0x04, 0, 0, 0x12, 0x34, 0x56, 0x78}, KeyIndex: 1, AmountFen: 100,
		Terminal: [6]byte{0x47, 0x50, 0, 0, 0x03, 0x01}, BalanceBeforeFen: 12345, OfflineSerial: 13,
		TerminalSerial: 1000, Time: testNow,
	}
}

// recoverSeed is a card answering recovery with the debit done: PSE, MOHURD, public data,
// balance, one matching record, the end of the log, the proof.
func recoverSeed(debited bool) []byte {
	ok := func(data ...byte) []byte { return append(append([]byte{byte(len(data) + 2)}, data...), 0x90, 0x00) }
	var seed []byte
	seed = append(seed, ok()...)
	seed = append(seed, ok()...)
	seed = append(seed, ok(public(nil)...)...)
	bal := int64(12345)
	if debited {
		bal -= 100
	}
	seed = append(seed, ok(binary.BigEndian.AppendUint32(nil, uint32(bal))...)...)
	if debited {
		rec := []byte{0, 13, 0, 0, 0, 0, 0, 0, 100, 0x06, 0x47, 0x50, 0, 0, 0x03, 0x01, 0x20, 0x26, 0x12, 0x01, 0x09, 0x30, 0x15}
		seed = append(seed, ok(rec...)...)
	}
	seed = append(seed, 0x02, 0x6A, 0x83)
	if debited {
		seed = append(seed, ok(1, 2, 3, 4, 5, 6, 7, 8)...)
	}
	return seed
}

// FuzzRecover runs recovery against a card answering anything (every response parser of the
// recovery path: selection, public data, balance, records, proof). Whatever the card says: no
// panic, no purchase command sent (recovery never starts a purchase), "debited" only with a
// matching record in the log read, "not debited" only with the balance unchanged and no such
// record, and a typed error.
func FuzzRecover(f *testing.F) {
	f.Add(recoverSeed(true))
	f.Add(recoverSeed(false))
	f.Add(recoverSeed(true)[:40])
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &cardScript{}
		for len(in) > 0 {
			n := min(int(in[0]), len(in)-1)
			c.answers = append(c.answers, in[1:1+n])
			in = in[1+n:]
		}
		w := &noPurchase{t: t, card: c}
		st := pendingState()
		rec, err := citycard.NewSession(w).Recover(st)
		switch rec.Outcome {
		case citycard.OutcomeDebited:
			if rec.Index < 0 || rec.Index >= len(rec.Records) {
				t.Fatalf("debited without a record (index %d of %d)", rec.Index, len(rec.Records))
			}
			r := rec.Records[rec.Index]
			if r.AmountFen != st.AmountFen || r.Type != st.Type || r.Terminal != "475000000301" {
				t.Fatalf("debited on a record that is not the debit: %+v", r)
			}
		case citycard.OutcomeNotDebited:
			if rec.BalanceFen != st.BalanceBeforeFen || err != nil {
				t.Fatalf("not debited with balance %d (before %d), err %v", rec.BalanceFen, st.BalanceBeforeFen, err)
			}
		}
		if rec.Proof != nil && rec.Outcome != citycard.OutcomeDebited {
			t.Fatal("a proof without a debit")
		}
		if err != nil {
			var sw citycard.SW
			if !errors.As(err, &sw) && !errors.Is(err, citycard.ErrMalformed) && !errors.Is(err, citycard.ErrNoResponse) &&
				!errors.Is(err, citycard.ErrOtherCard) && !errors.Is(err, citycard.ErrNoApplication) {
				t.Fatalf("untyped error %v", err)
			}
		}
	})
}

// noPurchase fails the test if recovery sends INITIALIZE FOR PURCHASE or DEBIT.
type noPurchase struct {
	t    *testing.T
	card citycard.Card
}

func (n *noPurchase) Transmit(apdu []byte) ([]byte, error) {
	if len(apdu) > 1 && apdu[0] == 0x80 && (apdu[1] == 0x50 || apdu[1] == 0x54) {
		n.t.Fatalf("recovery sent a purchase command % X", apdu)
	}
	return n.card.Transmit(apdu)
}

// psamScript is a PSAM answering from the fuzz input (a length byte, then that many bytes).
type psamScript struct{ answers [][]byte }

func (p *psamScript) Transmit([]byte) ([]byte, error) {
	if len(p.answers) == 0 {
		return []byte{}, nil
	}
	a := p.answers[0]
	p.answers = p.answers[1:]
	return a, nil
}

// FuzzPurchasePSAM runs a whole purchase against a real card model and a PSAM that answers
// anything (terminal id, directory, MAC1, the MAC2 check). Whatever the PSAM says: no panic,
// DEBIT only after a well-formed MAC1 answer, and the outcome always matches the card: a card
// whose balance moved is never reported as not debited, and one whose balance did not is never
// reported as debited.
func FuzzPurchasePSAM(f *testing.F) {
	ok := func(data ...byte) []byte { return append(append([]byte{byte(len(data) + 2)}, data...), 0x90, 0x00) }
	var seed []byte
	seed = append(seed, ok(0x47, 0x50, 0, 0, 0x03, 0x01)...) // terminal id
	seed = append(seed, ok()...)                             // DF03
	seed = append(seed, ok(0, 0, 0x03, 0xE8, 1, 2, 3, 4)...) // MAC1 (wrong: the card says 93 02)
	seed = append(seed, ok()...)                             // MAC2 accepted
	f.Add(seed)
	f.Add(append(seed[:17], 0x02, 0x69, 0x85))
	f.Add(append(seed[:17], 0x02, 0x61, 0x08, 0x0A, 0, 0, 0x03, 0xE8, 1, 2, 3, 4, 0x90, 0x00))
	f.Fuzz(func(t *testing.T, in []byte) {
		ps := &psamScript{}
		for len(in) > 0 {
			n := min(int(in[0]), len(in)-1)
			ps.answers = append(ps.answers, in[1:1+n])
			in = in[1+n:]
		}
		card, err := cardsim.New(cardsim.Sample())
		if err != nil {
			t.Fatal(err)
		}
		p := citycard.NewPurchase(citycard.NewSession(card), citycard.NewPSAM(ps), 100)
		p.Now = func() time.Time { return testNow }
		st, err := p.Run(context.Background(), nil)
		debited := card.Balance() != 12345
		if card.Count(cardsim.CmdDebit) > 0 && st.Step < citycard.StepAuthorized {
			t.Fatalf("DEBIT sent at step %s", st.Step)
		}
		if debited && p.Outcome() != citycard.OutcomeDebited {
			t.Fatalf("the card debited, the purchase says %s (%v)", p.Outcome(), err)
		}
		if !debited && p.Outcome() == citycard.OutcomeDebited {
			t.Fatalf("the purchase says debited, the card did not (%v)", err)
		}
		var pe *citycard.PurchaseError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("untyped error %v", err)
		}
		if err == nil && (st.Step != citycard.StepConfirmed || !debited) {
			t.Fatalf("success at %s", st.Step)
		}
	})
}
