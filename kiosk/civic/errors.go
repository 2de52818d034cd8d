package civic

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Code names a kind of error. The values are stable and fit the local API's
// {"error": {"code": ...}} objects and the screens' choice of what to say next.
type Code string

// Error codes.
const (
	CodeInvalid          Code = "invalid-request"    // malformed input: a rating level, a complaint, a code
	CodeNotFound         Code = "not-found"          // nothing under that code or ticket
	CodeNoIdentity       Code = "no-identity"        // no ID card or city card in the session
	CodeNoAppointment    Code = "no-appointment"     // the person has no booking at all
	CodeTooEarly         Code = "too-early"          // today's booking, its check-in window not open yet
	CodeTooLate          Code = "too-late"           // today's booking, its check-in window closed
	CodeWrongDay         Code = "wrong-day"          // a booking on another day only
	CodeCancelled        Code = "cancelled"          // today's booking was cancelled on the platform
	CodeAlreadyCheckedIn Code = "already-checked-in" // one check-in per booking
	CodeAlreadyRated     Code = "already-rated"      // one rating per ticket
	CodeBadFile          Code = "bad-import-file"    // an import file was rejected whole
	CodeKey              Code = "bad-key"            // the hall key file is unusable
	CodeSource           Code = "source-unavailable" // the hall data source did not answer
	CodeUnknownMatter    Code = "unknown-matter"     // a booking's matter is not in the catalog
	CodeCardNotLinked    Code = "card-not-linked"    // a city card alone, linked to no holder, found nothing
	CodeNotServed        Code = "not-served"         // a ticket to be rated that no window has finished (halld says)
)

// Error is every error the package returns about its input, its records or its key (database
// failures come wrapped as they are). errors.Is(err, ErrTooLate) and the like match on Code alone.
type Error struct {
	Code Code
	Msg  string // human-readable detail, no personal data; empty in the sentinels
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return "hall: " + string(e.Code)
	}
	return "hall: " + e.Msg
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrInvalid          = &Error{Code: CodeInvalid}
	ErrNotFound         = &Error{Code: CodeNotFound}
	ErrNoIdentity       = &Error{Code: CodeNoIdentity}
	ErrNoAppointment    = &Error{Code: CodeNoAppointment}
	ErrTooEarly         = &Error{Code: CodeTooEarly}
	ErrTooLate          = &Error{Code: CodeTooLate}
	ErrWrongDay         = &Error{Code: CodeWrongDay}
	ErrCancelled        = &Error{Code: CodeCancelled}
	ErrAlreadyCheckedIn = &Error{Code: CodeAlreadyCheckedIn}
	ErrAlreadyRated     = &Error{Code: CodeAlreadyRated}
	ErrBadFile          = &Error{Code: CodeBadFile}
	ErrKey              = &Error{Code: CodeKey}
	ErrSource           = &Error{Code: CodeSource}
	ErrUnknownMatter    = &Error{Code: CodeUnknownMatter}
	ErrCardNotLinked    = &Error{Code: CodeCardNotLinked}
	ErrNotServed        = &Error{Code: CodeNotServed}
)

// NotServed is the refusal of a rating for ticket code, which the hall controller says no window
// has finished: the citizen rates after the service, not before (好差评 rates a service).
func NotServed(code string) error {
	return errf(CodeNotServed, "ticket %s has not been served yet", code)
}

func errf(c Code, format string, args ...any) error {
	return &Error{Code: c, Msg: fmt.Sprintf(format, args...)}
}

// CheckInError is the answer when a booking cannot be checked in now: Code is CodeTooEarly,
// CodeTooLate, CodeWrongDay, CodeCancelled or CodeAlreadyCheckedIn, and errors.Is matches the
// sentinel of that code. Appointment is the booking the answer is about, so the screen can say
// "your booking is at 10:30 on 28 November" and offer a normal ticket for its matter.
type CheckInError struct {
	Code        Code
	Appointment Appointment
	// Opens and Closes bound the check-in window of Appointment (booked time minus
	// appointments.early, plus appointments.late).
	Opens, Closes time.Time
}

func (e *CheckInError) Error() string {
	a := e.Appointment
	when := a.Start.Format("2006-01-02 15:04")
	switch e.Code {
	case CodeTooEarly:
		return fmt.Sprintf("hall: booking %s at %s: check-in opens at %s", a.ID, when, e.Opens.Format("15:04"))
	case CodeTooLate:
		return fmt.Sprintf("hall: booking %s at %s: check-in closed at %s", a.ID, when, e.Closes.Format("15:04"))
	case CodeWrongDay:
		return fmt.Sprintf("hall: booking %s is on %s, not today", a.ID, when)
	case CodeCancelled:
		return fmt.Sprintf("hall: booking %s at %s was cancelled", a.ID, when)
	case CodeAlreadyCheckedIn:
		return fmt.Sprintf("hall: booking %s at %s is already checked in (ticket %s)", a.ID, when, a.Ticket)
	}
	return fmt.Sprintf("hall: booking %s: %s", a.ID, e.Code)
}

// Is matches the sentinel *Error of the same Code.
func (e *CheckInError) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// NormalTicket reports whether the citizen should be offered a normal (not priority) ticket for
// the booking's matter instead: when late, on the wrong day, or for a cancelled booking. Too
// early and already checked in are answered "come back then" and "you have your ticket".
func (e *CheckInError) NormalTicket() bool {
	return e.Code == CodeTooLate || e.Code == CodeWrongDay || e.Code == CodeCancelled
}

// ImportError is one problem in an import file. Every problem of a file is reported at once (up
// to 100), as ImportErrors.
type ImportError struct {
	// Record locates the record: "appointments[3]" in JSON, "line 5" in CSV; empty for a problem
	// of the whole file (syntax, size, encoding).
	Record string
	// ID is the record's id or number when it has a usable one. It is never an ID number.
	ID string
	// Field is the record's field at fault ("start", "id_number"); empty for the whole record.
	Field  string
	Reason string
}

func (e *ImportError) Error() string {
	var b strings.Builder
	b.WriteString("hall import: ")
	if e.Record != "" {
		b.WriteString(e.Record)
		if e.ID != "" {
			fmt.Fprintf(&b, " (%s)", e.ID)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Is makes errors.Is(err, ErrBadFile) true.
func (e *ImportError) Is(target error) bool { return target == ErrBadFile }

// ImportErrors is every problem found in one file, in file order; never empty when returned.
// errors.As(err, &e) with e *ImportError finds the first.
type ImportErrors []*ImportError

// Error lists the problems one per line.
func (es ImportErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each *ImportError to errors.Is and errors.As.
func (es ImportErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Is makes errors.Is(err, ErrBadFile) true.
func (es ImportErrors) Is(target error) bool { return target == ErrBadFile }

// maxImportErrors bounds a report, so a garbage file cannot produce a megabyte of errors.
const maxImportErrors = 100

var errNilStore = errors.New("hall: no store")
