package web

import (
	"context"
	"slices"
	"sync"
	"time"
)

// fakeQueue is a queue in memory for the server's unit tests: first come first served per
// window, recalls limited to maxRecalls. The browser tests use the real hall/line.
type fakeQueue struct {
	mu      sync.Mutex
	tickets []*Ticket
	windows map[string]*WindowState
	calls   []Call
	watch   []chan struct{}
	audit   []string // "staff action window code"
	failAll error    // every call fails with it (a broken ledger)
}

const maxRecalls = 2

// auditLog is a copy of the audit rows.
func (q *fakeQueue) auditLog() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.audit...)
}

func newFakeQueue() *fakeQueue {
	return &fakeQueue{windows: map[string]*WindowState{
		"1": {Window: "1", State: "open", Categories: []string{"A"}},
		"2": {Window: "2", State: "open", Categories: []string{"A", "B"}},
	}}
}

var day = time.Date(2026, 12, 7, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

// add issues a ticket.
func (q *fakeQueue) add(code, lookup string, priority bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	t := &Ticket{Code: code, Category: code[:1], Priority: priority, State: "waiting", Kiosk: "k1",
		IssuedAt: day.Add(time.Duration(len(q.tickets)) * time.Minute), Lookup: lookup}
	if priority {
		t.Reason = "elder"
	}
	q.tickets = append(q.tickets, t)
	q.changed()
}

func (q *fakeQueue) changed() {
	for _, ch := range q.watch {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (q *fakeQueue) Snapshot(context.Context) (Snapshot, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.failAll != nil {
		return Snapshot{}, q.failAll
	}
	s := Snapshot{Day: "2026-12-07"}
	for _, l := range []string{"A", "B"} {
		c := CategoryState{Letter: l, Name: map[string]string{"A": "户籍", "B": "出入境"}[l], AvgService: 5 * time.Minute}
		for _, t := range q.tickets {
			if t.Category == l && t.State == "waiting" {
				c.Waiting++
				if t.Priority {
					c.WaitingPriority++
				}
			}
		}
		s.Categories = append(s.Categories, c)
	}
	for _, id := range []string{"1", "2"} {
		s.Windows = append(s.Windows, *q.windows[id])
	}
	return s, nil
}

func (q *fakeQueue) Tickets(_ context.Context, state, category string) ([]Ticket, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Ticket
	for _, t := range q.tickets {
		if (state == "" || t.State == state) && (category == "" || t.Category == category) {
			out = append(out, *t)
		}
	}
	return out, nil
}

func (q *fakeQueue) find(code string) *Ticket {
	for _, t := range q.tickets {
		if t.Code == code {
			return t
		}
	}
	return nil
}

func (q *fakeQueue) Ticket(_ context.Context, code string) (Ticket, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if t := q.find(code); t != nil {
		return *t, nil
	}
	return Ticket{}, QueueError(ErrNotFound, "no ticket %s today", code)
}

func (q *fakeQueue) Public(_ context.Context, lookup string) (Public, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, t := range q.tickets {
		if t.Lookup == lookup {
			ahead := 0
			for _, o := range q.tickets[:i] {
				if o.State == "waiting" && o.Category == t.Category {
					ahead++
				}
			}
			if t.State != "waiting" {
				ahead = 0
			}
			return Public{Code: t.Code, State: t.State, Ahead: ahead, ETA: time.Duration(ahead) * 5 * time.Minute, Window: t.Window}, nil
		}
	}
	return Public{}, QueueError(ErrNotFound, "no ticket with that lookup code")
}

func (q *fakeQueue) Calls(_ context.Context, after int64, limit int) ([]Call, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Call
	for _, c := range q.calls {
		if c.ID > after && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (q *fakeQueue) Unused(_ context.Context, day string) ([]Unused, error) {
	return []Unused{{Day: "2026-12-07", Code: "A999", Kiosk: "k2", Reason: "lease", Category: "A", Number: 999}}, nil
}

func (q *fakeQueue) Watch() (<-chan struct{}, func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ch := make(chan struct{}, 1)
	q.watch = append(q.watch, ch)
	return ch, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if i := slices.Index(q.watch, ch); i >= 0 {
			q.watch = slices.Delete(q.watch, i, i+1)
		}
	}
}

// window returns the window and its current ticket (called or serving) under q.mu.
func (q *fakeQueue) window(id string) (*WindowState, *Ticket, error) {
	w := q.windows[id]
	if w == nil {
		return nil, nil, QueueError(ErrUnknownWindow, "no window %s", id)
	}
	if w.Serving == "" {
		return w, nil, nil
	}
	return w, q.find(w.Serving), nil
}

func (q *fakeQueue) announce(w *WindowState, t *Ticket, recall bool) {
	q.calls = append(q.calls, Call{ID: int64(len(q.calls) + 1), Code: t.Code, Window: w.Window, At: day.Add(time.Hour), Recall: recall})
}

func (q *fakeQueue) callTicket(w *WindowState, t *Ticket) {
	t.State, t.Window, t.CalledAt, t.Recalls = "called", w.Window, day.Add(time.Hour), 0
	w.Serving = t.Code
	q.announce(w, t, false)
}

// act runs fn under the lock on window id and its current ticket, audited and announced.
func (q *fakeQueue) act(id, staff, action string, fn func(w *WindowState, cur *Ticket) (*Ticket, error)) (Ticket, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.failAll != nil {
		return Ticket{}, q.failAll
	}
	w, cur, err := q.window(id)
	if err != nil {
		return Ticket{}, err
	}
	t, err := fn(w, cur)
	if err != nil {
		return Ticket{}, err
	}
	code := ""
	if t != nil {
		code = t.Code
	}
	q.audit = append(q.audit, staff+" "+action+" "+id+" "+code)
	q.changed()
	if t == nil {
		return Ticket{}, nil
	}
	return *t, nil
}

func (q *fakeQueue) Next(_ context.Context, id, staff string) (Ticket, error) {
	return q.act(id, staff, "next", func(w *WindowState, cur *Ticket) (*Ticket, error) {
		if w.State == "paused" {
			return nil, QueueError(ErrPaused, "window %s is paused", id)
		}
		if cur != nil {
			return nil, QueueError(ErrState, "window %s has %s: finish it first", id, cur.Code)
		}
		for _, t := range q.tickets {
			if t.State == "waiting" && slices.Contains(w.Categories, t.Category) {
				q.callTicket(w, t)
				return t, nil
			}
		}
		return nil, QueueError(ErrEmpty, "nobody waits for window %s", id)
	})
}

func (q *fakeQueue) Call(_ context.Context, id, staff, code, reason string) (Ticket, error) {
	return q.act(id, staff, "call", func(w *WindowState, cur *Ticket) (*Ticket, error) {
		if cur != nil {
			return nil, QueueError(ErrState, "window %s has %s: finish it first", id, cur.Code)
		}
		t := q.find(code)
		if t == nil {
			return nil, QueueError(ErrNotFound, "no ticket %s", code)
		}
		if t.State != "waiting" {
			return nil, QueueError(ErrState, "%s is %s", code, t.State)
		}
		q.callTicket(w, t)
		return t, nil
	})
}

func (q *fakeQueue) Recall(_ context.Context, id, staff string) (Ticket, error) {
	return q.act(id, staff, "recall", func(w *WindowState, cur *Ticket) (*Ticket, error) {
		if cur == nil {
			return nil, QueueError(ErrNothing, "window %s has no current ticket", id)
		}
		if cur.Recalls >= maxRecalls {
			return nil, QueueError(ErrRecallLimit, "%s was recalled %d times", cur.Code, cur.Recalls)
		}
		cur.Recalls++
		q.announce(w, cur, true)
		return cur, nil
	})
}

func (q *fakeQueue) step(id, staff, action, from, to string) (Ticket, error) {
	return q.act(id, staff, action, func(w *WindowState, cur *Ticket) (*Ticket, error) {
		if cur == nil {
			return nil, QueueError(ErrNothing, "window %s has no current ticket", id)
		}
		if !slices.Contains([]string{from, "called"}, cur.State) {
			return nil, QueueError(ErrState, "%s is %s", cur.Code, cur.State)
		}
		cur.State = to
		if to != "serving" {
			w.Serving = ""
		}
		return cur, nil
	})
}

func (q *fakeQueue) Start(_ context.Context, id, staff string) (Ticket, error) {
	return q.step(id, staff, "start", "called", "serving")
}

func (q *fakeQueue) Done(_ context.Context, id, staff string) (Ticket, error) {
	return q.step(id, staff, "done", "serving", "done")
}

func (q *fakeQueue) NoShow(_ context.Context, id, staff string) (Ticket, error) {
	return q.step(id, staff, "no-show", "called", "no-show")
}

func (q *fakeQueue) Transfer(_ context.Context, id, staff, category string) (Ticket, error) {
	return q.act(id, staff, "transfer", func(w *WindowState, cur *Ticket) (*Ticket, error) {
		if category != "A" && category != "B" {
			return nil, QueueError(ErrUnknownCategory, "no category %s", category)
		}
		if cur == nil {
			return nil, QueueError(ErrNothing, "window %s has no current ticket", id)
		}
		cur.State, cur.Category, cur.Window = "waiting", category, ""
		w.Serving = ""
		return cur, nil
	})
}

func (q *fakeQueue) Pause(_ context.Context, id, staff, reason string) error {
	_, err := q.act(id, staff, "pause", func(w *WindowState, _ *Ticket) (*Ticket, error) {
		w.State = "paused"
		return nil, nil
	})
	return err
}

func (q *fakeQueue) Resume(_ context.Context, id, staff string) error {
	_, err := q.act(id, staff, "resume", func(w *WindowState, _ *Ticket) (*Ticket, error) {
		w.State = "open"
		return nil, nil
	})
	return err
}

func (q *fakeQueue) Return(_ context.Context, code, staff string) (Ticket, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	t := q.find(code)
	if t == nil {
		return Ticket{}, QueueError(ErrNotFound, "no ticket %s", code)
	}
	if t.State != "no-show" {
		return Ticket{}, QueueError(ErrState, "%s is %s", code, t.State)
	}
	t.State = "waiting"
	q.audit = append(q.audit, staff+" return - "+code)
	q.changed()
	return *t, nil
}

type fakeVoice struct {
	mu    sync.Mutex
	asked []string
}

func (v *fakeVoice) Announce(code, window string) ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.asked = append(v.asked, code+"@"+window)
	return []byte("RIFF fake " + code + " " + window), nil
}
