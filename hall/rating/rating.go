// Package rating keeps the hall's 好差评: every rating tied to the ticket, the window and the
// staff account that served it, whether it was given on a kiosk (the rating.submitted event,
// through the outbox and hall/intake) or on the counter's rating pad (评价器, hall/web's
// /rate/{window}). A 差评 opens a work order (hall/followup, through Orders). Its table lives in
// the hall's ledger (rating, Migrations).
//
// # What is kept
//
// Levels (1 非常不满意 .. 5 非常满意) of the overall rating and of the three dimensions (效率,
// 水平, 态度; 0 when not rated), reason codes, the ticket's code and day, the window, staff
// account and section of its service, the kiosk and its event id, times. No personal data: the
// optional phone number a citizen leaves on the pad for a return call is handed to the work
// order (sealed there) and is never stored, logged or returned here.
//
// Every kiosk rating received is kept, so that the regulations' counts are complete (a pad's
// rating that cannot be taken is refused to the pad at once, and not kept):
//
//   - StatusServed: tied to a ticket a window finished (line.ServedBy); the window, staff and
//     section are the queue's, never the kiosk's claims. One per ticket.
//   - StatusUnattached: a kiosk rating that names no ticket (the citizen rated the hall, not a
//     service). Counted in the totals and by month; by window, section and staff it falls
//     under the key "" (no service to attribute it to). Its 差评 opens an order for the
//     default managers (no section).
//   - StatusRefused: a rating of a ticket not served yet, unknown, or rated already. Kept with
//     the reason (Refusal), reported apart (Score.Refused), never in the means, and opening no
//     work order. Today the kiosk accepts such a rating and only halld refuses it; the kiosk
//     refusing it on the spot is a later step of issue 18.
//
// A rating is a 差评 when any of its levels is 1 or 2 (the kiosk's rule: it then needs a
// reason); its work order carries the lowest level.
package rating

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"citizenhome/hall/followup"
	"citizenhome/hall/ledger"
	"citizenhome/hall/line"
)

// Code names a kind of rating error: stable kebab-case strings for the hall API.
type Code string

// Error codes.
const (
	CodeInvalid       Code = "invalid-rating"    // a level out of 1..5, an unknown reason, a 差评 without reasons, a bad phone
	CodeNotServed     Code = "not-served"        // the ticket has not been finished at a window (kept as refused)
	CodeUnknownTicket Code = "unknown-ticket"    // no such ticket that day (kept as refused)
	CodeRated         Code = "already-rated"     // the ticket has its rating already (a kiosk's is kept as refused)
	CodeNoTicket      Code = "no-ticket-to-rate" // the pad: nothing finished at the window, or not the ticket offered
	CodeExpired       Code = "grace-expired"     // the pad: the window's last ticket ended more than the grace ago
	CodeConfig        Code = "bad-config"        // Open was given unusable options
)

// Error is every error the package returns about its input; failures of the ledger, the queue
// or the work orders are returned wrapped as they come. errors.Is matches on Code alone.
type Error struct {
	Code Code
	Msg  string // detail; empty in the sentinels
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return "rating: " + string(e.Code)
	}
	return "rating: " + e.Msg
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrInvalid       = &Error{Code: CodeInvalid}
	ErrNotServed     = &Error{Code: CodeNotServed}
	ErrUnknownTicket = &Error{Code: CodeUnknownTicket}
	ErrRated         = &Error{Code: CodeRated}
	ErrNoTicket      = &Error{Code: CodeNoTicket}
	ErrExpired       = &Error{Code: CodeExpired}
	ErrConfig        = &Error{Code: CodeConfig}
)

func errf(c Code, format string, args ...any) error {
	return &Error{Code: c, Msg: fmt.Sprintf(format, args...)}
}

// Sources of a rating.
const (
	SourceKiosk = "kiosk"
	SourcePad   = "pad"
)

// Statuses of a rating (see the package comment).
const (
	StatusServed     = "served"
	StatusUnattached = "unattached"
	StatusRefused    = "refused"
)

// Rating is one rating as kept. It holds no personal data.
type Rating struct {
	ID      int64
	Source  string // SourceKiosk or SourcePad
	Kiosk   string // the kiosk's id; "" from a pad
	EventID string // the kiosk's event id (idempotence); "" from a pad
	Day     string // the ticket's local date; an unattached rating's own date
	Ticket  string // "A012"; "" unattached
	Window  string // of the service; "" when not served
	Staff   string // the account that called the ticket; "" when not served
	Section string
	// Overall is 1..5; the dimensions 1..5, or 0 when not rated.
	Overall, Efficiency, Skill, Attitude int
	Reasons                              []string
	At                                   time.Time // when the citizen rated
	Order                                int64     // the work order of a 差评; 0 none (yet)
	Status                               string    // StatusServed, StatusUnattached or StatusRefused
	Refusal                              Code      // why a refused rating was refused; "" otherwise
}

// Bad reports whether r is a 差评: any level given is 1 or 2.
func (r Rating) Bad() bool { return lowest(r.Overall, r.Efficiency, r.Skill, r.Attitude) <= 2 }

// lowest is the lowest level given (0s are not rated).
func lowest(levels ...int) int {
	m := 5
	for _, l := range levels {
		if l > 0 && l < m {
			m = l
		}
	}
	return m
}

