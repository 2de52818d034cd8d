package prompt_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"citizenhome/devices/speaker"
	"citizenhome/devices/speaker/speakertest"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/prompt"
	"citizenhome/speech"
	"citizenhome/speech/speechtest"
)

// The prompts' clips, synthesised by espeak-ng once per test binary (about seven seconds).
var (
	synthOnce sync.Once
	synthDir  string
	synthErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if synthDir != "" {
		os.RemoveAll(synthDir)
	}
	os.Exit(code)
}

func clipsDir(t testing.TB) string {
	t.Helper()
	speechtest.NeedEngine(t)
	synthOnce.Do(func() {
		if synthDir, synthErr = os.MkdirTemp("", "prompt-clips-"); synthErr == nil {
			synthErr = speech.Synthesize(synthDir, prompt.Clips())
		}
	})
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	return synthDir
}

var readers = prompt.Readers{ID: config.PosRight, City: config.PosFrontShelf}

func load(t testing.TB, dirs ...string) *prompt.Prompts {
	t.Helper()
	p, err := prompt.Load(prompt.Options{Dirs: dirs, Readers: readers})
	if err != nil {
		t.Fatal(err)
	}
	if m := p.Missing(); len(dirs) > 0 && m != nil {
		t.Fatalf("missing %v", m)
	}
	return p
}

