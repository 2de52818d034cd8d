package idcard_test

import (
	"bytes"
	"errors"
	"testing"

	"citizenhome/devices/idcard"
	"citizenhome/devices/idcard/samsim"
)

func FuzzDecodeFrame(f *testing.F) {
	for _, c := range []idcard.Command{idcard.CmdFind, idcard.CmdSelect, idcard.CmdRead, idcard.CmdSAMStatus} {
		f.Add(c.Encode())
	}
	ok, _ := idcard.EncodeReply(idcard.StatusFound, make([]byte, 4))
	f.Add(ok)
	f.Add(append([]byte{0x00, 0xAA, 0xAA}, ok...))
	f.Add(pre(0x00, 0x03, 0x20, 0x01, 0x21))
	f.Add(pre(0x05, 0x08, 0x00))
	f.Fuzz(func(t *testing.T, b []byte) {
		body, n, err := idcard.DecodeFrame(b)
		if err == nil {
			if n < 7+idcard.MinLen || n > len(b) {
				t.Fatalf("used %d of %d", n, len(b))
			}
			again, err := idcard.EncodeFrame(body)
			if err != nil || !bytes.Equal(again, b[:n]) {
				t.Fatalf("re-encoding differs: %v", err)
			}
			if rep, err := idcard.ParseReply(body); err == nil {
				_ = rep.Err()
				_, _, _ = idcard.SplitRead(rep.Data)
			}
		} else {
			var fe *idcard.FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("untyped error %v", err)
			}
		}
		// The stream decoder must end on any input, and find every frame DecodeFrame finds.
		d := idcard.NewDecoder(bytes.NewReader(b))
		for i := 0; ; i++ {
			got, err := d.Next()
			if i == 0 && n > 0 && (err != nil || !bytes.Equal(got, body)) {
				t.Fatalf("decoder missed the frame at 0: %v", err)
			}
			if err != nil && !errors.Is(err, idcard.ErrBadLength) && !errors.Is(err, idcard.ErrChecksum) {
				break
			}
			if i > len(b) {
				t.Fatal("decoder does not end")
			}
		}
	})
}

func FuzzDecodeText(f *testing.F) {
	for _, p := range samsim.Samples() {
		id, err := p.Identity()
		if err != nil {
			f.Fatal(err)
		}
		text, err := idcard.EncodeText(id)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(text)
	}
	f.Add(make([]byte, idcard.TextSize))
	f.Add([]byte(residentBlock().put(122, 36, "410204195603080025")))
	f.Add([]byte(foreignerBlock()))
	f.Add([]byte(hmtBlock()))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := idcard.DecodeText(b)
		if err != nil {
			if id != nil {
				t.Fatal("identity with an error")
			}
			return
		}
		if id.Type != idcard.Foreigner {
			if err := idcard.ValidateNumber(id.Number); err != nil {
				t.Fatalf("accepted a bad number: %v", err)
			}
		}
		// What decodes re-encodes to something that decodes the same.
		text, err := idcard.EncodeText(id)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := idcard.DecodeText(text)
		if err != nil || !sameIdentity(*again, *id) {
			t.Fatalf("round trip: %v\n%s\n%s", err, dump(*id), dump(*again))
		}
	})
}
