package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// The hall's one numbering (issue 15). A kiosk whose hall runs a controller (halld) does not
// number tickets itself: it asks halld for each number and issues it with IssueGiven, or, when
// halld does not answer in time, issues the highest unused number of the lease halld granted it
// beforehand (IssueLeased). A kiosk without a controller keeps using Issue.

// Source is where a ticket's number came from.
type Source string

// Sources.
const (
	SourceLocal Source = "local" // this kiosk's counter (Issue)
	SourceGiven Source = "given" // halld's answer to a take (IssueGiven)
	SourceLease Source = "lease" // the kiosk's lease (IssueLeased)
)

// maxAbandoned is how many abandoned takes one ticket names (wire.MaxAbandoned); more wait for
// the next ticket.
const maxAbandoned = 64

// leaseKeepDays is how long used and unused lease rows are kept (the day's report may ask).
const leaseKeepDays = 40

var reTake = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Given is a number halld committed for one of this kiosk's takes.
type Given struct {
	Take   string // the take's id: 32 lower-case hex characters
	Day    string // the day of the number, YYYY-MM-DD
	Number int    // 1..MaxNumber
	Lookup string // the ticket's lookup code, as halld knows it
	// Ahead and Wait are halld's figures, printed on the ticket.
	Ahead int
	Wait  time.Duration
}

// Position is a wait to print that the caller knows better than this kiosk's tickets can tell
// (the hall's live figures).
type Position struct {
	Ahead int
	Wait  time.Duration
}

func (g Given) check() error {
	switch {
	case !reTake.MatchString(g.Take):
		return errf(CodeInvalid, "take id %q is not 32 hex characters", g.Take)
	case !validDay(g.Day):
		return errf(CodeInvalid, "day %q is not YYYY-MM-DD", g.Day)
	case g.Number < 1 || g.Number > MaxNumber:
		return errf(CodeInvalid, "number %d is not 1..%d", g.Number, MaxNumber)
	case len(g.Lookup) != lookupLen || strings.Trim(g.Lookup, lookupAlphabet) != "":
		return errf(CodeInvalid, "%q is not a ticket lookup code", g.Lookup)
	case g.Ahead < 0 || g.Wait < 0:
		return errf(CodeInvalid, "negative figures")
	}
	return nil
}

func validDay(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil && len(s) == len(time.DateOnly)
}

// IssueGiven issues the number halld gave for take g.Take, Pending, with halld's lookup code
// and figures, and runs also (as IssueWith does) in the same transaction: the place to record
// the ticket's event, naming the abandoned takes (TakeAbandoned). Errors: ErrUnknownCategory, ErrInvalid (the request, or g: a bad take id,
// day, number or lookup code), ErrTaken when this kiosk already holds that number, take or
// lookup code, or a wrapped store error; then nothing is written.
func (q *Queue) IssueGiven(ctx context.Context, r Request, g Given, also func(tx *sql.Tx, t Ticket) error) (Ticket, error) {
	if err := g.check(); err != nil {
		return Ticket{}, err
	}
	return q.issueNumbered(ctx, r, also, func(tx *sql.Tx, now time.Time) (numbered, error) {
		return numbered{day: g.Day, n: g.Number, lookup: g.Lookup, source: SourceGiven, take: g.Take,
			pos: &Position{Ahead: g.Ahead, Wait: g.Wait}}, nil
	})
}

// IssueLeased issues the highest unused leased number of the request's category for today,
// marking it used in the same transaction, with a lookup code drawn here. pos, when not nil, is
// the wait printed; otherwise it is estimated from this kiosk's tickets as Issue does. also runs
// as IssueGiven's does. Errors: ErrNoLease when no leased number of
// the category is left for today (nothing is written), ErrUnknownCategory, ErrInvalid, or a
// wrapped store error.
func (q *Queue) IssueLeased(ctx context.Context, r Request, pos *Position, also func(tx *sql.Tx, t Ticket) error) (Ticket, error) {
	if pos != nil && (pos.Ahead < 0 || pos.Wait < 0) {
		return Ticket{}, errf(CodeInvalid, "negative figures")
	}
	return q.issueNumbered(ctx, r, also, func(tx *sql.Tx, now time.Time) (numbered, error) {
		day := q.day(now)
		var n int
		// A number this kiosk already holds (a misconfiguration) is skipped, not issued twice.
		err := tx.QueryRowContext(ctx, `SELECT l.number FROM queue_lease l
			WHERE l.day = ? AND l.category = ? AND l.ticket IS NULL AND NOT EXISTS (SELECT 1 FROM queue_ticket t
				WHERE t.day = l.day AND t.category = l.category AND t.number = l.number)
			ORDER BY l.number DESC LIMIT 1`, day, r.Category).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return numbered{}, errf(CodeNoLease, "no leased number of category %s is left for %s", r.Category, day)
		}
		if err != nil {
			return numbered{}, fmt.Errorf("queue: lease: %w", err)
		}
		lookup, err := q.newLookup(ctx, tx)
		if err != nil {
			return numbered{}, err
		}
		return numbered{day: day, n: n, lookup: lookup, source: SourceLease, pos: pos}, nil
	})
}

