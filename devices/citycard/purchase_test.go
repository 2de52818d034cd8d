package citycard_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/citycard/psamsim"
)

var testNow = time.Date(2026, 12, 1, 9, 30, 15, 0, citycard.ChinaTime)

const (
	startBalance = 12345 // cardsim.Sample
	startSerial  = 13
	psamTerminal = "475000000301" // psamsim.Sample
	psamSerial   = 1000
)

type rig struct {
	card *cardsim.Card
	psam *psamsim.PSAM
}

func newRig(t *testing.T, editCard func(*cardsim.Config), editPSAM func(*psamsim.Config)) *rig {
	t.Helper()
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
	return &rig{card: card, psam: psam}
}

func (r *rig) purchase(amount int64) *citycard.Purchase {
	p := citycard.NewPurchase(citycard.NewSession(r.card), citycard.NewPSAM(r.psam), amount)
	p.Now = func() time.Time { return testNow.Add(300 * time.Millisecond) }
	return p
}

// wantTAC computes the TAC a genuine card gives for st, from the TEST TAC master key.
func wantTAC(t *testing.T, st citycard.State) [4]byte {
	t.Helper()
	mtk := [16]byte(unhex(t, cardsim.Sample().Purchase.MasterTACKey))
	dtk := citycard.DeriveKey(mtk, st.CardSerial)
	return citycard.PurchaseTAC(dtk, uint32(st.AmountFen), citycard.TxPurchase, st.Terminal, st.TerminalSerial, st.DateTime())
}

// journal is what the kiosk will do: every step marshalled before the next command.
type journal struct {
	steps   []citycard.Step
	entries [][]byte
}

func (j *journal) hook(t *testing.T) func(citycard.Step, citycard.State) error {
	return func(s citycard.Step, st citycard.State) error {
		b, err := st.MarshalBinary()
		if err != nil {
			t.Errorf("marshal at %s: %v", s, err)
			return err
		}
		j.steps = append(j.steps, s)
		j.entries = append(j.entries, b)
		return nil
	}
}

// last gives the last journaled state, as a kiosk restarting would read it; ok false when
// nothing was journaled.
func (j *journal) last(t *testing.T) (citycard.State, bool) {
	t.Helper()
	if len(j.entries) == 0 {
		return citycard.State{}, false
	}
	var st citycard.State
	if err := st.UnmarshalBinary(j.entries[len(j.entries)-1]); err != nil {
		t.Fatal(err)
	}
	return st, true
}

func cardKinds(c *cardsim.Card) string {
	var k []string
	for _, a := range c.Log() {
		k = append(k, string(cardsim.Classify(a)))
	}
	return strings.Join(k, " ")
}

func psamKinds(p *psamsim.PSAM) string {
	var k []string
	for _, a := range p.Log() {
		k = append(k, string(psamsim.Classify(a)))
	}
	return strings.Join(k, " ")
}

func TestPurchase(t *testing.T) {
	for _, tt := range []struct {
		name           string
		cardT0, psamT0 bool
		cardCmds       string
	}{
		{"T=1 card, T=0 PSAM", false, true, "select-pse select-1001 select-mohurd read-15 init-purchase debit"},
		{"T=0 card, T=1 PSAM", true, false, "select-pse get-response select-1001 select-mohurd get-response read-15 get-response " +
			"init-purchase get-response debit get-response"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, func(c *cardsim.Config) { c.T0 = tt.cardT0 }, func(c *psamsim.Config) { c.T0 = tt.psamT0 })
			p := r.purchase(200)
			var j journal
			st, err := p.Run(context.Background(), j.hook(t))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(j.steps) != "[init authorized debited confirmed]" {
				t.Errorf("journaled %v", j.steps)
			}
			if st.Step != citycard.StepConfirmed || st.Outcome() != citycard.OutcomeDebited || p.Outcome() != citycard.OutcomeDebited {
				t.Errorf("step %s, outcome %s", st.Step, st.Outcome())
			}
			if st.CardNo != "3104000012345678" || hex.EncodeToString(st.CardSerial[:]) != "3104000012345678" ||
				strings.ToUpper(hex.EncodeToString(st.Terminal[:])) != psamTerminal || st.AmountFen != 200 ||
				st.BalanceBeforeFen != startBalance || st.BalanceAfterFen() != startBalance-200 ||
				st.OfflineSerial != startSerial || st.TerminalSerial != psamSerial || st.KeyIndex != 1 || st.KeyVersion != 1 ||
				!st.Time.Equal(testNow) || st.Time.Location() != citycard.ChinaTime {
				t.Errorf("state %+v", fields(st))
			}
			if st.TAC != wantTAC(t, st) {
				t.Errorf("TAC % X, want % X", st.TAC, wantTAC(t, st))
			}
			// The card's own state: what recovery reads.
			if r.card.Balance() != startBalance-200 || r.card.OfflineSerial() != startSerial+1 || r.psam.TerminalSerial() != psamSerial+1 {
				t.Errorf("card balance %d serial %d, PSAM serial %d", r.card.Balance(), r.card.OfflineSerial(), r.psam.TerminalSerial())
			}
			if got := cardKinds(r.card); got != tt.cardCmds {
				t.Errorf("card got %s", got)
			}
			psamWant := "read-terminal select mac1 verify-mac2"
			if tt.psamT0 {
				psamWant = "read-terminal get-response select mac1 get-response verify-mac2"
			}
			if got := psamKinds(r.psam); got != psamWant {
				t.Errorf("PSAM got %s", got)
			}
			r.card.Reinsert()
			info, err := citycard.Read(r.card)
			if err != nil {
				t.Fatal(err)
			}
			rec := info.Records[0]
			if info.BalanceFen != startBalance-200 || len(info.Records) != 4 || rec.Serial != startSerial || rec.AmountFen != 200 ||
				rec.Type != citycard.TxPurchase || rec.Terminal != psamTerminal || !rec.Time.Equal(testNow) {
				t.Errorf("card after: balance %d, record %+v", info.BalanceFen, rec)
			}
			// The journal's last entry is the whole final state.
			if last, _ := j.last(t); last.TAC != st.TAC || last.CardNo != st.CardNo || last.Step != citycard.StepConfirmed {
				t.Errorf("journal: %+v", fields(last))
			}
		})
	}
}

