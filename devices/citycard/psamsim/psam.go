// Package psamsim models a PSAM (purchase secure access module, 消费安全模块) answering APDUs,
// for tests and demos: the second card that citycard.PSAM drives during a purchase.
//
// A PSAM is built from a Config, usually read from a small JSON file (Sample is the shipped
// one). It answers SELECT of its purse directory (DF03 unless configured) and of the MF, READ
// BINARY of its terminal id (SFI 0x16), MAC1 (80 70: it derives the card's purchase key from its
// master key and the card serial, computes the session key and MAC1, and advances its terminal
// transaction serial) and the MAC2 check (80 72), for real, with the crypto of package
// citycard. The master keys are TEST keys: no real card accepts what they compute.
//
// Faults make a chosen command answer a status word (a PSAM that refuses), leave the reader,
// or corrupt an answer (a wrong MAC1, which the card then rejects with 93 02). PSAM satisfies
// the vpcd Model interface (ATR, Transmit), so a real pcscd can serve it in a second slot.
package psamsim

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/internal/sim"
)

// Config describes a PSAM.
type Config struct {
	Comment string `json:"_comment,omitempty"`
	// ATR in hex; empty means DefaultATR.
	ATR string `json:"atr,omitempty"`
	// Dir is the purse directory's file id, 4 hex digits ("DF03").
	Dir string `json:"dir"`
	// Terminal is the terminal id, 12 hex digits, read with 00 B0 96 00 06.
	Terminal string `json:"terminal"`
	// TerminalSerial is the serial the next MAC1 gives (0 to 4294967295).
	TerminalSerial int64 `json:"terminal_serial"`
	// T0: answers with data come as 61 xx, then GET RESPONSE, as on a contact T=0 PSAM.
	T0   bool  `json:"t0,omitempty"`
	Keys []Key `json:"keys"`
}

// Key is a purchase master key, picked by the key version and algorithm the card gives.
type Key struct {
	Comment   string `json:"_comment,omitempty"`
	Version   int    `json:"version"`
	Algorithm int    `json:"algorithm"`
	// MasterPurchaseKey is 32 hex digits: a TEST key.
	MasterPurchaseKey string `json:"master_purchase_key"`
}

//go:embed psam.json
var sampleJSON []byte

// Sample returns the shipped PSAM: directory DF03, terminal 475000000301, T=0, and the TEST
// master purchase key (version 1) that cardsim.Sample's card derives its keys from.
func Sample() Config {
	c, err := ParseConfig(sampleJSON)
	if err != nil {
		panic("psamsim: shipped psam.json is broken: " + err.Error())
	}
	return c
}

