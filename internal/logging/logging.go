// Package logging builds the programs' structured logger (log/slog on stderr). Under systemd,
// stderr is the journal: it stamps each line itself, so the logger leaves the time out there, and
// each line starts with its syslog priority ("<4>" for a warning), which journald takes off and
// files the line under (its SyslogLevelPrefix, on by default), so that `journalctl -p warning`
// finds the warnings and errors.
//
// What is logged never holds personal data: the types that carry it (kiosk.Person, civic.Identity,
// citycard numbers) log themselves masked, and errors name fields, not values.
package logging

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
)

// Format is the line format: "text" (key=value, the default) or "json" (one object a line, for
// log shippers).
type Format string

// Formats.
const (
	Text Format = "text"
	JSON Format = "json"
)

// ParseFormat checks a -log-format value; "" is Text.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case "", Text:
		return Text, nil
	case JSON:
		return JSON, nil
	}
	return "", fmt.Errorf("log format %q: want text or json", s)
}

// New returns a logger writing f to w at level. When w is os.Stderr connected to the journal
// (systemd's JOURNAL_STREAM names its device and inode), the time attribute is dropped and each
// line is prefixed with its syslog priority (see Priority).
func New(w io.Writer, f Format, level slog.Level) *slog.Logger {
	return build(w, f, level, w == os.Stderr && toJournal(os.Getenv("JOURNAL_STREAM"), os.Stderr))
}

// build is New with the journal's decision made: journal drops the time and adds the priority.
func build(w io.Writer, f Format, level slog.Level, journal bool) *slog.Logger {
	o := &slog.HandlerOptions{Level: level}
	var pw *prefixWriter
	if journal {
		o.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
		pw = &prefixWriter{w: w}
		w = pw
	}
	var h slog.Handler
	if f == JSON {
		h = slog.NewJSONHandler(w, o)
	} else {
		h = slog.NewTextHandler(w, o)
	}
	if pw != nil {
		h = &prefixed{inner: h, w: pw}
	}
	return slog.New(h)
}

// Priority is the syslog priority a line of level is filed under in the journal: 3 (err) from
// slog.LevelError up, 4 (warning) from slog.LevelWarn, 6 (info) from slog.LevelInfo, 7 (debug)
// below. A level between two of slog's takes the priority of the one below it (no level maps to
// 5, notice: nothing the programs log is meant for it).
func Priority(level slog.Level) int {
	switch {
	case level >= slog.LevelError:
		return 3
	case level >= slog.LevelWarn:
		return 4
	case level >= slog.LevelInfo:
		return 6
	}
	return 7
}

// prefixed hands records to inner, whose writer is w, with w told the record's level first: the
// slog handlers write each record with a single Write, which w prefixes with the priority.
type prefixed struct {
	inner slog.Handler
	w     *prefixWriter
}

func (h *prefixed) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *prefixed) Handle(ctx context.Context, r slog.Record) error {
	h.w.mu.Lock()
	defer h.w.mu.Unlock()
	h.w.level = r.Level
	return h.inner.Handle(ctx, r)
}

func (h *prefixed) WithAttrs(as []slog.Attr) slog.Handler {
	return &prefixed{inner: h.inner.WithAttrs(as), w: h.w}
}

func (h *prefixed) WithGroup(name string) slog.Handler {
	return &prefixed{inner: h.inner.WithGroup(name), w: h.w}
}

// prefixWriter writes each line with "<N>" before it, N the priority of level. mu (held by
// prefixed.Handle around the inner handler's Write) makes level the line's own, and prefix and
// line go out in one write, so that another writer of the same stream cannot split them.
type prefixWriter struct {
	mu    sync.Mutex
	w     io.Writer
	level slog.Level
	buf   []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf[:0], '<', byte('0'+Priority(p.level)), '>')
	p.buf = append(p.buf, b...)
	if _, err := p.w.Write(p.buf); err != nil {
		return 0, err
	}
	return len(b), nil
}

// toJournal reports whether stream ("DEV:INODE", from JOURNAL_STREAM) is f: systemd passes the
// variable on to children whose stderr may have been redirected since, so the pair is compared.
func toJournal(stream string, f *os.File) bool {
	dev, ino, ok := strings.Cut(stream, ":")
	if !ok || f == nil {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	return fmt.Sprint(st.Dev) == dev && fmt.Sprint(st.Ino) == ino
}

// Flags adds the programs' logging flags to fs (-log-format text|json, -debug); after fs is
// parsed, the returned function builds the logger on stderr, or says which flag value is wrong.
func Flags(fs *flag.FlagSet) func() (*slog.Logger, error) {
	format := fs.String("log-format", string(Text), "log lines as text (key=value) or json; to stderr, which is the journal under systemd")
	debug := fs.Bool("debug", false, "log debug messages too")
	return func() (*slog.Logger, error) {
		f, err := ParseFormat(*format)
		if err != nil {
			return nil, err
		}
		level := slog.LevelInfo
		if *debug {
			level = slog.LevelDebug
		}
		return New(os.Stderr, f, level), nil
	}
}
