package history

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/fleet"
	"citizenhome/hall/hours"
	"citizenhome/hall/ledger"
	"citizenhome/hall/ledger/ledgertest"
	"citizenhome/telemetry/wire"
)

// The tests feed the store as halld does: wire payloads through a real fleet.View, each
// Update recorded with the view's kiosk after it, on one injectable clock.

const hall = "h1"

var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// kiosk is one simulated kiosk's session counters and devices.
type kiosk struct {
	boot, seq int64
	devices   map[string]wire.Device
	counters  wire.Counters
	state     string
	alerts    map[string]bool
	lockMsg   string
}

type feed struct {
	t      testing.TB
	clock  *clock
	view   *fleet.View
	db     *ledger.DB
	s      *Store
	stop   func()
	kiosks map[string]*kiosk
	opts   Options
}

func newFeed(t testing.TB, start time.Time, o Options) *feed {
	t.Helper()
	db := ledgertest.Open(t, Migrations)
	return openFeed(t, db, start, o)
}

func openFeed(t testing.TB, db *ledger.DB, start time.Time, o Options) *feed {
	t.Helper()
	f := &feed{t: t, clock: &clock{t: start}, db: db, kiosks: map[string]*kiosk{}}
	f.view = fleet.NewView()
	f.view.Now = f.clock.Now
	o.Now = f.clock.Now
	if o.Location == nil {
		o.Location = shanghai
	}
	f.opts = o
	s, err := Open(db, o)
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	f.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(f.stop)
	return f
}

// at moves the clock.
func (f *feed) at(t time.Time) *feed { f.clock.Set(t); return f }

func (f *feed) k(id string) *kiosk {
	k := f.kiosks[id]
	if k == nil {
		k = &kiosk{devices: map[string]wire.Device{}, alerts: map[string]bool{}}
		f.kiosks[id] = k
	}
	return k
}

// send applies one message to the view and records the update, as halld's OnUpdate does.
func (f *feed) send(id, kind string, payload any, retained bool) fleet.Update {
	f.t.Helper()
	var b []byte
	if s, ok := payload.(string); ok {
		b = []byte(s)
	} else {
		var err error
		if b, err = json.Marshal(payload); err != nil {
			f.t.Fatal(err)
		}
	}
	topic := wire.Prefix + "/" + hall + "/" + id + "/" + kind
	u, err := f.view.Apply(topic, b, retained)
	if err != nil {
		f.t.Fatalf("Apply(%s, %s): %v", topic, b, err)
	}
	k, _ := f.view.Kiosk(wire.Kiosk{Hall: hall, Kiosk: id})
	f.s.Record(u, k)
	return u
}

// boot starts a new session: state init, status, state ready (a birth).
func (f *feed) boot(id string) *feed {
	k := f.k(id)
	k.boot++
	k.seq = 0
	if len(k.devices) == 0 {
		k.devices["printer"] = wire.Device{State: "ok"}
		k.devices["id-reader"] = wire.Device{State: "ok"}
	}
	k.state = wire.StateInit
	f.state(id, wire.StateInit)
	f.status(id)
	k.state = wire.StateReady
	f.state(id, wire.StateReady)
	f.status(id)
	return f
}

func (f *feed) state(id, st string) *feed {
	k := f.k(id)
	f.send(id, wire.KindState, wire.State{State: st, Boot: k.boot, Since: f.clock.Now(), Version: "1"}, true)
	return f
}

// status publishes the kiosk's status, stamped now.
func (f *feed) status(id string) *feed { return f.statusTS(id, f.clock.Now()) }

// statusTS publishes the kiosk's status stamped ts by the kiosk.
func (f *feed) statusTS(id string, ts time.Time) *feed {
	k := f.k(id)
	k.seq++
	var codes []string
	for c := range k.alerts {
		codes = append(codes, c)
	}
	f.send(id, wire.KindStatus, wire.Status{Boot: k.boot, Seq: k.seq, TS: ts, Version: "1",
		State: k.state, Session: wire.SessionIdle, Devices: k.devices, Counters: k.counters, Alerts: codes,
		LockMessage: k.lockMsg}, true)
	return f
}

// set changes the kiosk's lifecycle and a device (device "" none) and publishes a status and
// the state.
func (f *feed) set(id, st, device, dstate, detail string) *feed {
	k := f.k(id)
	if device != "" {
		k.devices[device] = wire.Device{State: dstate, Detail: detail, Since: f.clock.Now()}
	}
	changed := st != k.state
	k.state = st
	f.status(id)
	if changed {
		f.state(id, st)
	}
	return f
}

func (f *feed) alert(id, code, device string) *feed {
	k := f.k(id)
	k.seq++
	k.alerts[code] = true
	f.send(id, wire.KindAlert+"/"+code, wire.Alert{Severity: wire.SeverityError, Device: device, Code: code,
		Message: code + " message", Since: f.clock.Now(), Boot: k.boot, Seq: k.seq}, true)
	return f
}

func (f *feed) clear(id, code string) *feed {
	delete(f.k(id).alerts, code)
	f.send(id, wire.KindAlert+"/"+code, "", true)
	return f
}

// will is the broker publishing the kiosk's will (lost, same boot).
func (f *feed) will(id string) *feed {
	return f.state(id, wire.StateLost)
}

func (f *feed) sync() *feed {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.s.Sync(ctx); err != nil {
		f.t.Fatalf("Sync: %v", err)
	}
	return f
}

// reopen stops the writer, and opens the same ledger file anew with a new view (halld
// restarted: its view is empty until the broker sends the retained messages).
func (f *feed) reopen() *feed {
	f.t.Helper()
	f.stop()
	path := f.db.Path()
	if err := f.db.Close(); err != nil {
		f.t.Fatal(err)
	}
	db, err := ledger.Open(path, Migrations)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { db.Close() })
	n := openFeed(f.t, db, f.clock.Now(), f.opts)
	n.kiosks = f.kiosks
	return n
}

func mustHours(t testing.TB, loc *time.Location, days map[string]string) hours.Week {
	t.Helper()
	w, err := hours.Parse(loc, days, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func isInvalid(err error) bool { return errors.Is(err, ErrInvalid) }
