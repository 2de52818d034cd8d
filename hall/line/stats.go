package line

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"citizenhome/hall/ledger"
)

// Performance statistics (regulations art. 34-35: the monthly and yearly reviews) are computed
// from the line's own records: line_ticket, line_call and line_audit. Nothing is kept for them
// but two indexes (migration "line-2"): one finds a ticket's earlier calls, one a kind of counter
// action over days.

// statsMigration adds what Stats needs to answer without scanning every call or action.
var statsMigration = ledger.Migration{Name: "line-2", SQL: `
CREATE INDEX line_call_ticket ON line_call (ticket, recall, id);
CREATE INDEX line_audit_action ON line_audit (action, day);
`}

// The migration is appended here rather than written into schema.go's list so that the
// statistics stay one file; every ledger opened with Migrations gets it, in order, after line-1.
func init() { Migrations = append(Migrations, statsMigration) }

// Group is what Stats groups its rows by.
type Group string

// Groups. A ticket's section and category are those it was issued with (a transfer changes
// neither), except that a service is counted in the category the ticket was served in.
const (
	BySection  Group = "section"  // the hall section (区) of the ticket; "" for none
	ByWindow   Group = "window"   // the window that called, served or recorded the action
	ByStaff    Group = "staff"    // the account that called, finished or recorded the action
	ByCategory Group = "category" // the category letter
	ByDay      Group = "day"      // YYYY-MM-DD, hall-local
	ByMonth    Group = "month"    // YYYY-MM
	ByYear     Group = "year"     // YYYY
)

// ValidGroup reports whether g is one of the groups Stats knows.
func ValidGroup(g Group) bool {
	switch g {
	case BySection, ByWindow, ByStaff, ByCategory, ByDay, ByMonth, ByYear:
		return true
	}
	return false
}

// MaxStatsDays is the longest span Stats answers in one query: a leap year.
const MaxStatsDays = 366

// StatsQuery asks for the figures of the hall-local days [From, To), grouped by By.
type StatsQuery struct {
	From, To string // YYYY-MM-DD, From before To, at most MaxStatsDays apart
	By       Group
}

// StatsRow is one group's figures. Durations are exact order statistics (nearest rank: the
// smallest sample with at least half, or 90 %, of the samples at or below it), never averages;
// they are zero when there is no sample.
type StatsRow struct {
	// Key is the group: a section's name, a window id, a staff account, a category letter, a
	// day, a month or a year. By window, the returns of no-shows (recorded at no window) have
	// the key "".
	Key string
	// Issued counts the tickets issued (printed: the kiosk confirmed them) on the group's days,
	// and Priority those of them with priority. A ticket is not issued to a window or to staff:
	// by window and by staff Issued is 0 and Priority counts the priority tickets among those
	// first called there.
	Issued, Priority int
	// Called counts tickets called for the first time (recalls and the calls after a transfer
	// or a return are not first calls). WaitMedian and WaitP90 are over their waits, from issue
	// to that first call.
	Called              int
	WaitMedian, WaitP90 time.Duration
	// Served counts the tickets done; ServiceMedian and ServiceP90 are over their service
	// times, from Start (or from the call, when staff skipped Start) to Done.
	Served                    int
	ServiceMedian, ServiceP90 time.Duration
	// NoShows, Transfers and Returns count those counter actions (a ticket called twice and
	// missed twice is two no-shows; a no-show who came back is one no-show and one return).
	NoShows, Transfers, Returns int
}

// PriorityShare is Priority over Issued (over Called by window and by staff); 0 without any.
func (r StatsRow) PriorityShare(by Group) float64 {
	base := r.Issued
	if by == ByWindow || by == ByStaff {
		base = r.Called
	}
	if base == 0 {
		return 0
	}
	return float64(r.Priority) / float64(base)
}

// visibleT is visible for the ticket aliased t.
const visibleT = `t.state NOT IN ('unconfirmed', 'void')`

// ticketKey is the SQL of a group's key from the ticket aliased t, for the groups a ticket
// decides.
func ticketKey(by Group, catCol string) string {
	switch by {
	case BySection:
		return `t.section`
	case ByCategory:
		return catCol
	case ByDay:
		return `t.day`
	case ByMonth:
		return `substr(t.day, 1, 7)`
	case ByYear:
		return `substr(t.day, 1, 4)`
	}
	return ``
}

