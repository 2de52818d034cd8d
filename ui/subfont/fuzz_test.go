package subfont

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/image/font/sfnt"
)

// FuzzSubset feeds Subset arbitrary bytes, as a misconfigured or damaged font file would: it
// must return an *Error or a font that is at most a bounded multiple of the input, whose
// checksums are right, that Subset reads back unchanged, and that x/image/font/sfnt parses
// whenever it parsed the input. The checked-in corpus holds small subsets of the Droid font
// (composite glyphs, format 4 and 12 cmaps); the synthetic fonts are added here.
func FuzzSubset(f *testing.F) {
	for _, mod := range []func(*synthFont){
		nil,
		func(s *synthFont) { s.longLoca = true },
		func(s *synthFont) { s.nhm = 1 },
		func(s *synthFont) { s.extra = nil },
	} {
		s := defaultSynth()
		if mod != nil {
			mod(&s)
		}
		f.Add(s.build())
	}
	f.Add([]byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x0c"))
	f.Add([]byte("OTTO\x00\x00\x00\x00\x00\x00\x00\x00"))
	odd := func(r rune) bool { return r%2 == 1 }
	f.Fuzz(func(t *testing.T, data []byte) {
		_, inputErr := sfnt.Parse(data)
		for _, keep := range []func(rune) bool{nil, odd} {
			out, err := Subset(data, keep)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Code == CodeUnknown || out != nil {
					t.Fatalf("error %v (%T) with %d bytes of output", err, err, len(out))
				}
				continue
			}
			if len(out) > 16*len(data)+1<<16 {
				t.Fatalf("%d bytes in, %d out", len(data), len(out))
			}
			checkChecksums(t, out)
			again, err := Subset(out, nil)
			if err != nil {
				t.Fatalf("the subset does not read back: %v", err)
			}
			if !bytes.Equal(again, out) {
				t.Fatal("subsetting the subset with every rune kept changed it")
			}
			if _, err := sfnt.Parse(out); inputErr == nil && err != nil {
				t.Fatalf("x/image/font/sfnt parses the input but not the subset: %v", err)
			}
		}
	})
}
