package subfont

import (
	"bytes"
	"errors"
	"testing"

	gotext "github.com/go-text/typesetting/font"
	"golang.org/x/image/font/sfnt"
)

// FuzzSubset feeds SubsetFace arbitrary bytes, as a misconfigured or damaged font file would:
// it must return an *Error or a font that is at most a bounded multiple of the input, whose
// checksums are right, that Subset reads back unchanged, and that x/image/font/sfnt and go-text
// (Fyne's parser) parse whenever they parsed the input. Each input is cut as the first face
// and as the face of family "Beta Sans" (a face of the synthetic collection). The checked-in
// corpus holds small subsets of the Droid font (composite glyphs, format 4 and 12 cmaps); the
// synthetic TrueType and CFF fonts (CID-keyed and name-keyed, each charset and FDSelect
// format, hint masks, subroutines to renumber or to keep) and a collection of both are added
// here.
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
	for _, mod := range []func(*synthCFF){
		nil,
		func(s *synthCFF) { s.charsetFormat, s.fdSelect0 = 0, true },
		func(s *synthCFF) { s.charsetFormat = 1 },
		func(s *synthCFF) { s.nameKeyed = true },
		func(s *synthCFF) { s.nameKeyed, s.charsetFormat = true, -1 },
		func(s *synthCFF) { s.hints, s.padSubrs = true, 1300 },
		func(s *synthCFF) { s.indirect = true },
	} {
		s := defaultCFF()
		if mod != nil {
			mod(&s)
		}
		f.Add(s.build())
	}
	beta := defaultCFF()
	beta.family, beta.typoFamily = "Beta Sans Bold", "Beta Sans"
	f.Add(collection(defaultSynth().build(), beta.build()))
	f.Add([]byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x0c"))
	f.Add([]byte("OTTO\x00\x00\x00\x00\x00\x00\x00\x00"))
	odd := func(r rune) bool { return r%2 == 1 }
	f.Fuzz(func(t *testing.T, data []byte) {
		_, inputErr := sfnt.Parse(data)
		for _, c := range []struct {
			family string
			keep   func(rune) bool
		}{{"", nil}, {"", odd}, {"Beta Sans", odd}} {
			out, err := SubsetFace(data, c.family, c.keep)
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
			// go-text is not run on the input: some damaged fonts make it allocate gigabytes.
			if _, err := gotext.ParseTTF(bytes.NewReader(out)); inputErr == nil && err != nil {
				t.Fatalf("x/image/font/sfnt parses the input, go-text cannot parse the subset: %v", err)
			}
		}
	})
}