// Stats returns the figures of the tickets of the hall-local days [q.From, q.To) grouped by
// q.By, one row per group that has any, in the configured order of windows and categories and
// else in the order of their keys. A ticket counts on the day it was issued; a counter action
// (no-show, transfer, return) on the day it was recorded; by staff, a service counts for the
// account that recorded Done, when that was on the ticket's own day (a ticket left at a window
// past midnight is served by no one in that grouping, but counted in every other).
//
// Stats reads while holding the ledger's one connection, so counter actions wait for it: a
// month takes milliseconds, a year of a large hall a few hundred (docs/benchmarks.md). Errors:
// ErrInvalid (a day not YYYY-MM-DD, From not before To, a span over MaxStatsDays, an unknown
// group); the ledger's failures wrapped.
func (l *Line) Stats(ctx context.Context, q StatsQuery) ([]StatsRow, error) {
	from, err := time.Parse(time.DateOnly, q.From)
	if err != nil {
		return nil, errf(CodeInvalid, "from %q is not a day YYYY-MM-DD", q.From)
	}
	to, err := time.Parse(time.DateOnly, q.To)
	if err != nil {
		return nil, errf(CodeInvalid, "to %q is not a day YYYY-MM-DD", q.To)
	}
	if !from.Before(to) {
		return nil, errf(CodeInvalid, "from %s is not before to %s", q.From, q.To)
	}
	if to.Sub(from) > MaxStatsDays*24*time.Hour {
		return nil, errf(CodeInvalid, "from %s to %s is over %d days", q.From, q.To, MaxStatsDays)
	}
	if !ValidGroup(q.By) {
		return nil, errf(CodeInvalid, "by %q is not one of section, window, staff, category, day, month, year", q.By)
	}
	a := &statsAcc{rows: map[string]*statsGroup{}}
	db := l.db.SQL()
	for _, step := range []func(context.Context, *sql.DB, StatsQuery, *statsAcc) error{statsIssued, statsCalls, statsServed, statsActions} {
		if err := step(ctx, db, q, a); err != nil {
			return nil, fmt.Errorf("line: stats: %w", err)
		}
	}
	return a.result(l.statsOrder(q.By)), nil
}

// statsGroup gathers one group's counts and samples.
type statsGroup struct {
	row             StatsRow
	waits, services []int64
}

type statsAcc struct{ rows map[string]*statsGroup }

func (a *statsAcc) get(key string) *statsGroup {
	g := a.rows[key]
	if g == nil {
		g = &statsGroup{row: StatsRow{Key: key}}
		a.rows[key] = g
	}
	return g
}

// result sorts each group's samples for its percentiles and the groups by rank, then key.
func (a *statsAcc) result(rank func(string) int) []StatsRow {
	out := make([]StatsRow, 0, len(a.rows))
	for _, g := range a.rows {
		slices.Sort(g.waits)
		slices.Sort(g.services)
		g.row.WaitMedian, g.row.WaitP90 = time.Duration(nearestRank(g.waits, 50)), time.Duration(nearestRank(g.waits, 90))
		g.row.ServiceMedian, g.row.ServiceP90 = time.Duration(nearestRank(g.services, 50)), time.Duration(nearestRank(g.services, 90))
		out = append(out, g.row)
	}
	slices.SortFunc(out, func(x, y StatsRow) int {
		if c := rank(x.Key) - rank(y.Key); c != 0 {
			return c
		}
		return strings.Compare(x.Key, y.Key)
	})
	return out
}

// nearestRank is the pct-th percentile of sorted: the sample at rank ⌈pct/100 × n⌉; 0 for none.
func nearestRank(sorted []int64, pct int) int64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	r := (pct*n + 99) / 100 // ⌈pct·n/100⌉ in integers: no float rounding at exact ranks
	return sorted[max(r, 1)-1]
}

// statsOrder ranks keys: windows and categories as configured (unknown ones after them).
func (l *Line) statsOrder(by Group) func(string) int {
	var order []string
	switch by {
	case ByWindow:
		order = l.worder
	case ByCategory:
		order = l.order
	}
	return func(k string) int {
		if i := slices.Index(order, k); i >= 0 {
			return i
		}
		return len(order)
	}
}

// statsIssued counts the issued tickets per group, in SQL: by window and staff there is none.
func statsIssued(ctx context.Context, db *sql.DB, q StatsQuery, a *statsAcc) error {
	key := ticketKey(q.By, `t.letter`)
	if key == "" {
		return nil
	}
	rows, err := db.QueryContext(ctx, `SELECT `+key+`, count(*), coalesce(sum(t.priority), 0) FROM line_ticket t
		WHERE t.day >= ? AND t.day < ? AND `+visibleT+` GROUP BY 1`, q.From, q.To)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n, p int
		if err := rows.Scan(&k, &n, &p); err != nil {
			return err
		}
		g := a.get(k)
		g.row.Issued, g.row.Priority = n, p
	}
	return rows.Err()
}

