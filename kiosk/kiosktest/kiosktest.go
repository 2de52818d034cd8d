// Package kiosktest holds the stand-ins that the tests of the core, and of everything built on it,
// share: a Printer that records what it is given, and a settable Clock.
//
// It imports no package of the kiosk: kiosk.Printer is written in escpos's types, so a printer can
// be faked without naming the core, and the core's own (package kiosk) tests and those of the
// packages it uses (queue, session, civic, payment) can import this one without an import cycle.
// That kiosktest.Printer satisfies kiosk.Printer is checked at compile time in kiosk's tests.
package kiosktest

import (
	"context"
	"sync"
	"time"

	"citizenhome/devices/escpos"
)

// Ready is the status of an idle printer with paper, as a real one reports it.
var Ready = escpos.Status{Have: 0x0F, Raw: [4]byte{0x16, 0x12, 0x12, 0x12}, Online: true}

// Printer is a kiosk.Printer for the tests of logic; the real driver is tested against the
// printer emulator in devices/escpos. It records every document it accepts, and answers with the
// status and the failures the test set. The zero value is a printer with a zero status. Safe for
// concurrent use.
type Printer struct {
	mu        sync.Mutex
	status    escpos.Status
	statusErr error
	printErr  error
	docs      []escpos.Doc
}

// NewPrinter returns a Printer that reports st and prints.
func NewPrinter(st escpos.Status) *Printer { return &Printer{status: st} }

// Print records d, or returns the error set by Fail (and then records nothing). It ignores ctx.
func (p *Printer) Print(_ context.Context, d escpos.Doc) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.printErr != nil {
		return p.printErr
	}
	p.docs = append(p.docs, d)
	return nil
}

// Status returns the status and the error last set. It ignores ctx.
func (p *Printer) Status(context.Context) (escpos.Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status, p.statusErr
}

// Set sets what Status returns (st, and statusErr unless it is nil) and what Print fails with
// (printErr; nil prints).
func (p *Printer) Set(st escpos.Status, statusErr, printErr error) {
	p.mu.Lock()
	p.status, p.statusErr, p.printErr = st, statusErr, printErr
	p.mu.Unlock()
}

// SetStatus sets what Status returns and leaves Print as it is.
func (p *Printer) SetStatus(st escpos.Status, err error) {
	p.mu.Lock()
	p.status, p.statusErr = st, err
	p.mu.Unlock()
}

// Fail makes every Print return err from now on; nil prints again.
func (p *Printer) Fail(err error) {
	p.mu.Lock()
	p.printErr = err
	p.mu.Unlock()
}

// Printed is how many documents were printed.
func (p *Printer) Printed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.docs)
}

// Docs returns the documents printed, oldest first (a copy of the list; the documents are those
// given to Print).
func (p *Printer) Docs() []escpos.Doc {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]escpos.Doc(nil), p.docs...)
}

// Doc returns the i-th document printed (0 is the first); it panics, as a slice does, when
// fewer were printed.
func (p *Printer) Doc(i int) escpos.Doc {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.docs[i]
}

// Clock is a time source the test moves by hand: Now stays where it was set until Set or Add,
// and the functions given to AfterFunc run when the clock is moved to or past their time. The
// zero value stands at the zero time. Safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	t      time.Time
	timers []timer
}

type timer struct {
	at time.Time
	f  func()
}

// NewClock returns a Clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time. It is the func() time.Time that options called Now take.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t, backwards too, and runs the timers that are then due.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.fire()
}

// Add moves the clock by d (a negative d moves it back) and runs the timers that are then due.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.fire()
}

// AfterFunc runs f, in the goroutine that moves the clock, once the clock is moved to d after
// now or later; d <= 0 runs at the next move. There is no way to stop it.
func (c *Clock) AfterFunc(d time.Duration, f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timers = append(c.timers, timer{c.t.Add(d), f})
}

// Pending is how many functions given to AfterFunc have not run yet.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// fire runs the timers due, in the order they were set, after unlocking c (locked by the caller)
// so that they may read or set the clock.
func (c *Clock) fire() {
	var due []func()
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if tm.at.After(c.t) {
			kept = append(kept, tm)
		} else {
			due = append(due, tm.f)
		}
	}
	c.timers = kept
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}
