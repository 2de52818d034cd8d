// Package journal builds the programs' structured logger (log/slog on stderr). Under systemd,
// stderr is the journal: it stamps each line itself, so the logger leaves the time out there.
//
// What is logged never holds personal data: the types that carry it (kiosk.Person, hall.Identity,
// citycard numbers) log themselves masked, and errors name fields, not values.
package journal

import (
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