// ParseConfig reads a JSON PSAM description; unknown keys and values that do not fit are errors.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("psamsim: %w", err)
	}
	if _, err := New(c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Load reads a JSON PSAM description from a file and builds the PSAM.
func Load(path string) (*PSAM, error) {
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

// DefaultATR is a contact T=0 card's ATR (TS 3B, T0 68: TB1 and TC1 present, 8 historical
// bytes) with "TESTPSAM" as the historical bytes. T=0 only, so no TCK.
var DefaultATR = append([]byte{0x3B, 0x68, 0x00, 0x00}, "TESTPSAM"...)

// Command names the kind of an APDU, for faults and counting.
type Command string

// The commands the PSAM tells apart.
const (
	CmdSelect       Command = "select"        // any SELECT
	CmdReadTerminal Command = "read-terminal" // READ BINARY SFI 0x16
	CmdReadBinary   Command = "read-binary"   // another file
	CmdMAC1         Command = "mac1"          // 80 70
	CmdVerifyMAC2   Command = "verify-mac2"   // 80 72
	CmdGetResponse  Command = "get-response"
	CmdOther        Command = "other"
)

// Classify names an APDU's command.
func Classify(apdu []byte) Command {
	if len(apdu) < 4 {
		return CmdOther
	}
	switch ins, p1 := apdu[1], apdu[2]; {
	case ins == 0xA4:
		return CmdSelect
	case ins == 0xB0 && p1 == 0x96:
		return CmdReadTerminal
	case ins == 0xB0:
		return CmdReadBinary
	case ins == 0x70:
		return CmdMAC1
	case ins == 0x72:
		return CmdVerifyMAC2
	case ins == 0xC0:
		return CmdGetResponse
	}
	return CmdOther
}

// Fault is a misbehaviour injected into the answers to matching commands.
type Fault struct {
	On Command // "" matches any command
	// SW is answered instead of the real response (a PSAM that refuses), unless Leave or
	// Corrupt. {On: CmdVerifyMAC2, SW: 0x9302} is a PSAM that rejects a right MAC2.
	SW uint16
	// Leave: the PSAM loses contact during this command: an empty response, then ErrRemoved
	// until Reset.
	Leave bool
	// After, with Leave: the command is carried out first (MAC1 advances the serial).
	After bool
	// Corrupt: the command is carried out and answered with the last data byte flipped
	// (for MAC1, the MAC1 the card will reject).
	Corrupt bool
	// Times is how many matching commands it hits: 0 means once, a negative value always.
	Times int
	// Skip lets this many matching commands through before the fault starts hitting.
	Skip int
}

// ErrRemoved is what Transmit returns after the PSAM lost contact.
var ErrRemoved = errors.New("psamsim: PSAM removed")

type key struct {
	version, algorithm byte
	master             [16]byte
}

type session struct {
	sk     [8]byte
	amount uint32
}

// PSAM is a PSAM answering APDUs. Safe for concurrent use.
type PSAM struct {
	mu       sync.Mutex
	atr      []byte
	dir      [2]byte
	terminal [6]byte
	serial   uint32
	keys     []key
	selected bool // the purse directory
	session  *session
	chip     sim.Chip[Command]
}

// New builds a PSAM from a Config, checking every value.
func New(c Config) (*PSAM, error) {
	p := &PSAM{atr: DefaultATR, chip: sim.Chip[Command]{
		Classify: Classify, GetResponse: CmdGetResponse, Removed: ErrRemoved, T0: c.T0,
	}}
	if c.ATR != "" {
		atr, err := hex.DecodeString(c.ATR)
		if err != nil || len(atr) < 2 {
			return nil, errors.New("psamsim: atr is not hex")
		}
		p.atr = atr
	}
	dir, err := hex.DecodeString(c.Dir)
	if err != nil || len(dir) != 2 {
		return nil, errors.New("psamsim: dir is not 4 hex digits")
	}
	p.dir = [2]byte(dir)
	term, err := hex.DecodeString(c.Terminal)
	if err != nil || len(term) != 6 {
		return nil, errors.New("psamsim: terminal is not 12 hex digits")
	}
	p.terminal = [6]byte(term)
	if c.TerminalSerial < 0 || c.TerminalSerial > 0xFFFFFFFF {
		return nil, errors.New("psamsim: terminal_serial does not fit 4 bytes")
	}
	p.serial = uint32(c.TerminalSerial)
	if len(c.Keys) == 0 {
		return nil, errors.New("psamsim: no keys")
	}
	for i, k := range c.Keys {
		m, err := hex.DecodeString(k.MasterPurchaseKey)
		if err != nil || len(m) != 16 {
			return nil, fmt.Errorf("psamsim: key %d: master_purchase_key is not 32 hex digits", i+1)
		}
		if k.Version < 0 || k.Version > 0xFF || k.Algorithm < 0 || k.Algorithm > 0xFF {
			return nil, fmt.Errorf("psamsim: key %d: version or algorithm does not fit a byte", i+1)
		}
		p.keys = append(p.keys, key{byte(k.Version), byte(k.Algorithm), [16]byte(m)})
	}
	return p, nil
}

// ATR returns the PSAM's answer to reset.
func (p *PSAM) ATR() []byte { return append([]byte(nil), p.atr...) }

// Inject adds a fault; faults are tried in the order injected, one per command.
func (p *PSAM) Inject(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.chip.Inject(sim.Fault[Command](f))
}

// Reset is a power cycle: the PSAM is back in contact, nothing selected, the session of the last
// MAC1 lost; the terminal serial is kept (it is in EEPROM), faults too.
func (p *PSAM) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.chip.Reset()
	p.selected, p.session = false, nil
}

// TerminalSerial is the serial the next MAC1 will give.
func (p *PSAM) TerminalSerial() uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.serial
}