// fields prints a State's fields (State itself prints masked).
func fields(s citycard.State) string {
	return fmt.Sprintf("step=%s card=%s serial=%X amount=%d terminal=%X balance=%d offline=%d terminalSerial=%d time=%s tac=%X",
		s.Step, s.CardNo, s.CardSerial, s.AmountFen, s.Terminal, s.BalanceBeforeFen, s.OfflineSerial, s.TerminalSerial, s.Time, s.TAC)
}

func TestPurchaseTwice(t *testing.T) {
	r := newRig(t, nil, nil)
	for i := range 2 {
		if _, err := r.purchase(100).Run(context.Background(), nil); err != nil {
			t.Fatalf("purchase %d: %v", i, err)
		}
	}
	info, _ := citycard.Read(r.card)
	if info.BalanceFen != startBalance-200 || info.Records[0].Serial != startSerial+1 || info.Records[1].Serial != startSerial ||
		r.psam.TerminalSerial() != psamSerial+2 {
		t.Errorf("balance %d, serials %d %d", info.BalanceFen, info.Records[0].Serial, info.Records[1].Serial)
	}
}

// Every refusal before the debit takes nothing, tells the citizen why, and never sends DEBIT.
func TestPurchaseRefused(t *testing.T) {
	tests := []struct {
		name     string
		amount   int64
		editCard func(*cardsim.Config)
		editPSAM func(*psamsim.Config)
		fault    func(r *rig)
		step     citycard.Step
		side     citycard.Side
		is       []error
		msg      citycard.Message
	}{
		{name: "insufficient balance", amount: startBalance + 1, step: citycard.StepInit, side: citycard.SideCard,
			is: []error{citycard.ErrInsufficientBalance}, msg: citycard.MsgInsufficientBalance},
		{name: "locked card", amount: 100, editCard: func(c *cardsim.Config) { c.Locked = true }, step: citycard.StepInit,
			side: citycard.SideCard, is: []error{citycard.ErrAppLocked, citycard.ErrNoApplication}, msg: citycard.MsgAppLocked},
		{name: "locked at INITIALIZE", amount: 100, fault: func(r *rig) { r.card.Inject(cardsim.Fault{On: cardsim.CmdInitPurchase, SW: 0x9303}) },
			step: citycard.StepInit, side: citycard.SideCard, is: []error{citycard.ErrAppLocked}, msg: citycard.MsgAppLocked},
		{name: "key locked", amount: 100, fault: func(r *rig) { r.card.Inject(cardsim.Fault{On: cardsim.CmdInitPurchase, SW: 0x6983}) },
			step: citycard.StepInit, side: citycard.SideCard, is: []error{citycard.ErrKeyLocked}, msg: citycard.MsgKeyLocked},
		{name: "card lacks the key index", amount: 100, editCard: func(c *cardsim.Config) { c.Purchase.KeyIndex = 2 },
			step: citycard.StepInit, side: citycard.SideCard, is: []error{citycard.ErrKeyNotFound}, msg: citycard.MsgKeyNotFound},
		{name: "PSAM lacks the key version", amount: 100, editCard: func(c *cardsim.Config) { c.Purchase.KeyVersion = 2 },
			step: citycard.StepAuthorized, side: citycard.SidePSAM, is: []error{citycard.ErrPSAM, citycard.ErrKeyNotFound}, msg: citycard.MsgPSAM},
		{name: "PSAM refuses MAC1", amount: 100, fault: func(r *rig) { r.psam.Inject(psamsim.Fault{On: psamsim.CmdMAC1, SW: 0x6985}) },
			step: citycard.StepAuthorized, side: citycard.SidePSAM, is: []error{citycard.ErrPSAM, citycard.ErrConditions}, msg: citycard.MsgPSAM},
		{name: "PSAM without DF03", amount: 100, editPSAM: func(c *psamsim.Config) { c.Dir = "DF04" },
			step: citycard.StepInit, side: citycard.SidePSAM, is: []error{citycard.ErrPSAM, citycard.ErrFileNotFound}, msg: citycard.MsgPSAM},
		{name: "PSAM gone", amount: 100, fault: func(r *rig) { r.psam.Inject(psamsim.Fault{On: psamsim.CmdMAC1, Leave: true}) },
			step: citycard.StepAuthorized, side: citycard.SidePSAM, is: []error{citycard.ErrPSAM, citycard.ErrNoResponse}, msg: citycard.MsgPSAM},
		{name: "zero amount", amount: 0, step: citycard.StepInit, side: citycard.SideTerminal, is: []error{citycard.ErrAmount},
			msg: citycard.MsgNotDebited},
		{name: "amount too large", amount: citycard.MaxAmountFen + 1, step: citycard.StepInit, side: citycard.SideTerminal,
			is: []error{citycard.ErrAmount}, msg: citycard.MsgNotDebited},
		{name: "card leaves at INITIALIZE", amount: 100, fault: func(r *rig) { r.card.Inject(cardsim.Fault{On: cardsim.CmdInitPurchase, Leave: true}) },
			step: citycard.StepInit, side: citycard.SideCard, is: []error{citycard.ErrNoResponse}, msg: citycard.MsgCardLeft},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.editCard, tt.editPSAM)
			if tt.fault != nil {
				tt.fault(r)
			}
			var j journal
			st, err := r.purchase(tt.amount).Run(context.Background(), j.hook(t))
			var pe *citycard.PurchaseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a PurchaseError", err)
			}
			if pe.Step != tt.step || pe.Side != tt.side || pe.Outcome != citycard.OutcomeNotDebited {
				t.Errorf("step %s side %s outcome %s, want %s %s not-debited", pe.Step, pe.Side, pe.Outcome, tt.step, tt.side)
			}
			for _, w := range tt.is {
				if !errors.Is(err, w) {
					t.Errorf("%v is not %v", err, w)
				}
			}
			if m := citycard.CitizenMessage(err); m != tt.msg || pe.Message() != tt.msg || m.Zh == "" || m.En == "" {
				t.Errorf("message %q, want %q", m, tt.msg)
			}
			if st.Step >= citycard.StepAuthorized || r.card.Count(cardsim.CmdDebit) != 0 {
				t.Errorf("reached %s, %d DEBIT", st.Step, r.card.Count(cardsim.CmdDebit))
			}
			if r.card.Balance() != startBalance || r.card.OfflineSerial() != startSerial {
				t.Errorf("card changed: balance %d serial %d", r.card.Balance(), r.card.OfflineSerial())
			}
			if last, ok := j.last(t); ok && last.Outcome() != citycard.OutcomeNotDebited {
				t.Errorf("journal says %s", last.Outcome())
			}
			if strings.Contains(err.Error(), "12345678") {
				t.Errorf("error leaks the card number: %v", err)
			}
		})
	}
}

