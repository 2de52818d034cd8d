package idcard_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"citizenhome/devices/idcard"
	"citizenhome/devices/idcard/samsim"
)

// device is what Options.Reopen opens in these tests: missing, a sim over net.Pipe, or a port
// that opens but fails every write (a tty whose other side is gone). It records when each
// attempt was made, on the test's clock.
type device struct {
	t     *testing.T
	sim   *samsim.Sim
	clock *manualClock

	mu       sync.Mutex
	state    string // "missing", "present", "broken"
	attempts []time.Duration
	conns    []net.Conn
}

func newDevice(t *testing.T, clock *manualClock) *device {
	sim := samsim.New()
	sim.SetReadDelay(0, 0)
	d := &device{t: t, sim: sim, clock: clock, state: "missing"}
	t.Cleanup(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, c := range d.conns {
			c.Close()
		}
	})
	return d
}

func (d *device) set(state string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.state = state
}

func (d *device) open() (idcard.Port, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.attempts = append(d.attempts, d.clock.since())
	switch d.state {
	case "missing":
		return nil, &fs.PathError{Op: "open", Path: "/dev/idreader", Err: syscall.ENOENT}
	case "broken":
		return brokenPort{}, nil
	}
	a, b := net.Pipe()
	d.conns = append(d.conns, a, b)
	go d.sim.Serve(context.Background(), b)
	return idcard.ConnPort(a), nil
}

// unplug breaks the connections of the device opened so far, as a pulled adapter does.
func (d *device) unplug(state string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		c.Close()
	}
	d.conns = nil
	d.state = state
}

func (d *device) tries() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Duration(nil), d.attempts...)
}

type brokenPort struct{}

func (brokenPort) Read([]byte) (int, error)           { return 0, syscall.EIO }
func (brokenPort) Write([]byte) (int, error)          { return 0, syscall.EIO }
func (brokenPort) SetReadTimeout(time.Duration) error { return nil }

// manualClock moves only when the test says.
type manualClock struct {
	mu         sync.Mutex
	start, now time.Time
}

func newManualClock() *manualClock {
	t := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	return &manualClock{start: t, now: t}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *manualClock) since() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now.Sub(c.start)
}

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func sameDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// While the device is missing, commands asked every 10 ms (far faster than any poll) open it
// only at the back-off's pace: at once, then after 100, 200, 400, 800 ms, then every second,
// never more often; each command fails with ErrOffline naming the cause. Back, it is found at
// the next due attempt, within the cap.
func TestReopenBackoff(t *testing.T) {
	clock := newManualClock()
	dev := newDevice(t, clock)
	r := idcard.NewReader(nil, idcard.Options{Reopen: dev.open, Now: clock.Now})
	defer r.Close()
	ctx := context.Background()
	calls := 0
	for clock.since() < 5*time.Second {
		err := r.Find(ctx)
		calls++
		if !errors.Is(err, idcard.ErrOffline) || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("find at %v: %v, want ErrOffline wrapping ENOENT", clock.since(), err)
		}
		var ce *idcard.CommandError
		if !errors.As(err, &ce) || ce.Cmd != idcard.CmdFind {
			t.Fatalf("find: %v is not a CommandError of find", err)
		}
		clock.advance(10 * time.Millisecond)
	}
	want := ms(0, 100, 300, 700, 1500, 2500, 3500, 4500)
	if got := dev.tries(); !sameDurations(got, want) {
		t.Fatalf("%d commands opened the device at %v, want %v", calls, got, want)
	}

	// The reader comes back 10 ms after an attempt: found at the next one, 1 s later.
	clock.advance(500*time.Millisecond - 10*time.Millisecond) // 5.0 s: the attempt due at 5.5 s is ahead
	back := clock.since()
	dev.set("present")
	for {
		err := r.Find(ctx)
		if errors.Is(err, idcard.ErrNoCard) {
			break
		}
		if !errors.Is(err, idcard.ErrOffline) {
			t.Fatalf("find: %v", err)
		}
		if clock.since()-back > time.Second {
			t.Fatalf("not found %v after it came back", clock.since()-back)
		}
		clock.advance(10 * time.Millisecond)
	}
	if got := dev.tries(); got[len(got)-1] != 5500*time.Millisecond {
		t.Errorf("found by the attempt at %v, want 5.5 s", got[len(got)-1])
	}

	// Pulled after it answered: the port error is reported as such, the port is dropped and
	// the very next command opens the device again, the pace starting afresh from 100 ms.
	n := len(dev.tries())
	dev.unplug("missing")
	err := r.Find(ctx)
	var pe *idcard.PortError
	if !errors.As(err, &pe) || errors.Is(err, idcard.ErrOffline) {
		t.Fatalf("find on a pulled device: %v, want a PortError", err)
	}
	if len(dev.tries()) != n {
		t.Fatal("reopened in the command that found the port broken")
	}
	at := clock.since()
	for range 50 {
		_ = r.Find(ctx)
		clock.advance(10 * time.Millisecond)
	}
	got := dev.tries()[n:]
	if want := []time.Duration{at, at + 100*time.Millisecond, at + 300*time.Millisecond}; !sameDurations(got, want) {
		t.Errorf("after the pull, attempts at %v, want %v", got, want)
	}
}

