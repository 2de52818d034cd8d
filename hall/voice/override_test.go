package voice

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"citizenhome/speech"
)

// The hall's own clip is the one spoken: the announcement starts, after its lead-in, with exactly
// the hall's recording as prepare makes it, and the other clips are the synthesised ones.
func TestHallClipIsSpoken(t *testing.T) {
	synth, hall := clipsDir(t), t.TempDir()
	// The hall's 请: a 16-bit stereo recording at 48 kHz of a different word, 窗口.
	b, err := os.ReadFile(filepath.Join(synth, "zh", "chuangkou.wav"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := speech.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	up := speech.Resample(a.Samples, a.Rate, 48000)
	st := make([]int16, 0, 2*len(up))
	for _, v := range up {
		st = append(st, v/2, v/2)
	}
	rec := speech.Encode(st, 48000)
	binary.LittleEndian.PutUint16(rec[22:], 2)         // channels
	binary.LittleEndian.PutUint32(rec[24:], 48000)     // rate
	binary.LittleEndian.PutUint32(rec[28:], 48000*2*2) // bytes per second
	binary.LittleEndian.PutUint16(rec[32:], 4)         // block align
	if err := os.MkdirAll(filepath.Join(hall, "zh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hall, "zh", "qing.wav"), rec, 0o644); err != nil {
		t.Fatal(err)
	}
	ra, err := speech.Decode(rec)
	if err != nil || ra.Channels != 2 || ra.Rate != 48000 {
		t.Fatalf("the recording: %+v, %v", ra, err)
	}
	want, err := speech.Prepare(ra)
	if err != nil {
		t.Fatal(err)
	}

	v, err := New(hall, synth)
	if err != nil {
		t.Fatal(err)
	}
	wav, err := v.Announce("A012", "3")
	if err != nil {
		t.Fatal(err)
	}
	out, err := speech.Decode(wav)
	if err != nil {
		t.Fatal(err)
	}
	lead := speech.Rate * leadMs / 1000
	if got := out.Samples[lead : lead+len(want)]; !slices.Equal(got, want) {
		t.Fatal("the announcement does not start with the hall's 请")
	}
	// Then a word's gap and the synthesised letter A.
	gap := speech.Rate * int(word) / 1000
	letter, _ := v.set.Samples("zh/letter-a")
	if src, _ := v.Source("zh/letter-a"); !slices.Equal(out.Samples[lead+len(want)+gap:][:len(letter)], letter) || src != filepath.Join(synth, "zh", "letter-a.wav") {
		t.Fatal("the synthesised A does not follow the hall's 请")
	}
	if !slices.Equal(out.Samples[lead+len(want):lead+len(want)+gap], make([]int16, gap)) {
		t.Fatal("no silent gap between the words")
	}
}
