// Package voice builds the calling display's announcements ("请 A012 号 到 3 号窗口办理", then
// optionally "Number A 0 1 2, please go to window 3") as WAV files joined from clips: one WAV per
// digit, letter and word (see Clips for the names). The clips are synthesised by espeak-ng
// (Synthesize, or scripts/clips.sh when packaging) and a hall may replace any of them with its own
// recordings by putting a file of the same name in its own folder.
//
// The clip files, in a folder per language (names are lower case):
//
//	zh/digit-0.wav … zh/digit-9.wav   零 … 九 (ticket codes are read digit by digit)
//	zh/letter-a.wav … zh/letter-z.wav the letters as Mandarin speakers say them
//	zh/qing.wav 请, zh/hao.wav 号, zh/dao.wav 到, zh/chuangkou.wav 窗口, zh/banli.wav 办理,
//	zh/shi.wav 十 (window numbers 1..99 are read as numbers: 12 十二, 20 二十)
//	en/digit-0.wav … en/digit-9.wav, en/letter-a.wav … en/letter-z.wav,
//	en/number.wav "Number", en/please-go-to.wav "please go to", en/window.wav "window"
//
// Every clip is normalised on load to 16-bit mono at Rate, its leading and trailing silence cut
// and its peak levelled, so that recordings of any rate, width and loudness mix with the
// synthesised ones.
package voice

