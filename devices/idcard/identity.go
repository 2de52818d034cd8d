package idcard

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"citizenhome/mask"
)

// CardType tells which card a text block came from; each has its own layout.
// The zero CardType is not a card.
type CardType uint8

const (
	// Resident is the 居民身份证 (no marker in the text block).
	Resident CardType = iota + 1
	// Foreigner is the old-format 外国人永久居留身份证 (marker 'I'). The 2023 format (marker
	// 'Y', number starting with 9) is not supported: its layout is unverified.
	Foreigner
	// HMT is the 港澳台居民居住证 (marker 'J'): the resident layout plus a travel permit number.
	HMT
)

// String gives the names the local API uses: "resident", "foreigner", "hmt"; "unknown" otherwise.
func (t CardType) String() string {
	switch t {
	case Resident:
		return "resident"
	case Foreigner:
		return "foreigner"
	case HMT:
		return "hmt"
	}
	return "unknown"
}

// Sex is the sex code of GB/T 2261.1 as the card stores it.
type Sex uint8

// The codes a card may carry; any other value is rejected when decoding.
const (
	SexUnknown  Sex = 0 // 未知的性别
	Male        Sex = 1 // 男
	Female      Sex = 2 // 女
	SexUnstated Sex = 9 // 未说明的性别
)

// String gives the Chinese word printed on the card (男, 女, 未知, 未说明), or "?" for a
// code outside GB/T 2261.1.
func (s Sex) String() string {
	switch s {
	case SexUnknown:
		return "未知"
	case Male:
		return "男"
	case Female:
		return "女"
	case SexUnstated:
		return "未说明"
	}
	return "?"
}

func (s Sex) valid() bool { return s == SexUnknown || s == Male || s == Female || s == SexUnstated }

// ParseSex accepts a code ("1") or the Chinese word ("男"); anything else is an error.
func ParseSex(s string) (Sex, error) {
	for _, x := range []Sex{SexUnknown, Male, Female, SexUnstated} {
		if s == x.String() || s == string('0'+rune(x)) {
			return x, nil
		}
	}
	return 0, fmt.Errorf("idcard: unknown sex %q", s)
}

// Expiry is the last day a card is valid. A long-term card (长期, issued to people over 45)
// has LongTerm set and a zero Date.
type Expiry struct {
	Date     time.Time // date only, midnight UTC; zero when LongTerm
	LongTerm bool
}

// LongTermText is how the card writes a validity without end.
const LongTermText = "长期"

// String gives "2035-06-01", "长期", or "" for the zero Expiry.
func (e Expiry) String() string {
	switch {
	case e.LongTerm:
		return LongTermText
	case e.Date.IsZero():
		return ""
	}
	return e.Date.Format(time.DateOnly)
}

// Expired tells whether the card is no longer valid on at's calendar day (in at's location).
// The expiry day itself is still valid; a long-term card never expires; a zero Expiry has
// expired (nothing says it is valid).
func (e Expiry) Expired(at time.Time) bool {
	if e.LongTerm {
		return false
	}
	if e.Date.IsZero() {
		return true
	}
	return dayOf(at).After(e.Date)
}

// Identity is what the SAM reads from an ID card. It holds personal information: it prints
// itself masked (with every fmt verb, with slog, and as JSON), so handing it to a logger by
// mistake leaks nothing; code that must show the real values reads the fields.
//
// Dates are calendar days stored as midnight UTC.
type Identity struct {
	Type CardType
	// Name is the Chinese name; on a foreigner card it may be empty.
	Name string
	Sex  Sex
	// Nation is the 民族 of a resident card; 0 on the other cards.
	Nation Nation
	Birth  time.Time
	// Address is empty on a foreigner card.
	Address string
	// Number is the 18-character ID number (resident, HMT: check digit verified) or the
	// 15-character permanent residence number (foreigner).
	Number string
	// Authority is the issuing authority (签发机关); on a foreigner card its 4-digit code.
	Authority string
	ValidFrom time.Time
	ValidTo   Expiry

	// Foreigner card only.
	EnglishName string
	Nationality string // ISO 3166-1 alpha-3, e.g. "USA"
	CardVersion string

	// HMT card only.
	PassNumber string // 通行证号码
	IssueCount int    // 签发次数

	// Photo is the raw WLT block; see Photo.
	Photo Photo
}

// Age is the number of whole years from Birth to at's calendar day (in at's location).
// Someone born on 29 February turns a year older on 1 March in common years. A zero Birth, or
// an at before Birth, gives 0.
func (id *Identity) Age(at time.Time) int {
	if id.Birth.IsZero() {
		return 0
	}
	day := dayOf(at)
	b := id.Birth
	age := day.Year() - b.Year()
	if day.Month() < b.Month() || (day.Month() == b.Month() && day.Day() < b.Day()) {
		age--
	}
	return max(age, 0)
}

// ValidAt tells whether at's calendar day lies between ValidFrom and ValidTo, both included.
// A zero ValidFrom is not checked.
func (id *Identity) ValidAt(at time.Time) bool {
	day := dayOf(at)
	if !id.ValidFrom.IsZero() && day.Before(id.ValidFrom) {
		return false
	}
	return !id.ValidTo.Expired(at)
}

// String gives the masked form (package mask): `resident 张*三 410***********1234`.
func (id Identity) String() string {
	return fmt.Sprintf("%s %s %s", id.Type, mask.Name(id.displayName()), mask.ID(id.Number))
}

// Format prints the masked String for every verb, so %d, %+v or %#v cannot leak a field.
func (id Identity) Format(f fmt.State, verb rune) { mask.Format(f, verb, id.String()) }

// LogValue gives slog the masked type, name and number only.
func (id Identity) LogValue() slog.Value { return id.fields().LogValue() }

// MarshalJSON writes the masked type, name and number only: JSON is a common way into logs.
// Code that must send the full identity (the local API) maps the fields itself.
func (id Identity) MarshalJSON() ([]byte, error) { return id.fields().MarshalJSON() }

func (id Identity) fields() mask.Fields {
	return mask.Fields{}.Add("type", id.Type.String()).Add("name", mask.Name(id.displayName())).Add("number", mask.ID(id.Number))
}

func (id Identity) displayName() string {
	if id.Name == "" {
		return id.EnglishName
	}
	return id.Name
}

// Photo is the card's 1024-byte WLT photo block, a proprietary format only closed vendor
// libraries decode. It prints as its length only, with every fmt verb, slog and JSON.
type Photo []byte

// String gives "photo(1024 bytes)".
func (p Photo) String() string { return fmt.Sprintf("photo(%d bytes)", len(p)) }

// Format prints String for every verb (%x would otherwise dump the block).
func (p Photo) Format(f fmt.State, verb rune) { mask.Format(f, verb, p.String()) }

// LogValue gives slog the length only.
func (p Photo) LogValue() slog.Value { return slog.StringValue(p.String()) }

// MarshalJSON writes the String form, not the bytes.
func (p Photo) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

// dayOf is at's calendar day in at's own location, as midnight UTC like the card's dates.
func dayOf(at time.Time) time.Time {
	y, m, d := at.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
