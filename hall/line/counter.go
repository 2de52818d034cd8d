package line

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Counter actions, as recorded in the audit.
const (
	ActionNext     = "next"
	ActionCall     = "call"
	ActionRecall   = "recall"
	ActionStart    = "start"
	ActionDone     = "done"
	ActionNoShow   = "no-show"
	ActionTransfer = "transfer"
	ActionPause    = "pause"
	ActionResume   = "resume"
	ActionReturn   = "return"
)

// Call is one announcement: a ticket called (or recalled) to a window. IDs increase by one per
// call across the hall, so a reader that sees a gap knows to read the calls in between.
type Call struct {
	ID       int64
	Code     string
	Category string
	Window   string
	At       time.Time
	Recall   bool
}

type winState struct {
	paused  bool
	reason  string
	staff   string
	current int64 // ticket id; 0: none
}

func loadWindow(ctx context.Context, q querier, id string) (winState, error) {
	var w winState
	var cur sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT paused, reason, staff, current FROM line_window WHERE id = ?`, id).
		Scan(&w.paused, &w.reason, &w.staff, &cur)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return winState{}, fmt.Errorf("line: window %s: %w", id, err)
	}
	w.current = cur.Int64
	return w, nil
}

func saveWindow(ctx context.Context, tx *sql.Tx, id string, w winState) error {
	var cur any
	if w.current != 0 {
		cur = w.current
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO line_window (id, paused, reason, staff, current) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET paused = excluded.paused, reason = excluded.reason,
		staff = excluded.staff, current = excluded.current`, id, w.paused, w.reason, w.staff, cur)
	if err != nil {
		return fmt.Errorf("line: window %s: %w", id, err)
	}
	return nil
}

func audit(ctx context.Context, tx *sql.Tx, now time.Time, day, staff, window, action, code, reason string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO line_audit (at, day, staff, win, action, code, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, now.UnixNano(), day, staff, window, action, code, reason)
	if err != nil {
		return fmt.Errorf("line: audit: %w", err)
	}
	return nil
}

// step is one counter action on a window's state and current ticket (nil when none); it
// returns the ticket acted on and the call it made, if any.
type step func(tx *sql.Tx, now time.Time, w *winState, cur *row) (row, *Call, error)

// act runs a counter action at window for staff, audited with reason, in one transaction.
func (l *Line) act(ctx context.Context, window, staff, action, reason string, fn step) (Ticket, error) {
	if _, err := l.window(window); err != nil {
		return Ticket{}, err
	}
	if err := checkText("staff", staff, true); err != nil {
		return Ticket{}, err
	}
	var out row
	err := l.write(ctx, func(tx *sql.Tx, now time.Time) (Change, error) {
		w, err := loadWindow(ctx, tx, window)
		if err != nil {
			return Change{}, err
		}
		var cur *row
		if w.current != 0 {
			r, err := l.one(ctx, tx, "current", `id = ?`, w.current)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return Change{}, err
			}
			if err == nil && (r.State == Called || r.State == Serving) {
				cur = &r
			}
		}
		t, call, err := fn(tx, now, &w, cur)
		if err != nil {
			return Change{}, err
		}
		w.staff = staff
		if err := saveWindow(ctx, tx, window, w); err != nil {
			return Change{}, err
		}
		if err := audit(ctx, tx, now, l.day(now), staff, window, action, t.Code, reason); err != nil {
			return Change{}, err
		}
		out = t
		return Change{Call: call, Queue: true}, nil
	})
	if err != nil {
		return Ticket{}, err
	}
	return out.Ticket, nil
}

// callable refuses a call at a paused window or one with a current ticket.
func callable(window string, w *winState, cur *row) error {
	if w.paused {
		return errf(CodePaused, "window %s is paused", window)
	}
	if cur != nil {
		return errf(CodeState, "window %s has %s %s: finish the current ticket first (done, no-show or transfer)", window, cur.Code, cur.State)
	}
	return nil
}

