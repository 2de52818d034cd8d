package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"citizenhome/telemetry/wire"
)

// DevicePrinter is the device whose paper-out time the monthly report counts.
const DevicePrinter = "printer"

// StatePaperOut is the printer's state without paper.
const StatePaperOut = "paper-out"

func (s *Store) time(ns int64) time.Time { return time.Unix(0, ns).In(s.loc) }

// Timeline returns the kiosk's timeline over [from, to): first the state in force at from of
// its lifecycle (Device "") and of each device, with At = from (a device whose first state
// came later has none), then every change after from and before to, in order. Times are in
// the hall's zone. Errors: ErrInvalid for an empty kiosk or to not after from.
func (s *Store) Timeline(ctx context.Context, kiosk string, from, to time.Time) ([]Change, error) {
	if kiosk == "" || !to.After(from) {
		return nil, fmt.Errorf("%w: timeline of %q from %v to %v", ErrInvalid, kiosk, from, to)
	}
	devices, err := s.devices(ctx, kiosk)
	if err != nil {
		return nil, err
	}
	var out []Change
	for _, d := range devices {
		c, ok, err := s.inForce(ctx, kiosk, d, from.UnixNano())
		if err != nil {
			return nil, err
		}
		if ok {
			c.At = from.In(s.loc)
			out = append(out, c)
		}
	}
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT at, device, state, detail FROM history_change
		WHERE kiosk = ? AND at > ? AND at < ? ORDER BY at, id`, kiosk, from.UnixNano(), to.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("history: timeline: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c := Change{Kiosk: kiosk}
		var at int64
		if err := rows.Scan(&at, &c.Device, &c.State, &c.Detail); err != nil {
			return nil, fmt.Errorf("history: timeline: %w", err)
		}
		c.At = s.time(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: timeline: %w", err)
	}
	return out, nil
}

// devices lists the kiosk's lifecycle ("") and devices ever seen.
func (s *Store) devices(ctx context.Context, kiosk string) ([]string, error) {
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT device FROM history_state WHERE kiosk = ? ORDER BY device`, kiosk)
	if err != nil {
		return nil, fmt.Errorf("history: devices: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("history: devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// inForce returns the last change of the kiosk's device at or before at (ns).
func (s *Store) inForce(ctx context.Context, kiosk, device string, at int64) (Change, bool, error) {
	c := Change{Kiosk: kiosk, Device: device}
	var ns int64
	err := s.db.SQL().QueryRowContext(ctx, `SELECT at, state, detail FROM history_change
		INDEXED BY history_change_device WHERE kiosk = ? AND device = ? AND at <= ? ORDER BY at DESC, id DESC LIMIT 1`, kiosk, device, at).
		Scan(&ns, &c.State, &c.Detail)
	if err == sql.ErrNoRows {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("history: state at a time: %w", err)
	}
	c.At = s.time(ns)
	return c, true, nil
}

// Alerts returns the alerts f selects, newest first (by start), at most f.Limit (0:
// DefaultLimit).
func (s *Store) Alerts(ctx context.Context, f AlertFilter) ([]Alert, error) {
	var where []string
	var args []any
	if f.Kiosk != "" {
		where, args = append(where, "kiosk = ?"), append(args, f.Kiosk)
	}
	if f.Code != "" {
		where, args = append(where, "code = ?"), append(args, f.Code)
	}
	if f.Severity != "" {
		where, args = append(where, "severity = ?"), append(args, f.Severity)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "(ended IS NULL OR ended >= ?)"), append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "started < ?"), append(args, f.Until.UnixNano())
	}
	if f.Open {
		where = append(where, "ended IS NULL")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	q := `SELECT id, kiosk, code, severity, device, message, started, ended FROM history_alert`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY started DESC, id DESC LIMIT ?"
	rows, err := s.db.SQL().QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("history: alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var started int64
		var ended sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Kiosk, &a.Code, &a.Severity, &a.Device, &a.Message, &started, &ended); err != nil {
			return nil, fmt.Errorf("history: alerts: %w", err)
		}
		a.Started = s.time(started)
		if ended.Valid {
			e := s.time(ended.Int64)
			a.Ended = &e
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: alerts: %w", err)
	}
	return out, nil
}

// Days returns the counters of the kiosk ("" every kiosk) from date from to date to, both
// included ("2006-01-02", hall-local), by date then kiosk. Errors: ErrInvalid for a malformed
// date; from after to gives none.
func (s *Store) Days(ctx context.Context, kiosk string, from, to string) ([]Day, error) {
	for _, d := range []string{from, to} {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, fmt.Errorf("%w: date %q: want YYYY-MM-DD", ErrInvalid, d)
		}
	}
	q := `SELECT kiosk, date, tickets, receipts, card_reads, ratings, errors FROM history_day WHERE date >= ? AND date <= ?`
	args := []any{from, to}
	if kiosk != "" {
		q, args = q+" AND kiosk = ?", append(args, kiosk)
	}
	rows, err := s.db.SQL().QueryContext(ctx, q+" ORDER BY date, kiosk", args...)
	if err != nil {
		return nil, fmt.Errorf("history: days: %w", err)
	}
	defer rows.Close()
	var out []Day
	for rows.Next() {
		var d Day
		if err := rows.Scan(&d.Kiosk, &d.Date, &d.Tickets, &d.Receipts, &d.CardReads, &d.Ratings, &d.Errors); err != nil {
			return nil, fmt.Errorf("history: days: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: days: %w", err)
	}
	return out, nil
}

// Commands returns the kiosk's ("" every kiosk's) commands, newest first, at most limit (0:
// DefaultLimit). A reply to a command never seen is listed with an empty Name and a zero Sent.
func (s *Store) Commands(ctx context.Context, kiosk string, limit int) ([]Command, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	q := `SELECT kiosk, id, name, args, sender, sent, replied, ok, error FROM history_command`
	var args []any
	if kiosk != "" {
		q, args = q+" WHERE kiosk = ?", append(args, kiosk)
	}
	rows, err := s.db.SQL().QueryContext(ctx, q+" ORDER BY at DESC, id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("history: commands: %w", err)
	}
	defer rows.Close()
	var out []Command
	for rows.Next() {
		var c Command
		var cargs sql.NullString
		var sent, replied sql.NullInt64
		if err := rows.Scan(&c.Kiosk, &c.ID, &c.Name, &cargs, &c.By, &sent, &replied, &c.OK, &c.Error); err != nil {
			return nil, fmt.Errorf("history: commands: %w", err)
		}
		if cargs.Valid {
			c.Args = json.RawMessage(cargs.String)
		}
		if sent.Valid {
			c.Sent = s.time(sent.Int64)
		}
		if replied.Valid {
			r := s.time(replied.Int64)
			c.Replied = &r
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: commands: %w", err)
	}
	return out, nil
}

// span is [a, b) in Unix nanoseconds.
type span struct{ a, b int64 }

// Month returns the availability of every kiosk seen in the hall-local month that holds month,
// sorted by kiosk: the month's opening hours (up to now in the current month; a month not yet
// begun has no rows), of which the kiosk was ready, and of which its printer was out of paper
// while the kiosk was connected (once lost or shut down its printer's state is unknown), and
// the sums of its days' tickets and errors. Time before a kiosk's first state counts as not
// ready. A kiosk is seen when its lifecycle changed in the month, or its state at the month's
// start was not "disconnected" (a kiosk lost all month is in the report, one shut down is
// not), or it has counters of a day of the month.
func (s *Store) Month(ctx context.Context, month time.Time) ([]Availability, error) {
	m := month.In(s.loc)
	start := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, s.loc)
	end := start.AddDate(0, 1, 0)
	to := end
	if now := s.now(); now.Before(end) {
		to = now
	}
	if !to.After(start) {
		return nil, nil
	}
	open := s.week.Within(start, to)
	kiosks, err := s.kiosks(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := s.monthDays(ctx, start, end)
	if err != nil {
		return nil, err
	}
	var out []Availability
	for _, k := range kiosks {
		life, seen, err := s.spans(ctx, k, "", start, to)
		if err != nil {
			return nil, err
		}
		c, counted := counts[k]
		if !seen && !counted {
			continue
		}
		printer, _, err := s.spans(ctx, k, DevicePrinter, start, to)
		if err != nil {
			return nil, err
		}
		a := Availability{Kiosk: k, Open: open, Tickets: c.Tickets, Errors: c.Errors}
		var ready, connected, noPaper []span
		for _, l := range life {
			switch l.state {
			case wire.StateReady:
				ready = append(ready, l.span)
				connected = append(connected, l.span)
			case wire.StateLost, wire.StateDisconnected:
			default:
				connected = append(connected, l.span)
			}
		}
		for _, p := range printer {
			if p.state == StatePaperOut {
				noPaper = append(noPaper, p.span)
			}
		}
		a.Ready = s.within(ready)
		a.NoPaper = s.within(intersect(noPaper, connected))
		delete(counts, k)
		out = append(out, a)
	}
	// A kiosk with counters but no state at all (its states pruned or never seen).
	for k, c := range counts {
		out = append(out, Availability{Kiosk: k, Open: open, Tickets: c.Tickets, Errors: c.Errors})
	}
	slices.SortFunc(out, func(a, b Availability) int { return strings.Compare(a.Kiosk, b.Kiosk) })
	return out, nil
}

// within is the opening time within the spans.
func (s *Store) within(spans []span) time.Duration {
	var d time.Duration
	for _, p := range spans {
		d += s.week.Within(time.Unix(0, p.a), time.Unix(0, p.b))
	}
	return d
}

// intersect returns the parts common to two lists of sorted, disjoint spans.
func intersect(x, y []span) []span {
	var out []span
	for i, j := 0, 0; i < len(x) && j < len(y); {
		a, b := max(x[i].a, y[j].a), min(x[i].b, y[j].b)
		if a < b {
			out = append(out, span{a, b})
		}
		if x[i].b < y[j].b {
			i++
		} else {
			j++
		}
	}
	return out
}

func (s *Store) kiosks(ctx context.Context) ([]string, error) {
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT kiosk FROM history_state WHERE device = '' ORDER BY kiosk`)
	if err != nil {
		return nil, fmt.Errorf("history: kiosks: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("history: kiosks: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

type stateSpan struct {
	span
	state string
}

// spans cuts [from, to) into the kiosk's device's states (from its first state on). seen
// reports a change within, or a state at from other than disconnected.
func (s *Store) spans(ctx context.Context, kiosk, device string, from, to time.Time) ([]stateSpan, bool, error) {
	f, t := from.UnixNano(), to.UnixNano()
	var out []stateSpan
	first, ok, err := s.inForce(ctx, kiosk, device, f)
	if err != nil {
		return nil, false, err
	}
	seen := ok && first.State != wire.StateDisconnected
	if ok {
		out = append(out, stateSpan{span{f, t}, first.State})
	}
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT at, state FROM history_change
		INDEXED BY history_change_device WHERE kiosk = ? AND device = ? AND at > ? AND at < ? ORDER BY at, id`, kiosk, device, f, t)
	if err != nil {
		return nil, false, fmt.Errorf("history: states: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		var st string
		if err := rows.Scan(&at, &st); err != nil {
			return nil, false, fmt.Errorf("history: states: %w", err)
		}
		seen = true
		if n := len(out); n > 0 {
			out[n-1].b = at
		}
		out = append(out, stateSpan{span{at, t}, st})
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("history: states: %w", err)
	}
	return out, seen, nil
}

type counts struct{ Tickets, Errors int64 }

func (s *Store) monthDays(ctx context.Context, start, end time.Time) (map[string]counts, error) {
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT kiosk, sum(tickets), sum(errors) FROM history_day
		WHERE date >= ? AND date < ? GROUP BY kiosk`, start.Format(time.DateOnly), end.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("history: month's counters: %w", err)
	}
	defer rows.Close()
	out := map[string]counts{}
	for rows.Next() {
		var k string
		var c counts
		if err := rows.Scan(&k, &c.Tickets, &c.Errors); err != nil {
			return nil, fmt.Errorf("history: month's counters: %w", err)
		}
		out[k] = c
	}
	return out, rows.Err()
}
