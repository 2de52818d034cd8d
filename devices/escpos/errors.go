package escpos

import (
	"fmt"
	"strings"
)

// Code classifies an [Error]. Codes are stable: callers may switch on them, log them, or map
// them to API responses. The zero Code is CodeUnknown and never produced by this package.
type Code int

// Error codes. Each has a matching sentinel (ErrBadDoc, ErrTimeout, ...) for errors.Is.
const (
	CodeUnknown Code = iota
	// CodeBadDoc: the document cannot be encoded (size out of range, barcode character
	// outside CODE128 set B, QR data too long for the paper, ...). Nothing was sent.
	CodeBadDoc
	// CodeTimeout: a write did not complete, or a reply did not arrive, within its deadline.
	CodeTimeout
	// CodeOffline: the printer says it is offline without a more specific cause, does not
	// answer status requests, or its port failed (device unplugged, closed pipe).
	CodeOffline
	// CodePaperOut: the paper end sensor reports no paper.
	CodePaperOut
	// CodeCoverOpen: the cover is open.
	CodeCoverOpen
	// CodePrinterError: auto-cutter error, unrecoverable error, or auto-recoverable error
	// (head too hot).
	CodePrinterError
	// CodeGarbled: a status reply did not have the fixed bits of a real-time status byte.
	CodeGarbled
	// CodeCanceled: the caller's context ended before anything was written.
	CodeCanceled
	// CodeClosed: the Printer was closed.
	CodeClosed
	// CodeUnsupported: the option is not available on this platform or port.
	CodeUnsupported
)

var codeNames = [...]string{
	CodeUnknown:      "unknown",
	CodeBadDoc:       "bad-doc",
	CodeTimeout:      "timeout",
	CodeOffline:      "offline",
	CodePaperOut:     "paper-out",
	CodeCoverOpen:    "cover-open",
	CodePrinterError: "printer-error",
	CodeGarbled:      "garbled",
	CodeCanceled:     "canceled",
	CodeClosed:       "closed",
	CodeUnsupported:  "unsupported",
}

// String returns the short kebab-case name of c ("paper-out"); unknown values print as
// "code(N)".
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Error is the error type of every failure this package reports. Match it with
// errors.Is(err, ErrPaperOut) (compares Code only) or errors.As to read the details.
//
// For Print, Sent and Total tell how far the job got: Sent == 0 means nothing of the job
// reached the port, so it is safe to print the same job again; 0 < Sent < Total is a partial
// job (never retried by this package); Sent == Total with a non-nil error means the whole
// job was delivered but the status read afterwards shows a problem, so the ticket may be
// incomplete on paper. When a write timed out on a port without write deadlines, Sent is a
// lower bound: the stuck write may still deliver bytes later.
type Error struct {
	Code Code
	// Op is the operation: "encode", "status", "print", "write", "open".
	Op string
	// Status is the printer status that caused the error, when one was read.
	Status *Status
	// Sent and Total are job byte counts (Print only; zero otherwise).
	Sent, Total int
	// Err is the underlying cause, if any (an OS error, a nested *Error, a context error).
	Err error
}

// Error formats as "escpos: print: paper-out (sent 0/812 bytes): cause".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("escpos: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Code.String())
	if e.Total > 0 {
		fmt.Fprintf(&b, " (sent %d/%d bytes)", e.Sent, e.Total)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause, so errors.Is also sees nested codes and OS errors.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code. Other fields are ignored, so
// the sentinels below match any error of their code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Partial reports whether part, but not all, of a print job reached the port.
func (e *Error) Partial() bool { return e.Sent > 0 && e.Sent < e.Total }

// Sentinels for errors.Is. They are never returned themselves; returned errors carry Op,
// Status and byte counts.
var (
	ErrBadDoc       = &Error{Code: CodeBadDoc}
	ErrTimeout      = &Error{Code: CodeTimeout}
	ErrOffline      = &Error{Code: CodeOffline}
	ErrPaperOut     = &Error{Code: CodePaperOut}
	ErrCoverOpen    = &Error{Code: CodeCoverOpen}
	ErrPrinterError = &Error{Code: CodePrinterError}
	ErrGarbled      = &Error{Code: CodeGarbled}
	ErrCanceled     = &Error{Code: CodeCanceled}
	ErrClosed       = &Error{Code: CodeClosed}
	ErrUnsupported  = &Error{Code: CodeUnsupported}
)

func badDoc(format string, args ...any) error {
	return &Error{Code: CodeBadDoc, Op: "encode", Err: fmt.Errorf(format, args...)}
}
