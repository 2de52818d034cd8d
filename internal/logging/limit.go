package logging

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultEvery is the shortest interval between two lines of a Limited.
const DefaultEvery = time.Minute

// LimitOptions tune NewLimited. The zero value is a line a minute on the real clock.
type LimitOptions struct {
	// Every is the shortest interval between two lines; 0: DefaultEvery.
	Every time.Duration
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// AfterFunc runs f once, d from now (the summary's timer); nil: time.AfterFunc. Tests pass
	// one driven by their own clock.
	AfterFunc func(d time.Duration, f func())
}

// Limited logs an event that can repeat fast, such as a client hammering the local API with a
// wrong token: the first occurrence at once, then at most one line per Every, each carrying
// "count", the number of occurrences it stands for, so that a flood costs a line a minute and
// none goes unreported. Occurrences that fall within Every of the last line are written
// together once that interval has passed, with the attributes of the latest of them; a quiet
// spell of Every or more makes the next occurrence a line of its own again. Safe for concurrent
// use.
type Limited struct {
	log   *slog.Logger
	level slog.Level
	msg   string
	every time.Duration
	now   func() time.Time
	after func(time.Duration, func())

	mu      sync.Mutex
	last    time.Time // when the last line was written; zero: never
	pending int64     // occurrences since then, not written yet
	args    []any     // the attributes of the latest pending one
	armed   bool      // the summary's timer runs
}

// NewLimited returns a Limited writing msg at level to log.
func NewLimited(log *slog.Logger, level slog.Level, msg string, o LimitOptions) *Limited {
	if o.Every <= 0 {
		o.Every = DefaultEvery
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AfterFunc == nil {
		o.AfterFunc = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
	}
	return &Limited{log: log, level: level, msg: msg, every: o.Every, now: o.Now, after: o.AfterFunc}
}

// Log records one occurrence with its attributes (slog's key-value pairs; "count" is added).
// It never blocks on anything but the logger.
func (l *Limited) Log(args ...any) {
	l.mu.Lock()
	now := l.now()
	if l.pending == 0 && (l.last.IsZero() || now.Sub(l.last) >= l.every) {
		l.last = now
		l.mu.Unlock()
		l.log.Log(context.Background(), l.level, l.msg, append(args, "count", 1)...)
		return
	}
	l.pending++
	l.args = args
	if !l.armed {
		l.armed = true
		l.after(max(l.last.Add(l.every).Sub(now), 0), l.flush)
	}
	l.mu.Unlock()
}

// Flush writes the occurrences not written yet, now, as one line (nothing when there are none):
// a program stopping calls it, so that its last minute is not lost. The summary's timer, still
// armed, then finds nothing to write.
func (l *Limited) Flush() {
	l.mu.Lock()
	l.write()
}

// flush is the summary's timer.
func (l *Limited) flush() {
	l.mu.Lock()
	l.armed = false
	l.write()
}

// write writes the pending occurrences as one line; l.mu held, and released.
func (l *Limited) write() {
	n, args := l.pending, l.args
	if n == 0 {
		l.mu.Unlock()
		return
	}
	now := l.now()
	over := now.Sub(l.last).Round(time.Second)
	l.pending, l.args, l.last = 0, nil, now
	l.mu.Unlock()
	l.log.Log(context.Background(), l.level, l.msg, append(args, "count", n, "over", over.String())...)
}
