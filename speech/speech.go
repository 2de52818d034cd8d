// Package speech is the clip machinery that spoken sentences are joined from: WAV files read and
// written (Decode, Encode), clips normalised to 16-bit mono at Rate with their silence trimmed
// and their peak levelled (Prepare), clips synthesised by espeak-ng (Synthesize, or
// scripts/clips.sh when packaging), and clip folders loaded with a hall's own recordings
// overriding the synthesised ones (Load). It knows nothing of what is said: halld's calling
// display (hall/voice) and the kiosk's prompts (kiosk/prompt) list their clips and compose their
// sentences on top of it. It is a leaf: it imports nothing of the module.
package speech

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Languages.
const (
	Chinese = "zh" // Mandarin
	English = "en"
)

// Clip is one recorded or synthesised word or sentence. Its file is {dir}/{Name}.wav, Name being
// "{lang}/{word}", e.g. zh/digit-0.wav, en/please-go-to.wav.
type Clip struct {
	Name  string // "zh/qing"
	Lang  string // Chinese or English
	Voice string // the espeak-ng voice that synthesises it
	Text  string // what espeak-ng is given to say
}

// File is the clip's path relative to a clips folder ("zh/qing.wav").
func (c Clip) File() string { return c.Name + ".wav" }

// The espeak-ng voices. Debian 12's espeak-ng 1.51 voice "cmn" reads the tone digit of most
// syllables in English (请 comes out as "king three", espeak-ng issue 1236); "cmn-latn-pinyin"
// has the same Mandarin phonemes and reads pinyin with tone digits correctly, so the Mandarin
// clips are given to it in pinyin (letters in capitals, which it spells as Mandarin speakers do).
const (
	VoiceChinese = "cmn-latn-pinyin"
	VoiceEnglish = "en"
	// Speed is espeak-ng's words per minute for every clip, its default: single syllables in
	// citation form are long already, and slower clips would stretch "请 A012 号 到 3 号窗口办理"
	// past five seconds.
	Speed = 175
)

// MaxClipBytes bounds a clip file (a word is well under a second: 16 MiB is minutes of CD audio),
// so that a wrong file dropped into a hall's folder cannot exhaust memory.
const MaxClipBytes = 16 << 20

// Set is a loaded set of clips, prepared (see Prepare). It is read-only once loaded, so safe for
// concurrent use.
type Set struct {
	dirs    []string
	clips   map[string][]int16 // prepared samples by clip name; nil for a set made by Index
	src     map[string]string  // the file each clip came from
	missing []string
}

// Load reads, checks and prepares every clip from dirs, the first folder holding a clip giving it:
// a hall's own recordings first, then the synthesised clips. Empty strings are skipped, and so are
// folders that do not exist (a hall without recordings), their clips then being missing. A clip
// file that is broken (not a WAV, truncated, an unsupported format, silent, over MaxClipBytes)
// fails the load with that *Error, naming the clip and the file, even when a later folder holds a
// good one: a hall's recording that is broken is a mistake to fix, not to paper over. Clips no
// folder holds do not fail the load: Missing lists them, and Join fails on the first it needs.
func Load(dirs []string, clips []Clip) (*Set, error) {
	return load(dirs, clips, true)
}

// Index checks every clip as Load does, but keeps only which file each clip is in: Join and
// Samples read the clips they need from those files at each call (about half a millisecond a
// clip from the page cache). A program idle most of the day, that says a sentence now and then,
// keeps its memory rather than some minutes of samples. A file changed after Index is read as
// it is then: one that has become broken fails the Join with its *Error.
func Index(dirs []string, clips []Clip) (*Set, error) {
	return load(dirs, clips, false)
}

func load(dirs []string, clips []Clip, keep bool) (*Set, error) {
	s := &Set{src: map[string]string{}}
	if keep {
		s.clips = map[string][]int16{}
	}
	for _, d := range dirs {
		if d != "" {
			s.dirs = append(s.dirs, d)
		}
	}
	for _, c := range clips {
		path, samples, err := s.load(c)
		if err != nil {
			return nil, err
		}
		if path == "" {
			s.missing = append(s.missing, c.Name)
			continue
		}
		s.src[c.Name] = path
		if keep {
			s.clips[c.Name] = samples
		}
	}
	return s, nil
}

