package cardsim_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
)

func TestClassify(t *testing.T) {
	mohurd, _ := citycard.AppMOHURD.SelectAPDU()
	tunion, _ := citycard.AppTUnion.SelectAPDU()
	f1001, _ := citycard.AppFile1001.SelectAPDU()
	tests := map[cardsim.Command][]byte{
		cardsim.CmdSelectPSE:    citycard.SelectPSEAPDU(),
		cardsim.CmdSelectMF:     citycard.SelectMFAPDU(),
		cardsim.CmdSelect1001:   f1001,
		cardsim.CmdSelectMOHURD: mohurd,
		cardsim.CmdSelectTUnion: tunion,
		cardsim.CmdSelect:       {0x00, 0xA4, 0x04, 0x00, 0x02, 0xA0, 0x00},
		cardsim.CmdReadPublic:   {0x00, 0xB0, 0x95, 0x00, 0x1E},
		cardsim.CmdReadBinary:   {0x00, 0xB0, 0x96, 0x00, 0x37},
		cardsim.CmdBalance:      {0x80, 0x5C, 0x00, 0x02, 0x04},
		cardsim.CmdReadRecord:   {0x00, 0xB2, 0x01, 0xC4, 0x17},
		cardsim.CmdGetResponse:  {0x00, 0xC0, 0x00, 0x00, 0x10},
		cardsim.CmdInitPurchase: {0x80, 0x50, 0x01, 0x02, 0x0B},
		cardsim.CmdDebit:        {0x80, 0x54, 0x01, 0x00, 0x0F},
		cardsim.CmdProve:        {0x80, 0x5A, 0x00, 0x06, 0x02},
		cardsim.CmdOther:        {0x00},
	}
	for want, apdu := range tests {
		if got := cardsim.Classify(apdu); got != want {
			t.Errorf("% X: %s, want %s", apdu, got, want)
		}
	}
}

func TestSampleAndATR(t *testing.T) {
	c, err := cardsim.New(cardsim.Sample())
	if err != nil {
		t.Fatal(err)
	}
	atr := c.ATR()
	var tck byte
	for _, b := range atr[1:] {
		tck ^= b
	}
	if atr[0] != 0x3B || tck != 0 || int(atr[1]&0x0F) != len(atr)-5 {
		t.Errorf("ATR % X: TCK or historical byte count wrong", atr)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "card.json")
	os.WriteFile(path, []byte(`{"pse":false,"apps":["1001"],"issuer":"0000000000000001","app_type":3,"version":2,"card_no":"12345678","valid_from":"","valid_to":"","balance_fen":0,"records":[],"atr":"3B00"}`), 0o600)
	c, err = cardsim.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.ATR(), []byte{0x3B, 0x00}) {
		t.Errorf("ATR from file % X", c.ATR())
	}
	info, err := citycard.Read(c)
	if err != nil || info.App != citycard.AppFile1001 || info.CardNo != "0000000012345678" || info.BalanceFen != 0 || len(info.Records) != 0 {
		t.Errorf("card from file: %v %v", info, err)
	}
}

func TestConfigErrors(t *testing.T) {
	base := cardsim.Sample()
	edits := map[string]func(c *cardsim.Config){
		"issuer":      func(c *cardsim.Config) { c.Issuer = "47" },
		"card number": func(c *cardsim.Config) { c.CardNo = "31A4" },
		"long number": func(c *cardsim.Config) { c.CardNo = strings.Repeat("1", 21) },
		"date":        func(c *cardsim.Config) { c.ValidTo = "2030-02-30" },
		"app":         func(c *cardsim.Config) { c.Apps = []string{"PURSE"} },
		"atr":         func(c *cardsim.Config) { c.ATR = "3G" },
		"terminal": func(c *cardsim.Config) {
			c.Records = []cardsim.Record{{Terminal: "12", Time: "2026-01-01T00:00:00+08:00"}}
		},
		"record time": func(c *cardsim.Config) { c.Records = []cardsim.Record{{Terminal: "000000000000", Time: "yesterday"}} },
		"amount": func(c *cardsim.Config) {
			c.Records = []cardsim.Record{{Terminal: "000000000000", Time: "2026-01-01T00:00:00+08:00", AmountFen: -1}}
		},
		"eleven records": func(c *cardsim.Config) { c.Records = append(c.Records, make([]cardsim.Record, 8)...) },
		"balance":        func(c *cardsim.Config) { c.BalanceFen = 1 << 32 },
		"purchase key":   func(c *cardsim.Config) { p := *c.Purchase; p.MasterPurchaseKey = "00"; c.Purchase = &p },
		"tac key":        func(c *cardsim.Config) { p := *c.Purchase; p.MasterTACKey = "zz"; c.Purchase = &p },
		"key index":      func(c *cardsim.Config) { p := *c.Purchase; p.KeyIndex = 256; c.Purchase = &p },
		"offline serial": func(c *cardsim.Config) { p := *c.Purchase; p.OfflineSerial = 1 << 16; c.Purchase = &p },
		"overdraft":      func(c *cardsim.Config) { p := *c.Purchase; p.Overdraft = -1; c.Purchase = &p },
		"convention":     func(c *cardsim.Config) { p := *c.Purchase; p.ProveSerial = "init"; c.Purchase = &p },
	}
	for name, edit := range edits {
		c := base
		c.Records = append([]cardsim.Record(nil), base.Records...)
		edit(&c)
		if _, err := cardsim.New(c); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := cardsim.ParseConfig([]byte(`{"unknown": 1}`)); err == nil {
		t.Error("unknown key accepted")
	}
}

// A card without a purchase block answers the purchase commands 6D 00, as before they were
// modelled.
func TestNoPurchase(t *testing.T) {
	cfg := cardsim.Sample()
	cfg.Purchase = nil
	c, _ := cardsim.New(cfg)
	if _, err := citycard.Read(c); err != nil {
		t.Fatal(err)
	}
	for _, apdu := range [][]byte{
		{0x80, 0x50, 0x01, 0x02, 0x0B, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0x0F},
		{0x80, 0x5A, 0x00, 0x06, 0x02, 0x00, 0x0D, 0x08},
	} {
		if _, err := citycard.Exchange(c, apdu); !errors.Is(err, citycard.ErrINSUnsupported) {
			t.Errorf("% X: %v", apdu, err)
		}
	}
}
