package voice

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// say renders tokens as "qing A 0 1 2 hao …": clip words without their language, pauses as ",".
func say(toks []token) string {
	var w []string
	for _, t := range toks {
		if t.clip == "" {
			w = append(w, ",")
			continue
		}
		name := t.clip[strings.Index(t.clip, "/")+1:]
		name = strings.TrimPrefix(strings.TrimPrefix(name, "digit-"), "letter-")
		w = append(w, name)
	}
	return strings.Join(w, " ")
}

func TestWordsReadCodesAndWindows(t *testing.T) {
	cases := []struct{ code, window, want string }{
		{"A012", "3", "qing a 0 1 2 hao dao 3 hao chuangkou banli"},
		{"A012", "10", "qing a 0 1 2 hao dao shi hao chuangkou banli"},
		{"A012", "12", "qing a 0 1 2 hao dao shi 2 hao chuangkou banli"},
		{"A012", "20", "qing a 0 1 2 hao dao 2 shi hao chuangkou banli"},
		{"A012", "21", "qing a 0 1 2 hao dao 2 shi 1 hao chuangkou banli"},
		{"A012", "99", "qing a 0 1 2 hao dao 9 shi 9 hao chuangkou banli"},
		{"B999", "100", "qing b 9 9 9 hao dao 1 0 0 hao chuangkou banli"},
		{"B999", "03", "qing b 9 9 9 hao dao 0 3 hao chuangkou banli"},
		{"b999", "0", "qing b 9 9 9 hao dao 0 hao chuangkou banli"},
		{" D007 ", " VIP-2 ", "qing d 0 0 7 hao dao v i p , 2 hao chuangkou banli"},
	}
	for _, c := range cases {
		toks, err := words(c.code, c.window, false)
		if err != nil {
			t.Errorf("%q at %q: %v", c.code, c.window, err)
			continue
		}
		if got := say(toks); got != c.want {
			t.Errorf("%q at %q: %q, want %q", c.code, c.window, got, c.want)
		}
		for _, tk := range toks {
			if tk.clip != "" && !strings.HasPrefix(tk.clip, "zh/") {
				t.Errorf("%q at %q: English clip %s in the Mandarin sentence", c.code, c.window, tk.clip)
			}
		}
	}
}

func TestWordsInEnglish(t *testing.T) {
	toks, err := words("A012", "12", true)
	if err != nil {
		t.Fatal(err)
	}
	want := "qing a 0 1 2 hao dao shi 2 hao chuangkou banli , number a 0 1 2 , please-go-to window 1 2"
	if got := say(toks); got != want {
		t.Fatalf("%q\nwant %q", got, want)
	}
	var pauses []pause
	for _, tk := range toks {
		if tk.clip == "" {
			pauses = append(pauses, tk.pause)
		}
	}
	if !slices.Equal(pauses, []pause{sentence, comma}) {
		t.Fatalf("pauses %v", pauses)
	}
}

func TestWordsRefuse(t *testing.T) {
	for _, c := range []struct {
		code, window string
		want         error
	}{
		{"", "3", ErrInvalid},
		{"A012", "  ", ErrInvalid},
		{"A01#", "3", ErrUnspeakable},
		{"A012", "三", ErrUnspeakable},
		{"Ａ012", "3", ErrUnspeakable}, // full-width A
	} {
		_, err := words(c.code, c.window, true)
		if !errors.Is(err, c.want) {
			t.Errorf("%q at %q: %v, want %v", c.code, c.window, err, c.want)
		}
	}
}

