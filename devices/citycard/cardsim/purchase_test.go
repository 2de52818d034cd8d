package cardsim_test

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"testing"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
)

var (
	terminal = [6]byte{0x47, 0x50, 0x00, 0x00, 0x03, 0x01}
	dateTime = [7]byte{0x20, 0x26, 0x12, 0x01, 0x09, 0x30, 0x15}
	serial   = [8]byte{0x31, 0x04, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78} // Sample's card number, right 8 bytes
)

func key(t *testing.T, s string) [16]byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 16 {
		t.Fatalf("key %q", s)
	}
	return [16]byte(b)
}

// selected gives the Sample card (edited) with its purse selected.
func selected(t *testing.T, edit func(*cardsim.Config)) *cardsim.Card {
	t.Helper()
	cfg := cardsim.Sample()
	p := *cfg.Purchase
	cfg.Purchase = &p
	if edit != nil {
		edit(&cfg)
	}
	c, err := cardsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := citycard.NewSession(c).Select(); err != nil {
		t.Fatal(err)
	}
	return c
}

func initAPDU(amount uint32) []byte {
	a := binary.BigEndian.AppendUint32([]byte{0x80, 0x50, 0x01, 0x02, 0x0B, 0x01}, amount)
	return append(append(a, terminal[:]...), 0x0F)
}

func debitAPDU(termSerial uint32, dt [7]byte, mac1 [4]byte) []byte {
	a := binary.BigEndian.AppendUint32([]byte{0x80, 0x54, 0x01, 0x00, 0x0F}, termSerial)
	a = append(a, dt[:]...)
	return append(append(a, mac1[:]...), 0x08)
}

func proveAPDU(typ byte, serial uint16) []byte {
	return []byte{0x80, 0x5A, 0x00, typ, 0x02, byte(serial >> 8), byte(serial), 0x08}
}

// status sends a raw APDU and gives its status word.
func status(t *testing.T, c *cardsim.Card, apdu []byte) uint16 {
	t.Helper()
	resp, err := c.Transmit(apdu)
	if err != nil || len(resp) < 2 {
		t.Fatalf("% X: % X %v", apdu, resp, err)
	}
	return binary.BigEndian.Uint16(resp[len(resp)-2:])
}

// The card checks MAC1 with the key derived from the TEST master key and its own serial,
// debits, logs, and gives the TAC and MAC2 a genuine card gives.
func TestPurchaseAPDUs(t *testing.T) {
	c := selected(t, nil)
	cfg := cardsim.Sample().Purchase
	data, err := citycard.Exchange(c, initAPDU(500))
	if err != nil {
		t.Fatal(err)
	}
	ia, err := citycard.ParseInitAnswer(data)
	if err != nil || ia.BalanceFen != 12345 || ia.OfflineSerial != 13 || ia.KeyVersion != 1 || ia.Algorithm != 0 {
		t.Fatalf("init: %+v %v", ia, err)
	}
	dpk := citycard.DeriveKey(key(t, cfg.MasterPurchaseKey), serial)
	sk := citycard.SessionKey(dpk, ia.Random, ia.OfflineSerial, 0x12345678)
	mac1 := citycard.PurchaseMAC1(sk, 500, citycard.TxPurchase, terminal, dateTime)
	data, err = citycard.Exchange(c, debitAPDU(0x12345678, dateTime, mac1))
	if err != nil {
		t.Fatal(err)
	}
	da, _ := citycard.ParseDebitAnswer(data)
	dtk := citycard.DeriveKey(key(t, cfg.MasterTACKey), serial)
	if da.MAC2 != citycard.PurchaseMAC2(sk, 500) || da.TAC != citycard.PurchaseTAC(dtk, 500, citycard.TxPurchase, terminal, 0x12345678, dateTime) {
		t.Errorf("debit answer %+v", da)
	}
	if c.Balance() != 12345-500 || c.OfflineSerial() != 14 {
		t.Errorf("balance %d serial %d", c.Balance(), c.OfflineSerial())
	}
	data, err = citycard.Exchange(c, []byte{0x00, 0xB2, 0x01, 0xC4, 0x17})
	want := "000D" + "000000" + "000001F4" + "06" + "475000000301" + "20261201093015"
	if err != nil || hex.EncodeToString(data) != lower(want) {
		t.Errorf("record 1: %X %v, want %s", data, err, want)
	}
	data, err = citycard.Exchange(c, proveAPDU(0x06, 13))
	if p, _ := citycard.ParseProof(data); err != nil || p.MAC2 != da.MAC2 || p.TAC != da.TAC {
		t.Errorf("prove: %X %v", data, err)
	}
	for _, a := range [][]byte{proveAPDU(0x06, 14), proveAPDU(0x09, 13)} {
		if sw := status(t, c, a); sw != 0x9406 {
			t.Errorf("prove % X: %04X", a, sw)
		}
	}
}

