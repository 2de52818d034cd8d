package kiosk

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/queue"
	"citizenhome/telemetry/wire"
)

// fakeHall stands in for halld (the agent's MQTT end is tested against Mosquitto in
// telemetry/agent): answer decides what each take gets.
type fakeHall struct {
	mu     sync.Mutex
	answer func(ctx context.Context, t wire.Take) (wire.Given, error)
	takes  []wire.Take
	queue  wire.QueueState
	hasQ   bool
}

func (f *fakeHall) Take(ctx context.Context, t wire.Take) (wire.Given, error) {
	f.mu.Lock()
	f.takes = append(f.takes, t)
	answer := f.answer
	f.mu.Unlock()
	return answer(ctx, t)
}

func (f *fakeHall) Queue() (wire.QueueState, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queue, f.hasQ
}

func (f *fakeHall) taken() []wire.Take {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.takes)
}

// giving answers every take with the next number of a counter, as halld would.
func giving() func(context.Context, wire.Take) (wire.Given, error) {
	var mu sync.Mutex
	n := 0
	return func(_ context.Context, t wire.Take) (wire.Given, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return wire.Given{ID: t.ID, OK: true, Day: t.Day, Code: wire.TicketCode(t.Category, n), Number: n,
			Lookup: "7K3M9Q2D1" + string("0123456789"[n%10]), Ahead: 2, ETAS: 300, TS: time.Now()}, nil
	}
}

// silent never answers: the kiosk's deadline decides.
func silent(ctx context.Context, _ wire.Take) (wire.Given, error) {
	<-ctx.Done()
	return wire.Given{}, ctx.Err()
}

// printedQR lists what the QR codes printed so far hold.
func printedQR(r *rigT) []string {
	var out []string
	for _, d := range r.p.Docs() {
		for _, b := range d.Blocks {
			if q, ok := b.(escpos.QR); ok {
				out = append(out, q.Data)
			}
		}
	}
	return out
}

type hallRigT struct {
	*rigT
	fake *fakeHall
	ev   *events
}

func newHallRig(t *testing.T, edit func(*config.Config)) *hallRigT {
	t.Helper()
	r := newRig(t, func(c *config.Config) {
		c.Hall.Controller, c.MQTT.Enabled = true, true
		c.Hall.TakeDeadline = config.Duration{Duration: 150 * time.Millisecond}
		if edit != nil {
			edit(c)
		}
	})
	f := &fakeHall{answer: giving()}
	ev := &events{}
	r.k.SetHallNumbers(f)
	r.k.SetEventRecorder(ev)
	return &hallRigT{rigT: r, fake: f, ev: ev}
}

func (r *hallRigT) lease(t *testing.T, cat string, ns ...int) {
	t.Helper()
	if _, err := r.k.MergeLease(context.Background(), wire.Lease{Days: map[string]map[string][]int{"2026-11-26": {cat: ns}}}); err != nil {
		t.Fatal(err)
	}
}

func (r *hallRigT) lastEvent(t *testing.T) wire.TicketIssued {
	t.Helper()
	r.ev.mu.Lock()
	defer r.ev.mu.Unlock()
	for i := len(r.ev.types) - 1; i >= 0; i-- {
		if r.ev.types[i] == wire.EventTicketIssued {
			e := r.ev.data[i].(TicketEvent)
			if err := e.Check(); err != nil {
				t.Errorf("the event would not pass halld's parser: %v (%+v)", err, e)
			}
			return e
		}
	}
	t.Fatal("no ticket.issued event")
	return wire.TicketIssued{}
}

