package citycard_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/psamsim"
)

// checkMalformed fails unless err is nil or ErrMalformed for an input of the wrong length.
func checkMalformed(t *testing.T, b []byte, size int, err error) bool {
	t.Helper()
	if len(b) != size {
		if !errors.Is(err, citycard.ErrMalformed) {
			t.Fatalf("%d bytes accepted: %v", len(b), err)
		}
		return false
	}
	if err != nil {
		t.Fatalf("% X: %v", b, err)
	}
	return true
}

func FuzzInitAnswer(f *testing.F) {
	f.Add([]byte{0x00, 0x00, 0x30, 0x39, 0x00, 0x0D, 0, 0, 0, 0x01, 0x00, 0x11, 0x22, 0x33, 0x44})
	f.Add(bytes.Repeat([]byte{0xFF}, 15))
	f.Add(make([]byte, 14))
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := citycard.ParseInitAnswer(b)
		if !checkMalformed(t, b, citycard.InitAnswerSize, err) {
			return
		}
		if a.BalanceFen < 0 || a.BalanceFen > citycard.MaxAmountFen || a.Overdraft > 0xFFFFFF ||
			int64(binary.BigEndian.Uint32(b)) != a.BalanceFen || a.OfflineSerial != binary.BigEndian.Uint16(b[4:]) ||
			!bytes.Equal(a.Random[:], b[11:]) || a.KeyVersion != b[9] || a.Algorithm != b[10] {
			t.Fatalf("% X: %+v", b, a)
		}
	})
}

func FuzzMAC1Answer(f *testing.F) {
	f.Add([]byte{0x00, 0x00, 0x03, 0xE8, 0x86, 0xD8, 0x14, 0x4D})
	f.Add(make([]byte, 7))
	f.Add(make([]byte, 10))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := citycard.ParseMAC1Answer(b)
		if checkMalformed(t, b, 8, err) && (a.TerminalSerial != binary.BigEndian.Uint32(b) || !bytes.Equal(a.MAC1[:], b[4:])) {
			t.Fatalf("% X: %+v", b, a)
		}
	})
}

func FuzzDebitAnswer(f *testing.F) {
	f.Add([]byte{0x6B, 0xAB, 0x86, 0x36, 0x24, 0x4C, 0x27, 0x93})
	f.Add([]byte{})
	f.Add(make([]byte, 9))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := citycard.ParseDebitAnswer(b)
		if checkMalformed(t, b, 8, err) && (!bytes.Equal(a.TAC[:], b[:4]) || !bytes.Equal(a.MAC2[:], b[4:])) {
			t.Fatalf("% X: %+v", b, a)
		}
	})
}

func FuzzProveAnswer(f *testing.F) {
	f.Add([]byte{0x24, 0x4C, 0x27, 0x93, 0x6B, 0xAB, 0x86, 0x36})
	f.Add([]byte{0x94})
	f.Add(make([]byte, 12))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := citycard.ParseProof(b)
		if checkMalformed(t, b, 8, err) && (!bytes.Equal(p.MAC2[:], b[:4]) || !bytes.Equal(p.TAC[:], b[4:])) {
			t.Fatalf("% X: %+v", b, p)
		}
	})
}

// FuzzState: a journal entry read back from disk is either ErrMalformed or a state that
// marshals to the very same bytes.
func FuzzState(f *testing.F) {
	full := citycard.State{
		Step: citycard.StepConfirmed, Type: citycard.TxPurchase, CardNo: "3104000012345678",
		CardSerial: [8]byte{0x31, 0x04, 0, 0, 0x12, 0x34, 0x56, 0x78}, KeyIndex: 1, AmountFen: 200,
		Terminal: [6]byte{0x47, 0x50, 0, 0, 0x03, 0x01}, BalanceBeforeFen: 12345, OfflineSerial: 13, KeyVersion: 1,
		Random: [4]byte{1, 2, 3, 4}, TerminalSerial: 1000, Time: testNow, MAC1: [4]byte{5, 6, 7, 8},
		TAC: [4]byte{9, 10, 11, 12}, MAC2: [4]byte{13, 14, 15, 16},
	}
	b, err := full.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	zero, _ := citycard.State{}.MarshalBinary()
	f.Add(zero)
	f.Add([]byte("CCP\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var st citycard.State
		if err := st.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, citycard.ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		again, err := st.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("% X came back as % X (%v)", b, again, err)
		}
	})
}

// cardScript is a card answering from the fuzz input (a length byte, then that many bytes, per
// answer) and remembering whether DEBIT was answered 90 00 or 61 xx: then the card debited.
type cardScript struct {
	answers [][]byte
	debited bool // a DEBIT was answered 90 00 or 61 xx
	again   bool // a DEBIT went out after that
}

func (c *cardScript) Transmit(apdu []byte) ([]byte, error) {
	if len(c.answers) == 0 {
		return []byte{}, nil // left the field
	}
	a := c.answers[0]
	c.answers = c.answers[1:]
	if len(apdu) > 1 && apdu[1] == 0x54 {
		c.again = c.again || c.debited
		if _, sw, err := citycard.ParseResponse(a); err == nil && (sw == citycard.SWOK || sw>>8 == 0x61) {
			c.debited = true
		}
	}
	return a, nil
}

// FuzzPurchaseCard runs a whole purchase against a card that answers anything, and a real PSAM.
// Whatever the card says: no panic, no DEBIT after one the card carried out (a 6C xx answer
// is a resend, not a second debit), and a card that answered DEBIT with 90 00 or 61 xx is never
// reported as not debited.
func FuzzPurchaseCard(f *testing.F) {
	ok := func(data ...byte) []byte { return append(append([]byte{byte(len(data) + 2)}, data...), 0x90, 0x00) }
	var seed []byte
	seed = append(seed, ok()...)                                                     // PSE
	seed = append(seed, ok()...)                                                     // 1001
	seed = append(seed, ok(public(nil)...)...)                                       // SFI 15
	seed = append(seed, ok(0, 0, 0x30, 0x39, 0, 0x0D, 0, 0, 0, 1, 0, 1, 2, 3, 4)...) // INITIALIZE
	seed = append(seed, ok(1, 2, 3, 4, 5, 6, 7, 8)...)                               // DEBIT
	f.Add(seed)
	f.Add(append(seed[:len(seed)-11], 0x02, 0x61, 0x08, 0x00))
	f.Add(append(seed[:len(seed)-11], 0x02, 0x93, 0x02))
	f.Add(append(seed[:len(seed)-11], 0x02, 0x65, 0x81))
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &cardScript{}
		for len(in) > 0 {
			n := min(int(in[0]), len(in)-1)
			c.answers = append(c.answers, in[1:1+n])
			in = in[1+n:]
		}
		ps, _ := psamsim.New(psamsim.Sample())
		p := citycard.NewPurchase(citycard.NewSession(c), citycard.NewPSAM(ps), 100)
		p.Now = func() time.Time { return testNow }
		st, err := p.Run(context.Background(), nil)
		if c.again {
			t.Fatal("DEBIT sent again after the card carried one out")
		}
		if c.debited && p.Outcome() == citycard.OutcomeNotDebited {
			t.Fatalf("the card debited, the purchase says not (%v)", err)
		}
		if err == nil && (st.Step != citycard.StepConfirmed || !c.debited) {
			t.Fatalf("success at %s", st.Step)
		}
		var pe *citycard.PurchaseError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
