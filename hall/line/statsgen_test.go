package line

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"citizenhome/hall/ledger"
)

// The statistics' data generator. A plan is each ticket's life at the counters; replay runs it
// through the real API (Take, Issued, Call, Start, Done, NoShow, Transfer at each event's time),
// bulk writes the rows the API writes for it straight into line_ticket, line_call and
// line_audit, in the same order (so even the ids agree), for a year's data in a minute rather
// than hours. TestBulkMatchesAPI holds the two to the same rows. bulk writes no numbering rows
// (line_number, line_counter): Stats does not read them. Calls are out of order (Call, reason
// "plan"), so that the plan, not the calling rule, decides who is called when.

// plannedTicket is one ticket's life. Zero times are events that do not happen.
type plannedTicket struct {
	day, letter, section string
	priority             bool
	issued               time.Time
	window, staff        string
	called               time.Time
	started, ended       time.Time // ended zero and noShow set: a no-show
	noShow               time.Time
	// A transfer at transferred to letter2, then called at window2 by staff2, served and done.
	transferred               time.Time
	letter2, window2, staff2  string
	called2, started2, ended2 time.Time
	code                      string // given by numbering
	number                    int
}

// planEvent is one event of a plan, for replay and for ordering the bulk's rows.
type planEvent struct {
	at   time.Time
	kind int // evIssue ... evDone2; orders events at the same instant
	t    *plannedTicket
}

const (
	evIssue = iota
	evCall
	evStart
	evNoShow
	evTransfer
	evCall2
	evStart2
	evDone
	evDone2
)

func planEvents(plan []*plannedTicket) []planEvent {
	var ev []planEvent
	add := func(at time.Time, kind int, t *plannedTicket) {
		if !at.IsZero() {
			ev = append(ev, planEvent{at, kind, t})
		}
	}
	for _, t := range plan {
		add(t.issued, evIssue, t)
		add(t.called, evCall, t)
		add(t.started, evStart, t)
		add(t.noShow, evNoShow, t)
		add(t.transferred, evTransfer, t)
		add(t.called2, evCall2, t)
		add(t.started2, evStart2, t)
		if !t.transferred.IsZero() {
			add(t.ended2, evDone2, t)
		} else {
			add(t.ended, evDone, t)
		}
	}
	slices.SortStableFunc(ev, func(a, b planEvent) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.kind - b.kind
	})
	return ev
}

// number gives the plan's codes as Take would: per day and letter, in issue order.
func number(plan []*plannedTicket) {
	next := map[string]int{}
	for _, e := range planEvents(plan) {
		if e.kind == evIssue {
			k := e.t.day + e.t.letter
			next[k]++
			e.t.number = next[k]
			e.t.code = TicketCode(e.t.letter, next[k])
		}
	}
}

// genConfig is the plan's hall: windows 2k-1 and 2k serve letter k (A, B, ...), at most 26
// letters; sections by letter, three of them.
func genConfig(windows int) ([]Category, []Window) {
	var cats []Category
	var wins []Window
	for w := 1; w <= windows; w++ {
		letter := string(rune('A' + (w-1)/2))
		if (w-1)%2 == 0 {
			cats = append(cats, Category{Letter: letter, AvgService: 2 * time.Minute})
		}
		wins = append(wins, Window{ID: fmt.Sprint(w), Categories: []string{letter}})
	}
	return cats, wins
}

