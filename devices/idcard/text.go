package idcard

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TextSize is the size of the text block a SAM reads from every card type.
const TextSize = 256

// Errors of the text block. A *FieldError wraps the field-level ones.
var (
	// ErrTextSize: the block is not TextSize bytes.
	ErrTextSize = errors.New("idcard: text block is not 256 bytes")
	// ErrCardType: the type marker (bytes 248-249) names a card this package cannot decode,
	// such as the unverified 2023 foreigner card ('Y').
	ErrCardType = errors.New("idcard: unsupported card type")
	// ErrText: a field holds characters a card never stores (controls, UTF-16 surrogates), or a
	// value does not fit the field when encoding.
	ErrText = errors.New("idcard: bad text")
	// ErrField: a field's value is not allowed (unknown sex or nation code, empty name, ...).
	ErrField = errors.New("idcard: bad field value")
	// ErrDate: a date field is not a calendar day YYYYMMDD, or dates contradict each other
	// (valid-to before valid-from, birth date not the one in the ID number).
	ErrDate = errors.New("idcard: bad date")
)

// FieldError tells which field of the text block is wrong. It never carries the field's value,
// which is personal data.
type FieldError struct {
	Field string // "name", "number", "birth", ...
	Err   error  // ErrText, ErrField, ErrDate, ErrNumberFormat or ErrCheckDigit
}

// Error gives "idcard: text field number: ID number check digit is wrong".
func (e *FieldError) Error() string {
	return "idcard: text field " + e.Field + ": " + strings.TrimPrefix(e.Err.Error(), "idcard: ")
}

// Unwrap gives Err, so errors.Is(err, ErrCheckDigit) works through a FieldError.
func (e *FieldError) Unwrap() error { return e.Err }

// span is one field of a layout: byte offset and size in the text block.
type span struct {
	name   string
	off, n int
}

// Resident (and HMT) layout.
var (
	rName      = span{"name", 0, 30}
	rSex       = span{"sex", 30, 2}
	rNation    = span{"nation", 32, 4}
	rBirth     = span{"birth", 36, 16}
	rAddress   = span{"address", 52, 70}
	rNumber    = span{"number", 122, 36}
	rAuthority = span{"authority", 158, 30}
	rFrom      = span{"valid_from", 188, 16}
	rTo        = span{"valid_to", 204, 16}
	hPass      = span{"pass_number", 220, 18}
	hCount     = span{"issue_count", 238, 4}
)

// Foreigner (old format) layout.
var (
	fEnglish     = span{"english_name", 0, 120}
	fSex         = span{"sex", 120, 2}
	fNumber      = span{"number", 122, 30}
	fNationality = span{"nationality", 152, 6}
	fName        = span{"name", 158, 30}
	fFrom        = span{"valid_from", 188, 16}
	fTo          = span{"valid_to", 204, 16}
	fBirth       = span{"birth", 220, 16}
	fVersion     = span{"card_version", 236, 4}
	fAuthority   = span{"authority", 240, 8}
)

var marker = span{"marker", 248, 2}

// Type markers at bytes 248-249 (UCS-2 'I', 'J', 'Y').
const (
	markerForeigner     = 'I'
	markerHMT           = 'J'
	markerForeigner2023 = 'Y'
)

// DecodeText decodes the 256-byte UCS-2 little-endian text block into an Identity, choosing the
// layout by the type marker. It validates as it goes: the sex and nation codes, calendar dates,
// the ID number's check digit and its agreement with the birth date and sex, valid-to after
// valid-from. A card that fails any check is an error, never a half-filled person.
// The Photo of the result is nil.
func DecodeText(block []byte) (*Identity, error) {
	if len(block) != TextSize {
		return nil, ErrTextSize
	}
	d := decoder{b: block}
	m := d.str(marker)
	if d.err != nil {
		return nil, d.err
	}
	var id *Identity
	switch m {
	case "":
		id = d.resident(Resident)
	case string(markerHMT):
		id = d.resident(HMT)
	case string(markerForeigner):
		id = d.foreigner()
	default:
		return nil, fmt.Errorf("%w: marker %q", ErrCardType, m)
	}
	if d.err != nil {
		return nil, d.err
	}
	return id, nil
}

// decoder keeps the first error so a layout reads as a list of fields.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(s span, err error) {
	if d.err == nil {
		d.err = &FieldError{Field: s.name, Err: err}
	}
}

// str decodes one field, trimming the trailing 20 00 (and 00 00) padding.
func (d *decoder) str(s span) string {
	raw := d.b[s.off : s.off+s.n]
	end := len(raw)
	for end >= 2 {
		u := uint16(raw[end-2]) | uint16(raw[end-1])<<8
		if u != 0x20 && u != 0 {
			break
		}
		end -= 2
	}
	out := make([]rune, 0, end/2)
	for i := 0; i < end; i += 2 {
		u := rune(raw[i]) | rune(raw[i+1])<<8
		if u < 0x20 || (u >= 0x7F && u < 0xA0) || (u >= 0xD800 && u < 0xE000) || u == 0xFFFE || u == 0xFFFF {
			d.fail(s, ErrText)
			return ""
		}
		out = append(out, u)
	}
	return string(out)
}

func (d *decoder) required(s span) string {
	v := d.str(s)
	if v == "" {
		d.fail(s, ErrField)
	}
	return v
}

func (d *decoder) date(s span) time.Time {
	t, err := parseDate(d.str(s))
	if err != nil {
		d.fail(s, ErrDate)
	}
	return t
}

func (d *decoder) sex(s span) Sex {
	v := d.str(s)
	if len(v) != 1 || !isDigit(v[0]) || !Sex(v[0]-'0').valid() {
		d.fail(s, ErrField)
		return 0
	}
	return Sex(v[0] - '0')
}

