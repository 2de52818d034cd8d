package cardsim

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"citizenhome/devices/citycard"
)

// Purchase is the purchase part of a Config: the purse's keys and counters.
//
// The master keys are TEST keys, made up for this model (the shipped ones spell
// "TEST-MPK-NOTREAL" and "TEST-MTK-NOTREAL" in ASCII): no real card or PSAM holds them, and a
// real card answers 93 02 to anything computed with them. The model derives its own purchase
// key (DPK) and TAC key (DTK) from them and its serial when it is built, as an issuer's
// personalisation does; a real card holds only the derived keys.
type Purchase struct {
	Comment    string `json:"_comment,omitempty"`
	KeyIndex   int    `json:"key_index"`   // the purchase key's index; INITIALIZE with another answers 94 03
	KeyVersion int    `json:"key_version"` // given to the PSAM, which picks its master key by it
	Algorithm  int    `json:"algorithm"`
	// MasterPurchaseKey and MasterTACKey are 32 hex digits: TEST keys only.
	MasterPurchaseKey string `json:"master_purchase_key"`
	MasterTACKey      string `json:"master_tac_key"`
	OfflineSerial     int    `json:"offline_serial"` // the next purchase's serial
	Overdraft         int    `json:"overdraft"`      // reported and logged; the model never lends
	// LogSerial is the serial written in a purchase's log record: "transaction" (or ""), the one
	// INITIALIZE gave, as PBOC has it; "next", the card's serial after the debit.
	LogSerial string `json:"log_serial,omitempty"`
	// ProveSerial is the serial GET TRANSACTION PROVE wants, "transaction" (or "") or "next",
	// likewise: card families differ, and recovery must cope with both.
	ProveSerial string `json:"prove_serial,omitempty"`
}

// purse is the state of a debitable purse. Card.mu guards it.
type purse struct {
	cfg      Purchase
	dpk, dtk [16]byte
	serial   uint16     // offline transaction serial
	init     *initState // between INITIALIZE and DEBIT
	last     *lastTx    // for GET TRANSACTION PROVE
}

type initState struct {
	amount   uint32
	terminal [6]byte
	random   [4]byte
}

type lastTx struct {
	serial    uint16 // the serial PROVE wants
	typ       byte
	mac2, tac [4]byte
}

func key16(s, what string) ([16]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 16 {
		return [16]byte{}, fmt.Errorf("cardsim: purchase: %s is not 32 hex digits", what)
	}
	return [16]byte(b), nil
}

func newPurse(p Purchase, serial [8]byte) (*purse, error) {
	mpk, err := key16(p.MasterPurchaseKey, "master_purchase_key")
	if err != nil {
		return nil, err
	}
	mtk, err := key16(p.MasterTACKey, "master_tac_key")
	if err != nil {
		return nil, err
	}
	if p.KeyIndex < 0 || p.KeyIndex > 0xFF || p.KeyVersion < 0 || p.KeyVersion > 0xFF ||
		p.Algorithm < 0 || p.Algorithm > 0xFF || p.OfflineSerial < 0 || p.OfflineSerial > 0xFFFF ||
		p.Overdraft < 0 || p.Overdraft > 0xFFFFFF {
		return nil, errors.New("cardsim: purchase: a value does not fit its field")
	}
	for _, v := range []string{p.LogSerial, p.ProveSerial} {
		if v != "" && v != "transaction" && v != "next" {
			return nil, fmt.Errorf("cardsim: purchase: serial convention %q is not \"transaction\" or \"next\"", v)
		}
	}
	return &purse{
		cfg: p, serial: uint16(p.OfflineSerial),
		dpk: citycard.DeriveKey(mpk, serial), dtk: citycard.DeriveKey(mtk, serial),
	}, nil
}

// OfflineSerial is the purse's offline transaction serial now (0 for a card without purchases):
// one more after each debit.
func (c *Card) OfflineSerial() uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.purse == nil {
		return 0
	}
	return c.purse.serial
}

// body splits a short case 3 or 4 APDU into its data and Le (-1 when absent); false for
// another shape.
func body(apdu []byte) ([]byte, int, bool) {
	if len(apdu) < 6 || apdu[4] == 0 {
		return nil, -1, false
	}
	lc := int(apdu[4])
	switch len(apdu) {
	case 5 + lc:
		return apdu[5:], -1, true
	case 6 + lc:
		return apdu[5 : 5+lc], int(apdu[5+lc]), true
	}
	return nil, -1, false
}

