package samsim_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/idcard"
	"citizenhome/devices/idcard/samsim"
)

// wire talks raw bytes to a Sim over net.Pipe.
type wire struct {
	t   *testing.T
	c   net.Conn
	dec *idcard.Decoder
}

func serve(t *testing.T, sim *samsim.Sim) *wire {
	t.Helper()
	a, b := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, b) }()
	t.Cleanup(func() {
		cancel()
		a.Close()
		b.Close()
		<-done
	})
	return &wire{t: t, c: a, dec: idcard.NewDecoder(a)}
}

// ask sends raw bytes and returns the next whole reply frame as sent by the sim.
func (w *wire) ask(b []byte) []byte {
	w.t.Helper()
	w.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := w.c.Write(b); err != nil {
		w.t.Fatal(err)
	}
	body, err := w.dec.Next()
	if err != nil {
		w.t.Fatal(err)
	}
	f, _ := idcard.EncodeFrame(body)
	return f
}

func pre(b ...byte) []byte { return append([]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69}, b...) }

func TestSimReferenceReplies(t *testing.T) {
	sim := samsim.New()
	sim.SetReadDelay(0, 0)
	w := serve(t, sim)
	if got := w.ask(idcard.CmdSAMStatus.Encode()); !bytes.Equal(got, pre(0x00, 0x04, 0x00, 0x00, 0x90, 0x94)) {
		t.Errorf("status: % X", got)
	}
	if got := w.ask(idcard.CmdFind.Encode()); !bytes.Equal(got, pre(0x00, 0x04, 0x00, 0x00, 0x80, 0x84)) {
		t.Errorf("find without card: % X", got)
	}
	p, _ := samsim.Sample("adult")
	if err := sim.PlacePerson(p); err != nil {
		t.Fatal(err)
	}
	if got := w.ask(idcard.CmdFind.Encode()); !bytes.Equal(got, pre(0x00, 0x08, 0x00, 0x00, 0x9F, 0, 0, 0, 0, 0x97)) {
		t.Errorf("find: % X", got)
	}
	want := pre(append(append([]byte{0x00, 0x0C, 0x00, 0x00, 0x90}, make([]byte, 8)...), 0x9C)...)
	if got := w.ask(idcard.CmdSelect.Encode()); !bytes.Equal(got, want) {
		t.Errorf("select: % X", got)
	}
	got := w.ask(idcard.CmdRead.Encode())
	if len(got) != 1295 || got[5] != 0x05 || got[6] != 0x08 || got[10] != 0x01 || got[12] != 0x04 {
		t.Errorf("read: %d bytes, header % X", len(got), got[:14])
	}
	got = w.ask(idcard.CmdReadWithPrint.Encode())
	// Text starts at 16 after a third (zero) length; 王 is U+738B.
	if len(got) != 1297 || got[14] != 0 || got[15] != 0 || got[16] != 0x8B || got[17] != 0x73 {
		t.Errorf("read with fingerprint: %d bytes, header % X", len(got), got[:18])
	}
	// A command with a bad checksum or length gets the SAM's own complaint.
	if got := w.ask(pre(0x00, 0x03, 0x20, 0x01, 0x21)); got[9] != byte(idcard.ErrCommandChecksum) {
		t.Errorf("bad checksum: % X", got)
	}
	if got := w.ask(pre(0x00, 0x02, 0x20, 0x22)); got[9] != byte(idcard.ErrCommandLength) {
		t.Errorf("bad length: % X", got)
	}
	if got := w.ask(append([]byte{0x13, 0x37, 0xAA}, idcard.CmdSAMStatus.Encode()...)); got[9] != 0x90 {
		t.Errorf("noise before a command: % X", got)
	}
	if sim.Count(idcard.CmdFind) != 2 || sim.Count(0) != 7 {
		t.Errorf("counts: find %d, all %d", sim.Count(idcard.CmdFind), sim.Count(0))
	}
}

func TestSimFaultTimes(t *testing.T) {
	sim := samsim.New()
	w := serve(t, sim)
	sim.Inject(samsim.Fault{Kind: samsim.FaultStatus, Cmd: idcard.CmdSAMStatus, Status: idcard.ErrSelfTest, Times: 2})
	sim.Inject(samsim.Fault{Kind: samsim.FaultStatus, Status: idcard.ErrUnknown, Times: -1})
	for i, want := range []idcard.Status{idcard.ErrSelfTest, idcard.ErrSelfTest, idcard.ErrUnknown, idcard.ErrUnknown} {
		if got := w.ask(idcard.CmdSAMStatus.Encode()); got[9] != byte(want) {
			t.Errorf("%d: % X, want %v", i, got, want)
		}
	}
	sim.ClearFaults()
	if got := w.ask(idcard.CmdSAMStatus.Encode()); got[9] != 0x90 {
		t.Errorf("after clear: % X", got)
	}
}

