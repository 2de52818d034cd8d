package citycard

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"

	"citizenhome/mask"
)

// ErrPSAM marks every failure that comes from the PSAM side (a status word from the PSAM, its
// reader failing, its answer malformed): errors.Is(err, ErrPSAM). The PSAM's status word is
// still there for errors.As. A PSAM failure before the debit means nothing was taken; after it
// (the MAC2 check), the money was taken all the same.
var ErrPSAM = errors.New("citycard: PSAM")

// PSAMDirDF03 selects the purse directory DF03, where most PSAMs keep the purchase keys.
var PSAMDirDF03 = []byte{0x00, 0xA4, 0x00, 0x00, 0x02, 0xDF, 0x03}

// readTerminalAPDU reads the terminal id, 6 bytes of the PSAM's SFI 0x16.
var readTerminalAPDU = []byte{0x00, 0xB0, 0x96, 0x00, 0x06}

// PSAM is a purchase secure access module (PSAM) in its own reader slot: it holds the
// purchase master keys, gives MAC1 and checks MAC2. Not safe for concurrent use; one PSAM
// serves one purchase at a time (it keeps the session key between MAC1 and the MAC2 check).
type PSAM struct {
	card Card
	// Dir is the SELECT of the purse directory; nil means PSAMDirDF03. Vendors differ.
	Dir []byte
	// Terminal is the terminal id (终端机编号) written into the card's log. All zero means
	// Purchase reads it from the PSAM (ReadTerminalID) and keeps it here. It must be the
	// PSAM's own: the PSAM puts its own id into MAC1, and the card rejects a MAC1 made for
	// another id (93 02).
	Terminal [6]byte
}

// NewPSAM wraps the PSAM's card connection; nothing is sent until a method is called.
func NewPSAM(card Card) *PSAM { return &PSAM{card: card} }

func psamErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %s: %w", ErrPSAM, op, err)
}

// Select selects the purse directory (Dir, or DF03). The PSAM's status word comes back wrapped
// with ErrPSAM.
func (p *PSAM) Select() error {
	dir := p.Dir
	if dir == nil {
		dir = PSAMDirDF03
	}
	_, err := Exchange(p.card, dir)
	return psamErr("select", err)
}

// ReadTerminalID reads the terminal id from the PSAM (00 B0 96 00 06) and keeps it in
// p.Terminal. An answer of another length is ErrMalformed (and ErrPSAM).
func (p *PSAM) ReadTerminalID() ([6]byte, error) {
	data, err := Exchange(p.card, readTerminalAPDU)
	if err != nil {
		return [6]byte{}, psamErr("terminal id", err)
	}
	if len(data) != 6 {
		return [6]byte{}, psamErr("terminal id", fmt.Errorf("%w: %d bytes, want 6", ErrMalformed, len(data)))
	}
	p.Terminal = [6]byte(data)
	return p.Terminal, nil
}

// MAC1Request is what the PSAM needs for MAC1: the card's answer to INITIALIZE FOR PURCHASE,
// the purchase, and the card's application serial.
type MAC1Request struct {
	Random        [4]byte
	OfflineSerial uint16
	AmountFen     int64
	Type          TxType  // TxPurchase
	DateTime      [7]byte // BCD YYYYMMDDhhmmss, the terminal's; DEBIT sends the same
	KeyVersion    byte
	Algorithm     byte
	CardSerial    [8]byte // the rightmost 8 bytes of the card number field (Public.AppSerial)
}

// String gives "MAC1 request: 200 fen, offline serial 5, card serial 0000********5678": the card
// serial (the card number's digits) masked.
func (r MAC1Request) String() string {
	return fmt.Sprintf("MAC1 request: %d fen, offline serial %d, card serial %s", r.AmountFen, r.OfflineSerial, maskSerial(r.CardSerial))
}

// Format prints String for every verb, so %+v or %x cannot leak the card serial.
func (r MAC1Request) Format(f fmt.State, verb rune) { mask.Format(f, verb, r.String()) }

// LogValue gives slog the request with the card serial masked.
func (r MAC1Request) LogValue() slog.Value { return r.fields().LogValue() }

// MarshalJSON writes what LogValue gives.
func (r MAC1Request) MarshalJSON() ([]byte, error) { return r.fields().MarshalJSON() }

func (r MAC1Request) fields() mask.Fields {
	return mask.Fields{}.Add("amount_fen", r.AmountFen).Add("offline_serial", int(r.OfflineSerial)).
		Add("type", r.Type.String()).Add("date_time", hex.EncodeToString(r.DateTime[:])).
		Add("key_version", int(r.KeyVersion)).Add("algorithm", int(r.Algorithm)).Add("card_serial", maskSerial(r.CardSerial))
}

// MAC1 sends the MAC1 command (80 70 00 00 1C: random, offline serial, amount, type,
// date-time, key version, algorithm, card serial). The PSAM derives the card's purchase key,
// advances its terminal transaction serial and gives that serial with MAC1. Its refusals (key
// not found 94 03, conditions 69 85) come back wrapped with ErrPSAM; an amount out of range is
// ErrAmount, with nothing sent.
func (p *PSAM) MAC1(r MAC1Request) (MAC1Answer, error) {
	if err := checkAmount(r.AmountFen); err != nil {
		return MAC1Answer{}, err
	}
	apdu := []byte{0x80, 0x70, 0x00, 0x00, 0x1C}
	apdu = append(apdu, r.Random[:]...)
	apdu = binary.BigEndian.AppendUint16(apdu, r.OfflineSerial)
	apdu = binary.BigEndian.AppendUint32(apdu, uint32(r.AmountFen))
	apdu = append(apdu, byte(r.Type))
	apdu = append(apdu, r.DateTime[:]...)
	apdu = append(apdu, r.KeyVersion, r.Algorithm)
	apdu = append(apdu, r.CardSerial[:]...) // no Le, as the reference sends it: a T=0 PSAM answers 61 08
	data, err := Exchange(p.card, apdu)
	if err != nil {
		return MAC1Answer{}, psamErr("MAC1", err)
	}
	a, err := ParseMAC1Answer(data)
	return a, psamErr("MAC1", err)
}

// VerifyMAC2 sends MAC2 to the PSAM (80 72 00 00 04) for it to check against the session of the
// last MAC1. A wrong MAC2 is 93 02 (errors.Is(err, ErrMACInvalid)), wrapped with ErrPSAM. The
// PSAM forgets the session after one check, right or wrong, and at a reset.
func (p *PSAM) VerifyMAC2(mac2 [4]byte) error {
	apdu := append([]byte{0x80, 0x72, 0x00, 0x00, 0x04}, mac2[:]...)
	_, err := Exchange(p.card, apdu)
	return psamErr("MAC2", err)
}
