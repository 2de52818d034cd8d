package idcard_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"citizenhome/devices/idcard"
)

func pre(b ...byte) []byte { return append([]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69}, b...) }

// The command frames of the reference, checksums recomputed there.
func TestCommandEncode(t *testing.T) {
	tests := []struct {
		cmd  idcard.Command
		want []byte
	}{
		{idcard.CmdSAMStatus, pre(0x00, 0x03, 0x11, 0xFF, 0xED)},
		{idcard.CmdSAMID, pre(0x00, 0x03, 0x12, 0xFF, 0xEE)},
		{idcard.CmdResetSAM, pre(0x00, 0x03, 0x10, 0xFF, 0xEC)},
		{idcard.CmdFind, pre(0x00, 0x03, 0x20, 0x01, 0x22)},
		{idcard.CmdSelect, pre(0x00, 0x03, 0x20, 0x02, 0x21)},
		{idcard.CmdRead, pre(0x00, 0x03, 0x30, 0x01, 0x32)},
		{idcard.CmdReadWithPrint, pre(0x00, 0x03, 0x30, 0x10, 0x23)},
		{idcard.CmdReadAddress, pre(0x00, 0x03, 0x30, 0x03, 0x30)},
	}
	for _, tt := range tests {
		if got := tt.cmd.Encode(); !bytes.Equal(got, tt.want) {
			t.Errorf("%v: got % X, want % X", tt.cmd, got, tt.want)
		}
		body, n, err := idcard.DecodeFrame(tt.want)
		if err != nil || n != len(tt.want) {
			t.Fatalf("%v: decode: n=%d err=%v", tt.cmd, n, err)
		}
		cmd, data, err := idcard.ParseCommand(body)
		if err != nil || cmd != tt.cmd || len(data) != 0 {
			t.Errorf("%v: parsed %v %x %v", tt.cmd, cmd, data, err)
		}
	}
}

// Frames hard-coded with wrong checksums in public code must be refused.
func TestWrongReferenceChecksums(t *testing.T) {
	for _, f := range [][]byte{pre(0x00, 0x03, 0x20, 0x01, 0x21), pre(0x00, 0x03, 0x20, 0x00, 0x22)} {
		_, _, err := idcard.DecodeFrame(f)
		var fe *idcard.FrameError
		if !errors.Is(err, idcard.ErrChecksum) || !errors.As(err, &fe) || fe.Got == fe.Want {
			t.Errorf("% X: got %v, want ErrChecksum with got != want", f, err)
		}
	}
}

func TestReplyEncode(t *testing.T) {
	tests := []struct {
		name string
		st   idcard.Status
		data []byte
		want []byte
	}{
		{"status ok", idcard.StatusOK, nil, pre(0x00, 0x04, 0x00, 0x00, 0x90, 0x94)},
		{"find ok", idcard.StatusFound, make([]byte, 4), pre(0x00, 0x08, 0x00, 0x00, 0x9F, 0, 0, 0, 0, 0x97)},
		{"select ok", idcard.StatusOK, make([]byte, 8), pre(append(append([]byte{0x00, 0x0C, 0x00, 0x00, 0x90}, make([]byte, 8)...), 0x9C)...)},
	}
	for _, tt := range tests {
		got, err := idcard.EncodeReply(tt.st, tt.data)
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("%s: got % X (%v), want % X", tt.name, got, err, tt.want)
		}
	}
}

