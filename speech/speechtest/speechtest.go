// Package speechtest checks, for tests of any package, that bytes are spoken: a 16-bit PCM WAV
// of speech of a plausible length, not silence, not a tone, not noise. It also synthesises clips
// for tests that need a real voice, and writes WAV files of any layout.
package speechtest

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"testing"
	"time"

	"citizenhome/speech"
)

// Thresholds, tuned on espeak-ng's announcements (hall/voice) and checked against silence, tones,
// swept and amplitude-modulated tones, and white noise (speechtest_test.go).
const (
	frame = 20 * time.Millisecond
	// A frame sounds when its RMS reaches this (about -40 dBFS).
	activeRMS = 330.0
	// At least this share of the frames sound: speech with its pauses, not a click in silence.
	minActive = 0.3
	// Speech has gaps between words and loud and soft syllables: the RMS of the frames varies
	// (coefficient of variation over all frames) ...
	minLoudnessVariation = 0.35
	// ... and voiced sounds alternate with fricatives and bursts: the zero-crossing rate of the
	// sounding frames varies too, where a tone's or noise's hardly does.
	minCrossingVariation = 0.4
)

// NeedEngine skips t when espeak-ng is not installed, or fails it under CI=true, where
// scripts/deps.sh test has installed it.
func NeedEngine(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath(speech.Engine); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not installed (CI=true: run scripts/deps.sh test)", speech.Engine)
	}
	t.Skipf("%s not installed; skipped (scripts/deps.sh test installs it)", speech.Engine)
}

// Synthesize synthesises clips into a temporary folder removed after t, for tests that need a
// real voice (espeak-ng makes about twenty clips a second). It calls NeedEngine first.
func Synthesize(t testing.TB, clips []speech.Clip) string {
	t.Helper()
	NeedEngine(t)
	dir := t.TempDir()
	if err := speech.Synthesize(dir, clips); err != nil {
		t.Fatalf("synthesising the clips: %v", err)
	}
	return dir
}

// PCM is a canonical WAV file of integer PCM data in any layout, those speech.Decode refuses
// included (24-bit, six channels): a test writes with it what a hall's recorder might.
func PCM(channels, rate, bits int, data []byte) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WAVEfmt ")
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*channels*bits/8))
	b = binary.LittleEndian.AppendUint16(b, uint16(channels*bits/8))
	b = binary.LittleEndian.AppendUint16(b, uint16(bits))
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

// Speech fails t unless wav is a 16-bit PCM WAV of speech lasting min..max (see Check).
func Speech(t testing.TB, wav []byte, min, max time.Duration) {
	t.Helper()
	if err := Check(wav, min, max); err != nil {
		t.Fatal(err)
	}
}

// Stats are the measures Check judges by.
type Stats struct {
	Duration           time.Duration
	Active             float64 // share of 20 ms frames that sound
	LoudnessVariation  float64 // coefficient of variation of the frames' RMS
	CrossingsVariation float64 // coefficient of variation of the sounding frames' zero-crossing rates
}

// Measure decodes wav and measures it; it fails only when wav is no WAV speech.Decode reads.
func Measure(wav []byte) (*speech.Audio, Stats, error) {
	a, err := speech.Decode(wav)
	if err != nil {
		return nil, Stats{}, err
	}
	st := Stats{Duration: a.Duration()}
	n := int(int64(a.Rate) * int64(frame) / int64(time.Second))
	m := mono(a)
	var rms, zcr []float64
	active := 0
	for i := 0; i+n <= len(m); i += n {
		var sum float64
		cross := 0
		for j, v := range m[i : i+n] {
			sum += v * v
			if j > 0 && (v >= 0) != (m[i+j-1] >= 0) {
				cross++
			}
		}
		r := math.Sqrt(sum / float64(n))
		rms = append(rms, r)
		if r >= activeRMS {
			active++
			zcr = append(zcr, float64(cross)/float64(n))
		}
	}
	if len(rms) > 0 {
		st.Active = float64(active) / float64(len(rms))
	}
	st.LoudnessVariation = cv(rms)
	st.CrossingsVariation = cv(zcr)
	return a, st, nil
}

// Check returns nil when wav is a 16-bit PCM WAV lasting min..max whose sound is speech-like:
// enough 20 ms frames above -40 dBFS, varying in loudness and in zero-crossing rate. Silence, a
// click, a steady or swept tone, an amplitude-modulated tone and white noise all fail it.
func Check(wav []byte, min, max time.Duration) error {
	a, st, err := Measure(wav)
	if err != nil {
		return fmt.Errorf("speechtest: not a WAV: %w", err)
	}
	switch {
	case a.Bits != 16:
		return fmt.Errorf("speechtest: %d-bit samples, want 16-bit PCM", a.Bits)
	case st.Duration < min || st.Duration > max:
		return fmt.Errorf("speechtest: lasts %v, want %v..%v", st.Duration, min, max)
	case st.Active < minActive:
		return fmt.Errorf("speechtest: %.0f%% of 20 ms frames sound, want %.0f%%: silence, not speech (%+v)", 100*st.Active, 100*minActive, st)
	case st.LoudnessVariation < minLoudnessVariation:
		return fmt.Errorf("speechtest: loudness varies by %.2f, want %.2f: a steady sound, not speech (%+v)", st.LoudnessVariation, minLoudnessVariation, st)
	case st.CrossingsVariation < minCrossingVariation:
		return fmt.Errorf("speechtest: zero-crossing rate varies by %.2f, want %.2f: a tone or noise, not speech (%+v)", st.CrossingsVariation, minCrossingVariation, st)
	}
	return nil
}

func mono(a *speech.Audio) []float64 {
	out := make([]float64, a.Frames())
	for i := range out {
		for c := 0; c < a.Channels; c++ {
			out[i] += float64(a.Samples[i*a.Channels+c])
		}
		out[i] /= float64(a.Channels)
	}
	return out
}

// cv is the coefficient of variation (standard deviation over mean), 0 for no values or mean 0.
func cv(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var mean float64
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if mean == 0 {
		return 0
	}
	var v float64
	for _, x := range xs {
		v += (x - mean) * (x - mean)
	}
	return math.Sqrt(v/float64(len(xs))) / mean
}
