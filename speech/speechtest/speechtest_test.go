package speechtest_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"citizenhome/speech"
	"citizenhome/speech/speechtest"
)

const rate = speech.Rate

// signal makes d of samples from f(t seconds).
func signal(d time.Duration, f func(t float64) float64) []byte {
	n := int(d.Seconds() * rate)
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(max(-32768, min(32767, math.Round(f(float64(i)/rate)))))
	}
	return speech.Encode(s, rate)
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
		_, st, _ := speechtest.Measure(wav)
		if err := speechtest.Check(wav, time.Second, 6*time.Second); err == nil {
			t.Errorf("%s passed as speech: %+v", name, st)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if err := speechtest.Check([]byte("RIFF0000WAVEjunk"), 0, time.Hour); err == nil {
		t.Error("a broken WAV passed")
	}
}

// TestCheckAcceptsSpeech speaks with espeak-ng directly (not through package speech, whose tests
// use this check) and checks both the verdict and the length bounds.
func TestCheckAcceptsSpeech(t *testing.T) {
	speechtest.NeedEngine(t)
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
		_, st, err := speechtest.Measure(wav)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %+v", c.voice, st)
		if err := speechtest.Check(wav, time.Second, 10*time.Second); err != nil {
			t.Errorf("%s speech rejected: %v", c.voice, err)
		}
		if err := speechtest.Check(wav, st.Duration+time.Second, 20*time.Second); err == nil || !strings.Contains(err.Error(), "lasts") {
			t.Errorf("%s: a too short sound passed: %v", c.voice, err)
		}
		if err := speechtest.Check(wav, 0, st.Duration-100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "lasts") {
			t.Errorf("%s: a too long sound passed: %v", c.voice, err)
		}
	}
}

// Clips synthesised and joined into a sentence are speech; the same clips' parts without
// the words between them are too short for the sentence's bounds.
func TestSynthesizedClipsSpeak(t *testing.T) {
	var clips []speech.Clip
	var parts []speech.Part
	for i, w := range []string{"qing3", "A", "ling2", "yi1", "er4", "hao4", "dao4", "san1", "hao4", "chuang1kou3", "ban4li3"} {
		name := "zh/w" + string(rune('a'+i))
		clips = append(clips, speech.Clip{Name: name, Lang: speech.Chinese, Voice: speech.VoiceChinese, Text: w})
		parts = append(parts, speech.Part{Clip: name, Before: 60 * time.Millisecond})
	}
	set, err := speech.Load([]string{speechtest.Synthesize(t, clips)}, clips)
	if err != nil {
		t.Fatal(err)
	}
	s, err := set.Join(parts, 150*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	speechtest.Speech(t, speech.Encode(s, speech.Rate), time.Second, 6*time.Second)
	if err := speechtest.Check(speech.Encode(s[:speech.Rate/2], speech.Rate), time.Second, 6*time.Second); err == nil {
		t.Error("half a second passed for a sentence of a second or more")
	}
}

func TestPCMDecodes(t *testing.T) {
	a, err := speech.Decode(speechtest.PCM(2, 8000, 8, []byte{128, 0, 255}[:2]))
	if err != nil || a.Channels != 2 || a.Rate != 8000 || a.Bits != 8 || len(a.Samples) != 2 || a.Samples[1] != -32768 {
		t.Fatalf("%+v, %v", a, err)
	}
	if _, err := speech.Decode(speechtest.PCM(1, 48000, 24, make([]byte, 6))); !errors.Is(err, speech.ErrUnsupported) {
		t.Fatalf("24-bit: %v", err)
	}
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