func lower(s string) string {
	b, _ := hex.DecodeString(s)
	return hex.EncodeToString(b)
}

func TestPurchaseRefusals(t *testing.T) {
	good := func(t *testing.T, c *cardsim.Card, amount uint32, dt [7]byte) []byte {
		data, err := citycard.Exchange(c, initAPDU(amount))
		if err != nil {
			t.Fatal(err)
		}
		ia, _ := citycard.ParseInitAnswer(data)
		dpk := citycard.DeriveKey(key(t, cardsim.Sample().Purchase.MasterPurchaseKey), serial)
		sk := citycard.SessionKey(dpk, ia.Random, ia.OfflineSerial, 7)
		return debitAPDU(7, dt, citycard.PurchaseMAC1(sk, amount, citycard.TxPurchase, terminal, dt))
	}
	tests := []struct {
		name string
		run  func(t *testing.T, c *cardsim.Card) uint16
		want uint16
	}{
		{"init, purse not selected", func(t *testing.T, c *cardsim.Card) uint16 {
			c.Reinsert()
			return status(t, c, initAPDU(1))
		}, 0x6985},
		{"init for the deposit", func(t *testing.T, c *cardsim.Card) uint16 {
			a := initAPDU(1)
			a[3] = 0x01
			return status(t, c, a)
		}, 0x6B00},
		{"init, wrong Lc", func(t *testing.T, c *cardsim.Card) uint16 { return status(t, c, initAPDU(1)[:15]) }, 0x6700},
		{"init, wrong Le", func(t *testing.T, c *cardsim.Card) uint16 {
			a := initAPDU(1)
			a[len(a)-1] = 0x10
			return status(t, c, a)
		}, 0x6C0F},
		{"init, key index 2", func(t *testing.T, c *cardsim.Card) uint16 {
			a := initAPDU(1)
			a[5] = 2
			return status(t, c, a)
		}, 0x9403},
		{"init, too much", func(t *testing.T, c *cardsim.Card) uint16 { return status(t, c, initAPDU(12346)) }, 0x9401},
		{"init, class 00", func(t *testing.T, c *cardsim.Card) uint16 {
			a := initAPDU(1)
			a[0] = 0
			return status(t, c, a)
		}, 0x6E00},
		{"debit without init", func(t *testing.T, c *cardsim.Card) uint16 { return status(t, c, debitAPDU(7, dateTime, [4]byte{})) }, 0x6985},
		{"debit after another command", func(t *testing.T, c *cardsim.Card) uint16 {
			d := good(t, c, 100, dateTime)
			status(t, c, []byte{0x80, 0x5C, 0x00, 0x02, 0x04})
			return status(t, c, d)
		}, 0x6985},
		{"debit twice", func(t *testing.T, c *cardsim.Card) uint16 {
			d := good(t, c, 100, dateTime)
			if sw := status(t, c, d); sw != 0x9000 {
				t.Fatalf("first debit %04X", sw)
			}
			return status(t, c, d)
		}, 0x6985},
		{"debit, wrong MAC1", func(t *testing.T, c *cardsim.Card) uint16 {
			d := good(t, c, 100, dateTime)
			d[len(d)-2] ^= 0x80
			return status(t, c, d)
		}, 0x9302},
		{"debit, wrong date", func(t *testing.T, c *cardsim.Card) uint16 {
			return status(t, c, good(t, c, 100, [7]byte{0x20, 0x26, 0x02, 0x30, 0x09, 0x30, 0x15}))
		}, 0x6A80},
		{"debit after a new tap", func(t *testing.T, c *cardsim.Card) uint16 {
			d := good(t, c, 100, dateTime)
			c.Reinsert()
			citycard.NewSession(c).Select()
			return status(t, c, d)
		}, 0x6985},
		{"prove before any purchase", func(t *testing.T, c *cardsim.Card) uint16 { return status(t, c, proveAPDU(0x06, 13)) }, 0x9406},
		{"prove, wrong Lc", func(t *testing.T, c *cardsim.Card) uint16 {
			return status(t, c, []byte{0x80, 0x5A, 0x00, 0x06, 0x01, 0x0D, 0x08})
		}, 0x6700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := selected(t, nil)
			debited := tt.name == "debit twice"
			if got := tt.run(t, c); got != tt.want {
				t.Errorf("%04X, want %04X", got, tt.want)
			}
			if !debited && (c.Balance() != 12345 || c.OfflineSerial() != 13) {
				t.Errorf("card changed: %d %d", c.Balance(), c.OfflineSerial())
			}
			if debited && (c.Balance() != 12245 || c.OfflineSerial() != 14) {
				t.Errorf("debited twice? %d %d", c.Balance(), c.OfflineSerial())
			}
		})
	}
}