// The read reply of the reference: 1295 bytes, LEN 05 08, lengths at 10-13, text at 14,
// photo at 270, checksum at 1294.
func TestReadReplyLayout(t *testing.T) {
	text := bytes.Repeat([]byte{0x20, 0x00}, 128)
	photo := bytes.Repeat([]byte{0x77}, 1024)
	data := append([]byte{0x01, 0x00, 0x04, 0x00}, text...)
	data = append(data, photo...)
	f, err := idcard.EncodeReply(idcard.StatusOK, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != 1295 || f[5] != 0x05 || f[6] != 0x08 || f[10] != 0x01 || f[11] != 0 || f[12] != 0x04 || f[13] != 0 {
		t.Fatalf("layout: len %d header % X", len(f), f[:14])
	}
	if !bytes.Equal(f[14:270], text) || !bytes.Equal(f[270:1294], photo) {
		t.Fatal("text or photo not at offsets 14 and 270")
	}
	body, n, err := idcard.DecodeFrame(f)
	if err != nil || n != 1295 {
		t.Fatalf("decode: %d %v", n, err)
	}
	rep, err := idcard.ParseReply(body)
	if err != nil || rep.Err() != nil {
		t.Fatalf("reply: %v %v", err, rep.Err())
	}
	gt, gp, err := idcard.SplitRead(rep.Data)
	if err != nil || !bytes.Equal(gt, text) || !bytes.Equal(gp, photo) {
		t.Fatalf("split: %v", err)
	}
}

func TestSplitReadErrors(t *testing.T) {
	ok := append([]byte{0x01, 0x00, 0x00, 0x02}, make([]byte, 258)...)
	tests := map[string][]byte{
		"empty":        nil,
		"three bytes":  {1, 0, 4},
		"short":        ok[:len(ok)-1],
		"long":         append(bytes.Clone(ok), 0),
		"text not 256": append([]byte{0x00, 0xFF, 0x00, 0x00}, make([]byte, 255)...),
		// b[0] << 8 + b[1] read with C precedence would be 1 << 8 = 256 for 00 01 00 00 ...
		"precedence trap": append([]byte{0x01, 0x01, 0x00, 0x00}, make([]byte, 256)...),
	}
	for name, data := range tests {
		if _, _, err := idcard.SplitRead(data); !errors.Is(err, idcard.ErrBadLength) {
			t.Errorf("%s: got %v, want ErrBadLength", name, err)
		}
	}
	if _, _, err := idcard.SplitRead(ok); err != nil {
		t.Errorf("ok: %v", err)
	}
}

func TestDecodeFrameErrors(t *testing.T) {
	good, _ := idcard.EncodeReply(idcard.StatusOK, []byte{1, 2, 3})
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, idcard.ErrShortFrame},
		{"preamble start", []byte{0xAA, 0xAA}, idcard.ErrShortFrame},
		{"noise", []byte{0x01, 0x02}, idcard.ErrNoPreamble},
		{"no preamble", []byte{0xAA, 0xAA, 0xAA, 0x96, 0x68, 0, 3, 1, 2, 3}, idcard.ErrNoPreamble},
		{"preamble only", pre(), idcard.ErrShortFrame},
		{"half length", pre(0x00), idcard.ErrShortFrame},
		{"body cut", good[:len(good)-1], idcard.ErrShortFrame},
		{"len zero", pre(0x00, 0x00, 0x00), idcard.ErrBadLength},
		{"len two", pre(0x00, 0x02, 0x11, 0x13), idcard.ErrBadLength},
		{"len huge", pre(0xFF, 0xFF, 0x00), idcard.ErrBadLength},
		{"checksum", append(bytes.Clone(good[:len(good)-1]), good[len(good)-1]^1), idcard.ErrChecksum},
	}
	for _, tt := range tests {
		_, _, err := idcard.DecodeFrame(tt.b)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	// Bytes after the frame are left for the caller.
	body, n, err := idcard.DecodeFrame(append(bytes.Clone(good), 0xAA, 0x01))
	if err != nil || n != len(good) || !bytes.Equal(body, []byte{0, 0, 0x90, 1, 2, 3}) {
		t.Errorf("trailing: %x %d %v", body, n, err)
	}
}

func TestParseReply(t *testing.T) {
	if _, err := idcard.ParseReply([]byte{0, 0}); !errors.Is(err, idcard.ErrBadLength) {
		t.Errorf("short: %v", err)
	}
	if _, err := idcard.ParseReply([]byte{0, 1, 0x90}); !errors.Is(err, idcard.ErrReplyHeader) {
		t.Errorf("sw2: %v", err)
	}
	rep, err := idcard.ParseReply([]byte{0, 0, 0x80})
	if err != nil || !errors.Is(rep.Err(), idcard.ErrNoCard) {
		t.Errorf("no card: %v %v", err, rep.Err())
	}
	if _, _, err := idcard.ParseCommand([]byte{0x20}); !errors.Is(err, idcard.ErrBadLength) {
		t.Errorf("command: %v", err)
	}
}

func TestFrameRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 255, 256, 1287, idcard.MaxLen - 1} {
		body := make([]byte, n)
		for i := range body {
			body[i] = byte(rng.UintN(256))
		}
		f, err := idcard.EncodeFrame(body)
		if err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		if n+1 < idcard.MinLen {
			if _, _, err := idcard.DecodeFrame(f); !errors.Is(err, idcard.ErrBadLength) {
				t.Errorf("%d: want ErrBadLength, got %v", n, err)
			}
			continue
		}
		got, used, err := idcard.DecodeFrame(f)
		if err != nil || used != len(f) || !bytes.Equal(got, body) {
			t.Errorf("%d: round trip failed: %v", n, err)
		}
	}
	if _, err := idcard.EncodeFrame(make([]byte, idcard.MaxLen)); !errors.Is(err, idcard.ErrBadLength) {
		t.Errorf("oversize: %v", err)
	}
	if _, err := idcard.EncodeFrame(nil); !errors.Is(err, idcard.ErrBadLength) {
		t.Errorf("empty: %v", err)
	}
}

func TestDecoderResync(t *testing.T) {
	a, _ := idcard.EncodeReply(idcard.StatusOK, []byte{0xAA, 0xAA, 0xAA, 0x96, 0x69}) // a preamble inside data
	b := idcard.CmdFind.Encode()
	badSum := bytes.Clone(b)
	badSum[len(badSum)-1] ^= 0xFF
	var stream []byte
	stream = append(stream, 0x00, 0xAA, 0xAA, 0x13, 0xAA, 0xAA, 0xAA, 0x96) // noise, false starts
	stream = append(stream, a...)
	stream = append(stream, pre(0xFF, 0xFF)...) // bad length
	stream = append(stream, badSum...)
	stream = append(stream, 0xAA) // one stray byte before the real preamble
	stream = append(stream, b...)
	stream = append(stream, b[:8]...) // cut short at the end

	for _, name := range []string{"whole", "byte by byte"} {
		var r io.Reader = bytes.NewReader(stream)
		if name != "whole" {
			r = iotest.OneByteReader(r)
		}
		d := idcard.NewDecoder(r)
		body, err := d.Next()
		if err != nil || !bytes.Equal(body, []byte{0, 0, 0x90, 0xAA, 0xAA, 0xAA, 0x96, 0x69}) {
			t.Fatalf("%s: first: % X %v", name, body, err)
		}
		if d.Skipped() != 8 {
			t.Errorf("%s: skipped %d, want 8", name, d.Skipped())
		}
		if _, err := d.Next(); !errors.Is(err, idcard.ErrBadLength) {
			t.Fatalf("%s: second: %v", name, err)
		}
		if _, err := d.Next(); !errors.Is(err, idcard.ErrChecksum) {
			t.Fatalf("%s: third: %v", name, err)
		}
		body, err = d.Next()
		if err != nil || !bytes.Equal(body, []byte{0x20, 0x01}) {
			t.Fatalf("%s: fourth: % X %v", name, body, err)
		}
		_, err = d.Next()
		if !errors.Is(err, idcard.ErrShortFrame) || !errors.Is(err, io.EOF) {
			t.Fatalf("%s: end: %v, want ErrShortFrame and io.EOF", name, err)
		}
		if _, err := d.Next(); err != io.EOF {
			t.Fatalf("%s: after end: %v, want io.EOF", name, err)
		}
	}
}

