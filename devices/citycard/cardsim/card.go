// Package cardsim models a city one-card (PBOC e-purse) answering APDUs, for tests and demos.
//
// A Card is built from a Config, usually read from a small JSON file (Sample is the shipped
// one). It answers the selections (PSE, MF, file 1001, the MOHURD and T-Union AIDs, as
// configured), READ BINARY of SFI 0x15, GET BALANCE and READ RECORD of SFI 0x18, strictly as a
// T=0 card: a wrong Le gets 6C xx, and in T0 mode data come through 61 xx and GET RESPONSE.
// Faults make a chosen command answer a wrong status word, or make the card leave the field
// mid-command (an empty response, as vpcd gives, then errors), before or after carrying it out,
// or corrupt an answer.
//
// A card whose Config has a Purchase block performs purchases for real (purchase.go):
// INITIALIZE FOR PURCHASE, DEBIT FOR PURCHASE checking MAC1 with keys derived from the TEST
// master keys of its data file, and GET TRANSACTION PROVE. Without one, those commands answer
// 6D 00.
package cardsim

import (
	"bytes"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/internal/sim"
)

// Config describes a card. Dates are 2006-01-02, record times RFC 3339.
type Config struct {
	Comment string `json:"_comment,omitempty"`
	// ATR in hex; empty means a type A contactless CPU card's ATR (DefaultATR).
	ATR string `json:"atr,omitempty"`
	// PSE: the card answers SELECT 1PAY.SYS.DDF01. Without it, it answers the MF (3F 00).
	PSE bool `json:"pse"`
	// Apps are the purse applications the card answers: "1001" and/or AIDs in hex
	// (citycard.AppMOHURD, citycard.AppTUnion).
	Apps []string `json:"apps"`
	// Locked makes selecting any purse application answer 93 03.
	Locked bool `json:"locked,omitempty"`
	// T0: responses with data answer 61 xx; the data come with GET RESPONSE, at most Chunk
	// bytes at a time (0: all).
	T0    bool `json:"t0,omitempty"`
	Chunk int  `json:"chunk,omitempty"`
	// ZeroLogEnd: past the last record the card answers an all-zero record instead of 6A 83.
	ZeroLogEnd bool   `json:"zero_log_end,omitempty"`
	Issuer     string `json:"issuer"` // 16 hex digits
	AppType    int    `json:"app_type"`
	Version    int    `json:"version"`
	CardNo     string `json:"card_no"` // up to 20 digits
	// CardNoPadded writes CardNo from the left of its 10-byte field, padded with F, as some
	// issuers write a short number; a reader then gives it as it is (12345678). Without it the
	// number is right-aligned behind zeros, and a reader gives at least 16 digits.
	CardNoPadded bool   `json:"card_no_padded,omitempty"`
	ValidFrom    string `json:"valid_from"`
	ValidTo      string `json:"valid_to"`
	BalanceFen   int64  `json:"balance_fen"`
	// Records, newest first; a purse keeps at most citycard.MaxRecords.
	Records []Record `json:"records"`
	// Purchase makes the purse debitable; nil: the purchase commands answer 6D 00.
	Purchase *Purchase `json:"purchase,omitempty"`
}

// Record is one log record of a Config.
type Record struct {
	Serial    int    `json:"serial"`
	Overdraft int    `json:"overdraft"`
	AmountFen int64  `json:"amount_fen"`
	Type      int    `json:"type"`
	Terminal  string `json:"terminal"` // 12 hex digits
	Time      string `json:"time"`     // RFC 3339
}

//go:embed city.json
var sampleJSON []byte

// Sample returns the shipped card: a MOHURD purse with a PSE, card number 3104000012345678,
// balance 123.45 yuan and three records.
func Sample() Config {
	c, err := ParseConfig(sampleJSON)
	if err != nil {
		panic("cardsim: shipped city.json is broken: " + err.Error())
	}
	return c
}

// ParseConfig reads a JSON card description; unknown keys and values that cannot be encoded
// on a card are errors.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("cardsim: %w", err)
	}
	if _, err := New(c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Load reads a JSON card description from a file and builds the card.
func Load(path string) (*Card, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, err
	}
	return New(c)
}

// DefaultATR is a contactless ISO 14443-4 type A card's ATR as a PC/SC reader builds it
// (PC/SC part 3), with "CITYCARD" as the historical bytes.
var DefaultATR = func() []byte {
	atr := append([]byte{0x3B, 0x88, 0x80, 0x01}, "CITYCARD"...)
	var tck byte
	for _, b := range atr[1:] {
		tck ^= b
	}
	return append(atr, tck)
}()

