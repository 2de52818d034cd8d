package web

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/fleet"
	"citizenhome/hall/history"
	"citizenhome/telemetry/wire"
)

// fakeFleet is a fleet in memory for the console's tests: kiosks set by the test, a change
// feed, and commands answered as the test says. halld's own tests run the real view and
// broker.
type fakeFleet struct {
	mu      sync.Mutex
	kiosks  map[string]fleet.Kiosk
	watch   []chan struct{}
	sent    []sentCommand
	answers map[string]func(id string) (wire.Reply, error) // by command name; nil: OK
}

type sentCommand struct {
	Kiosk, Name, By string
	Args            json.RawMessage
}

const testHall = "h1"

func newFakeFleet() *fakeFleet {
	return &fakeFleet{kiosks: map[string]fleet.Kiosk{}, answers: map[string]func(string) (wire.Reply, error){}}
}

// readyKiosk is a kiosk in service with its three devices ok.
func readyKiosk(id string, seen time.Time) fleet.Kiosk {
	st := &wire.Status{Boot: 3, Seq: 10, TS: seen, Version: "1.4.0", State: wire.StateReady, Session: wire.SessionIdle,
		Devices: map[string]wire.Device{
			"printer":     {State: "ok", Since: seen.Add(-time.Hour)},
			"id-reader":   {State: "ok", Since: seen.Add(-time.Hour)},
			"card-reader": {State: "ok", Since: seen.Add(-time.Hour)},
		},
		Counters: wire.Counters{Tickets: 42, Receipts: 3, CardReads: 50, Ratings: 7, Errors: 1}}
	return fleet.Kiosk{ID: wire.Kiosk{Hall: testHall, Kiosk: id}, State: wire.StateReady,
		StateMsg: wire.State{State: wire.StateReady, Boot: 3, Since: seen.Add(-2 * time.Hour), Version: "1.4.0"},
		Status:   st, Alerts: map[string]wire.Alert{}, Boot: 3, LastSeq: 10, LastSeen: seen}
}

// set puts k in the fleet (a copy) and fires the change feed.
func (f *fakeFleet) set(k fleet.Kiosk) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kiosks[k.ID.Kiosk] = k
	for _, ch := range f.watch {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// paperOut makes kiosk id's printer run out of paper, as the view shows it.
func (f *fakeFleet) paperOut(id string, at time.Time) {
	f.mu.Lock()
	k := f.kiosks[id]
	f.mu.Unlock()
	st := *k.Status
	st.Devices = map[string]wire.Device{}
	for n, d := range k.Status.Devices {
		st.Devices[n] = d
	}
	st.Devices["printer"] = wire.Device{State: "paper-out", Since: at}
	st.State = wire.StateDegraded
	k.Status, k.State, k.LastSeen = &st, wire.StateDegraded, at
	k.Alerts = map[string]wire.Alert{"printer-paper-out": {Severity: wire.SeverityError, Device: "printer", Code: "printer-paper-out",
		Message: "printer out of paper", Since: at, Boot: 3, Seq: 11}}
	f.set(k)
}

func (f *fakeFleet) Kiosks() []fleet.Kiosk {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fleet.Kiosk
	for _, k := range f.kiosks {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b fleet.Kiosk) int { return cmpString(a.ID.Kiosk, b.ID.Kiosk) })
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (f *fakeFleet) Kiosk(id wire.Kiosk) (fleet.Kiosk, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.kiosks[id.Kiosk]
	if !ok || k.ID != id {
		return fleet.Kiosk{}, false
	}
	return k, true
}

func (f *fakeFleet) Watch() (<-chan struct{}, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan struct{}, 1)
	f.watch = append(f.watch, ch)
	return ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if i := slices.Index(f.watch, ch); i >= 0 {
			f.watch = slices.Delete(f.watch, i, i+1)
		}
	}
}

func (f *fakeFleet) Command(ctx context.Context, k wire.Kiosk, name string, args json.RawMessage, by string) (wire.Reply, string, error) {
	f.mu.Lock()
	f.sent = append(f.sent, sentCommand{Kiosk: k.Kiosk, Name: name, By: by, Args: args})
	id := fmt.Sprintf("halld-%d", len(f.sent))
	answer := f.answers[name]
	f.mu.Unlock()
	if answer == nil {
		return wire.Reply{ID: id, OK: true, TS: time.Now()}, id, nil
	}
	r, err := answer(id)
	if err == fleet.ErrNoReply {
		<-ctx.Done() // as the real Conn: it waits for the deadline
	}
	return r, id, err
}

func (f *fakeFleet) commands() []sentCommand {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentCommand(nil), f.sent...)
}

// fakeHistory answers from slices the test fills.
type fakeHistory struct {
	mu       sync.Mutex
	changes  []history.Change
	alerts   []history.Alert // newest first
	days     []history.Day
	cmds     []history.Command
	months   map[string][]history.Availability
	lastF    history.AlertFilter
	failWith error
}

func (h *fakeHistory) Timeline(_ context.Context, kiosk string, from, to time.Time) ([]history.Change, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failWith != nil {
		return nil, h.failWith
	}
	var out []history.Change
	for _, c := range h.changes {
		if c.Kiosk == kiosk && c.At.Before(to) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (h *fakeHistory) Alerts(_ context.Context, f history.AlertFilter) ([]history.Alert, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastF = f
	if h.failWith != nil {
		return nil, h.failWith
	}
	var out []history.Alert
	for _, a := range h.alerts {
		if (f.Kiosk == "" || a.Kiosk == f.Kiosk) && (f.Code == "" || a.Code == f.Code) && (f.Severity == "" || a.Severity == f.Severity) &&
			(!f.Open || a.Ended == nil) && (f.Until.IsZero() || a.Started.Before(f.Until)) &&
			(f.Since.IsZero() || a.Ended == nil || !a.Ended.Before(f.Since)) {
			out = append(out, a)
		}
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

func (h *fakeHistory) Days(_ context.Context, kiosk, from, to string) ([]history.Day, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []history.Day
	for _, d := range h.days {
		if (kiosk == "" || d.Kiosk == kiosk) && d.Date >= from && d.Date <= to {
			out = append(out, d)
		}
	}
	return out, nil
}

func (h *fakeHistory) Commands(_ context.Context, kiosk string, limit int) ([]history.Command, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []history.Command
	for _, c := range h.cmds {
		if c.Kiosk == kiosk && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (h *fakeHistory) Month(_ context.Context, month time.Time) ([]history.Availability, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.months[month.Format("2006-01")], nil
}

// fakeAuditor records the entries.
type fakeAuditor struct {
	mu      sync.Mutex
	entries []access.Entry
}

func (a *fakeAuditor) Audit(_ context.Context, e access.Entry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

func (a *fakeAuditor) all() []access.Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]access.Entry(nil), a.entries...)
}
