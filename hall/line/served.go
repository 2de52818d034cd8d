package line

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CodeNotServed: the ticket exists but no window has finished it (waiting, called, serving, a
// no-show, or not printed yet). Declared here rather than in errors.go with the others so that
// the ratings' additions stay in one file.
const CodeNotServed Code = "not-served"

// ErrNotServed is returned by ServedBy for a ticket no window has finished (yet).
var ErrNotServed = &Error{Code: CodeNotServed}

// Service is who served a finished ticket: what a rating of it is about. It holds no personal
// data.
type Service struct {
	Window   string // the window of its last call
	Staff    string // the account that made that call
	Section  string // the ticket's hall section ("" when it has none)
	Category string // the letter it was served in (after a transfer, the last one)
	Started  time.Time
	Ended    time.Time
}

// ServedBy returns who served ticket code ("A012"; case and spaces forgiven) of day
// (YYYY-MM-DD, "" for today): the window and the staff of its last call, once the ticket is
// done. A ticket called at one window, transferred and served at another is the second's.
// Started is the Start, or the last call when staff skipped Start. When a conflicting
// duplicate shares the code, the ticket that owns the number is the one asked about.
// Errors: ErrInvalid (a malformed code or day), ErrNotFound (no such printed ticket that day),
// ErrNotServed (the ticket is waiting, called, being served, or was a no-show).
func (l *Line) ServedBy(ctx context.Context, day, code string) (Service, error) {
	_, _, code, err := ParseCode(code)
	if err != nil {
		return Service{}, err
	}
	if day == "" {
		day = l.Today()
	} else if _, err := time.ParseInLocation(time.DateOnly, day, l.loc); err != nil {
		return Service{}, errf(CodeInvalid, "day %q is not YYYY-MM-DD", day)
	}
	q := l.db.SQL()
	t, err := l.byCode(ctx, q, day, code)
	if err != nil {
		return Service{}, err
	}
	return l.service(ctx, q, t)
}

func (l *Line) service(ctx context.Context, q querier, t row) (Service, error) {
	if t.State != Done {
		return Service{}, errf(CodeNotServed, "ticket %s of %s is %s, not served yet", t.Code, t.Day, t.State)
	}
	s := Service{Section: t.Section, Category: t.Category, Ended: time.Unix(0, t.ended).In(l.loc)}
	var at int64
	err := q.QueryRowContext(ctx, `SELECT win, staff, at FROM line_call WHERE ticket = ? ORDER BY id DESC LIMIT 1`, t.id).
		Scan(&s.Window, &s.Staff, &at)
	if errors.Is(err, sql.ErrNoRows) {
		// Done is only reached through a call; a ledger edited by hand is the only way here.
		return Service{}, errf(CodeNotServed, "ticket %s of %s has no call", t.Code, t.Day)
	}
	if err != nil {
		return Service{}, fmt.Errorf("line: served by: %w", err)
	}
	if t.started != 0 {
		at = t.started
	}
	s.Started = time.Unix(0, at).In(l.loc)
	return s, nil
}

// LastDone returns the most recent ticket finished (Done) at window, today or yesterday (a
// counter pad's rating comes within minutes; a day back covers a window working past
// midnight): its code, its day and who served it. The ticket's last call must have been at
// window: one finished elsewhere after a transfer is the other window's. Errors:
// ErrUnknownWindow, ErrNotFound (nothing finished there in that time).
func (l *Line) LastDone(ctx context.Context, window string) (code, day string, s Service, err error) {
	if _, err := l.window(window); err != nil {
		return "", "", Service{}, err
	}
	now := l.now()
	today := l.day(now)
	yesterday := l.day(now.AddDate(0, 0, -1))
	q := l.db.SQL()
	// line_call_window finds the window's calls; the ticket's own win is its last call's.
	t, err := l.one(ctx, q, "done at window "+window, `state = 'done' AND win = ? AND id IN
		(SELECT ticket FROM line_call WHERE win = ? AND day IN (?, ?)) ORDER BY ended_at DESC, id DESC`,
		window, window, today, yesterday)
	if err != nil {
		return "", "", Service{}, err
	}
	s, err = l.service(ctx, q, t)
	if err != nil {
		return "", "", Service{}, err
	}
	return t.Code, t.Day, s, nil
}
