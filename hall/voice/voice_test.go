package voice_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/voice"
	"citizenhome/speech"
	"citizenhome/speech/speechtest"
)

func duration(t *testing.T, wav []byte) time.Duration {
	t.Helper()
	a, err := speech.Decode(wav)
	if err != nil {
		t.Fatal(err)
	}
	return a.Duration()
}

func TestAnnounceIsSpeech(t *testing.T) {
	dir := voice.ClipsDir(t)
	v, err := voice.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := v.Missing(); m != nil {
		t.Fatalf("missing %v", m)
	}
	for _, c := range []struct {
		code, window string
		max          time.Duration
	}{{"A012", "3", 6 * time.Second}, {"B999", "12", 6 * time.Second}, {"D007", "20", 6 * time.Second}, {"Z100", "VIP-2", 8 * time.Second}} {
		wav, err := v.Announce(c.code, c.window)
		if err != nil {
			t.Fatal(err)
		}
		_, st, _ := speechtest.Measure(wav)
		t.Logf("%s at %s: %+v", c.code, c.window, st)
		speechtest.Speech(t, wav, time.Second, c.max)
	}
	// Window 12 is 十二 (two clips), window 3 is 三 (one): the announcement is longer by a clip
	// and a gap, not by a second digit read alone.
	three, _ := v.Announce("A012", "3")
	twelve, _ := v.Announce("A012", "12")
	if d3, d12 := duration(t, three), duration(t, twelve); d12 <= d3 {
		t.Errorf("window 12 lasts %v, window 3 %v", d12, d3)
	}
}

func TestAnnounceInEnglishToo(t *testing.T) {
	dir := voice.ClipsDir(t)
	zh, err := voice.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	both, err := voice.Load(voice.Options{Dirs: []string{dir}, English: true})
	if err != nil {
		t.Fatal(err)
	}
	if m := both.Missing(); m != nil {
		t.Fatalf("missing %v", m)
	}
	a, err := zh.Announce("A012", "3")
	if err != nil {
		t.Fatal(err)
	}
	b, err := both.Announce("A012", "3")
	if err != nil {
		t.Fatal(err)
	}
	speechtest.Speech(t, b, 2*time.Second, 12*time.Second)
	if da, db := duration(t, a), duration(t, b); db < da+time.Second+250*time.Millisecond {
		t.Errorf("with English %v, Mandarin alone %v: no English sentence", db, da)
	}
	// The Mandarin sentence comes first, sample for sample.
	pa, pb := a[44:len(a)-2*speech.Rate*150/1000], b[44:] // the Mandarin one less its 150 ms tail
	if !bytes.Equal(pa, pb[:len(pa)]) {
		t.Error("the bilingual announcement does not start with the Mandarin one")
	}
}

func TestAnnounceCachesAndHandsOutCopies(t *testing.T) {
	v, err := voice.New(voice.ClipsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	first, err := v.Announce("A012", "3")
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(first)
	clear(first[44:]) // a caller scribbling on its copy
	again, err := v.Announce("A012", " 3 ")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, want) {
		t.Fatal("a recall differs from the call, or a caller's change reached the cache")
	}
	uncached, err := voice.Load(voice.Options{Dirs: []string{voice.ClipsDir(t)}, Cache: -1})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := uncached.Announce("A012", "3"); !bytes.Equal(b, want) {
		t.Fatal("uncached announcement differs")
	}
}