// Command names the kind of an APDU, for faults and for counting.
type Command string

// The commands the card tells apart.
const (
	CmdSelectPSE    Command = "select-pse"
	CmdSelectMF     Command = "select-mf"
	CmdSelect1001   Command = "select-1001"
	CmdSelectMOHURD Command = "select-mohurd"
	CmdSelectTUnion Command = "select-tunion"
	CmdSelect       Command = "select" // any other SELECT
	CmdReadPublic   Command = "read-15"
	CmdReadBinary   Command = "read-binary" // another file
	CmdBalance      Command = "balance"
	CmdReadRecord   Command = "read-record"
	CmdGetResponse  Command = "get-response"
	CmdInitPurchase Command = "init-purchase"
	CmdDebit        Command = "debit"
	CmdProve        Command = "prove" // GET TRANSACTION PROVE
	CmdOther        Command = "other"
)

// Classify names an APDU's command.
func Classify(apdu []byte) Command {
	if len(apdu) < 4 {
		return CmdOther
	}
	ins, p1 := apdu[1], apdu[2]
	data := []byte(nil)
	if len(apdu) > 5 && len(apdu) >= 5+int(apdu[4]) {
		data = apdu[5 : 5+int(apdu[4])]
	}
	switch {
	case ins == 0xA4 && p1 == 0x04:
		switch strings.ToUpper(hex.EncodeToString(data)) {
		case strings.ToUpper(hex.EncodeToString([]byte(citycard.PSEName))):
			return CmdSelectPSE
		case string(citycard.AppMOHURD):
			return CmdSelectMOHURD
		case string(citycard.AppTUnion):
			return CmdSelectTUnion
		}
		return CmdSelect
	case ins == 0xA4 && p1 == 0x00:
		switch {
		case bytes.Equal(data, []byte{0x3F, 0x00}):
			return CmdSelectMF
		case bytes.Equal(data, []byte{0x10, 0x01}):
			return CmdSelect1001
		}
		return CmdSelect
	case ins == 0xB0 && p1 == 0x95:
		return CmdReadPublic
	case ins == 0xB0:
		return CmdReadBinary
	case ins == 0x5C:
		return CmdBalance
	case ins == 0xB2:
		return CmdReadRecord
	case ins == 0xC0:
		return CmdGetResponse
	case ins == 0x50:
		return CmdInitPurchase
	case ins == 0x54:
		return CmdDebit
	case ins == 0x5A:
		return CmdProve
	}
	return CmdOther
}

// Fault is a misbehaviour injected into the answers to matching commands.
type Fault struct {
	On Command // "" matches any command
	// SW is answered instead of the real response (no data), unless Leave or Corrupt.
	SW uint16
	// Leave: the card leaves the field during this command: an empty response, then every
	// later command fails with ErrRemoved.
	Leave bool
	// After, with Leave: the card carries the command out before it leaves, so its effects
	// stay (a debit applied) and only the response is lost.
	After bool
	// Corrupt: the command is carried out and answered, with the last byte of its data flipped
	// (for DEBIT, the MAC2; answers without data are left alone).
	Corrupt bool
	// Times is how many matching commands it hits: 0 means once, a negative value always.
	Times int
	// Skip lets this many matching commands through before the fault starts hitting.
	Skip int
}

// ErrRemoved is what Transmit returns after the card left the field.
var ErrRemoved = errors.New("cardsim: card removed")

// Card is a city card answering APDUs. Safe for concurrent use.
type Card struct {
	mu       sync.Mutex
	cfg      Config
	atr      []byte
	public   []byte
	records  [][]byte
	selected string // "", "mf", "pse", or the App
	chip     sim.Chip[Command]
	balance  int64
	purse    *purse // nil: no purchases
}

// New builds a card from a Config, checking that every value can be encoded.
func New(c Config) (*Card, error) {
	card := &Card{cfg: c, atr: DefaultATR, balance: c.BalanceFen, chip: sim.Chip[Command]{
		Classify: Classify, GetResponse: CmdGetResponse, Removed: ErrRemoved, T0: c.T0, Chunk: c.Chunk,
	}}
	if c.ATR != "" {
		atr, err := hex.DecodeString(c.ATR)
		if err != nil || len(atr) < 2 {
			return nil, errors.New("cardsim: atr is not hex")
		}
		card.atr = atr
	}
	for _, a := range c.Apps {
		if _, err := citycard.App(a).SelectAPDU(); err != nil {
			return nil, fmt.Errorf("cardsim: %w", err)
		}
	}
	pub, err := encodePublic(c)
	if err != nil {
		return nil, err
	}
	card.public = pub
	if c.BalanceFen < 0 || c.BalanceFen > 0xFFFFFFFF {
		return nil, errors.New("cardsim: balance_fen does not fit 4 bytes")
	}
	if c.Purchase != nil {
		if card.purse, err = newPurse(*c.Purchase, [8]byte(pub[12:20])); err != nil {
			return nil, err
		}
	}
	if len(c.Records) > citycard.MaxRecords {
		return nil, fmt.Errorf("cardsim: %d records, a purse keeps %d", len(c.Records), citycard.MaxRecords)
	}
	for i, r := range c.Records {
		b, err := encodeRecord(r)
		if err != nil {
			return nil, fmt.Errorf("cardsim: record %d: %w", i+1, err)
		}
		card.records = append(card.records, b)
	}
	return card, nil
}

