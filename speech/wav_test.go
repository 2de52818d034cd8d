package speech_test

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"time"

	"citizenhome/speech"
)

// wavFile assembles a RIFF/WAVE file from chunks, each given as id and body (padded as the format
// wants); riff overrides the RIFF size when not negative.
type chunk struct {
	id   string
	body []byte
	size int // the declared size when > 0, else len(body)
}

func wavFile(riff int, cs ...chunk) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range cs {
		b = append(b, c.id...)
		n := len(c.body)
		if c.size > 0 {
			n = c.size
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
		b = append(b, c.body...)
		if len(c.body)%2 == 1 && c.size == 0 {
			b = append(b, 0)
		}
	}
	if riff < 0 {
		riff = len(b) - 8
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(riff))
	return b
}

func fmtBody(tag, ch, rate, bits int) []byte {
	f := make([]byte, 16)
	binary.LittleEndian.PutUint16(f[0:], uint16(tag))
	binary.LittleEndian.PutUint16(f[2:], uint16(ch))
	binary.LittleEndian.PutUint32(f[4:], uint32(rate))
	binary.LittleEndian.PutUint32(f[8:], uint32(rate*ch*bits/8))
	binary.LittleEndian.PutUint16(f[12:], uint16(ch*bits/8))
	binary.LittleEndian.PutUint16(f[14:], uint16(bits))
	return f
}

func extensibleBody(ch, rate, bits, valid int, subtype byte) []byte {
	f := fmtBody(0xFFFE, ch, rate, bits)
	f = binary.LittleEndian.AppendUint16(f, 22)
	f = binary.LittleEndian.AppendUint16(f, uint16(valid))
	f = binary.LittleEndian.AppendUint32(f, 4) // channel mask: front centre
	return append(f, subtype, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71)
}

