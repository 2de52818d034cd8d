// Package queue issues the hall's numbered queue tickets and keeps them in the store.
//
// Numbers run per local day and per category letter: A001, A002, ... B001, restarting at local
// midnight in the hall's time zone. A number is given out by incrementing a counter and inserting
// the ticket in one IMMEDIATE transaction committed with synchronous=FULL before Issue returns, so
// a number is never given twice nor skipped, whenever the process dies.
//
// Printing is the caller's job, tracked here so a crash cannot lose a ticket silently: a ticket is
// issued "pending", the caller prints it and calls MarkPrinted. Recover, at start, turns every
// ticket still pending (the process died between the commit and the confirmation) into "reprint",
// and Reprints lists them. A ticket may therefore be printed twice, never zero times unknowingly.
//
// Green-channel (priority) tickets take their number from the same letter series as the others,
// so a code such as A013 names one ticket only, whatever its kind; they are flagged, counted
// apart by Waiting, and their wait counts only priority tickets ahead.
//
// Opening hours, weekends and who may have priority are the caller's decisions.
package queue

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"citizenhome/kiosk/store"
)

// MaxNumber is the last number of a category on one day; Issue then fails with ErrExhausted.
// Numbers up to 999 print as three digits (A007); above, as four (A1000).
const MaxNumber = 9999

// Reasons for a priority ticket, stored in Ticket.PriorityReason.
const (
	ReasonAppointment = "appointment" // checked in for a booked appointment
	ReasonElder       = "elder"       // age at or above the configured elder age
	ReasonCategory    = "category"    // the matter's category is served with priority
	ReasonStaff       = "staff"       // asked for by a staff application through kioskd
	ReasonUrgent      = "urgent"      // the matter's catalog handling is urgent (急办件)
)

// Limits on the free-text fields, in bytes.
const (
	maxField  = 128 // MatterID, Section, window, reprint reason
	lookupLen = 10
	// Estimates use the median of the last recentIntervals call-to-call intervals of the day
	// once at least minIntervals exist, so a lunch break or one long case does not swing them.
	recentIntervals = 10
	minIntervals    = 3
)

// lookupAlphabet is Crockford's base32: no I, L, O, U, so a code read aloud or typed survives.
const lookupAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// PrintState says whether a ticket is known to be on paper.
type PrintState string

// Print states.
const (
	Pending PrintState = "pending" // committed, print not yet confirmed
	Printed PrintState = "printed" // the caller confirmed the print
	Reprint PrintState = "reprint" // must be printed (again): a failed print or an interrupted one
)

// Category is one queue letter.
type Category struct {
	Letter string // one capital letter A-Z
	// AvgService is the time one counter takes per citizen, used for estimates until the day
	// has enough calls. Zero means no estimate.
	AvgService time.Duration
	// Counters is how many windows serve the category; 0 is taken as 1.
	Counters int
}

// Request asks for a ticket.
type Request struct {
	Category string // a configured letter, exactly ("A", not "a")
	MatterID string // optional: the 办事指南 matter chosen, printed on the ticket
	Section  string // optional: the hall section (区) to go to
	// Priority asks for the green channel; PriorityReason must then be one of the Reason
	// constants, and must be empty otherwise.
	Priority       bool
	PriorityReason string
}

// Ticket is an issued ticket. It holds no personal data.
type Ticket struct {
	ID             int64
	Day            string // local date YYYY-MM-DD the number belongs to
	Category       string
	Number         int
	Code           string // Category + Number, at least three digits: "A001"
	Priority       bool
	PriorityReason string
	MatterID       string
	Section        string
	IssuedAt       time.Time // in the queue's location
	// WaitingAhead and EstimatedWait are what was printed: the figures at issue time. A zero
	// EstimatedWait means nobody was ahead or there was no data to estimate from.
	WaitingAhead  int
	EstimatedWait time.Duration
	LookupCode    string // random, unique; printed as a QR code for ByLookup
	Print         PrintState
	PrintError    string    // why the ticket is in Reprint; empty otherwise
	CalledAt      time.Time // zero while waiting
	Window        string    // the window that called it
	// Source says where the number came from: the local counter, halld's answer to a take
	// (TakeID names the take), or the kiosk's lease.
	Source Source
	TakeID string
}

