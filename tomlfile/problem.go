// Package tomlfile reads a TOML configuration file strictly into a tagged Go struct, the way a
// technician wants to be told about it: every problem of the file at once, each with its line
// and dotted key ("queue.category[1].letter"), in plain words ("expected a whole number like 3,
// got the text \"3\" (remove the quotes)"), so that one edit fixes them all.
//
// Decode reads the document over a struct that holds the defaults: an unknown key (with the key
// it was probably meant to be), a value of the wrong kind (what the key wants, with an example,
// and what the file gives) and a text its type refuses (a duration) are each a Problem. The
// caller then validates what decoded through File.Add, which keeps one problem per key, and
// takes File.Problems. A syntax error, or a key defined twice, is the only problem of its file:
// nothing after it can be read reliably.
//
// The struct's fields are tagged `toml:"name"` (`toml:"-"`: not in the file) and are texts,
// whole numbers, numbers, booleans, tables (structs), lists of those, arrays of tables (slices
// of structs), and texts a type parses itself (a struct whose pointer implements
// encoding.TextUnmarshaler; one that embeds time.Duration is worded as a duration).
//
// The package imports nothing of the module: every layer may use it.
package tomlfile

import (
	"fmt"
	"strconv"
	"strings"
)

// Problem is one problem of a file. The callers' own error types share its fields, in this
// order, so that a Problem converts to them and they format through it.
type Problem struct {
	File string // empty when the bytes came from no file
	Key  string // dotted path, "queue.category[1].letter"; empty for a syntax error
	// Where names the entry of an array of tables the key is in, for a reader who does not count
	// tables: `letter "C"` (see Options.Entries). Empty elsewhere.
	Where string
	Line  int // 1-based; 0 when the key is not in the file (a missing required value)
	Msg   string
}

// Error gives "file:line: key (where): message", leaving out what is empty.
func (p *Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File + ":")
	}
	if p.Line > 0 {
		b.WriteString(strconv.Itoa(p.Line) + ":")
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	switch {
	case p.Key != "" && p.Where != "":
		fmt.Fprintf(&b, "%s (%s): ", p.Key, p.Where)
	case p.Key != "":
		b.WriteString(p.Key + ": ")
	}
	return b.String() + p.Msg
}

// Join gives the errors of a list one per line, for a list type's Error method. An empty list
// gives "".
func Join[E error](es []E) string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives the errors of a list as []error, for a list type's Unwrap method (errors.As and
// errors.Is then look at each).
func Unwrap[E error](es []E) []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
