package web

import (
	"context"
	"errors"
	"strings"

	"citizenhome/hall/line"
	"citizenhome/hall/voice"
)

// The hall's voice is the server's Announcer.
var _ Announcer = (*voice.Voice)(nil)

// LineQueue is the hall's *line.Line as the server's Queue: the same calls, its values in this
// package's types and its errors as this package's (errors.Is ErrNotFound and the like).
func LineQueue(l *line.Line) Queue { return lineQueue{l} }

type lineQueue struct{ l *line.Line }

var lineErrors = []struct {
	from *line.Error
	to   *Error
}{
	{line.ErrNotFound, ErrNotFound}, {line.ErrUnknownWindow, ErrUnknownWindow}, {line.ErrEmpty, ErrEmpty},
	{line.ErrNothing, ErrNothing}, {line.ErrRecallLimit, ErrRecallLimit}, {line.ErrState, ErrState},
	{line.ErrPaused, ErrPaused}, {line.ErrExpired, ErrExpired}, {line.ErrInvalid, ErrInvalid},
	{line.ErrUnknownCategory, ErrUnknownCategory},
}

// fromLine turns the line's refusals into the server's; a failure of the ledger stays as it is
// (a 500).
func fromLine(err error) error {
	if err == nil {
		return nil
	}
	for _, m := range lineErrors {
		if errors.Is(err, m.from) {
			return &Error{Code: m.to.Code, Status: m.to.Status, Msg: strings.TrimPrefix(err.Error(), "line: ")}
		}
	}
	return err
}

func ticketOf(t line.Ticket) Ticket {
	return Ticket{Code: t.Code, Category: t.Category, Priority: t.Priority, Reason: t.Reason, State: string(t.State),
		Kiosk: t.Kiosk, IssuedAt: t.IssuedAt, CalledAt: t.CalledAt, Window: t.Window, Recalls: t.Recalls,
		Served: t.Served, Lookup: t.Lookup}
}

func (q lineQueue) one(t line.Ticket, err error) (Ticket, error) {
	if err != nil {
		return Ticket{}, fromLine(err)
	}
	return ticketOf(t), nil
}

func (q lineQueue) Snapshot(ctx context.Context) (Snapshot, error) {
	s, err := q.l.Snapshot(ctx)
	if err != nil {
		return Snapshot{}, fromLine(err)
	}
	out := Snapshot{Day: s.Day}
	for _, c := range s.Categories {
		out.Categories = append(out.Categories, CategoryState{Letter: c.Letter, Name: c.Name, Waiting: c.Waiting,
			WaitingPriority: c.WaitingPriority, LastCalled: c.LastCalled, AvgService: c.AvgService, ETANext: c.ETANext})
	}
	for _, w := range s.Windows {
		out.Windows = append(out.Windows, WindowState{Window: w.Window, State: w.State, Serving: w.Serving,
			Categories: w.Categories, Staff: w.Staff})
	}
	return out, nil
}

func (q lineQueue) Tickets(ctx context.Context, state, category string) ([]Ticket, error) {
	ts, err := q.l.Tickets(ctx, state, category)
	if err != nil {
		return nil, fromLine(err)
	}
	out := make([]Ticket, 0, len(ts))
	for _, t := range ts {
		out = append(out, ticketOf(t))
	}
	return out, nil
}

func (q lineQueue) Ticket(ctx context.Context, code string) (Ticket, error) {
	return q.one(q.l.Ticket(ctx, code))
}

func (q lineQueue) Public(ctx context.Context, lookup string) (Public, error) {
	p, err := q.l.Public(ctx, lookup)
	if err != nil {
		return Public{}, fromLine(err)
	}
	return Public{Code: p.Code, State: string(p.State), Ahead: p.Ahead, ETA: p.ETA, Window: p.Window}, nil
}

func (q lineQueue) Calls(ctx context.Context, afterID int64, limit int) ([]Call, error) {
	cs, err := q.l.Calls(ctx, afterID, limit)
	if err != nil {
		return nil, fromLine(err)
	}
	out := make([]Call, 0, len(cs))
	for _, c := range cs {
		out = append(out, Call{ID: c.ID, Code: c.Code, Window: c.Window, At: c.At, Recall: c.Recall})
	}
	return out, nil
}

// Unused of "" is today's.
func (q lineQueue) Unused(ctx context.Context, day string) ([]Unused, error) {
	if day == "" {
		day = q.l.Today()
	}
	us, err := q.l.Unused(ctx, day)
	if err != nil {
		return nil, fromLine(err)
	}
	out := make([]Unused, 0, len(us))
	for _, u := range us {
		letter, _, _, _ := line.ParseCode(u.Code)
		out = append(out, Unused{Day: u.Day, Code: u.Code, Kiosk: u.Kiosk, Reason: u.Why, Category: letter, Number: u.Number})
	}
	return out, nil
}

func (q lineQueue) Next(ctx context.Context, window, staff string) (Ticket, error) {
	return q.one(q.l.Next(ctx, window, staff))
}

func (q lineQueue) Call(ctx context.Context, window, staff, code, reason string) (Ticket, error) {
	return q.one(q.l.Call(ctx, window, staff, code, reason))
}

func (q lineQueue) Recall(ctx context.Context, window, staff string) (Ticket, error) {
	return q.one(q.l.Recall(ctx, window, staff))
}

func (q lineQueue) Start(ctx context.Context, window, staff string) (Ticket, error) {
	return q.one(q.l.Start(ctx, window, staff))
}

func (q lineQueue) Done(ctx context.Context, window, staff string) (Ticket, error) {
	return q.one(q.l.Done(ctx, window, staff))
}

func (q lineQueue) NoShow(ctx context.Context, window, staff string) (Ticket, error) {
	return q.one(q.l.NoShow(ctx, window, staff))
}

func (q lineQueue) Transfer(ctx context.Context, window, staff, category string) (Ticket, error) {
	return q.one(q.l.Transfer(ctx, window, staff, category))
}

func (q lineQueue) Pause(ctx context.Context, window, staff, reason string) error {
	return fromLine(q.l.Pause(ctx, window, staff, reason))
}

func (q lineQueue) Resume(ctx context.Context, window, staff string) error {
	return fromLine(q.l.Resume(ctx, window, staff))
}

func (q lineQueue) Return(ctx context.Context, code, staff string) (Ticket, error) {
	return q.one(q.l.Return(ctx, code, staff))
}

// Watch forwards the line's changes as wake-ups until stopped.
func (q lineQueue) Watch() (<-chan struct{}, func()) {
	changes, stop := q.l.Watch()
	out := make(chan struct{}, 1)
	go func() {
		defer close(out)
		for range changes { // ends when stop closes changes
			select {
			case out <- struct{}{}:
			default: // one wake-up pending already says it all
			}
		}
	}()
	return out, stop
}