// call makes ticket id the window's current ticket, called now, and records the call.
func (l *Line) call(ctx context.Context, tx *sql.Tx, now time.Time, window, staff string, w *winState, id int64) (row, *Call, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE line_ticket SET state = 'called', called_at = ?, win = ?,
		recalls = 0, started_at = NULL WHERE id = ?`, now.UnixNano(), window, id); err != nil {
		return row{}, nil, fmt.Errorf("line: call: %w", err)
	}
	t, err := l.one(ctx, tx, "called", `id = ?`, id)
	if err != nil {
		return row{}, nil, err
	}
	w.current = id
	c, err := l.announce(ctx, tx, now, window, staff, t, false)
	return t, c, err
}

func (l *Line) announce(ctx context.Context, tx *sql.Tx, now time.Time, window, staff string, t row, recall bool) (*Call, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO line_call (ticket, day, code, category, win, at, recall, priority, staff)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.id, t.Day, t.Code, t.Category, window, now.UnixNano(), recall, t.Priority, staff)
	if err != nil {
		return nil, fmt.Errorf("line: record call: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("line: record call: %w", err)
	}
	return &Call{ID: id, Code: t.Code, Category: t.Category, Window: window, At: now, Recall: recall}, nil
}

// Next calls the ticket the calling rule chooses (see the package comment) among today's waiting
// tickets of the window's categories, and makes it the window's current ticket. Errors:
// ErrUnknownWindow, ErrInvalid (no staff), ErrPaused, ErrState while the window has a current
// ticket (called or serving: finish it with Done, NoShow or Transfer first, even one left
// current over midnight), ErrEmpty when nobody waits for the window.
func (l *Line) Next(ctx context.Context, window, staff string) (Ticket, error) {
	return l.act(ctx, window, staff, ActionNext, "", func(tx *sql.Tx, now time.Time, w *winState, cur *row) (row, *Call, error) {
		if err := callable(window, w, cur); err != nil {
			return row{}, nil, err
		}
		day := l.day(now)
		c, err := candidates(ctx, tx, day, l.wins[window].Categories)
		if err != nil {
			return row{}, nil, err
		}
		hist, err := history(ctx, tx, `win = ? AND day = ?`, window, day)
		if err != nil {
			return row{}, nil, err
		}
		i := pick(c, hist, now, l.rules)
		if i < 0 {
			return row{}, nil, errf(CodeEmpty, "nobody waits for window %s", window)
		}
		return l.call(ctx, tx, now, window, staff, w, c[i].id)
	})
}

// Call calls today's waiting ticket code ("A012"; case and spaces forgiven) out of order, for a
// reason that is audited. Errors: ErrUnknownWindow, ErrInvalid (no staff or reason, a malformed
// code, a ticket of a category the window does not serve), ErrPaused, ErrState (the window has a
// current ticket, or the ticket is not waiting), ErrNotFound.
func (l *Line) Call(ctx context.Context, window, staff, code, reason string) (Ticket, error) {
	_, _, code, err := ParseCode(code)
	if err != nil {
		return Ticket{}, err
	}
	if err := checkText("reason", reason, true); err != nil {
		return Ticket{}, err
	}
	return l.act(ctx, window, staff, ActionCall, reason, func(tx *sql.Tx, now time.Time, w *winState, cur *row) (row, *Call, error) {
		if err := callable(window, w, cur); err != nil {
			return row{}, nil, err
		}
		t, err := l.byCode(ctx, tx, l.day(now), code)
		if err != nil {
			return row{}, nil, err
		}
		if t.State != Waiting {
			return row{}, nil, errf(CodeState, "ticket %s is %s, not waiting", code, t.State)
		}
		if !slices.Contains(l.wins[window].Categories, t.Category) {
			return row{}, nil, errf(CodeInvalid, "window %s does not serve category %s of ticket %s", window, t.Category, code)
		}
		return l.call(ctx, tx, now, window, staff, w, t.id)
	})
}

// Recall announces the window's called ticket again, at most Rules.MaxRecalls times per call;
// a paused window may still recall. Errors: ErrUnknownWindow, ErrInvalid (no staff), ErrNothing
// (no current ticket), ErrState (the citizen is being served), ErrRecallLimit.
func (l *Line) Recall(ctx context.Context, window, staff string) (Ticket, error) {
	return l.act(ctx, window, staff, ActionRecall, "", func(tx *sql.Tx, now time.Time, w *winState, cur *row) (row, *Call, error) {
		if cur == nil {
			return row{}, nil, errf(CodeNothing, "window %s has no current ticket", window)
		}
		if cur.State != Called {
			return row{}, nil, errf(CodeState, "ticket %s is %s: no recall", cur.Code, cur.State)
		}
		if cur.Recalls >= l.rules.MaxRecalls {
			return row{}, nil, errf(CodeRecallLimit, "ticket %s was recalled %d times, the most", cur.Code, cur.Recalls)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE line_ticket SET recalls = recalls + 1 WHERE id = ?`, cur.id); err != nil {
			return row{}, nil, fmt.Errorf("line: recall: %w", err)
		}
		cur.Recalls++
		c, err := l.announce(ctx, tx, now, window, staff, *cur, true)
		return *cur, c, err
	})
}

