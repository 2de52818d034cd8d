// Package journal builds the programs' structured logger (log/slog on stderr). Under systemd,
// stderr is the journal: it stamps each line itself, so the logger leaves the time out there.
//
// What is logged never holds personal data: the types that carry it (kiosk.Person, hall.Identity,
// citycard numbers) log themselves masked, and errors name fields, not values.
package journal

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
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
// (systemd's JOURNAL_STREAM names its device and inode), the time attribute is dropped.
func New(w io.Writer, f Format, level slog.Level) *slog.Logger {
	o := &slog.HandlerOptions{Level: level}
	if w == os.Stderr && toJournal(os.Getenv("JOURNAL_STREAM"), os.Stderr) {
		o.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
	}
	if f == JSON {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
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