// Queue issues and tracks tickets. It keeps no state outside the store, so several Queues (or
// processes) on the same store are consistent, and it is safe for concurrent use.
type Queue struct {
	st   *store.Store
	cats map[string]Category
	loc  *time.Location
	now  func() time.Time
	rand io.Reader // lookup codes; tests replace it to force collisions
}

// DefaultLocation is Asia/Shanghai, or a fixed UTC+8 zone when the system has no time zone
// database (China has kept UTC+8 without daylight saving since 1991, so dates agree).
func DefaultLocation() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// New returns a queue over st serving cats. loc is the hall's zone for the day boundary (nil:
// DefaultLocation); now is the clock (nil: time.Now). Errors match ErrConfig: no store, no
// categories, a letter that is not one of A-Z or repeated, a negative time or counter count.
func New(st *store.Store, cats []Category, loc *time.Location, now func() time.Time) (*Queue, error) {
	if st == nil {
		return nil, errf(CodeConfig, "no store")
	}
	if len(cats) == 0 {
		return nil, errf(CodeConfig, "no categories")
	}
	q := &Queue{st: st, cats: map[string]Category{}, loc: loc, now: now, rand: rand.Reader}
	for _, c := range cats {
		if !isLetter(c.Letter) {
			return nil, errf(CodeConfig, "category letter %q must be one capital letter A-Z", c.Letter)
		}
		if _, dup := q.cats[c.Letter]; dup {
			return nil, errf(CodeConfig, "category %s configured twice", c.Letter)
		}
		if c.AvgService < 0 || c.Counters < 0 {
			return nil, errf(CodeConfig, "category %s: negative service time or counters", c.Letter)
		}
		q.cats[c.Letter] = c
	}
	if q.loc == nil {
		q.loc = DefaultLocation()
	}
	if q.now == nil {
		q.now = time.Now
	}
	return q, nil
}

func isLetter(s string) bool { return len(s) == 1 && s[0] >= 'A' && s[0] <= 'Z' }

// Today returns the local date tickets are being numbered under now, YYYY-MM-DD.
func (q *Queue) Today() string { return q.day(q.now()) }

func (q *Queue) day(t time.Time) string { return t.In(q.loc).Format(time.DateOnly) }

func (q *Queue) category(letter string) (Category, error) {
	c, ok := q.cats[letter]
	if !ok {
		return Category{}, errf(CodeUnknownCategory, "category %q is not configured", letter)
	}
	return c, nil
}

func checkText(name, s string) error {
	if len(s) > maxField {
		return errf(CodeInvalid, "%s longer than %d bytes", name, maxField)
	}
	if !utf8.ValidString(s) {
		return errf(CodeInvalid, "%s is not valid UTF-8", name)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return errf(CodeInvalid, "%s contains control characters", name)
	}
	return nil
}

func (r Request) check() error {
	if r.Priority {
		switch r.PriorityReason {
		case ReasonAppointment, ReasonElder, ReasonCategory, ReasonStaff, ReasonUrgent:
		default:
			return errf(CodeInvalid, "priority reason %q is not appointment, elder, category, staff or urgent", r.PriorityReason)
		}
	} else if r.PriorityReason != "" {
		return errf(CodeInvalid, "priority reason %q without priority", r.PriorityReason)
	}
	if err := checkText("matter id", r.MatterID); err != nil {
		return err
	}
	return checkText("section", r.Section)
}

// Issue gives the next number of the request's category for today and returns the ticket,
// Pending. When Issue returns nil the ticket is durably committed; when it returns an error no
// number was used. Errors: ErrUnknownCategory, ErrInvalid (see Request), ErrExhausted, or a
// wrapped store error (the disk, a cancelled ctx).
func (q *Queue) Issue(ctx context.Context, r Request) (Ticket, error) {
	return q.IssueWith(ctx, r, nil)
}