// tamper is a connection that changes bytes of the APDUs going out (a MITM, or a broken line).
type tamper struct {
	card citycard.Card
	edit func(apdu []byte)
}

func (m tamper) Transmit(apdu []byte) ([]byte, error) {
	a := append([]byte(nil), apdu...)
	m.edit(a)
	return m.card.Transmit(a)
}

// A wrong MAC1 is rejected by the card, a wrong MAC2 by the PSAM, both checking for real.
func TestTamperedMAC(t *testing.T) {
	t.Run("MAC1 from the PSAM", func(t *testing.T) {
		r := newRig(t, nil, nil)
		r.psam.Inject(psamsim.Fault{On: psamsim.CmdMAC1, Corrupt: true})
		_, err := r.purchase(100).Run(context.Background(), nil)
		var pe *citycard.PurchaseError
		if !errors.As(err, &pe) || !errors.Is(err, citycard.ErrMACInvalid) || pe.Step != citycard.StepDebited ||
			pe.Side != citycard.SideCard || pe.Outcome != citycard.OutcomeNotDebited || citycard.CitizenMessage(err) != citycard.MsgMACInvalid {
			t.Fatalf("got %v", err)
		}
		if r.card.Balance() != startBalance || r.card.OfflineSerial() != startSerial || r.psam.Count(psamsim.CmdVerifyMAC2) != 0 {
			t.Errorf("card changed or MAC2 checked")
		}
	})
	t.Run("amount changed on the way to the card", func(t *testing.T) {
		// The card is told 1 fen at INITIALIZE while the PSAM MACs 100: the MAC1 does not match.
		r := newRig(t, nil, nil)
		s := citycard.NewSession(tamper{r.card, func(a []byte) {
			if cardsim.Classify(a) == cardsim.CmdInitPurchase {
				copy(a[6:10], []byte{0, 0, 0, 1})
			}
		}})
		p := citycard.NewPurchase(s, citycard.NewPSAM(r.psam), 100)
		_, err := p.Run(context.Background(), nil)
		if !errors.Is(err, citycard.ErrMACInvalid) || p.Outcome() != citycard.OutcomeNotDebited || r.card.Balance() != startBalance {
			t.Fatalf("got %v, balance %d", err, r.card.Balance())
		}
	})
	t.Run("MAC2 from the card", func(t *testing.T) {
		r := newRig(t, nil, nil)
		r.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Corrupt: true})
		st, err := r.purchase(100).Run(context.Background(), nil)
		var pe *citycard.PurchaseError
		if !errors.As(err, &pe) || !errors.Is(err, citycard.ErrMACInvalid) || !errors.Is(err, citycard.ErrPSAM) ||
			pe.Step != citycard.StepConfirmed || pe.Side != citycard.SidePSAM || pe.Outcome != citycard.OutcomeDebited ||
			citycard.CitizenMessage(err) != citycard.MsgDebited {
			t.Fatalf("got %v", err)
		}
		// The money is taken all the same, and the state says so.
		if st.Step != citycard.StepDebited || st.Outcome() != citycard.OutcomeDebited || r.card.Balance() != startBalance-100 {
			t.Errorf("step %s, balance %d", st.Step, r.card.Balance())
		}
	})
	t.Run("PSAM rejects a right MAC2", func(t *testing.T) {
		r := newRig(t, nil, nil)
		r.psam.Inject(psamsim.Fault{On: psamsim.CmdVerifyMAC2, SW: 0x9302})
		_, err := r.purchase(100).Run(context.Background(), nil)
		var pe *citycard.PurchaseError
		if !errors.As(err, &pe) || pe.Outcome != citycard.OutcomeDebited || pe.Side != citycard.SidePSAM || r.card.Balance() != startBalance-100 {
			t.Fatalf("got %v", err)
		}
	})
}

