package voicetest_test

import (
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"citizenhome/hall/voice"
	"citizenhome/hall/voice/voicetest"
)

const rate = voice.Rate

// signal makes d of samples from f(t seconds).
func signal(d time.Duration, f func(t float64) float64) []byte {
	n := int(d.Seconds() * rate)
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(max(-32768, min(32767, math.Round(f(float64(i)/rate)))))
	}
	return voice.Encode(s, rate)
}

func sine(hz float64, t float64) float64 { return math.Sin(2 * math.Pi * hz * t) }

func TestCheckRejectsWhatIsNotSpeech(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func() float64 { return rng.NormFloat64() * 6000 }
	cases := map[string][]byte{
		"silence": signal(3*time.Second, func(float64) float64 { return 0 }),
		"hiss":    signal(3*time.Second, func(float64) float64 { return rng.NormFloat64() * 40 }),
		"click": signal(3*time.Second, func(t float64) float64 {
			if t > 1 && t < 1.01 {
				return 20000
			}
			return 0
		}),
		"tone": signal(3*time.Second, func(t float64) float64 { return 10000 * sine(440, t) }),
		"sweep": signal(3*time.Second, func(t float64) float64 {
			return 10000 * math.Sin(2*math.Pi*(200*t+300*t*t)) // 200 Hz rising to 2 kHz
		}),
		"tremolo": signal(3*time.Second, func(t float64) float64 {
			return 10000 * (0.55 + 0.45*sine(3, t)) * sine(440, t)
		}),
		"beeps": signal(3*time.Second, func(t float64) float64 {
			if math.Mod(t, 0.5) < 0.25 {
				return 12000 * sine(1000, t)
			}
			return 0
		}),
		"noise": signal(3*time.Second, func(float64) float64 { return noise() }),
		"noise bursts": signal(3*time.Second, func(t float64) float64 {
			if math.Mod(t, 0.4) < 0.25 {
				return noise()
			}
			return 0
		}),
	}
	for name, wav := range cases {
		_, st, _ := voicetest.Measure(wav)
		if err := voicetest.Check(wav, time.Second, 6*time.Second); err == nil {
			t.Errorf("%s passed as speech: %+v", name, st)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if err := voicetest.Check([]byte("RIFF0000WAVEjunk"), 0, time.Hour); err == nil {
		t.Error("a broken WAV passed")
	}
}

// TestCheckAcceptsSpeech speaks with espeak-ng directly (not through package voice, whose tests
// use this check) and checks both the verdict and the length bounds.
func TestCheckAcceptsSpeech(t *testing.T) {
	voicetest.NeedEngine(t)
	for _, c := range []struct{ voice, text string }{
		{"cmn-latn-pinyin", "qing3 A ling2 yi1 er4 hao4 dao4 san1 hao4 chuang1kou3 ban4li3"},
		{"en", "Number A zero one two, please go to window three"},
	} {
		out, err := exec.Command("espeak-ng", "-v", c.voice, "--stdout", c.text).Output()
		if err != nil {
			t.Fatal(err)
		}
		// --stdout cannot seek back to fix the sizes: set them as a file would have them.
		wav := fixSizes(out)
		_, st, err := voicetest.Measure(wav)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %+v", c.voice, st)
		if err := voicetest.Check(wav, time.Second, 10*time.Second); err != nil {
			t.Errorf("%s speech rejected: %v", c.voice, err)
		}
		if err := voicetest.Check(wav, st.Duration+time.Second, 20*time.Second); err == nil || !strings.Contains(err.Error(), "lasts") {
			t.Errorf("%s: a too short sound passed: %v", c.voice, err)
		}
		if err := voicetest.Check(wav, 0, st.Duration-100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "lasts") {
			t.Errorf("%s: a too long sound passed: %v", c.voice, err)
		}
	}
}

func TestClipsSpeak(t *testing.T) {
	dir := voicetest.Clips(t, voice.Chinese)
	v, err := voice.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := v.Missing(); m != nil {
		t.Fatalf("missing %v", m)
	}
	wav, err := v.Announce("A012", "3")
	if err != nil {
		t.Fatal(err)
	}
	voicetest.Speech(t, wav, time.Second, 6*time.Second)
}

func fixSizes(b []byte) []byte {
	b = append([]byte(nil), b...)
	put := func(off, v int) {
		b[off], b[off+1], b[off+2], b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	put(4, len(b)-8)
	put(40, len(b)-44)
	return b
}