// load finds clip c in the first folder that has it; path is "" when none has.
func (s *Set) load(c Clip) (path string, samples []int16, err error) {
	for _, d := range s.dirs {
		p := filepath.Join(d, filepath.FromSlash(c.File()))
		out, err := readPrepared(c.Name, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		return p, out, nil
	}
	return "", nil, nil
}

// readPrepared reads, decodes and prepares clip name from file p; errors name both, but for a
// missing file (fs.ErrNotExist), returned as it comes.
func readPrepared(name, p string) ([]int16, error) {
	b, err := ReadClip(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, at(err, name, p)
	}
	a, err := Decode(b)
	if err != nil {
		return nil, at(err, name, p)
	}
	out, err := Prepare(a)
	if err != nil {
		return nil, at(err, name, p)
	}
	return out, nil
}

// ReadClip reads a clip file of at most MaxClipBytes. Something that is not a regular file is
// CodeNotWAV (a FIFO left under a clip's name would block the read), a larger file CodeTooLarge;
// file system errors, fs.ErrNotExist included, are returned as they come.
func ReadClip(p string) ([]byte, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errf(CodeNotWAV, "not a regular file")
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxClipBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxClipBytes {
		return nil, errf(CodeTooLarge, "over %d bytes", MaxClipBytes)
	}
	return b, nil
}

// Missing lists the clips that no folder holds, in the order Load was given them; nil when the
// set is complete.
func (s *Set) Missing() []string { return append([]string(nil), s.missing...) }

// Source is the file clip name ("zh/qing") was loaded from; ok is false for a clip that is
// missing or was not asked for.
func (s *Set) Source(name string) (path string, ok bool) {
	path, ok = s.src[name]
	return path, ok
}

// Samples are clip name's prepared samples, shared when the set was loaded (the caller must not
// change them), read from the file for a set made by Index. ok is false for a clip that is
// missing or was not asked for, or whose file can no longer be read.
func (s *Set) Samples(name string) (samples []int16, ok bool) {
	samples, err := s.samples(name)
	return samples, err == nil
}

// samples are clip name's samples: kept, or read; CodeMissingClip for a clip the set lacks.
func (s *Set) samples(name string) ([]int16, error) {
	p, ok := s.src[name]
	if !ok {
		return nil, &Error{Code: CodeMissingClip, Clip: name,
			Detail: fmt.Sprintf("no %s.wav in %s", name, strings.Join(s.dirs, ", "))}
	}
	if s.clips != nil {
		return s.clips[name], nil
	}
	out, err := readPrepared(name, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &Error{Code: CodeMissingClip, Clip: name, Path: p, Detail: "removed since the clips were indexed"}
	}
	return out, err
}

// Part is one clip of a sentence and the silence before it.
type Part struct {
	Clip   string        // the clip's name
	Before time.Duration // silence before the clip
}

// Join lays the parts end to end, each after its silence, then tail of silence, as samples at
// Rate. A clip the set lacks is CodeMissingClip naming it and the folders looked in; for a set
// made by Index, a clip file that can no longer be read fails with its *Error.
func (s *Set) Join(parts []Part, tail time.Duration) ([]int16, error) {
	n := func(d time.Duration) int { return int(int64(Rate) * int64(d) / int64(time.Second)) }
	total := n(tail)
	got := make([][]int16, len(parts))
	for i, p := range parts {
		c, err := s.samples(p.Clip)
		if err != nil {
			return nil, err
		}
		got[i] = c
		total += n(p.Before) + len(c)
	}
	out := make([]int16, 0, total)
	for i, p := range parts {
		out = append(out, make([]int16, n(p.Before))...)
		out = append(out, got[i]...)
	}
	return append(out, make([]int16, n(tail))...), nil
}
