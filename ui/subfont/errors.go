package subfont

import (
	"fmt"
	"strings"
)

// Code classifies an [Error]. Codes are stable: callers may switch on them or log them. The
// zero Code is CodeUnknown and never produced by this package.
type Code int

// Error codes. Each has a matching sentinel (ErrNotTrueType, ...) for errors.Is.
const (
	CodeUnknown Code = iota
	// CodeNotTrueType: the bytes are no font file the package reads: a WOFF/WOFF2 file, or not
	// a font at all. The message says which. (The name is older than the package's CFF and
	// collection support: TrueType, CFF and .ttc files are all read now.)
	CodeNotTrueType
	// CodeTruncated: the file or one of its tables ends before a structure it declares.
	CodeTruncated
	// CodeCorrupt: a value is out of range or inconsistent (loca offsets going backwards,
	// a composite glyph naming a glyph that does not exist, unsorted cmap groups, ...).
	CodeCorrupt
	// CodeMissingTable: a table every TrueType font needs (head, hhea, maxp, hmtx, cmap,
	// loca, glyf; CFF for an "OTTO" font) is absent.
	CodeMissingTable
	// CodeUnsupported: the font is TrueType but uses something this package cannot subset,
	// such as a cmap with no Unicode subtable of format 4 or 12 (symbol fonts), CFF2 outlines
	// or Type 1 charstrings in a CFF table.
	CodeUnsupported
	// CodeNoFace: a font collection (.ttc) has no face of the family asked for. The message
	// lists the families it has.
	CodeNoFace
)

var codeNames = [...]string{
	CodeUnknown:      "unknown",
	CodeNotTrueType:  "not-truetype",
	CodeTruncated:    "truncated",
	CodeCorrupt:      "corrupt",
	CodeMissingTable: "missing-table",
	CodeUnsupported:  "unsupported",
	CodeNoFace:       "no-face",
}

// String returns the short kebab-case name of c ("missing-table"); unknown values print as
// "code(N)".
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Error is the error type of every failure [Subset] reports. Match it with
// errors.Is(err, ErrTruncated) (compares Code only) or errors.As to read Table.
type Error struct {
	Code Code
	// Table is the tag of the table at fault ("glyf", "cmap"), empty for the file header.
	Table string
	// Detail says what was wrong, for people; it never contains font data beyond numbers.
	Detail string
}

// Error formats as "subfont: glyf: truncated: glyph 12 ends at 900 past the table end 640".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("subfont: ")
	if e.Table != "" {
		b.WriteString(e.Table)
		b.WriteString(": ")
	}
	b.WriteString(e.Code.String())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Is reports whether target is an *Error with the same Code, so the sentinels below match any
// error of their code whatever its table and detail.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is. They are never returned themselves.
var (
	ErrNotTrueType  = &Error{Code: CodeNotTrueType}
	ErrTruncated    = &Error{Code: CodeTruncated}
	ErrCorrupt      = &Error{Code: CodeCorrupt}
	ErrMissingTable = &Error{Code: CodeMissingTable}
	ErrUnsupported  = &Error{Code: CodeUnsupported}
	ErrNoFace       = &Error{Code: CodeNoFace}
)

func errorf(code Code, table, format string, args ...any) error {
	return &Error{Code: code, Table: table, Detail: fmt.Sprintf(format, args...)}
}
