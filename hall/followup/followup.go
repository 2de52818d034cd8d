// Package followup is the hall's work orders: every 差评 (a rating at one of the two lowest
// levels) and every complaint made at a kiosk is followed up by the manager of the section
// concerned, within a deadline in working days of the hall calendar, as the national rules
// (国办发〔2019〕51号: 差评 called back, put right or appealed and reviewed) and the hall's
// regulations (art. 15: complaints answered in time) ask.
//
// A rating's order runs 待回访 → 已回访 → 整改中 → 已整改, or, when the section disputes the
// 差评, → 申诉 → 复核 with its outcome; a complaint's runs 受理 → 处理 → 答复. Only the moves of
// Transitions are allowed; each is kept as a Step (who, when, from, to, and its note: what the
// citizen said on the return call, what was put right, the appeal's grounds, the review's
// outcome, the answer to the complaint). Notes may hold what a citizen said: they are kept in the
// ledger for the order's life and never logged.
//
// # Deadline
//
// An order is due at the end of the opening hours (the close of the last span) of the Nth
// working day after the hall-local date on which it opened, N being Options.DeadlineDays
// (default 5). A working day is a date on which the hall calendar (hours.Week) has any opening
// hours: a holiday closed in the calendar does not count, a working Saturday of 调休 does. The
// day of opening never counts, whatever the hour: an order opened on Monday at 08:00 or at
// 16:59 in a Monday-to-Friday hall with N = 5 is due on the next Monday at closing time.
//
// An order is overdue when it is not closed by its deadline: a rating's closes at 已整改 or
// 复核, a complaint's at 答复. An overdue order is an alert (Alerts) that hall/notify sends
// through the hall's channels, ending when the order closes.
//
// # The citizen's phone
//
// A rating may carry the citizen's phone for the return call. It is sealed at rest (package
// seal, bound to the order), opens only for the order's assigned manager (Phone), and is deleted
// with the order: Purge deletes closed orders, their steps and phones, after Options.Retention.
package followup

import (
	"fmt"
	"log/slog"
	"time"

	"citizenhome/hall/hours"
	"citizenhome/seal"
)

// Kind is what an order follows up.
type Kind string

// Kinds.
const (
	KindRating    Kind = "rating"    // a 差评
	KindComplaint Kind = "complaint" // a complaint made at a kiosk
)

// State is where an order stands.
type State string

// A rating's states.
const (
	PendingCallback State = "pending-callback" // 待回访
	CalledBack      State = "called-back"      // 已回访
	Rectifying      State = "rectifying"       // 整改中
	Rectified       State = "rectified"        // 已整改 (closed)
	Appealed        State = "appealed"         // 申诉
	Reviewed        State = "reviewed"         // 复核 (closed), with its Outcome
)

// A complaint's states.
const (
	Accepted State = "accepted" // 受理
	Handling State = "handling" // 处理
	Answered State = "answered" // 答复 (closed)
)

// Outcomes of a review (Order.Outcome), the first word of the note of the move to Reviewed.
const (
	Upheld     = "upheld"     // the 差评 stands
	Overturned = "overturned" // the appeal is granted: the 差评 is not held against the section
)

// Transitions are the allowed moves, by kind and from-state. A move to Rectifying straight
// from PendingCallback is allowed only for an order without a phone (a real-name 差评 is called
// back first). Notes are required on the moves to CalledBack (what the citizen said),
// Rectified (what was put right), Appealed (the grounds), Reviewed (the outcome) and Answered
// (the answer, for the citizen). The answer is the one note shown outside the hall (Reply: on
// the kiosk and the public complaint page, to whoever holds the slip's number), so it may hold
// no mobile, phone or ID number (ErrPersonalData); the other notes stay in the console.
var Transitions = map[Kind]map[State][]State{
	KindRating: {
		PendingCallback: {CalledBack, Rectifying, Appealed},
		CalledBack:      {Rectifying, Appealed},
		Rectifying:      {Rectified},
		Appealed:        {Reviewed},
	},
	KindComplaint: {
		Accepted: {Handling, Answered},
		Handling: {Answered},
	},
}

// closing are the states at which an order is closed.
var closing = map[State]bool{Rectified: true, Reviewed: true, Answered: true}

// needsNote are the moves whose note is required.
var needsNote = map[State]bool{CalledBack: true, Rectified: true, Appealed: true, Reviewed: true, Answered: true}

// Closed reports whether s closes an order.
func (s State) Closed() bool { return closing[s] }

// NeedsNote reports whether a move to s needs a note (see Transitions); false for a state
// that is no move's target.
func (s State) NeedsNote() bool { return needsNote[s] }

