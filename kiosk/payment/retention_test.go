package payment_test

import (
	"context"
	"os"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/kiosk/payment"
)

func day(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, citycard.ChinaTime)
	if err != nil {
		panic(err)
	}
	return t
}

func statuses(t *testing.T, e *env) map[string]payment.Status {
	t.Helper()
	rows, err := e.st.DB().Query(`SELECT matter_id, status FROM payment`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]payment.Status{}
	for rows.Next() {
		var m string
		var s payment.Status
		if err := rows.Scan(&m, &s); err != nil {
			t.Fatal(err)
		}
		out[m] = s
	}
	return out
}

// Settled payments go once their day is past the retention period, counted in local dates;
// younger ones, and unsettled ones however old, stay.
func TestRetentionPurgesSettledOnly(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	payAt := func(at, matter string, amount int64) {
		t.Helper()
		e.clk.Set(day(at))
		e.term.SetCard(e.card)
		if _, err := e.pay(payment.Request{Matter: matter, AmountFen: amount}); err != nil && amount < startBalance {
			t.Fatalf("pay %s: %v", matter, err)
		}
	}
	payAt("2023-11-26 23:50", "old-paid", 100)       // the last day past three years on 2026-11-26
	payAt("2023-11-26 10:00", "old-refused", 999999) // more than the balance: closed, not charged
	payAt("2023-11-27 00:10", "kept-paid", 100)      // the first day within them
	payAt("2026-11-20 10:00", "new-paid", 100)
	// Torn at DEBIT long ago, and flagged undecided when its card did not come back.
	e.clk.Set(day("2023-01-10 10:00"))
	e.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true, After: true})
	e.term.SetCard(e.card)
	e.pay(payment.Request{Matter: "old-undecided", AmountFen: 100})
	e.clk.Add(e.j.Grace() + time.Second)
	if flagged, _, err := e.j.FlagOverdue(ctx); err != nil || len(flagged) != 1 {
		t.Fatalf("flag: %v %v", flagged, err)
	}
	before := statuses(t, e)
	if before["old-paid"] != payment.StatusPaid || before["old-refused"] != payment.StatusNotCharged ||
		before["old-undecided"] != payment.StatusUndecided || len(before) != 5 {
		t.Fatalf("journal before the purge: %v", before)
	}

	r := payment.Retention{Store: e.st}
	if n, err := r.Purge(ctx, day("2026-11-25 23:59")); err != nil || n != 0 {
		t.Fatalf("a day early: %d %v", n, err)
	}
	n, err := r.Purge(ctx, day("2026-11-26 00:00"))
	if err != nil || n != 2 {
		t.Fatalf("purge: %d %v, want 2", n, err)
	}
	after := statuses(t, e)
	for m, want := range map[string]payment.Status{"kept-paid": payment.StatusPaid, "new-paid": payment.StatusPaid, "old-undecided": payment.StatusUndecided} {
		if after[m] != want {
			t.Errorf("%s: %q, want %q kept", m, after[m], want)
		}
	}
	if _, ok := after["old-paid"]; ok || len(after) != 3 {
		t.Errorf("journal after the purge: %v", after)
	}
	// The log holding the deleted rows is truncated.
	if fi, err := os.Stat(e.st.Path() + "-wal"); err != nil || fi.Size() != 0 {
		t.Errorf("-wal after the purge: %v %v", fi, err)
	}
	// Ten years on, the undecided payment is still there.
	if n, err := r.Purge(ctx, day("2036-11-26 00:00")); err != nil || n != 2 {
		t.Errorf("ten years on: %d %v, want the 2 paid ones", n, err)
	}
	if got := statuses(t, e); len(got) != 1 || got["old-undecided"] != payment.StatusUndecided {
		t.Errorf("ten years on: %v", got)
	}
}

// A payment still open (its card may come back) is never deleted, and a shorter period counts.
func TestRetentionKeepsOpen(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	e.clk.Set(day("2026-01-05 10:00"))
	e.card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true, After: true})
	e.pay(payment.Request{Matter: "open", AmountFen: 100})
	if got := statuses(t, e); got["open"] != payment.StatusOpen {
		t.Fatalf("journal: %v", got)
	}
	if n, err := (payment.Retention{Store: e.st, Days: 400}).Purge(ctx, day("2030-01-01 00:00")); err != nil || n != 0 {
		t.Errorf("purge: %d %v, want nothing", n, err)
	}
}
