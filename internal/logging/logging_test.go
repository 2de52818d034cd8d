package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"citizenhome/internal/logging/journaltest"
)

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": Text, "text": Text, "json": JSON} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "text or json") {
		t.Errorf("ParseFormat(xml): %v", err)
	}
}

func TestFormats(t *testing.T) {
	var b bytes.Buffer
	New(&b, JSON, slog.LevelInfo).Info("ticket issued", "ticket", "A012")
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil || m["ticket"] != "A012" || m["time"] == nil {
		t.Errorf("json line %q: %v", b.String(), err)
	}
	b.Reset()
	New(&b, Text, slog.LevelWarn).Info("hidden")
	if b.Len() != 0 {
		t.Errorf("info written at warn level: %q", b.String())
	}
}

// The journal is recognised by the device and inode of the stream, not by the variable alone.
func TestToJournal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	st := fi.Sys().(*syscall.Stat_t)
	if !toJournal(fmt.Sprintf("%d:%d", st.Dev, st.Ino), f) {
		t.Error("the stream's own dev:ino not recognised")
	}
	for _, s := range []string{"", "garbage", fmt.Sprintf("%d:%d", st.Dev, st.Ino+1)} {
		if toJournal(s, f) {
			t.Errorf("JOURNAL_STREAM=%q taken for this file", s)
		}
	}
}

func TestFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	build := Flags(fs)
	if err := fs.Parse([]string{"-log-format", "json", "-debug"}); err != nil {
		t.Fatal(err)
	}
	log, err := build()
	if err != nil || !log.Enabled(context.Background(), slog.LevelDebug) {
		t.Errorf("json+debug: %v, debug enabled %v", err, log != nil && log.Enabled(context.Background(), slog.LevelDebug))
	}
	fs = flag.NewFlagSet("y", flag.ContinueOnError)
	build = Flags(fs)
	_ = fs.Parse([]string{"-log-format", "yaml"})
	if _, err := build(); err == nil {
		t.Error("-log-format yaml accepted")
	}
}

func TestPriority(t *testing.T) {
	for _, c := range []struct {
		level slog.Level
		want  int
	}{
		{slog.LevelDebug - 4, 7}, {slog.LevelDebug, 7}, {slog.LevelInfo - 1, 7},
		{slog.LevelInfo, 6}, {slog.LevelInfo + 2, 6},
		{slog.LevelWarn, 4}, {slog.LevelWarn + 1, 4},
		{slog.LevelError, 3}, {slog.LevelError + 4, 3},
	} {
		if got := Priority(c.level); got != c.want {
			t.Errorf("Priority(%v) = %d, want %d", c.level, got, c.want)
		}
	}
}

// Under the journal every line starts with its priority and has no time; elsewhere lines are
// left as they were.
func TestJournalLines(t *testing.T) {
	for _, f := range []Format{Text, JSON} {
		var b bytes.Buffer
		log := build(&b, f, slog.LevelDebug, true).With("component", "test")
		log.Debug("d")
		log.Info("i", "k", "v")
		log.Warn("w")
		log.Error("e", "err", "line one\nline two")
		log.WithGroup("g").Warn("grouped", "a", 1)
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		want := []string{"<7>", "<6>", "<4>", "<3>", "<4>"}
		if len(lines) != len(want) {
			t.Fatalf("%s: %d lines, want %d (a record split over lines?):\n%s", f, len(lines), len(want), b.String())
		}
		for i, l := range lines {
			if !strings.HasPrefix(l, want[i]) || strings.HasPrefix(l[3:], "<") {
				t.Errorf("%s line %d %q: want prefix %s", f, i, l, want[i])
			}
			if strings.Contains(l, "time") || !strings.Contains(l, "test") {
				t.Errorf("%s line %d %q: time kept or attributes lost", f, i, l)
			}
		}
		if f == JSON {
			var m map[string]any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[1], "<6>")), &m); err != nil || m["k"] != "v" {
				t.Errorf("json after the prefix: %q: %v", lines[1], err)
			}
		}
	}
	var b bytes.Buffer
	build(&b, Text, slog.LevelInfo, false).Warn("w")
	if strings.HasPrefix(b.String(), "<") || !strings.Contains(b.String(), "time=") {
		t.Errorf("outside the journal: %q", b.String())
	}
}

// Records from many goroutines each keep their own priority.
func TestJournalPrefixConcurrent(t *testing.T) {
	var b bytes.Buffer
	log := build(&b, Text, slog.LevelDebug, true)
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 200 {
				log.Warn("warn-line")
				log.Info("info-line")
			}
		}()
	}
	for range 4 {
		<-done
	}
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if strings.Contains(l, "warn-line") != strings.HasPrefix(l, "<4>") || strings.Contains(l, "info-line") != strings.HasPrefix(l, "<6>") {
			t.Fatalf("line with the wrong priority: %q", l)
		}
	}
}

// The test binary run as a child whose stderr is a real journald stream: New must recognise it
// from JOURNAL_STREAM and prefix every line.
func TestJournaldChild(t *testing.T) {
	if os.Getenv("CITIZENHOME_JOURNALD_CHILD") != "1" {
		t.Skip("run by TestJournald as its child")
	}
	log := New(os.Stderr, Format(os.Getenv("CITIZENHOME_JOURNALD_FORMAT")), slog.LevelDebug)
	log.Debug("child debug line")
	log.Info("child info line", "device", "printer")
	log.Warn("child warning line", "device", "printer", "state", "offline")
	log.Error("child error line", "err", "broken")
}

// What a crew types, journalctl -p warning, finds the warnings and errors and nothing else; each
// line is filed under its own priority, without the "<N>" and without a time of its own.
func TestJournald(t *testing.T) {
	j := journaltest.Start(t)
	for _, f := range []Format{Text, JSON} {
		ident := "journaltest-" + string(f)
		stream, env := j.Stream(t, ident)
		cmd := exec.Command(os.Args[0], "-test.run=^TestJournaldChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "CITIZENHOME_JOURNALD_CHILD=1", "CITIZENHOME_JOURNALD_FORMAT="+string(f), env)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, stream
		err := cmd.Run()
		stream.Close()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out.String())
		}
		all := j.WaitFor(t, 10*time.Second, func(es []journaltest.Entry) bool { return len(es) >= 4 }, "SYSLOG_IDENTIFIER="+ident)
		want := map[string]string{"child debug line": "7", "child info line": "6", "child warning line": "4", "child error line": "3"}
		for _, e := range all {
			msg := e.Field("MESSAGE")
			found := false
			for text, prio := range want {
				if strings.Contains(msg, text) {
					found = true
					if e.Field("PRIORITY") != prio {
						t.Errorf("%s: %q filed at priority %s, want %s", f, msg, e.Field("PRIORITY"), prio)
					}
				}
			}
			if !found {
				t.Errorf("%s: unexpected entry %q", f, msg)
			}
			if strings.HasPrefix(msg, "<") || strings.Contains(msg, "time") {
				t.Errorf("%s: entry %q kept its prefix or a time", f, msg)
			}
		}
		warn := j.Entries(t, "-p", "warning", "SYSLOG_IDENTIFIER="+ident)
		var got []string
		for _, e := range warn {
			got = append(got, e.Field("MESSAGE"))
		}
		if len(warn) != 2 || !strings.Contains(got[0], "child warning line") || !strings.Contains(got[1], "child error line") {
			t.Errorf("%s: journalctl -p warning found %q, want the warning and the error", f, got)
		}
	}
}