func TestDecoderGivesUpOnNoise(t *testing.T) {
	noise := bytes.Repeat([]byte{0x55, 0xAA}, 100)
	d := idcard.NewDecoder(iotest.OneByteReader(bytes.NewReader(append(noise, idcard.CmdFind.Encode()...))))
	d.MaxSkip = 50
	if _, err := d.Next(); !errors.Is(err, idcard.ErrNoPreamble) {
		t.Fatalf("got %v, want ErrNoPreamble", err)
	}
	d.MaxSkip = 0 // default MaxLen: finds the frame after the rest of the noise
	if body, err := d.Next(); err != nil || !bytes.Equal(body, []byte{0x20, 0x01}) {
		t.Fatalf("got % X %v", body, err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestDecoderNoProgress(t *testing.T) {
	if _, err := idcard.NewDecoder(zeroReader{}).Next(); err != io.ErrNoProgress {
		t.Fatalf("got %v", err)
	}
}

// Every SW3 of the reference is its own error, matched by errors.Is and readable by errors.As.
func TestStatusErrors(t *testing.T) {
	codes := map[byte]idcard.Status{
		0x91: idcard.ErrNoItem, 0x80: idcard.ErrNoCard, 0x81: idcard.ErrSelectFailed,
		0x41: idcard.ErrReadFailed, 0x40: idcard.ErrUnknownCardType, 0x10: idcard.ErrCommandChecksum,
		0x11: idcard.ErrCommandLength, 0x21: idcard.ErrBadCommand, 0x23: idcard.ErrUnauthorized,
		0x24: idcard.ErrUnknown, 0x31: idcard.ErrCardAuth, 0x32: idcard.ErrSAMAuth, 0x33: idcard.ErrVerify,
		0x37: idcard.ErrFingerprint, 0x3F: idcard.ErrInfoLength, 0x47: idcard.ErrRandom,
		0x60: idcard.ErrSelfTest, 0x66: idcard.ErrSAMNotAuthorized,
	}
	for code, want := range codes {
		rep, err := idcard.ParseReply([]byte{0, 0, code})
		if err != nil {
			t.Fatal(err)
		}
		got := rep.Err()
		if !errors.Is(got, want) {
			t.Errorf("%02X: %v is not %v", code, got, want)
		}
		var st idcard.Status
		if !errors.As(got, &st) || byte(st) != code || st.OK() {
			t.Errorf("%02X: As gave %02X", code, byte(st))
		}
		if want.Meaning() == "unknown status" {
			t.Errorf("%02X has no meaning", code)
		}
		for other, ow := range codes {
			if other != code && errors.Is(got, ow) {
				t.Errorf("%02X matches %02X", code, other)
			}
		}
	}
	for _, ok := range []byte{0x90, 0x9F} {
		if rep, _ := idcard.ParseReply([]byte{0, 0, ok}); rep.Err() != nil {
			t.Errorf("%02X: %v", ok, rep.Err())
		}
	}
	if idcard.Status(0x55).Meaning() != "unknown status" {
		t.Error("0x55 should be unknown")
	}
}

// Error texts name the command and the fault, never a value from the card.
func TestErrorTexts(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{idcard.ErrNoCard, "idcard: SAM status 0x80: no card (find failed)"},
		{&idcard.CommandError{Cmd: idcard.CmdFind, Err: idcard.ErrNoCard}, "idcard: find: SAM status 0x80: no card (find failed)"},
		{&idcard.CommandError{Cmd: idcard.CmdRead, Err: idcard.ErrTimeout}, "idcard: read: reader did not answer in time"},
		{&idcard.CommandError{Cmd: idcard.Command(0x4242), Err: idcard.ErrTimeout}, "idcard: command 4242: reader did not answer in time"},
		{&idcard.FrameError{Err: idcard.ErrChecksum, Got: 0x21, Want: 0x22}, "idcard: frame checksum mismatch (got 0x21, want 0x22)"},
		{&idcard.FrameError{Err: idcard.ErrShortFrame, Got: -1, Cause: io.EOF}, "idcard: short frame: EOF"},
		{&idcard.StatusWordError{SW: 0x6D00}, "idcard: card status word 6D00"},
		{&idcard.FieldError{Field: "number", Err: idcard.ErrCheckDigit}, "idcard: text field number: ID number check digit is wrong"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	for k := idcard.EventArrived; k <= idcard.EventReaderOK; k++ {
		if k.String() == "unknown" {
			t.Errorf("event %d has no name", k)
		}
	}
}