// genPlan plans perWindow tickets a window a day on days, at the given windows (genConfig):
// each window calls from 09:00, one citizen after the other; a wait of 1 s to 30 min, service
// 20 s to 90 s after a 15 s walk to the counter; 4 % no-shows (a minute after the call), 10 %
// priority, 1 % transferred after 2 minutes to the next letter, whose first window serves them
// after its own tickets.
func genPlan(days []string, windows, perWindow int, seed uint64) []*plannedTicket {
	rng := rand.New(rand.NewPCG(seed, 1))
	loc := DefaultLocation()
	letters := (windows + 1) / 2
	sections := []string{"综合区", "社保区", "不动产区"}
	var plan []*plannedTicket
	for _, day := range days {
		open, _ := time.ParseInLocation(time.DateTime, day+" 09:00:00", loc)
		ends := make([]time.Time, windows+1)
		var moved [][]*plannedTicket = make([][]*plannedTicket, windows+1)
		for w := 1; w <= windows; w++ {
			li := (w - 1) / 2
			letter := string(rune('A' + li))
			staff := fmt.Sprintf("staff-%02d", w)
			t0 := open.Add(time.Duration(w) * time.Second) // windows not in lockstep
			for range perWindow {
				p := &plannedTicket{day: day, letter: letter, section: sections[li%len(sections)],
					priority: rng.IntN(10) == 0, window: fmt.Sprint(w), staff: staff, called: t0}
				p.issued = t0.Add(-time.Duration(1+rng.IntN(1800)) * time.Second)
				switch r := rng.IntN(100); {
				case r < 4:
					p.noShow = t0.Add(time.Minute)
					t0 = p.noShow
				case r < 5 && letters > 1:
					p.transferred = t0.Add(2 * time.Minute)
					p.letter2 = string(rune('A' + (li+1)%letters))
					w2 := ((li+1)%letters)*2 + 1
					p.window2, p.staff2 = fmt.Sprint(w2), fmt.Sprintf("staff-%02d", w2)
					moved[w2] = append(moved[w2], p)
					t0 = p.transferred
				default:
					p.started = t0.Add(15 * time.Second)
					p.ended = p.started.Add(time.Duration(20+rng.IntN(71)) * time.Second)
					t0 = p.ended
				}
				t0 = t0.Add(time.Second)
				plan = append(plan, p)
			}
			ends[w] = t0
		}
		for w := 1; w <= windows; w++ {
			t0 := ends[w]
			for _, p := range moved[w] {
				if !t0.After(p.transferred) {
					t0 = p.transferred.Add(time.Second)
				}
				p.called2 = t0
				p.started2 = t0.Add(15 * time.Second)
				p.ended2 = p.started2.Add(time.Duration(20+rng.IntN(71)) * time.Second)
				t0 = p.ended2.Add(time.Second)
			}
		}
	}
	number(plan)
	return plan
}

// weekdays lists the Monday-to-Friday days of [from, to).
func weekdays(from, to string) []string {
	f, _ := time.Parse(time.DateOnly, from)
	e, _ := time.Parse(time.DateOnly, to)
	var out []string
	for d := f; d.Before(e); d = d.AddDate(0, 0, 1) {
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
			out = append(out, d.Format(time.DateOnly))
		}
	}
	return out
}

// replay runs plan through l's API, setting the (non-ticking) clock to each event's time.
func replay(tb testing.TB, l *Line, c *clock, plan []*plannedTicket) {
	tb.Helper()
	c.mu.Lock()
	c.tick = 0
	c.mu.Unlock()
	check := func(what string, p *plannedTicket, err error) {
		if err != nil {
			tb.Fatalf("%s %s %s: %v", what, p.day, p.code, err)
		}
	}
	for _, e := range planEvents(plan) {
		c.Set(e.at)
		p := e.t
		var err error
		switch e.kind {
		case evIssue:
			r := Take{ID: takeID(), Category: p.letter, Priority: p.priority, Section: p.section}
			if p.priority {
				r.Reason = ReasonElder
			}
			var tk Ticket
			tk, _, err = l.Take(ctx, "k1", r)
			check("take", p, err)
			if tk.Code != p.code {
				tb.Fatalf("take gave %s, the plan %s", tk.Code, p.code)
			}
			err = l.Issued(ctx, "k1", Issued{Take: r.ID, Day: tk.Day, Code: tk.Code, Lookup: tk.Lookup})
		case evCall:
			_, err = l.Call(ctx, p.window, p.staff, p.code, "plan")
		case evStart:
			_, err = l.Start(ctx, p.window, p.staff)
		case evNoShow:
			_, err = l.NoShow(ctx, p.window, p.staff)
		case evTransfer:
			_, err = l.Transfer(ctx, p.window, p.staff, p.letter2)
		case evCall2:
			_, err = l.Call(ctx, p.window2, p.staff2, p.code, "plan")
		case evStart2:
			_, err = l.Start(ctx, p.window2, p.staff2)
		case evDone:
			_, err = l.Done(ctx, p.window, p.staff)
		case evDone2:
			_, err = l.Done(ctx, p.window2, p.staff2)
		}
		check(fmt.Sprint("event ", e.kind), p, err)
	}
}

