package kiosk

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/queue"
	"citizenhome/telemetry/wire"
)

// The hall's one numbering (hall.controller = true): every ticket's number comes from halld,
// asked over MQTT by the telemetry agent, or, when halld does not answer within
// hall.take_deadline, from the lease of numbers halld granted this kiosk beforehand. The core
// declares what it needs of halld (HallNumbers); telemetry/agent implements it.

// HallNumbers is halld as the core needs it.
type HallNumbers interface {
	// Take publishes take and waits for halld's answer with its id until ctx ends (the core
	// gives it take.Expires as deadline). A Given with OK false is halld's refusal, returned
	// with a nil error. Errors: ErrHallUnreachable at once, sending nothing, when the broker is
	// not connected or halld's retained state is not online; ctx's error when no answer came in
	// time (the take may have reached halld).
	Take(ctx context.Context, take wire.Take) (wire.Given, error)
	// Queue returns halld's latest queue figures (its retained controller/queue), and false
	// when none were received or halld is not online. The core uses them only while their TS
	// is recent (FreshFigures).
	Queue() (wire.QueueState, bool)
}

// ErrHallUnreachable is returned by HallNumbers.Take when halld cannot be asked now.
var ErrHallUnreachable = errors.New("the hall controller cannot be reached")

// ErrNoNumber is matched by a *NumberError: no ticket number could be given.
var ErrNoNumber = errors.New("no ticket number can be given now")

// NumberError is why no number was given (nothing is issued or printed): halld refused the
// take (Refused, with halld's Code and Msg), or halld did not answer and the lease has no
// number of the category left for today.
type NumberError struct {
	Refused  bool
	Code     string // halld's error code when Refused; "no-lease-left" otherwise
	Msg      string
	Category string
}

func (e *NumberError) Error() string {
	if e.Refused {
		return fmt.Sprintf("the hall controller refused a number of category %s: %s (%s)", e.Category, e.Msg, e.Code)
	}
	return fmt.Sprintf("the hall controller did not answer and this kiosk has no leased number of category %s left", e.Category)
}

// Is makes errors.Is(err, ErrNoNumber) true.
func (e *NumberError) Is(target error) bool { return target == ErrNoNumber }

// FreshFigures is how old halld's queue figures may be (by their TS, on the kiosk's clock) and
// still be shown instead of the kiosk's own.
const FreshFigures = 2 * time.Minute

// SetHallNumbers installs halld's numbering (the agent does, before the kiosk serves); nil
// removes it: a kiosk configured with a controller then issues from its lease only.
func (k *Kiosk) SetHallNumbers(h HallNumbers) {
	k.mu.Lock()
	k.hall = h
	k.mu.Unlock()
}

func (k *Kiosk) hallNumbers() HallNumbers {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.hall
}

// MergeLease keeps the numbers of a lease halld granted this kiosk (the agent calls it when a
// lease message arrives) and returns how many were new. Numbers already kept stay as they are:
// a used number is never made unused. Errors: queue.ErrInvalid for a malformed lease (nothing
// kept), or a store error.
func (k *Kiosk) MergeLease(ctx context.Context, l wire.Lease) (int, error) {
	return k.queue.MergeLease(ctx, l.Days)
}

// LeaseLeft returns how many leased numbers of category are left for today.
func (k *Kiosk) LeaseLeft(ctx context.Context, category string) (int, error) {
	return k.queue.LeaseLeft(ctx, k.queue.Today(), category)
}

// issueHall gives req a number of the hall's numbering (halld's, else the lease's) and commits
// the ticket with record in its transaction.
func (k *Kiosk) issueHall(ctx context.Context, req queue.Request, record func(*sql.Tx, queue.Ticket) error) (queue.Ticket, error) {
	if h := k.hallNumbers(); h != nil {
		t, done, err := k.takeFromHall(ctx, h, req, record)
		if done {
			return t, err
		}
	}
	t, err := k.queue.IssueLeased(ctx, req, k.hallPosition(req.Category, req.Priority), record)
	if errors.Is(err, queue.ErrNoLease) {
		return queue.Ticket{}, &NumberError{Code: string(queue.CodeNoLease), Msg: err.Error(), Category: req.Category}
	}
	if err == nil {
		k.log.Info("ticket issued from the lease", "ticket", t.Code)
	}
	return t, err
}

