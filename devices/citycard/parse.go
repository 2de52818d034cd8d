package citycard

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"citizenhome/mask"
)

// AppType is the application type byte of the public data (SFI 0x15).
type AppType byte

// The application types of JR/T 0025.
const (
	AppED   AppType = 0x01 // electronic deposit (存折) only
	AppEP   AppType = 0x02 // electronic purse (钱包) only
	AppBoth AppType = 0x03 // both
)

// String gives "ED", "EP", "ED+EP", or the hex value of another type.
func (t AppType) String() string {
	switch t {
	case AppED:
		return "ED"
	case AppEP:
		return "EP"
	case AppBoth:
		return "ED+EP"
	}
	return fmt.Sprintf("0x%02X", byte(t))
}

// PublicSize is the size of the public data file (SFI 0x15) that Public reads.
const PublicSize = 30

// Public is the public data of the purse application (SFI 0x15). CardNo is personal data.
type Public struct {
	Issuer     string // issuer id, 16 upper-case hex digits
	AppType    AppType
	Version    byte
	CardNo     string    // see ParsePublic
	ValidFrom  time.Time // date only, midnight UTC; zero when the card leaves it 00000000
	ValidTo    time.Time // likewise
	IssuerData [2]byte   // issuer-defined
	// AppSerial is the rightmost 8 bytes of the card number field, as stored: the card serial
	// that the PSAM derives the card's keys from (MAC1Request.CardSerial). Personal data, like
	// CardNo.
	AppSerial [8]byte
}

// ParsePublic decodes the 30-byte public data file: issuer id 0/8, app type 8/1, version 9/1,
// card number 10/10 (BCD), start date 20/4 and expiry date 24/4 (BCD YYYYMMDD), issuer data
// 28/2. Bytes past 30 are ignored; fewer are ErrMalformed.
//
// The card number is the BCD digits with trailing F padding dropped and leading zeros dropped
// down to 16 digits: the 10-byte field is zero-filled on most cards, and what remains is the
// number printed on the card. A non-decimal nibble elsewhere, or an impossible date, is
// ErrMalformed; all-zero dates are zero times.
func ParsePublic(b []byte) (Public, error) {
	if len(b) < PublicSize {
		return Public{}, fmt.Errorf("%w: public data has %d bytes, want %d", ErrMalformed, len(b), PublicSize)
	}
	p := Public{
		Issuer:     strings.ToUpper(hex.EncodeToString(b[0:8])),
		AppType:    AppType(b[8]),
		Version:    b[9],
		IssuerData: [2]byte{b[28], b[29]},
		AppSerial:  [8]byte(b[12:20]),
	}
	var err error
	if p.CardNo, err = cardNumber(b[10:20]); err != nil {
		return Public{}, err
	}
	if p.ValidFrom, err = bcdDate(b[20:24], "start date"); err != nil {
		return Public{}, err
	}
	if p.ValidTo, err = bcdDate(b[24:28], "expiry date"); err != nil {
		return Public{}, err
	}
	if !p.ValidFrom.IsZero() && !p.ValidTo.IsZero() && p.ValidTo.Before(p.ValidFrom) {
		return Public{}, fmt.Errorf("%w: expiry date before start date", ErrMalformed)
	}
	return p, nil
}

// String gives "public data: card 3104********5678, issuer 3140000000000001": the card number
// masked (package mask), without the serial.
func (p Public) String() string {
	return fmt.Sprintf("public data: card %s, issuer %s", mask.Card(p.CardNo), p.Issuer)
}

// Format prints String for every verb, so %+v or %x cannot leak the card number or serial.
func (p Public) Format(f fmt.State, verb rune) { mask.Format(f, verb, p.String()) }

// LogValue gives slog the masked number, the serial masked like it, and what is not personal.
func (p Public) LogValue() slog.Value { return p.fields().LogValue() }

// MarshalJSON writes what LogValue gives.
func (p Public) MarshalJSON() ([]byte, error) { return p.fields().MarshalJSON() }

func (p Public) fields() mask.Fields {
	return mask.Fields{}.Add("card_no", mask.Card(p.CardNo)).Add("app_serial", maskSerial(p.AppSerial)).
		Add("issuer", p.Issuer).Add("app_type", p.AppType.String()).Add("version", int(p.Version)).
		Add("valid_from", day(p.ValidFrom)).Add("valid_to", day(p.ValidTo))
}

// maskSerial masks a card serial like a card number: its hex digits are the BCD digits of the
// number's right part.
func maskSerial(s [8]byte) string { return mask.Card(strings.ToUpper(hex.EncodeToString(s[:]))) }

// day is a date as YYYY-MM-DD, "" for the zero time.
func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

func cardNumber(b []byte) (string, error) {
	digits := strings.TrimRight(strings.ToUpper(hex.EncodeToString(b)), "F")
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", fmt.Errorf("%w: card number is not BCD", ErrMalformed)
		}
	}
	for len(digits) > 16 && digits[0] == '0' {
		digits = digits[1:]
	}
	if strings.Trim(digits, "0") == "" {
		return "", fmt.Errorf("%w: card number is empty", ErrMalformed)
	}
	return digits, nil
}

