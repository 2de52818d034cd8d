package speech

import (
	"errors"
	"math"
	"slices"
	"testing"
)

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
		out := Resample(in, from, Rate)
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
	out, err := Prepare(&Audio{Rate: 44100, Channels: 2, Bits: 16, Samples: st})
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
	loud, err := Prepare(&Audio{Rate: Rate, Channels: 1, Bits: 16, Samples: sineAt(Rate, 300, Rate/2, 32000)})
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
	if _, err := Prepare(&Audio{Rate: Rate, Channels: 1, Bits: 16, Samples: sineAt(Rate, 300, Rate, 100)}); !errors.Is(err, ErrSilent) {
		t.Errorf("a clip under the floor: %v", err)
	}
	if _, err := Prepare(&Audio{Rate: Rate, Channels: 1, Bits: 16}); !errors.Is(err, ErrSilent) {
		t.Errorf("an empty clip: %v", err)
	}
}