func TestAnnounceConcurrently(t *testing.T) {
	v, err := voice.Load(voice.Options{Dirs: []string{voice.ClipsDir(t)}, Cache: 4})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for i := range 8 {
		code := fmt.Sprintf("A%03d", i)
		if want[code], err = v.Announce(code, strconv.Itoa(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 8 {
				code := fmt.Sprintf("A%03d", (i+g)%8)
				b, err := v.Announce(code, strconv.Itoa((i+g)%8+1))
				if err == nil && !bytes.Equal(b, want[code]) {
					err = fmt.Errorf("%s differs", code)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// copyClips copies the synthesised clips of lang into a new folder, leaving out skip.
func copyClips(t *testing.T, skip ...string) string {
	t.Helper()
	src, dst := voice.ClipsDir(t), t.TempDir()
	clips, _ := voice.Clips(voice.Chinese)
	for _, c := range clips {
		if slices.Contains(skip, c.Name) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, c.File()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dst, c.File()), b)
	}
	return dst
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMissingClipIsNamed(t *testing.T) {
	dir := copyClips(t, "zh/digit-7")
	v, err := voice.New("", filepath.Join(t.TempDir(), "no-such-hall-folder"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := v.Missing(); !slices.Equal(m, []string{"zh/digit-7"}) {
		t.Fatalf("missing %v", m)
	}
	if _, err := v.Announce("A012", "3"); err != nil {
		t.Fatalf("an announcement without a 7: %v", err)
	}
	for _, c := range [][2]string{{"A017", "3"}, {"A012", "7"}, {"A012", "17"}} {
		_, err := v.Announce(c[0], c[1])
		var e *speech.Error
		if !errors.Is(err, speech.ErrMissingClip) || !errors.As(err, &e) || e.Clip != "zh/digit-7" || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s at %s: %v", c[0], c[1], err)
		}
	}
	en, err := voice.Load(voice.Options{Dirs: []string{dir}, English: true})
	if err != nil {
		t.Fatal(err)
	}
	if m := en.Missing(); len(m) != 1+10+26+3 || m[1] != "en/digit-0" {
		t.Errorf("English missing %v", m)
	}
	_, err = en.Announce("A012", "3")
	var e *speech.Error
	if !errors.As(err, &e) || e.Code != speech.CodeMissingClip || e.Clip != "en/number" {
		t.Errorf("English announcement without English clips: %v", err)
	}
	if _, err := v.Announce("A01!", "3"); !errors.Is(err, speech.ErrUnspeakable) {
		t.Errorf("unspeakable code: %v", err)
	}
}

func TestHallClipOverrides(t *testing.T) {
	synth := voice.ClipsDir(t)
	hall := t.TempDir()
	// The hall recorded its own 请 (here: the synthesised 办理) as 8-bit stereo at 11025 Hz, a
	// format espeak-ng never writes.
	src, err := os.ReadFile(filepath.Join(synth, "zh", "banli.wav"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := speech.Decode(src)
	if err != nil {
		t.Fatal(err)
	}
	rec := eightBitStereo(a.Samples, a.Rate)
	writeFile(t, filepath.Join(hall, "zh", "qing.wav"), rec)

	v, err := voice.New(hall, synth)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := v.Source("zh/qing"); p != filepath.Join(hall, "zh", "qing.wav") {
		t.Errorf("zh/qing from %s", p)
	}
	if p, _ := v.Source("zh/hao"); p != filepath.Join(synth, "zh", "hao.wav") {
		t.Errorf("zh/hao from %s", p)
	}
	if _, ok := v.Source("en/number"); ok {
		t.Error("an English clip loaded for a Mandarin voice")
	}
	own, err := v.Announce("A012", "3")
	if err != nil {
		t.Fatal(err)
	}
	speechtest.Speech(t, own, time.Second, 6*time.Second)
	plain, err := voice.New(synth)
	if err != nil {
		t.Fatal(err)
	}
	def, _ := plain.Announce("A012", "3")
	if bytes.Equal(own, def) {
		t.Fatal("the hall's clip changed nothing")
	}
	// That the hall's clip is the one spoken, sample for sample, override_test.go checks.
}

// eightBitStereo converts mono 16-bit samples at rate to an 8-bit stereo WAV at half the rate,
// by hand, so that the override test feeds the loader a format espeak-ng never writes.
func eightBitStereo(s []int16, rate int) []byte {
	var data []byte
	for i := 0; i+1 < len(s); i += 2 {
		v := byte((int(s[i]) >> 8) + 128)
		data = append(data, v, v)
	}
	return speechtest.PCM(2, rate/2, 8, data)
}

func TestBrokenClipFailsTheLoad(t *testing.T) {
	synth := voice.ClipsDir(t)
	good, err := os.ReadFile(filepath.Join(synth, "zh", "hao.wav"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		write func(p string)
		want  error
	}{
		{"cut in half", func(p string) { writeFile(t, p, good[:len(good)/2]) }, speech.ErrTruncated},
		{"a text file", func(p string) { writeFile(t, p, []byte("hao, recorded tomorrow")) }, speech.ErrNotWAV},
		{"silence", func(p string) { writeFile(t, p, speech.Encode(make([]int16, speech.Rate), speech.Rate)) }, speech.ErrSilent},
		{"24-bit", func(p string) {
			writeFile(t, p, speechtest.PCM(1, 48000, 24, make([]byte, 300)))
		}, speech.ErrUnsupported},
		{"a folder", func(p string) { os.MkdirAll(p, 0o755) }, speech.ErrNotWAV},
		{"huge", func(p string) {
			writeFile(t, p, good)
			if err := os.Truncate(p, speech.MaxClipBytes+1); err != nil {
				t.Fatal(err)
			}
		}, speech.ErrTooLarge},
	}
	for _, c := range cases {
		hall := t.TempDir()
		p := filepath.Join(hall, "zh", "hao.wav")
		c.write(p)
		v, err := voice.New(hall, synth)
		var e *speech.Error
		if !errors.Is(err, c.want) || !errors.As(err, &e) || e.Clip != "zh/hao" || e.Path != p {
			t.Errorf("%s: %v, %v; want %v naming zh/hao and %s", c.name, v, err, c.want, p)
			continue
		}
		t.Logf("%s: %v", c.name, err)
	}
}

func TestSynthesizeReplacesAtomically(t *testing.T) {
	voice.ClipsDir(t) // skips without espeak-ng
	dir := t.TempDir()
	if m, _ := voice.Missing(dir, voice.Chinese); len(m) != 10+26+6 {
		t.Fatalf("missing in an empty folder: %v", m)
	}
	writeFile(t, filepath.Join(dir, "zh", "qing.wav"), []byte("stale"))
	if err := voice.Synthesize(dir, voice.Chinese); err != nil {
		t.Fatal(err)
	}
	if m, err := voice.Missing(dir, voice.Chinese); m != nil || err != nil {
		t.Fatalf("missing after Synthesize: %v, %v", m, err)
	}
	if m, _ := voice.Missing(dir); len(m) != 10+26+3 {
		t.Fatalf("English clips written without being asked for: %v", m)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "zh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, _ := e.Info()
		if strings.HasPrefix(e.Name(), ".tmp-") || info.Mode().Perm() != 0o644 {
			t.Errorf("%s %v left in the folder", e.Name(), info.Mode())
		}
	}
	v, err := voice.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	wav, err := v.Announce("C042", "7")
	if err != nil {
		t.Fatal(err)
	}
	speechtest.Speech(t, wav, time.Second, 6*time.Second)
	if err := voice.Synthesize(dir, "fr"); !errors.Is(err, speech.ErrInvalid) {
		t.Errorf("unknown language: %v", err)
	}
}

func TestSynthesizeWithoutEngine(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dir := t.TempDir()
	if err := voice.Synthesize(dir); !errors.Is(err, speech.ErrNoEngine) {
		t.Fatalf("no espeak-ng on PATH: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("wrote %v", entries)
	}
}

// A broken espeak-ng (a stand-in script: the failure is the point) names the clip and leaves
// neither the clip nor a temporary file.
func TestSynthesizeEngineFailure(t *testing.T) {
	for name, script := range map[string]string{
		"exits 1":        "echo 'espeak-ng: voice not found' >&2; exit 1",
		"writes noise":   `while [ "$1" != -w ]; do shift; done; echo garbage > "$2"`,
		"writes silence": `while [ "$1" != -w ]; do shift; done; printf 'RIFF\044\0\0\0WAVEfmt \020\0\0\0\001\0\001\0\042\126\0\0\104\254\0\0\002\0\020\0data\0\0\0\0' > "$2"`,
	} {
		bin := t.TempDir()
		writeFile(t, filepath.Join(bin, "espeak-ng"), []byte("#!/bin/sh\n"+script+"\n"))
		os.Chmod(filepath.Join(bin, "espeak-ng"), 0o755)
		t.Setenv("PATH", bin+":/usr/bin:/bin")
		dir := t.TempDir()
		err := voice.Synthesize(dir, voice.Chinese)
		var e *speech.Error
		if !errors.As(err, &e) || e.Code != speech.CodeSynthesis || e.Clip != "zh/digit-0" {
			t.Errorf("%s: %v", name, err)
			continue
		}
		t.Logf("%s: %v", name, err)
		if entries, _ := os.ReadDir(filepath.Join(dir, "zh")); len(entries) != 0 {
			t.Errorf("%s: left %v", name, entries)
		}
	}
}

// espeak-ng 1.51's "cmn" voice switches to English for tone digits it cannot place; the Mandarin
// clips must be all Mandarin phonemes.
func TestMandarinClipsStayMandarin(t *testing.T) {
	voice.ClipsDir(t)
	clips, _ := voice.Clips(voice.Chinese)
	for _, c := range clips {
		out, err := exec.Command(speech.Engine, "-v", c.Voice, "-q", "-x", c.Text).Output()
		if err != nil {
			t.Fatal(err)
		}
		ph := strings.TrimSpace(string(out))
		if ph == "" || strings.Contains(ph, "(en)") {
			t.Errorf("%s %q is spoken %q", c.Name, c.Text, ph)
		}
	}
}

// scripts/clips.sh, which the package build runs, makes the same clips under the same names.
func TestClipsScriptAgrees(t *testing.T) {
	script, err := filepath.Abs("../../scripts/clips.sh")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(script, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	clips, _ := voice.Clips()
	var want []string
	for _, c := range clips {
		want = append(want, strings.Join([]string{c.Name, c.Voice, strconv.Itoa(speech.Speed), c.Text}, "\t"))
		if args := c.Args("x.wav"); !slices.Equal(args, []string{"-v", c.Voice, "-s", strconv.Itoa(speech.Speed), "-w", "x.wav", c.Text}) {
			t.Errorf("%s: espeak-ng %v, not what clips.sh runs", c.Name, args)
		}
	}
	if got := strings.Split(strings.TrimSpace(string(out)), "\n"); !slices.Equal(got, want) {
		t.Fatalf("clips.sh --list:\n%s\nvoice.Clips:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	voice.ClipsDir(t)
	dir := t.TempDir()
	if out, err := exec.Command(script, dir).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if m, _ := voice.Missing(dir); m != nil {
		t.Fatalf("clips.sh left out %v", m)
	}
	for _, l := range []string{voice.Chinese, voice.English} {
		entries, _ := os.ReadDir(filepath.Join(dir, l))
		if want, _ := voice.Clips(l); len(entries) != len(want) {
			t.Errorf("clips.sh wrote %d files in %s, want %d", len(entries), l, len(want))
		}
	}
	v, err := voice.Load(voice.Options{Dirs: []string{dir}, English: true})
	if err != nil {
		t.Fatal(err)
	}
	wav, err := v.Announce("A012", "3")
	if err != nil {
		t.Fatal(err)
	}
	speechtest.Speech(t, wav, 2*time.Second, 12*time.Second)
	// The same espeak-ng with the same arguments: the same announcement as Synthesize's, in both
	// languages.
	ref, err := voice.Load(voice.Options{Dirs: []string{voice.ClipsDir(t)}, English: true})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := ref.Announce("A012", "3"); !bytes.Equal(wav, want) {
		t.Error("clips.sh's clips announce differently from Synthesize's")
	}
	if err := exec.Command(script, dir, "fr").Run(); err == nil {
		t.Error("clips.sh accepted language fr")
	}
}

func BenchmarkAnnounce(b *testing.B) {
	v, err := voice.Load(voice.Options{Dirs: []string{voice.ClipsDir(b)}, English: true, Cache: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Announce("A012", "12"); err != nil {
			b.Fatal(err)
		}
	}
}
