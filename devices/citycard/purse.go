package citycard

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The card's purchase commands (JR/T 0025, PBOC 2.0 electronic purse).

// MaxAmountFen is the largest amount a purchase can carry: the amount field is 4 bytes.
const MaxAmountFen = 0xFFFFFFFF

// ErrAmount: an amount of 0, a negative one, or one above MaxAmountFen. Nothing was sent.
var ErrAmount = errors.New("citycard: amount out of range (1 to 4294967295 fen)")

// InitAnswerSize is the length of the answer to INITIALIZE FOR PURCHASE.
const InitAnswerSize = 15

// InitAnswer is the card's answer to INITIALIZE FOR PURCHASE. Nothing is debited yet.
type InitAnswer struct {
	BalanceFen int64 // before the purchase
	// OfflineSerial is the card's offline transaction serial: the one this purchase uses in its
	// session key and, on most cards, writes in its log record. The card adds one when it debits.
	OfflineSerial uint16
	Overdraft     uint32 // overdraft limit, fen (3 bytes)
	KeyVersion    byte   // version of the card's purchase key, for the PSAM
	Algorithm     byte   // algorithm id of that key, for the PSAM
	Random        [4]byte
}

// ParseInitAnswer decodes the 15-byte answer to INITIALIZE FOR PURCHASE: balance 0/4, offline
// serial 4/2, overdraft 6/3, key version 9/1, algorithm 10/1, random 11/4. Any other length is
// ErrMalformed: a money command gets no benefit of the doubt.
func ParseInitAnswer(b []byte) (InitAnswer, error) {
	if len(b) != InitAnswerSize {
		return InitAnswer{}, fmt.Errorf("%w: INITIALIZE FOR PURCHASE answered %d bytes, want %d", ErrMalformed, len(b), InitAnswerSize)
	}
	return InitAnswer{
		BalanceFen:    int64(be32(b[0:4])),
		OfflineSerial: binary.BigEndian.Uint16(b[4:6]),
		Overdraft:     uint32(b[6])<<16 | uint32(b[7])<<8 | uint32(b[8]),
		KeyVersion:    b[9],
		Algorithm:     b[10],
		Random:        [4]byte(b[11:15]),
	}, nil
}

// MAC1Answer is the PSAM's answer to the MAC1 command.
type MAC1Answer struct {
	TerminalSerial uint32 // the PSAM's terminal transaction serial for this purchase
	MAC1           [4]byte
}

// ParseMAC1Answer decodes the 8-byte answer to MAC1: terminal transaction serial 0/4, MAC1
// 4/4. Any other length is ErrMalformed.
func ParseMAC1Answer(b []byte) (MAC1Answer, error) {
	if len(b) != 8 {
		return MAC1Answer{}, fmt.Errorf("%w: MAC1 answer has %d bytes, want 8", ErrMalformed, len(b))
	}
	return MAC1Answer{TerminalSerial: be32(b[0:4]), MAC1: [4]byte(b[4:8])}, nil
}

// DebitAnswer is the card's answer to DEBIT FOR PURCHASE: the debit is done.
type DebitAnswer struct {
	TAC  [4]byte // for the issuer's clearing; the kiosk keeps it with the record
	MAC2 [4]byte // for the PSAM to check
}

// ParseDebitAnswer decodes the 8-byte answer to DEBIT FOR PURCHASE: TAC 0/4, MAC2 4/4. Any
// other length is ErrMalformed.
func ParseDebitAnswer(b []byte) (DebitAnswer, error) {
	if len(b) != 8 {
		return DebitAnswer{}, fmt.Errorf("%w: DEBIT answer has %d bytes, want 8", ErrMalformed, len(b))
	}
	return DebitAnswer{TAC: [4]byte(b[0:4]), MAC2: [4]byte(b[4:8])}, nil
}

// Proof is the answer to GET TRANSACTION PROVE: the MAC2 and TAC of the card's last
// transaction, as DEBIT gave (or would have given) them.
type Proof struct {
	MAC2 [4]byte
	TAC  [4]byte
}

// ParseProof decodes the 8-byte answer to GET TRANSACTION PROVE: MAC2 0/4, TAC 4/4 (the order
// two independent implementations read it in). Any other length is ErrMalformed.
func ParseProof(b []byte) (Proof, error) {
	if len(b) != 8 {
		return Proof{}, fmt.Errorf("%w: GET TRANSACTION PROVE answered %d bytes, want 8", ErrMalformed, len(b))
	}
	return Proof{MAC2: [4]byte(b[0:4]), TAC: [4]byte(b[4:8])}, nil
}

func checkAmount(amountFen int64) error {
	if amountFen <= 0 || amountFen > MaxAmountFen {
		return ErrAmount
	}
	return nil
}

