package line

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// row is a ticket with what only the package needs.
type row struct {
	Ticket
	id      int64
	queueAt int64
	started int64 // 0: not started
	ended   int64 // 0: not ended (done or no-show)
}

const ticketCols = `id, day, code, number, category, priority, reason, matter, section, state, kiosk,
	coalesce(lookup, ''), issued_at, queue_at, coalesce(called_at, 0), win, recalls,
	coalesce(served_ns, 0), lease, conflict, coalesce(started_at, 0), coalesce(ended_at, 0)`

func (l *Line) scan(s interface{ Scan(...any) error }) (row, error) {
	var (
		r                         row
		issued, called, served    int64
		state                     string
		priority, lease, conflict bool
	)
	err := s.Scan(&r.id, &r.Day, &r.Code, &r.Number, &r.Category, &priority, &r.Reason, &r.Matter,
		&r.Section, &state, &r.Kiosk, &r.Lookup, &issued, &r.queueAt, &called, &r.Window,
		&r.Recalls, &served, &lease, &conflict, &r.started, &r.ended)
	if err != nil {
		return row{}, err
	}
	r.Priority, r.Lease, r.Conflict = priority, lease, conflict
	r.State = State(state)
	r.IssuedAt = time.Unix(0, issued).In(l.loc)
	if called != 0 {
		r.CalledAt = time.Unix(0, called).In(l.loc)
	}
	r.Served = time.Duration(served)
	return r, nil
}

// one returns the first ticket matching where; ErrNotFound (with what) when none does.
func (l *Line) one(ctx context.Context, q querier, what, where string, args ...any) (row, error) {
	r, err := l.scan(q.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM line_ticket WHERE `+where+` LIMIT 1`, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return row{}, errf(CodeNotFound, "no ticket %s", what)
	}
	if err != nil {
		return row{}, fmt.Errorf("line: ticket %s: %w", what, err)
	}
	return r, nil
}

func (l *Line) many(ctx context.Context, q querier, where string, args ...any) ([]row, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+ticketCols+` FROM line_ticket WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("line: tickets: %w", err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		r, err := l.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("line: tickets: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("line: tickets: %w", err)
	}
	return out, nil
}

// visible is the SQL condition of tickets the hall API shows: those a kiosk printed.
const visible = `state NOT IN ('unconfirmed', 'void')`

// byCode finds today's visible ticket with code; a conflicting duplicate comes after the
// ticket that owns the number.
func (l *Line) byCode(ctx context.Context, q querier, day, code string) (row, error) {
	return l.one(ctx, q, code+" on "+day, `day = ? AND code = ? AND `+visible+` ORDER BY conflict, id`, day, code)
}