// A purse keeps MaxRecords records: a purchase on a full log drops the oldest.
func TestPurchaseFullLog(t *testing.T) {
	c := selected(t, func(cfg *cardsim.Config) {
		cfg.Records = nil
		for i := range citycard.MaxRecords {
			cfg.Records = append(cfg.Records, cardsim.Record{Serial: 12 - i, AmountFen: 1, Type: 6, Terminal: "000000000001",
				Time: fmt.Sprintf("2026-11-%02dT08:00:00+08:00", 20-i)})
		}
	})
	data, _ := citycard.Exchange(c, initAPDU(10))
	ia, _ := citycard.ParseInitAnswer(data)
	dpk := citycard.DeriveKey(key(t, cardsim.Sample().Purchase.MasterPurchaseKey), serial)
	sk := citycard.SessionKey(dpk, ia.Random, ia.OfflineSerial, 1)
	if _, err := citycard.Exchange(c, debitAPDU(1, dateTime, citycard.PurchaseMAC1(sk, 10, citycard.TxPurchase, terminal, dateTime))); err != nil {
		t.Fatal(err)
	}
	recs, err := citycard.NewSession(c).Records(citycard.MaxRecords + 1)
	if err != nil || len(recs) != citycard.MaxRecords || recs[0].Serial != 13 || recs[0].AmountFen != 10 ||
		recs[1].Serial != 12 || recs[citycard.MaxRecords-1].Serial != 4 {
		t.Errorf("%d records, %v", len(recs), err)
	}
}

func TestFaultsAfterAndCorrupt(t *testing.T) {
	c := selected(t, nil)
	c.Inject(cardsim.Fault{On: cardsim.CmdBalance, Corrupt: true})
	data, err := citycard.Exchange(c, []byte{0x80, 0x5C, 0x00, 0x02, 0x04})
	if err != nil || binary.BigEndian.Uint32(data) != 12345^1 {
		t.Errorf("corrupt balance: %X %v", data, err)
	}
	// Leave after INITIALIZE: the card answered nothing; on the next tap, DEBIT finds no INITIALIZE.
	c.Inject(cardsim.Fault{On: cardsim.CmdInitPurchase, Leave: true, After: true})
	if resp, err := c.Transmit(initAPDU(1)); err != nil || len(resp) != 0 {
		t.Fatalf("leave: % X %v", resp, err)
	}
	if _, err := c.Transmit(initAPDU(1)); err != cardsim.ErrRemoved {
		t.Errorf("after leaving: %v", err)
	}
	if c.Count(cardsim.CmdInitPurchase) != 1 {
		t.Errorf("%d INITIALIZE logged", c.Count(cardsim.CmdInitPurchase))
	}
}
