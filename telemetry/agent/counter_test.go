package agent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"citizenhome/kiosk"

	"citizenhome/kiosk/kiosktest"
)

// storedCounter reads one row of telemetry_counter (0 when there is none).
func storedCounter(t *testing.T, db *sql.DB, day, name string) int64 {
	t.Helper()
	var n int64
	err := db.QueryRow(`SELECT n FROM telemetry_counter WHERE day = ? AND name = ?`, day, name).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	return n
}

func wantCounters(t *testing.T, a *Agent, cardReads, errs int64) {
	t.Helper()
	c := a.Snapshot(context.Background()).Counters
	if c.CardReads != cardReads || c.Errors != errs {
		t.Errorf("counters card_reads %d errors %d, want %d and %d", c.CardReads, c.Errors, cardReads, errs)
	}
}

// card_reads and errors count since local midnight across restarts: a new Agent over the same
// store the same day goes on from the stored counts, and the next local day starts at 0.
func TestCountersSurviveRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	k1, st1 := newKiosk(t, "h1", "k1", path, nil)
	loc, err := k1.Config().Location()
	if err != nil {
		t.Fatal(err)
	}
	clk := kiosktest.NewClock(time.Date(2026, 11, 26, 23, 50, 0, 0, loc))
	withClock := func(o *Options) { o.Now = clk.Now }

	a1 := newAgent(t, k1, st1, offline, withClock)
	for range 3 {
		a1.onKioskEvent(kiosk.Event{Kind: kiosk.EventCard, Card: kiosk.CardID})
	}
	a1.onKioskEvent(kiosk.Event{Kind: kiosk.EventCard, Card: kiosk.CardCity, CardErr: errors.New("unreadable")}) // not a read
	k1.SetDevice(kiosk.DeviceCardReader, kiosk.StateError, "")                                                   // a fault: errors +1
	a1.CountError()
	wantCounters(t, a1, 3, 2)
	if err := a1.flushCounters(ctx); err != nil {
		t.Fatal(err)
	}
	if n := storedCounter(t, st1.DB(), "2026-11-26", "card_reads"); n != 3 {
		t.Errorf("stored card_reads %d, want 3", n)
	}
	if n := storedCounter(t, st1.DB(), "2026-11-26", "errors"); n != 2 {
		t.Errorf("stored errors %d, want 2", n)
	}
	if err := st1.Close(); err != nil {
		t.Fatal(err)
	}

	// The restart: a new process (kiosk, store handle, agent) over the same file, the same day.
	k2, st2 := newKiosk(t, "h1", "k1", path, nil)
	a2 := newAgent(t, k2, st2, offline, withClock)
	wantCounters(t, a2, 3, 2)
	a2.onKioskEvent(kiosk.Event{Kind: kiosk.EventCard, Card: kiosk.CardCity})
	wantCounters(t, a2, 4, 2) // pending or stored, counted once either way

	// Local midnight: today starts at 0, yesterday's rows stay (until the purge).
	clk.Set(time.Date(2026, 11, 27, 0, 0, 1, 0, loc))
	wantCounters(t, a2, 0, 0)
	a2.CountError()
	wantCounters(t, a2, 0, 1)
	if err := a2.flushCounters(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		day, name string
		n         int64
	}{
		{"2026-11-26", "card_reads", 4},
		{"2026-11-26", "errors", 2},
		{"2026-11-27", "card_reads", 0},
		{"2026-11-27", "errors", 1},
	} {
		if n := storedCounter(t, st2.DB(), c.day, c.name); n != c.n {
			t.Errorf("stored %s %s = %d, want %d", c.day, c.name, n, c.n)
		}
	}
}

// Rows older than CounterKeepDays go at the day roll; the rest stay.
func TestCountersPurgedAtDayRoll(t *testing.T) {
	ctx := context.Background()
	k, st := newKiosk(t, "h1", "k1", "", nil)
	loc, _ := k.Config().Location()
	clk := kiosktest.NewClock(time.Date(2026, 3, 31, 9, 0, 0, 0, loc))
	for _, day := range []string{"2026-02-18", "2026-02-19", "2026-02-20", "2026-03-30"} {
		if _, err := st.DB().Exec(`INSERT INTO telemetry_counter (day, name, n) VALUES (?, 'errors', 1)`, day); err != nil {
			t.Fatal(err)
		}
	}
	a := newAgent(t, k, st, offline, func(o *Options) { o.Now = clk.Now })
	kept := func(want ...string) {
		t.Helper()
		if err := a.flushCounters(ctx); err != nil {
			t.Fatal(err)
		}
		rows, err := st.DB().Query(`SELECT day FROM telemetry_counter ORDER BY day`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var d string
			rows.Scan(&d)
			got = append(got, d)
		}
		if len(got) != len(want) {
			t.Fatalf("days kept %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("days kept %v, want %v", got, want)
			}
		}
	}
	wantCounters(t, a, 0, 0) // the first look at the day schedules the purge
	kept("2026-02-19", "2026-02-20", "2026-03-30")
	clk.Set(time.Date(2026, 4, 1, 0, 0, 0, 0, loc))
	a.CountError()
	kept("2026-02-20", "2026-03-30", "2026-04-01")
}