// InitPurchase sends INITIALIZE FOR PURCHASE (80 50 01 02 0B, key index, amount, terminal id,
// Le 0F) to the selected purse. It debits nothing and changes nothing on the card that a later
// read could see. 94 01 (ErrInsufficientBalance) is the usual refusal; 94 03 a key index the
// card lacks; an amount out of range is ErrAmount, with nothing sent.
func (s *Session) InitPurchase(keyIndex byte, amountFen int64, terminal [6]byte) (InitAnswer, error) {
	if err := checkAmount(amountFen); err != nil {
		return InitAnswer{}, err
	}
	apdu := []byte{0x80, 0x50, 0x01, 0x02, 0x0B, keyIndex}
	apdu = binary.BigEndian.AppendUint32(apdu, uint32(amountFen))
	apdu = append(append(apdu, terminal[:]...), InitAnswerSize)
	data, err := Exchange(s.card, apdu)
	if err != nil {
		return InitAnswer{}, err
	}
	return ParseInitAnswer(data)
}

// DebitPurchase sends DEBIT FOR PURCHASE (80 54 01 00 0F, terminal serial, date, time, MAC1,
// Le 08) right after InitPurchase, and tells whether the card took the money, also when it
// fails:
//
//   - nil error: OutcomeDebited, with TAC and MAC2.
//   - the card answered 90 00 or 61 xx to the DEBIT itself but the data were lost or malformed
//     (the card left during GET RESPONSE): OutcomeDebited with the error; GET TRANSACTION PROVE
//     gives TAC and MAC2 again.
//   - a status word other than 65 xx (ISO 7816: "non-volatile memory changed"): the card
//     refused and debited nothing (93 02 for a wrong MAC1, 94 01): OutcomeNotDebited.
//   - no status word for the DEBIT (ErrNoResponse, a reader error) or 65 xx: OutcomeUnknown.
//     Only the card can tell, on its next tap: see Session.Recover.
//
// dateTime is BCD YYYYMMDDhhmmss, as given to the PSAM for MAC1.
func (s *Session) DebitPurchase(terminalSerial uint32, dateTime [7]byte, mac1 [4]byte) (DebitAnswer, Outcome, error) {
	apdu := []byte{0x80, 0x54, 0x01, 0x00, 0x0F}
	apdu = binary.BigEndian.AppendUint32(apdu, terminalSerial)
	apdu = append(apdu, dateTime[:]...)
	apdu = append(append(apdu, mac1[:]...), 0x08)
	w := &watch{card: s.card}
	data, err := Exchange(w, apdu)
	if err == nil {
		a, perr := ParseDebitAnswer(data)
		return a, OutcomeDebited, perr
	}
	switch {
	case !w.answered:
		return DebitAnswer{}, OutcomeUnknown, err
	case w.status == SWOK || w.status>>8 == 0x61:
		return DebitAnswer{}, OutcomeDebited, err
	case w.status>>8 == 0x65:
		return DebitAnswer{}, OutcomeUnknown, err
	}
	return DebitAnswer{}, OutcomeNotDebited, err
}

// watch is a Card that remembers the status word of the last command other than GET RESPONSE:
// it tells whether the card carried out the DEBIT even if the data that follow are lost.
type watch struct {
	card     Card
	answered bool // the last command got a status word
	status   SW
}

func (w *watch) Transmit(apdu []byte) ([]byte, error) {
	gr := len(apdu) >= 2 && apdu[1] == 0xC0
	if !gr {
		w.answered, w.status = false, 0
	}
	resp, err := w.card.Transmit(apdu)
	if err == nil && !gr {
		if _, sw, perr := ParseResponse(resp); perr == nil {
			w.answered, w.status = true, sw
		}
	}
	return resp, err
}

// Prove sends GET TRANSACTION PROVE (80 5A 00 P2 02, serial, Le 08) with P2 the transaction
// type (TxPurchase 06, TxCompoundPurchase 09). It changes nothing on the card. The card only
// keeps the proof of its last transaction, and cards differ in which serial they want: the one
// the transaction used (INITIALIZE's, in the log record) or the one after it (INITIALIZE's + 1,
// the card's current serial). A card answers a serial it does not hold with a status word
// (often 94 06); Session.Recover tries both, and only once the log shows the last transaction
// is the one sought.
func (s *Session) Prove(serial uint16, typ TxType) (Proof, error) {
	apdu := []byte{0x80, 0x5A, 0x00, byte(typ), 0x02, byte(serial >> 8), byte(serial), 0x08}
	data, err := Exchange(s.card, apdu)
	if err != nil {
		return Proof{}, err
	}
	return ParseProof(data)
}
