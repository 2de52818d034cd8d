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
// Every clip is normalised on load to 16-bit mono at speech.Rate, its leading and trailing silence
// cut and its peak levelled (package speech), so that recordings of any rate, width and loudness
// mix with the synthesised ones.
package voice

import (
	"container/list"
	"strings"
	"sync"
	"time"

	"citizenhome/speech"
)

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
	set     *speech.Set

	mu    sync.Mutex
	cache *lru
}

// New loads the Mandarin clips from dirs, the hall's folder first (see Options.Dirs).
func New(dirs ...string) (*Voice, error) {
	return Load(Options{Dirs: dirs})
}

// Load reads, checks and prepares every clip of the configured languages (speech.Load). A clip
// file that is broken (not a WAV, truncated, an unsupported format, silent, over
// speech.MaxClipBytes) fails the load with that *speech.Error, naming the clip and the file, even
// when a later folder holds a good one: a hall's recording that is broken is a mistake to fix,
// not to paper over. Clips no folder holds do not fail the load: Missing lists them, and Announce
// fails on the first it needs.
func Load(o Options) (*Voice, error) {
	langs := []string{Chinese}
	if o.English {
		langs = append(langs, English)
	}
	clips, _ := Clips(langs...) // known languages: no error
	set, err := speech.Load(o.Dirs, clips)
	if err != nil {
		return nil, err
	}
	v := &Voice{english: o.English, set: set}
	size := o.Cache
	if size == 0 {
		size = 64
	}
	if size > 0 {
		v.cache = newLRU(size)
	}
	return v, nil
}

// Missing lists the clips of the configured languages that no folder holds, in Clips' order;
// nil when the set is complete.
func (v *Voice) Missing() []string { return v.set.Missing() }

// Source is the file clip name ("zh/qing") was loaded from; ok is false for a clip that is
// missing or not of a configured language.
func (v *Voice) Source(name string) (path string, ok bool) { return v.set.Source(name) }

// Announce returns the announcement of ticket code at window as a complete mono 16-bit PCM WAV
// at speech.Rate: the Mandarin sentence, then the English one when configured (see words for how codes
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
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var parts []speech.Part
	gap := ms(leadMs)
	for _, t := range toks {
		if t.clip == "" {
			gap = max(gap, ms(int(t.pause)))
			continue
		}
		parts = append(parts, speech.Part{Clip: t.clip, Before: gap})
		gap = ms(int(word))
	}
	s, err := v.set.Join(parts, ms(tailMs))
	if err != nil {
		return nil, err
	}
	return speech.Encode(s, speech.Rate), nil
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