// Start records that the called citizen is at the window: Serving. Errors: ErrUnknownWindow,
// ErrInvalid (no staff), ErrNothing, ErrState (already serving).
func (l *Line) Start(ctx context.Context, window, staff string) (Ticket, error) {
	return l.act(ctx, window, staff, ActionStart, "", func(tx *sql.Tx, now time.Time, w *winState, cur *row) (row, *Call, error) {
		if cur == nil {
			return row{}, nil, errf(CodeNothing, "window %s has no current ticket", window)
		}
		if cur.State != Called {
			return row{}, nil, errf(CodeState, "ticket %s is %s already", cur.Code, cur.State)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE line_ticket SET state = 'serving', started_at = ? WHERE id = ?`, now.UnixNano(), cur.id); err != nil {
			return row{}, nil, fmt.Errorf("line: start: %w", err)
		}
		cur.State, cur.started = Serving, now.UnixNano()
		return *cur, nil, nil
	})
}

// Done finishes the window's current ticket, serving or called (staff may skip Start). Its
// service time — from Start, or from the call when Start was skipped — counts in its category's
// average. The window is then free. Errors: ErrUnknownWindow, ErrInvalid (no staff), ErrNothing.
func (l *Line) Done(ctx context.Context, window, staff string) (Ticket, error) {
	return l.act(ctx, window, staff, ActionDone, "", func(tx *sql.Tx, now time.Time, w *winState, cur *row) (row, *Call, error) {
		if cur == nil {
			return row{}, nil, errf(CodeNothing, "window %s has no current ticket", window)
		}
		from := cur.started
		if from == 0 {
			from = cur.CalledAt.UnixNano()
		}
		served := max(now.UnixNano()-from, 0) // a clock stepped back serves nobody in negative time
		if _, err := tx.ExecContext(ctx, `UPDATE line_ticket SET state = 'done', ended_at = ?, served_ns = ? WHERE id = ?`,
			now.UnixNano(), served, cur.id); err != nil {
			return row{}, nil, fmt.Errorf("line: done: %w", err)
		}
		w.current = 0
		cur.State, cur.Served = Done, time.Duration(served)
		return *cur, nil, nil
	})
}

// NoShow records that the called citizen did not come; they may Return within
// Rules.NoShowGrace. The window is then free. Errors: ErrUnknownWindow, ErrInvalid (no staff),
// ErrNothing, ErrState (the citizen is being served: use Done).
func (l *Line) NoShow(ctx context.Context, window, staff string) (Ticket, error) {
	return l.act(ctx, window, staff, ActionNoShow, "", func(tx *sql.Tx, now time.Time, w *winState, cur *row) (row, *Call, error) {
		if cur == nil {
			return row{}, nil, errf(CodeNothing, "window %s has no current ticket", window)
		}
		if cur.State != Called {
			return row{}, nil, errf(CodeState, "ticket %s is %s: the citizen came", cur.Code, cur.State)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE line_ticket SET state = 'no-show', ended_at = ? WHERE id = ?`, now.UnixNano(), cur.id); err != nil {
			return row{}, nil, fmt.Errorf("line: no-show: %w", err)
		}
		w.current = 0
		cur.State = NoShow
		return *cur, nil, nil
	})
}