// IssueWith is Issue that also runs also, when not nil, inside the issuing transaction after the
// ticket row is written: a telemetry outbox event or an appointment check-in then commits
// atomically with the number. also must use only tx (see store.Store.Tx); when it returns an
// error, IssueWith returns that error unwrapped and no number is used.
func (q *Queue) IssueWith(ctx context.Context, r Request, also func(tx *sql.Tx, t Ticket) error) (Ticket, error) {
	cat, err := q.category(r.Category)
	if err != nil {
		return Ticket{}, err
	}
	if err := r.check(); err != nil {
		return Ticket{}, err
	}
	var t Ticket
	err = q.st.Tx(ctx, func(tx *sql.Tx) error {
		// Read the clock under the write lock so numbers and issue times grow together.
		now := time.Unix(0, q.now().UnixNano()).In(q.loc)
		day := q.day(now)
		var n int
		err := tx.QueryRowContext(ctx, `INSERT INTO queue_counter (day, category, last) VALUES (?, ?, 1)
			ON CONFLICT (day, category) DO UPDATE SET last = last + 1 RETURNING last`, day, cat.Letter).Scan(&n)
		if err != nil {
			return fmt.Errorf("queue: counter: %w", err)
		}
		if n > MaxNumber {
			return errf(CodeExhausted, "category %s has used all %d numbers of %s", cat.Letter, MaxNumber, day)
		}
		ahead, err := countAhead(ctx, tx, day, cat.Letter, r.Priority, 0)
		if err != nil {
			return err
		}
		est, err := q.estimate(ctx, tx, day, cat, ahead)
		if err != nil {
			return err
		}
		lookup, err := q.newLookup(ctx, tx)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO queue_ticket (day, category, number, priority,
			priority_reason, matter_id, section, issued_at, waiting_ahead, estimated_ms, lookup_code)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			day, cat.Letter, n, r.Priority, r.PriorityReason, r.MatterID, r.Section,
			now.UnixNano(), ahead, est.Milliseconds(), lookup)
		if err != nil {
			return fmt.Errorf("queue: insert ticket: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("queue: insert ticket: %w", err)
		}
		t = Ticket{
			ID: id, Day: day, Category: cat.Letter, Number: n, Code: code(cat.Letter, n),
			Priority: r.Priority, PriorityReason: r.PriorityReason, MatterID: r.MatterID,
			Section: r.Section, IssuedAt: now, WaitingAhead: ahead,
			EstimatedWait: est.Truncate(time.Millisecond), LookupCode: lookup, Print: Pending,
			Source: SourceLocal,
		}
		if also != nil {
			return also(tx, t)
		}
		return nil
	})
	if err != nil {
		return Ticket{}, err
	}
	return t, nil
}

func code(letter string, n int) string { return fmt.Sprintf("%s%03d", letter, n) }

// parseCode accepts "A012", "a12" or " A012 " and returns the letter and number.
func parseCode(s string) (string, int, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) < 2 || len(s) > 5 || !isLetter(s[:1]) {
		return "", 0, errf(CodeInvalid, "ticket code %q is not a letter and a number", s)
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil || n < 1 || n > MaxNumber || strings.ContainsAny(s[1:], "+-") {
		return "", 0, errf(CodeInvalid, "ticket code %q is not a letter and a number", s)
	}
	return s[:1], n, nil
}