// The kiosk's event callback must not block: a count made while the store's only connection is
// held by a transaction (as a core method emitting from inside its own would) returns at once,
// and reaches the store once the transaction ends.
func TestCountDoesNotBlockOnStore(t *testing.T) {
	ctx := context.Background()
	k, st := newKiosk(t, "h1", "k1", "", nil)
	loc, _ := k.Config().Location()
	clk := kiosktest.NewClock(time.Date(2026, 11, 26, 10, 0, 0, 0, loc))
	a := newAgent(t, k, st, offline, func(o *Options) { o.Now = clk.Now })
	err := st.Tx(ctx, func(*sql.Tx) error {
		done := make(chan struct{})
		go func() {
			a.onKioskEvent(kiosk.Event{Kind: kiosk.EventCard, Card: kiosk.CardID})
			a.CountError()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("counting blocked while the store was busy")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.flushCounters(ctx); err != nil {
		t.Fatal(err)
	}
	if r, e := storedCounter(t, st.DB(), "2026-11-26", "card_reads"), storedCounter(t, st.DB(), "2026-11-26", "errors"); r != 1 || e != 1 {
		t.Errorf("stored card_reads %d errors %d, want 1 and 1", r, e)
	}
}

// Counting from many goroutines while the writer flushes and statuses are built: none lost, none
// counted twice, and no status ever shows fewer than the one before (an increment is never seen
// neither pending nor stored).
func TestCountersConcurrent(t *testing.T) {
	ctx := context.Background()
	k, st := newKiosk(t, "h1", "k1", "", nil)
	loc, _ := k.Config().Location()
	clk := kiosktest.NewClock(time.Date(2026, 11, 26, 10, 0, 0, 0, loc))
	a := newAgent(t, k, st, offline, func(o *Options) { o.Now = clk.Now })
	const workers, each = 8, 100
	stop := make(chan struct{})
	watched := make(chan error, 1)
	go func() {
		var last int64
		for {
			n := a.Snapshot(ctx).Counters.Errors
			if n < last || n > workers*each {
				watched <- fmt.Errorf("errors counter went from %d to %d", last, n)
				return
			}
			last = n
			select {
			case <-stop:
				watched <- nil
				return
			default:
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				a.CountError()
				if i%10 == 0 {
					time.Sleep(time.Millisecond) // spread the counts over several flushes
				}
			}
		}()
	}
	wg.Wait()
	// The last flush happens while the watcher still looks.
	if err := a.flushCounters(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	if err := <-watched; err != nil {
		t.Error(err)
	}
	if n := storedCounter(t, st.DB(), "2026-11-26", "errors"); n != workers*each {
		t.Errorf("stored errors %d, want %d", n, workers*each)
	}
	wantCounters(t, a, 0, workers*each)
}

// A status built while a flush is between taking the pending counts and committing them waits
// for the commit: it must not see the counts neither pending nor stored.
func TestSnapshotWaitsForFlush(t *testing.T) {
	ctx := context.Background()
	k, st := newKiosk(t, "h1", "k1", "", nil)
	loc, _ := k.Config().Location()
	clk := kiosktest.NewClock(time.Date(2026, 11, 26, 10, 0, 0, 0, loc))
	a := newAgent(t, k, st, offline, func(o *Options) { o.Now = clk.Now })
	wantCounters(t, a, 0, 0) // the day's purge, out of the way
	if err := a.flushCounters(ctx); err != nil {
		t.Fatal(err)
	}
	taken, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	a.cmu.Lock()
	a.flushTaken = func() { once.Do(func() { close(taken) }); <-release }
	a.cmu.Unlock()
	for range 5 {
		a.CountError()
	}
	go func() { _ = a.flushCounters(ctx) }() // whichever flush takes the counts stops in the hook
	<-taken
	got := make(chan int64, 1)
	go func() { got <- a.Snapshot(ctx).Counters.Errors }()
	select {
	case n := <-got:
		t.Fatalf("status built in the middle of a flush: errors %d", n)
	case <-time.After(200 * time.Millisecond): // what must not happen has had its chance
	}
	close(release)
	if n := <-got; n != 5 {
		t.Errorf("errors %d after the flush, want 5", n)
	}
}