func le16(s ...int16) []byte {
	var b []byte
	for _, v := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

func TestDecodeReadsTheFormats(t *testing.T) {
	cases := []struct {
		name string
		file []byte
		want speech.Audio
	}{
		{"16-bit mono", wavFile(-1, chunk{id: "fmt ", body: fmtBody(1, 1, 22050, 16)}, chunk{id: "data", body: le16(1, -2, 32767, -32768)}),
			speech.Audio{Rate: 22050, Channels: 1, Bits: 16, Samples: []int16{1, -2, 32767, -32768}}},
		{"8-bit stereo, unsigned widened", wavFile(-1, chunk{id: "fmt ", body: fmtBody(1, 2, 8000, 8)}, chunk{id: "data", body: []byte{128, 0, 255, 129}}),
			speech.Audio{Rate: 8000, Channels: 2, Bits: 8, Samples: []int16{0, -32768, 127 << 8, 1 << 8}}},
		{"other chunks skipped, odd one padded", wavFile(-1, chunk{id: "LIST", body: []byte("INFOx")}, chunk{id: "fmt ", body: fmtBody(1, 1, 44100, 16)},
			chunk{id: "fact", body: []byte{1, 0, 0, 0}}, chunk{id: "data", body: le16(7)}),
			speech.Audio{Rate: 44100, Channels: 1, Bits: 16, Samples: []int16{7}}},
		{"extensible PCM", wavFile(-1, chunk{id: "fmt ", body: extensibleBody(2, 48000, 16, 16, 1)}, chunk{id: "data", body: le16(3, 4)}),
			speech.Audio{Rate: 48000, Channels: 2, Bits: 16, Samples: []int16{3, 4}}},
		{"RIFF size past the end (streamed)", wavFile(0x7fffffff, chunk{id: "fmt ", body: fmtBody(1, 1, 16000, 16)}, chunk{id: "data", body: le16(5, 6)}),
			speech.Audio{Rate: 16000, Channels: 1, Bits: 16, Samples: []int16{5, 6}}},
		{"bytes after the RIFF chunk ignored", append(wavFile(-1, chunk{id: "fmt ", body: fmtBody(1, 1, 16000, 16)}, chunk{id: "data", body: le16(5)}), "junk"...),
			speech.Audio{Rate: 16000, Channels: 1, Bits: 16, Samples: []int16{5}}},
		{"empty data", wavFile(-1, chunk{id: "fmt ", body: fmtBody(1, 1, 16000, 16)}, chunk{id: "data"}),
			speech.Audio{Rate: 16000, Channels: 1, Bits: 16, Samples: []int16{}}},
	}
	for _, c := range cases {
		a, err := speech.Decode(c.file)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if a.Rate != c.want.Rate || a.Channels != c.want.Channels || a.Bits != c.want.Bits || !slices.Equal(a.Samples, c.want.Samples) {
			t.Errorf("%s: got %+v, want %+v", c.name, *a, c.want)
		}
	}
}

func TestDecodeRefusesBrokenFiles(t *testing.T) {
	good := fmtBody(1, 1, 22050, 16)
	badAlign := fmtBody(1, 2, 22050, 16)
	badAlign[12] = 2
	cases := []struct {
		name string
		file []byte
		want error
	}{
		{"empty", nil, speech.ErrTruncated},
		{"half a header", []byte("RIFF\x10\x00"), speech.ErrTruncated},
		{"text", []byte("this is not a sound, it is a note about one"), speech.ErrNotWAV},
		{"RIFF of another form", []byte("RIFF\x04\x00\x00\x00AVI LIST"), speech.ErrNotWAV},
		{"no fmt", wavFile(-1), speech.ErrTruncated},
		{"no data", wavFile(-1, chunk{id: "fmt ", body: good}), speech.ErrTruncated},
		{"data cut short", wavFile(-1, chunk{id: "fmt ", body: good}, chunk{id: "data", body: le16(1, 2), size: 400}), speech.ErrTruncated},
		{"data ends inside a frame", wavFile(-1, chunk{id: "fmt ", body: good}, chunk{id: "data", body: []byte{1, 2, 3}}), speech.ErrTruncated},
		{"chunk past the end", wavFile(-1, chunk{id: "fmt ", body: good}, chunk{id: "LIST", body: []byte{1}, size: 1 << 30}), speech.ErrTruncated},
		{"fmt cut short", wavFile(-1, chunk{id: "fmt ", body: good[:12], size: 16}), speech.ErrTruncated},
		{"fmt too small", wavFile(-1, chunk{id: "fmt ", body: good[:14]}, chunk{id: "data", body: le16(1)}), speech.ErrCorrupt},
		{"data before fmt", wavFile(-1, chunk{id: "data", body: le16(1)}, chunk{id: "fmt ", body: good}), speech.ErrCorrupt},
		{"two fmt", wavFile(-1, chunk{id: "fmt ", body: good}, chunk{id: "fmt ", body: good}, chunk{id: "data", body: le16(1)}), speech.ErrCorrupt},
		{"block align", wavFile(-1, chunk{id: "fmt ", body: badAlign}, chunk{id: "data", body: le16(1, 2)}), speech.ErrCorrupt},
		{"RIFF size under its header", append([]byte("RIFF\x02\x00\x00\x00WAVE"), wavFile(-1, chunk{id: "fmt ", body: good})[12:]...), speech.ErrCorrupt},
		{"float", wavFile(-1, chunk{id: "fmt ", body: fmtBody(3, 1, 22050, 32)}, chunk{id: "data", body: make([]byte, 8)}), speech.ErrUnsupported},
		{"ADPCM", wavFile(-1, chunk{id: "fmt ", body: fmtBody(2, 1, 22050, 4)}, chunk{id: "data", body: make([]byte, 8)}), speech.ErrUnsupported},
		{"24-bit", wavFile(-1, chunk{id: "fmt ", body: fmtBody(1, 1, 22050, 24)}, chunk{id: "data", body: make([]byte, 6)}), speech.ErrUnsupported},
		{"6 channels", wavFile(-1, chunk{id: "fmt ", body: fmtBody(1, 6, 22050, 16)}, chunk{id: "data", body: make([]byte, 12)}), speech.ErrUnsupported},
		{"0 channels", wavFile(-1, chunk{id: "fmt ", body: fmtBody(1, 0, 22050, 16)}, chunk{id: "data"}), speech.ErrUnsupported},
		{"rate 0", wavFile(-1, chunk{id: "fmt ", body: fmtBody(1, 1, 0, 16)}, chunk{id: "data", body: le16(1)}), speech.ErrUnsupported},
		{"rate 1 MHz", wavFile(-1, chunk{id: "fmt ", body: fmtBody(1, 1, 1000000, 16)}, chunk{id: "data", body: le16(1)}), speech.ErrUnsupported},
		{"extensible float", wavFile(-1, chunk{id: "fmt ", body: extensibleBody(1, 22050, 32, 32, 3)}, chunk{id: "data", body: make([]byte, 4)}), speech.ErrUnsupported},
		{"extensible 12 valid bits of 16", wavFile(-1, chunk{id: "fmt ", body: extensibleBody(1, 22050, 16, 12, 1)}, chunk{id: "data", body: le16(1)}), speech.ErrUnsupported},
		{"extensible too short", wavFile(-1, chunk{id: "fmt ", body: extensibleBody(1, 22050, 16, 16, 1)[:30]}, chunk{id: "data", body: le16(1)}), speech.ErrCorrupt},
	}
	for _, c := range cases {
		a, err := speech.Decode(c.file)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, %v; want %v", c.name, a, err, c.want)
			continue
		}
		var e *speech.Error
		if !errors.As(err, &e) || e.Detail == "" {
			t.Errorf("%s: %v is not a *speech.Error with a detail", c.name, err)
		}
		t.Logf("%s: %v", c.name, err)
	}
}

