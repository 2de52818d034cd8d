package session

import (
	"sync"
	"testing"
	"time"

	"citizenhome/kiosk/kiosktest"
)

type secret struct{ b []byte }

func (s *secret) Wipe() {
	for i := range s.b {
		s.b[i] = 0
	}
	s.b = nil
}

func setup() (*Manager, *kiosktest.Clock, *[]Event) {
	c := kiosktest.NewClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	m := NewManager(60*time.Second, 10*time.Second, c.Now)
	var evs []Event
	m.Subscribe(func(e Event) { evs = append(evs, e) })
	return m, c, &evs
}

func kinds(evs []Event) []EventKind {
	var k []EventKind
	for _, e := range evs {
		k = append(k, e.Kind)
	}
	return k
}

func TestIdleWarningThenEnd(t *testing.T) {
	m, c, evs := setup()
	id := m.Touch()
	c.Add(49 * time.Second)
	if left := m.Tick(); left != 11*time.Second {
		t.Fatalf("left = %s", left)
	}
	c.Add(1 * time.Second)
	m.Tick()
	c.Add(5 * time.Second)
	m.Tick() // no second warning
	c.Add(5 * time.Second)
	if left := m.Tick(); left != 0 {
		t.Fatalf("left after timeout = %s", left)
	}
	want := []EventKind{Started, Warning, Ended}
	if got := kinds(*evs); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("events %v, want %v", got, want)
	}
	if (*evs)[1].Remaining != 10*time.Second || (*evs)[2].Reason != Idle || (*evs)[2].ID != id {
		t.Errorf("events %+v", *evs)
	}
	if _, ok := m.Active(); ok {
		t.Error("session still active after timeout")
	}
}

func TestTouchDuringWarningContinues(t *testing.T) {
	m, c, evs := setup()
	m.Touch()
	c.Add(55 * time.Second)
	m.Tick()
	m.Touch()
	c.Add(55 * time.Second)
	m.Tick()
	if _, ok := m.Active(); !ok {
		t.Fatal("session ended although touched during the warning")
	}
	got := kinds(*evs)
	if len(got) != 4 || got[1] != Warning || got[2] != Continued || got[3] != Warning {
		t.Errorf("events %v", got)
	}
}

func TestEndWipesPersonalData(t *testing.T) {
	m, _, evs := setup()
	s := &secret{b: []byte("410102199001011234")}
	raw := s.b
	m.Put("id", s)
	if m.Get("id") != s {
		t.Fatal("Get")
	}
	m.End(Finished)
	if m.Get("id") != nil {
		t.Error("personal data still reachable after End")
	}
	for _, b := range raw {
		if b != 0 {
			t.Fatalf("bytes not overwritten: %q", raw)
		}
	}
	if k := kinds(*evs); len(k) != 2 || k[1] != Ended || (*evs)[1].Reason != Finished {
		t.Errorf("events %v", *evs)
	}
	// Replacing a value wipes the old one.
	a, b := &secret{b: []byte("a")}, &secret{b: []byte("b")}
	m.Put("city", a)
	m.Put("city", b)
	if a.b != nil || m.Get("city") != b {
		t.Error("replaced value not wiped")
	}
}

func TestTransactionHoldsOffTimeout(t *testing.T) {
	m, c, _ := setup()
	done := m.Begin()
	if !m.InTransaction() {
		t.Fatal("not in transaction")
	}
	c.Add(5 * time.Minute)
	m.Tick()
	if _, ok := m.Active(); !ok {
		t.Fatal("timed out during a transaction")
	}
	done()
	done() // idempotent
	if m.InTransaction() {
		t.Fatal("still in transaction")
	}
	c.Add(59 * time.Second)
	m.Tick()
	if _, ok := m.Active(); !ok {
		t.Fatal("idle time must count from the transaction's end")
	}
	c.Add(2 * time.Second)
	m.Tick()
	if _, ok := m.Active(); ok {
		t.Fatal("did not time out after the transaction")
	}
}

func TestNewSessionHasNewID(t *testing.T) {
	m, _, _ := setup()
	a := m.Touch()
	m.End(Reset)
	b := m.Touch()
	if a == b || len(a) != 16 {
		t.Errorf("ids %q %q", a, b)
	}
	m.End(Reset)
	m.End(Reset) // no session: nothing happens
}

func TestConcurrentUse(t *testing.T) {
	m := NewManager(time.Minute, 10*time.Second, nil)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				m.Touch()
				m.Put("x", &secret{b: []byte{1}})
				m.Tick()
				if j%50 == 0 {
					m.End(Reset)
				}
			}
		}()
	}
	wg.Wait()
}