func TestSimHalt(t *testing.T) {
	sim := samsim.New()
	sim.SetReadDelay(0, 0)
	sim.SetHaltAfterRead(true)
	w := serve(t, sim)
	p, _ := samsim.Sample("hmt")
	if err := sim.PlacePerson(p); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		cmd  idcard.Command
		want byte
	}{
		{idcard.CmdRead, 0x41}, {idcard.CmdSelect, 0x81}, {idcard.CmdFind, 0x9F}, {idcard.CmdSelect, 0x90},
		{idcard.CmdRead, 0x90}, {idcard.CmdFind, 0x80}, {idcard.CmdResetSAM, 0x90}, {idcard.CmdFind, 0x80},
	} {
		if got := w.ask(step.cmd.Encode()); got[9] != step.want {
			t.Errorf("%v: %02X, want %02X", step.cmd, got[9], step.want)
		}
	}
	if !sim.Present() {
		t.Error("a halted card is still present")
	}
	sim.Remove()
	if sim.Present() {
		t.Error("removed card present")
	}
}

func TestSamples(t *testing.T) {
	keys := map[string]idcard.CardType{"elder": idcard.Resident, "adult": idcard.Resident, "foreigner": idcard.Foreigner, "hmt": idcard.HMT}
	at := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	for key, typ := range keys {
		p, err := samsim.Sample(key)
		if err != nil {
			t.Fatal(err)
		}
		id, err := p.Identity()
		if err != nil || id.Type != typ || !id.ValidAt(at) {
			t.Errorf("%s: %v %v valid %v", key, err, id.Type, id.ValidAt(at))
		}
		if strings.Contains(p.String(), p.Name) {
			t.Errorf("%s: String leaks the name", key)
		}
	}
	ages := map[string]int{"elder": 70, "adult": 35}
	for key, want := range ages {
		p, _ := samsim.Sample(key)
		id, _ := p.Identity()
		if got := id.Age(at); got != want {
			t.Errorf("%s is %d, want %d", key, got, want)
		}
	}
	if _, err := samsim.Sample("nobody"); err == nil {
		t.Error("unknown sample")
	}
}

func TestParsePeopleErrors(t *testing.T) {
	good := `{"key":"x","type":"resident","name":"李秀英","sex":"女","nation":"汉","birth":"1956-03-08","number":"410204195603080026","authority":"a","valid_from":"2016-03-20","valid_to":"长期"}`
	if _, err := samsim.ParsePeople([]byte(`{"people":[` + good + `]}`)); err != nil {
		t.Fatalf("good: %v", err)
	}
	bad := map[string]string{
		"check digit":    strings.Replace(good, "0026", "0025", 1),
		"unknown key":    strings.Replace(good, `"key"`, `"kee"`, 1),
		"unknown type":   strings.Replace(good, "resident", "alien", 1),
		"bad date":       strings.Replace(good, "1956-03-08", "1956-3-8", 1),
		"unknown sex":    strings.Replace(good, `"女"`, `"F"`, 1),
		"unknown nation": strings.Replace(good, `"汉"`, `"火星"`, 1),
	}
	for name, p := range bad {
		if _, err := samsim.ParsePeople([]byte(`{"people":[` + p + `]}`)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestIDCardAPDUs(t *testing.T) {
	card := samsim.NewIDCard([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	tests := []struct {
		apdu []byte
		want []byte
	}{
		{[]byte{0x00, 0x36, 0x00, 0x00, 0x08}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00}},
		{[]byte{0x00, 0x36, 0x00, 0x00, 0x00}, []byte{0x6C, 0x08}},
		{[]byte{0x00, 0x36, 0x00, 0x01, 0x08}, []byte{0x6B, 0x00}},
		{[]byte{0x00, 0x36, 0x00, 0x00}, []byte{0x67, 0x00}},
		{[]byte{0x00, 0xB0, 0x00, 0x00, 0x08}, []byte{0x6D, 0x00}},
		{[]byte{0x80, 0x36, 0x00, 0x00, 0x08}, []byte{0x6E, 0x00}},
		{[]byte{0x00}, []byte{0x67, 0x00}},
	}
	for _, tt := range tests {
		got, err := card.Transmit(tt.apdu)
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("% X: % X %v, want % X", tt.apdu, got, err, tt.want)
		}
	}
	if !bytes.Equal(card.ATR(), []byte{0x3B, 0x80, 0x80, 0x01, 0x01}) {
		t.Errorf("ATR % X", card.ATR())
	}
	card.Leave()
	if got, err := card.Transmit(tests[0].apdu); err != nil || len(got) != 0 {
		t.Errorf("leaving: % X %v", got, err)
	}
	if _, err := card.Transmit(tests[0].apdu); !errors.Is(err, samsim.ErrRemoved) {
		t.Errorf("gone: %v", err)
	}
}

func TestServeEndsWithTheLine(t *testing.T) {
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- samsim.New().Serve(context.Background(), b) }()
	a.Close()
	if err := <-done; !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("Serve returned %v", err)
	}
}
