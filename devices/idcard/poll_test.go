package idcard_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"citizenhome/devices/idcard"
	"citizenhome/devices/idcard/samsim"
)

// stepClock lets a test hand out Poll's ticks one by one: After blocks until the test takes
// the request, so when the test holds a request, the poll before it is complete.
type stepClock struct {
	mu   sync.Mutex
	now  time.Time
	reqs chan stepReq
}

type stepReq struct {
	d  time.Duration
	ch chan time.Time
}

func newStepClock() *stepClock {
	return &stepClock{now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), reqs: make(chan stepReq)}
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.reqs <- stepReq{d, ch}
	return ch
}

// pollRig runs Poll against a sim and collects its events.
type pollRig struct {
	t      *testing.T
	sim    *samsim.Sim
	clock  *stepClock
	mu     sync.Mutex
	events []idcard.Event
	req    stepReq
}

func newPollRig(t *testing.T) *pollRig {
	clock := newStepClock()
	r, sim := rig(t, idcard.Options{Now: clock.Now, After: clock.After})
	p := &pollRig{t: t, sim: sim, clock: clock}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- r.Poll(ctx, 0, func(e idcard.Event) {
			p.mu.Lock()
			p.events = append(p.events, e)
			p.mu.Unlock()
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Poll returned %v", err)
		}
	})
	p.req = <-clock.reqs // the first poll is done
	return p
}

// tick lets the next poll run and waits until it is done.
func (p *pollRig) tick() {
	p.clock.mu.Lock()
	p.clock.now = p.clock.now.Add(p.req.d)
	now := p.clock.now
	p.clock.mu.Unlock()
	p.req.ch <- now
	p.req = <-p.clock.reqs
}

func (p *pollRig) kinds() []idcard.EventKind {
	p.mu.Lock()
	defer p.mu.Unlock()
	var k []idcard.EventKind
	for _, e := range p.events {
		k = append(k, e.Kind)
	}
	return k
}

func (p *pollRig) expect(want ...idcard.EventKind) {
	p.t.Helper()
	got := p.kinds()
	if len(got) != len(want) {
		p.t.Fatalf("events %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			p.t.Fatalf("events %v, want %v", got, want)
		}
	}
}

func (p *pollRig) event(i int) idcard.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.events[i]
}

const (
	arrived  = idcard.EventArrived
	removed  = idcard.EventRemoved
	failed   = idcard.EventReadFailed
	rfailed  = idcard.EventReaderFailed
	readerOK = idcard.EventReaderOK
)

func TestPollOncePerPresence(t *testing.T) {
	p := newPollRig(t)
	if p.req.d != idcard.DefaultPollInterval {
		t.Errorf("waits %v, want %v", p.req.d, idcard.DefaultPollInterval)
	}
	p.expect()
	elder, _ := sample(t, "elder")
	if err := p.sim.PlacePerson(elder); err != nil {
		t.Fatal(err)
	}
	p.tick()
	p.expect(arrived)
	if got := p.event(0).Identity; got == nil || got.Number != elder.Number {
		t.Fatalf("arrival identity %v", got)
	}
	for range 10 {
		p.tick()
	}
	p.expect(arrived)
	if n := p.sim.Count(idcard.CmdRead); n != 1 {
		t.Errorf("card read %d times while it stayed", n)
	}
	if n := p.sim.Count(idcard.CmdFind); n != 12 {
		t.Errorf("%d finds in 12 polls", n)
	}
	// One missed find is not a removal.
	p.sim.Inject(samsim.Fault{Kind: samsim.FaultStatus, Cmd: idcard.CmdFind, Status: idcard.ErrNoCard})
	p.tick()
	p.tick()
	p.expect(arrived)
	p.sim.Remove()
	p.tick()
	p.expect(arrived)
	p.tick()
	p.expect(arrived, removed)
	p.tick()
	p.expect(arrived, removed)
	adult, _ := sample(t, "adult")
	if err := p.sim.PlacePerson(adult); err != nil {
		t.Fatal(err)
	}
	p.tick()
	p.expect(arrived, removed, arrived)
	if got := p.event(2).Identity; got == nil || got.Number != adult.Number {
		t.Fatalf("second arrival identity %v", got)
	}
}

// A SAM that stops finding a card once it was read must not make Poll read it again.
func TestPollHaltingSAM(t *testing.T) {
	p := newPollRig(t)
	p.sim.SetHaltAfterRead(true)
	elder, _ := sample(t, "elder")
	if err := p.sim.PlacePerson(elder); err != nil {
		t.Fatal(err)
	}
	for range 6 {
		p.tick()
	}
	p.expect(arrived, removed)
	if n := p.sim.Count(idcard.CmdRead); n != 1 {
		t.Errorf("card read %d times", n)
	}
	if err := p.sim.PlacePerson(elder); err != nil { // taken off and put back
		t.Fatal(err)
	}
	p.tick()
	p.expect(arrived, removed, arrived)
}

