package queue

import "fmt"

// Code names a kind of queue error. The values are stable and fit the local API's
// {"error": {"code": ...}} objects.
type Code string

// Error codes.
const (
	CodeUnknownCategory Code = "unknown-category"  // the letter is not configured
	CodeInvalid         Code = "invalid-request"   // a malformed request, code, day or id
	CodeNotFound        Code = "not-found"         // no such ticket
	CodeAlreadyCalled   Code = "already-called"    // Call or Ahead on a ticket the hall has called
	CodeExpired         Code = "expired"           // Ahead on a ticket of another day
	CodeExhausted       Code = "numbers-exhausted" // MaxNumber tickets of a category today
	CodeConfig          Code = "bad-config"        // New was given unusable categories
	CodeNoLease         Code = "no-lease-left"     // IssueLeased: no leased number of the category left today
	CodeTaken           Code = "number-taken"      // IssueGiven/IssueLeased: this kiosk already holds that number, lookup or take
)

// Error is every error the package returns about its input or its tickets (database failures are
// returned wrapped as they come). errors.Is(err, ErrNotFound) and the like match on Code alone.
type Error struct {
	Code Code
	Msg  string // human-readable detail; empty in the sentinels
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return "queue: " + string(e.Code)
	}
	return "queue: " + e.Msg
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrUnknownCategory = &Error{Code: CodeUnknownCategory}
	ErrInvalid         = &Error{Code: CodeInvalid}
	ErrNotFound        = &Error{Code: CodeNotFound}
	ErrAlreadyCalled   = &Error{Code: CodeAlreadyCalled}
	ErrExpired         = &Error{Code: CodeExpired}
	ErrExhausted       = &Error{Code: CodeExhausted}
	ErrConfig          = &Error{Code: CodeConfig}
	ErrNoLease         = &Error{Code: CodeNoLease}
	ErrTaken           = &Error{Code: CodeTaken}
)

func errf(c Code, format string, args ...any) error {
	return &Error{Code: c, Msg: fmt.Sprintf(format, args...)}
}