// bulk writes plan's rows as replay's API calls would, one transaction a day.
func bulk(ctx context.Context, db *ledger.DB, plan []*plannedTicket) error {
	ev := planEvents(plan)
	for len(ev) > 0 {
		day := ev[0].at.In(DefaultLocation()).Format(time.DateOnly)
		n := 0
		for n < len(ev) && ev[n].at.In(DefaultLocation()).Format(time.DateOnly) == day {
			n++
		}
		if err := db.Tx(ctx, func(tx *sql.Tx) error { return bulkDay(ctx, tx, ev[:n]) }); err != nil {
			return err
		}
		ev = ev[n:]
	}
	return nil
}

var bulkSeq int

func bulkDay(ctx context.Context, tx *sql.Tx, ev []planEvent) error {
	ins, err := tx.PrepareContext(ctx, `INSERT INTO line_ticket (day, code, letter, number, category, priority,
		reason, matter, section, kiosk, take_id, lease, conflict, lookup, state, issued_at, queue_at, called_at,
		win, recalls, started_at, ended_at, served_ns) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, 'k1', ?, 0, 0, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	call, err := tx.PrepareContext(ctx, `INSERT INTO line_call (ticket, day, code, category, win, at, recall, priority, staff)
		VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)`)
	if err != nil {
		return err
	}
	defer call.Close()
	aud, err := tx.PrepareContext(ctx, `INSERT INTO line_audit (at, day, staff, win, action, code, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer aud.Close()
	ns := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UnixNano()
	}
	ids := map[*plannedTicket]int64{}
	for _, e := range ev {
		p := e.t
		day := e.at.In(DefaultLocation()).Format(time.DateOnly)
		var err error
		switch e.kind {
		case evIssue:
			// The ticket's final row: what the API's updates leave.
			state, cat, win, called, started, ended := "done", p.letter, p.window, p.called, p.started, p.ended
			var served any
			switch {
			case !p.noShow.IsZero():
				state, ended = "no-show", p.noShow
			case !p.transferred.IsZero():
				cat, win, called, started, ended = p.letter2, p.window2, p.called2, p.started2, p.ended2
			}
			if state == "done" {
				served = ended.Sub(started).Nanoseconds()
			}
			reason := ""
			if p.priority {
				reason = ReasonElder
			}
			bulkSeq++
			var res sql.Result
			res, err = ins.ExecContext(ctx, p.day, p.code, p.letter, p.number, cat, p.priority, reason, p.section,
				fmt.Sprintf("bulk-%d", bulkSeq), fmt.Sprintf("L%09d", bulkSeq), state, p.issued.UnixNano(), p.issued.UnixNano(),
				ns(called), win, ns(started), ns(ended), served)
			if err == nil {
				ids[p], err = res.LastInsertId()
			}
		case evCall, evCall2:
			win, staff, cat := p.window, p.staff, p.letter
			if e.kind == evCall2 {
				win, staff, cat = p.window2, p.staff2, p.letter2
			}
			if _, err = call.ExecContext(ctx, ids[p], p.day, p.code, cat, win, e.at.UnixNano(), p.priority, staff); err == nil {
				_, err = aud.ExecContext(ctx, e.at.UnixNano(), day, staff, win, ActionCall, p.code, "plan")
			}
		case evStart:
			_, err = aud.ExecContext(ctx, e.at.UnixNano(), day, p.staff, p.window, ActionStart, p.code, "")
		case evStart2:
			_, err = aud.ExecContext(ctx, e.at.UnixNano(), day, p.staff2, p.window2, ActionStart, p.code, "")
		case evNoShow:
			_, err = aud.ExecContext(ctx, e.at.UnixNano(), day, p.staff, p.window, ActionNoShow, p.code, "")
		case evTransfer:
			_, err = aud.ExecContext(ctx, e.at.UnixNano(), day, p.staff, p.window, ActionTransfer, p.code, "to "+p.letter2)
		case evDone:
			_, err = aud.ExecContext(ctx, e.at.UnixNano(), day, p.staff, p.window, ActionDone, p.code, "")
		case evDone2:
			_, err = aud.ExecContext(ctx, e.at.UnixNano(), day, p.staff2, p.window2, ActionDone, p.code, "")
		}
		if err != nil {
			return err
		}
	}
	return nil
}