// bcd reads packed BCD digits into an int; false on a nibble above 9.
func bcd(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		hi, lo := c>>4, c&0x0F
		if hi > 9 || lo > 9 {
			return 0, false
		}
		n = n*100 + int(hi)*10 + int(lo)
	}
	return n, true
}

// bcdDate reads BCD YYYYMMDD; 00000000 is the zero time.
func bcdDate(b []byte, what string) (time.Time, error) {
	v, ok := bcd(b)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: %s is not BCD", ErrMalformed, what)
	}
	if v == 0 {
		return time.Time{}, nil
	}
	t, ok := civil(v/10000, v/100%100, v%100, 0, 0, 0, time.UTC)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: %s is not a calendar day", ErrMalformed, what)
	}
	return t, nil
}

// civil builds a time only from fields in range (time.Date would roll 31 April to 1 May).
func civil(y, mo, d, h, mi, s int, loc *time.Location) (time.Time, bool) {
	if y < 1900 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, 0, loc)
	return t, t.Day() == d
}

// TxType is the transaction type of a log record (JR/T 0025 交易类型标识).
type TxType byte

// Transaction types. TxLoad, TxPurchase and TxCompoundPurchase are the ones city cards show
// in practice; the others are in the standard's table but rarely seen.
const (
	TxEDLoad           TxType = 0x01 // 圈存 to the deposit
	TxLoad             TxType = 0x02 // 圈存 (top-up) to the purse
	TxUnload           TxType = 0x03 // 圈提
	TxEDWithdrawal     TxType = 0x04 // deposit withdrawal
	TxEDPurchase       TxType = 0x05 // deposit purchase
	TxPurchase         TxType = 0x06 // purse purchase
	TxOverdraftChange  TxType = 0x07 // overdraft limit changed
	TxCreditPurchase   TxType = 0x08 // credit purchase
	TxCompoundPurchase TxType = 0x09 // compound purchase (transport, with a cap)
)

var txNames = map[TxType]string{
	TxEDLoad: "ed-load", TxLoad: "load", TxUnload: "unload", TxEDWithdrawal: "ed-withdrawal",
	TxEDPurchase: "ed-purchase", TxPurchase: "purchase", TxOverdraftChange: "overdraft-change",
	TxCreditPurchase: "credit-purchase", TxCompoundPurchase: "compound-purchase",
}

// String gives the local API's name ("purchase", "load", "compound-purchase", ...) or
// "unknown-0xNN".
func (t TxType) String() string {
	if s, ok := txNames[t]; ok {
		return s
	}
	return fmt.Sprintf("unknown-0x%02X", byte(t))
}

// RecordSize is the size of one transaction log record (SFI 0x18).
const RecordSize = 23

// Record is one transaction of the purse log. Amounts are in fen (分).
type Record struct {
	Serial    uint16 // the card's online or offline transaction serial
	Overdraft uint32 // overdraft limit, fen
	AmountFen int64
	Type      TxType
	Terminal  string // terminal id, 12 upper-case hex digits
	Time      time.Time
}

// IsZero tells whether r is the zero Record (what ParseRecord gives for an all-zero record).
func (r Record) IsZero() bool { return r == Record{} }

// ParseRecord decodes one 23-byte log record: serial 0/2, overdraft 2/3, amount 5/4, type 9/1,
// terminal 10/6, date 16/4 and time 20/3 (BCD), the time read in loc (nil: China Standard
// Time, UTC+8, where the terminals write it). An all-zero record, which ends the log on some
// cards, gives the zero Record and nil. Bytes past 23 are ignored; fewer, or a bad BCD date or
// time, are ErrMalformed.
func ParseRecord(b []byte, loc *time.Location) (Record, error) {
	if len(b) < RecordSize {
		return Record{}, fmt.Errorf("%w: record has %d bytes, want %d", ErrMalformed, len(b), RecordSize)
	}
	b = b[:RecordSize]
	if allZero(b) {
		return Record{}, nil
	}
	if loc == nil {
		loc = ChinaTime
	}
	date, ok1 := bcd(b[16:20])
	clock, ok2 := bcd(b[20:23])
	if !ok1 || !ok2 {
		return Record{}, fmt.Errorf("%w: record date or time is not BCD", ErrMalformed)
	}
	t, ok := civil(date/10000, date/100%100, date%100, clock/10000, clock/100%100, clock%100, loc)
	if !ok {
		return Record{}, fmt.Errorf("%w: record date or time out of range", ErrMalformed)
	}
	return Record{
		Serial:    uint16(b[0])<<8 | uint16(b[1]),
		Overdraft: uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4]),
		AmountFen: int64(be32(b[5:9])),
		Type:      TxType(b[9]),
		Terminal:  strings.ToUpper(hex.EncodeToString(b[10:16])),
		Time:      t,
	}, nil
}

// ChinaTime is UTC+8 without daylight saving, the time city card terminals keep. A fixed zone,
// so it needs no time zone database.
var ChinaTime = time.FixedZone("CST", 8*3600)

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
