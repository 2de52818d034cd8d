package pcsc

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ebfe/scard"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/idcard/samsim"
)

func citycardSelectPSE() []byte { return citycard.SelectPSEAPDU() }

// stubHandle answers with resp/err and records what was sent.
type stubHandle struct {
	sent  [][]byte
	resp  []byte
	err   error
	proto scard.Protocol
}

func (s *stubHandle) Transmit(cmd []byte) ([]byte, error) {
	s.sent = append(s.sent, append([]byte(nil), cmd...))
	return s.resp, s.err
}
func (s *stubHandle) Disconnect(scard.Disposition) error { return nil }
func (s *stubHandle) ActiveProtocol() scard.Protocol     { return s.proto }

func stubCard(h *stubHandle, p Protocol) *Card {
	return &Card{reader: cityReader, proto: p, h: h, gen: &generation{ctx: &fakeContext{f: newFake()}}}
}

func TestTransmitChecks(t *testing.T) {
	tests := []struct {
		name string
		apdu []byte
		resp []byte
		err  error
		want Code
	}{
		{"empty command", nil, []byte{0x90, 0x00}, nil, ErrBadAPDU},
		{"3-byte command", []byte{0, 0xA4, 0}, []byte{0x90, 0x00}, nil, ErrBadAPDU},
		{"too long", make([]byte, MaxAPDU+1), []byte{0x90, 0x00}, nil, ErrBadAPDU},
		{"empty response", citycardSelectPSE(), []byte{}, nil, ErrNoResponse},
		{"1-byte response", citycardSelectPSE(), []byte{0x90}, nil, ErrNoResponse},
		{"card removed", citycardSelectPSE(), nil, scard.ErrRemovedCard, ErrRemoved},
		{"transaction failed", citycardSelectPSE(), nil, scard.ErrNotTransacted, ErrRemoved},
		{"pcscd died", citycardSelectPSE(), nil, scard.ErrNoService, ErrNoService},
		{"other program", citycardSelectPSE(), nil, scard.ErrSharingViolation, ErrSharing},
		{"unresponsive", citycardSelectPSE(), nil, scard.ErrUnresponsiveCard, ErrCard},
		{"something else", citycardSelectPSE(), nil, scard.ErrInternalError, ErrPCSC},
	}
	for _, tc := range tests {
		h := &stubHandle{resp: tc.resp, err: tc.err}
		_, err := stubCard(h, T1).Transmit(tc.apdu)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.Reader != cityReader || !strings.Contains(err.Error(), cityReader) {
			t.Errorf("%s: %v does not name the reader", tc.name, err)
		}
		if tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("%s: %v does not wrap %v", tc.name, err, tc.err)
		}
		if tc.want == ErrBadAPDU && len(h.sent) != 0 {
			t.Errorf("%s: sent anyway", tc.name)
		}
	}
	h := &stubHandle{resp: []byte{0x90, 0x00}}
	if resp, err := stubCard(h, T1).Transmit(citycardSelectPSE()); err != nil || !bytes.Equal(resp, []byte{0x90, 0x00}) {
		t.Errorf("plain exchange: % X %v", resp, err)
	}
}

func TestT0DropsLeOfCase4(t *testing.T) {
	case4 := citycardSelectPSE() // 00 A4 04 00 0E name 00
	tests := []struct {
		p    Protocol
		apdu []byte
		want []byte
	}{
		{T0, case4, case4[:len(case4)-1]},
		{T1, case4, case4},
		{T0, []byte{0x00, 0xB0, 0x95, 0x00, 0x1E}, []byte{0x00, 0xB0, 0x95, 0x00, 0x1E}},
		{T0, []byte{0x00, 0xA4, 0x00, 0x00, 0x02, 0x10, 0x01}, []byte{0x00, 0xA4, 0x00, 0x00, 0x02, 0x10, 0x01}},
		{T0, []byte{0x00, 0x36, 0x00, 0x00}, []byte{0x00, 0x36, 0x00, 0x00}},
	}
	for _, tc := range tests {
		h := &stubHandle{resp: []byte{0x90, 0x00}}
		if _, err := stubCard(h, tc.p).Transmit(tc.apdu); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(h.sent[0], tc.want) {
			t.Errorf("%s % X: sent % X, want % X", tc.p, tc.apdu, h.sent[0], tc.want)
		}
	}
}