// Transfer sends the window's current ticket (called or serving) to wait in category, keeping
// its code and its issue time: it waits ahead of the tickets issued after it there. The window
// is then free. Errors: ErrUnknownWindow, ErrUnknownCategory, ErrInvalid (no staff, the ticket's
// own category), ErrNothing.
func (l *Line) Transfer(ctx context.Context, window, staff, category string) (Ticket, error) {
	if _, err := l.category(category); err != nil {
		return Ticket{}, err
	}
	return l.act(ctx, window, staff, ActionTransfer, "to "+category, func(tx *sql.Tx, now time.Time, w *winState, cur *row) (row, *Call, error) {
		if cur == nil {
			return row{}, nil, errf(CodeNothing, "window %s has no current ticket", window)
		}
		if cur.Category == category {
			return row{}, nil, errf(CodeInvalid, "ticket %s waits in %s already", cur.Code, category)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE line_ticket SET state = 'waiting', category = ?, called_at = NULL,
			win = '', recalls = 0, started_at = NULL WHERE id = ?`, category, cur.id); err != nil {
			return row{}, nil, fmt.Errorf("line: transfer: %w", err)
		}
		w.current = 0
		cur.State, cur.Category, cur.CalledAt, cur.Window, cur.Recalls = Waiting, category, time.Time{}, "", 0
		return *cur, nil, nil
	})
}

// Pause stops calls at the window (Next and Call get ErrPaused); its current ticket, if any,
// may still be recalled and finished. reason is optional and audited; pausing a paused window
// changes nothing but its reason. Errors: ErrUnknownWindow, ErrInvalid (no staff, a bad reason).
func (l *Line) Pause(ctx context.Context, window, staff, reason string) error {
	if err := checkText("reason", reason, false); err != nil {
		return err
	}
	_, err := l.act(ctx, window, staff, ActionPause, reason, func(tx *sql.Tx, now time.Time, w *winState, cur *row) (row, *Call, error) {
		w.paused, w.reason = true, reason
		return row{}, nil, nil
	})
	return err
}

// Resume opens a paused window again; an open window stays open. Errors: ErrUnknownWindow,
// ErrInvalid (no staff).
func (l *Line) Resume(ctx context.Context, window, staff string) error {
	_, err := l.act(ctx, window, staff, ActionResume, "", func(tx *sql.Tx, now time.Time, w *winState, cur *row) (row, *Call, error) {
		w.paused, w.reason = false, ""
		return row{}, nil, nil
	})
	return err
}

// Return queues today's no-show ticket code again, when the citizen comes back within
// Rules.NoShowGrace of the no-show: it waits right after the next Rules.RequeueAfter tickets
// waiting in its category (after all of them when fewer wait). Audited without a window.
// Errors: ErrInvalid (no staff, a malformed code), ErrNotFound, ErrState (not a no-show),
// ErrExpired (after the grace).
func (l *Line) Return(ctx context.Context, code, staff string) (Ticket, error) {
	_, _, code, err := ParseCode(code)
	if err != nil {
		return Ticket{}, err
	}
	if err := checkText("staff", staff, true); err != nil {
		return Ticket{}, err
	}
	var out row
	err = l.write(ctx, func(tx *sql.Tx, now time.Time) (Change, error) {
		day := l.day(now)
		t, err := l.byCode(ctx, tx, day, code)
		if err != nil {
			return Change{}, err
		}
		if t.State != NoShow {
			return Change{}, errf(CodeState, "ticket %s is %s, not a no-show", code, t.State)
		}
		if now.UnixNano()-t.ended > int64(l.rules.NoShowGrace) {
			return Change{}, errf(CodeExpired, "ticket %s was a no-show more than %s ago", code, l.rules.NoShowGrace)
		}
		c, err := candidates(ctx, tx, day, []string{t.Category})
		if err != nil {
			return Change{}, err
		}
		// Right after the Nth: its queue time plus 1 ns sorts after it and, clocks being what
		// they are, before the next one.
		at := now.UnixNano()
		if n := l.rules.RequeueAfter; len(c) >= n {
			at = c[n-1].queueAt + 1
		}
		if _, err := tx.ExecContext(ctx, `UPDATE line_ticket SET state = 'waiting', queue_at = ?, called_at = NULL,
			win = '', recalls = 0, started_at = NULL, ended_at = NULL WHERE id = ?`, at, t.id); err != nil {
			return Change{}, fmt.Errorf("line: return: %w", err)
		}
		if err := audit(ctx, tx, now, day, staff, "", ActionReturn, code, ""); err != nil {
			return Change{}, err
		}
		t.State, t.queueAt, t.CalledAt, t.Window, t.Recalls = Waiting, at, time.Time{}, "", 0
		out = t
		return Change{Queue: true}, nil
	})
	if err != nil {
		return Ticket{}, err
	}
	return out.Ticket, nil
}