// The card is pulled at every step. Whatever the purchase reports, the card's balance, serial
// and log afterwards say exactly whether the money was taken, and recovery from the journal
// (as a restarted kiosk would do it) decides the same.
func TestCardPulled(t *testing.T) {
	tests := []struct {
		name    string
		t0      bool
		fault   cardsim.Fault
		step    citycard.Step
		outcome citycard.Outcome
		taken   bool
	}{
		{"at selection", false, cardsim.Fault{On: cardsim.CmdSelectPSE, Leave: true}, citycard.StepInit, citycard.OutcomeNotDebited, false},
		{"reading the public data", false, cardsim.Fault{On: cardsim.CmdReadPublic, Leave: true}, citycard.StepInit, citycard.OutcomeNotDebited, false},
		{"before INITIALIZE", false, cardsim.Fault{On: cardsim.CmdInitPurchase, Leave: true}, citycard.StepInit, citycard.OutcomeNotDebited, false},
		{"after INITIALIZE", false, cardsim.Fault{On: cardsim.CmdInitPurchase, Leave: true, After: true}, citycard.StepInit, citycard.OutcomeNotDebited, false},
		{"before DEBIT", false, cardsim.Fault{On: cardsim.CmdDebit, Leave: true}, citycard.StepDebited, citycard.OutcomeUnknown, false},
		{"after DEBIT", false, cardsim.Fault{On: cardsim.CmdDebit, Leave: true, After: true}, citycard.StepDebited, citycard.OutcomeUnknown, true},
		{"T=0, before DEBIT", true, cardsim.Fault{On: cardsim.CmdDebit, Leave: true}, citycard.StepDebited, citycard.OutcomeUnknown, false},
		{"T=0, after DEBIT", true, cardsim.Fault{On: cardsim.CmdDebit, Leave: true, After: true}, citycard.StepDebited, citycard.OutcomeUnknown, true},
		// 61 08 came for DEBIT: the card debited; only the TAC and MAC2 are lost.
		{"T=0, during DEBIT's GET RESPONSE", true, cardsim.Fault{On: cardsim.CmdGetResponse, Skip: 4, Leave: true},
			citycard.StepDebited, citycard.OutcomeDebited, true},
		{"DEBIT answers 65 81", false, cardsim.Fault{On: cardsim.CmdDebit, SW: 0x6581}, citycard.StepDebited, citycard.OutcomeUnknown, false},
		{"DEBIT answers 94 01", false, cardsim.Fault{On: cardsim.CmdDebit, SW: 0x9401}, citycard.StepDebited, citycard.OutcomeNotDebited, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, func(c *cardsim.Config) { c.T0 = tt.t0 }, nil)
			r.card.Inject(tt.fault)
			var j journal
			_, err := r.purchase(250).Run(context.Background(), j.hook(t))
			var pe *citycard.PurchaseError
			if !errors.As(err, &pe) || pe.Step != tt.step || pe.Outcome != tt.outcome {
				t.Fatalf("got %v, want step %s outcome %s", err, tt.step, tt.outcome)
			}
			if n := r.card.Count(cardsim.CmdDebit); n > 1 {
				t.Fatalf("%d DEBIT", n)
			}
			// The truth, from the card itself.
			wantBalance, wantSerial := int64(startBalance), uint16(startSerial)
			if tt.taken {
				wantBalance, wantSerial = startBalance-250, startSerial+1
			}
			if r.card.Balance() != wantBalance || r.card.OfflineSerial() != wantSerial {
				t.Fatalf("card: balance %d serial %d, want %d %d", r.card.Balance(), r.card.OfflineSerial(), wantBalance, wantSerial)
			}
			// A restarted kiosk: the journal's last entry and the card tapped again.
			r.card.Reinsert()
			st, ok := j.last(t)
			if !ok {
				if tt.taken {
					t.Fatal("money taken with nothing journaled")
				}
				return
			}
			if tt.taken && st.Step < citycard.StepAuthorized {
				t.Fatalf("money taken, journal at %s", st.Step)
			}
			rec, err := citycard.NewSession(r.card).Recover(st)
			if err != nil {
				t.Fatal(err)
			}
			want := citycard.OutcomeNotDebited
			if tt.taken {
				want = citycard.OutcomeDebited
			}
			if rec.Outcome != want || rec.BalanceFen != wantBalance {
				t.Fatalf("recovery: %s (%s), balance %d; want %s", rec.Outcome, rec.Reason, rec.BalanceFen, want)
			}
			if tt.taken {
				if rec.Index != 0 || rec.Proof == nil || rec.Proof.TAC != wantTAC(t, st) || rec.ProofSerial != startSerial {
					t.Errorf("recovery: index %d proof %+v serial %d", rec.Index, rec.Proof, rec.ProofSerial)
				}
			} else if rec.Proof != nil || r.card.Count(cardsim.CmdProve) != 0 {
				t.Errorf("proof asked for a debit that did not happen")
			}
		})
	}
}

