package pcsc

import (
	"bytes"
	"errors"
	"testing"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/idcard/samsim"
)

func FuzzParseATR(f *testing.F) {
	for _, s := range [][]byte{
		samsim.ATR, cardsim.DefaultATR, {0x3B, 0x02, 0x14, 0x50}, {0x3F, 0x00}, {0x3B, 0x70, 0x11, 0x00, 0xFF},
		{0x3B, 0xF8, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x15, 0x59, 0x75, 0x62, 0x69, 0x6B, 0x65, 0x79, 0x34, 0xD4},
		{0x3B, 0x68, 0x00, 0x00, 0x00, 0x73, 0xC8, 0x40, 0x13, 0x00, 0x90, 0x00}, {0x3B, 0xFF}, nil,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		a, err := ParseATR(b)
		if !bytes.Equal(in, b) {
			t.Fatal("ParseATR changed its input")
		}
		if err != nil {
			if !errors.Is(err, ErrBadATR) {
				t.Fatalf("error %v is not ErrBadATR", err)
			}
			return
		}
		if len(a.Historical) != int(b[1]&0x0F) || len(a.Historical) > len(b) {
			t.Fatalf("%d historical bytes from T0 %02X", len(a.Historical), b[1])
		}
		for _, p := range a.Protocols {
			if p < 0 || p > 15 {
				t.Fatalf("protocol T=%d", p)
			}
		}
		if len(b) > 0 && len(a.Historical) > 0 {
			a.Historical[0] ^= 0xFF
			if !bytes.Equal(in, b) {
				t.Fatal("the result aliases the input")
			}
		}
	})
}

// scripted answers each command with the next response of a script: a length byte (mod 48),
// then that many bytes. Past the end of the script it answers nothing (a card that left).
type scripted struct {
	script []byte
	sent   int
}

func (s *scripted) Transmit([]byte) ([]byte, error) {
	s.sent++
	if len(s.script) == 0 {
		return []byte{}, nil
	}
	n := min(int(s.script[0])%48, len(s.script)-1)
	resp := s.script[1 : 1+n]
	s.script = s.script[1+n:]
	return bytes.Clone(resp), nil
}

// response builds a script entry.
func response(b ...byte) []byte { return append([]byte{byte(len(b))}, b...) }

func FuzzRead(f *testing.F) {
	uid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	ok := []byte{0x90, 0x00}
	f.Add(samsim.ATR, response(append(uid, ok...)...))                                        // an ID card
	f.Add(samsim.ATR, join(response(0x6D, 0x00), response(0x6A, 0x82), response(0x6A, 0x82))) // no UID, no PSE
	f.Add(cardsim.DefaultATR, join(response(0x6A, 0x82), response(0x6A, 0x82), response(0x6A, 0x82),
		response(0x6A, 0x82), response(0x6A, 0x82), response(0x6D, 0x00))) // a bank card
	f.Add(cardsim.DefaultATR, join(response(ok...), response(0x6A, 0x82), response(ok...), response(0x61, 0x1E))) // 61xx
	f.Add(cardsim.DefaultATR, join(response(ok...), response(ok...), response(0x6C, 0x1E)))                       // 6Cxx
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, atr, script []byte) {
		card := &scripted{script: bytes.Clone(script)}
		c, err := Read(card, atr)
		if c == nil {
			t.Fatal("nil contents")
		}
		if c.APDUs != card.sent {
			t.Fatalf("counted %d commands, %d sent", c.APDUs, card.sent)
		}
		// Each probe sends at most a bounded number of commands (citycard.Exchange caps 61xx).
		if card.sent > 2*(64*(5+3+maxRecordsRead)) {
			t.Fatalf("%d commands", card.sent)
		}
		switch c.Kind {
		case KindIDCard:
			if len(c.UID) != 8 || c.City != nil || err != nil {
				t.Fatalf("ID card: UID % X city %v err %v", c.UID, c.City, err)
			}
		case KindCityCard:
			if err == nil && (c.City == nil || c.City.CardNo == "") {
				t.Fatalf("city card without data: %v", c.City)
			}
		case KindUnknown:
			if c.City != nil || c.UID != nil {
				t.Fatalf("unknown card with data: %v", c)
			}
		default:
			t.Fatalf("kind %q", c.Kind)
		}
	})
}

// maxRecordsRead is how many log records citycard.Read asks for (the bound FuzzRead checks).
const maxRecordsRead = citycard.MaxRecords
