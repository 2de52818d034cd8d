package citycard

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"citizenhome/mask"
)

// State is what a purchase has got so far, and all that recovery needs: the card (CardNo,
// CardSerial), the purse before (BalanceBeforeFen, OfflineSerial), the amount, the terminal's
// id, serial and date-time, and once debited the TAC. CardNo and CardSerial are personal data:
// State prints itself masked with every fmt verb, slog and JSON; a journal stores it whole
// with MarshalBinary.
type State struct {
	Step       Step
	Type       TxType // TxPurchase
	CardNo     string // the card number, as Public gives it
	CardSerial [8]byte
	KeyIndex   byte
	AmountFen  int64
	Terminal   [6]byte // terminal id (from the PSAM)

	// From INITIALIZE FOR PURCHASE (StepInit on).
	BalanceBeforeFen int64
	OfflineSerial    uint16 // the serial this debit uses; the card's is one more once it debits
	Overdraft        uint32
	KeyVersion       byte
	Algorithm        byte
	Random           [4]byte

	// From the PSAM (StepAuthorized on).
	TerminalSerial uint32
	Time           time.Time // the terminal's date-time sent with MAC1 and DEBIT, whole seconds
	MAC1           [4]byte

	// From DEBIT, or GET TRANSACTION PROVE (StepDebited on).
	TAC  [4]byte
	MAC2 [4]byte
}

// Outcome is what a journal entry left at this step means after a crash: StepDebited or later
// is OutcomeDebited; StepAuthorized is OutcomeUnknown (DEBIT may have gone out: recover from
// the card); earlier steps are OutcomeNotDebited, since DEBIT only goes out once StepAuthorized
// is journaled.
func (s State) Outcome() Outcome {
	switch {
	case s.Step >= StepDebited:
		return OutcomeDebited
	case s.Step == StepAuthorized:
		return OutcomeUnknown
	}
	return OutcomeNotDebited
}

// DateTime gives Time's wall clock as the 7 BCD bytes sent to the card (YYYYMMDDhhmmss), all
// zero for a Time outside the years 1900 to 9999 (the zero Time).
func (s State) DateTime() [7]byte {
	b, _ := bcdDateTime(s.Time)
	return b
}

// BalanceAfterFen is the balance the card has once this debit is done.
func (s State) BalanceAfterFen() int64 { return s.BalanceBeforeFen - s.AmountFen }

// MaskedCardNo gives the card number masked (package mask): 3104********1234.
func (s State) MaskedCardNo() string { return mask.Card(s.CardNo) }

// String gives "purchase 200 fen, card 3104********5678, debited".
func (s State) String() string {
	return fmt.Sprintf("purchase %d fen, card %s, %s", s.AmountFen, s.MaskedCardNo(), s.Step)
}

// Format prints String for every verb, so %+v or %#v cannot leak the card number.
func (s State) Format(f fmt.State, verb rune) { mask.Format(f, verb, s.String()) }

// LogValue gives slog the purchase without the card number (masked) or the serial.
func (s State) LogValue() slog.Value { return s.fields().LogValue() }

// MarshalJSON writes what LogValue gives: the card number masked, no card serial. A journal
// uses MarshalBinary.
func (s State) MarshalJSON() ([]byte, error) { return s.fields().MarshalJSON() }

func (s State) fields() mask.Fields {
	return mask.Fields{}.Add("step", s.Step.String()).Add("card_no", s.MaskedCardNo()).
		Add("amount_fen", s.AmountFen).Add("balance_before_fen", s.BalanceBeforeFen).
		Add("offline_serial", int(s.OfflineSerial)).Add("terminal_serial", s.TerminalSerial).
		Add("terminal", strings.ToUpper(hex.EncodeToString(s.Terminal[:]))).
		Add("time", wall(s.Time)).Add("tac", strings.ToUpper(hex.EncodeToString(s.TAC[:])))
}

// wall gives t's wall clock as YYYYMMDDhhmmss in t's own zone: what the card stores.
func wall(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("20060102150405")
}

// stateMagic starts a marshalled State: "CCP" and the format version.
var stateMagic = [4]byte{'C', 'C', 'P', 1}

// stateFixed is the size of a marshalled State without its card number.
const stateFixed = 4 + 3 + 1 + 8 + 4 + 6 + 4 + 2 + 3 + 1 + 1 + 4 + 4 + 7 + 4 + 4 + 4