func (q *Queue) newLookup(ctx context.Context, tx *sql.Tx) (string, error) {
	// 50 random bits: a collision is unlikely for years, but one must not fail a ticket. The
	// write lock is held, so checking then inserting is race-free.
	for range 5 {
		b := make([]byte, lookupLen)
		if _, err := io.ReadFull(q.rand, b); err != nil {
			return "", fmt.Errorf("queue: random: %w", err)
		}
		for i := range b {
			b[i] = lookupAlphabet[b[i]&31]
		}
		var taken bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM queue_ticket WHERE lookup_code = ?)`, string(b)).Scan(&taken); err != nil {
			return "", fmt.Errorf("queue: lookup code: %w", err)
		}
		if !taken {
			return string(b), nil
		}
	}
	return "", errors.New("queue: no free lookup code after 5 draws (broken random source?)")
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// countAhead counts the waiting tickets served before a ticket of the given kind: for a priority
// ticket, the waiting priority tickets issued before it; for a normal one, the waiting normal
// tickets issued before it plus every waiting priority ticket, since those are called first.
// beforeID 0 means a ticket not yet inserted.
func countAhead(ctx context.Context, db querier, day, cat string, priority bool, beforeID int64) (int, error) {
	if beforeID == 0 {
		beforeID = 1<<63 - 1
	}
	var n int
	var err error
	if priority {
		err = db.QueryRowContext(ctx, `SELECT count(*) FROM queue_ticket
			WHERE day = ? AND category = ? AND called_at IS NULL AND priority = 1 AND id < ?`,
			day, cat, beforeID).Scan(&n)
	} else {
		err = db.QueryRowContext(ctx, `SELECT count(*) FROM queue_ticket
			WHERE day = ? AND category = ? AND called_at IS NULL AND (priority = 1 OR id < ?)`,
			day, cat, beforeID).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("queue: count waiting: %w", err)
	}
	return n, nil
}

// perTicket is the time between two calls of the category: the median of today's recent
// call-to-call intervals when there are enough, else AvgService spread over the counters, else 0.
func (q *Queue) perTicket(ctx context.Context, db querier, day string, cat Category) (time.Duration, error) {
	rows, err := db.QueryContext(ctx, `SELECT called_at FROM queue_ticket
		WHERE day = ? AND category = ? AND called_at IS NOT NULL
		ORDER BY called_at DESC LIMIT ?`, day, cat.Letter, recentIntervals+1)
	if err != nil {
		return 0, fmt.Errorf("queue: recent calls: %w", err)
	}
	defer rows.Close()
	var calls []int64
	for rows.Next() {
		var c int64
		if err := rows.Scan(&c); err != nil {
			return 0, fmt.Errorf("queue: recent calls: %w", err)
		}
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("queue: recent calls: %w", err)
	}
	var iv []time.Duration
	for i := 1; i < len(calls); i++ {
		// A non-positive interval comes from the clock stepping back or identical stamps and
		// says nothing about service time; counting it could promise a zero wait.
		if d := time.Duration(calls[i-1] - calls[i]); d > 0 {
			iv = append(iv, d)
		}
	}
	if len(iv) >= minIntervals {
		slices.Sort(iv)
		m := len(iv) / 2
		if len(iv)%2 == 1 {
			return iv[m], nil
		}
		return (iv[m-1] + iv[m]) / 2, nil
	}
	return cat.AvgService / time.Duration(max(cat.Counters, 1)), nil
}

func (q *Queue) estimate(ctx context.Context, db querier, day string, cat Category, ahead int) (time.Duration, error) {
	if ahead <= 0 {
		return 0, nil
	}
	per, err := q.perTicket(ctx, db, day, cat)
	if err != nil {
		return 0, err
	}
	return per * time.Duration(ahead), nil
}

// Estimate returns the expected wait behind ahead tickets of category today: the median of the
// day's last call-to-call intervals of the category times ahead once the hall has made enough
// calls, before that AvgService / Counters times ahead. Zero means ahead is 0 or nothing is known.
// Errors: ErrUnknownCategory, ErrInvalid for a negative ahead.
func (q *Queue) Estimate(ctx context.Context, category string, ahead int) (time.Duration, error) {
	cat, err := q.category(category)
	if err != nil {
		return 0, err
	}
	if ahead < 0 {
		return 0, errf(CodeInvalid, "negative count ahead")
	}
	return q.estimate(ctx, q.st.DB(), q.Today(), cat, ahead)
}

// Waiting returns how many of today's tickets of category have not been called, normal and
// priority apart. Errors: ErrUnknownCategory.
func (q *Queue) Waiting(ctx context.Context, category string) (normal, priority int, err error) {
	cat, err := q.category(category)
	if err != nil {
		return 0, 0, err
	}
	err = q.st.DB().QueryRowContext(ctx, `SELECT
			coalesce(sum(priority = 0), 0), coalesce(sum(priority = 1), 0)
		FROM queue_ticket WHERE day = ? AND category = ? AND called_at IS NULL`,
		q.Today(), cat.Letter).Scan(&normal, &priority)
	if err != nil {
		return 0, 0, fmt.Errorf("queue: waiting: %w", err)
	}
	return normal, priority, nil
}

// Ahead returns the live position of a waiting ticket: how many tickets are served before it
// (counted as for WaitingAhead) and the estimated wait. Errors: ErrNotFound, ErrAlreadyCalled
// once the hall called it, ErrExpired for a ticket of another day.
func (q *Queue) Ahead(ctx context.Context, id int64) (int, time.Duration, error) {
	t, err := q.ByID(ctx, id)
	if err != nil {
		return 0, 0, err
	}
	if !t.CalledAt.IsZero() {
		return 0, 0, errf(CodeAlreadyCalled, "ticket %s was called at window %q", t.Code, t.Window)
	}
	if t.Day != q.Today() {
		return 0, 0, errf(CodeExpired, "ticket %s is of %s", t.Code, t.Day)
	}
	cat, err := q.category(t.Category)
	if err != nil {
		return 0, 0, err
	}
	n, err := countAhead(ctx, q.st.DB(), t.Day, t.Category, t.Priority, t.ID)
	if err != nil {
		return 0, 0, err
	}
	est, err := q.estimate(ctx, q.st.DB(), t.Day, cat, n)
	return n, est, err
}

// Call records that window called today's ticket code ("A012"; case and spaces are forgiven):
// it stops waiting, and the call times feed the estimates. Errors: ErrInvalid for a malformed
// code or window, ErrUnknownCategory, ErrNotFound, ErrAlreadyCalled (the first call time is kept,
// so a re-call does not distort the intervals).
func (q *Queue) Call(ctx context.Context, ticket, window string) error {
	letter, n, err := parseCode(ticket)
	if err != nil {
		return err
	}
	if _, err := q.category(letter); err != nil {
		return err
	}
	if err := checkText("window", window); err != nil {
		return err
	}
	return q.st.Tx(ctx, func(tx *sql.Tx) error {
		now := q.now()
		day := q.day(now)
		res, err := tx.ExecContext(ctx, `UPDATE queue_ticket SET called_at = ?, call_window = ?
			WHERE day = ? AND category = ? AND number = ? AND called_at IS NULL`,
			now.UnixNano(), window, day, letter, n)
		if err != nil {
			return fmt.Errorf("queue: call: %w", err)
		}
		if c, err := res.RowsAffected(); err != nil || c == 1 {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM queue_ticket
			WHERE day = ? AND category = ? AND number = ?)`, day, letter, n).Scan(&exists); err != nil {
			return fmt.Errorf("queue: call: %w", err)
		}
		if exists {
			return errf(CodeAlreadyCalled, "ticket %s already called", code(letter, n))
		}
		return errf(CodeNotFound, "no ticket %s today (%s)", code(letter, n), day)
	})
}

