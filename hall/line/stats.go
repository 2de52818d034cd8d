package line

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"citizenhome/hall/ledger"
)

// Performance statistics (regulations art. 34-35: the monthly and yearly reviews) are computed
// from the line's own records: line_ticket, line_call and line_audit, a day at a time. A day's
// figures are summed into cells (one per window, staff, section and category seen that day, with
// histograms of waits and service times in whole seconds) that any grouping folds; the cells of
// a day before today are kept in line_stats_day, so that a year asked again reads 260 small rows
// instead of millions. Triggers drop a day's cells whenever a row of that day is written, so
// what is kept is never stale, whoever writes (a late ticket printed offline, a ticket of the day
// finished after midnight).

// statsMigration (line-2) adds the kept cells and the triggers that drop them; no index (the
// day's queries use line-1's), so a counter action writes no more pages than before.
var statsMigration = ledger.Migration{Name: "line-2", SQL: `
CREATE TABLE line_stats_day (
	day TEXT PRIMARY KEY,
	cells BLOB NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER line_stats_ticket_insert AFTER INSERT ON line_ticket BEGIN
	DELETE FROM line_stats_day WHERE day = NEW.day; END;
CREATE TRIGGER line_stats_ticket_update AFTER UPDATE ON line_ticket BEGIN
	DELETE FROM line_stats_day WHERE day IN (NEW.day, OLD.day); END;
CREATE TRIGGER line_stats_ticket_delete AFTER DELETE ON line_ticket BEGIN
	DELETE FROM line_stats_day WHERE day = OLD.day; END;
CREATE TRIGGER line_stats_call_insert AFTER INSERT ON line_call BEGIN
	DELETE FROM line_stats_day WHERE day = NEW.day; END;
CREATE TRIGGER line_stats_audit_insert AFTER INSERT ON line_audit BEGIN
	DELETE FROM line_stats_day WHERE day = NEW.day; END;
`}

// Group is what Stats groups its rows by.
type Group string