func TestHallGivesTheNumber(t *testing.T) {
	r := newHallRig(t, func(c *config.Config) { c.Hall.PublicURL = "https://smzj.example.cn" })
	r.lease(t, "A", 999)
	m := r.k.Catalog().Matter("crj-004") // 急办件: green channel
	is, err := r.k.TakeTicket(context.Background(), m.ID)
	if err != nil || is.PrintErr != nil {
		t.Fatal(err, is.PrintErr)
	}
	takes := r.fake.taken()
	if len(takes) != 1 {
		t.Fatalf("%d takes", len(takes))
	}
	tk := takes[0]
	if err := tk.Check(); err != nil || tk.Category != m.Queue || !tk.Priority || tk.Reason != queue.ReasonUrgent ||
		tk.Matter != m.ID || tk.Section != m.Section || tk.Day != "2026-11-26" {
		t.Errorf("take %+v (%v)", tk, err)
	}
	if d := tk.Expires.Sub(r.clock.Now()); d != 150*time.Millisecond {
		t.Errorf("take expires %s after now, want the deadline", d)
	}
	if is.Ticket.Code != m.Queue+"001" || is.Ticket.Source != queue.SourceGiven || is.Ticket.TakeID != tk.ID ||
		is.Ticket.LookupCode != "7K3M9Q2D11" || is.Ticket.WaitingAhead != 2 || is.Ticket.EstimatedWait != 5*time.Minute ||
		!is.Ticket.Priority || is.Ticket.PriorityReason != queue.ReasonUrgent {
		t.Errorf("ticket %+v", is.Ticket)
	}
	e := r.lastEvent(t)
	if e.Take != tk.ID || e.Lease || e.Number != 1 || e.Lookup != "7K3M9Q2D11" || e.IssuedAt.IsZero() || len(e.Abandoned) != 0 {
		t.Errorf("event %+v", e)
	}
	// The QR code opens the hall's public page of the ticket.
	if !slices.Contains(printedQR(r.rigT), "https://smzj.example.cn/t/7K3M9Q2D11") {
		t.Error("the printed QR code does not hold the public ticket page")
	}
	if left, _ := r.k.LeaseLeft(context.Background(), "A"); left != 1 {
		t.Errorf("the lease was used: %d left", left)
	}
}

func TestHallSilentUsesTheLease(t *testing.T) {
	r := newHallRig(t, nil)
	r.fake.answer = silent
	m := matter(t, r.k, false)
	r.lease(t, m.Queue, 998, 999)
	start := time.Now()
	is, err := r.k.TakeTicket(context.Background(), m.ID)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if is.Ticket.Code != m.Queue+"999" || is.Ticket.Source != queue.SourceLease {
		t.Errorf("ticket %+v", is.Ticket)
	}
	if took < 150*time.Millisecond || took > 2*time.Second {
		t.Errorf("the lease ticket took %s (deadline 150ms)", took)
	}
	takes := r.fake.taken()
	e := r.lastEvent(t)
	if !e.Lease || e.Take != "" || e.Number != 999 || len(e.Lookup) != wire.LookupLen || !slices.Equal(e.Abandoned, []string{takes[0].ID}) {
		t.Errorf("event %+v, take %s", e, takes[0].ID)
	}
	// The abandoned take is named once: the next ticket's event does not repeat it.
	if _, err := r.k.TakeTicket(context.Background(), m.ID); err != nil {
		t.Fatal(err)
	}
	if e := r.lastEvent(t); e.Number != 998 || len(e.Abandoned) != 1 || e.Abandoned[0] == takes[0].ID {
		t.Errorf("second event %+v", e)
	}
}

