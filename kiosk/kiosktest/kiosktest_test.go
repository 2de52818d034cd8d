package kiosktest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk/kiosktest"
)

func TestPrinterRecordsAndFails(t *testing.T) {
	ctx := context.Background()
	p := kiosktest.NewPrinter(kiosktest.Ready)
	if st, err := p.Status(ctx); st != kiosktest.Ready || err != nil {
		t.Fatalf("status %+v %v, want Ready", st, err)
	}
	a, b := escpos.Doc{}, escpos.Doc{}
	a.Add(escpos.Text{Text: "a"})
	b.Add(escpos.Text{Text: "b"})
	if err := p.Print(ctx, a); err != nil {
		t.Fatal(err)
	}
	jam := errors.New("jam")
	p.Fail(jam)
	if err := p.Print(ctx, b); !errors.Is(err, jam) {
		t.Fatalf("print while failing: %v, want jam", err)
	}
	p.Fail(nil)
	if err := p.Print(ctx, b); err != nil {
		t.Fatal(err)
	}
	if p.Printed() != 2 || len(p.Docs()) != 2 {
		t.Fatalf("printed %d (%d docs), want 2: a failed print is not recorded", p.Printed(), len(p.Docs()))
	}
	if got := p.Doc(1).Blocks; len(got) != 1 || got[0] != (escpos.Text{Text: "b"}) {
		t.Errorf("second doc %v, want b", got)
	}
	offline := errors.New("offline")
	p.Set(escpos.Status{}, offline, jam)
	if _, err := p.Status(ctx); !errors.Is(err, offline) {
		t.Errorf("status err %v, want offline", err)
	}
	if err := p.Print(ctx, a); !errors.Is(err, jam) {
		t.Errorf("print err %v, want jam", err)
	}
	p.SetStatus(kiosktest.Ready, nil)
	if st, err := p.Status(ctx); st != kiosktest.Ready || err != nil {
		t.Errorf("status %+v %v after SetStatus, want Ready", st, err)
	}
	if err := p.Print(ctx, a); !errors.Is(err, jam) {
		t.Errorf("SetStatus changed Print: %v", err)
	}
}

func TestClockMovesAndFiresTimers(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	c := kiosktest.NewClock(t0)
	var fired []string
	c.AfterFunc(time.Minute, func() { fired = append(fired, "1m") })
	c.AfterFunc(time.Hour, func() { fired = append(fired, "1h") })
	if c.Pending() != 2 {
		t.Fatalf("%d timers pending, want 2", c.Pending())
	}
	c.Add(59 * time.Second)
	if len(fired) != 0 || !c.Now().Equal(t0.Add(59*time.Second)) {
		t.Fatalf("at 59s: now %v, fired %v", c.Now(), fired)
	}
	c.Add(time.Second)
	if len(fired) != 1 || fired[0] != "1m" || c.Pending() != 1 {
		t.Fatalf("at 1m: fired %v (%d pending), want [1m] (1 pending)", fired, c.Pending())
	}
	c.Set(t0) // back: nothing fires
	if len(fired) != 1 || !c.Now().Equal(t0) {
		t.Fatalf("set back: now %v, fired %v", c.Now(), fired)
	}
	c.Set(t0.Add(2 * time.Hour))
	if len(fired) != 2 || fired[1] != "1h" {
		t.Fatalf("at 2h: fired %v, want [1m 1h]", fired)
	}
	c.Add(time.Hour) // each timer runs once
	if len(fired) != 2 {
		t.Fatalf("timers ran again: %v", fired)
	}
}

// A timer may read the clock (it runs unlocked), and readers and movers may race (go test -race).
func TestClockConcurrent(t *testing.T) {
	c := kiosktest.NewClock(time.Unix(0, 0))
	var seen time.Time
	c.AfterFunc(time.Second, func() { seen = c.Now() })
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				c.Add(time.Millisecond)
				_ = c.Now()
			}
		}()
	}
	wg.Wait()
	if want := time.Unix(0, 0).Add(400 * time.Millisecond); !c.Now().Equal(want) {
		t.Errorf("now %v, want %v", c.Now(), want)
	}
	c.Add(time.Second)
	if seen.IsZero() {
		t.Error("the timer did not run")
	}
}
