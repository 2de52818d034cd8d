package rig

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/citycard/psamsim"
	"citizenhome/devices/pcsc/pcsctest"
	"citizenhome/kiosk"
	"citizenhome/kiosk/payment"
	"citizenhome/mask"
)

// payEnv is pcscd with the city card reader and the PSAM reader, a PSAM model in its slot.
type payEnv struct {
	env  *pcsctest.Env
	psam *psamsim.PSAM
}

func openPayEnv(t testing.TB) *payEnv {
	t.Helper()
	env := pcsctest.Open(t)
	slot := openPSAMSlot(t, env)
	psam, err := psamsim.New(psamsim.Sample())
	if err != nil {
		t.Fatal(err)
	}
	if err := slot.Insert(psam); err != nil {
		t.Fatal(err)
	}
	env.WaitReaders(t, pcsctest.CityReaderSlot, psamReader+" 00 00")
	env.WaitCard(t, psamReader+" 00 00")
	return &payEnv{env: env, psam: psam}
}

// tap puts m on the city card reader and waits until the kiosk has read it (and settled its
// payments, which the rig does before recording the card).
func tap(t testing.TB, e *payEnv, k *kiosk.Kiosk, m interface {
	ATR() []byte
	Transmit([]byte) ([]byte, error)
}) {
	t.Helper()
	if err := e.env.CitySlot.Insert(m); err != nil {
		t.Fatal(err)
	}
	pcsctest.Eventually(t, "the kiosk to read the tapped card", 10*time.Second, func() bool {
		for _, c := range k.Cards() {
			if c.Reader == pcsctest.CityReaderSlot {
				return true
			}
		}
		return false
	})
}

// untap takes the card away (or waits until it has left by itself) and waits until pcscd and
// the kiosk know.
func untap(t testing.TB, e *payEnv, k *kiosk.Kiosk) {
	t.Helper()
	_ = e.env.CitySlot.Remove()
	e.env.WaitNoCards(t)
	pcsctest.Eventually(t, "the kiosk to see the card gone", 10*time.Second, func() bool {
		for _, c := range k.Cards() {
			if c.Reader == pcsctest.CityReaderSlot {
				return false
			}
		}
		return true
	})
}