// MarshalBinary encodes the whole state, card number included, for a journal: "CCP" 01, step,
// type, key index, card number length and ASCII digits, card serial(8), amount(4), terminal(6),
// balance(4), offline serial(2), overdraft(3), key version, algorithm, random(4), terminal
// serial(4), date-time(7 BCD, zero when unset), MAC1(4), TAC(4), MAC2(4). Values that do not fit
// their field (an amount or balance above 4 bytes, a card number of more than 20 digits) are
// ErrMalformed.
func (s State) MarshalBinary() ([]byte, error) {
	if s.AmountFen < 0 || s.AmountFen > MaxAmountFen || s.BalanceBeforeFen < 0 || s.BalanceBeforeFen > MaxAmountFen ||
		s.Overdraft > 0xFFFFFF || len(s.CardNo) > 20 || strings.Trim(s.CardNo, "0123456789") != "" {
		return nil, fmt.Errorf("%w: purchase state does not fit its encoding", ErrMalformed)
	}
	var dt [7]byte
	if !s.Time.IsZero() {
		var ok bool
		if dt, ok = bcdDateTime(s.Time); !ok {
			return nil, fmt.Errorf("%w: purchase time out of range", ErrMalformed)
		}
	}
	b := make([]byte, 0, stateFixed+len(s.CardNo))
	b = append(b, stateMagic[:]...)
	b = append(b, byte(s.Step), byte(s.Type), s.KeyIndex, byte(len(s.CardNo)))
	b = append(b, s.CardNo...)
	b = append(b, s.CardSerial[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(s.AmountFen))
	b = append(b, s.Terminal[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(s.BalanceBeforeFen))
	b = binary.BigEndian.AppendUint16(b, s.OfflineSerial)
	b = append(b, byte(s.Overdraft>>16), byte(s.Overdraft>>8), byte(s.Overdraft), s.KeyVersion, s.Algorithm)
	b = append(b, s.Random[:]...)
	b = binary.BigEndian.AppendUint32(b, s.TerminalSerial)
	b = append(b, dt[:]...)
	b = append(b, s.MAC1[:]...)
	b = append(b, s.TAC[:]...)
	return append(b, s.MAC2[:]...), nil
}

// UnmarshalBinary decodes what MarshalBinary wrote. Time comes back in ChinaTime (or the zero
// Time): the wall clock is what the card has, and what Judge compares. Another version, a wrong
// length, an unknown step, a card number that is not digits or a date-time that is not a BCD
// calendar time is ErrMalformed, and s is left as it was.
func (s *State) UnmarshalBinary(b []byte) error {
	bad := func(what string) error { return fmt.Errorf("%w: purchase state: %s", ErrMalformed, what) }
	if len(b) < stateFixed || [4]byte(b[:4]) != stateMagic {
		return bad("not a version 1 state")
	}
	n := int(b[7])
	if len(b) != stateFixed+n || n > 20 {
		return bad("wrong length")
	}
	var t State
	t.Step, t.Type, t.KeyIndex = Step(b[4]), TxType(b[5]), b[6]
	if t.Step > StepConfirmed {
		return bad("unknown step")
	}
	t.CardNo = string(b[8 : 8+n])
	if strings.Trim(t.CardNo, "0123456789") != "" {
		return bad("card number is not digits")
	}
	r := b[8+n:]
	next := func(k int) []byte { f := r[:k]; r = r[k:]; return f }
	t.CardSerial = [8]byte(next(8))
	t.AmountFen = int64(be32(next(4)))
	t.Terminal = [6]byte(next(6))
	t.BalanceBeforeFen = int64(be32(next(4)))
	t.OfflineSerial = binary.BigEndian.Uint16(next(2))
	o := next(3)
	t.Overdraft = uint32(o[0])<<16 | uint32(o[1])<<8 | uint32(o[2])
	t.KeyVersion, t.Algorithm = next(1)[0], next(1)[0]
	t.Random = [4]byte(next(4))
	t.TerminalSerial = be32(next(4))
	if dt := next(7); !allZero(dt) {
		date, ok1 := bcd(dt[:4])
		clock, ok2 := bcd(dt[4:])
		tm, ok := civil(date/10000, date/100%100, date%100, clock/10000, clock/100%100, clock%100, ChinaTime)
		if !ok1 || !ok2 || !ok {
			return bad("date-time is not a BCD calendar time")
		}
		t.Time = tm
	}
	t.MAC1, t.TAC, t.MAC2 = [4]byte(next(4)), [4]byte(next(4)), [4]byte(next(4))
	*s = t
	return nil
}