import (
	"container/list"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// MaxClipBytes bounds a clip file (a word is well under a second: 16 MiB is minutes of CD audio),
// so that a wrong file dropped into a hall's folder cannot exhaust memory.
const MaxClipBytes = 16 << 20

// Lead-in and tail silence of an announcement: some amplifiers and browsers swallow the first
// instant of a sound.
const (
	leadMs = 120
	tailMs = 150
)

// Options configure Load.
type Options struct {
	// Dirs are the clip folders, the first holding a clip giving it: the hall's own recordings
	// first, then the synthesised clips. Empty strings are skipped, and so are folders that do not
	// exist (a hall without recordings), their clips then being missing (see Voice.Missing).
	Dirs []string
	// English adds the English sentence after the Mandarin one.
	English bool
	// Cache is how many announcements are kept for recalls: 0 means 64, a negative value none.
	Cache int
}

// Voice speaks announcements. It is safe for concurrent use.
type Voice struct {
	english bool
	dirs    []string
	clips   map[string][]int16 // prepared samples by clip name
	src     map[string]string  // the file each clip came from
	missing []string

	mu    sync.Mutex
	cache *lru
}

// New loads the Mandarin clips from dirs, the hall's folder first (see Options.Dirs).
func New(dirs ...string) (*Voice, error) {
	return Load(Options{Dirs: dirs})
}

// Load reads, checks and prepares every clip of the configured languages. A clip file that is
// broken (not a WAV, truncated, an unsupported format, silent, over MaxClipBytes) fails the
// load with that *Error, naming the clip and the file, even when a later folder holds a good
// one: a hall's recording that is broken is a mistake to fix, not to paper over. Clips no folder
// holds do not fail the load: Missing lists them, and Announce fails on the first it needs.
func Load(o Options) (*Voice, error) {
	langs := []string{Chinese}
	if o.English {
		langs = append(langs, English)
	}
	clips, _ := Clips(langs...) // known languages: no error
	v := &Voice{english: o.English, clips: map[string][]int16{}, src: map[string]string{}}
	for _, d := range o.Dirs {
		if d != "" {
			v.dirs = append(v.dirs, d)
		}
	}
	for _, c := range clips {
		path, s, err := v.load(c)
		if err != nil {
			return nil, err
		}
		if path == "" {
			v.missing = append(v.missing, c.Name)
			continue
		}
		v.clips[c.Name], v.src[c.Name] = s, path
	}
	size := o.Cache
	if size == 0 {
		size = 64
	}
	if size > 0 {
		v.cache = newLRU(size)
	}
	return v, nil
}

// load finds clip c in the first folder that has it; path is "" when none has.
func (v *Voice) load(c Clip) (path string, s []int16, err error) {
	for _, d := range v.dirs {
		p := filepath.Join(d, filepath.FromSlash(c.File()))
		b, err := readClip(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", nil, at(err, c.Name, p)
		}
		a, err := Decode(b)
		if err != nil {
			return "", nil, at(err, c.Name, p)
		}
		s, err := prepare(a)
		if err != nil {
			return "", nil, at(err, c.Name, p)
		}
		return p, s, nil
	}
	return "", nil, nil
}

func readClip(p string) ([]byte, error) {
	// Stat before opening: opening a FIFO someone left under a clip's name would block the load.
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

// Missing lists the clips of the configured languages that no folder holds, in Clips' order;
// nil when the set is complete.
func (v *Voice) Missing() []string { return append([]string(nil), v.missing...) }

// Source is the file clip name ("zh/qing") was loaded from; ok is false for a clip that is
// missing or not of a configured language.
func (v *Voice) Source(name string) (path string, ok bool) {
	path, ok = v.src[name]
	return path, ok
}

// Announce returns the announcement of ticket code at window as a complete mono 16-bit PCM WAV
// at Rate: the Mandarin sentence, then the English one when configured (see words for how codes
// and windows are read). A clip the announcement needs that no folder holds is CodeMissingClip
// naming it; a character no clip says is CodeUnspeakable; an empty code or window CodeInvalid.
// Recent announcements are cached (a recall asks for the same one again); the caller owns the
// returned slice.
func (v *Voice) Announce(code, window string) ([]byte, error) {
	key := strings.TrimSpace(code) + "\x00" + strings.TrimSpace(window)
	if v.cache != nil {
		v.mu.Lock()
		b, ok := v.cache.get(key)
		v.mu.Unlock()
		if ok {
			return append([]byte(nil), b...), nil
		}
	}
	b, err := v.render(code, window)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.mu.Lock()
		v.cache.put(key, b)
		v.mu.Unlock()
		b = append([]byte(nil), b...)
	}
	return b, nil
}

func (v *Voice) render(code, window string) ([]byte, error) {
	toks, err := words(code, window, v.english)
	if err != nil {
		return nil, err
	}
	ms := func(n int) int { return Rate * n / 1000 }
	// Lay out the pauses first so that the samples are allocated once.
	type part struct {
		gap  int // silent samples before the clip
		clip []int16
	}
	var parts []part
	gap, total := ms(leadMs), 0
	for _, t := range toks {
		if t.clip == "" {
			gap = max(gap, ms(int(t.pause)))
			continue
		}
		s, ok := v.clips[t.clip]
		if !ok {
			return nil, &Error{Code: CodeMissingClip, Clip: t.clip,
				Detail: fmt.Sprintf("no %s.wav in %s", t.clip, strings.Join(v.dirs, ", "))}
		}
		parts = append(parts, part{gap, s})
		total += gap + len(s)
		gap = ms(int(word))
	}
	out := make([]int16, 0, total+ms(tailMs))
	for _, p := range parts {
		out = append(out, make([]int16, p.gap)...)
		out = append(out, p.clip...)
	}
	out = append(out, make([]int16, ms(tailMs))...)
	return Encode(out, Rate), nil
}

// lru is a least-recently-used map of announcements; the caller locks.
type lru struct {
	size  int
	order *list.List // front is the most recent; values are *entry
	byKey map[string]*list.Element
}

type entry struct {
	key string
	wav []byte
}

func newLRU(size int) *lru {
	return &lru{size: size, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *lru) get(k string) ([]byte, bool) {
	e, ok := c.byKey[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*entry).wav, true
}

func (c *lru) put(k string, wav []byte) {
	if e, ok := c.byKey[k]; ok {
		e.Value.(*entry).wav = wav
		c.order.MoveToFront(e)
		return
	}
	c.byKey[k] = c.order.PushFront(&entry{k, wav})
	if c.order.Len() > c.size {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.byKey, old.Value.(*entry).key)
	}
}