// Log returns the commands received, in order (copies).
func (p *PSAM) Log() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.chip.Log()
}

// Count is how many commands of this kind the PSAM received.
func (p *PSAM) Count(cmd Command) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.chip.Count(cmd)
}

// Transmit answers one command APDU.
func (p *PSAM) Transmit(apdu []byte) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.chip.Transmit(apdu, p.answer)
}

// body splits a short case 3 or 4 APDU into its data; false for another shape.
func body(apdu []byte) ([]byte, bool) {
	if len(apdu) < 6 || apdu[4] == 0 {
		return nil, false
	}
	lc := int(apdu[4])
	if len(apdu) != 5+lc && len(apdu) != 6+lc {
		return nil, false
	}
	return apdu[5 : 5+lc], true
}

// answer runs a command and gives the data and status word. p.mu is held.
func (p *PSAM) answer(cmd Command, apdu []byte) ([]byte, uint16) {
	if len(apdu) < 4 {
		return nil, 0x6700
	}
	if apdu[0] != 0x00 && apdu[0] != 0x80 {
		return nil, 0x6E00
	}
	data, ok := body(apdu)
	switch cmd {
	case CmdSelect:
		if apdu[2] != 0x00 || !ok || len(data) != 2 {
			return nil, 0x6A82 // by file id only
		}
		switch {
		case bytes.Equal(data, []byte{0x3F, 0x00}):
			p.selected = false
			return nil, 0x9000
		case bytes.Equal(data, p.dir[:]):
			p.selected = true
			return nil, 0x9000
		}
		return nil, 0x6A82
	case CmdReadTerminal:
		if apdu[3] != 0 {
			return nil, 0x6B00
		}
		if len(apdu) != 5 || apdu[4] != 6 {
			return nil, 0x6C06
		}
		return append([]byte(nil), p.terminal[:]...), 0x9000
	case CmdReadBinary:
		return nil, 0x6A82
	case CmdMAC1:
		return p.mac1(apdu, data, ok)
	case CmdVerifyMAC2:
		if apdu[0] != 0x80 || apdu[2] != 0 || apdu[3] != 0 {
			return nil, 0x6B00
		}
		if !ok || len(data) != 4 {
			return nil, 0x6700
		}
		s := p.session
		p.session = nil // one check per MAC1: a wrong guess costs the session
		if s == nil {
			return nil, 0x6985
		}
		if citycard.PurchaseMAC2(s.sk, s.amount) != [4]byte(data) {
			return nil, 0x9302
		}
		return nil, 0x9000
	case CmdGetResponse:
		return p.chip.GetResponseAnswer(apdu)
	}
	return nil, 0x6D00
}

// mac1 answers 80 70 00 00 1C: random 0/4, offline serial 4/2, amount 6/4, type 10/1,
// date-time 11/7, key version 18/1, algorithm 19/1, card serial 20/8. p.mu is held.
func (p *PSAM) mac1(apdu, data []byte, ok bool) ([]byte, uint16) {
	if apdu[0] != 0x80 || apdu[2] != 0 || apdu[3] != 0 {
		return nil, 0x6B00
	}
	if !ok || len(data) != 0x1C {
		return nil, 0x6700
	}
	if !p.selected {
		return nil, 0x6985
	}
	var master *[16]byte
	for i, k := range p.keys {
		if k.version == data[18] && k.algorithm == data[19] {
			master = &p.keys[i].master
		}
	}
	if master == nil {
		return nil, 0x9403
	}
	dt := [7]byte(data[11:18])
	if t, err := time.Parse("20060102150405", hex.EncodeToString(dt[:])); err != nil || t.Year() < 1900 {
		return nil, 0x6A80
	}
	serial := p.serial
	p.serial++
	amount := binary.BigEndian.Uint32(data[6:10])
	dpk := citycard.DeriveKey(*master, [8]byte(data[20:28]))
	sk := citycard.SessionKey(dpk, [4]byte(data[0:4]), binary.BigEndian.Uint16(data[4:6]), serial)
	mac := citycard.PurchaseMAC1(sk, amount, citycard.TxType(data[10]), p.terminal, dt)
	p.session = &session{sk: sk, amount: amount}
	return append(binary.BigEndian.AppendUint32(nil, serial), mac[:]...), 0x9000
}
