package kiosk

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"citizenhome/kiosk/config"
)

// helpAudit lists the names of the audit rows about calls for staff, oldest first.
func helpAudit(t *testing.T, r *rigT) []string {
	t.Helper()
	rows, err := r.k.store.DB().Query(`SELECT name, by_user FROM command_audit WHERE id LIKE 'help-%' ORDER BY done_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, by string
		if err := rows.Scan(&name, &by); err != nil {
			t.Fatal(err)
		}
		out = append(out, name+"/"+by)
	}
	return out
}

func helpAlerts(k *Kiosk) []Alert {
	var out []Alert
	for _, a := range k.Alerts() {
		if a.Code == AlertHelpRequested {
			out = append(out, a)
		}
	}
	return out
}

func TestHelpRequestedUntilStaffCome(t *testing.T) {
	hash, err := config.HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(c *config.Config) { c.Staff.PINHash = hash; c.Staff.Cards = []string{"04A1B2C3"} })
	var events atomic.Int32
	r.k.Subscribe(func(e Event) {
		if e.Kind == EventAlert {
			events.Add(1)
		}
	})
	if got := helpAlerts(r.k); len(got) != 0 {
		t.Fatalf("alerts before any call: %+v", got)
	}
	first := r.k.RequestHelp(context.Background())
	r.clock.Set(r.clock.Now().Add(30 * time.Second))
	if again := r.k.RequestHelp(context.Background()); !again.Equal(first) {
		t.Errorf("a second tap while pending gave a new call at %v (first %v)", again, first)
	}
	got := helpAlerts(r.k)
	if len(got) != 1 || got[0].Device != DeviceKiosk || !got[0].Warning || !got[0].Since.Equal(first) {
		t.Fatalf("alerts while pending: %+v", got)
	}
	if n := events.Load(); n != 1 {
		t.Errorf("%d alert events for one call, want 1", n)
	}
	if _, err := r.k.StaffLogin().PIN("000000"); err == nil {
		t.Fatal("wrong PIN accepted")
	}
	if len(helpAlerts(r.k)) != 1 {
		t.Fatal("a wrong PIN ended the call")
	}
	r.clock.Set(r.clock.Now().Add(time.Second))
	if _, err := r.k.StaffLogin().PIN("246810"); err != nil {
		t.Fatal(err)
	}
	if got := helpAlerts(r.k); len(got) != 0 {
		t.Fatalf("alerts after staff came: %+v", got)
	}
	if n := events.Load(); n != 2 {
		t.Errorf("%d alert events after the answer, want 2", n)
	}
	// A new call after the answer is a new alert, ended by a staff card as well.
	r.clock.Set(r.clock.Now().Add(time.Second)) // audit rows in time order
	r.k.RequestHelp(context.Background())
	if len(helpAlerts(r.k)) != 1 {
		t.Fatal("second call not raised")
	}
	r.clock.Set(r.clock.Now().Add(time.Second))
	if _, err := r.k.StaffLogin().Card("04a1b2c3", "246810"); err != nil {
		t.Fatal(err)
	}
	if len(helpAlerts(r.k)) != 0 {
		t.Fatal("staff card did not end the call")
	}
	want := []string{"help-requested/citizen", "help-answered/staff-pin", "help-requested/citizen", "help-answered/staff-card"}
	if got := helpAudit(t, r); !slices.Equal(got, want) {
		t.Errorf("audit %v, want %v", got, want)
	}
}

func TestHelpRequestedExpires(t *testing.T) {
	r := newRig(t, func(c *config.Config) { c.Kiosk.HelpTimeout = config.Duration{Duration: 10 * time.Minute} })
	r.k.RequestHelp(context.Background())
	r.clock.Set(r.clock.Now().Add(9 * time.Minute))
	if _, ok := r.k.HelpPending(); !ok {
		t.Fatal("call ended before its timeout")
	}
	r.clock.Set(r.clock.Now().Add(time.Minute))
	if _, ok := r.k.HelpPending(); ok || len(helpAlerts(r.k)) != 0 {
		t.Fatal("call still raised after its timeout")
	}
	deadline := time.Now().Add(5 * time.Second)
	want := []string{"help-requested/citizen", "help-expired/timeout"}
	for !slices.Equal(helpAudit(t, r), want) {
		if time.Now().After(deadline) {
			t.Fatalf("audit %v, want %v", helpAudit(t, r), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The timer ends an unanswered call by itself and tells subscribers, so that the hall's alert is
// cleared without anyone asking the kiosk.
func TestHelpTimerEndsTheCall(t *testing.T) {
	r := newRig(t, func(c *config.Config) { c.Kiosk.HelpTimeout = config.Duration{Duration: 50 * time.Millisecond} })
	ended := make(chan struct{}, 4)
	r.k.Subscribe(func(e Event) {
		if e.Kind == EventAlert {
			ended <- struct{}{}
		}
	})
	r.k.RequestHelp(context.Background())
	<-ended // the raise
	r.clock.Set(r.clock.Now().Add(time.Second))
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("no alert event when the call's time was up")
	}
	r.k.mu.Lock()
	pending := !r.k.help.since.IsZero()
	r.k.mu.Unlock()
	if pending {
		t.Error("the timer fired but the call is still raised")
	}
}
