package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTimers is a clock whose AfterFunc timers fire when the test moves the time past them.
type fakeTimers struct {
	mu     sync.Mutex
	t      time.Time
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	f  func()
}

func (c *fakeTimers) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeTimers) afterFunc(d time.Duration, f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timers = append(c.timers, fakeTimer{c.t.Add(d), f})
}

// advance moves the clock by d, firing the timers due on the way.
func (c *fakeTimers) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	var due []func()
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if !tm.at.After(c.t) {
			due = append(due, tm.f)
		} else {
			kept = append(kept, tm)
		}
	}
	c.timers = kept
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

func (c *fakeTimers) armed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

type limitLine struct {
	Msg    string `json:"msg"`
	Level  string `json:"level"`
	Count  int64  `json:"count"`
	Remote string `json:"remote"`
	Over   string `json:"over"`
}

func limitLines(t *testing.T, b *bytes.Buffer) []limitLine {
	t.Helper()
	var out []limitLine
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var ll limitLine
		if err := json.Unmarshal([]byte(l), &ll); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, ll)
	}
	b.Reset()
	return out
}

// The first occurrence is written at once; those within the minute after it are written as one
// line when the minute is over, with their count and the latest one's attributes; after a quiet
// minute the next one is written at once again. No occurrence goes uncounted.
func TestLimited(t *testing.T) {
	var b bytes.Buffer
	clk := &fakeTimers{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	l := NewLimited(slog.New(slog.NewJSONHandler(&b, nil)), slog.LevelWarn, "refused",
		LimitOptions{Every: time.Minute, Now: clk.now, AfterFunc: clk.afterFunc})

	l.Log("remote", "a")
	if got := limitLines(t, &b); len(got) != 1 || got[0].Count != 1 || got[0].Remote != "a" || got[0].Level != "WARN" {
		t.Fatalf("first occurrence: %+v", got)
	}
	for i := range 50 {
		clk.advance(time.Second)
		l.Log("remote", string(rune('b'+i%3)))
	}
	if got := limitLines(t, &b); len(got) != 0 {
		t.Fatalf("lines within the minute: %+v", got)
	}
	if clk.armed() != 1 {
		t.Fatalf("%d summary timers armed, want 1", clk.armed())
	}
	clk.advance(9 * time.Second) // 59 s after the first line
	if got := limitLines(t, &b); len(got) != 0 {
		t.Fatalf("summary before the minute: %+v", got)
	}
	clk.advance(time.Second)
	got := limitLines(t, &b)
	if len(got) != 1 || got[0].Count != 50 || got[0].Remote != "c" || got[0].Over != "1m0s" {
		t.Fatalf("summary: %+v", got)
	}

	// Occurrences keep coming: one line a minute.
	for range 3 {
		for range 5 {
			clk.advance(10 * time.Second)
			l.Log("remote", "d")
		}
		clk.advance(10 * time.Second)
		if got := limitLines(t, &b); len(got) != 1 || got[0].Count != 5 {
			t.Fatalf("steady flood: %+v", got)
		}
	}
	// A quiet minute (nothing pending: the timer writes nothing), then one at once again.
	clk.advance(5 * time.Minute)
	if got := limitLines(t, &b); len(got) != 0 {
		t.Fatalf("lines while quiet: %+v", got)
	}
	l.Log("remote", "e")
	if got := limitLines(t, &b); len(got) != 1 || got[0].Count != 1 || got[0].Remote != "e" {
		t.Fatalf("after a quiet spell: %+v", got)
	}
}

// Many goroutines at once: every occurrence is counted exactly once across the lines.
func TestLimitedConcurrent(t *testing.T) {
	var b bytes.Buffer
	clk := &fakeTimers{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	l := NewLimited(slog.New(slog.NewJSONHandler(&syncWriter{w: &b}, nil)), slog.LevelWarn, "refused",
		LimitOptions{Now: clk.now, AfterFunc: clk.afterFunc})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				l.Log()
			}
		}()
	}
	wg.Wait()
	clk.advance(DefaultEvery)
	var total int64
	lines := limitLines(t, &b)
	for _, ll := range lines {
		total += ll.Count
	}
	if total != 800 || len(lines) != 2 {
		t.Errorf("%d lines counting %d occurrences, want 2 lines counting 800", len(lines), total)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Flush writes what is pending at once (a program stopping), and the timer then writes nothing.
func TestLimitedFlush(t *testing.T) {
	var b bytes.Buffer
	clk := &fakeTimers{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	l := NewLimited(slog.New(slog.NewJSONHandler(&b, nil)), slog.LevelWarn, "refused",
		LimitOptions{Now: clk.now, AfterFunc: clk.afterFunc})
	l.Flush()
	if b.Len() != 0 {
		t.Fatalf("flush with nothing seen: %q", b.String())
	}
	for range 4 {
		l.Log("remote", "x")
	}
	limitLines(t, &b)
	clk.advance(10 * time.Second)
	l.Flush()
	if got := limitLines(t, &b); len(got) != 1 || got[0].Count != 3 || got[0].Over != "10s" {
		t.Fatalf("flush: %+v", got)
	}
	clk.advance(time.Minute)
	if got := limitLines(t, &b); len(got) != 0 {
		t.Errorf("the timer wrote again after the flush: %+v", got)
	}
}