// The card leaves after DEBIT was carried out; on the next tap, in the same process, Resume
// gets the proof and the PSAM checks its MAC2: the same TAC as the lost answer had.
func TestResumeAfterLostDebit(t *testing.T) {
	r := newRig(t, nil, nil)
	r.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true, After: true})
	p := r.purchase(300)
	ctx := context.Background()
	for _, step := range []func(context.Context) error{p.Init, p.Authorize} {
		if err := step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Debit(ctx); !errors.Is(err, citycard.ErrNoResponse) || p.Outcome() != citycard.OutcomeUnknown ||
		citycard.CitizenMessage(err) != citycard.MsgUnknown {
		t.Fatalf("debit: %v, %s", err, p.Outcome())
	}
	// Nothing more may go to the card until it is back: the card, not the terminal, decides.
	if err := p.Debit(ctx); !errors.Is(err, citycard.ErrOutOfOrder) {
		t.Errorf("second DEBIT: %v", err)
	}
	if err := p.Confirm(ctx); !errors.Is(err, citycard.ErrOutOfOrder) {
		t.Errorf("confirm before recovery: %v", err)
	}
	// Still gone: Resume fails and keeps the outcome unknown.
	if _, err := p.Resume(ctx, citycard.NewSession(r.card)); err == nil || p.Outcome() != citycard.OutcomeUnknown {
		t.Fatalf("resume with no card: %v, %s", err, p.Outcome())
	}
	r.card.Reinsert()
	// The card leaves again during GET TRANSACTION PROVE: the debit is known, the proof not yet.
	r.card.Inject(cardsim.Fault{On: cardsim.CmdProve, Leave: true})
	rec, err := p.Resume(ctx, citycard.NewSession(r.card))
	if err == nil || rec.Outcome != citycard.OutcomeDebited || p.Outcome() != citycard.OutcomeDebited || p.State().Step != citycard.StepAuthorized {
		t.Fatalf("resume, card leaving: %v, %s", err, rec.Outcome)
	}
	r.card.Reinsert()
	rec, err = p.Resume(ctx, citycard.NewSession(r.card))
	if err != nil || rec.Proof == nil {
		t.Fatalf("resume: %v, %+v", err, rec)
	}
	st := p.State()
	if st.Step != citycard.StepDebited || st.TAC != wantTAC(t, st) {
		t.Fatalf("state after resume: %+v", fields(st))
	}
	if err := p.Confirm(ctx); err != nil {
		t.Fatalf("PSAM rejects the proof's MAC2: %v", err)
	}
	if r.card.Count(cardsim.CmdDebit) != 1 || r.card.Balance() != startBalance-300 {
		t.Errorf("%d DEBIT, balance %d", r.card.Count(cardsim.CmdDebit), r.card.Balance())
	}
}

// When DEBIT never reached the card, Resume says so and the purchase is over.
func TestResumeNotDebited(t *testing.T) {
	r := newRig(t, nil, nil)
	r.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true})
	p := r.purchase(300)
	_, err := p.Run(context.Background(), nil)
	if p.Outcome() != citycard.OutcomeUnknown {
		t.Fatalf("%v", err)
	}
	r.card.Reinsert()
	rec, err := p.Resume(context.Background(), citycard.NewSession(r.card))
	if err != nil || rec.Outcome != citycard.OutcomeNotDebited || p.Outcome() != citycard.OutcomeNotDebited || rec.Proof != nil {
		t.Fatalf("%v %+v", err, rec)
	}
	if _, err := p.Resume(context.Background(), citycard.NewSession(r.card)); !errors.Is(err, citycard.ErrOutOfOrder) {
		t.Errorf("resume after the verdict: %v", err)
	}
}

