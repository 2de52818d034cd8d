package line

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// cand is a waiting ticket as the calling rule sees it.
type cand struct {
	id       int64
	priority bool
	queueAt  int64
}

// pick returns the index in c, which is in queue order, of the ticket the calling rule calls
// next (see the package comment), or -1 when c is empty. hist holds whether each of the last
// calls (oldest first) went to a priority ticket. Next and the positions shown to citizens
// both use it, so what a kiosk promises is what the counters do.
func pick(c []cand, hist []bool, now time.Time, r Rules) int {
	if len(c) == 0 {
		return -1
	}
	// c is in queue order, so its first ticket has waited longest.
	if now.UnixNano()-c[0].queueAt > int64(r.LongestWait) {
		return 0
	}
	firstP, firstN := -1, -1
	for i := range c {
		if c[i].priority && firstP < 0 {
			firstP = i
		} else if !c[i].priority && firstN < 0 {
			firstN = i
		}
		if firstP >= 0 && firstN >= 0 {
			break
		}
	}
	if firstP >= 0 && (firstN < 0 || share(hist) < r.PriorityShare) {
		return firstP
	}
	return firstN
}

// share is the part of hist that went to priority tickets; 0 with no calls yet.
func share(hist []bool) float64 {
	if len(hist) == 0 {
		return 0
	}
	p := 0
	for _, h := range hist {
		if h {
			p++
		}
	}
	return float64(p) / float64(len(hist))
}

// ahead counts the tickets the rule calls before target (an id in c), calling from c in turn
// with hist growing as it would; len(c) when target is not in c.
func ahead(c []cand, target int64, hist []bool, now time.Time, r Rules) int {
	n := len(c)
	c = slices.Clone(c)
	hist = slices.Clone(hist)
	for k := 0; len(c) > 0; k++ {
		i := pick(c, hist, now, r)
		if c[i].id == target {
			return k
		}
		hist = append(hist, c[i].priority)
		if len(hist) > recentCalls {
			hist = hist[1:]
		}
		c = slices.Delete(c, i, i+1)
	}
	return n
}

// candidates returns today's waiting tickets of the letters, in queue order.
func candidates(ctx context.Context, q querier, day string, letters []string) ([]cand, error) {
	args := []any{day}
	in := ""
	for i, c := range letters {
		if i > 0 {
			in += ", "
		}
		in += "?"
		args = append(args, c)
	}
	rows, err := q.QueryContext(ctx, `SELECT id, priority, queue_at FROM line_ticket
		WHERE day = ? AND state = 'waiting' AND category IN (`+in+`) ORDER BY queue_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("line: waiting tickets: %w", err)
	}
	defer rows.Close()
	var out []cand
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.id, &c.priority, &c.queueAt); err != nil {
			return nil, fmt.Errorf("line: waiting tickets: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("line: waiting tickets: %w", err)
	}
	return out, nil
}

// history returns whether each of the last recentCalls calls (not recalls) matching where went
// to a priority ticket, oldest first.
func history(ctx context.Context, q querier, where string, args ...any) ([]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT priority FROM line_call WHERE recall = 0 AND `+where+`
		ORDER BY id DESC LIMIT ?`, append(args, recentCalls)...)
	if err != nil {
		return nil, fmt.Errorf("line: recent calls: %w", err)
	}
	defer rows.Close()
	var out []bool
	for rows.Next() {
		var p bool
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("line: recent calls: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("line: recent calls: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}

// position is where t stands: for a waiting (or unconfirmed) ticket of today, the rule applied
// to its category alone from the category's recent calls; zero otherwise.
func (l *Line) position(ctx context.Context, q querier, t row, now time.Time) (Position, error) {
	day := l.day(now)
	if (t.State != Waiting && t.State != Unconfirmed) || t.Day != day {
		return Position{}, nil
	}
	return l.wait(ctx, q, day, t.Category, cand{id: t.id, priority: t.Priority, queueAt: t.queueAt}, now)
}

// wait is the position of me among day's waiting tickets of letter: me counts as waiting even
// when it is not (an unconfirmed take, a ticket not taken yet), since that is what a kiosk
// prints.
func (l *Line) wait(ctx context.Context, q querier, day, letter string, me cand, now time.Time) (Position, error) {
	n, err := l.aheadOf(ctx, q, day, letter, me, now)
	if err != nil {
		return Position{}, err
	}
	per, err := l.perTicket(ctx, q, day, letter)
	if err != nil {
		return Position{}, err
	}
	return Position{Ahead: n, ETA: per * time.Duration(n)}, nil
}

// aheadOf is how many of the category's waiting tickets the calling rule puts before me.
func (l *Line) aheadOf(ctx context.Context, q querier, day, letter string, me cand, now time.Time) (int, error) {
	c, err := candidates(ctx, q, day, []string{letter})
	if err != nil {
		return 0, err
	}
	if !slices.ContainsFunc(c, func(x cand) bool { return x.id == me.id }) {
		i, _ := slices.BinarySearchFunc(c, me, func(a, b cand) int {
			if a.queueAt != b.queueAt {
				return cmpInt(a.queueAt, b.queueAt)
			}
			return cmpInt(a.id, b.id)
		})
		c = slices.Insert(c, i, me)
	}
	hist, err := history(ctx, q, `day = ? AND category = ?`, day, letter)
	if err != nil {
		return 0, err
	}
	return ahead(c, me.id, hist, now, l.rules), nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// avgService is the category's service time: the median of the day's last recentServed
// service times once there are minServed, else the configured AvgService.
func (l *Line) avgService(ctx context.Context, q querier, day, letter string) (time.Duration, error) {
	rows, err := q.QueryContext(ctx, `SELECT served_ns FROM line_ticket
		WHERE day = ? AND category = ? AND state = 'done' AND served_ns > 0
		ORDER BY ended_at DESC, id DESC LIMIT ?`, day, letter, recentServed)
	if err != nil {
		return 0, fmt.Errorf("line: service times: %w", err)
	}
	defer rows.Close()
	var s []time.Duration
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return 0, fmt.Errorf("line: service times: %w", err)
		}
		s = append(s, time.Duration(d))
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("line: service times: %w", err)
	}
	if len(s) < minServed {
		return l.cats[letter].AvgService, nil
	}
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m], nil
	}
	return (s[m-1] + s[m]) / 2, nil
}

// openWindows counts the configured windows serving letter that are not paused; at least 1, so
// that a hall whose windows are all paused still gets an estimate.
func (l *Line) openWindows(ctx context.Context, q querier, letter string) (int, error) {
	paused, err := l.paused(ctx, q)
	if err != nil {
		return 0, err
	}
	return l.openCount(paused, letter), nil
}

// openCount is how many windows not paused serve letter, at least 1.
func (l *Line) openCount(paused map[string]bool, letter string) int {
	n := 0
	for _, id := range l.worder {
		if slices.Contains(l.wins[id].Categories, letter) && !paused[id] {
			n++
		}
	}
	return max(n, 1)
}

func (l *Line) paused(ctx context.Context, q querier) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM line_window WHERE paused = 1`)
	if err != nil {
		return nil, fmt.Errorf("line: windows: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("line: windows: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// perTicket is the estimated time per ticket ahead in the category.
func (l *Line) perTicket(ctx context.Context, q querier, day, letter string) (time.Duration, error) {
	avg, err := l.avgService(ctx, q, day, letter)
	if err != nil {
		return 0, err
	}
	n, err := l.openWindows(ctx, q, letter)
	if err != nil {
		return 0, err
	}
	return avg / time.Duration(n), nil
}
