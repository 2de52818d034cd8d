package citycard_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"citizenhome/devices/citycard"
)

// FuzzAPDUResponse feeds Exchange a card whose answers are cut from the fuzz input
// (each answer: a length byte, then that many bytes). Whatever the card says, Exchange ends,
// returns ErrNoResponse, ErrMalformed or an SW for a bad ending, and never panics.
func FuzzAPDUResponse(f *testing.F) {
	f.Add([]byte{0x02, 0x90, 0x00})
	f.Add([]byte{0x02, 0x61, 0x02, 0x04, 0x01, 0x02, 0x90, 0x00})
	f.Add([]byte{0x02, 0x6C, 0x1E, 0x03, 0xAA, 0x90, 0x00})
	f.Add([]byte{0x00})
	f.Add([]byte{0x01, 0x90})
	f.Add([]byte{0x03, 0x01, 0x94, 0x01})
	f.Add([]byte{0x02, 0x63, 0xC2})
	f.Fuzz(func(t *testing.T, in []byte) {
		data, sw, err := citycard.ParseResponse(in)
		if err != nil {
			if len(in) >= 2 || !errors.Is(err, citycard.ErrNoResponse) {
				t.Fatalf("ParseResponse(% X): %v", in, err)
			}
		} else if len(data) != len(in)-2 || byte(sw>>8) != in[len(in)-2] || byte(sw) != in[len(in)-1] {
			t.Fatalf("ParseResponse(% X) = % X %04X", in, data, uint16(sw))
		}
		var answers [][]byte
		for len(in) > 0 {
			n := min(int(in[0]), len(in)-1)
			answers = append(answers, in[1:1+n])
			in = in[1+n:]
		}
		s := &script{answers: answers}
		_, err = citycard.Exchange(s, []byte{0x00, 0xB0, 0x95, 0x00, 0x1E})
		var got citycard.SW
		switch {
		case err == nil, errors.Is(err, citycard.ErrNoResponse), errors.Is(err, citycard.ErrMalformed):
		case errors.As(err, &got):
			if got == citycard.SWOK || (got>>8 == 0x61) {
				t.Fatalf("Exchange ended on %04X", uint16(got))
			}
		default:
			t.Fatalf("untyped error %v", err)
		}
		if len(s.sent) > 64 {
			t.Fatalf("%d commands for one exchange", len(s.sent))
		}
	})
}

func FuzzParse15(f *testing.F) {
	f.Add(public(nil))
	f.Add(public(func(b []byte) { copy(b[10:], []byte{0x12, 0x34, 0x56, 0x78, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}) }))
	f.Add(public(func(b []byte) { copy(b[20:], make([]byte, 8)) }))
	f.Add(public(func(b []byte) { b[15] = 0xA0 }))
	f.Add(make([]byte, 30))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := citycard.ParsePublic(b)
		if err != nil {
			if !errors.Is(err, citycard.ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if p.CardNo == "" || strings.Trim(p.CardNo, "0123456789") != "" || len(p.CardNo) > 20 || len(p.Issuer) != 16 {
			t.Fatalf("accepted %+v", p)
		}
		if !p.ValidFrom.IsZero() && !p.ValidTo.IsZero() && p.ValidTo.Before(p.ValidFrom) {
			t.Fatalf("dates out of order: %+v", p)
		}
		if m := (citycard.Info{CardNo: p.CardNo}).MaskedCardNo(); len(m) != len(p.CardNo) {
			t.Fatalf("mask %q of %d digits", m, len(p.CardNo))
		}
	})
}

func FuzzParse18(f *testing.F) {
	f.Add(record(nil))
	f.Add(make([]byte, 23))
	f.Add(record(func(b []byte) { b[20] = 0x24 }))
	f.Add(record(func(b []byte) { copy(b[16:], []byte{0x20, 0x24, 0x02, 0x29}) }))
	f.Add(record(nil)[:22])
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := citycard.ParseRecord(b, nil)
		if err != nil {
			if !errors.Is(err, citycard.ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if r.IsZero() {
			if !bytes.Equal(b[:23], make([]byte, 23)) {
				t.Fatalf("zero record from % X", b)
			}
			return
		}
		if r.AmountFen < 0 || r.Overdraft > 0xFFFFFF || len(r.Terminal) != 12 || r.Time.IsZero() {
			t.Fatalf("accepted %+v", r)
		}
		// The time read back as BCD gives the record's bytes.
		if got := r.Time.In(citycard.ChinaTime).Format("20060102150405"); !strings.EqualFold(got, hexOf(b[16:23])) {
			t.Fatalf("time %s from % X", got, b[16:23])
		}
	})
}

func hexOf(b []byte) string {
	const digits = "0123456789ABCDEF"
	var s []byte
	for _, c := range b {
		s = append(s, digits[c>>4], digits[c&15])
	}
	return string(s)
}