func (d *decoder) expiry(s span, from time.Time) Expiry {
	v := d.str(s)
	if v == LongTermText {
		return Expiry{LongTerm: true}
	}
	t, err := parseDate(v)
	if err != nil || (!from.IsZero() && t.Before(from)) {
		d.fail(s, ErrDate)
	}
	return Expiry{Date: t}
}

func (d *decoder) resident(typ CardType) *Identity {
	id := &Identity{Type: typ}
	id.Name = d.required(rName)
	id.Sex = d.sex(rSex)
	if typ == Resident {
		// The HMT permit reserves this slot; sources disagree on its content, so it is ignored.
		v := d.str(rNation)
		n, err := ParseNation(v)
		if err != nil || len(v) != 2 || !isDigit(v[0]) {
			d.fail(rNation, ErrField)
		}
		id.Nation = n
	}
	id.Birth = d.date(rBirth)
	id.Address = d.str(rAddress)
	id.Number = d.str(rNumber)
	if err := ValidateNumber(id.Number); err != nil {
		d.fail(rNumber, err)
	} else if nb, _ := numberBirth(id.Number); d.err == nil && !nb.Equal(id.Birth) {
		d.fail(rBirth, ErrDate)
	} else if odd := (id.Number[16]-'0')%2 == 1; (id.Sex == Male && !odd) || (id.Sex == Female && odd) {
		// GB 11643: the 17th digit is odd for men, even for women.
		d.fail(rSex, ErrField)
	}
	id.Authority = d.str(rAuthority)
	id.ValidFrom = d.date(rFrom)
	id.ValidTo = d.expiry(rTo, id.ValidFrom)
	if typ == HMT {
		id.PassNumber = d.required(hPass)
		id.IssueCount = d.count(hCount)
	}
	return id
}

func (d *decoder) count(s span) int {
	v := d.str(s)
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || len(v) == 0 || !isDigit(v[0]) {
		d.fail(s, ErrField)
	}
	return n
}

func (d *decoder) foreigner() *Identity {
	id := &Identity{Type: Foreigner}
	id.EnglishName = d.required(fEnglish)
	id.Sex = d.sex(fSex)
	id.Number = d.required(fNumber)
	for i := 0; i < len(id.Number); i++ {
		if c := id.Number[i]; !isDigit(c) && (c < 'A' || c > 'Z') {
			d.fail(fNumber, ErrNumberFormat)
			break
		}
	}
	id.Nationality = d.str(fNationality)
	if len(id.Nationality) != 3 || !isUpper(id.Nationality) {
		d.fail(fNationality, ErrField)
	}
	id.Name = d.str(fName)
	id.ValidFrom = d.date(fFrom)
	id.ValidTo = d.expiry(fTo, id.ValidFrom)
	id.Birth = d.date(fBirth)
	id.CardVersion = d.str(fVersion)
	id.Authority = d.str(fAuthority)
	return id
}

func isUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// EncodeText is the inverse of DecodeText, for simulators and tests: it lays the identity out
// in its type's layout, padded with 20 00. It checks only that each value fits its field and is
// UCS-2 (no character beyond U+FFFF); it does not validate the values, so a test can build a
// card with a wrong check digit. Unused and reserved bytes are spaces.
func EncodeText(id *Identity) ([]byte, error) {
	e := encoder{b: make([]byte, TextSize)}
	for i := 0; i < TextSize; i += 2 {
		e.b[i] = 0x20
	}
	day := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("20060102")
	}
	sex := string(rune('0' + id.Sex))
	switch id.Type {
	case Resident, HMT:
		e.put(rName, id.Name)
		e.put(rSex, sex)
		if id.Type == Resident {
			e.put(rNation, id.Nation.Code())
		}
		e.put(rBirth, day(id.Birth))
		e.put(rAddress, id.Address)
		e.put(rNumber, id.Number)
		e.put(rAuthority, id.Authority)
		e.put(rFrom, day(id.ValidFrom))
		e.put(rTo, expiryText(id.ValidTo))
		if id.Type == HMT {
			e.put(hPass, id.PassNumber)
			e.put(hCount, fmt.Sprintf("%02d", id.IssueCount))
			e.put(marker, string(rune(markerHMT)))
		}
	case Foreigner:
		e.put(fEnglish, id.EnglishName)
		e.put(fSex, sex)
		e.put(fNumber, id.Number)
		e.put(fNationality, id.Nationality)
		e.put(fName, id.Name)
		e.put(fFrom, day(id.ValidFrom))
		e.put(fTo, expiryText(id.ValidTo))
		e.put(fBirth, day(id.Birth))
		e.put(fVersion, id.CardVersion)
		e.put(fAuthority, id.Authority)
		e.put(marker, string(rune(markerForeigner)))
	default:
		return nil, fmt.Errorf("%w: %v", ErrCardType, id.Type)
	}
	if e.err != nil {
		return nil, e.err
	}
	return e.b, nil
}

func expiryText(e Expiry) string {
	if e.LongTerm {
		return LongTermText
	}
	if e.Date.IsZero() {
		return ""
	}
	return e.Date.Format("20060102")
}

type encoder struct {
	b   []byte
	err error
}

func (e *encoder) put(s span, v string) {
	if e.err != nil {
		return
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v)*2 > s.n {
		e.err = &FieldError{Field: s.name, Err: ErrText}
		return
	}
	i := s.off
	for _, r := range v {
		if r > 0xFFFF || (r >= 0xD800 && r < 0xE000) {
			e.err = &FieldError{Field: s.name, Err: ErrText}
			return
		}
		e.b[i], e.b[i+1] = byte(r), byte(r>>8)
		i += 2
	}
}
