package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/kiosk/kiosktest"
)

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
	clk := kiosktest.NewClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	l := NewLimited(slog.New(slog.NewJSONHandler(&b, nil)), slog.LevelWarn, "refused",
		LimitOptions{Every: time.Minute, Now: clk.Now, AfterFunc: clk.AfterFunc})

	l.Log("remote", "a")
	if got := limitLines(t, &b); len(got) != 1 || got[0].Count != 1 || got[0].Remote != "a" || got[0].Level != "WARN" {
		t.Fatalf("first occurrence: %+v", got)
	}
	for i := range 50 {
		clk.Add(time.Second)
		l.Log("remote", string(rune('b'+i%3)))
	}
	if got := limitLines(t, &b); len(got) != 0 {
		t.Fatalf("lines within the minute: %+v", got)
	}
	if clk.Pending() != 1 {
		t.Fatalf("%d summary timers armed, want 1", clk.Pending())
	}
	clk.Add(9 * time.Second) // 59 s after the first line
	if got := limitLines(t, &b); len(got) != 0 {
		t.Fatalf("summary before the minute: %+v", got)
	}
	clk.Add(time.Second)
	got := limitLines(t, &b)
	if len(got) != 1 || got[0].Count != 50 || got[0].Remote != "c" || got[0].Over != "1m0s" {
		t.Fatalf("summary: %+v", got)
	}

	// Occurrences keep coming: one line a minute.
	for range 3 {
		for range 5 {
			clk.Add(10 * time.Second)
			l.Log("remote", "d")
		}
		clk.Add(10 * time.Second)
		if got := limitLines(t, &b); len(got) != 1 || got[0].Count != 5 {
			t.Fatalf("steady flood: %+v", got)
		}
	}
	// A quiet minute (nothing pending: the timer writes nothing), then one at once again.
	clk.Add(5 * time.Minute)
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
	clk := kiosktest.NewClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	l := NewLimited(slog.New(slog.NewJSONHandler(&syncWriter{w: &b}, nil)), slog.LevelWarn, "refused",
		LimitOptions{Now: clk.Now, AfterFunc: clk.AfterFunc})
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
	clk.Add(DefaultEvery)
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
	clk := kiosktest.NewClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	l := NewLimited(slog.New(slog.NewJSONHandler(&b, nil)), slog.LevelWarn, "refused",
		LimitOptions{Now: clk.Now, AfterFunc: clk.AfterFunc})
	l.Flush()
	if b.Len() != 0 {
		t.Fatalf("flush with nothing seen: %q", b.String())
	}
	for range 4 {
		l.Log("remote", "x")
	}
	limitLines(t, &b)
	clk.Add(10 * time.Second)
	l.Flush()
	if got := limitLines(t, &b); len(got) != 1 || got[0].Count != 3 || got[0].Over != "10s" {
		t.Fatalf("flush: %+v", got)
	}
	clk.Add(time.Minute)
	if got := limitLines(t, &b); len(got) != 0 {
		t.Errorf("the timer wrote again after the flush: %+v", got)
	}
}