// statsCalls gathers the first calls and their waits. A call is first when the ticket has no
// earlier call that is not a recall (line_call_ticket finds those). A call's day is its
// ticket's day.
func statsCalls(ctx context.Context, db *sql.DB, q StatsQuery, a *statsAcc) error {
	key := ticketKey(q.By, `t.letter`)
	switch q.By {
	case ByWindow:
		key = `c.win`
	case ByStaff:
		key = `c.staff`
	}
	rows, err := db.QueryContext(ctx, `SELECT `+key+`, c.at - t.issued_at, c.priority FROM line_call c
		JOIN line_ticket t ON t.id = c.ticket
		WHERE c.day >= ? AND c.day < ? AND c.recall = 0
		AND NOT EXISTS (SELECT 1 FROM line_call p WHERE p.ticket = c.ticket AND p.recall = 0 AND p.id < c.id)`, q.From, q.To)
	if err != nil {
		return err
	}
	defer rows.Close()
	perCall := q.By == ByWindow || q.By == ByStaff
	var (
		last string
		g    *statsGroup
	)
	for rows.Next() {
		var k string
		var wait int64
		var prio bool
		if err := rows.Scan(&k, &wait, &prio); err != nil {
			return err
		}
		if g == nil || k != last {
			g, last = a.get(k), k
		}
		g.row.Called++
		// A lease ticket's issue time is its kiosk's clock: one running fast may have issued it
		// after its call. It waited no time.
		g.waits = append(g.waits, max(wait, 0))
		if perCall && prio {
			g.row.Priority++
		}
	}
	return rows.Err()
}

// statsServed gathers the done tickets' service times. By staff, the account is the one the
// audit records for Done (same day, code and instant as the ticket's end).
func statsServed(ctx context.Context, db *sql.DB, q StatsQuery, a *statsAcc) error {
	var query string
	switch q.By {
	case ByStaff:
		query = `SELECT a.staff, t.served_ns FROM line_audit a
			JOIN line_ticket t ON t.day = a.day AND t.code = a.code AND t.ended_at = a.at AND t.state = 'done'
			WHERE a.action = 'done' AND a.day >= ? AND a.day < ?`
	case ByWindow:
		query = `SELECT t.win, t.served_ns FROM line_ticket t WHERE t.day >= ? AND t.day < ? AND t.state = 'done'`
	default:
		query = `SELECT ` + ticketKey(q.By, `t.category`) + `, t.served_ns FROM line_ticket t
			WHERE t.day >= ? AND t.day < ? AND t.state = 'done'`
	}
	rows, err := db.QueryContext(ctx, query, q.From, q.To)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		last string
		g    *statsGroup
	)
	for rows.Next() {
		var k string
		var served sql.NullInt64
		if err := rows.Scan(&k, &served); err != nil {
			return err
		}
		if g == nil || k != last {
			g, last = a.get(k), k
		}
		g.row.Served++
		g.services = append(g.services, served.Int64)
	}
	return rows.Err()
}

// statsActions counts no-shows, transfers and returns from the audit. By a ticket's group, the
// action's ticket is found as the queue finds a code: the printed one first.
func statsActions(ctx context.Context, db *sql.DB, q StatsQuery, a *statsAcc) error {
	var query string
	switch q.By {
	case ByWindow, ByStaff:
		col := `a.win`
		if q.By == ByStaff {
			col = `a.staff`
		}
		query = `SELECT ` + col + `, a.action, count(*) FROM line_audit a
			WHERE a.action IN ('no-show', 'transfer', 'return') AND a.day >= ? AND a.day < ? GROUP BY 1, 2`
	default:
		query = `SELECT ` + ticketKey(q.By, `t.letter`) + `, a.action, count(*) FROM line_audit a
			JOIN line_ticket t ON t.id = (SELECT id FROM line_ticket WHERE day = a.day AND code = a.code
				AND state NOT IN ('unconfirmed', 'void') ORDER BY conflict, id LIMIT 1)
			WHERE a.action IN ('no-show', 'transfer', 'return') AND a.day >= ? AND a.day < ? GROUP BY 1, 2`
	}
	rows, err := db.QueryContext(ctx, query, q.From, q.To)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, action string
		var n int
		if err := rows.Scan(&k, &action, &n); err != nil {
			return err
		}
		g := a.get(k)
		switch action {
		case ActionNoShow:
			g.row.NoShows += n
		case ActionTransfer:
			g.row.Transfers += n
		case ActionReturn:
			g.row.Returns += n
		}
	}
	return rows.Err()
}