// Cards differ in the serial they log and the one GET TRANSACTION PROVE wants; recovery finds
// the debit and its proof with each.
func TestProveSerialConventions(t *testing.T) {
	for _, logged := range []string{"", "next"} {
		for _, proved := range []string{"transaction", "next"} {
			name := fmt.Sprintf("log %q prove %q", logged, proved)
			r := newRig(t, func(c *cardsim.Config) { c.Purchase.LogSerial, c.Purchase.ProveSerial = logged, proved }, nil)
			r.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true, After: true})
			var j journal
			if _, err := r.purchase(99).Run(context.Background(), j.hook(t)); err == nil {
				t.Fatalf("%s: no error", name)
			}
			r.card.Reinsert()
			st, _ := j.last(t)
			rec, err := citycard.NewSession(r.card).Recover(st)
			wantSerial := uint16(startSerial)
			if proved == "next" {
				wantSerial++
			}
			if err != nil || rec.Outcome != citycard.OutcomeDebited || rec.Proof == nil || rec.ProofSerial != wantSerial ||
				rec.Proof.TAC != wantTAC(t, st) {
				t.Errorf("%s: %v %+v", name, err, rec)
			}
			if n := r.card.Count(cardsim.CmdProve); n > 3 {
				t.Errorf("%s: %d PROVE", name, n)
			}
		}
	}
}

func TestRecoverOtherCard(t *testing.T) {
	r := newRig(t, nil, nil)
	r.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true, After: true})
	var j journal
	r.purchase(100).Run(context.Background(), j.hook(t))
	st, _ := j.last(t)
	other := newRig(t, func(c *cardsim.Config) { c.CardNo = "3104000099999999" }, nil)
	rec, err := citycard.NewSession(other.card).Recover(st)
	if !errors.Is(err, citycard.ErrOtherCard) || rec.Outcome != citycard.OutcomeUnknown {
		t.Errorf("%v %s", err, rec.Outcome)
	}
}

func TestJudge(t *testing.T) {
	st := citycard.State{
		Step: citycard.StepAuthorized, Type: citycard.TxPurchase, AmountFen: 200, Terminal: [6]byte(unhex(t, psamTerminal)),
		BalanceBeforeFen: 1000, OfflineSerial: 7, Time: testNow,
	}
	ours := citycard.Record{Serial: 7, AmountFen: 200, Type: citycard.TxPurchase, Terminal: psamTerminal, Time: testNow}
	older := citycard.Record{Serial: 6, AmountFen: 200, Type: citycard.TxPurchase, Terminal: psamTerminal, Time: testNow.Add(-time.Hour)}
	edit := func(r citycard.Record, f func(*citycard.Record)) citycard.Record { f(&r); return r }
	tests := []struct {
		name    string
		step    citycard.Step
		balance int64
		recs    []citycard.Record
		outcome citycard.Outcome
		index   int
	}{
		{"never sent", citycard.StepInit, 800, []citycard.Record{ours}, citycard.OutcomeNotDebited, -1},
		{"newest record", citycard.StepAuthorized, 800, []citycard.Record{ours, older}, citycard.OutcomeDebited, 0},
		{"serial + 1 logged", citycard.StepAuthorized, 800, []citycard.Record{edit(ours, func(r *citycard.Record) { r.Serial = 8 })}, citycard.OutcomeDebited, 0},
		{"used since", citycard.StepAuthorized, 500, []citycard.Record{{Serial: 8, AmountFen: 300, Type: citycard.TxPurchase, Terminal: "000000000001", Time: testNow.Add(time.Minute)}, ours}, citycard.OutcomeDebited, 1},
		{"record in another zone", citycard.StepAuthorized, 800, []citycard.Record{edit(ours, func(r *citycard.Record) {
			r.Time = time.Date(2026, 12, 1, 9, 30, 15, 0, time.UTC) // the same wall clock, read as UTC
		})}, citycard.OutcomeDebited, 0},
		{"unchanged", citycard.StepAuthorized, 1000, []citycard.Record{older}, citycard.OutcomeNotDebited, -1},
		{"empty log", citycard.StepAuthorized, 1000, nil, citycard.OutcomeNotDebited, -1},
		{"other second", citycard.StepAuthorized, 1000, []citycard.Record{edit(ours, func(r *citycard.Record) { r.Time = r.Time.Add(time.Second) })}, citycard.OutcomeNotDebited, -1},
		{"other terminal", citycard.StepAuthorized, 1000, []citycard.Record{edit(ours, func(r *citycard.Record) { r.Terminal = "475000000302" })}, citycard.OutcomeNotDebited, -1},
		{"other amount", citycard.StepAuthorized, 1000, []citycard.Record{edit(ours, func(r *citycard.Record) { r.AmountFen = 201 })}, citycard.OutcomeNotDebited, -1},
		{"other serial", citycard.StepAuthorized, 1000, []citycard.Record{edit(ours, func(r *citycard.Record) { r.Serial = 9 })}, citycard.OutcomeNotDebited, -1},
		{"a load, not a purchase", citycard.StepAuthorized, 1000, []citycard.Record{edit(ours, func(r *citycard.Record) { r.Type = citycard.TxLoad })}, citycard.OutcomeNotDebited, -1},
		{"balance changed, no record", citycard.StepAuthorized, 700, []citycard.Record{older}, citycard.OutcomeUnknown, -1},
		{"debited, record gone", citycard.StepDebited, 700, []citycard.Record{older}, citycard.OutcomeDebited, -1},
		{"debited, record there", citycard.StepConfirmed, 800, []citycard.Record{older, ours}, citycard.OutcomeDebited, 1},
	}
	for _, tt := range tests {
		s := st
		s.Step = tt.step
		v := s.Judge(tt.balance, tt.recs)
		if v.Outcome != tt.outcome || v.Index != tt.index || v.Reason == "" {
			t.Errorf("%s: %s at %d (%s), want %s at %d", tt.name, v.Outcome, v.Index, v.Reason, tt.outcome, tt.index)
		}
	}
}