func TestPollRetriesThenReportsOnce(t *testing.T) {
	p := newPollRig(t)
	p.sim.Inject(samsim.Fault{Kind: samsim.FaultStatus, Cmd: idcard.CmdRead, Status: idcard.ErrReadFailed, Times: -1})
	elder, _ := sample(t, "elder")
	if err := p.sim.PlacePerson(elder); err != nil {
		t.Fatal(err)
	}
	p.tick()
	p.tick()
	p.expect()
	p.tick()
	p.expect(failed)
	if !errors.Is(p.event(0).Err, idcard.ErrReadFailed) {
		t.Errorf("err %v", p.event(0).Err)
	}
	for range 5 {
		p.tick()
	}
	p.expect(failed)
	if n := p.sim.Count(idcard.CmdRead); n != 3 {
		t.Errorf("%d reads, want 3 attempts", n)
	}
	// A transient failure followed by success is just an arrival.
	p.sim.Remove()
	p.tick()
	p.tick()
	p.expect(failed, removed)
	p.sim.ClearFaults()
	p.sim.Inject(samsim.Fault{Kind: samsim.FaultChecksum, Cmd: idcard.CmdRead})
	if err := p.sim.PlacePerson(elder); err != nil {
		t.Fatal(err)
	}
	p.tick()
	p.tick()
	p.expect(failed, removed, arrived)
}

func TestPollBadCardNotRetried(t *testing.T) {
	p := newPollRig(t)
	_, id := sample(t, "adult")
	id.Number = "410203199105200137"
	if err := p.sim.Place(id); err != nil {
		t.Fatal(err)
	}
	p.tick()
	p.expect(failed)
	if !errors.Is(p.event(0).Err, idcard.ErrCheckDigit) {
		t.Errorf("err %v", p.event(0).Err)
	}
	p.tick()
	if n := p.sim.Count(idcard.CmdRead); n != 1 {
		t.Errorf("%d reads of a bad card", n)
	}
}

func TestPollReaderFailure(t *testing.T) {
	p := newPollRig(t)
	p.sim.Inject(samsim.Fault{Kind: samsim.FaultStatus, Cmd: idcard.CmdFind, Status: idcard.ErrSelfTest, Times: 3})
	p.tick()
	p.tick()
	p.tick()
	p.expect(rfailed)
	if !errors.Is(p.event(0).Err, idcard.ErrSelfTest) {
		t.Errorf("err %v", p.event(0).Err)
	}
	p.tick()
	p.expect(rfailed, readerOK)
}

// advancePort makes every command cost virtual time, as a real line does.
type advancePort struct {
	idcard.Port
	clock *autoClock
	cost  time.Duration
}

func (p advancePort) Write(b []byte) (int, error) {
	p.clock.advance(p.cost)
	return p.Port.Write(b)
}

// autoClock runs Poll in virtual time: After advances the clock and fires at once.
type autoClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
	stop  time.Time
	done  func()
}

func (c *autoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *autoClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *autoClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	if !c.now.Before(c.stop) {
		c.done()
	}
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// The pace is counted, not timed: in 10 virtual seconds Poll sends one find per interval,
// whatever each poll costs, and never waits a negative or busy-loop time.
func TestPollPace(t *testing.T) {
	for _, cost := range []time.Duration{0, 100 * time.Millisecond, 500 * time.Millisecond} {
		start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
		ctx, cancel := context.WithCancel(context.Background())
		clock := &autoClock{now: start, stop: start.Add(10 * time.Second), done: cancel}
		sim := samsim.New()
		sim.SetReadDelay(0, 0)
		a, b := net.Pipe()
		go sim.Serve(ctx, b)
		r := idcard.NewReader(advancePort{idcard.ConnPort(a), clock, cost}, idcard.Options{Now: clock.Now, After: clock.After})
		every := 250 * time.Millisecond
		err := r.Poll(ctx, every, func(idcard.Event) {})
		a.Close()
		b.Close()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Poll: %v", err)
		}
		finds := sim.Count(idcard.CmdFind)
		want := 40 // 10 s / 250 ms
		if cost > every {
			want = 20 // each poll overran to 500 ms: no burst to catch up
		}
		if finds != want {
			t.Errorf("cost %v: %d finds in 10 s, want %d", cost, finds, want)
		}
		for _, w := range clock.waits {
			if w < 0 || (cost <= every && w != every-cost) || (cost > every && w != 0) {
				t.Errorf("cost %v: waited %v", cost, w)
				break
			}
		}
	}
}
