package citycard_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
)

func newCard(t *testing.T, edit func(*cardsim.Config)) *cardsim.Card {
	t.Helper()
	cfg := cardsim.Sample()
	if edit != nil {
		edit(&cfg)
	}
	c, err := cardsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReadSample(t *testing.T) {
	card := newCard(t, nil)
	info, err := citycard.Read(card)
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	if info.CardNo != "3104000012345678" || info.MaskedCardNo() != "3104********5678" ||
		info.Issuer != "4750000000000000" || info.App != citycard.AppMOHURD || info.AppType != citycard.AppEP ||
		info.Version != 1 || info.BalanceFen != 12345 ||
		!info.ValidFrom.Equal(day("2020-01-01")) || !info.ValidTo.Equal(day("2030-12-31")) {
		t.Errorf("info: %+v", fieldsOf(info))
	}
	if len(info.Records) != 3 {
		t.Fatalf("%d records", len(info.Records))
	}
	r := info.Records[0]
	want := time.Date(2026, 11, 20, 8, 31, 5, 0, citycard.ChinaTime)
	if r.Serial != 12 || r.AmountFen != 200 || r.Type != citycard.TxPurchase || r.Type.String() != "purchase" ||
		r.Terminal != "475000000101" || !r.Time.Equal(want) || r.Time.Format(time.RFC3339) != "2026-11-20T08:31:05+08:00" {
		t.Errorf("record 0: %+v", r)
	}
	if info.Records[1].Type != citycard.TxLoad || info.Records[2].Type != citycard.TxCompoundPurchase {
		t.Errorf("types %v %v", info.Records[1].Type, info.Records[2].Type)
	}
}

func fieldsOf(i *citycard.Info) string {
	return fmt.Sprint(i.CardNo, i.Issuer, string(i.App), i.AppType, i.Version, i.BalanceFen, i.ValidFrom, i.ValidTo)
}

func kinds(card *cardsim.Card) []cardsim.Command {
	var k []cardsim.Command
	for _, a := range card.Log() {
		k = append(k, cardsim.Classify(a))
	}
	return k
}

func TestSelectPaths(t *testing.T) {
	const (
		pse  = cardsim.CmdSelectPSE
		mf   = cardsim.CmdSelectMF
		f1   = cardsim.CmdSelect1001
		moh  = cardsim.CmdSelectMOHURD
		tu   = cardsim.CmdSelectTUnion
		none = citycard.App("")
	)
	tests := []struct {
		name    string
		pse     bool
		apps    []string
		locked  bool
		want    citycard.App
		sent    []cardsim.Command
		wantErr []error
	}{
		{"PSE then 1001", true, []string{"1001"}, false, citycard.AppFile1001, []cardsim.Command{pse, f1}, nil},
		{"PSE then MOHURD", true, []string{string(citycard.AppMOHURD)}, false, citycard.AppMOHURD, []cardsim.Command{pse, f1, moh}, nil},
		{"PSE then T-Union", true, []string{string(citycard.AppTUnion)}, false, citycard.AppTUnion, []cardsim.Command{pse, f1, moh, tu}, nil},
		{"1001 wins over AIDs", true, []string{string(citycard.AppTUnion), "1001"}, false, citycard.AppFile1001, []cardsim.Command{pse, f1}, nil},
		{"no PSE: MF", false, []string{"1001"}, false, citycard.AppFile1001, []cardsim.Command{pse, mf, f1}, nil},
		{"no purse", true, nil, false, none, []cardsim.Command{pse, f1, moh, tu},
			[]error{citycard.ErrNoApplication, citycard.ErrFileNotFound}},
		{"locked", true, []string{string(citycard.AppMOHURD)}, true, none, []cardsim.Command{pse, f1, moh, tu},
			[]error{citycard.ErrNoApplication, citycard.ErrAppLocked, citycard.ErrFileNotFound}},
	}
	for _, tt := range tests {
		card := newCard(t, func(c *cardsim.Config) { c.PSE, c.Apps, c.Locked = tt.pse, tt.apps, tt.locked })
		s := citycard.NewSession(card)
		app, err := s.Select()
		if app != tt.want || s.App() != tt.want {
			t.Errorf("%s: app %q, want %q (%v)", tt.name, app, tt.want, err)
		}
		for _, w := range tt.wantErr {
			if !errors.Is(err, w) {
				t.Errorf("%s: %v is not %v", tt.name, err, w)
			}
		}
		if tt.wantErr == nil && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if got := kinds(card); fmt.Sprint(got) != fmt.Sprint(tt.sent) {
			t.Errorf("%s: sent %v, want %v", tt.name, got, tt.sent)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: multi-line error %q", tt.name, err)
		}
	}
}

// In T=0 mode every answer with data comes through 61 xx and GET RESPONSE, in chunks.
func TestGetResponse(t *testing.T) {
	for _, chunk := range []int{0, 7, 1} {
		card := newCard(t, func(c *cardsim.Config) { c.T0, c.Chunk = true, chunk })
		info, err := citycard.Read(card)
		if err != nil {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
		if info.CardNo != "3104000012345678" || info.BalanceFen != 12345 || len(info.Records) != 3 {
			t.Errorf("chunk %d: %v", chunk, fieldsOf(info))
		}
		n := card.Count(cardsim.CmdGetResponse)
		if chunk == 0 && n != 7 { // PSE and MOHURD FCI, 15, balance, 3 records
			t.Errorf("chunk %d: %d GET RESPONSE", chunk, n)
		}
		if chunk == 7 && n <= 7 {
			t.Errorf("chunk %d: %d GET RESPONSE, want a chain", chunk, n)
		}
	}
}

// 6C xx: the command is sent again with Le = xx.
func TestWrongLe(t *testing.T) {
	card := newCard(t, nil)
	// A wrong hint first (6C 05), then the card's own 6C 04 for Le 05, then the data.
	card.Inject(cardsim.Fault{On: cardsim.CmdBalance, SW: 0x6C05})
	info, err := citycard.Read(card)
	if err != nil || info.BalanceFen != 12345 {
		t.Fatalf("%v", err)
	}
	if n := card.Count(cardsim.CmdBalance); n != 3 {
		t.Errorf("%d balance commands, want 3", n)
	}
	// The card model itself answers 6C 1E to a read of SFI 15 with Le 00.
	s := citycard.NewSession(card)
	if _, err := s.Select(); err != nil {
		t.Fatal(err)
	}
	data, err := citycard.Exchange(card, []byte{0x00, 0xB0, 0x95, 0x00, 0x00})
	if err != nil || len(data) != citycard.PublicSize {
		t.Fatalf("Le 00: %d bytes, %v", len(data), err)
	}
	log := card.Log()
	if last := log[len(log)-1]; last[4] != 0x1E {
		t.Errorf("resent % X", last)
	}
}

func TestRecordsEnd(t *testing.T) {
	full := cardsim.Sample().Records[0]
	tests := []struct {
		name     string
		edit     func(*cardsim.Config)
		records  int
		commands int
	}{
		{"6A83 after the last", nil, 3, 4},
		{"zero record after the last", func(c *cardsim.Config) { c.ZeroLogEnd = true }, 3, 4},
		{"empty log", func(c *cardsim.Config) { c.Records = nil }, 0, 1},
		{"full log", func(c *cardsim.Config) {
			c.Records = nil
			for range citycard.MaxRecords {
				c.Records = append(c.Records, full)
			}
		}, 10, 10},
	}
	for _, tt := range tests {
		card := newCard(t, tt.edit)
		info, err := citycard.Read(card)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(info.Records) != tt.records || card.Count(cardsim.CmdReadRecord) != tt.commands {
			t.Errorf("%s: %d records in %d commands", tt.name, len(info.Records), card.Count(cardsim.CmdReadRecord))
		}
	}
}

func TestStatusWordErrors(t *testing.T) {
	words := []citycard.SW{
		citycard.ErrAppLocked, citycard.ErrFileNotFound, citycard.ErrRecordNotFound, citycard.ErrSecurityStatus,
		citycard.ErrConditions, citycard.ErrInsufficientBalance, citycard.ErrKeyLocked, citycard.ErrFunctionUnsupported,
		citycard.ErrMACInvalid, citycard.ErrKeyNotFound, citycard.ErrWrongLength, citycard.ErrWrongP1P2,
		citycard.ErrINSUnsupported, citycard.ErrCLAUnsupported, citycard.ErrWrongData, citycard.ErrNoDiagnosis,
	}
	for _, w := range words {
		card := newCard(t, nil)
		card.Inject(cardsim.Fault{On: cardsim.CmdBalance, SW: uint16(w)})
		info, err := citycard.Read(card)
		var got citycard.SW
		if !errors.Is(err, w) || !errors.As(err, &got) || got != w {
			t.Errorf("%04X: got %v", uint16(w), err)
		}
		if w.Meaning() == "unknown status word" {
			t.Errorf("%04X has no meaning", uint16(w))
		}
		// What was read before the failure is kept.
		if info == nil || info.CardNo != "3104000012345678" || info.Records != nil {
			t.Errorf("%04X: partial info %v", uint16(w), info)
		}
		for _, other := range words {
			if other != w && errors.Is(err, other) {
				t.Errorf("%04X matches %04X", uint16(w), uint16(other))
			}
		}
	}
	// 63 Cx: one sentinel for the family, the count from the word.
	card := newCard(t, nil)
	card.Inject(cardsim.Fault{On: cardsim.CmdReadPublic, SW: 0x63C2})
	info, err := citycard.Read(card)
	var sw citycard.SW
	if info != nil || !errors.Is(err, citycard.ErrVerifyFailed) || !errors.As(err, &sw) {
		t.Fatalf("63C2: %v %v", info, err)
	}
	if n, ok := sw.TriesLeft(); !ok || n != 2 || !strings.Contains(sw.Meaning(), "2 tries") {
		t.Errorf("63C2: %d %v %q", n, ok, sw.Meaning())
	}
	if errors.Is(citycard.SW(0x63C2), citycard.SW(0x63C3)) || errors.Is(citycard.SW(0x6A82), citycard.ErrVerifyFailed) {
		t.Error("63Cx matching too wide")
	}
	if _, ok := citycard.ErrFileNotFound.TriesLeft(); ok {
		t.Error("6A82 has tries left")
	}
	// A record read failing mid-log keeps the records read before it.
	card = newCard(t, nil)
	card.Inject(cardsim.Fault{On: cardsim.CmdReadRecord, Skip: 2, SW: 0x6982})
	info, err = citycard.Read(card)
	if !errors.Is(err, citycard.ErrSecurityStatus) || info == nil || len(info.Records) != 2 || info.BalanceFen != 12345 {
		t.Errorf("record 3 failing: %v, %v", info, err)
	}
}

// A card that leaves mid-command gives an empty response (vpcd), then fails.
func TestCardLeaves(t *testing.T) {
	for _, cmd := range []cardsim.Command{cardsim.CmdSelectPSE, cardsim.CmdSelectMOHURD, cardsim.CmdReadPublic,
		cardsim.CmdBalance, cardsim.CmdReadRecord, cardsim.CmdGetResponse} {
		card := newCard(t, func(c *cardsim.Config) { c.T0 = true })
		card.Inject(cardsim.Fault{On: cmd, Leave: true})
		info, err := citycard.Read(card)
		if !errors.Is(err, citycard.ErrNoResponse) {
			t.Errorf("%s: got %v, want ErrNoResponse", cmd, err)
		}
		if (cmd == cardsim.CmdBalance || cmd == cardsim.CmdReadRecord) != (info != nil) {
			t.Errorf("%s: info %v", cmd, info)
		}
		if _, err := citycard.Read(card); !errors.Is(err, cardsim.ErrRemoved) {
			t.Errorf("%s: next read %v, want ErrRemoved", cmd, err)
		}
		card.Reinsert()
		if _, err := citycard.Read(card); err != nil {
			t.Errorf("%s: after reinsert: %v", cmd, err)
		}
	}
}

// script is a Card answering from a list and recording what it was sent.
type script struct {
	answers [][]byte
	sent    [][]byte
	err     error
}

func (s *script) Transmit(apdu []byte) ([]byte, error) {
	s.sent = append(s.sent, append([]byte(nil), apdu...))
	if s.err != nil {
		return nil, s.err
	}
	if len(s.answers) == 0 {
		return []byte{0x61, 0x02}, nil // a card that never finishes
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a, nil
}

func TestExchange(t *testing.T) {
	h := func(s string) []byte {
		var b []byte
		for _, f := range strings.Fields(s) {
			var v byte
			fmt.Sscanf(f, "%02X", &v)
			b = append(b, v)
		}
		return b
	}
	tests := []struct {
		name    string
		apdu    string
		answers []string
		data    string
		err     error
		sent    []string
	}{
		{"plain", "00 B0 95 00 02", []string{"01 02 90 00"}, "01 02", nil, []string{"00 B0 95 00 02"}},
		{"61 chain", "00 A4 04 00 02 3F 00", []string{"61 02", "01 02 61 01", "03 90 00"}, "01 02 03", nil,
			[]string{"00 A4 04 00 02 3F 00", "00 C0 00 00 02", "00 C0 00 00 01"}},
		{"6C case 2", "00 B0 95 00 00", []string{"6C 1E", "AA 90 00"}, "AA", nil, []string{"00 B0 95 00 00", "00 B0 95 00 1E"}},
		{"6C case 1", "00 84 00 00", []string{"6C 08", "AA 90 00"}, "AA", nil, []string{"00 84 00 00", "00 84 00 00 08"}},
		{"6C case 3", "00 A4 00 00 02 10 01", []string{"6C 12", "AA 90 00"}, "AA", nil, []string{"00 A4 00 00 02 10 01", "00 A4 00 00 02 10 01 12"}},
		{"6C case 4", "00 A4 04 00 01 AB 00", []string{"6C 12", "AA 90 00"}, "AA", nil, []string{"00 A4 04 00 01 AB 00", "00 A4 04 00 01 AB 12"}},
		{"6C then 61", "00 B2 01 C4 00", []string{"6C 17", "61 01", "BB 90 00"}, "BB", nil,
			[]string{"00 B2 01 C4 00", "00 B2 01 C4 17", "00 C0 00 00 01"}},
		{"6C refused twice", "00 B0 95 00 00", []string{"6C 1E", "6C 1E"}, "", citycard.SW(0x6C1E), []string{"00 B0 95 00 00", "00 B0 95 00 1E"}},
		{"6C extended", "00 B0 95 00 00 00 01", []string{"6C 1E"}, "", citycard.SW(0x6C1E), []string{"00 B0 95 00 00 00 01"}},
		{"error with data", "80 5C 00 02 04", []string{"01 94 01"}, "01", citycard.ErrInsufficientBalance, []string{"80 5C 00 02 04"}},
		{"empty", "80 5C 00 02 04", []string{""}, "", citycard.ErrNoResponse, []string{"80 5C 00 02 04"}},
		{"one byte", "80 5C 00 02 04", []string{"90"}, "", citycard.ErrNoResponse, []string{"80 5C 00 02 04"}},
		{"left during GET RESPONSE", "80 5C 00 02 04", []string{"61 04", ""}, "", citycard.ErrNoResponse,
			[]string{"80 5C 00 02 04", "00 C0 00 00 04"}},
	}
	for _, tt := range tests {
		s := &script{}
		for _, a := range tt.answers {
			s.answers = append(s.answers, h(a))
		}
		data, err := citycard.Exchange(s, h(tt.apdu))
		if !bytes.Equal(data, h(tt.data)) || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("%s: % X %v, want % X %v", tt.name, data, err, h(tt.data), tt.err)
		}
		var sent []string
		for _, a := range s.sent {
			sent = append(sent, fmt.Sprintf("% X", a))
		}
		if fmt.Sprint(sent) != fmt.Sprint(tt.sent) {
			t.Errorf("%s: sent %v, want %v", tt.name, sent, tt.sent)
		}
	}
	// A card that keeps answering 61 xx does not hold the caller forever.
	s := &script{}
	if _, err := citycard.Exchange(s, h("00 B0 95 00 1E")); !errors.Is(err, citycard.ErrMalformed) || len(s.sent) > 64 {
		t.Errorf("endless 61: %v after %d commands", err, len(s.sent))
	}
	// The Card's own error comes back wrapped.
	boom := errors.New("reader unplugged")
	if _, err := citycard.Exchange(&script{err: boom}, h("00 B0 95 00 1E")); !errors.Is(err, boom) {
		t.Errorf("transport: %v", err)
	}
	if _, err := citycard.Read(&script{err: boom}); !errors.Is(err, boom) {
		t.Errorf("read: %v", err)
	}
}

func public(edit func(b []byte)) []byte {
	b := []byte{
		0x47, 0x50, 0, 0, 0, 0, 0, 0, // issuer
		0x02, 0x01, // EP, version 1
		0, 0, 0x31, 0x04, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78, // card number
		0x20, 0x20, 0x01, 0x01, 0x20, 0x30, 0x12, 0x31, // dates
		0xAB, 0xCD,
	}
	if edit != nil {
		edit(b)
	}
	return b
}

func TestParsePublic(t *testing.T) {
	p, err := citycard.ParsePublic(public(nil))
	if err != nil {
		t.Fatal(err)
	}
	if p.CardNo != "3104000012345678" || p.Issuer != "4750000000000000" || p.AppType != citycard.AppEP ||
		p.Version != 1 || p.ValidFrom.Format(time.DateOnly) != "2020-01-01" || p.ValidTo.Format(time.DateOnly) != "2030-12-31" ||
		p.IssuerData != [2]byte{0xAB, 0xCD} {
		t.Errorf("%+v", p)
	}
	numbers := map[string]func(b []byte){
		"31040000123456789012": func(b []byte) { copy(b[10:], []byte{0x31, 0x04, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12}) },
		"0000000012345678":     func(b []byte) { copy(b[10:], []byte{0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78}) },
		"12345678":             func(b []byte) { copy(b[10:], []byte{0x12, 0x34, 0x56, 0x78, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}) },
		"123456789":            func(b []byte) { copy(b[10:], []byte{0x12, 0x34, 0x56, 0x78, 0x9F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}) },
	}
	for want, edit := range numbers {
		if p, err := citycard.ParsePublic(public(edit)); err != nil || p.CardNo != want {
			t.Errorf("card number %s: got %q %v", want, p.CardNo, err)
		}
	}
	if p, err := citycard.ParsePublic(append(public(nil), 1, 2, 3)); err != nil || p.CardNo != "3104000012345678" {
		t.Errorf("longer file: %v", err)
	}
	if p, err := citycard.ParsePublic(public(func(b []byte) { copy(b[20:], make([]byte, 8)) })); err != nil || !p.ValidFrom.IsZero() || !p.ValidTo.IsZero() {
		t.Errorf("zero dates: %v", err)
	}
	bad := map[string][]byte{
		"short":           public(nil)[:29],
		"BCD in number":   public(func(b []byte) { b[15] = 0xA0 }),
		"F inside number": public(func(b []byte) { b[12] = 0xF1 }),
		"all-zero number": public(func(b []byte) { copy(b[10:20], make([]byte, 10)) }),
		"31 April":        public(func(b []byte) { copy(b[20:], []byte{0x20, 0x20, 0x04, 0x31}) }),
		"month 13":        public(func(b []byte) { copy(b[24:], []byte{0x20, 0x30, 0x13, 0x01}) }),
		"not BCD date":    public(func(b []byte) { b[21] = 0x2A }),
		"expiry before":   public(func(b []byte) { copy(b[24:], []byte{0x20, 0x19, 0x12, 0x31}) }),
	}
	for name, b := range bad {
		if _, err := citycard.ParsePublic(b); !errors.Is(err, citycard.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		} else if strings.Contains(err.Error(), "3104") {
			t.Errorf("%s: error leaks the number: %v", name, err)
		}
	}
}

func record(edit func(b []byte)) []byte {
	b := []byte{0x00, 0x0C, 0, 0, 0, 0, 0, 0x00, 0xC8, 0x06, 0x47, 0x50, 0, 0, 0x01, 0x01, 0x20, 0x26, 0x11, 0x20, 0x08, 0x31, 0x05}
	if edit != nil {
		edit(b)
	}
	return b
}

func TestParseRecord(t *testing.T) {
	r, err := citycard.ParseRecord(record(nil), nil)
	want := citycard.Record{Serial: 12, AmountFen: 200, Type: citycard.TxPurchase, Terminal: "475000000101",
		Time: time.Date(2026, 11, 20, 8, 31, 5, 0, citycard.ChinaTime)}
	if err != nil || r != want {
		t.Errorf("got %+v %v", r, err)
	}
	r, err = citycard.ParseRecord(record(func(b []byte) { copy(b[2:], []byte{0x01, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF}) }), time.UTC)
	if err != nil || r.Overdraft != 65536 || r.AmountFen != 0xFFFFFFFF || r.Time.Location() != time.UTC {
		t.Errorf("big values: %+v %v", r, err)
	}
	if r, err := citycard.ParseRecord(make([]byte, 23), nil); err != nil || !r.IsZero() {
		t.Errorf("zero record: %+v %v", r, err)
	}
	bad := map[string][]byte{
		"short":     record(nil)[:22],
		"hour 24":   record(func(b []byte) { b[20] = 0x24 }),
		"minute 60": record(func(b []byte) { b[21] = 0x60 }),
		"not BCD":   record(func(b []byte) { b[22] = 0x0A }),
		"30 Feb":    record(func(b []byte) { copy(b[16:], []byte{0x20, 0x26, 0x02, 0x30}) }),
		"zero date": record(func(b []byte) { copy(b[16:], []byte{0, 0, 0, 0}) }),
	}
	for name, b := range bad {
		if _, err := citycard.ParseRecord(b, nil); !errors.Is(err, citycard.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if citycard.TxType(0x42).String() != "unknown-0x42" || citycard.AppType(9).String() != "0x09" || citycard.AppBoth.String() != "ED+EP" {
		t.Error("type names")
	}
}

func TestMaskCardNo(t *testing.T) {
	// 12345678 was ****5678 here and ******** in the kiosk and on receipts: package mask stars
	// a number of 8 digits or fewer whole, everywhere.
	for in, want := range map[string]string{
		"3104000012345678": "3104********5678", "31040000123456789012": "3104************9012",
		"123456789": "1234*6789", "12345678": "********", "1234": "****", "": "",
	} {
		if got := (citycard.Info{CardNo: in}).MaskedCardNo(); got != want {
			t.Errorf("MaskedCardNo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInfoDoesNotLeak(t *testing.T) {
	info, err := citycard.Read(newCard(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("tap", "card", info, "value", *info)
	js, _ := json.Marshal(info)
	outs := []string{logged.String(), string(js), fmt.Sprint([]*citycard.Info{info})}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		outs = append(outs, fmt.Sprintf(verb, info), fmt.Sprintf(verb, *info))
	}
	for _, out := range outs {
		if strings.Contains(out, "00001234") || strings.Contains(out, "3104000012345678") {
			t.Errorf("%q leaks the card number", out)
		}
	}
	if s := info.String(); s != "citycard 3104********5678 (MOHURD)" {
		t.Errorf("String() = %q", s)
	}
	if !strings.Contains(logged.String(), "3104********5678") {
		t.Errorf("log lacks the masked number: %s", logged.String())
	}
}

func TestSWText(t *testing.T) {
	for sw, want := range map[citycard.SW]string{
		0x6A82: "citycard: status word 6A82: file not found",
		0x6110: "citycard: status word 6110: 16 more bytes available",
		0x6C1E: "citycard: status word 6C1E: wrong Le, 30 expected",
		0x63C1: "citycard: status word 63C1: verification failed, 1 tries left",
		0x6283: "citycard: status word 6283: unknown status word",
	} {
		if sw.Error() != want {
			t.Errorf("%q, want %q", sw.Error(), want)
		}
	}
}