type numbered struct {
	day    string
	n      int
	lookup string
	source Source
	take   string
	pos    *Position // nil: estimate locally
}

func (q *Queue) issueNumbered(ctx context.Context, r Request, also func(*sql.Tx, Ticket) error,
	pick func(tx *sql.Tx, now time.Time) (numbered, error)) (Ticket, error) {
	cat, err := q.category(r.Category)
	if err != nil {
		return Ticket{}, err
	}
	if err := r.check(); err != nil {
		return Ticket{}, err
	}
	var t Ticket
	err = q.st.Tx(ctx, func(tx *sql.Tx) error {
		now := time.Unix(0, q.now().UnixNano()).In(q.loc)
		nb, err := pick(tx, now)
		if err != nil {
			return err
		}
		var held bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM queue_ticket WHERE (day = ? AND category = ? AND number = ?)
			OR lookup_code = ? OR (take_id <> '' AND take_id = ?))`, nb.day, cat.Letter, nb.n, nb.lookup, nb.take).Scan(&held); err != nil {
			return fmt.Errorf("queue: issue: %w", err)
		}
		if held {
			return errf(CodeTaken, "this kiosk already holds %s of %s, its lookup code or its take", code(cat.Letter, nb.n), nb.day)
		}
		// The counter row the ticket's foreign key needs. Its last is kept at the highest number
		// this kiosk holds, so a kiosk switched back to local numbering the same day continues
		// above every number it printed.
		if _, err := tx.ExecContext(ctx, `INSERT INTO queue_counter (day, category, last) VALUES (?, ?, ?)
			ON CONFLICT (day, category) DO UPDATE SET last = max(last, excluded.last)`, nb.day, cat.Letter, nb.n); err != nil {
			return fmt.Errorf("queue: counter: %w", err)
		}
		ahead, est := 0, time.Duration(0)
		if nb.pos != nil {
			ahead, est = nb.pos.Ahead, nb.pos.Wait
		} else {
			if ahead, err = countAhead(ctx, tx, nb.day, cat.Letter, r.Priority, 0); err != nil {
				return err
			}
			if est, err = q.estimate(ctx, tx, nb.day, cat, ahead); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO queue_ticket (day, category, number, priority,
			priority_reason, matter_id, section, issued_at, waiting_ahead, estimated_ms, lookup_code, source, take_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			nb.day, cat.Letter, nb.n, r.Priority, r.PriorityReason, r.MatterID, r.Section,
			now.UnixNano(), ahead, est.Milliseconds(), nb.lookup, string(nb.source), nb.take)
		if err != nil {
			return fmt.Errorf("queue: insert ticket: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("queue: insert ticket: %w", err)
		}
		if nb.source == SourceLease {
			if _, err := tx.ExecContext(ctx, `UPDATE queue_lease SET ticket = ? WHERE day = ? AND category = ? AND number = ?`,
				id, nb.day, cat.Letter, nb.n); err != nil {
				return fmt.Errorf("queue: lease: %w", err)
			}
		}
		t = Ticket{
			ID: id, Day: nb.day, Category: cat.Letter, Number: nb.n, Code: code(cat.Letter, nb.n),
			Priority: r.Priority, PriorityReason: r.PriorityReason, MatterID: r.MatterID,
			Section: r.Section, IssuedAt: now, WaitingAhead: ahead,
			EstimatedWait: est.Truncate(time.Millisecond), LookupCode: nb.lookup, Print: Pending,
			Source: nb.source, TakeID: nb.take,
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

// TakeAbandoned reads and deletes, inside tx (the transaction issuing a ticket: IssueGiven's or
// IssueLeased's also), up to 64 of the takes recorded by Abandon, oldest first, for the
// ticket's event to name: they are forgotten exactly when that event commits. own, the ticket's
// own take, is deleted too but not returned (it was not abandoned after all).
func TakeAbandoned(ctx context.Context, tx *sql.Tx, own string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT take_id FROM queue_abandoned WHERE take_id <> ? ORDER BY at, take_id LIMIT ?`, own, maxAbandoned)
	if err != nil {
		return nil, fmt.Errorf("queue: abandoned takes: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("queue: abandoned takes: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue: abandoned takes: %w", err)
	}
	// One statement: the ids read above (still the oldest, under the write lock) and own.
	if _, err := tx.ExecContext(ctx, `DELETE FROM queue_abandoned WHERE take_id = ? OR take_id IN
		(SELECT take_id FROM queue_abandoned WHERE take_id <> ? ORDER BY at, take_id LIMIT ?)`, own, own, maxAbandoned); err != nil {
		return nil, fmt.Errorf("queue: abandoned takes: %w", err)
	}
	return ids, nil
}

// Abandon records, durably, that this kiosk gave up on take (halld did not answer in time): the
// event of the next ticket of the hall's numbering names it (TakeAbandoned), so that halld voids
// any number it committed for it. Recording a take twice is harmless. Errors: ErrInvalid for an id that is not
// 32 hex characters, or a wrapped store error.
func (q *Queue) Abandon(ctx context.Context, take string) error {
	if !reTake.MatchString(take) {
		return errf(CodeInvalid, "take id %q is not 32 hex characters", take)
	}
	return q.st.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO queue_abandoned (take_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING`,
			take, q.now().UnixNano())
		if err != nil {
			return fmt.Errorf("queue: abandon: %w", err)
		}
		return nil
	})
}

// Abandoned returns the takes recorded by Abandon and not yet named by a ticket, oldest first.
func (q *Queue) Abandoned(ctx context.Context) ([]string, error) {
	rows, err := q.st.DB().QueryContext(ctx, `SELECT take_id FROM queue_abandoned ORDER BY at, take_id`)
	if err != nil {
		return nil, fmt.Errorf("queue: abandoned takes: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("queue: abandoned takes: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// MergeLease adds the numbers of a lease from halld (day → category → numbers) to those this
// kiosk keeps, in one transaction, and returns how many were new. A number already kept, used
// or not, is left as it is: a merge never makes a used number unused, and a number halld no
// longer lists is kept (halld never gives it to anyone else). Rows of days more than 40 days
// before today are purged. Errors: ErrInvalid for a bad day, letter or number (nothing is
// merged), or a wrapped store error.
func (q *Queue) MergeLease(ctx context.Context, days map[string]map[string][]int) (int, error) {
	for day, cats := range days {
		if !validDay(day) {
			return 0, errf(CodeInvalid, "lease day %q is not YYYY-MM-DD", day)
		}
		for letter, ns := range cats {
			if !isLetter(letter) {
				return 0, errf(CodeInvalid, "lease category %q is not one letter A-Z", letter)
			}
			for _, n := range ns {
				if n < 1 || n > MaxNumber {
					return 0, errf(CodeInvalid, "lease number %d is not 1..%d", n, MaxNumber)
				}
			}
		}
	}
	added := 0
	err := q.st.Tx(ctx, func(tx *sql.Tx) error {
		now := q.now()
		added = 0
		for day, cats := range days {
			for letter, ns := range cats {
				for _, n := range ns {
					res, err := tx.ExecContext(ctx, `INSERT INTO queue_lease (day, category, number, granted_at)
						VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, day, letter, n, now.UnixNano())
					if err != nil {
						return fmt.Errorf("queue: lease merge: %w", err)
					}
					if c, _ := res.RowsAffected(); c == 1 {
						added++
					}
				}
			}
		}
		cut := now.In(q.loc).AddDate(0, 0, -leaseKeepDays).Format(time.DateOnly)
		if _, err := tx.ExecContext(ctx, `DELETE FROM queue_lease WHERE day < ?`, cut); err != nil {
			return fmt.Errorf("queue: lease purge: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// LeaseLeft returns how many leased numbers of category are unused for day (YYYY-MM-DD).
// Errors: ErrInvalid for a bad day or letter.
func (q *Queue) LeaseLeft(ctx context.Context, day, category string) (int, error) {
	if !validDay(day) || !isLetter(category) {
		return 0, errf(CodeInvalid, "day %q or category %q is malformed", day, category)
	}
	var n int
	err := q.st.DB().QueryRowContext(ctx, `SELECT count(*) FROM queue_lease WHERE day = ? AND category = ? AND ticket IS NULL`,
		day, category).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("queue: lease: %w", err)
	}
	return n, nil
}
