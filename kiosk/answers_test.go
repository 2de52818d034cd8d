package kiosk

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/kiosk/civic"
	"citizenhome/telemetry/wire"
)

// fakeAnswers is halld's answers as the core sees them: answer decides, asked records.
type fakeAnswers struct {
	mu     sync.Mutex
	answer func(wire.Ask) (wire.Answer, error)
	asked  []wire.Ask
}

func (f *fakeAnswers) Ask(ctx context.Context, a wire.Ask) (wire.Answer, error) {
	if err := a.Check(); err != nil {
		return wire.Answer{}, err
	}
	f.mu.Lock()
	f.asked = append(f.asked, a)
	answer := f.answer
	f.mu.Unlock()
	ans, err := answer(a)
	ans.ID = a.ID
	return ans, err
}

func (f *fakeAnswers) set(fn func(wire.Ask) (wire.Answer, error)) {
	f.mu.Lock()
	f.answer = fn
	f.mu.Unlock()
}

func TestRatingAsksWhetherServed(t *testing.T) {
	r, _, _ := hallRig(t)
	ctx := context.Background()
	is, err := r.k.TakeTicketInCategory(ctx, "A", false)
	if err != nil {
		t.Fatal(err)
	}
	code := is.Ticket.Code
	// Without a controller nothing is asked.
	if rt, err := r.hall.RatableTicket(ctx, code); err != nil || rt.Window != "" {
		t.Fatalf("no controller: %+v %v", rt, err)
	}
	f := &fakeAnswers{}
	r.k.SetHallAnswers(f)
	f.set(func(wire.Ask) (wire.Answer, error) { return wire.Answer{Served: &wire.Served{}}, nil })
	_, err = r.hall.RatableTicket(ctx, strings.ToLower(code))
	var ce *civic.Error
	if !errors.Is(err, civic.ErrNotServed) || !errors.As(err, &ce) || !strings.Contains(ce.Msg, code) {
		t.Fatalf("not served: %v", err)
	}
	if len(f.asked) != 1 || f.asked[0].Served == nil || f.asked[0].Served.Ticket != code || f.asked[0].Served.Day != r.k.queue.Today() {
		t.Errorf("asked %+v", f.asked)
	}
	f.set(func(wire.Ask) (wire.Answer, error) {
		return wire.Answer{Served: &wire.Served{Served: true, Window: "3", Ended: time.Now()}}, nil
	})
	if rt, err := r.hall.RatableTicket(ctx, code); err != nil || rt.Window != "3" || rt.Ticket != code {
		t.Errorf("served: %+v %v", rt, err)
	}
	// halld that cannot say refuses nothing: down, too slow, not knowing the ticket, failing.
	for name, fn := range map[string]func(wire.Ask) (wire.Answer, error){
		"unreachable": func(wire.Ask) (wire.Answer, error) { return wire.Answer{}, ErrHallUnreachable },
		"silent":      func(wire.Ask) (wire.Answer, error) { return wire.Answer{}, context.DeadlineExceeded },
		"not found": func(wire.Ask) (wire.Answer, error) {
			return wire.Answer{Error: &wire.GivenError{Code: wire.AnswerNotFound, Message: "no ticket"}}, nil
		},
		"failing": func(wire.Ask) (wire.Answer, error) {
			return wire.Answer{Error: &wire.GivenError{Code: wire.AnswerUnavailable, Message: "ledger"}}, nil
		},
	} {
		f.set(fn)
		if rt, err := r.hall.RatableTicket(ctx, code); err != nil || rt.Window != "" {
			t.Errorf("%s: %+v %v", name, rt, err)
		}
	}
	// A number this kiosk never issued is refused before halld is asked.
	n := len(f.asked)
	if _, err := r.hall.RatableTicket(ctx, "A999"); !errors.Is(err, civic.ErrNotFound) || len(f.asked) != n {
		t.Errorf("unknown ticket: %v, asked %d", err, len(f.asked)-n)
	}
}

func TestComplaintAnswerFromHall(t *testing.T) {
	r, _, _ := hallRig(t)
	ctx := context.Background()
	c, err := r.hall.Complain(ctx, civic.Complaint{Category: civic.CategoryAttitude, Text: "窗口人员态度冷淡"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeAnswers{}
	r.k.SetHallAnswers(f)
	opened := c.At.Add(time.Minute)
	reply := wire.ComplaintReply{Number: c.Number, Category: "attitude", State: "handling", Opened: opened}
	f.set(func(a wire.Ask) (wire.Answer, error) {
		if a.Complaint != c.Number {
			return wire.Answer{Error: &wire.GivenError{Code: wire.AnswerNotFound, Message: "no"}}, nil
		}
		re := reply
		return wire.Answer{Complaint: &re}, nil
	})
	look := func() civic.ComplaintStatus {
		t.Helper()
		p, err := r.hall.Progress(ctx, c.Number)
		if err != nil || len(p.Complaints) != 1 {
			t.Fatalf("lookup: %+v %v", p, err)
		}
		return p.Complaints[0]
	}
	if s := look(); s.State != civic.ComplaintProcessing || s.Reply != "" {
		t.Errorf("handling: %+v", s)
	}
	reply.State, reply.Answered, reply.Answer = "answered", opened.Add(26*time.Hour), "已约谈当事窗口人员并整改。\n感谢您的监督。"
	s := look()
	if s.State != civic.ComplaintResolved || s.Reply != reply.Answer || !s.Updated.Equal(reply.Answered) {
		t.Errorf("answered: %+v", s)
	}
	// The answer is kept: a later lookup without the controller still shows it.
	f.set(func(wire.Ask) (wire.Answer, error) { return wire.Answer{}, ErrHallUnreachable })
	if s := look(); s.State != civic.ComplaintResolved || s.Reply != reply.Answer {
		t.Errorf("kept: %+v", s)
	}
	// An older word (a state halld reports from before the answer) does not undo it.
	f.set(func(wire.Ask) (wire.Answer, error) {
		return wire.Answer{Complaint: &wire.ComplaintReply{Number: c.Number, State: "accepted", Opened: opened}}, nil
	})
	if s := look(); s.State != civic.ComplaintResolved {
		t.Errorf("an older state replaced the answer: %+v", s)
	}
	// A number filed at another kiosk, known only to halld, is found through it.
	const other = "TS20261126ABCDEF"
	f.set(func(wire.Ask) (wire.Answer, error) {
		return wire.Answer{Complaint: &wire.ComplaintReply{Number: other, State: "accepted", Opened: opened}}, nil
	})
	if p, err := r.hall.Progress(ctx, other); err != nil || len(p.Complaints) != 1 || p.Complaints[0].State != civic.ComplaintAccepted {
		t.Errorf("another kiosk's complaint: %+v %v", p, err)
	}
	// halld not knowing a number leaves the kiosk's not-found.
	f.set(func(wire.Ask) (wire.Answer, error) {
		return wire.Answer{Error: &wire.GivenError{Code: wire.AnswerNotFound, Message: "no"}}, nil
	})
	if _, err := r.hall.Progress(ctx, "TS20261126ZZZZZZ"); !errors.Is(err, civic.ErrNotFound) {
		t.Errorf("unknown number: %v", err)
	}
}