func TestEncodeDecodes(t *testing.T) {
	s := []int16{0, 1, -1, 32767, -32768, 1234}
	b := speech.Encode(s, speech.Rate)
	if len(b) != 44+2*len(s) {
		t.Fatalf("%d bytes", len(b))
	}
	a, err := speech.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != speech.Rate || a.Channels != 1 || a.Bits != 16 || !slices.Equal(a.Samples, s) {
		t.Fatalf("round trip: %+v", *a)
	}
	if d := a.Duration(); d != time.Duration(len(s))*time.Second/speech.Rate {
		t.Fatalf("duration %v", d)
	}
}

// FuzzDecode: no input panics; every error is a *speech.Error with
// a code; every success is self-consistent, holds no more samples than the input has bytes for,
// and survives Encode.
func FuzzDecode(f *testing.F) {
	good := fmtBody(1, 1, 22050, 16)
	f.Add(wavFile(-1, chunk{id: "fmt ", body: good}, chunk{id: "data", body: le16(1, -2, 3)}))
	f.Add(wavFile(-1, chunk{id: "fmt ", body: fmtBody(1, 2, 8000, 8)}, chunk{id: "data", body: []byte{1, 2, 3, 4}}))
	f.Add(wavFile(-1, chunk{id: "LIST", body: []byte("INFOx")}, chunk{id: "fmt ", body: extensibleBody(2, 48000, 16, 16, 1)}, chunk{id: "data", body: le16(3, 4)}))
	f.Add(wavFile(0x7fffffff, chunk{id: "fmt ", body: good}, chunk{id: "data", body: le16(1), size: 100}))
	f.Add(speech.Encode([]int16{5, 6, 7}, 16000))
	f.Add([]byte("RIFF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := speech.Decode(b)
		if err != nil {
			var e *speech.Error
			if !errors.As(err, &e) || e.Code == "" || a != nil {
				t.Fatalf("error %v (%T) with audio %v", err, err, a)
			}
			return
		}
		if a.Channels != 1 && a.Channels != 2 || a.Bits != 8 && a.Bits != 16 || a.Rate < speech.MinRate || a.Rate > speech.MaxRate {
			t.Fatalf("decoded an unsupported format: %d ch, %d bits, %d Hz", a.Channels, a.Bits, a.Rate)
		}
		if len(a.Samples)%a.Channels != 0 || len(a.Samples)*a.Bits/8 > len(b) {
			t.Fatalf("%d samples of %d channels from %d bytes", len(a.Samples), a.Channels, len(b))
		}
		mono := make([]int16, 0, a.Frames())
		for i := 0; i < len(a.Samples); i += a.Channels {
			mono = append(mono, a.Samples[i])
		}
		again, err := speech.Decode(speech.Encode(mono, a.Rate))
		if err != nil || !slices.Equal(again.Samples, mono) || again.Rate != a.Rate {
			t.Fatalf("re-encoded audio does not decode the same: %v", err)
		}
	})
}
