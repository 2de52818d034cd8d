package journal

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
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