// takeFromHall asks halld. done false: go on to the lease.
func (k *Kiosk) takeFromHall(ctx context.Context, h HallNumbers, req queue.Request, record func(*sql.Tx, queue.Ticket) error) (queue.Ticket, bool, error) {
	id, err := newRequestID()
	if err != nil {
		return queue.Ticket{}, true, err
	}
	deadline := k.cfg.Hall.TakeDeadline.Duration
	if deadline <= 0 {
		deadline = 800 * time.Millisecond
	}
	take := wire.Take{
		ID: id, Day: k.queue.Today(), Category: req.Category, Priority: req.Priority,
		Reason: req.PriorityReason, Matter: req.MatterID, Section: req.Section,
		Expires: wire.Stamp(k.now().Add(deadline), k.sched.Location()),
	}
	tctx, cancel := context.WithTimeout(ctx, deadline)
	g, err := h.Take(tctx, take)
	cancel()
	switch {
	case errors.Is(err, ErrHallUnreachable):
		return queue.Ticket{}, false, nil // nothing was sent: nothing to abandon
	case err != nil:
		k.abandon(take.ID, err)
		if ctx.Err() != nil {
			return queue.Ticket{}, true, ctx.Err() // the caller gave up, not halld
		}
		return queue.Ticket{}, false, nil
	case !g.OK:
		msg, code := "", ""
		if g.Error != nil {
			code, msg = g.Error.Code, g.Error.Message
		}
		k.log.Warn("the hall controller refused a number", "category", req.Category, "code", code, "message", msg)
		return queue.Ticket{}, true, &NumberError{Refused: true, Code: code, Msg: msg, Category: req.Category}
	}
	if err := checkGiven(take, g); err != nil {
		// An answer that does not fit the question is no answer: halld is voided of it.
		k.abandon(take.ID, err)
		return queue.Ticket{}, false, nil
	}
	_, n, _ := wire.ParseTicketCode(g.Code)
	t, err := k.queue.IssueGiven(ctx, req, queue.Given{Take: take.ID, Day: g.Day, Number: n, Lookup: g.Lookup,
		Ahead: g.Ahead, Wait: time.Duration(g.ETAS) * time.Second}, record)
	if err != nil {
		// Not issued: halld must not keep the number waiting for a ticket that never comes.
		k.abandon(take.ID, err)
		if errors.Is(err, queue.ErrTaken) {
			// This kiosk numbered locally earlier today (it was switched to the hall's
			// numbering since): halld's number collides with one it printed; the lease's do not.
			return queue.Ticket{}, false, nil
		}
	}
	return t, true, err
}

func checkGiven(take wire.Take, g wire.Given) error {
	if err := g.Check(); err != nil {
		return err
	}
	if g.ID != take.ID {
		return fmt.Errorf("answer for take %s, asked %s", g.ID, take.ID)
	}
	if letter, _, _ := wire.ParseTicketCode(g.Code); letter != take.Category {
		return fmt.Errorf("number %s for a take of category %s", g.Code, take.Category)
	}
	return nil
}

// abandon records a take given up on, so that the next ticket's event tells halld to void it.
// A failure is logged: halld then keeps the number as never confirmed (reported, not reused).
func (k *Kiosk) abandon(id string, why error) {
	k.log.Warn("no number from the hall controller in time; the take is abandoned", "take", id, "err", why)
	if err := k.queue.Abandon(context.Background(), id); err != nil {
		k.log.Error("abandoned take not recorded", "take", id, "err", err)
	}
}

// newRequestID is the id of a take or an ask: 128 random bits in hex, as wire.ValidID wants.
func newRequestID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("request id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// hallFigures returns halld's figures of category while they are fresh and of today.
func (k *Kiosk) hallFigures(category string) (wire.QueueCategory, bool) {
	if !k.cfg.Hall.Controller {
		return wire.QueueCategory{}, false
	}
	h := k.hallNumbers()
	if h == nil {
		return wire.QueueCategory{}, false
	}
	q, ok := h.Queue()
	if !ok || q.Day != k.queue.Today() {
		return wire.QueueCategory{}, false
	}
	if age := k.now().Sub(q.TS); age > FreshFigures || age < -FreshFigures {
		return wire.QueueCategory{}, false
	}
	return q.Category(category)
}

// hallAhead is the position a ticket of category would take in halld's figures: a priority
// ticket waits for the priority tickets, a normal one for everybody; the wait is halld's
// estimate for a normal ticket, scaled to the tickets ahead.
func hallAhead(c wire.QueueCategory, priority bool) (int, time.Duration) {
	eta := time.Duration(c.ETANextS) * time.Second
	if !priority {
		return c.Waiting, eta
	}
	if c.Waiting == 0 {
		return c.WaitingPriority, 0
	}
	return c.WaitingPriority, eta * time.Duration(c.WaitingPriority) / time.Duration(c.Waiting)
}

// hallPosition is what a lease ticket prints: halld's figures while fresh, else nil (the
// kiosk's own estimate).
func (k *Kiosk) hallPosition(category string, priority bool) *queue.Position {
	c, ok := k.hallFigures(category)
	if !ok {
		return nil
	}
	ahead, wait := hallAhead(c, priority)
	return &queue.Position{Ahead: ahead, Wait: wait}
}

// WaitingBySection returns, for each section of the catalog in force, how many tickets wait in
// the queue categories its matters use (each category counted once per section): halld's
// figures while fresh, else this kiosk's own tickets. The home screen's tiles show them.
func (k *Kiosk) WaitingBySection(ctx context.Context) (map[string]int, error) {
	c := k.catalog.Current()
	perCat := map[string]int{}
	waiting := func(letter string) (int, error) {
		if n, ok := perCat[letter]; ok {
			return n, nil
		}
		var n int
		if f, ok := k.hallFigures(letter); ok {
			n = f.Waiting
		} else {
			normal, prio, err := k.queue.Waiting(ctx, letter)
			if err != nil && !errors.Is(err, queue.ErrUnknownCategory) {
				return 0, err
			}
			n = normal + prio
		}
		perCat[letter] = n
		return n, nil
	}
	out := map[string]int{}
	for _, s := range c.Sections() {
		seen := map[string]bool{}
		for _, m := range c.Matters(s.ID) {
			if seen[m.Queue] {
				continue
			}
			seen[m.Queue] = true
			n, err := waiting(m.Queue)
			if err != nil {
				return nil, err
			}
			out[s.ID] += n
		}
	}
	return out, nil
}

// urgent reports whether m is handled as 急办件 (green channel by the catalog).
func urgent(m *catalog.Matter) bool { return m != nil && m.Handling == catalog.Urgent }