// Every clip a sentence can name exists in the table, and every clip in the table is used.
func TestClipsCoverTheSentences(t *testing.T) {
	all, err := Clips()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, c := range all {
		if names[c.Name] {
			t.Errorf("clip %s twice", c.Name)
		}
		names[c.Name] = true
	}
	if len(all) != 2*(10+26)+6+3 {
		t.Errorf("%d clips", len(all))
	}
	used := map[string]bool{}
	for _, code := range []string{"ABCDEFGHIJKLM0123456789", "NOPQRSTUVWXYZ"} {
		for _, w := range []string{"3", "12", "20"} {
			toks, err := words(code, w, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range toks {
				if tk.clip != "" {
					if !names[tk.clip] {
						t.Errorf("sentence names %s, which Clips lacks", tk.clip)
					}
					used[tk.clip] = true
				}
			}
		}
	}
	for n := range names {
		if !used[n] {
			t.Errorf("clip %s is never spoken", n)
		}
	}
	if _, err := Clips("fr"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Clips(fr): %v", err)
	}
}

func sineAt(rate int, hz float64, n int, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return s
}

func crossings(s []int16) int {
	n := 0
	for i := 1; i < len(s); i++ {
		if (s[i] >= 0) != (s[i-1] >= 0) {
			n++
		}
	}
	return n
}

func TestResampleKeepsPitchAndLength(t *testing.T) {
	for _, from := range []int{8000, 16000, 22050, 44100, 48000} {
		in := sineAt(from, 440, from, 10000) // one second
		out := resample(in, from, Rate)
		if len(out) != Rate {
			t.Errorf("%d Hz: %d samples, want %d", from, len(out), Rate)
		}
		// 440 Hz crosses zero 880 times a second, whatever the rate.
		if c := crossings(out); c < 875 || c > 885 {
			t.Errorf("%d Hz: %d zero crossings, want 880", from, c)
		}
	}
}

func TestMonoAverages(t *testing.T) {
	got := mono(&Audio{Rate: 8000, Channels: 2, Bits: 16, Samples: []int16{100, 300, -32768, -32768, 32767, -32768}})
	if !slices.Equal(got, []int16{200, -32768, 0}) {
		t.Fatal(got)
	}
}

func TestPrepareTrimsAndLevels(t *testing.T) {
	ms := func(n int) int { return 44100 * n / 1000 }
	word := sineAt(44100, 300, ms(400), 3000) // a quiet 400 ms "word"
	var s []int16
	s = append(s, make([]int16, ms(500))...)
	s = append(s, word...)
	s = append(s, make([]int16, ms(700))...)
	// stereo at 44.1 kHz, the same in both channels, plus a little noise under the floor
	st := make([]int16, 0, 2*len(s))
	for i, v := range s {
		n := int16(i%7 - 3)
		st = append(st, v+n, v-n)
	}
	out, err := prepare(&Audio{Rate: 44100, Channels: 2, Bits: 16, Samples: st})
	if err != nil {
		t.Fatal(err)
	}
	d := float64(len(out)) / Rate
	if d < 0.39 || d > 0.44 {
		t.Errorf("trimmed to %.3f s, want the 400 ms word and its margins", d)
	}
	peak := 0
	for _, v := range out {
		peak = max(peak, abs(int(v)))
	}
	if want := 3000 * maxGain; float64(peak) < want*0.95 || float64(peak) > want*1.01 {
		t.Errorf("peak %d, want %.0f (quiet clips raised by maxGain)", peak, want)
	}
	loud, err := prepare(&Audio{Rate: Rate, Channels: 1, Bits: 16, Samples: sineAt(Rate, 300, Rate/2, 32000)})
	if err != nil {
		t.Fatal(err)
	}
	peak = 0
	for _, v := range loud {
		peak = max(peak, abs(int(v)))
	}
	if float64(peak) > peakTarget*1.01 || float64(peak) < peakTarget*0.98 {
		t.Errorf("loud clip peak %d, want %.0f", peak, peakTarget)
	}
	if _, err := prepare(&Audio{Rate: Rate, Channels: 1, Bits: 16, Samples: sineAt(Rate, 300, Rate, 100)}); !errors.Is(err, ErrSilent) {
		t.Errorf("a clip under the floor: %v", err)
	}
	if _, err := prepare(&Audio{Rate: Rate, Channels: 1, Bits: 16}); !errors.Is(err, ErrSilent) {
		t.Errorf("an empty clip: %v", err)
	}
}

func TestLRUEvictsTheLeastRecent(t *testing.T) {
	c := newLRU(2)
	c.put("a", []byte("1"))
	c.put("b", []byte("2"))
	c.get("a")
	c.put("c", []byte("3")) // evicts b, used least recently
	if _, ok := c.get("b"); ok {
		t.Error("b kept")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	c.put("a", []byte("4"))
	if v, _ := c.get("a"); string(v) != "4" || c.order.Len() != 2 {
		t.Errorf("replace: %q, %d entries", v, c.order.Len())
	}
}
