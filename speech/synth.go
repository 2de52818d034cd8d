package speech

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Engine is the program Synthesize runs; it must be on PATH.
const Engine = "espeak-ng"

// synthTimeout bounds one espeak-ng run: a clip takes it tens of milliseconds, so a run that
// hangs is broken, and a program should start without clips rather than not start.
const synthTimeout = 30 * time.Second

// Args are espeak-ng's arguments that write clip c to the file out; scripts/clips.sh runs the same.
func (c Clip) Args(out string) []string {
	return []string{"-v", c.Voice, "-s", strconv.Itoa(Speed), "-w", out, c.Text}
}

// Synthesize writes every clip into dir as {dir}/{Name}.wav, replacing those already there. Each
// file is written beside its place, checked to decode to sound, synced and renamed over it, so a
// reader sees either the old clip or the new one, and a crash leaves at most a stray ".tmp-"
// file. espeak-ng missing from PATH is CodeNoEngine (nothing is written); a run that fails or
// writes an unusable clip is CodeSynthesis naming the clip (the clips before it are kept).
func Synthesize(dir string, clips []Clip) error {
	bin, err := exec.LookPath(Engine)
	if err != nil {
		return errf(CodeNoEngine, "%s not found on PATH; install the espeak-ng package", Engine)
	}
	dirs := map[string]bool{}
	for _, c := range clips {
		d := filepath.Dir(filepath.Join(dir, filepath.FromSlash(c.File())))
		if !dirs[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			dirs[d] = true
		}
		if err := synthOne(bin, dir, c); err != nil {
			return err
		}
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

func synthOne(bin, dir string, c Clip) error {
	final := filepath.Join(dir, filepath.FromSlash(c.File()))
	f, err := os.CreateTemp(filepath.Dir(final), ".tmp-"+filepath.Base(final)+"-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	// espeak-ng rewrites the file in place and keeps CreateTemp's 0600: clips are not secret, and
	// a display session or a packager may read them as another user.
	err = errors.Join(f.Chmod(0o644), f.Close())
	if err != nil {
		os.Remove(tmp)
		return err
	}
	defer os.Remove(tmp) // a no-op once renamed
	ctx, cancel := context.WithTimeout(context.Background(), synthTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, c.Args(tmp)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return &Error{Code: CodeSynthesis, Clip: c.Name, Detail: strings.TrimSpace(err.Error() + " " + msg)}
	}
	b, err := os.ReadFile(tmp)
	if err != nil {
		return err
	}
	a, err := Decode(b)
	if err == nil {
		_, err = Prepare(a)
	}
	if e, ok := err.(*Error); ok {
		return &Error{Code: CodeSynthesis, Clip: c.Name, Detail: fmt.Sprintf("espeak-ng wrote an unusable clip (%s: %s)", e.Code, e.Detail)}
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, final)
}

func syncFile(p string) error {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

func syncDir(d string) error {
	f, err := os.Open(d)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// Missing lists the names of the clips that dir does not hold, in their order: a program
// synthesises when it is not empty. A file system error other than a missing file is returned.
func Missing(dir string, clips []Clip) ([]string, error) {
	var out []string
	for _, c := range clips {
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(c.File())))
		if err == nil && st.Mode().IsRegular() {
			continue
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		out = append(out, c.Name)
	}
	return out, nil
}
