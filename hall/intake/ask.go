package intake

import (
	"context"
	"errors"
	"time"

	"citizenhome/hall/followup"
	"citizenhome/hall/line"
	"citizenhome/telemetry/wire"
)

// Replies is what intake needs of the work orders to tell a complaint's citizen where it stands
// (*followup.Store).
type Replies interface {
	// Reply is the complaint's public view by its slip number: followup.ErrNotFound when no
	// order has that number, followup.ErrInvalid for a malformed number.
	Reply(ctx context.Context, number string) (followup.Reply, error)
}

// ask answers a kiosk's question (wire.Ask) at once: a citizen waits at its screen. A question
// that cannot be parsed but names its id gets an invalid-request answer; one without an id gets
// none (the kiosk goes on without an answer at its deadline).
func (in *Intake) ask(ctx context.Context, kiosk string, b []byte) {
	a, err := wire.ParseAsk(b)
	ans := wire.Answer{TS: wire.Stamp(in.o.Now(), in.o.Location)}
	if err != nil {
		in.count(func(c *Counts) { c.Rejected++ })
		in.o.Log.Warn("question refused", "kiosk", kiosk, "err", err)
		var me *wire.MessageError
		if !errors.As(err, &me) || me.ID == "" {
			return
		}
		ans.ID, ans.Error = me.ID, &wire.GivenError{Code: wire.AnswerInvalid, Message: me.Msg}
	} else {
		in.count(func(c *Counts) { c.Asks++ })
		ans.ID = a.ID
		if a.Served != nil {
			in.served(ctx, a, &ans)
		} else {
			in.complaint(ctx, a, &ans)
		}
	}
	if err := ans.Check(); err != nil {
		// What the records hold does not fit the contract (never expected): say so, not it.
		in.o.Log.Error("answer not sendable", "kiosk", kiosk, "err", err)
		ans.Served, ans.Complaint = nil, nil
		ans.Error = &wire.GivenError{Code: wire.AnswerUnavailable, Message: "the hall cannot answer this now"}
	}
	in.publish(wire.Kiosk{Hall: in.o.Hall, Kiosk: kiosk}.Topic(wire.KindAnswer), false, ans)
}

// served answers whether a ticket was served and where; not who (a staff account is no
// kiosk's business).
func (in *Intake) served(ctx context.Context, a wire.Ask, ans *wire.Answer) {
	s, err := in.o.Queue.ServedBy(ctx, a.Served.Day, a.Served.Ticket)
	switch {
	case err == nil:
		ans.Served = &wire.Served{Served: true, Window: s.Window, Ended: s.Ended}
	case errors.Is(err, line.ErrNotServed):
		ans.Served = &wire.Served{}
	case errors.Is(err, line.ErrNotFound):
		ans.Error = &wire.GivenError{Code: wire.AnswerNotFound, Message: "no ticket " + a.Served.Ticket + " on " + a.Served.Day}
	case errors.Is(err, line.ErrInvalid):
		ans.Error = &wire.GivenError{Code: wire.AnswerInvalid, Message: err.Error()}
	default:
		in.o.Log.Error("question not answered: the queue failed", "ask", a.String(), "err", err)
		ans.Error = &wire.GivenError{Code: wire.AnswerUnavailable, Message: "the hall's records cannot be read now"}
	}
}

// complaint answers where a complaint stands, with the hall's answer once given.
func (in *Intake) complaint(ctx context.Context, a wire.Ask, ans *wire.Answer) {
	if in.o.Replies == nil {
		ans.Error = &wire.GivenError{Code: wire.AnswerNotFound, Message: "this hall follows no complaints up"}
		return
	}
	r, err := in.o.Replies.Reply(ctx, a.Complaint)
	switch {
	case err == nil:
		ans.Complaint = &wire.ComplaintReply{Number: r.Number, Category: r.Category, State: string(r.State),
			Opened: r.Opened, Due: r.Due, Answered: r.Answered, Answer: r.Answer}
		if r.Answer == "" {
			ans.Complaint.Answered = time.Time{} // the contract pairs the answer with its time
		}
	case errors.Is(err, followup.ErrNotFound):
		ans.Error = &wire.GivenError{Code: wire.AnswerNotFound, Message: "no complaint " + a.Complaint}
	case errors.Is(err, followup.ErrInvalid):
		ans.Error = &wire.GivenError{Code: wire.AnswerInvalid, Message: err.Error()}
	default:
		in.o.Log.Error("question not answered: the work orders failed", "ask", a.String(), "err", err)
		ans.Error = &wire.GivenError{Code: wire.AnswerUnavailable, Message: "the hall's records cannot be read now"}
	}
}