func encodePublic(c Config) ([]byte, error) {
	issuer, err := hex.DecodeString(c.Issuer)
	if err != nil || len(issuer) != 8 {
		return nil, errors.New("cardsim: issuer is not 16 hex digits")
	}
	if len(c.CardNo) == 0 || len(c.CardNo) > 20 || strings.Trim(c.CardNo, "0123456789") != "" {
		return nil, errors.New("cardsim: card_no is not 1 to 20 digits")
	}
	digits := strings.Repeat("0", 20-len(c.CardNo)) + c.CardNo
	if c.CardNoPadded {
		digits = c.CardNo + strings.Repeat("F", 20-len(c.CardNo))
	}
	no, _ := hex.DecodeString(digits)
	from, err := bcdDate(c.ValidFrom)
	if err != nil {
		return nil, fmt.Errorf("cardsim: valid_from: %w", err)
	}
	to, err := bcdDate(c.ValidTo)
	if err != nil {
		return nil, fmt.Errorf("cardsim: valid_to: %w", err)
	}
	b := append(issuer, byte(c.AppType), byte(c.Version))
	b = append(b, no...)
	b = append(b, from...)
	b = append(b, to...)
	return append(b, 0x00, 0x00), nil
}

func bcdDate(s string) ([]byte, error) {
	if s == "" {
		return make([]byte, 4), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, err
	}
	b, _ := hex.DecodeString(t.Format("20060102"))
	return b, nil
}

func encodeRecord(r Record) ([]byte, error) {
	term, err := hex.DecodeString(r.Terminal)
	if err != nil || len(term) != 6 {
		return nil, errors.New("terminal is not 12 hex digits")
	}
	t, err := time.Parse(time.RFC3339, r.Time)
	if err != nil {
		return nil, err
	}
	t = t.In(citycard.ChinaTime)
	if r.Serial < 0 || r.Serial > 0xFFFF || r.Overdraft < 0 || r.Overdraft > 0xFFFFFF ||
		r.AmountFen < 0 || r.AmountFen > 0xFFFFFFFF || r.Type < 0 || r.Type > 0xFF {
		return nil, errors.New("a value does not fit its field")
	}
	dt, _ := hex.DecodeString(t.Format("20060102150405"))
	b := []byte{byte(r.Serial >> 8), byte(r.Serial), byte(r.Overdraft >> 16), byte(r.Overdraft >> 8), byte(r.Overdraft)}
	b = append(b, byte(r.AmountFen>>24), byte(r.AmountFen>>16), byte(r.AmountFen>>8), byte(r.AmountFen), byte(r.Type))
	b = append(b, term...)
	return append(b, dt...), nil
}

// ATR returns the card's answer to reset.
func (c *Card) ATR() []byte { return append([]byte(nil), c.atr...) }

// Inject adds a fault; faults are tried in the order injected, one per command.
func (c *Card) Inject(f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.chip.Inject(sim.Fault[Command](f))
}

// Leave makes the card leave the field now: every later command fails with ErrRemoved.
func (c *Card) Leave() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.chip.Leave()
}

// Reinsert puts the card back, as after a fresh tap: nothing selected, a purchase begun by
// INITIALIZE forgotten; the purse, its log and the last transaction's proof kept (they are in
// the card's EEPROM), faults kept.
func (c *Card) Reinsert() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.chip.Reset()
	c.selected = ""
	if c.purse != nil {
		c.purse.init = nil
	}
}

// Balance is the purse balance now, in fen: what a test checks a debit against.
func (c *Card) Balance() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.balance
}

// Records returns the purse's log records as stored, newest first (copies of the 23-byte
// records citycard.ParseRecord reads): what a test checks debits against without talking to
// the card (which would change its selection).
func (c *Card) Records() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]byte, len(c.records))
	for i, r := range c.records {
		out[i] = append([]byte(nil), r...)
	}
	return out
}