// A device that opens but fails before it ever answers is not reopened at every command: the
// pace grows as for one that cannot be opened, and the cap holds.
func TestReopenBrokenDeviceBacksOff(t *testing.T) {
	clock := newManualClock()
	dev := newDevice(t, clock)
	dev.set("broken")
	r := idcard.NewReader(nil, idcard.Options{Reopen: dev.open, Now: clock.Now, ReopenMin: 50 * time.Millisecond, ReopenMax: 300 * time.Millisecond})
	defer r.Close()
	for clock.since() < 2*time.Second {
		err := r.Find(context.Background())
		var pe *idcard.PortError
		if !errors.As(err, &pe) && !errors.Is(err, idcard.ErrOffline) {
			t.Fatalf("find: %v", err)
		}
		clock.advance(5 * time.Millisecond)
	}
	want := ms(0, 50, 150, 350, 650, 950, 1250, 1550, 1850)
	if got := dev.tries(); !sameDurations(got, want) {
		t.Errorf("attempts at %v, want %v", got, want)
	}
}

// Close ends reopening: commands fail with ErrClosed and open nothing.
func TestReopenAfterClose(t *testing.T) {
	clock := newManualClock()
	dev := newDevice(t, clock)
	r := idcard.NewReader(nil, idcard.Options{Reopen: dev.open, Now: clock.Now})
	if err := r.Find(context.Background()); !errors.Is(err, idcard.ErrOffline) {
		t.Fatalf("find: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	dev.set("present")
	clock.advance(time.Hour)
	if err := r.Find(context.Background()); !errors.Is(err, idcard.ErrClosed) {
		t.Fatalf("find after Close: %v, want ErrClosed", err)
	}
	if n := len(dev.tries()); n != 1 {
		t.Errorf("%d opens, want 1 (none after Close)", n)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// Without Reopen a Reader keeps its port whatever happens (nothing else to open), and says
// so when it has none.
func TestNoReopen(t *testing.T) {
	r := idcard.NewReader(nil, idcard.Options{})
	if err := r.Find(context.Background()); !errors.Is(err, idcard.ErrOffline) {
		t.Fatalf("find without a port: %v", err)
	}
	b := idcard.NewReader(brokenPort{}, idcard.Options{})
	for range 3 {
		var pe *idcard.PortError
		if err := b.Find(context.Background()); !errors.As(err, &pe) || !errors.Is(err, syscall.EIO) {
			t.Fatalf("find on a broken port: %v", err)
		}
	}
}

// Poll over a reader whose device is missing at start: one reader-failed, waits of one interval
// between polls (no loop spinning on the failure), the device opened at the back-off's pace,
// and reader-ok at the first poll after it is back and due.
func TestPollReopens(t *testing.T) {
	clock := newStepClock()
	mc := &manualClock{}
	dev := newDevice(t, mc)
	r := idcard.NewReader(nil, idcard.Options{Reopen: dev.open, Now: clock.Now, After: clock.After})
	defer r.Close()
	var mu sync.Mutex
	var kinds []idcard.EventKind
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- r.Poll(ctx, 0, func(e idcard.Event) {
			mu.Lock()
			kinds = append(kinds, e.Kind)
			mu.Unlock()
		})
	}()
	events := func() []idcard.EventKind {
		mu.Lock()
		defer mu.Unlock()
		return append([]idcard.EventKind(nil), kinds...)
	}
	req := <-clock.reqs
	for range 12 { // 4 s of polls
		if req.d != idcard.DefaultPollInterval {
			t.Fatalf("Poll waits %v, want %v", req.d, idcard.DefaultPollInterval)
		}
		clock.mu.Lock()
		clock.now = clock.now.Add(req.d)
		clock.mu.Unlock()
		req.ch <- clock.Now()
		req = <-clock.reqs
	}
	if got := events(); len(got) != 1 || got[0] != rfailed {
		t.Fatalf("events %v, want [reader-failed]", got)
	}
	// 13 polls, 330 ms apart; attempts due at 0, +100, +200, +400, +800, then every 1 s.
	if n := len(dev.tries()); n != 6 {
		t.Errorf("%d opens in 13 polls over 4 s, want 6", n)
	}
	dev.set("present")
	for range 4 { // the next attempt is due within ReopenMax, the first poll after it finds it
		clock.mu.Lock()
		clock.now = clock.now.Add(req.d)
		clock.mu.Unlock()
		req.ch <- clock.Now()
		req = <-clock.reqs
		if got := events(); len(got) == 2 {
			break
		}
	}
	if got := events(); len(got) != 2 || got[1] != readerOK {
		t.Fatalf("events %v, want [reader-failed reader-ok] within ReopenMax plus a poll", got)
	}
	cancel()
	req.ch <- clock.Now() // buffered: whichever Poll sees first, it returns without waiting again
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Poll returned %v", err)
	}
}