// purchase answers INITIALIZE FOR PURCHASE, DEBIT FOR PURCHASE and GET TRANSACTION PROVE on the
// selected purse. c.mu is held.
func (c *Card) purchase(cmd Command, apdu []byte) ([]byte, uint16) {
	p := c.purse
	data, le, ok := body(apdu)
	switch cmd {
	case CmdInitPurchase:
		if apdu[2] != 0x01 || apdu[3] != 0x02 {
			return nil, 0x6B00 // only the purse (P2 02), purchase (P1 01)
		}
		if !ok || len(data) != 11 {
			return nil, 0x6700
		}
		if le > 0 && le != citycard.InitAnswerSize {
			return nil, 0x6C00 | citycard.InitAnswerSize
		}
		if int(data[0]) != p.cfg.KeyIndex {
			return nil, 0x9403
		}
		amount := binary.BigEndian.Uint32(data[1:5])
		if int64(amount) > c.balance {
			return nil, 0x9401
		}
		st := &initState{amount: amount, terminal: [6]byte(data[5:11])}
		rand.Read(st.random[:])
		p.init = st
		b := binary.BigEndian.AppendUint32(nil, uint32(c.balance))
		b = binary.BigEndian.AppendUint16(b, p.serial)
		o := p.cfg.Overdraft
		b = append(b, byte(o>>16), byte(o>>8), byte(o), byte(p.cfg.KeyVersion), byte(p.cfg.Algorithm))
		return append(b, st.random[:]...), 0x9000
	case CmdDebit:
		if apdu[2] != 0x01 || apdu[3] != 0x00 {
			return nil, 0x6B00
		}
		if !ok || len(data) != 15 {
			return nil, 0x6700
		}
		if le > 0 && le != 8 {
			return nil, 0x6C08
		}
		st := p.init
		p.init = nil // one DEBIT per INITIALIZE, right or wrong
		if st == nil {
			return nil, 0x6985
		}
		termSerial := binary.BigEndian.Uint32(data[0:4])
		dt := [7]byte(data[4:11])
		if _, ok := calendar(dt); !ok {
			return nil, 0x6A80
		}
		sk := citycard.SessionKey(p.dpk, st.random, p.serial, termSerial)
		if citycard.PurchaseMAC1(sk, st.amount, citycard.TxPurchase, st.terminal, dt) != [4]byte(data[11:15]) {
			return nil, 0x9302
		}
		if int64(st.amount) > c.balance {
			return nil, 0x9401
		}
		// The debit: balance, serial and log change together, as a card's transaction does.
		used := p.serial
		c.balance -= int64(st.amount)
		p.serial++
		logged, proved := used, used
		if p.cfg.LogSerial == "next" {
			logged = p.serial
		}
		if p.cfg.ProveSerial == "next" {
			proved = p.serial
		}
		c.records = append([][]byte{purchaseRecord(logged, p.cfg.Overdraft, st, dt)}, c.records...)
		if len(c.records) > citycard.MaxRecords {
			c.records = c.records[:citycard.MaxRecords]
		}
		tac := citycard.PurchaseTAC(p.dtk, st.amount, citycard.TxPurchase, st.terminal, termSerial, dt)
		mac2 := citycard.PurchaseMAC2(sk, st.amount)
		p.last = &lastTx{serial: proved, typ: byte(citycard.TxPurchase), mac2: mac2, tac: tac}
		return append(tac[:], mac2[:]...), 0x9000
	case CmdProve:
		if apdu[2] != 0x00 {
			return nil, 0x6B00
		}
		if !ok || len(data) != 2 {
			return nil, 0x6700
		}
		if le > 0 && le != 8 {
			return nil, 0x6C08
		}
		serial := binary.BigEndian.Uint16(data)
		if p.last == nil || p.last.serial != serial || p.last.typ != apdu[3] {
			return nil, 0x9406
		}
		return append(p.last.mac2[:], p.last.tac[:]...), 0x9000
	}
	return nil, 0x6D00
}

func purchaseRecord(serial uint16, overdraft int, st *initState, dt [7]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, serial)
	b = append(b, byte(overdraft>>16), byte(overdraft>>8), byte(overdraft))
	b = binary.BigEndian.AppendUint32(b, st.amount)
	b = append(b, byte(citycard.TxPurchase))
	b = append(b, st.terminal[:]...)
	return append(b, dt[:]...)
}

// calendar reads BCD YYYYMMDDhhmmss; false unless it is a real date and time.
func calendar(dt [7]byte) (time.Time, bool) {
	t, err := time.Parse("20060102150405", hex.EncodeToString(dt[:]))
	return t, err == nil && t.Year() >= 1900
}
