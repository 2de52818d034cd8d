package line

import (
	"citizenhome/telemetry/wire"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Snapshot is the hall's queue now: the hall API's GET /v1/queue.
type Snapshot struct {
	Day        string
	Categories []CategoryState // in configured order
	Windows    []WindowState   // in configured order
}

// CategoryState is one category's figures.
type CategoryState struct {
	Letter          string
	Name            string
	Waiting         int    // waiting tickets, priority ones included
	WaitingPriority int    // of which priority
	LastCalled      string // code of the last ticket called today in it; empty before the first
	AvgService      time.Duration
	// ETANext is the wait a normal ticket taken now would be promised (the calling rule may
	// call it before some waiting priority tickets, within the priority share).
	ETANext time.Duration
}

// WindowState is one window.
type WindowState struct {
	Window     string
	State      string // "open" or "paused"
	Serving    string // code of its current ticket (called or serving); empty when none
	Categories []string
	Staff      string // the account that acted there last
}

// Snapshot returns today's figures per category and the windows' states.
func (l *Line) Snapshot(ctx context.Context) (Snapshot, error) {
	q := l.db.SQL()
	now := l.now()
	day := l.day(now)
	s := Snapshot{Day: day}
	// Read once for every category (Position reads them per ticket).
	paused, err := l.paused(ctx, q)
	if err != nil {
		return Snapshot{}, err
	}
	for _, letter := range l.order {
		c := CategoryState{Letter: letter, Name: l.cats[letter].Name}
		if err := q.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(priority), 0) FROM line_ticket
			WHERE day = ? AND category = ? AND state = 'waiting'`, day, letter).Scan(&c.Waiting, &c.WaitingPriority); err != nil {
			return Snapshot{}, fmt.Errorf("line: snapshot: %w", err)
		}
		err := q.QueryRowContext(ctx, `SELECT code FROM line_call WHERE day = ? AND category = ? AND recall = 0
			ORDER BY id DESC LIMIT 1`, day, letter).Scan(&c.LastCalled)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Snapshot{}, fmt.Errorf("line: snapshot: %w", err)
		}
		if c.AvgService, err = l.avgService(ctx, q, day, letter); err != nil {
			return Snapshot{}, err
		}
		// A ticket not issued yet: an id above any, issued now.
		n, err := l.aheadOf(ctx, q, day, letter, cand{id: math.MaxInt64, queueAt: now.UnixNano()}, now)
		if err != nil {
			return Snapshot{}, err
		}
		c.ETANext = c.AvgService / time.Duration(l.openCount(paused, letter)) * time.Duration(n)
		s.Categories = append(s.Categories, c)
	}
	for _, id := range l.worder {
		w, err := loadWindow(ctx, q, id)
		if err != nil {
			return Snapshot{}, err
		}
		ws := WindowState{Window: id, State: "open", Categories: append([]string(nil), l.wins[id].Categories...), Staff: w.staff}
		if w.paused {
			ws.State = "paused"
		}
		if w.current != 0 {
			t, err := l.one(ctx, q, "current", `id = ?`, w.current)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return Snapshot{}, err
			}
			if err == nil && (t.State == Called || t.State == Serving) {
				ws.Serving = t.Code
			}
		}
		s.Windows = append(s.Windows, ws)
	}
	return s, nil
}

// Tickets lists today's tickets in queue order, of state ("" for all: waiting, called,
// serving, done, no-show) and category ("" for all). Takes not (yet) printed are not listed.
// Errors: ErrInvalid for another state, ErrUnknownCategory.
func (l *Line) Tickets(ctx context.Context, state, category string) ([]Ticket, error) {
	where, args := `day = ? AND `+visible, []any{l.Today()}
	switch State(state) {
	case "":
	case Waiting, Called, Serving, Done, NoShow:
		where += ` AND state = ?`
		args = append(args, state)
	default:
		return nil, errf(CodeInvalid, "state %q is not waiting, called, serving, done or no-show", state)
	}
	if category != "" {
		if _, err := l.category(category); err != nil {
			return nil, err
		}
		where += ` AND category = ?`
		args = append(args, category)
	}
	rows, err := l.many(ctx, l.db.SQL(), where+` ORDER BY queue_at, id`, args...)
	if err != nil {
		return nil, err
	}
	out := make([]Ticket, len(rows))
	for i, r := range rows {
		out[i] = r.Ticket
	}
	return out, nil
}

// Ticket returns today's ticket code ("A012"; case and spaces forgiven). When a conflicting
// duplicate shares the code, the ticket that owns the number is returned. Errors: ErrInvalid
// for a malformed code, ErrNotFound (also for a take not printed yet).
func (l *Line) Ticket(ctx context.Context, code string) (Ticket, error) {
	_, _, code, err := ParseCode(code)
	if err != nil {
		return Ticket{}, err
	}
	t, err := l.byCode(ctx, l.db.SQL(), l.Today(), code)
	return t.Ticket, err
}

// Public is what a citizen's phone may see of a ticket: nothing about the person.
type Public struct {
	Code   string
	State  State
	Ahead  int           // waiting: tickets called before it; 0 otherwise
	ETA    time.Duration // waiting: the estimated wait; 0 otherwise
	Window string        // once called: the window
}

// Public returns the ticket whose QR lookup code is lookup (case and spaces forgiven), if it is
// today's and printed. Errors: ErrNotFound for anything else, a malformed code included, so a
// public page reveals nothing by its errors.
func (l *Line) Public(ctx context.Context, lookup string) (Public, error) {
	lookup = strings.ToUpper(strings.TrimSpace(lookup))
	if !wire.ValidLookup(lookup) {
		return Public{}, errf(CodeNotFound, "no ticket with that lookup code")
	}
	q := l.db.SQL()
	now := l.now()
	t, err := l.one(ctx, q, "with that lookup code", `lookup = ? AND day = ? AND `+visible, lookup, l.day(now))
	if err != nil {
		return Public{}, err
	}
	p := Public{Code: t.Code, State: t.State, Window: t.Window}
	pos, err := l.position(ctx, q, t, now)
	if err != nil {
		return Public{}, err
	}
	p.Ahead, p.ETA = pos.Ahead, pos.ETA
	return p, nil
}

// Position returns where today's waiting ticket code stands now (zero for a ticket not
// waiting). Errors: as Ticket.
func (l *Line) Position(ctx context.Context, code string) (Position, error) {
	_, _, code, err := ParseCode(code)
	if err != nil {
		return Position{}, err
	}
	q := l.db.SQL()
	now := l.now()
	t, err := l.byCode(ctx, q, l.day(now), code)
	if err != nil {
		return Position{}, err
	}
	return l.position(ctx, q, t, now)
}

// MaxCalls is the most calls one Calls returns.
const MaxCalls = 1000

// Calls returns the calls and recalls with an ID above afterID, of any day, in order, at most
// limit (MaxCalls when limit is not in 1..MaxCalls). A display catching up after a reconnect
// passes the last ID it announced.
func (l *Line) Calls(ctx context.Context, afterID int64, limit int) ([]Call, error) {
	if limit < 1 || limit > MaxCalls {
		limit = MaxCalls
	}
	rows, err := l.db.SQL().QueryContext(ctx, `SELECT id, code, category, win, at, recall FROM line_call
		WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("line: calls: %w", err)
	}
	defer rows.Close()
	var out []Call
	for rows.Next() {
		var c Call
		var at int64
		if err := rows.Scan(&c.ID, &c.Code, &c.Category, &c.Window, &at, &c.Recall); err != nil {
			return nil, fmt.Errorf("line: calls: %w", err)
		}
		c.At = time.Unix(0, at).In(l.loc)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("line: calls: %w", err)
	}
	return out, nil
}

// AuditEntry is one counter action.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Staff  string
	Window string // empty for a Return
	Action string // ActionNext, ...
	Code   string // the ticket acted on; empty for pause and resume
	Reason string // Call's reason, Pause's, "to B" for a transfer
}

// Audit lists day's counter actions in order. Errors: ErrInvalid for a day not YYYY-MM-DD.
func (l *Line) Audit(ctx context.Context, day string) ([]AuditEntry, error) {
	if !wire.ValidDay(day) {
		return nil, errf(CodeInvalid, "day %q is not YYYY-MM-DD", day)
	}
	rows, err := l.db.SQL().QueryContext(ctx, `SELECT id, at, staff, win, action, code, reason FROM line_audit
		WHERE day = ? ORDER BY id`, day)
	if err != nil {
		return nil, fmt.Errorf("line: audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var a AuditEntry
		var at int64
		if err := rows.Scan(&a.ID, &at, &a.Staff, &a.Window, &a.Action, &a.Code, &a.Reason); err != nil {
			return nil, fmt.Errorf("line: audit: %w", err)
		}
		a.At = time.Unix(0, at).In(l.loc)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("line: audit: %w", err)
	}
	return out, nil
}