// voice is a Voice on a real speaker whose ALSA output c captures.
func voice(t *testing.T, c *speakertest.Capture, state string) (*prompt.Voice, *speaker.Speaker) {
	t.Helper()
	sp, err := speaker.Open(speaker.Options{Device: c.Device(), Volume: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return prompt.NewVoice(load(t, clipsDir(t)), speakertest.Started{Speaker: sp}, state, nil), sp
}

func dur(n int) time.Duration { return time.Duration(n) * time.Second / speech.Rate }

// The ticket prompt, said through the speaker, reaches ALSA as speech of its length: 您的号码是
// A 0 1 2，前面还有 5 人等候 lasts some four to seven seconds at espeak-ng's speed.
func TestTicketPromptReachesALSA(t *testing.T) {
	c := speakertest.New(t)
	v, _ := voice(t, c, "")
	line := prompt.Line{Prompt: prompt.Ticket, Code: "A012", Ahead: 5}
	want, err := load(t, clipsDir(t)).Render("zh", line)
	if err != nil {
		t.Fatal(err)
	}
	v.Say("zh", line)
	got := c.Wait(t, 1, 15*time.Second)[0]
	out := got.Samples()
	if got.Rate != speech.Rate || len(out) < len(want) || !slices.Equal(out[:len(want)], want) {
		t.Fatalf("ALSA got %d samples at %d Hz, not the %d rendered", len(out), got.Rate, len(want))
	}
	_, st, _ := speechtest.Measure(speech.Encode(out, got.Rate))
	t.Logf("zh ticket prompt: %+v", st)
	speechtest.Speech(t, speech.Encode(out, got.Rate), 3*time.Second, 7*time.Second)
	// A longer count is a longer prompt: 前面还有 一百零五 人 against 五 人.
	long, _ := load(t, clipsDir(t)).Render("zh", prompt.Line{Prompt: prompt.Ticket, Code: "A012", Ahead: 105})
	if dur(len(long)) < dur(len(want))+400*time.Millisecond {
		t.Errorf("105 waiting: %v, 5 waiting: %v", dur(len(long)), dur(len(want)))
	}
}

// English when asked for in English: other clips, English speech.
func TestEnglishPrompt(t *testing.T) {
	c := speakertest.New(t)
	v, _ := voice(t, c, "")
	p := load(t, clipsDir(t))
	line := prompt.Line{Prompt: prompt.Ticket, Code: "A012", Ahead: 5}
	zh, _ := p.Render("zh", line)
	en, err := p.Render("en", line)
	if err != nil {
		t.Fatal(err)
	}
	v.Say("en", line)
	got := c.Wait(t, 1, 15*time.Second)[0].Samples()
	if len(got) < len(en) || !slices.Equal(got[:len(en)], en) || slices.Equal(en, zh[:min(len(zh), len(en))]) {
		t.Fatal("the English prompt is not what ALSA got, or is the Mandarin one")
	}
	speechtest.Speech(t, speech.Encode(got, speech.Rate), 2*time.Second, 7*time.Second)
	for _, pr := range []prompt.Prompt{prompt.PlaceIDCard, prompt.CardRead, prompt.CardUnreadable, prompt.PaperOut, prompt.PrinterFault,
		prompt.HallUnreachable, prompt.NoNumber, prompt.Failed, prompt.Closed, prompt.ElderOffer} {
		for _, lang := range []string{"zh", "en"} {
			s, err := p.Render(lang, prompt.Line{Prompt: pr})
			if err != nil {
				t.Fatalf("%s %s: %v", lang, pr, err)
			}
			if err := speechtest.Check(speech.Encode(s, speech.Rate), 700*time.Millisecond, 7*time.Second); err != nil {
				t.Errorf("%s %s: %v", lang, pr, err)
			}
		}
	}
}

// Muted: nothing reaches ALSA, neither a prompt nor a tap. The volume scales the peak; the level
// is kept in the state file and read back.
func TestLevel(t *testing.T) {
	c := speakertest.New(t)
	state := filepath.Join(t.TempDir(), "voice.json")
	v, sp := voice(t, c, state)
	line := prompt.Line{Prompt: prompt.CardRead}

	if err := v.SetLevel(prompt.Level{Volume: 100, Muted: true}); err != nil {
		t.Fatal(err)
	}
	if !sp.Muted() {
		t.Fatal("the speaker is not muted")
	}
	v.Say("zh", line)
	v.Tap()
	c.Quiet(t, 300*time.Millisecond)

	peaks := map[int]int{}
	for i, vol := range []int{100, 50} {
		if err := v.SetLevel(prompt.Level{Volume: vol}); err != nil {
			t.Fatal(err)
		}
		v.Say("zh", line)
		s := c.Wait(t, i+1, 10*time.Second)[i].Samples()
		speechtest.Speech(t, speech.Encode(s, speech.Rate), 700*time.Millisecond, 3*time.Second)
		for _, x := range s {
			peaks[vol] = max(peaks[vol], int(math.Abs(float64(x))))
		}
	}
	if r := float64(peaks[50]) / float64(peaks[100]); math.Abs(r-0.25) > 0.001 {
		t.Errorf("peak at volume 50 is %.4f of volume 100's (%v), want 0.25", r, peaks)
	}
	v.Tap()
	click := c.Wait(t, 3, 5*time.Second)[2].Samples()
	if !slices.Equal(click[:len(speaker.Click())], scaled(speaker.Click(), 0.25)) {
		t.Error("the tap is not the click at volume 50")
	}

	l, ok, err := prompt.LoadLevel(state)
	if err != nil || !ok || l != (prompt.Level{Volume: 50}) {
		t.Fatalf("kept level %+v, %v, %v", l, ok, err)
	}
	if _, ok, err := prompt.LoadLevel(filepath.Join(t.TempDir(), "none.json")); ok || err != nil {
		t.Errorf("no file: %v, %v", ok, err)
	}
	os.WriteFile(state, []byte("{volume"), 0o644)
	if _, _, err := prompt.LoadLevel(state); err == nil {
		t.Error("a broken file read")
	}
	// A level that cannot be kept still applies.
	v2 := prompt.NewVoice(load(t, clipsDir(t)), speakertest.Started{Speaker: sp}, filepath.Join(t.TempDir(), "no", "such", "dir.json"), nil)
	if err := v2.SetLevel(prompt.Level{Volume: 30}); err == nil || sp.Volume() != 30 {
		t.Errorf("SetLevel into a missing folder: %v, volume %d", err, sp.Volume())
	}
	// What cannot be said is not said (and logged).
	v.Say("zh")
	v.Say("fr", line)
	v.Say("zh", prompt.Line{Prompt: prompt.Ticket, Code: "A-1"})
	c.Quiet(t, 200*time.Millisecond)
}

func scaled(s []int16, g float64) []int16 {
	out := make([]int16, len(s))
	for i, x := range s {
		out[i] = int16(math.Round(float64(x) * g))
	}
	return out
}

// A hall's recording replaces the synthesised clip of its name: the prompt is the recording,
// prepared, after the lead-in.
func TestHallRecordingOverrides(t *testing.T) {
	synth, hall := clipsDir(t), t.TempDir()
	rec, err := os.ReadFile(filepath.Join(synth, "zh", "elder-offer.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(hall, "zh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hall, "zh", "card-read.wav"), rec, 0o644); err != nil {
		t.Fatal(err)
	}
	own, err := load(t, hall, synth).Render("zh", prompt.Line{Prompt: prompt.CardRead})
	if err != nil {
		t.Fatal(err)
	}
	offer, _ := load(t, synth).Render("zh", prompt.Line{Prompt: prompt.ElderOffer})
	plain, _ := load(t, synth).Render("zh", prompt.Line{Prompt: prompt.CardRead})
	if !slices.Equal(own, offer) || slices.Equal(own, plain) {
		t.Fatal("the hall's recording is not the one said")
	}
	// A broken recording fails the load, naming it.
	os.WriteFile(filepath.Join(hall, "zh", "card-read.wav"), rec[:100], 0o644)
	_, err = prompt.Load(prompt.Options{Dirs: []string{hall, synth}, Readers: readers})
	var e *speech.Error
	if !errors.Is(err, speech.ErrTruncated) || !errors.As(err, &e) || e.Clip != "zh/card-read" {
		t.Fatalf("a broken recording: %v", err)
	}
	// Without clips nothing is said, and Render names what is missing.
	none := load(t)
	if len(none.Missing()) != len(prompt.Clips()) {
		t.Fatalf("missing %d of %d", len(none.Missing()), len(prompt.Clips()))
	}
	if _, err := none.Render("zh", prompt.Line{Prompt: prompt.CardRead}); !errors.Is(err, speech.ErrMissingClip) {
		t.Fatalf("no clips: %v", err)
	}
}

// scripts/clips.sh --from, which the package build runs, makes the same clips.
func TestClipsScriptAgrees(t *testing.T) {
	synth := clipsDir(t)
	script, _ := filepath.Abs("../../scripts/clips.sh")
	dir := t.TempDir()
	if out, err := exec.Command(script, "--from", "clips.tsv", dir).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if m, err := speech.Missing(dir, prompt.Clips()); m != nil || err != nil {
		t.Fatalf("clips.sh left out %v (%v)", m, err)
	}
	for _, c := range prompt.Clips() {
		a, _ := os.ReadFile(filepath.Join(dir, c.File()))
		b, _ := os.ReadFile(filepath.Join(synth, c.File()))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from speech.Synthesize's", c.Name)
		}
	}
}

// BenchmarkSayToSound measures the time from Say (the ticket prompt: composed from 11 clips,
// scaled, handed to aplay) to its first samples reaching ALSA (say-ms), beside the floor of any
// sound played by aplay, measured in the same run: aplay started on an empty sound until ALSA has
// opened the device (floor-ms). Medians.
func BenchmarkSayToSound(b *testing.B) {
	c := speakertest.New(b)
	sp, err := speaker.Open(speaker.Options{Device: c.Device(), Volume: 70})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sp.Close() })
	v := prompt.NewVoice(load(b, clipsDir(b)), speakertest.Started{Speaker: sp}, "", nil)
	line := prompt.Line{Prompt: prompt.Ticket, Code: "A012", Ahead: 5}
	var says, floors []time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		v.Say("zh", line)
		n++
		// The first samples arrive while the rest is still paced out: wait for them, then cut
		// the prompt short with a click.
		for {
			if on, got := c.Playing(); on && got > 0 {
				break
			}
			time.Sleep(50 * time.Microsecond)
		}
		sp.Tap().Wait() // cuts the prompt (its sound ends), the click follows
		n++
		snd := c.Wait(b, n, 5*time.Second)[n-2]
		says = append(says, snd.First.Sub(t0))

		floors = append(floors, c.Floor(b))
		n++
	}
	b.ReportMetric(ms(median(says)), "say-ms")
	b.ReportMetric(ms(median(floors)), "floor-ms")
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