func TestGone(t *testing.T) {
	gone := []error{
		&Error{Code: ErrRemoved}, &Error{Code: ErrNoResponse}, &Error{Code: ErrNoService},
		fmt.Errorf("citycard: transmit: %w", &Error{Code: ErrNoReader, Err: scard.ErrUnknownReader}),
		scard.ErrCommError, citycard.ErrNoResponse,
	}
	for _, err := range gone {
		if !Gone(err) {
			t.Errorf("Gone(%v) = false", err)
		}
	}
	notGone := []error{citycard.ErrAppLocked, citycard.ErrMalformed, &Error{Code: ErrSharing}, errors.New("x"), nil}
	for _, err := range notGone {
		if Gone(err) {
			t.Errorf("Gone(%v) = true", err)
		}
	}
	if ErrRemoved.Error() != "pcsc: card removed" || Code(200).String() != "code 200" {
		t.Errorf("texts %q %q", ErrRemoved.Error(), Code(200).String())
	}
}

func TestParseATR(t *testing.T) {
	tests := []struct {
		name        string
		atr         []byte
		protocols   string
		hist        string
		contactless bool
		err         bool
	}{
		{"ID card (type B)", samsim.ATR, "[0 1]", "", true, false},
		{"city card (type A)", cardsim.DefaultATR, "[0 1]", "CITYCARD", true, false},
		{"T=0 contact card", []byte{0x3B, 0x02, 0x14, 0x50}, "[]", "\x14\x50", false, false},
		{"type A, one historical byte", []byte{0x3B, 0x81, 0x80, 0x01, 0x80, 0x80}, "[0 1]", "\x80", true, false},
		{"T=1 contact card", []byte{0x3B, 0xF8, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x15, 0x59, 0x75, 0x62, 0x69, 0x6B, 0x65, 0x79, 0x34, 0xD4},
			"[1 1]", "Yubikey4", false, false},
		{"TA TB TC", []byte{0x3B, 0x70, 0x11, 0x00, 0xFF}, "[]", "", false, false},
		{"inverse convention", []byte{0x3F, 0x00}, "[]", "", false, false},
		{"empty", nil, "", "", false, true},
		{"bad TS", []byte{0x3A, 0x00}, "", "", false, true},
		{"interface bytes cut", []byte{0x3B, 0x80}, "", "", false, true},
		{"historical cut", []byte{0x3B, 0x05, 0x01}, "", "", false, true},
		{"TCK missing", []byte{0x3B, 0x80, 0x80, 0x01}, "", "", false, true},
		{"TCK wrong", []byte{0x3B, 0x80, 0x80, 0x01, 0x02}, "", "", false, true},
		{"trailing bytes", []byte{0x3B, 0x00, 0x01, 0x02}, "", "", false, true},
	}
	for _, tc := range tests {
		a, err := ParseATR(tc.atr)
		if tc.err {
			if !errors.Is(err, ErrBadATR) {
				t.Errorf("%s: %v, want ErrBadATR", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if fmt.Sprint(a.Protocols) != tc.protocols || string(a.Historical) != tc.hist || a.Contactless != tc.contactless {
			t.Errorf("%s: %+v", tc.name, a)
		}
	}
}

// bankCard answers every command 6A 82, like a card with none of our applications.
type bankCard struct{ n int }

func (b *bankCard) Transmit([]byte) ([]byte, error) { b.n++; return []byte{0x6A, 0x82}, nil }

func cityModel(t *testing.T, edit func(*cardsim.Config)) *cardsim.Card {
	t.Helper()
	c := cardsim.Sample()
	if edit != nil {
		edit(&c)
	}
	card, err := cardsim.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return card
}

func TestRead(t *testing.T) {
	uid := []byte{0x5A, 0x3C, 0x0F, 0x1E, 0x2D, 0x4B, 0x69, 0x78}
	tests := []struct {
		name  string
		card  Transmitter
		atr   []byte
		kind  Kind
		apdus int
		app   citycard.App
	}{
		// PSE, 1001 (6A82), MOHURD, 0x15, balance, records 1-3, record 4 (6A83).
		{"city card, MOHURD", cityModel(t, nil), cardsim.DefaultATR, KindCityCard, 9, citycard.AppMOHURD},
		{"city card, 1001 without PSE", cityModel(t, func(c *cardsim.Config) { c.PSE, c.Apps = false, []string{"1001"} }),
			cardsim.DefaultATR, KindCityCard, 9, citycard.AppFile1001},
		{"city card, T-Union", cityModel(t, func(c *cardsim.Config) { c.Apps = []string{string(citycard.AppTUnion)} }),
			cardsim.DefaultATR, KindCityCard, 10, citycard.AppTUnion},
		{"city card, T=0 in 8-byte chunks", cityModel(t, func(c *cardsim.Config) { c.T0, c.Chunk = true, 8 }),
			cardsim.DefaultATR, KindCityCard, 29, citycard.AppMOHURD},
		{"city card with an ID-like ATR", cityModel(t, nil), samsim.ATR, KindCityCard, 10, citycard.AppMOHURD},
		{"ID card", samsim.NewIDCard(uid), samsim.ATR, KindIDCard, 1, ""},
		{"ID card with an unknown ATR", samsim.NewIDCard(uid), nil, KindIDCard, 6, ""},
		{"bank card", &bankCard{}, cardsim.DefaultATR, KindUnknown, 6, ""},
		{"ID card with a 4-byte UID", samsim.NewIDCard(uid[:4]), samsim.ATR, KindUnknown, 7, ""},
	}
	for _, tc := range tests {
		c, err := Read(tc.card, tc.atr)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if c.Kind != tc.kind || c.APDUs != tc.apdus {
			t.Errorf("%s: kind %s, %d APDUs; want %s, %d", tc.name, c.Kind, c.APDUs, tc.kind, tc.apdus)
		}
		switch tc.kind {
		case KindIDCard:
			if !bytes.Equal(c.UID, uid) || c.City != nil {
				t.Errorf("%s: UID % X city %v", tc.name, c.UID, c.City)
			}
		case KindCityCard:
			if c.City == nil || c.City.CardNo != "3104000012345678" || c.City.BalanceFen != 12345 ||
				len(c.City.Records) != 3 || c.City.App != tc.app || c.UID != nil {
				t.Errorf("%s: %+v", tc.name, c.City)
			}
		}
	}
}

func TestReadFaults(t *testing.T) {
	// Garbage status word on the balance: a city card that answers badly, the data before kept.
	card := cityModel(t, nil)
	card.Inject(cardsim.Fault{On: cardsim.CmdBalance, SW: 0x6F00})
	c, err := Read(card, cardsim.DefaultATR)
	if !errors.Is(err, citycard.ErrNoDiagnosis) || Gone(err) || c.Kind != KindCityCard || c.City == nil || c.City.CardNo == "" {
		t.Errorf("garbage SW: %v %v", c, err)
	}
	// A locked purse: a city card whose purse cannot be selected is not recognised as one.
	locked := cityModel(t, func(c *cardsim.Config) { c.Locked = true })
	if c, err := Read(locked, cardsim.DefaultATR); err != nil || c.Kind != KindUnknown {
		t.Errorf("locked purse: %v %v", c, err)
	}
	// Leaving mid-read: Gone, for that read only.
	card = cityModel(t, nil)
	card.Inject(cardsim.Fault{On: cardsim.CmdReadRecord, Skip: 1, Leave: true})
	c, err = Read(card, cardsim.DefaultATR)
	if !Gone(err) || c.Kind != KindCityCard || c.City == nil || len(c.City.Records) != 1 {
		t.Errorf("left mid-read: %v %v", c, err)
	}
	card.Reinsert()
	if c, err := Read(card, cardsim.DefaultATR); err != nil || c.Kind != KindCityCard {
		t.Errorf("next read: %v %v", c, err)
	}
	// The ID card leaving during the UID request.
	id := samsim.NewIDCard(make([]byte, 8))
	id.Leave()
	if _, err := Read(id, samsim.ATR); !Gone(err) {
		t.Errorf("ID card left: %v", err)
	}
	// A PC/SC error on the first command.
	h := &stubHandle{err: scard.ErrRemovedCard}
	if _, err := Read(stubCard(h, T1), nil); !errors.Is(err, ErrRemoved) || len(h.sent) != 1 {
		t.Errorf("removed: %v after %d commands", err, len(h.sent))
	}
}

func TestContentsMasked(t *testing.T) {
	c, err := Read(cityModel(t, nil), cardsim.DefaultATR)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("read", "card", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), logged.String()} {
		if strings.Contains(s, "3104000012345678") || !strings.Contains(s, "3104********5678") {
			t.Errorf("not masked: %s", s)
		}
	}
}
