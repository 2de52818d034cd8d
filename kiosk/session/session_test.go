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

func newTimed() (*Manager, *kiosktest.Clock, *[]Event) {
	m, c, evs := setup()
	m.SetTimeouts(Timeouts{Other: 60 * time.Second, Reading: 120 * time.Second, Elder: 180 * time.Second,
		Staff: 300 * time.Second, Warning: 20 * time.Second})
	return m, c, evs
}

// idleAfter is how long a session touched now lasts without a touch: the clock moves a second at
// a time, as Run ticks it, until the session ends.
func idleAfter(t *testing.T, m *Manager, c *kiosktest.Clock) time.Duration {
	t.Helper()
	start := c.Now()
	for i := 0; i < 3600; i++ {
		if _, ok := m.Active(); !ok {
			return c.Now().Sub(start)
		}
		c.Add(time.Second)
		m.Tick()
	}
	t.Fatal("the session never ended")
	return 0
}

func TestTimeoutPerScreenKindAndElderMode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		screen Screen
		elder  bool
		want   time.Duration
	}{
		{"other", ScreenOther, false, 60 * time.Second},
		{"reading", ScreenReading, false, 120 * time.Second},
		{"elder", ScreenOther, true, 180 * time.Second},
		{"elder reading", ScreenReading, true, 180 * time.Second},
		{"staff", ScreenStaff, false, 300 * time.Second},
		{"staff in elder mode", ScreenStaff, true, 300 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, c, evs := newTimed()
			m.SetScreen(tc.screen)
			m.Touch()
			if tc.elder {
				m.SetElder(true)
			}
			if left, _ := m.Left(); left != tc.want {
				t.Errorf("Left = %s, want %s", left, tc.want)
			}
			if got := idleAfter(t, m, c); got != tc.want {
				t.Errorf("ended after %s, want %s", got, tc.want)
			}
			var warn *Event
			for i := range *evs {
				if (*evs)[i].Kind == Warning {
					warn = &(*evs)[i]
				}
			}
			if warn == nil || warn.Remaining != 20*time.Second {
				t.Errorf("warning %+v, want one 20s ahead", warn)
			}
		})
	}
}

func TestTimeoutsFallBackToOther(t *testing.T) {
	to := Timeouts{Other: 45 * time.Second, Warning: 20 * time.Second}
	for _, s := range []Screen{ScreenOther, ScreenReading, ScreenStaff} {
		for _, elder := range []bool{false, true} {
			if got := to.For(s, elder); got != 45*time.Second {
				t.Errorf("For(%d, %v) = %s, want Other", s, elder, got)
			}
		}
	}
	// The hall raised a citizen's timeout above staff mode's: staff get at least as long.
	to.Staff = 30 * time.Second
	if got := to.For(ScreenStaff, false); got != 45*time.Second {
		t.Errorf("staff mode %s, shorter than a citizen's 45s", got)
	}
}

func TestElderModeEndsWithSessionAndIsOfferedOnce(t *testing.T) {
	m, _, _ := newTimed()
	if m.OfferElder() {
		t.Fatal("offered without a session")
	}
	m.Touch()
	if !m.OfferElder() || m.OfferElder() {
		t.Fatal("elder mode not offered exactly once in a session")
	}
	m.SetElder(true)
	if !m.Elder() {
		t.Fatal("elder mode not on")
	}
	m.End(Finished)
	if m.Elder() {
		t.Fatal("elder mode outlived the session")
	}
	m.Touch()
	if m.Elder() {
		t.Fatal("the next session inherited elder mode")
	}
	if !m.OfferElder() {
		t.Fatal("the next session is not offered elder mode")
	}
	m.SetElder(true)
	if m.OfferElder() {
		t.Fatal("offered although elder mode is on")
	}
}

func TestLeftAndActivity(t *testing.T) {
	m, c, evs := newTimed()
	m.Activity()
	if _, ok := m.Active(); ok {
		t.Fatal("Activity started a session")
	}
	if _, ok := m.Left(); ok {
		t.Fatal("Left without a session")
	}
	m.Touch()
	c.Add(45 * time.Second)
	m.Tick()
	if left, _ := m.Left(); left != 15*time.Second {
		t.Fatalf("Left = %s", left)
	}
	m.Activity() // during the warning: the session goes on
	if left, _ := m.Left(); left != 60*time.Second {
		t.Fatalf("Left after activity = %s", left)
	}
	if got := kinds(*evs); len(got) != 3 || got[1] != Warning || got[2] != Continued {
		t.Errorf("events %v", got)
	}
	done := m.Begin()
	c.Add(time.Hour)
	if left, _ := m.Left(); left != 60*time.Second {
		t.Errorf("Left in a transaction = %s", left)
	}
	done()
}