func TestStepOrder(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil, nil)
	p := r.purchase(100)
	for name, step := range map[string]func(context.Context) error{"authorize": p.Authorize, "debit": p.Debit, "confirm": p.Confirm} {
		if err := step(ctx); !errors.Is(err, citycard.ErrOutOfOrder) {
			t.Errorf("%s first: %v", name, err)
		}
	}
	if _, err := p.Resume(ctx, citycard.NewSession(r.card)); !errors.Is(err, citycard.ErrOutOfOrder) {
		t.Errorf("resume first: %v", err)
	}
	if err := p.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Init(ctx); !errors.Is(err, citycard.ErrOutOfOrder) {
		t.Errorf("init twice: %v", err)
	}
	// A refused DEBIT is not retried on the same purchase.
	r.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, SW: 0x6985})
	if err := p.Authorize(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Debit(ctx); !errors.Is(err, citycard.ErrConditions) || p.Outcome() != citycard.OutcomeNotDebited {
		t.Fatalf("debit: %v", err)
	}
	if err := p.Debit(ctx); !errors.Is(err, citycard.ErrOutOfOrder) || r.card.Count(cardsim.CmdDebit) != 1 {
		t.Errorf("debit again: %v, %d DEBIT", err, r.card.Count(cardsim.CmdDebit))
	}
	if _, err := p.Resume(ctx, citycard.NewSession(r.card)); !errors.Is(err, citycard.ErrOutOfOrder) {
		t.Errorf("resume after a refusal: %v", err)
	}
}

// The journal's write must succeed before the next command goes out.
func TestJournalFailure(t *testing.T) {
	diskFull := errors.New("disk full")
	for _, tt := range []struct {
		at      citycard.Step
		outcome citycard.Outcome
		debits  int
		mac2    int
	}{
		{citycard.StepInit, citycard.OutcomeNotDebited, 0, 0},
		{citycard.StepAuthorized, citycard.OutcomeNotDebited, 0, 0},
		{citycard.StepDebited, citycard.OutcomeDebited, 1, 0},
		{citycard.StepConfirmed, citycard.OutcomeDebited, 1, 1},
	} {
		r := newRig(t, nil, nil)
		_, err := r.purchase(100).Run(context.Background(), func(s citycard.Step, _ citycard.State) error {
			if s == tt.at {
				return diskFull
			}
			return nil
		})
		var pe *citycard.PurchaseError
		if !errors.As(err, &pe) || !errors.Is(err, diskFull) || pe.Step != tt.at || pe.Side != citycard.SideTerminal || pe.Outcome != tt.outcome {
			t.Errorf("at %s: %v", tt.at, err)
		}
		if r.card.Count(cardsim.CmdDebit) != tt.debits || r.psam.Count(psamsim.CmdVerifyMAC2) != tt.mac2 {
			t.Errorf("at %s: %d DEBIT, %d MAC2", tt.at, r.card.Count(cardsim.CmdDebit), r.psam.Count(psamsim.CmdVerifyMAC2))
		}
	}
}

func TestContextCancelled(t *testing.T) {
	r := newRig(t, nil, nil)
	p := r.purchase(100)
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.Init(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	err := p.Authorize(ctx)
	var pe *citycard.PurchaseError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &pe) || pe.Outcome != citycard.OutcomeNotDebited || r.psam.Count(psamsim.CmdMAC1) != 0 {
		t.Errorf("%v", err)
	}
}

