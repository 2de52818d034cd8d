package line

import "fmt"

// Code names a kind of line error. The values are stable kebab-case strings, used as the
// hall API's {"error": {"code": ...}} and the kiosks' given.error.code.
type Code string

// Error codes.
const (
	CodeNotFound        Code = "not-found"         // no such ticket today (or lookup code)
	CodeUnknownWindow   Code = "unknown-window"    // the window is not configured
	CodeUnknownCategory Code = "unknown-category"  // the letter is not configured
	CodeEmpty           Code = "queue-empty"       // nobody waits for this window
	CodeNothing         Code = "no-current-ticket" // the window has no current ticket
	CodeRecallLimit     Code = "recall-limit"      // the current ticket was recalled the most times
	CodeState           Code = "wrong-state"       // the ticket or window is not in a state for this
	CodePaused          Code = "window-paused"     // the window is paused: no calls
	CodeInvalid         Code = "invalid-request"   // malformed input
	CodeExhausted       Code = "numbers-exhausted" // no number of the category is left today
	CodeExpired         Code = "expired"           // too late: a take past its deadline, a return after the grace
	CodeConflict        Code = "number-conflict"   // a printed ticket whose number was not its kiosk's (recorded anyway)
	CodeConfig          Code = "bad-config"        // Open was given an unusable Config
)

// Error is every error the package returns about its input, its tickets or its windows; failures
// of the database are returned wrapped as they come. errors.Is(err, ErrNotFound) and the like
// match on Code alone.
type Error struct {
	Code Code
	Msg  string // human-readable detail; empty in the sentinels
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return "line: " + string(e.Code)
	}
	return "line: " + e.Msg
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrNotFound        = &Error{Code: CodeNotFound}
	ErrUnknownWindow   = &Error{Code: CodeUnknownWindow}
	ErrUnknownCategory = &Error{Code: CodeUnknownCategory}
	ErrEmpty           = &Error{Code: CodeEmpty}
	ErrNothing         = &Error{Code: CodeNothing}
	ErrRecallLimit     = &Error{Code: CodeRecallLimit}
	ErrState           = &Error{Code: CodeState}
	ErrPaused          = &Error{Code: CodePaused}
	ErrInvalid         = &Error{Code: CodeInvalid}
	ErrExhausted       = &Error{Code: CodeExhausted}
	ErrExpired         = &Error{Code: CodeExpired}
	ErrConflict        = &Error{Code: CodeConflict}
	ErrConfig          = &Error{Code: CodeConfig}
)

func errf(c Code, format string, args ...any) error {
	return &Error{Code: c, Msg: fmt.Sprintf(format, args...)}
}