// Order is one work order.
type Order struct {
	ID    int64 `json:"id"`
	Kind  Kind  `json:"kind"`
	State State `json:"state"`
	// Where the rated service was given (a complaint has Section at most).
	Section string `json:"section"`
	Window  string `json:"window,omitempty"`
	Staff   string `json:"staff,omitempty"`
	Ticket  string `json:"ticket,omitempty"`
	Day     string `json:"day,omitempty"`
	// Rating is the hall's rating id (0 for a complaint); Complaint the slip's number ("" for
	// a rating) and Category its category.
	Rating    int64      `json:"rating,omitempty"`
	Complaint string     `json:"complaint,omitempty"`
	Category  string     `json:"category,omitempty"`
	Level     int        `json:"level,omitempty"`
	Reasons   []string   `json:"reasons,omitempty"`
	Manager   string     `json:"manager"` // the assigned account
	Opened    time.Time  `json:"opened"`
	Due       time.Time  `json:"due"`
	Closed    *time.Time `json:"closed"` // nil while open
	// Overdue: not closed by Due (still open after it, or closed after it).
	Overdue bool `json:"overdue"`
	// Outcome is a review's, Upheld or Overturned; "" before.
	Outcome string `json:"outcome,omitempty"`
	// HasPhone says the citizen left a phone; the number itself only through Store.Phone.
	HasPhone bool   `json:"has_phone"`
	Steps    []Step `json:"steps"`
}

// Step is one move of an order; the first is its opening (From "", By "").
type Step struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	From State     `json:"from"`
	To   State     `json:"to"`
	Note string    `json:"note,omitempty"`
}

// RatingRef is a 差评 to follow up.
type RatingRef struct {
	Rating                              int64 // the hall's rating id, > 0; one order per rating
	Level                               int   // 1 or 2
	Reasons                             []string
	Ticket, Day, Section, Window, Staff string
	Phone                               string // "" none; 7 to 15 digits, sealed at rest
}

// ComplaintRef is a complaint to follow up.
type ComplaintRef struct {
	Number   string    // the slip's number; one order per number
	Category string    // the kiosk's complaint category
	Section  string    // the section concerned, "" unknown (the default managers take it)
	At       time.Time // when it was made at the kiosk; zero: now
}

// Filter selects orders; zero fields select everything.
type Filter struct {
	Kind, State, Section, Manager string
	Open                          bool      // not closed
	Overdue                       bool      // not closed by the deadline (open past it, or closed after it)
	Since, Until                  time.Time // opened at or after Since, before Until
	Limit                         int       // at most this many, newest first; 0: DefaultLimit
}

// Defaults of Options and limits.
const (
	DefaultDeadlineDays = 5
	DefaultRetention    = 2 * 365 * 24 * time.Hour // two years: this year's and last year's reviews
	DefaultLimit        = 500
	MaxNote             = 2000 // runes
	maxField            = 128  // bytes, of ids, accounts, sections and reasons
	maxReasons          = 16
)

// Options configure Open.
type Options struct {
	Hours hours.Week // the hall calendar; zero: hours.Default(time.Local)
	// DeadlineDays is the deadline in working days; 0: DefaultDeadlineDays.
	DeadlineDays int
	// Managers maps a section to its managers' accounts; "" maps to the default managers (the
	// hall's own), who take the sections not listed and the reviews of appeals. Required: at
	// least one default manager.
	Managers map[string][]string
	// Retention is how long a closed order is kept after it closed; 0: DefaultRetention.
	Retention time.Duration
	// Seal seals the citizen's phone; required.
	Seal *seal.Key
	Now  func() time.Time
	Log  *slog.Logger // nil: slog.Default(); orders are logged by id and state only
}

// Code names a kind of error; the values are stable and fit the hall API's error objects.
type Code string

// Error codes.
const (
	CodeNotFound   Code = "not-found"       // no such order
	CodeTransition Code = "transition"      // a move the order's workflow does not allow
	CodeForbidden  Code = "forbidden"       // the account may not do that to this order
	CodeInvalid    Code = "invalid-request" // malformed input: a level, a phone, a missing note
	CodeNoPhone    Code = "no-phone"        // the order has no phone (none given, or purged)
	CodeConfig     Code = "config"          // unusable Options
	// CodePersonalData: a complaint's answer, which the slip's holder reads publicly, looks like
	// it holds a mobile, phone or ID number.
	CodePersonalData Code = "personal-data"
)

// Error is every error of the package about its input; ledger failures come wrapped as they
// are. errors.Is matches the sentinels by Code.
type Error struct {
	Code Code
	Msg  string // no personal data, no note
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return "followup: " + string(e.Code)
	}
	return "followup: " + e.Msg
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrNotFound   = &Error{Code: CodeNotFound}
	ErrTransition = &Error{Code: CodeTransition}
	ErrForbidden  = &Error{Code: CodeForbidden}
	ErrInvalid    = &Error{Code: CodeInvalid}
	ErrNoPhone    = &Error{Code: CodeNoPhone}
	ErrConfig     = &Error{Code: CodeConfig}
	// ErrPersonalData: see CodePersonalData.
	ErrPersonalData = &Error{Code: CodePersonalData}
)

func errf(c Code, format string, args ...any) error {
	return &Error{Code: c, Msg: fmt.Sprintf(format, args...)}
}