func TestHallUnreachableUsesTheLeaseAtOnce(t *testing.T) {
	r := newHallRig(t, func(c *config.Config) { c.Hall.TakeDeadline = config.Duration{Duration: 5 * time.Second} })
	r.fake.answer = func(context.Context, wire.Take) (wire.Given, error) { return wire.Given{}, ErrHallUnreachable }
	m := matter(t, r.k, false)
	r.lease(t, m.Queue, 999)
	start := time.Now()
	is, err := r.k.TakeTicket(context.Background(), m.ID)
	if err != nil || is.Ticket.Code != m.Queue+"999" {
		t.Fatal(is.Ticket, err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %s: an unreachable halld must not cost the deadline", took)
	}
	if e := r.lastEvent(t); len(e.Abandoned) != 0 {
		t.Errorf("a take never sent was abandoned: %+v", e)
	}
}

func TestHallRefusalIssuesNothing(t *testing.T) {
	r := newHallRig(t, nil)
	r.fake.answer = func(_ context.Context, tk wire.Take) (wire.Given, error) {
		return wire.Given{ID: tk.ID, Error: &wire.GivenError{Code: "numbers-exhausted", Message: "全部用完"}}, nil
	}
	m := matter(t, r.k, false)
	r.lease(t, m.Queue, 999)
	_, err := r.k.TakeTicket(context.Background(), m.ID)
	var ne *NumberError
	if !errors.As(err, &ne) || !ne.Refused || ne.Code != "numbers-exhausted" || !errors.Is(err, ErrNoNumber) {
		t.Fatalf("err = %v", err)
	}
	if r.p.Printed() != 0 || r.ev.count(wire.EventTicketIssued) != 0 {
		t.Error("a refused number printed or recorded a ticket")
	}
	if left, _ := r.k.LeaseLeft(context.Background(), m.Queue); left != 1 {
		t.Errorf("a refusal used the lease: %d left", left)
	}
}

func TestHallNoLeaseLeft(t *testing.T) {
	r := newHallRig(t, nil)
	r.fake.answer = silent
	m := matter(t, r.k, false)
	_, err := r.k.TakeTicket(context.Background(), m.ID)
	var ne *NumberError
	if !errors.As(err, &ne) || ne.Refused || ne.Code != "no-lease-left" || ne.Category != m.Queue || !errors.Is(err, ErrNoNumber) {
		t.Fatalf("err = %v", err)
	}
	if r.p.Printed() != 0 || r.ev.count(wire.EventTicketIssued) != 0 {
		t.Error("printed or recorded without a number")
	}
	// The take given up on is still reported, with the next ticket halld numbers.
	abandoned := r.fake.taken()[0].ID
	r.fake.answer = giving()
	if _, err := r.k.TakeTicket(context.Background(), m.ID); err != nil {
		t.Fatal(err)
	}
	if e := r.lastEvent(t); !slices.Equal(e.Abandoned, []string{abandoned}) || e.Take == "" {
		t.Errorf("event %+v, abandoned %s", e, abandoned)
	}
}

// An answer that does not fit the take (another id, another category, a malformed code) is no
// answer: the lease serves and the take is abandoned.
func TestHallWrongAnswerIsNoAnswer(t *testing.T) {
	for name, bad := range map[string]func(wire.Given) wire.Given{
		"other id":       func(g wire.Given) wire.Given { g.ID = "0123456789abcdef0123456789abcdef"; return g },
		"other category": func(g wire.Given) wire.Given { g.Code = "Z001"; return g },
		"bad lookup":     func(g wire.Given) wire.Given { g.Lookup = "x"; return g },
	} {
		t.Run(name, func(t *testing.T) {
			r := newHallRig(t, nil)
			give := giving()
			r.fake.answer = func(ctx context.Context, tk wire.Take) (wire.Given, error) {
				g, err := give(ctx, tk)
				return bad(g), err
			}
			mt := matter(t, r.k, false)
			r.lease(t, mt.Queue, 999)
			is, err := r.k.TakeTicket(context.Background(), mt.ID)
			if err != nil || is.Ticket.Source != queue.SourceLease {
				t.Fatal(is.Ticket, err)
			}
			if e := r.lastEvent(t); len(e.Abandoned) != 1 || e.Abandoned[0] != r.fake.taken()[0].ID {
				t.Errorf("event %+v", e)
			}
		})
	}
}

// A kiosk switched to the hall's numbering in the middle of a day may already hold the number
// halld gives: that number is abandoned and the lease serves.
func TestHallNumberHeldLocally(t *testing.T) {
	r := newHallRig(t, nil)
	m := matter(t, r.k, false)
	if _, err := r.k.queue.Issue(context.Background(), queue.Request{Category: m.Queue}); err != nil { // local 001
		t.Fatal(err)
	}
	r.lease(t, m.Queue, 999)
	is, err := r.k.TakeTicket(context.Background(), m.ID)
	if err != nil || is.Ticket.Code != m.Queue+"999" {
		t.Fatal(is.Ticket, err)
	}
	if e := r.lastEvent(t); !slices.Equal(e.Abandoned, []string{r.fake.taken()[0].ID}) {
		t.Errorf("event %+v", e)
	}
}

// The citizen's own context ending (the screen gave up) is not halld's silence: no lease number
// is spent.
func TestHallCallerCancelled(t *testing.T) {
	r := newHallRig(t, func(c *config.Config) { c.Hall.TakeDeadline = config.Duration{Duration: 5 * time.Second} })
	r.fake.answer = silent
	m := matter(t, r.k, false)
	r.lease(t, m.Queue, 999)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := r.k.TakeTicket(ctx, m.ID); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if left, _ := r.k.LeaseLeft(context.Background(), m.Queue); left != 1 {
		t.Errorf("%d left", left)
	}
	if ids, _ := r.k.queue.Abandoned(context.Background()); len(ids) != 1 {
		t.Errorf("abandoned %v", ids)
	}
}

// Without hall.controller nothing changes: the kiosk numbers itself, halld is never asked, and
// the ticket's event carries none of the numbering's fields.
func TestNoControllerNumbersLocally(t *testing.T) {
	r := newRig(t, nil)
	f := &fakeHall{answer: giving(), queue: wire.QueueState{Day: "2026-11-26", TS: r.clock.Now(),
		Categories: []wire.QueueCategory{{Letter: "A", Waiting: 40, ETANextS: 3600}}}, hasQ: true}
	ev := &events{}
	r.k.SetHallNumbers(f)
	r.k.SetEventRecorder(ev)
	m := matter(t, r.k, false)
	is, err := r.k.TakeTicket(context.Background(), m.ID)
	if err != nil || is.Ticket.Code != m.Queue+"001" || is.Ticket.Source != queue.SourceLocal {
		t.Fatal(is.Ticket, err)
	}
	if len(f.taken()) != 0 {
		t.Error("halld was asked")
	}
	e := ev.data[0].(TicketEvent)
	if e.Take != "" || e.Lease || e.Number != 0 || e.Lookup != "" || !e.IssuedAt.IsZero() {
		t.Errorf("event %+v", e)
	}
	if est, err := r.k.Estimate(context.Background(), m.ID); err != nil || est.Ahead != 1 {
		t.Errorf("estimate %+v %v: the hall's figures used without a controller", est, err)
	}
	// The QR code keeps the kiosk's own payload.
	if !slices.Contains(printedQR(r), "citizenhome:lookup:"+is.Ticket.LookupCode) {
		t.Error("QR payload changed without public_url")
	}
}

// A 急办件 matter is green-channel without a controller too.
func TestUrgentMatterIsPriority(t *testing.T) {
	r := newRig(t, nil)
	m := r.k.Catalog().Matter("crj-004")
	is, err := r.k.TakeTicket(context.Background(), m.ID)
	if err != nil || !is.Ticket.Priority || is.Ticket.PriorityReason != queue.ReasonUrgent {
		t.Fatal(is.Ticket, err)
	}
	if est, err := r.k.Estimate(context.Background(), m.ID); err != nil || !est.Priority {
		t.Errorf("estimate %+v %v", est, err)
	}
}

func TestEstimateFromHallFigures(t *testing.T) {
	r := newHallRig(t, nil)
	m := matter(t, r.k, false)
	local, err := r.k.Estimate(context.Background(), m.ID)
	if err != nil || local.Ahead != 0 {
		t.Fatal(local, err)
	}
	fig := wire.QueueState{Day: "2026-11-26", TS: r.clock.Now().Add(-time.Minute),
		Categories: []wire.QueueCategory{{Letter: m.Queue, Waiting: 12, WaitingPriority: 3, ETANextS: 1200}}}
	r.fake.mu.Lock()
	r.fake.queue, r.fake.hasQ = fig, true
	r.fake.mu.Unlock()
	est, err := r.k.Estimate(context.Background(), m.ID)
	if err != nil || est.Ahead != 12 || est.Wait != 20*time.Minute {
		t.Errorf("fresh figures: %+v %v", est, err)
	}
	w, err := r.k.WaitingBySection(context.Background())
	if err != nil || w[m.Section] < 12 {
		t.Errorf("WaitingBySection = %v, %v", w, err)
	}
	// The lease ticket prints halld's figures while they are fresh.
	r.fake.answer = silent
	r.lease(t, m.Queue, 999)
	is, err := r.k.TakeTicket(context.Background(), m.ID)
	if err != nil || is.Ticket.WaitingAhead != 12 || is.Ticket.EstimatedWait != 20*time.Minute {
		t.Errorf("lease ticket %+v %v", is.Ticket, err)
	}
	// Stale (older than FreshFigures) or of another day: the kiosk's own figures.
	for _, f := range []wire.QueueState{
		{Day: "2026-11-26", TS: r.clock.Now().Add(-FreshFigures - time.Second), Categories: fig.Categories},
		{Day: "2026-11-25", TS: r.clock.Now(), Categories: fig.Categories},
	} {
		r.fake.mu.Lock()
		r.fake.queue = f
		r.fake.mu.Unlock()
		if est, err := r.k.Estimate(context.Background(), m.ID); err != nil || est.Ahead != 1 {
			t.Errorf("figures %s at %s used: %+v %v", f.Day, f.TS, est, err)
		}
	}
}

func TestHallAheadForPriority(t *testing.T) {
	c := wire.QueueCategory{Waiting: 10, WaitingPriority: 2, ETANextS: 1000}
	if a, w := hallAhead(c, true); a != 2 || w != 200*time.Second {
		t.Errorf("priority: %d %s", a, w)
	}
	if a, w := hallAhead(c, false); a != 10 || w != 1000*time.Second {
		t.Errorf("normal: %d %s", a, w)
	}
	if a, w := hallAhead(wire.QueueCategory{}, true); a != 0 || w != 0 {
		t.Errorf("empty: %d %s", a, w)
	}
}
