package web

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Queue is what the server needs of the hall's queue (hall/line's *Line, through LineQueue).
// Its values are this package's own types: they are the HTTP contract's shapes, which the
// server, not the queue, answers for. Errors are matched with errors.Is against this package's
// sentinels (ErrNotFound, ...), see Error.
type Queue interface {
	Snapshot(ctx context.Context) (Snapshot, error)
	Tickets(ctx context.Context, state, category string) ([]Ticket, error)
	Ticket(ctx context.Context, code string) (Ticket, error)
	Public(ctx context.Context, lookup string) (Public, error)
	// Calls returns the calls with an id above afterID, oldest first, at most limit.
	Calls(ctx context.Context, afterID int64, limit int) ([]Call, error)
	Unused(ctx context.Context, day string) ([]Unused, error)
	Counter
	// Watch returns a channel that receives a value after each change of the queue (a call, a
	// ticket, a window), coalesced, and a function that ends the watch. The server reads what
	// changed through Calls and Snapshot, so a coalesced change loses nothing.
	Watch() (<-chan struct{}, func())
}

// Counter is the counters' actions; staff is the account or token that acts (audited).
type Counter interface {
	Next(ctx context.Context, window, staff string) (Ticket, error)
	Call(ctx context.Context, window, staff, code, reason string) (Ticket, error)
	Recall(ctx context.Context, window, staff string) (Ticket, error)
	Start(ctx context.Context, window, staff string) (Ticket, error)
	Done(ctx context.Context, window, staff string) (Ticket, error)
	NoShow(ctx context.Context, window, staff string) (Ticket, error)
	Transfer(ctx context.Context, window, staff, category string) (Ticket, error)
	Pause(ctx context.Context, window, staff, reason string) error
	Resume(ctx context.Context, window, staff string) error
	Return(ctx context.Context, code, staff string) (Ticket, error)
}

// Announcer makes a call's spoken announcement (hall/voice): a 16-bit PCM WAV.
type Announcer interface {
	Announce(code, window string) ([]byte, error)
}

// Ticket is a ticket of the day (hall-api: A ticket).
type Ticket struct {
	Code     string
	Category string
	Priority bool
	Reason   string // why it is priority ("" for none)
	State    string // waiting, called, serving, done, no-show
	Kiosk    string
	IssuedAt time.Time
	CalledAt time.Time // zero until called
	Window   string    // "" until called
	Recalls  int
	Served   time.Duration // 0 until done
	Lookup   string
}

// Snapshot is the queue as GET /v1/queue shows it.
type Snapshot struct {
	Day        string
	Categories []CategoryState
	Windows    []WindowState
}

// CategoryState is one category's line.
type CategoryState struct {
	Letter          string
	Name            string // the category's name in the hall ("户籍"); an addition to the contract
	Waiting         int
	WaitingPriority int
	LastCalled      string
	AvgService      time.Duration
	ETANext         time.Duration
}

// WindowState is one counter window.
type WindowState struct {
	Window     string
	State      string // open, paused, closed
	Serving    string // the current ticket's code, "" for none
	Categories []string
	Staff      string
}

// Public is what anyone may see of a ticket by its lookup code: nothing of its holder.
type Public struct {
	Code   string
	State  string
	Ahead  int
	ETA    time.Duration
	Window string // "" until called
}

// Call is one call or recall of a ticket to a window; ids grow with each call.
type Call struct {
	ID     int64
	Code   string
	Window string
	At     time.Time
	Recall bool
}

// Unused is a number that was handed out but never became a ticket: a lease's number not used,
// or a take the kiosk never confirmed.
type Unused struct {
	Day      string
	Code     string
	Kiosk    string
	Reason   string // "lease" or "unconfirmed"
	Category string
	Number   int
}

// Error is the queue's errors as the server sees them: Code is the HTTP error code. Queue
// adapters return (or wrap) these so that errors.Is(err, ErrEmpty) and the like hold.
type Error struct {
	Code   string
	Msg    string
	Status int // the HTTP status
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return e.Code
	}
	return e.Msg
}

// Is matches any *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// The queue's errors and their HTTP statuses; the codes are hall/line's.
var (
	ErrNotFound        = &Error{Code: "not-found", Status: 404}
	ErrUnknownWindow   = &Error{Code: "unknown-window", Status: 404}
	ErrEmpty           = &Error{Code: "queue-empty", Status: 204}
	ErrNothing         = &Error{Code: "no-current-ticket", Status: 409}
	ErrRecallLimit     = &Error{Code: "recall-limit", Status: 409}
	ErrState           = &Error{Code: "wrong-state", Status: 409}
	ErrPaused          = &Error{Code: "window-paused", Status: 409}
	ErrExpired         = &Error{Code: "expired", Status: 409}
	ErrInvalid         = &Error{Code: "invalid-request", Status: 400}
	ErrUnknownCategory = &Error{Code: "unknown-category", Status: 400}
)

var queueErrors = []*Error{ErrNotFound, ErrUnknownWindow, ErrEmpty, ErrNothing, ErrRecallLimit,
	ErrState, ErrPaused, ErrExpired, ErrInvalid, ErrUnknownCategory}

// QueueError returns an error that is errors.Is kind, with msg; for Queue implementations.
func QueueError(kind *Error, format string, args ...any) error {
	return &Error{Code: kind.Code, Status: kind.Status, Msg: fmt.Sprintf(format, args...)}
}

// statusOf maps a queue error to its HTTP status and code: 500 internal for any other.
func statusOf(err error) (int, string, string) {
	for _, k := range queueErrors {
		if errors.Is(err, k) {
			return k.Status, k.Code, err.Error()
		}
	}
	return 500, "internal", "the queue failed; see halld's log"
}
