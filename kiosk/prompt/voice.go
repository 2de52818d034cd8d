package prompt

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"citizenhome/speech"
)

// Speaker is what a Voice plays through: devices/speaker's, wired by cmd/kiosk (the core links
// no device library). Play and Tap start a sound, cutting short the one playing, and return at
// once; Volume is 0..100.
type Speaker interface {
	Play(samples []int16, rate int)
	Tap()
	Volume() int
	SetVolume(v int)
	Muted() bool
	SetMuted(on bool)
}

// Level is the voice's volume (0..100) and mute, as staff set them.
type Level struct {
	Volume int  `json:"volume"`
	Muted  bool `json:"muted"`
}

// Voice says prompts through a speaker, and keeps the level staff set across restarts in a
// small file. It is safe for concurrent use; its methods return at once (the speaker plays on
// its own goroutine) and never block the screen.
type Voice struct {
	prompts *Prompts
	sp      Speaker
	state   string
	log     *slog.Logger
	mu      sync.Mutex // orders SetLevel's writes
}

// NewVoice speaks prompts through sp. state is the file that keeps the level staff set ("": not
// kept); log gets what cannot be said (a clip missing) and a level that cannot be kept.
func NewVoice(prompts *Prompts, sp Speaker, state string, log *slog.Logger) *Voice {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Voice{prompts: prompts, sp: sp, state: state, log: log}
}

// Say says lines in lang (zh or en), one after the other, cutting short whatever was being said.
// A line that cannot be said (a clip missing, a ticket code with a character no clip says) is
// logged, and nothing is said.
func (v *Voice) Say(lang string, lines ...Line) {
	s, err := v.prompts.Render(lang, lines...)
	if err != nil {
		var what []Prompt
		for _, l := range lines {
			what = append(what, l.Prompt)
		}
		v.log.Warn("voice: prompt not said", "lang", lang, "prompts", what, "err", err)
		return
	}
	v.sp.Play(s, speech.Rate)
}

// Tap plays the tap click.
func (v *Voice) Tap() { v.sp.Tap() }

// Level is the speaker's volume and mute.
func (v *Voice) Level() Level { return Level{Volume: v.sp.Volume(), Muted: v.sp.Muted()} }

// SetLevel applies l at once (volume clamped to 0..100; muting cuts what is being said short)
// and keeps it in the state file, written beside it and renamed over it. The level applies even
// when it cannot be kept; the error then says why.
func (v *Voice) SetLevel(l Level) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.sp.SetVolume(l.Volume)
	v.sp.SetMuted(l.Muted)
	if v.state == "" {
		return nil
	}
	if err := SaveLevel(v.state, v.Level()); err != nil {
		v.log.Warn("voice: level not kept", "file", v.state, "err", err)
		return err
	}
	return nil
}

// LoadLevel reads a level SaveLevel wrote; ok is false when the file does not exist (staff never
// changed the level: the configuration's holds). A file that does not parse is an error.
func LoadLevel(path string) (l Level, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Level{}, false, nil
	}
	if err != nil {
		return Level{}, false, err
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return Level{}, false, fmt.Errorf("prompt: %s: %w", path, err)
	}
	l.Volume = max(0, min(100, l.Volume))
	return l, true, nil
}

// SaveLevel writes l to path atomically (a temporary file beside it, synced, renamed over it).
func SaveLevel(path string, l Level) error {
	b, _ := json.Marshal(l) // two plain fields: no error
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	_, err = f.Write(append(b, '\n'))
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