// Log returns the commands received, in order (the APDUs as sent, copies).
func (c *Card) Log() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chip.Log()
}

// Count is how many commands of this kind the card received.
func (c *Card) Count(cmd Command) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chip.Count(cmd)
}

// Transmit answers one command APDU.
func (c *Card) Transmit(apdu []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chip.Transmit(apdu, c.answer)
}

// le gives the Le of a case 2 APDU (CLA INS P1 P2 Le), or -1.
func le(apdu []byte) int {
	if len(apdu) != 5 {
		return -1
	}
	return int(apdu[4])
}

// answer runs a command on the card state and gives the data and status word. c.mu is held.
func (c *Card) answer(cmd Command, apdu []byte) ([]byte, uint16) {
	if c.purse != nil && cmd != CmdGetResponse && cmd != CmdInitPurchase && cmd != CmdDebit {
		c.purse.init = nil // DEBIT must follow INITIALIZE directly
	}
	if len(apdu) < 4 {
		return nil, 0x6700
	}
	if apdu[0] != 0x00 && apdu[0] != 0x80 {
		return nil, 0x6E00
	}
	purse := c.selected != "" && c.selected != "mf" && c.selected != "pse"
	fci := func(name []byte) []byte {
		f := append([]byte{0x84, byte(len(name))}, name...)
		f = append(f, 0xA5, 0x03, 0x88, 0x01, 0x01)
		return append([]byte{0x6F, byte(len(f))}, f...)
	}
	switch cmd {
	case CmdSelectPSE:
		if !c.cfg.PSE {
			return nil, 0x6A82
		}
		c.selected = "pse"
		return fci([]byte(citycard.PSEName)), 0x9000
	case CmdSelectMF:
		c.selected = "mf"
		return nil, 0x9000
	case CmdSelect1001, CmdSelectMOHURD, CmdSelectTUnion:
		app := map[Command]citycard.App{CmdSelect1001: citycard.AppFile1001, CmdSelectMOHURD: citycard.AppMOHURD, CmdSelectTUnion: citycard.AppTUnion}[cmd]
		if !c.has(app) {
			return nil, 0x6A82
		}
		if c.cfg.Locked {
			return nil, 0x9303
		}
		c.selected = string(app)
		name, _ := hex.DecodeString(string(app))
		return fci(name), 0x9000
	case CmdSelect:
		return nil, 0x6A82
	case CmdReadPublic:
		if !purse {
			return nil, 0x6A82
		}
		if apdu[3] != 0 {
			return nil, 0x6B00
		}
		if le(apdu) != len(c.public) {
			return nil, 0x6C00 | uint16(len(c.public))
		}
		return append([]byte(nil), c.public...), 0x9000
	case CmdReadBinary:
		return nil, 0x6A82
	case CmdBalance:
		if !purse {
			return nil, 0x6985
		}
		if apdu[0] != 0x80 || apdu[2] != 0 || (apdu[3] != 1 && apdu[3] != 2) {
			return nil, 0x6B00
		}
		if le(apdu) != 4 {
			return nil, 0x6C04
		}
		b := c.balance
		if apdu[3] == 1 {
			b = 0 // the deposit (ED) of a purse-only card
		}
		return []byte{byte(b >> 24), byte(b >> 16), byte(b >> 8), byte(b)}, 0x9000
	case CmdReadRecord:
		if !purse {
			return nil, 0x6A82
		}
		if apdu[3] != 0xC4 {
			return nil, 0x6A82 // only SFI 0x18, record number in P1
		}
		if le(apdu) != citycard.RecordSize {
			return nil, 0x6C00 | citycard.RecordSize
		}
		n := int(apdu[2])
		switch {
		case n >= 1 && n <= len(c.records):
			return append([]byte(nil), c.records[n-1]...), 0x9000
		case n >= 1 && n <= citycard.MaxRecords && c.cfg.ZeroLogEnd:
			return make([]byte, citycard.RecordSize), 0x9000
		}
		return nil, 0x6A83
	case CmdInitPurchase, CmdDebit, CmdProve:
		if c.purse == nil {
			return nil, 0x6D00
		}
		if !purse {
			return nil, 0x6985
		}
		if apdu[0] != 0x80 {
			return nil, 0x6E00
		}
		return c.purchase(cmd, apdu)
	case CmdGetResponse:
		return c.chip.GetResponseAnswer(apdu)
	}
	return nil, 0x6D00
}

func (c *Card) has(app citycard.App) bool {
	for _, a := range c.cfg.Apps {
		if strings.EqualFold(a, string(app)) {
			return true
		}
	}
	return false
}
