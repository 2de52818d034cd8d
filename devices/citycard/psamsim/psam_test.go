package psamsim_test

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/citycard/psamsim"
)

var (
	random     = [4]byte{0x11, 0x22, 0x33, 0x44}
	dateTime   = [7]byte{0x20, 0x26, 0x12, 0x01, 0x09, 0x30, 0x15}
	cardSerial = [8]byte{0x31, 0x04, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78}
	terminal   = [6]byte{0x47, 0x50, 0x00, 0x00, 0x03, 0x01}
	selectDF03 = []byte{0x00, 0xA4, 0x00, 0x00, 0x02, 0xDF, 0x03}
)

// The vpcd bridge serves anything with these two methods.
var _ interface {
	ATR() []byte
	Transmit([]byte) ([]byte, error)
} = (*psamsim.PSAM)(nil)

func mac1APDU(keyVersion byte, dt [7]byte) []byte {
	a := append([]byte{0x80, 0x70, 0x00, 0x00, 0x1C}, random[:]...)
	a = append(a, 0x00, 0x0D, 0x00, 0x00, 0x00, 0xC8, 0x06)
	a = append(a, dt[:]...)
	a = append(a, keyVersion, 0x00)
	return append(a, cardSerial[:]...)
}

func newPSAM(t *testing.T, edit func(*psamsim.Config)) *psamsim.PSAM {
	t.Helper()
	cfg := psamsim.Sample()
	cfg.T0 = false
	if edit != nil {
		edit(&cfg)
	}
	p, err := psamsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func status(t *testing.T, p *psamsim.PSAM, apdu []byte) ([]byte, uint16) {
	t.Helper()
	resp, err := p.Transmit(apdu)
	if err != nil || len(resp) < 2 {
		t.Fatalf("% X: % X %v", apdu, resp, err)
	}
	n := len(resp) - 2
	return resp[:n], binary.BigEndian.Uint16(resp[n:])
}

// The PSAM and the card model must share the TEST master key, or no purchase works.
func TestSampleKeysMatchCard(t *testing.T) {
	ps, card := psamsim.Sample(), cardsim.Sample().Purchase
	if len(ps.Keys) != 1 || !strings.EqualFold(ps.Keys[0].MasterPurchaseKey, card.MasterPurchaseKey) ||
		ps.Keys[0].Version != card.KeyVersion || ps.Keys[0].Algorithm != card.Algorithm {
		t.Errorf("psam.json and city.json disagree: %+v %+v", ps.Keys, card)
	}
	if k, _ := hex.DecodeString(card.MasterPurchaseKey); string(k) != "TEST-MPK-NOTREAL" {
		t.Errorf("the shipped master key is not the marked TEST key: %q", k)
	}
	atr := psamsim.DefaultATR
	if atr[0] != 0x3B || int(atr[1]&0x0F) != len(atr)-4 || string(atr[4:]) != "TESTPSAM" {
		t.Errorf("ATR % X", atr)
	}
}

// MAC1 is computed for real and advances the terminal serial; MAC2 is checked for real, once.
func TestMAC1AndMAC2(t *testing.T) {
	p := newPSAM(t, nil)
	if _, sw := status(t, p, selectDF03); sw != 0x9000 {
		t.Fatalf("select %04X", sw)
	}
	mk, _ := hex.DecodeString(psamsim.Sample().Keys[0].MasterPurchaseKey)
	dpk := citycard.DeriveKey([16]byte(mk), cardSerial)
	for i, want := range []uint32{1000, 1001} {
		data, sw := status(t, p, mac1APDU(1, dateTime))
		a, err := citycard.ParseMAC1Answer(data)
		if sw != 0x9000 || err != nil || a.TerminalSerial != want {
			t.Fatalf("MAC1 %d: % X %04X", i, data, sw)
		}
		sk := citycard.SessionKey(dpk, random, 0x000D, want)
		if a.MAC1 != citycard.PurchaseMAC1(sk, 200, citycard.TxPurchase, terminal, dateTime) {
			t.Errorf("MAC1 %d: % X", i, a.MAC1)
		}
		mac2 := citycard.PurchaseMAC2(sk, 200)
		if i == 0 {
			mac2[0] ^= 1
			if _, sw := status(t, p, append([]byte{0x80, 0x72, 0x00, 0x00, 0x04}, mac2[:]...)); sw != 0x9302 {
				t.Errorf("wrong MAC2: %04X", sw)
			}
			mac2[0] ^= 1 // right now, but the session went with the wrong guess
			if _, sw := status(t, p, append([]byte{0x80, 0x72, 0x00, 0x00, 0x04}, mac2[:]...)); sw != 0x6985 {
				t.Errorf("MAC2 after a wrong one: %04X", sw)
			}
			continue
		}
		if _, sw := status(t, p, append([]byte{0x80, 0x72, 0x00, 0x00, 0x04}, mac2[:]...)); sw != 0x9000 {
			t.Errorf("right MAC2: %04X", sw)
		}
	}
	if p.TerminalSerial() != 1002 || p.Count(psamsim.CmdMAC1) != 2 || p.Count(psamsim.CmdVerifyMAC2) != 3 {
		t.Errorf("serial %d, counts %d %d", p.TerminalSerial(), p.Count(psamsim.CmdMAC1), p.Count(psamsim.CmdVerifyMAC2))
	}
	// A reset loses the session and the selection, not the serial.
	status(t, p, mac1APDU(1, dateTime))
	p.Reset()
	if _, sw := status(t, p, []byte{0x80, 0x72, 0x00, 0x00, 0x04, 0, 0, 0, 0}); sw != 0x6985 {
		t.Errorf("MAC2 after reset: %04X", sw)
	}
	if _, sw := status(t, p, mac1APDU(1, dateTime)); sw != 0x6985 || p.TerminalSerial() != 1003 {
		t.Errorf("MAC1 after reset: %04X, serial %d", sw, p.TerminalSerial())
	}
}

func TestRefusals(t *testing.T) {
	bad := [7]byte{0x20, 0x26, 0x13, 0x01, 0x09, 0x30, 0x15}
	tests := []struct {
		name string
		sel  bool
		apdu []byte
		want uint16
	}{
		{"MAC1 before select", false, mac1APDU(1, dateTime), 0x6985},
		{"unknown key version", true, mac1APDU(2, dateTime), 0x9403},
		{"month 13", true, mac1APDU(1, bad), 0x6A80},
		{"MAC1 short", true, mac1APDU(1, dateTime)[:20], 0x6700},
		{"MAC1 P1", true, append([]byte{0x80, 0x70, 0x01}, mac1APDU(1, dateTime)[3:]...), 0x6B00},
		{"MAC2 without MAC1", true, []byte{0x80, 0x72, 0x00, 0x00, 0x04, 1, 2, 3, 4}, 0x6985},
		{"MAC2 short", true, []byte{0x80, 0x72, 0x00, 0x00, 0x03, 1, 2, 3}, 0x6700},
		{"other directory", false, []byte{0x00, 0xA4, 0x00, 0x00, 0x02, 0xDF, 0x01}, 0x6A82},
		{"select by name", false, []byte{0x00, 0xA4, 0x04, 0x00, 0x02, 0xDF, 0x03, 0x00}, 0x6A82},
		{"other file", false, []byte{0x00, 0xB0, 0x95, 0x00, 0x06}, 0x6A82},
		{"terminal, wrong Le", false, []byte{0x00, 0xB0, 0x96, 0x00, 0x00}, 0x6C06},
		{"unknown instruction", false, []byte{0x80, 0x99, 0x00, 0x00}, 0x6D00},
		{"class", false, []byte{0xA0, 0xA4, 0x00, 0x00, 0x02, 0xDF, 0x03}, 0x6E00},
		{"GET RESPONSE with nothing", false, []byte{0x00, 0xC0, 0x00, 0x00, 0x08}, 0x6985},
		{"MAC1, four bytes", true, []byte{0x80, 0x70, 0x00, 0x00}, 0x6700},
	}
	for _, tt := range tests {
		p := newPSAM(t, nil)
		if tt.sel {
			status(t, p, selectDF03)
		}
		if _, sw := status(t, p, tt.apdu); sw != tt.want {
			t.Errorf("%s: %04X, want %04X", tt.name, sw, tt.want)
		}
		if p.TerminalSerial() != 1000 {
			t.Errorf("%s: serial advanced", tt.name)
		}
	}
}

// Through citycard.PSAM, on T=0: the data come by 61 xx and GET RESPONSE.
func TestThroughCitycard(t *testing.T) {
	sim, err := psamsim.New(psamsim.Sample())
	if err != nil {
		t.Fatal(err)
	}
	p := citycard.NewPSAM(sim)
	term, err := p.ReadTerminalID()
	if err != nil || term != terminal || p.Terminal != terminal {
		t.Fatalf("terminal % X %v", term, err)
	}
	if err := p.Select(); err != nil {
		t.Fatal(err)
	}
	a, err := p.MAC1(citycard.MAC1Request{Random: random, OfflineSerial: 13, AmountFen: 200, Type: citycard.TxPurchase,
		DateTime: dateTime, KeyVersion: 1, CardSerial: cardSerial})
	if err != nil || a.TerminalSerial != 1000 || sim.Count(psamsim.CmdGetResponse) != 2 {
		t.Fatalf("MAC1 %+v %v, %d GET RESPONSE", a, err, sim.Count(psamsim.CmdGetResponse))
	}
	if _, err := p.MAC1(citycard.MAC1Request{AmountFen: 0}); !errors.Is(err, citycard.ErrAmount) {
		t.Errorf("amount 0: %v", err)
	}
	err = p.VerifyMAC2([4]byte{})
	if !errors.Is(err, citycard.ErrPSAM) || !errors.Is(err, citycard.ErrMACInvalid) {
		t.Errorf("wrong MAC2: %v", err)
	}
	p.Dir = []byte{0x00, 0xA4, 0x00, 0x00, 0x02, 0xDF, 0x09}
	if err := p.Select(); !errors.Is(err, citycard.ErrPSAM) || !errors.Is(err, citycard.ErrFileNotFound) {
		t.Errorf("other dir: %v", err)
	}
}

func TestFaults(t *testing.T) {
	p := newPSAM(t, nil)
	p.Inject(psamsim.Fault{On: psamsim.CmdSelect, SW: 0x6F00, Times: 2})
	for range 2 {
		if _, sw := status(t, p, selectDF03); sw != 0x6F00 {
			t.Errorf("fault: %04X", sw)
		}
	}
	if _, sw := status(t, p, selectDF03); sw != 0x9000 {
		t.Errorf("after the fault: %04X", sw)
	}
	p.Inject(psamsim.Fault{On: psamsim.CmdMAC1, Leave: true, After: true})
	if resp, err := p.Transmit(mac1APDU(1, dateTime)); err != nil || len(resp) != 0 || p.TerminalSerial() != 1001 {
		t.Errorf("leave after MAC1: % X %v, serial %d", resp, err, p.TerminalSerial())
	}
	if _, err := p.Transmit(selectDF03); !errors.Is(err, psamsim.ErrRemoved) {
		t.Errorf("while gone: %v", err)
	}
	p.Reset()
	p.Inject(psamsim.Fault{On: psamsim.CmdReadTerminal, Corrupt: true})
	if data, sw := status(t, p, []byte{0x00, 0xB0, 0x96, 0x00, 0x06}); sw != 0x9000 || data[5] != terminal[5]^1 {
		t.Errorf("corrupt: % X %04X", data, sw)
	}
}

func TestConfig(t *testing.T) {
	base := psamsim.Sample()
	for name, edit := range map[string]func(*psamsim.Config){
		"dir":      func(c *psamsim.Config) { c.Dir = "DF" },
		"terminal": func(c *psamsim.Config) { c.Terminal = "4750" },
		"serial":   func(c *psamsim.Config) { c.TerminalSerial = 1 << 32 },
		"no keys":  func(c *psamsim.Config) { c.Keys = nil },
		"key":      func(c *psamsim.Config) { c.Keys = []psamsim.Key{{MasterPurchaseKey: "00"}} },
		"version": func(c *psamsim.Config) {
			c.Keys = []psamsim.Key{{Version: 256, MasterPurchaseKey: base.Keys[0].MasterPurchaseKey}}
		},
		"atr": func(c *psamsim.Config) { c.ATR = "3" },
	} {
		c := base
		edit(&c)
		if _, err := psamsim.New(c); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := psamsim.ParseConfig([]byte(`{"unknown": 1}`)); err == nil {
		t.Error("unknown key accepted")
	}
	path := filepath.Join(t.TempDir(), "psam.json")
	os.WriteFile(path, []byte(`{"dir":"DF01","terminal":"000000000009","terminal_serial":5,"atr":"3B00",
		"keys":[{"version":3,"algorithm":0,"master_purchase_key":"00112233445566778899AABBCCDDEEFF"}]}`), 0o600)
	p, err := psamsim.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(p.ATR()) != "\x3B\x00" || p.TerminalSerial() != 5 {
		t.Errorf("loaded: % X %d", p.ATR(), p.TerminalSerial())
	}
	if _, sw := status(t, p, []byte{0x00, 0xA4, 0x00, 0x00, 0x02, 0xDF, 0x01}); sw != 0x9000 {
		t.Errorf("select DF01: %04X", sw)
	}
}
