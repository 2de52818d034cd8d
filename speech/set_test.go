package speech_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"citizenhome/speech"
)

// word is a short "clip": a tone under an envelope, with silence around it that Prepare trims.
func word(hz float64) []byte {
	s := make([]int16, speech.Rate/2)
	for i := speech.Rate / 10; i < 2*speech.Rate/5; i++ {
		s[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/speech.Rate))
	}
	return speech.Encode(s, speech.Rate)
}

func write(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	p := filepath.Join(dir, name+".wav")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A set made by Index joins the same sentence as one loaded whole, the hall's folder first; it
// reads the files at each Join, so a clip broken or removed since shows then.
func TestIndexJoinsAsLoad(t *testing.T) {
	hall, synth := t.TempDir(), t.TempDir()
	clips := []speech.Clip{{Name: "zh/a"}, {Name: "zh/b"}, {Name: "zh/c"}}
	write(t, synth, "zh/a", word(300))
	write(t, synth, "zh/b", word(500))
	write(t, hall, "zh/b", word(700)) // the hall's own
	parts := []speech.Part{{Clip: "zh/a", Before: 100 * time.Millisecond}, {Clip: "zh/b", Before: 60 * time.Millisecond}, {Clip: "zh/a"}}
	var out [2][]int16
	for i, load := range []func([]string, []speech.Clip) (*speech.Set, error){speech.Load, speech.Index} {
		s, err := load([]string{"", hall, filepath.Join(hall, "none"), synth}, clips)
		if err != nil {
			t.Fatal(err)
		}
		if m := s.Missing(); !slices.Equal(m, []string{"zh/c"}) {
			t.Fatalf("missing %v", m)
		}
		if p, _ := s.Source("zh/b"); p != filepath.Join(hall, "zh/b.wav") {
			t.Fatalf("zh/b from %s", p)
		}
		if out[i], err = s.Join(parts, 150*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Join([]speech.Part{{Clip: "zh/c"}}, 0); !errors.Is(err, speech.ErrMissingClip) {
			t.Fatalf("a missing clip: %v", err)
		}
	}
	if !slices.Equal(out[0], out[1]) {
		t.Fatal("Index and Load join differently")
	}
	a, _ := speech.Decode(word(300))
	pa, _ := speech.Prepare(a)
	n := func(d time.Duration) int { return int(int64(speech.Rate) * int64(d) / int64(time.Second)) }
	b, _ := speech.Decode(word(700))
	pb, _ := speech.Prepare(b)
	var want []int16
	want = append(append(want, make([]int16, n(100*time.Millisecond))...), pa...)
	want = append(append(want, make([]int16, n(60*time.Millisecond))...), pb...)
	want = append(append(want, pa...), make([]int16, n(150*time.Millisecond))...)
	if !slices.Equal(out[0], want) {
		t.Fatal("the sentence is not a, the hall's b and a with their silences")
	}

	idx, err := speech.Index([]string{hall, synth}, clips)
	if err != nil {
		t.Fatal(err)
	}
	write(t, hall, "zh/b", []byte("RIFF"))
	if _, err := idx.Join(parts, 0); !errors.Is(err, speech.ErrTruncated) {
		t.Errorf("a clip broken since: %v", err)
	}
	os.Remove(filepath.Join(synth, "zh/a.wav"))
	if _, ok := idx.Samples("zh/a"); ok {
		t.Error("a removed clip read")
	}
	if _, err := idx.Join(parts[:1], 0); !errors.Is(err, speech.ErrMissingClip) {
		t.Errorf("a clip removed since: %v", err)
	}
}
