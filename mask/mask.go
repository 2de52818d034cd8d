// Package mask hides personal data wherever a value may be shown, printed, logged or sent. It
// has one rule per kind of data, in the forms the README documents, and every type of the module
// that holds personal data prints itself through it:
//
//	kind   rule                                                  example
//	Name   the first and last character; of 2, the first         张三丰 → 张*丰, 张三 → 张*
//	ID     the first 3 and last 4 characters                     410105198503071234 → 410***********1234
//	Card   the first 4 and last 4 characters                     3104000012345678 → 3104********5678
//	Phone  the first 3 and last 4 of 11 or more; the last 4 of   13800138000 → 138****8000,
//	       7 to 10                                               3771234 → ***1234
//
// A value too short for its rule to hide anything worth hiding is starred whole: a name of one
// character, an ID number of 7 characters or fewer, a card number of 8 digits or fewer (its
// last 4 alone would be half of it or more), a phone number of 6 characters or fewer. The rules
// count characters (runes), not bytes; apart from a name's surrounding spaces and a name of
// none or one character (both "*", so that no name cannot be told from a short one), the masked
// form is as long as the value. Masking a masked value gives it back unchanged.
//
// A type that holds personal data implements String (its masked summary), Format, LogValue and
// MarshalJSON, so that no fmt verb, no slog handler and no JSON encoder reaches its fields; code
// that must show the real values reads the fields. Format and the other two are one line each:
//
//	func (p Person) Format(f fmt.State, verb rune) { mask.Format(f, verb, p.String()) }
//	func (p Person) LogValue() slog.Value           { return p.fields().LogValue() }
//	func (p Person) MarshalJSON() ([]byte, error)   { return p.fields().MarshalJSON() }
//	func (p Person) fields() mask.Fields {
//		return mask.Fields{}.Add("name", mask.Name(p.Name)).Add("number", mask.ID(p.Number))
//	}
//
// Methods on the value (not the pointer) receiver reach a value inside a struct, a slice or a
// map too. Package masktest checks a type against every verb, both slog handlers and JSON.
//
// The package imports nothing of the module, so that device libraries may use it without
// knowing the kiosk.
package mask

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
)

// star is what stands for each hidden character.
const star = "*"

// keep gives s with its first head and last tail runes kept and the others starred, or all of
// it starred when it has min runes or fewer.
func keep(s string, head, tail, min int) string {
	r := []rune(s)
	if len(r) <= min {
		return strings.Repeat(star, len(r))
	}
	return string(r[:head]) + strings.Repeat(star, len(r)-head-tail) + string(r[len(r)-tail:])
}

// Name masks a person's name: the first and last characters stay (张三丰 → 张*丰, 司马相如 →
// 司**如, ANNA → A**A), a name of two keeps its first (张三 → 张*), and a name of one character
// or none is "*". Spaces around the name are dropped first.
func Name(name string) string {
	r := []rune(strings.TrimSpace(name))
	switch len(r) {
	case 0, 1:
		return star
	case 2:
		return string(r[0]) + star
	}
	return keep(string(r), 1, 1, 2)
}

// ID masks an identity document number (ID card, residence permits, a foreigner's permanent
// residence card): the first 3 and last 4 characters stay, 410105198503071234 →
// 410***********1234, DEU410085031204 → DEU********1204. A number of 7 characters or fewer is
// starred whole; "" stays "".
func ID(number string) string { return keep(number, 3, 4, 7) }

// Card masks a card number (the city one-card): the first 4 and last 4 characters stay,
// 3104000012345678 → 3104********5678. A number of 8 characters or fewer is starred whole
// (12345678 → ********): what the rule keeps would be all of it, and its last 4 alone half of
// it or more. "" stays "".
func Card(number string) string { return keep(number, 4, 4, 8) }

// Phone masks a phone number: of 11 characters or more (a mobile number, one with +86) the
// first 3 and last 4 stay, 13800138000 → 138****8000, +8613800138000 → +86*******8000; of 7 to
// 10 (a landline) the last 4, 3771234 → ***1234; shorter ones are starred whole. "" stays "".
func Phone(number string) string {
	n := len([]rune(number))
	switch {
	case n >= 11:
		return keep(number, 3, 4, 7)
	case n >= 7:
		return keep(number, 0, 4, 4)
	}
	return strings.Repeat(star, n)
}

// Format writes masked, a value's masked text (its String), for any verb, so that a type's
// Format can be one line: %q quotes it (with its flags: %+q, %#q); every other verb (%v, %+v,
// %#v, %s, %d, %x, ...) writes it as %s would, with the width, precision and '-' flag given.
// No verb can reach the value's fields.
func Format(f fmt.State, verb rune, masked string) {
	if verb != 'q' {
		verb = 's'
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), masked)
}

// Fields are what a type that holds personal data gives slog and JSON of itself, in order: its
// fields already masked (or harmless). The zero Fields is empty and ready for Add.
type Fields []field

type field struct {
	key   string
	value any
}

// Add gives fs with key and value after the fields it has. value must be masked already (the
// Add of a full number would log it); it may be anything slog and encoding/json take,
// another masked type included.
func (fs Fields) Add(key string, value any) Fields { return append(fs, field{key, value}) }

// LogValue is a group of the fields, in order.
func (fs Fields) LogValue() slog.Value {
	attrs := make([]slog.Attr, len(fs))
	for i, f := range fs {
		attrs[i] = slog.Any(f.key, f.value)
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes one object of the fields, in order. A value that does not marshal is the
// error, with its key.
func (fs Fields) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key) // a string always marshals
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, fmt.Errorf("mask: field %s: %w", f.key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