func TestStateEncoding(t *testing.T) {
	r := newRig(t, nil, nil)
	st, err := r.purchase(200).Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back citycard.State
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if fields(back) != fields(st) || back.MAC1 != st.MAC1 || back.MAC2 != st.MAC2 || back.Random != st.Random || back.KeyVersion != st.KeyVersion {
		t.Errorf("round trip:\n%s\n%s", fields(back), fields(st))
	}
	var zero citycard.State
	if b, err := zero.MarshalBinary(); err != nil || back.UnmarshalBinary(b) != nil || fields(back) != fields(zero) {
		t.Errorf("zero state: %v", err)
	}
	for name, s := range map[string]citycard.State{
		"negative amount": {AmountFen: -1}, "huge balance": {BalanceBeforeFen: 1 << 40}, "letters": {CardNo: "31A4"},
		"year 1899": {Time: time.Date(1899, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := s.MarshalBinary(); !errors.Is(err, citycard.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, edit := range map[string]func([]byte) []byte{
		"version 2": func(b []byte) []byte { b[3] = 2; return b },
		"short":     func(b []byte) []byte { return b[:len(b)-1] },
		"step 9":    func(b []byte) []byte { b[4] = 9; return b },
		"letter":    func(b []byte) []byte { b[8] = 'x'; return b },
		"month 13":  func(b []byte) []byte { b[len(b)-12-7+2] = 0x13; return b },
	} {
		before := back
		if err := back.UnmarshalBinary(edit(append([]byte(nil), b...))); !errors.Is(err, citycard.ErrMalformed) || fields(back) != fields(before) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Printed every way, the state shows the card number masked only.
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("purchase", "state", st)
	js, _ := json.Marshal(st)
	outs := []string{logged.String(), string(js), fmt.Sprint(st), fmt.Sprintf("%+v %#v %s %x %q", st, st, st, st, st)}
	for _, out := range outs {
		if strings.Contains(out, "00001234") || strings.Contains(out, "3104000012345678") {
			t.Errorf("%q leaks the card number", out)
		}
	}
	if !strings.Contains(logged.String(), "3104********5678") || !strings.Contains(string(js), "3104********5678") ||
		st.String() != "purchase 200 fen, card 3104********5678, confirmed" {
		t.Errorf("masked forms: %s %s %s", logged.String(), js, st)
	}
}

func TestCitizenMessage(t *testing.T) {
	if m := citycard.CitizenMessage(nil); m != (citycard.Message{}) {
		t.Errorf("nil: %v", m)
	}
	for err, want := range map[error]citycard.Message{
		citycard.ErrInsufficientBalance: citycard.MsgInsufficientBalance,
		citycard.ErrNoResponse:          citycard.MsgCardLeft,
		errors.New("something"):         citycard.MsgNotDebited,
		&citycard.PurchaseError{Outcome: citycard.OutcomeUnknown, Err: citycard.ErrInsufficientBalance}:                          citycard.MsgUnknown,
		&citycard.PurchaseError{Outcome: citycard.OutcomeDebited, Side: citycard.SidePSAM, Err: citycard.ErrMACInvalid}:          citycard.MsgDebited,
		&citycard.PurchaseError{Outcome: citycard.OutcomeNotDebited, Side: citycard.SidePSAM, Err: citycard.ErrMACInvalid}:       citycard.MsgPSAM,
		&citycard.PurchaseError{Outcome: citycard.OutcomeNotDebited, Side: citycard.SideCard, Err: citycard.ErrMACInvalid}:       citycard.MsgMACInvalid,
		&citycard.PurchaseError{Outcome: citycard.OutcomeNotDebited, Side: citycard.SideCard, Err: citycard.ErrKeyNotFound}:      citycard.MsgKeyNotFound,
		&citycard.PurchaseError{Outcome: citycard.OutcomeNotDebited, Side: citycard.SideCard, Err: citycard.ErrKeyLocked}:        citycard.MsgKeyLocked,
		&citycard.PurchaseError{Outcome: citycard.OutcomeNotDebited, Side: citycard.SideCard, Err: citycard.ErrAppLocked}:        citycard.MsgAppLocked,
		&citycard.PurchaseError{Outcome: citycard.OutcomeNotDebited, Side: citycard.SideTerminal, Err: context.DeadlineExceeded}: citycard.MsgNotDebited,
	} {
		if got := citycard.CitizenMessage(err); got != want {
			t.Errorf("%v: %v, want %v", err, got, want)
		}
	}
	// Every message says whether money was taken, in both languages.
	for _, m := range []citycard.Message{citycard.MsgInsufficientBalance, citycard.MsgAppLocked, citycard.MsgMACInvalid,
		citycard.MsgKeyLocked, citycard.MsgKeyNotFound, citycard.MsgPSAM, citycard.MsgCardLeft, citycard.MsgNotDebited} {
		if !strings.Contains(m.Zh, "未扣款") || !strings.Contains(m.En, "nothing was charged") {
			t.Errorf("%v does not say nothing was charged", m)
		}
	}
	if !strings.Contains(citycard.MsgDebited.Zh, "已扣款") || !strings.Contains(citycard.MsgUnknown.Zh, "确认") {
		t.Error("debited/unknown messages")
	}
}