func (q *Queue) setPrint(ctx context.Context, id int64, state PrintState, reason string) error {
	res, err := q.st.DB().ExecContext(ctx, `UPDATE queue_ticket SET print_state = ?, print_error = ? WHERE id = ?`,
		string(state), reason, id)
	if err != nil {
		return fmt.Errorf("queue: mark %s: %w", state, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("queue: mark %s: %w", state, err)
	}
	if n == 0 {
		return errf(CodeNotFound, "no ticket with id %d", id)
	}
	return nil
}

// MarkPrinted records that ticket id is on paper (from Pending or Reprint; again is harmless)
// and clears PrintError. Errors: ErrNotFound.
func (q *Queue) MarkPrinted(ctx context.Context, id int64) error {
	return q.setPrint(ctx, id, Printed, "")
}

// MarkReprint records that ticket id must be printed again (paper out, jam, a staff request),
// from any state. An empty reason is stored as "reprint requested". Errors: ErrNotFound,
// ErrInvalid for a reason over 128 bytes or with control characters.
func (q *Queue) MarkReprint(ctx context.Context, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = "reprint requested"
	}
	if err := checkText("reason", reason); err != nil {
		return err
	}
	return q.setPrint(ctx, id, Reprint, reason)
}

// RecoverReason is the PrintError of tickets Recover moved to Reprint.
const RecoverReason = "print not confirmed before restart"

