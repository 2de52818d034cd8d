package speech

import "math"

// Rate is the sample rate of every prepared clip and every sentence joined from them (espeak-ng's
// own, so its clips need no resampling).
const Rate = 22050

// Silence and loudness. A 10 ms frame is sound when its RMS reaches silenceFloor or
// silenceRatio of the clip's loudest frame, whichever is higher: the ratio keeps a recording's
// room noise out, the floor keeps dither and hum from counting as a word.
const (
	frameMs      = 10
	silenceFloor = 150.0 // about -47 dBFS
	silenceRatio = 0.015 // -36 dB under the loudest frame: soft consonants stay (the h of 号 is -30 dB)
	trimMargin   = 10    // ms kept either side of the first and last sound, so onsets are not clipped
	peakTarget   = 0.7 * 32767
	maxGain      = 4.0 // a quiet recording is raised at most this much, so its noise stays low
)

// mono mixes the channels of a down to one at a's rate.
func mono(a *Audio) []int16 {
	if a.Channels == 1 {
		return a.Samples
	}
	out := make([]int16, a.Frames())
	for i := range out {
		sum := 0
		for c := 0; c < a.Channels; c++ {
			sum += int(a.Samples[i*a.Channels+c])
		}
		out[i] = int16(sum / a.Channels)
	}
	return out
}

// Resample converts s from rate from to rate to by linear interpolation. Downsampling this way
// folds some energy above the new Nyquist back down; speech has little there, and the clips are
// listened to in a hall, not analysed.
func Resample(s []int16, from, to int) []int16 {
	if from == to || len(s) == 0 {
		return s
	}
	n := int(int64(len(s)) * int64(to) / int64(from))
	out := make([]int16, n)
	step := float64(from) / float64(to)
	for i := range out {
		pos := float64(i) * step
		j := int(pos)
		if j >= len(s)-1 {
			out[i] = s[len(s)-1]
			continue
		}
		f := pos - float64(j)
		out[i] = int16(math.Round(float64(s[j])*(1-f) + float64(s[j+1])*f))
	}
	return out
}

// frameRMS returns the RMS of each whole or final partial frame of n samples.
func frameRMS(s []int16, n int) []float64 {
	var out []float64
	for i := 0; i < len(s); i += n {
		e := min(i+n, len(s))
		var sum float64
		for _, v := range s[i:e] {
			sum += float64(v) * float64(v)
		}
		out = append(out, math.Sqrt(sum/float64(e-i)))
	}
	return out
}

// trim cuts the silence before the first and after the last sounding frame of s (rate Rate),
// keeping trimMargin either side. ok is false when no frame sounds.
func trim(s []int16) (out []int16, ok bool) {
	n := Rate * frameMs / 1000
	rms := frameRMS(s, n)
	loud := 0.0
	for _, r := range rms {
		loud = max(loud, r)
	}
	if loud < silenceFloor {
		return nil, false
	}
	thr := max(silenceFloor, loud*silenceRatio)
	first, last := -1, -1
	for i, r := range rms {
		if r >= thr {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	margin := Rate * trimMargin / 1000
	start := max(0, first*n-margin)
	end := min(len(s), (last+1)*n+margin)
	return s[start:end], true
}

// level scales s so that its peak sits at peakTarget, raising it at most maxGain times: clips
// from espeak-ng and from a hall's own recordings then sound equally loud side by side.
func level(s []int16) []int16 {
	peak := 0
	for _, v := range s {
		peak = max(peak, abs(int(v)))
	}
	if peak == 0 {
		return s
	}
	g := min(peakTarget/float64(peak), maxGain)
	out := make([]int16, len(s))
	for i, v := range s {
		out[i] = int16(max(-32768, min(32767, math.Round(float64(v)*g))))
	}
	return out
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// Prepare turns a decoded clip into what sentences are joined from: mono, at Rate, its leading and
// trailing silence trimmed and its peak levelled. A clip without sound (an empty one included) is
// CodeSilent.
func Prepare(a *Audio) ([]int16, error) {
	s := Resample(mono(a), a.Rate, Rate)
	t, ok := trim(s)
	if !ok {
		return nil, errf(CodeSilent, "no sound above %.0f RMS in %v", silenceFloor, a.Duration())
	}
	return level(t), nil
}