// Served is what ratings need of the queue (*line.Line): who served a ticket.
type Served interface {
	// ServedBy: line.ErrNotServed for a ticket not finished, line.ErrNotFound for an unknown one.
	ServedBy(ctx context.Context, day, code string) (line.Service, error)
	// LastDone: the window's latest finished ticket; line.ErrNotFound when none.
	LastDone(ctx context.Context, window string) (code, day string, s line.Service, err error)
}

var _ Served = (*line.Line)(nil)

// Orders opens the work order of a 差评 (hall/followup's *Store). The ref's Phone is the
// citizen's number for a return call, "" for none: the order seals it; this package keeps no
// copy.
type Orders interface {
	OpenRating(ctx context.Context, r followup.RatingRef) (followup.Order, error)
}

var _ Orders = (*followup.Store)(nil)

// DefaultGrace is how long after a ticket's end the pad may still rate it.
const DefaultGrace = 10 * time.Minute

// Options configure Open.
type Options struct {
	// Grace: the pad rates the window's last finished ticket until this long after its end;
	// 0: DefaultGrace.
	Grace    time.Duration
	Location *time.Location   // the hall's zone for days and months; nil: line.DefaultLocation()
	Now      func() time.Time // nil: time.Now
	Log      *slog.Logger     // nil: discarded
}

// Store is the hall's ratings, safe for concurrent use.
type Store struct {
	db     *ledger.DB
	served Served
	orders Orders
	grace  time.Duration
	loc    *time.Location
	now    func() time.Time
	log    *slog.Logger
}

// Open returns the ratings over db, whose migrations must include Migrations. orders may be
// nil: then no work order is opened (a 差评 keeps Order 0). Errors: ErrConfig (no db or served,
// a negative grace), or the table missing.
func Open(db *ledger.DB, served Served, orders Orders, o Options) (*Store, error) {
	if db == nil || served == nil {
		return nil, errf(CodeConfig, "a ledger and the queue are required")
	}
	if o.Grace < 0 {
		return nil, errf(CodeConfig, "negative grace %s", o.Grace)
	}
	if o.Grace == 0 {
		o.Grace = DefaultGrace
	}
	if o.Location == nil {
		o.Location = line.DefaultLocation()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	var n int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM (SELECT 1 FROM rating LIMIT 1)`).Scan(&n); err != nil {
		return nil, fmt.Errorf("rating: the ledger has no rating table (Migrations): %w", err)
	}
	return &Store{db: db, served: served, orders: orders, grace: o.Grace, loc: o.Location, now: o.Now,
		log: o.Log.With("component", "rating")}, nil
}

// openOrder opens r's work order when it is a counted 差评 without one, and records its id.
// A failure leaves Order 0 and is returned: the rating stays counted, and OpenMissing (or the
// kiosk's re-sending of the event) opens the order later, without the phone.
func (s *Store) openOrder(ctx context.Context, r *Rating, phone string) error {
	if s.orders == nil || !r.Bad() || r.Order != 0 || r.Status == StatusRefused {
		return nil
	}
	o, err := s.orders.OpenRating(ctx, followup.RatingRef{Rating: r.ID, Level: lowest(r.Overall, r.Efficiency, r.Skill, r.Attitude),
		Reasons: append([]string(nil), r.Reasons...), Ticket: r.Ticket, Day: r.Day, Section: r.Section,
		Window: r.Window, Staff: r.Staff, Phone: phone})
	if err != nil {
		return fmt.Errorf("rating: opening the work order of rating %d: %w", r.ID, err)
	}
	id := o.ID
	if _, err := s.db.SQL().ExecContext(ctx, `UPDATE rating SET work_order = ? WHERE id = ?`, id, r.ID); err != nil {
		return fmt.Errorf("rating: recording work order %d of rating %d: %w", id, r.ID, err)
	}
	r.Order = id
	return nil
}

// badSQL is Rating.Bad in SQL: a 差评 when any level given is 1 or 2 (a dimension not rated
// is 0).
const badSQL = `(overall <= 2 OR efficiency BETWEEN 1 AND 2 OR skill BETWEEN 1 AND 2 OR attitude BETWEEN 1 AND 2)`

// OpenMissing opens the work orders of counted 差评 that have none (their opening failed), the
// oldest first, and returns how many it opened. halld calls it at start and now and then.
// It stops at the first failure and returns it with the count so far.
func (s *Store) OpenMissing(ctx context.Context) (int, error) {
	if s.orders == nil {
		return 0, nil
	}
	rs, err := s.list(ctx, `work_order = 0 AND status != 'refused' AND `+badSQL+` ORDER BY id LIMIT 500`)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range rs {
		if err := s.openOrder(ctx, &rs[i], ""); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// asLine maps the queue's refusals to this package's; others pass as they are.
func asLine(err error, ticket, day string) (Code, error) {
	switch {
	case errors.Is(err, line.ErrNotServed):
		return CodeNotServed, errf(CodeNotServed, "ticket %s of %s has not been served at a window yet", ticket, day)
	case errors.Is(err, line.ErrNotFound), errors.Is(err, line.ErrInvalid):
		return CodeUnknownTicket, errf(CodeUnknownTicket, "no ticket %s on %s", ticket, day)
	}
	return "", err
}