// Recover turns every Pending ticket, of any day, into Reprint and returns how many. Call it at
// start, before issuing: a Pending ticket then means the process died between committing the
// number and confirming the print, so it may or may not be on paper. Calling it while another
// goroutine is printing would wrongly flag that ticket; it would be printed twice, not lost.
func (q *Queue) Recover(ctx context.Context) (int, error) {
	res, err := q.st.DB().ExecContext(ctx, `UPDATE queue_ticket SET print_state = 'reprint', print_error = ?
		WHERE print_state = 'pending'`, RecoverReason)
	if err != nil {
		return 0, fmt.Errorf("queue: recover: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("queue: recover: %w", err)
	}
	return int(n), nil
}

const ticketCols = `id, day, category, number, priority, priority_reason, matter_id, section,
	issued_at, waiting_ahead, estimated_ms, lookup_code, print_state, print_error, called_at, call_window,
	source, take_id`

func (q *Queue) scan(row interface{ Scan(...any) error }) (Ticket, error) {
	var (
		t              Ticket
		issued, est    int64
		called         sql.NullInt64
		state          string
		priorityColumn int
	)
	err := row.Scan(&t.ID, &t.Day, &t.Category, &t.Number, &priorityColumn, &t.PriorityReason,
		&t.MatterID, &t.Section, &issued, &t.WaitingAhead, &est, &t.LookupCode, &state,
		&t.PrintError, &called, &t.Window, &t.Source, &t.TakeID)
	if err != nil {
		return Ticket{}, err
	}
	t.Code = code(t.Category, t.Number)
	t.Priority = priorityColumn == 1
	t.IssuedAt = time.Unix(0, issued).In(q.loc)
	t.EstimatedWait = time.Duration(est) * time.Millisecond
	t.Print = PrintState(state)
	if called.Valid {
		t.CalledAt = time.Unix(0, called.Int64).In(q.loc)
	}
	return t, nil
}

func (q *Queue) one(ctx context.Context, what, where string, args ...any) (Ticket, error) {
	t, err := q.scan(q.st.DB().QueryRowContext(ctx, `SELECT `+ticketCols+` FROM queue_ticket WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, errf(CodeNotFound, "no ticket %s", what)
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("queue: ticket %s: %w", what, err)
	}
	return t, nil
}

// ByID returns a ticket. Errors: ErrNotFound.
func (q *Queue) ByID(ctx context.Context, id int64) (Ticket, error) {
	return q.one(ctx, fmt.Sprintf("with id %d", id), `id = ?`, id)
}

// ByCode returns the ticket code ("A012", forgiving case and spaces) of day (YYYY-MM-DD; use
// Today() for the current one, as a remote "reprint A012" command means). Errors: ErrInvalid for
// a malformed code or day, ErrNotFound.
func (q *Queue) ByCode(ctx context.Context, day, ticket string) (Ticket, error) {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return Ticket{}, errf(CodeInvalid, "day %q is not YYYY-MM-DD", day)
	}
	letter, n, err := parseCode(ticket)
	if err != nil {
		return Ticket{}, err
	}
	return q.one(ctx, code(letter, n)+" of "+day, `day = ? AND category = ? AND number = ?`, day, letter, n)
}

// ByLookup returns the ticket whose QR lookup code is s (case-insensitive). Errors: ErrInvalid
// for a string that cannot be a lookup code, ErrNotFound.
func (q *Queue) ByLookup(ctx context.Context, s string) (Ticket, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != lookupLen || strings.Trim(s, lookupAlphabet) != "" {
		return Ticket{}, errf(CodeInvalid, "%q is not a ticket lookup code", s)
	}
	return q.one(ctx, "with lookup code "+s, `lookup_code = ?`, s)
}

// Last returns the most recently issued ticket of today (for a "print my ticket again" button).
// Errors: ErrNotFound before the day's first ticket.
func (q *Queue) Last(ctx context.Context) (Ticket, error) {
	return q.one(ctx, "today", `day = ? ORDER BY id DESC LIMIT 1`, q.Today())
}

// Reprints returns today's tickets in state Reprint, oldest first. Those of earlier days are
// left out: a citizen no longer waits for them.
func (q *Queue) Reprints(ctx context.Context) ([]Ticket, error) {
	rows, err := q.st.DB().QueryContext(ctx, `SELECT `+ticketCols+` FROM queue_ticket
		WHERE print_state = 'reprint' AND day = ? ORDER BY id`, q.Today())
	if err != nil {
		return nil, fmt.Errorf("queue: reprints: %w", err)
	}
	defer rows.Close()
	var out []Ticket
	for rows.Next() {
		t, err := q.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("queue: reprints: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue: reprints: %w", err)
	}
	return out, nil
}

// Counts are today's ticket figures, for the staff screen and the status counters.
type Counts struct {
	Issued   int // tickets issued today
	Priority int // of which green-channel tickets
	Waiting  int // not called yet
	Reprint  int // marked for reprint
}

// CountToday returns today's counts over every category.
func (q *Queue) CountToday(ctx context.Context) (Counts, error) {
	var c Counts
	err := q.st.DB().QueryRowContext(ctx, `SELECT count(*),
		coalesce(sum(priority = 1), 0), coalesce(sum(called_at IS NULL), 0),
		coalesce(sum(print_state = 'reprint'), 0) FROM queue_ticket WHERE day = ?`, q.Today()).
		Scan(&c.Issued, &c.Priority, &c.Waiting, &c.Reprint)
	if err != nil {
		return Counts{}, fmt.Errorf("queue: counts: %w", err)
	}
	return c, nil
}
