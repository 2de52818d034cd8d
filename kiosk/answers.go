package kiosk

import (
	"context"
	"errors"
	"time"

	"citizenhome/kiosk/civic"
	"citizenhome/telemetry/wire"
)

// halld's answers (issue 18): what only the hall controller knows, asked while the citizen waits
// at the screen: whether a ticket to be rated was served, and what became of a complaint. A kiosk
// that gets no answer in AskDeadline carries on with what it knows: a rating is taken (halld
// judges it again when the outbox delivers it, and keeps a rating of an unserved ticket as
// refused), a complaint shows its last known state.

// HallAnswers is halld answering a kiosk's questions; telemetry/agent implements it.
type HallAnswers interface {
	// Ask publishes ask and waits for halld's answer with its id until ctx ends. Errors:
	// ErrHallUnreachable at once, sending nothing, when the broker is not connected or halld's
	// retained state is not online; ctx's error when no answer came in time.
	Ask(ctx context.Context, ask wire.Ask) (wire.Answer, error)
}

// AskDeadline is how long a citizen waits for halld's answer before the kiosk goes on without it.
const AskDeadline = 2 * time.Second

// SetHallAnswers installs halld's answers (the agent does, before the kiosk serves); nil removes
// them: the kiosk then rates and looks complaints up on what it knows.
func (k *Kiosk) SetHallAnswers(h HallAnswers) {
	k.mu.Lock()
	k.answers = h
	k.mu.Unlock()
}

// ask asks halld, within AskDeadline. ok false: no answer (no controller, halld unreachable,
// too slow, or an answer that is an error); the caller goes on with what the kiosk knows.
func (k *Kiosk) ask(ctx context.Context, a wire.Ask) (wire.Answer, bool) {
	k.mu.Lock()
	h := k.answers
	k.mu.Unlock()
	if h == nil {
		return wire.Answer{}, false
	}
	id, err := newRequestID()
	if err != nil {
		return wire.Answer{}, false
	}
	a.ID, a.TS = id, k.now()
	ctx, cancel := context.WithTimeout(ctx, AskDeadline)
	defer cancel()
	ans, err := h.Ask(ctx, a)
	switch {
	case err != nil:
		if !errors.Is(err, ErrHallUnreachable) {
			k.log.Info("the hall controller did not answer; going on without it", "ask", a.String(), "err", err)
		}
		return wire.Answer{}, false
	case ans.Error != nil && ans.Error.Code != wire.AnswerNotFound:
		k.log.Warn("the hall controller could not answer", "ask", a.String(), "code", ans.Error.Code)
		return wire.Answer{}, false
	}
	return ans, true
}

// servedAt asks halld whether today's ticket code was served: the window when it was, "" when
// halld cannot say; civic.ErrNotServed when halld says no window has finished it. A ticket
// halld does not know (its event still on the way from a kiosk's outbox) is not refused.
func (k *Kiosk) servedAt(ctx context.Context, code string) (string, error) {
	ans, ok := k.ask(ctx, wire.Ask{Served: &wire.AskServed{Day: k.queue.Today(), Ticket: code}})
	if !ok || ans.Served == nil {
		return "", nil
	}
	if !ans.Served.Served {
		return "", civic.NotServed(code)
	}
	return ans.Served.Window, nil
}

// complaintStates maps hall/followup's states of a complaint's work order to the kiosk's.
var complaintStates = map[string]civic.ComplaintState{
	"accepted": civic.ComplaintAccepted,
	"handling": civic.ComplaintProcessing,
	"answered": civic.ComplaintResolved,
}

// complaintNews asks halld for complaint number's state and answer and keeps them when newer than
// what the kiosk knows. Nothing is kept when halld does not answer or does not know the number.
func (k *Kiosk) complaintNews(ctx context.Context, svc *civic.Service, number string) {
	ans, ok := k.ask(ctx, wire.Ask{Complaint: number})
	if !ok || ans.Complaint == nil || ans.Complaint.Number != number {
		return
	}
	c := ans.Complaint
	st, known := complaintStates[c.State]
	if !known {
		k.log.Warn("complaint state from the hall controller not known here; ignored", "state", c.State)
		return
	}
	r := civic.HallReply{Number: number, State: st, Reply: c.Answer, Updated: c.Opened}
	if !c.Answered.IsZero() {
		r.Updated = c.Answered
	}
	if err := svc.KeepReply(ctx, r); err != nil {
		k.log.Warn("complaint answer from the hall controller not kept", "complaint", number, "err", err)
	}
}
