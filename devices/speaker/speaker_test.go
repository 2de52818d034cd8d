package speaker_test

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"citizenhome/devices/speaker"
	"citizenhome/devices/speaker/speakertest"
	"citizenhome/speech"
	"citizenhome/speech/speechtest"
)

// The tests play through a real aplay into ALSA's file plugin, whose output a speakertest
// Capture reads from a FIFO: what is checked is what ALSA was given to play.

func open(t testing.TB, c *speakertest.Capture, o speaker.Options) *speaker.Speaker {
	t.Helper()
	if o.Device == "" {
		o.Device = c.Device()
	}
	s, err := speaker.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func tone(rate int, d time.Duration, hz, amp float64) []int16 {
	n := int(int64(rate) * int64(d) / int64(time.Second))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))))
	}
	return s
}

func peak(s []int16) int {
	p := 0
	for _, v := range s {
		p = max(p, int(math.Abs(float64(v))))
	}
	return p
}

// espeak speaks text with espeak-ng and returns its samples.
func espeak(t *testing.T, voice, text string) *speech.Audio {
	t.Helper()
	speechtest.NeedEngine(t)
	p := filepath.Join(t.TempDir(), "s.wav")
	if out, err := exec.Command(speech.Engine, "-v", voice, "-w", p, text).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	a, err := speech.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Speech played at full volume reaches ALSA sample for sample, as speech of its length.
func TestPlayReachesALSA(t *testing.T) {
	c := speakertest.New(t)
	s := open(t, c, speaker.Options{Volume: 100})
	a := espeak(t, speech.VoiceChinese, "qing3 jiang1 shen1fen4zheng4 fang4 zai4 du2ka3qu1")
	if err := s.Play(a.Samples, a.Rate).Wait(); err != nil {
		t.Fatal(err)
	}
	got := c.Wait(t, 1, 5*time.Second)[0]
	if got.Rate != a.Rate || got.Channels != 1 || got.Bits != 16 {
		t.Fatalf("ALSA played %d Hz, %d channels, %d bits", got.Rate, got.Channels, got.Bits)
	}
	out := got.Samples()
	if len(out) < len(a.Samples) || !slices.Equal(out[:len(a.Samples)], a.Samples) {
		t.Fatalf("ALSA was given %d samples, not the %d played", len(out), len(a.Samples))
	}
	// What follows is the silence with which aplay fills its last period (25 ms).
	if pad := out[len(a.Samples):]; peak(pad) != 0 || len(pad) > a.Rate/40 {
		t.Errorf("%d samples after the sound, peak %d", len(pad), peak(pad))
	}
	d := a.Duration()
	speechtest.Speech(t, speech.Encode(out, got.Rate), d, d+50*time.Millisecond)
}

// The volume scales the samples by (v/100)²; 0 plays nothing.
func TestVolumeScalesThePeak(t *testing.T) {
	c := speakertest.New(t)
	var played []error
	var mu sync.Mutex
	s := open(t, c, speaker.Options{Volume: 100, Outcome: func(err error) { mu.Lock(); played = append(played, err); mu.Unlock() }})
	in := tone(22050, 300*time.Millisecond, 440, 20000)
	var peaks []int
	for _, v := range []int{100, 50, 10} {
		s.SetVolume(v)
		if s.Volume() != v {
			t.Fatalf("volume %d after SetVolume(%d)", s.Volume(), v)
		}
		if err := s.Play(in, 22050).Wait(); err != nil {
			t.Fatal(err)
		}
		snd := c.Wait(t, len(peaks)+1, 5*time.Second)
		peaks = append(peaks, peak(snd[len(peaks)].Samples()))
	}
	if peaks[0] != 20000 || math.Abs(float64(peaks[1])-5000) > 1 || math.Abs(float64(peaks[2])-200) > 1 {
		t.Fatalf("peaks at volume 100, 50, 10: %v; want 20000, 5000, 200", peaks)
	}
	s.SetVolume(0)
	if err := s.Play(in, 22050).Wait(); err != nil {
		t.Fatal(err)
	}
	c.Quiet(t, 300*time.Millisecond)
	s.SetVolume(250)
	if s.Volume() != 100 {
		t.Errorf("volume 250 set as %d", s.Volume())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(played) != 3 || played[0] != nil || played[1] != nil || played[2] != nil {
		t.Errorf("Outcome told %v for three sounds played and one at volume 0", played)
	}
}

// A muted speaker starts no player: ALSA is given nothing. Muting cuts the sound playing short.
func TestMuteGivesNoOutput(t *testing.T) {
	c := speakertest.New(t)
	s := open(t, c, speaker.Options{Volume: 80, Muted: true})
	if !s.Muted() {
		t.Fatal("not muted")
	}
	if err := s.Play(tone(22050, 300*time.Millisecond, 440, 20000), 22050).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := s.Tap().Wait(); err != nil {
		t.Fatal(err)
	}
	c.Quiet(t, 300*time.Millisecond)

	s.SetMuted(false)
	long := s.Play(tone(22050, 5*time.Second, 440, 20000), 22050)
	waitPlaying(t, c)
	s.SetMuted(true)
	if err := long.Wait(); !errors.Is(err, speaker.ErrInterrupted) {
		t.Fatalf("muted while playing: %v", err)
	}
	if got := c.Wait(t, 1, 5*time.Second)[0]; len(got.Data) >= 2*22050*2 {
		t.Errorf("%d bytes reached ALSA after the mute, of a 5 s sound", len(got.Data))
	}
}

func waitPlaying(t *testing.T, c *speakertest.Capture) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if on, n := c.Playing(); on && n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("nothing played within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// A new sound cuts the one playing short: of five seconds, ALSA gets what was due in the time
// it played (the writer keeps 250 ms ahead), then the new sound whole.
func TestNewSoundInterrupts(t *testing.T) {
	c := speakertest.New(t)
	s := open(t, c, speaker.Options{Volume: 100})
	long := s.Play(tone(22050, 5*time.Second, 300, 20000), 22050)
	waitPlaying(t, c)
	short := tone(16000, 200*time.Millisecond, 800, 10000)
	next := s.Play(short, 16000)
	if err := long.Wait(); !errors.Is(err, speaker.ErrInterrupted) {
		t.Fatalf("the long sound: %v", err)
	}
	if err := next.Wait(); err != nil {
		t.Fatal(err)
	}
	got := c.Wait(t, 2, 5*time.Second)
	if n := len(got[0].Samples()); n >= 22050 {
		t.Errorf("%d samples of the cut sound reached ALSA, more than a second", n)
	}
	if got[1].Rate != 16000 || !slices.Equal(got[1].Samples()[:len(short)], short) {
		t.Error("the new sound is not the one played second")
	}
}

// The tap click is let finish: a sound played right after a tap follows it.
func TestClickIsNotCut(t *testing.T) {
	c := speakertest.New(t)
	s := open(t, c, speaker.Options{Volume: 100})
	tap := s.Tap()
	say := tone(22050, 200*time.Millisecond, 500, 10000)
	next := s.Play(say, 22050)
	if err := tap.Wait(); err != nil {
		t.Fatalf("the click: %v", err)
	}
	if err := next.Wait(); err != nil {
		t.Fatal(err)
	}
	got := c.Wait(t, 2, 5*time.Second)
	click := speaker.Click()
	if len(click) != speaker.ClickRate*30/1000 || peak(click) < 10000 {
		t.Fatalf("the click: %d samples, peak %d", len(click), peak(click))
	}
	if !slices.Equal(got[0].Samples()[:len(click)], click) {
		t.Error("the click did not reach ALSA whole")
	}
	if !slices.Equal(got[1].Samples()[:len(say)], say) {
		t.Error("the sound after the click did not reach ALSA")
	}
}

func TestNoDevice(t *testing.T) {
	speakertest.NeedPlayer(t)
	var failed []error
	s, err := speaker.Open(speaker.Options{Device: "no-such-pcm", Volume: 50, Outcome: func(err error) { failed = append(failed, err) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); !errors.Is(err, speaker.ErrNoDevice) {
		t.Fatalf("Check: %v", err)
	}
	err = s.Tap().Wait()
	var e *speaker.Error
	if !errors.Is(err, speaker.ErrNoDevice) || !errors.As(err, &e) || e.Device != "no-such-pcm" || e.Detail == "" {
		t.Fatalf("Tap: %v", err)
	}
	t.Log(err)
	if len(failed) != 1 || !errors.Is(failed[0], speaker.ErrNoDevice) {
		t.Errorf("Outcome told %v", failed)
	}
	if err := s.Play(make([]int16, 100), 1000).Wait(); !errors.Is(err, speaker.ErrInvalid) {
		t.Errorf("rate 1000: %v", err)
	}
}

func TestPlayerMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := speaker.Open(speaker.Options{}); !errors.Is(err, speaker.ErrPlayerMissing) {
		t.Fatalf("no aplay on PATH: %v", err)
	}
}

// A card held by another program: no card here to hold, so a stand-in aplay says what ALSA says
// then (the message is the point).
func TestBusy(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "aplay")
	script := "#!/bin/sh\ncat >/dev/null\necho 'aplay: main:831: audio open error: Device or resource busy' >&2\nexit 1\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := speaker.Open(speaker.Options{Player: bin, Device: "hw:0", Volume: 50})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); !errors.Is(err, speaker.ErrBusy) {
		t.Errorf("Check: %v", err)
	}
	if err := s.Play(tone(22050, 100*time.Millisecond, 440, 1000), 22050).Wait(); !errors.Is(err, speaker.ErrBusy) {
		t.Errorf("Play: %v", err)
	}
}

// BenchmarkTapToSound measures the time from Tap to the first samples ALSA is given (tap-ms),
// beside the floor of any sound played this way, measured in the same run: aplay started on an
// empty sound until ALSA has opened the device and written its header (floor-ms). Medians.
func BenchmarkTapToSound(b *testing.B) {
	c := speakertest.New(b)
	s := open(b, c, speaker.Options{Volume: 100})
	var taps, floors []time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		if err := s.Tap().Wait(); err != nil {
			b.Fatal(err)
		}
		n++
		snd := c.Wait(b, n, 5*time.Second)[n-1]
		taps = append(taps, snd.First.Sub(t0))

		floors = append(floors, c.Floor(b))
		n++
	}
	b.ReportMetric(ms(median(taps)), "tap-ms")
	b.ReportMetric(ms(median(floors)), "floor-ms")
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