// Groups. A ticket's section and category are those it was issued with (a transfer changes
// neither), except that a service is counted in the category the ticket was served in.
const (
	BySection  Group = "section"  // the hall section (区) of the ticket; "" for none
	ByWindow   Group = "window"   // the window that called, served or recorded the action
	ByStaff    Group = "staff"    // the account that called the ticket there, or recorded the action
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
// smallest sample with at least half, or 90 %, of the samples at or below it), never averages,
// of the samples truncated to whole seconds (so they are the exact percentiles, truncated); zero
// when there is no sample.
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

// Stats returns the figures of the hall-local days [q.From, q.To) grouped by q.By, one row per
// group that has any, in the configured order of windows and categories and else in the order of
// their keys. A ticket counts on the day it was issued; a counter action (no-show, transfer,
// return) on the day it was recorded; a service counts for the window that served it and, by
// staff, for the account that called the ticket there.
//
// The first query over a past day sums it and keeps the sum (a write, one short transaction a
// day); later ones read the sum. Each transaction holds the ledger's one connection, so a
// counter action waits at most for one day's sum or for the reading of the kept ones (tens of
// milliseconds for a large hall: docs/benchmarks.md). Errors: ErrInvalid (a day
// not YYYY-MM-DD, From not before To, a span over MaxStatsDays, an unknown group); the ledger's
// failures wrapped.
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
	if err := l.keepDays(ctx, from, to); err != nil {
		return nil, fmt.Errorf("line: stats: %w", err)
	}
	acc := &statsAcc{by: q.By, rows: map[string]*statsGroup{}}
	err = l.db.Tx(ctx, func(tx *sql.Tx) error {
		kept, err := keptDays(ctx, tx, q.From, q.To)
		if err != nil {
			return err
		}
		for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
			day := d.Format(time.DateOnly)
			cells, ok := decodeCells(kept[day])
			if !ok { // today or later, or a day written to since keepDays
				if cells, err = sumDay(ctx, tx, day); err != nil {
					return err
				}
			}
			acc.fold(day, cells)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("line: stats: %w", err)
	}
	return acc.result(l.statsOrder(q.By)), nil
}

// Cell kinds.
const (
	cellIssued   = 'i' // tickets issued: section, category; n, priority
	cellCalled   = 'c' // first calls: window, staff, section, category; n, priority, waits
	cellServed   = 's' // tickets done: window, staff who called it there, section, category served in; n, service times
	cellNoShow   = 'n' // counter actions: window, staff, section, category; n
	cellTransfer = 't'
	cellReturn   = 'r'
)

// statsCell is one day's figures of one combination of window, staff, section and category.
type statsCell struct {
	kind                     byte
	win, staff, section, cat string
	n, prio                  int64
	hist                     []histBin // waits or service times, ascending seconds
}

type histBin struct{ sec, n int64 }

// The SQL of a day's figures, each over an index of line-1 (the day's tickets by code, its calls
// by category, its actions by id): line-2 adds no index, so no counter action writes more.
// Waits and service times are truncated to whole seconds (a lease ticket issued by a kiosk whose
// clock ran ahead waited no time, not less).
const (
	sumIssued = `SELECT section, letter, count(*), coalesce(sum(priority), 0) FROM line_ticket
		WHERE day = ? AND state NOT IN ('unconfirmed', 'void') GROUP BY 1, 2`
	// Every call of a ticket is on its ticket's day, so the day's calls in order tell each
	// ticket's first call and its last.
	sumCalls = `SELECT c.ticket, c.win, c.staff, c.priority, max(c.at - t.issued_at, 0) / 1000000000, t.section, t.letter
		FROM line_call c JOIN line_ticket t ON t.id = c.ticket WHERE c.day = ? AND c.recall = 0 ORDER BY c.id`
	sumServed = `SELECT id, win, section, category, max(coalesce(served_ns, 0), 0) / 1000000000 FROM line_ticket
		WHERE day = ? AND state = 'done'`
	// An action's ticket is found as the queue finds a code: the printed one first.
	sumActions = `SELECT a.win, a.staff, coalesce(t.section, ''), coalesce(t.letter, substr(a.code, 1, 1)), a.action, count(*)
		FROM line_audit a LEFT JOIN line_ticket t ON t.id = (SELECT id FROM line_ticket
			WHERE day = a.day AND code = a.code AND state NOT IN ('unconfirmed', 'void') ORDER BY conflict, id LIMIT 1)
		WHERE a.day = ? AND a.action IN ('no-show', 'transfer', 'return') GROUP BY 1, 2, 3, 4, 5`
)

// cellKey names a cell while a day is summed.
type cellKey struct {
	kind                     byte
	win, staff, section, cat string
}

// daySum gathers a day's cells.
type daySum struct {
	cells map[cellKey]*statsCell
	hists map[cellKey]map[int64]int64
}

func (d *daySum) add(k cellKey, n, prio int64) *statsCell {
	c := d.cells[k]
	if c == nil {
		c = &statsCell{kind: k.kind, win: k.win, staff: k.staff, section: k.section, cat: k.cat}
		d.cells[k] = c
	}
	c.n += n
	c.prio += prio
	return c
}

func (d *daySum) sample(k cellKey, prio bool, sec int64) {
	p := int64(0)
	if prio {
		p = 1
	}
	d.add(k, 1, p)
	h := d.hists[k]
	if h == nil {
		h = map[int64]int64{}
		d.hists[k] = h
	}
	h[sec]++
}

// sumDay sums day from the line's tables. A ticket's first call is its first that is not a
// recall; its service counts for the window and the account of its last call (who called it
// to the window that served it).
func sumDay(ctx context.Context, q querier, day string) ([]statsCell, error) {
	d := &daySum{cells: map[cellKey]*statsCell{}, hists: map[cellKey]map[int64]int64{}}
	each := func(query string, scan func(*sql.Rows) error) error {
		rows, err := q.QueryContext(ctx, query, day)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err := each(sumIssued, func(r *sql.Rows) error {
		var k cellKey
		var n, prio int64
		k.kind = cellIssued
		if err := r.Scan(&k.section, &k.cat, &n, &prio); err != nil {
			return err
		}
		d.add(k, n, prio)
		return nil
	})
	if err != nil {
		return nil, err
	}
	type caller struct{ win, staff string }
	last := map[int64]caller{}
	err = each(sumCalls, func(r *sql.Rows) error {
		var id, wait int64
		var prio bool
		var k cellKey
		if err := r.Scan(&id, &k.win, &k.staff, &prio, &wait, &k.section, &k.cat); err != nil {
			return err
		}
		if _, called := last[id]; !called {
			k.kind = cellCalled
			d.sample(k, prio, wait)
		}
		last[id] = caller{k.win, k.staff}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(sumServed, func(r *sql.Rows) error {
		var id, sec int64
		k := cellKey{kind: cellServed}
		if err := r.Scan(&id, &k.win, &k.section, &k.cat, &sec); err != nil {
			return err
		}
		if c, ok := last[id]; ok && c.win == k.win {
			k.staff = c.staff
		}
		d.sample(k, false, sec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	kinds := map[string]byte{ActionNoShow: cellNoShow, ActionTransfer: cellTransfer, ActionReturn: cellReturn}
	err = each(sumActions, func(r *sql.Rows) error {
		var k cellKey
		var action string
		var n int64
		if err := r.Scan(&k.win, &k.staff, &k.section, &k.cat, &action, &n); err != nil {
			return err
		}
		k.kind = kinds[action]
		d.add(k, n, 0)
		return nil
	})
	if err != nil {
		return nil, err
	}
	cells := make([]statsCell, 0, len(d.cells))
	for k, c := range d.cells {
		if h := d.hists[k]; h != nil {
			for _, sec := range slices.Sorted(maps.Keys(h)) {
				c.hist = append(c.hist, histBin{sec, h[sec]})
			}
		}
		cells = append(cells, *c)
	}
	return cells, nil
}

// keepDays sums and keeps each day of [from, to) before today that is not kept, each in a
// transaction of its own: the counters wait for one day's sum at most (tens of milliseconds), not
// for a year's. A cancelled ctx stops between days; what was kept stays.
func (l *Line) keepDays(ctx context.Context, from, to time.Time) error {
	today := l.Today()
	kept := map[string]bool{}
	rows, err := l.db.SQL().QueryContext(ctx, `SELECT day FROM line_stats_day WHERE day >= ? AND day < ?`,
		from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return err
	}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return err
		}
		kept[d] = true
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		if kept[day] || day >= today { // today and later days still change: never kept
			continue
		}
		err := l.db.Tx(ctx, func(tx *sql.Tx) error {
			cells, err := sumDay(ctx, tx, day)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO line_stats_day (day, cells) VALUES (?, ?)`, day, encodeCells(cells))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// keptDays reads the kept cells of [from, to).
func keptDays(ctx context.Context, tx *sql.Tx, from, to string) (map[string][]byte, error) {
	rows, err := tx.QueryContext(ctx, `SELECT day, cells FROM line_stats_day WHERE day >= ? AND day < ?`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	kept := map[string][]byte{}
	for rows.Next() {
		var day string
		var b []byte
		if err := rows.Scan(&day, &b); err != nil {
			return nil, err
		}
		kept[day] = b
	}
	return kept, rows.Err()
}

// cellsVersion is the first byte of a kept day; another version is summed again.
const cellsVersion = 1

// encodeCells writes cells as varints: the version, then per cell its kind, four strings
// (length, bytes), n, priority, and its histogram (bins, then each bin's second as the
// difference from the previous one, and its count).
func encodeCells(cells []statsCell) []byte {
	b := []byte{cellsVersion}
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, c := range cells {
		b = append(b, c.kind)
		str(c.win)
		str(c.staff)
		str(c.section)
		str(c.cat)
		b = binary.AppendUvarint(b, uint64(c.n))
		b = binary.AppendUvarint(b, uint64(c.prio))
		b = binary.AppendUvarint(b, uint64(len(c.hist)))
		prev := int64(0)
		for _, h := range c.hist {
			b = binary.AppendUvarint(b, uint64(h.sec-prev))
			b = binary.AppendUvarint(b, uint64(h.n))
			prev = h.sec
		}
	}
	return b
}

// decodeCells reads what encodeCells wrote; ok is false for nil, another version or a damaged
// value (the day is summed again).
func decodeCells(b []byte) (cells []statsCell, ok bool) {
	if len(b) == 0 || b[0] != cellsVersion {
		return nil, false
	}
	b = b[1:]
	bad := false
	num := func() int64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return int64(v)
	}
	str := func() string {
		n := num()
		if bad || n < 0 || n > int64(len(b)) {
			bad = true
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	for len(b) > 0 && !bad {
		c := statsCell{kind: b[0]}
		b = b[1:]
		c.win, c.staff, c.section, c.cat = str(), str(), str(), str()
		c.n, c.prio = num(), num()
		bins := num()
		if bins > int64(len(b)) {
			return nil, false
		}
		if bins > 0 {
			c.hist = make([]histBin, bins)
		}
		sec := int64(0)
		for i := range c.hist {
			sec += num()
			c.hist[i] = histBin{sec, num()}
		}
		cells = append(cells, c)
	}
	return cells, !bad
}

// statsGroup gathers one group's counts and histograms.
type statsGroup struct {
	row             StatsRow
	waits, services hist
}

// hist counts samples per second: dense up to a day, a map beyond (a lease ticket's kiosk clock
// days off must not cost a huge array).
type hist struct {
	dense []int64
	far   map[int64]int64
	n     int64
}

const histDense = 24 * 3600

func (h *hist) add(sec, n int64) {
	h.n += n
	if sec >= 0 && sec < histDense {
		if int(sec) >= len(h.dense) {
			h.dense = slices.Grow(h.dense, int(sec)+1-len(h.dense))[:sec+1]
		}
		h.dense[sec] += n
		return
	}
	if h.far == nil {
		h.far = map[int64]int64{}
	}
	h.far[sec] += n
}

// percentile is the nearest-rank pct-th percentile in seconds: the sample at rank
// ⌈pct/100 × n⌉; 0 without samples.
func (h *hist) percentile(pct int) int64 {
	if h.n == 0 {
		return 0
	}
	rank := max((int64(pct)*h.n+99)/100, 1) // ⌈pct·n/100⌉ in integers: no float rounding at exact ranks
	seen := int64(0)
	for sec, n := range h.dense {
		if seen += n; seen >= rank {
			return int64(sec)
		}
	}
	far := slices.Sorted(maps.Keys(h.far))
	for _, sec := range far {
		if seen += h.far[sec]; seen >= rank {
			return sec
		}
	}
	return 0 // not reached: the counts add up to n
}

type statsAcc struct {
	by   Group
	rows map[string]*statsGroup
	last *statsGroup
}

func (a *statsAcc) get(key string) *statsGroup {
	if a.last != nil && a.last.row.Key == key {
		return a.last
	}
	g := a.rows[key]
	if g == nil {
		g = &statsGroup{row: StatsRow{Key: key}}
		a.rows[key] = g
	}
	a.last = g
	return g
}

// fold adds a day's cells to their groups.
func (a *statsAcc) fold(day string, cells []statsCell) {
	perCall := a.by == ByWindow || a.by == ByStaff
	for _, c := range cells {
		if perCall && c.kind == cellIssued {
			continue // a ticket is not issued to a window or a person
		}
		var key string
		switch a.by {
		case ByWindow:
			key = c.win
		case ByStaff:
			key = c.staff
		case BySection:
			key = c.section
		case ByCategory:
			key = c.cat
		case ByDay:
			key = day
		case ByMonth:
			key = day[:7]
		case ByYear:
			key = day[:4]
		}
		g := a.get(key)
		switch c.kind {
		case cellIssued:
			g.row.Issued += int(c.n)
			g.row.Priority += int(c.prio)
		case cellCalled:
			g.row.Called += int(c.n)
			if perCall {
				g.row.Priority += int(c.prio)
			}
			for _, h := range c.hist {
				g.waits.add(h.sec, h.n)
			}
		case cellServed:
			g.row.Served += int(c.n)
			for _, h := range c.hist {
				g.services.add(h.sec, h.n)
			}
		case cellNoShow:
			g.row.NoShows += int(c.n)
		case cellTransfer:
			g.row.Transfers += int(c.n)
		case cellReturn:
			g.row.Returns += int(c.n)
		}
	}
}

// result reads each group's percentiles and sorts the groups by rank, then key.
func (a *statsAcc) result(rank func(string) int) []StatsRow {
	out := make([]StatsRow, 0, len(a.rows))
	for _, g := range a.rows {
		s := func(v int64) time.Duration { return time.Duration(v) * time.Second }
		g.row.WaitMedian, g.row.WaitP90 = s(g.waits.percentile(50)), s(g.waits.percentile(90))
		g.row.ServiceMedian, g.row.ServiceP90 = s(g.services.percentile(50)), s(g.services.percentile(90))
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