// TestPCSCDPay pays through the real pcscd with the card and PSAM models on vpcd readers: a
// payment, each refusal, and the card pulled at each command of the payment then tapped again.
// Each case ends with the card's balance, the journal, the receipts and the events in
// agreement, and no double debit.
func TestPCSCDPay(t *testing.T) {
	e := openPayEnv(t)
	dir := t.TempDir()
	pk, err := bootPayKiosk(dir, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pk.close()
	pcsctest.Eventually(t, "the card readers", 10*time.Second, func() bool {
		return pk.k.Devices()[kiosk.DeviceCardReader].State == kiosk.StateOK
	})
	if d := pk.k.Devices()[kiosk.DevicePayment]; d.State != kiosk.StateOK {
		t.Fatalf("payment device %+v", d)
	}

	type fault func(card *cardsim.Card, psam *psamsim.PSAM)
	cases := []struct {
		name   string
		edit   func(*cardsim.Config)
		fault  fault
		msg    citycard.Message // zero: paid without error
		paid   int
		pulled bool // the card leaves during the payment and is tapped again
	}{
		{name: "paid", paid: 1},
		{name: "insufficient balance", edit: func(c *cardsim.Config) { c.BalanceFen = 1999 }, msg: citycard.MsgInsufficientBalance},
		{name: "locked card", edit: func(c *cardsim.Config) { c.Locked = true }, msg: citycard.MsgAppLocked},
		{name: "PSAM refuses MAC1", fault: func(_ *cardsim.Card, p *psamsim.PSAM) {
			p.Inject(psamsim.Fault{On: psamsim.CmdMAC1, SW: 0x6985})
		}, msg: citycard.MsgPSAM},
		{name: "PSAM gives a wrong MAC1", fault: func(_ *cardsim.Card, p *psamsim.PSAM) {
			p.Inject(psamsim.Fault{On: psamsim.CmdMAC1, Corrupt: true})
		}, msg: citycard.MsgMACInvalid},
		{name: "card of other keys", edit: func(c *cardsim.Config) {
			c.Purchase.MasterPurchaseKey = "00112233445566778899AABBCCDDEEFF"
		}, msg: citycard.MsgMACInvalid},
		{name: "card gives a wrong MAC2", fault: func(c *cardsim.Card, _ *psamsim.PSAM) {
			c.Inject(cardsim.Fault{On: cardsim.CmdDebit, Corrupt: true})
		}, msg: citycard.MsgDebited, paid: 1},
		{name: "pulled at select", fault: func(c *cardsim.Card, _ *psamsim.PSAM) {
			c.Inject(cardsim.Fault{On: cardsim.CmdSelectPSE, Leave: true})
		}, msg: citycard.MsgCardLeft, pulled: true},
		{name: "pulled at public data", fault: func(c *cardsim.Card, _ *psamsim.PSAM) {
			c.Inject(cardsim.Fault{On: cardsim.CmdReadPublic, Leave: true})
		}, msg: citycard.MsgCardLeft, pulled: true},
		{name: "pulled after the intent", fault: func(c *cardsim.Card, _ *psamsim.PSAM) {
			c.Inject(cardsim.Fault{On: cardsim.CmdReadPublic, Leave: true, Skip: 1})
		}, msg: citycard.MsgCardLeft, pulled: true},
		{name: "pulled at INITIALIZE", fault: func(c *cardsim.Card, _ *psamsim.PSAM) {
			c.Inject(cardsim.Fault{On: cardsim.CmdInitPurchase, Leave: true})
		}, msg: citycard.MsgCardLeft, pulled: true},
		{name: "pulled after INITIALIZE", fault: func(c *cardsim.Card, _ *psamsim.PSAM) {
			c.Inject(cardsim.Fault{On: cardsim.CmdInitPurchase, Leave: true, After: true})
		}, msg: citycard.MsgCardLeft, pulled: true},
		{name: "pulled before DEBIT", fault: func(c *cardsim.Card, _ *psamsim.PSAM) {
			c.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true})
		}, msg: citycard.MsgUnknown, pulled: true},
		{name: "pulled after DEBIT", fault: func(c *cardsim.Card, _ *psamsim.PSAM) {
			c.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true, After: true})
		}, msg: citycard.MsgUnknown, paid: 1, pulled: true},
		{name: "pulled during DEBIT's GET RESPONSE", edit: func(c *cardsim.Config) { c.T0 = true },
			fault: func(c *cardsim.Card, _ *psamsim.PSAM) {
				c.Inject(cardsim.Fault{On: cardsim.CmdGetResponse, Leave: true, Skip: 5})
			}, msg: citycard.MsgDebited, paid: 1, pulled: true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			card := cityCard(t, i+1, c.edit)
			start := card.Balance()
			masked := mask.Card(fmt.Sprintf("310400001234%04d", i+1))
			tap(t, e, pk.k, card)
			if c.fault != nil {
				c.fault(card, e.psam)
			}
			paid, err := pk.pay.Pay(context.Background(), payMatter)
			if m := payment.Message(err); m != c.msg {
				t.Errorf("err %v: message %q, want %q", err, m.En, c.msg.En)
			}
			if c.msg == (citycard.Message{}) && (err != nil || paid.Payment.Status != payment.StatusPaid || paid.PrintErr != nil) {
				t.Fatalf("pay: %v %v", paid.Payment, err)
			}
			if c.pulled {
				pcsctest.Eventually(t, "the card to leave", 5*time.Second, func() bool { return !e.env.CitySlot.Inserted() })
				untap(t, e, pk.k)
				card.Reinsert()
				tap(t, e, pk.k, card)
			}
			var l ledger
			pcsctest.Eventually(t, "the payment settled", 10*time.Second, func() bool {
				l = readLedger(t, pk.st.DB(), pk.receipts, masked)
				return l.unsettled() == 0
			})
			l.agree(t, card, start, c.paid, 1)
			untap(t, e, pk.k)
		})
	}
	if d := pk.k.Devices()[kiosk.DevicePayment]; d.State != kiosk.StateOK {
		t.Errorf("payment device %+v", d)
	}
	// Nothing pending anywhere, and the report adds up.
	// Read through a journal of its own over the kiosk's store (it hashes no card: it only reads).
	view, err := payment.New(payment.Options{Store: pk.st, Hash: func(string) []byte { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if uns, err := view.Unsettled(context.Background()); err != nil || len(uns) != 0 {
		t.Errorf("unsettled %v %v", uns, err)
	}
}

// TestPCSCDPayPSAMMissing: no PSAM in its slot: the payment is refused before anything reaches
// the card, and says the payment module is at fault.
func TestPCSCDPayPSAMMissing(t *testing.T) {
	env := pcsctest.Open(t)
	_ = openPSAMSlot(t, env) // the reader, empty
	pk, err := bootPayKiosk(t.TempDir(), 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pk.close()
	e := &payEnv{env: env}
	card := cityCard(t, 90, nil)
	tap(t, e, pk.k, card)
	_, err = pk.pay.Pay(context.Background(), payMatter)
	// pcscd may still believe the last test's PSAM is there: then the PSAM fails rather than
	// being missing; either way the citizen hears the payment module failed.
	if !errors.Is(err, citycard.ErrPSAM) || payment.Message(err) != citycard.MsgPSAM {
		t.Fatalf("err = %v (%s)", err, payment.Message(err).En)
	}
	if card.Count(cardsim.CmdInitPurchase) != 0 || card.Balance() != 12345 {
		t.Error("the card was asked to pay")
	}
}

// TestPCSCDPayAfterRestart: the PSAM connection kept between payments dies with pcscd; it is
// dropped when pcscd goes, so the first payment after pcscd is back connects anew and is paid,
// instead of failing on the dead connection.
func TestPCSCDPayAfterRestart(t *testing.T) {
	e := openPayEnv(t)
	pk, err := bootPayKiosk(t.TempDir(), 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pk.close()
	ready := func() bool {
		return pk.k.Devices()[kiosk.DeviceCardReader].State == kiosk.StateOK
	}
	// The monitor learns of the PSAM's card a moment after pcscd lists its reader: a payment
	// in that moment is refused (no PSAM), as it should be, so the test waits for the monitor.
	psamSeen := func() bool {
		c, err := pk.devs.psam.connect(psamReader)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	pcsctest.Eventually(t, "the card readers", 10*time.Second, ready)
	for i, how := range []string{"first", "after pcscd restarted"} {
		if i > 0 {
			e.env.Restart(t)
			e.env.WaitReaders(t, pcsctest.CityReaderSlot, psamReader+" 00 00")
			pcsctest.Eventually(t, "the card readers back", 2*time.Second, ready)
		}
		pcsctest.Eventually(t, "the PSAM's card seen", 5*time.Second, psamSeen)
		card := cityCard(t, 70+i, nil)
		tap(t, e, pk.k, card)
		paid, err := pk.pay.Pay(context.Background(), payMatter)
		if err != nil || paid.Payment.Status != payment.StatusPaid {
			t.Fatalf("%s payment: %v (%s)", how, err, payment.Message(err).En)
		}
		untap(t, e, pk.k)
	}
}
