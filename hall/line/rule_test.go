package line

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// calls runs n Next+Done at window and returns whether each call was a priority ticket.
func calls(t *testing.T, l *Line, window string, n int) (kinds []bool, codes []string) {
	t.Helper()
	for range n {
		got, err := l.Next(ctx, window, "s")
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, got.Priority)
		codes = append(codes, got.Code)
		if _, err := l.Done(ctx, window, "s"); err != nil {
			t.Fatal(err)
		}
	}
	return kinds, codes
}

func TestPriorityFirst(t *testing.T) {
	l, _ := newLine(t)
	issue(t, l, "A", false)
	issue(t, l, "A", false)
	issue(t, l, "A", true)
	_, codes := calls(t, l, "1", 3)
	if want := []string{"A003", "A001", "A002"}; !slices.Equal(codes, want) {
		t.Errorf("order %v, want %v", codes, want)
	}
}

// TestPriorityShare: a steady stream of priority tickets takes at most its share of the calls
// while normal tickets wait, whatever the share configured.
func TestPriorityShare(t *testing.T) {
	for _, share := range []float64{0.3, 0.5, 0.8} {
		t.Run(fmt.Sprint(share), func(t *testing.T) {
			l, _ := newLine(t, func(c *Config) { c.Rules.PriorityShare = share })
			for range 20 {
				issue(t, l, "A", false)
			}
			for range 20 {
				issue(t, l, "A", true)
			}
			kinds, _ := calls(t, l, "1", 20)
			// In every run of 10 calls, priority tickets take the share, give or take one.
			for i := 0; i+10 <= len(kinds); i++ {
				p := 0
				for _, k := range kinds[i : i+10] {
					if k {
						p++
					}
				}
				if lo, hi := share*10-1, share*10+1; float64(p) < lo || float64(p) > hi {
					t.Errorf("calls %d..%d: %d priority, want %.0f±1: %v", i, i+9, p, share*10, kinds)
				}
			}
		})
	}
}

// TestNormalNotStarved: one normal ticket behind many priority ones is called second.
func TestNormalNotStarved(t *testing.T) {
	l, _ := newLine(t)
	for range 8 {
		issue(t, l, "A", true)
	}
	n := issue(t, l, "A", false)
	if pos, _ := l.Position(ctx, n.Code); pos.Ahead != 1 {
		t.Errorf("normal ticket promised %d ahead, want 1", pos.Ahead)
	}
	// The next normal ticket would be promised what the rule gives it: two ahead (a priority
	// ticket, then the normal one), at 6 minutes over two windows.
	if snap, err := l.Snapshot(ctx); err != nil || snap.Categories[0].ETANext != 6*time.Minute {
		t.Errorf("eta of the next ticket %+v %v", snap.Categories[0], err)
	}
	_, codes := calls(t, l, "1", 3)
	if codes[1] != n.Code {
		t.Errorf("order %v: %s not second", codes, n.Code)
	}
	// With no normal ticket waiting the share does not hold priority tickets back.
	kinds, _ := calls(t, l, "1", 5)
	if slices.Contains(kinds, false) {
		t.Errorf("kinds %v", kinds)
	}
}

func TestLongestWaitFirst(t *testing.T) {
	l, c := newLine(t, func(cfg *Config) { cfg.Rules.LongestWait = 20 * time.Minute })
	issue(t, l, "A", false)
	c.Add(time.Minute)
	b := issue(t, l, "B", false) // at window 2, the oldest over the limit across its categories
	c.Add(time.Minute)
	for range 3 {
		issue(t, l, "A", true)
	}
	c.Add(10 * time.Minute)
	// Under the limit: priority first.
	if got, _ := l.Next(ctx, "1", "s"); !got.Priority {
		t.Fatalf("under the limit called %+v", got)
	}
	if _, err := l.Done(ctx, "1", "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Next(ctx, "1", "s"); err != nil { // the share lets the normal one through
		t.Fatal(err)
	}
	if _, err := l.Done(ctx, "1", "s"); err != nil {
		t.Fatal(err)
	}
	// Now only priority tickets and B wait at window 2; over the limit B001 goes first there,
	// though the share (empty history at 2) would give priority the call.
	c.Add(10 * time.Minute)
	got, err := l.Next(ctx, "2", "s")
	if err != nil || got.Code != b.Code {
		t.Errorf("over the limit called %+v %v, want %s", got, err, b.Code)
	}
}

func TestLongestWaitOverridesPriority(t *testing.T) {
	l, c := newLine(t)
	n := issue(t, l, "A", false)
	c.Add(time.Minute)
	issue(t, l, "A", true)
	issue(t, l, "A", true)
	c.Add(DefaultLongestWait)
	if pos, _ := l.Position(ctx, n.Code); pos.Ahead != 0 {
		t.Errorf("long waiter promised %d ahead", pos.Ahead)
	}
	got, err := l.Next(ctx, "1", "s")
	if err != nil || got.Code != n.Code {
		t.Errorf("called %+v %v, want %s", got, err, n.Code)
	}
}

// TestTransferOrder: a transferred ticket waits in its new category by its first issue time.
func TestTransferOrder(t *testing.T) {
	l, c := newLine(t)
	c1 := issue(t, l, "C", false)
	c.Add(time.Second)
	a1 := issue(t, l, "A", false)
	c.Add(time.Second)
	c2 := issue(t, l, "C", false)
	c.Add(time.Second)
	if got, _ := l.Next(ctx, "1", "s"); got.Code != a1.Code {
		t.Fatalf("called %s", got.Code)
	}
	c.Add(3 * time.Minute)
	if _, err := l.Transfer(ctx, "1", "s", "C"); err != nil {
		t.Fatal(err)
	}
	c3 := issue(t, l, "C", false)
	if pos, _ := l.Position(ctx, a1.Code); pos.Ahead != 1 {
		t.Errorf("transferred ticket %d ahead, want 1", pos.Ahead)
	}
	_, codes := calls(t, l, "4", 4)
	if want := []string{c1.Code, a1.Code, c2.Code, c3.Code}; !slices.Equal(codes, want) {
		t.Errorf("order in C %v, want %v", codes, want)
	}
	if tk, _ := l.Ticket(ctx, a1.Code); tk.Category != "C" || tk.Code != a1.Code {
		t.Errorf("transferred ticket %+v", tk)
	}
}

// TestPickUnit checks the rule on its own, including edge shares.
func TestPickUnit(t *testing.T) {
	now := local("2026-12-07 10:00:00")
	r := Rules{PriorityShare: 0.5, LongestWait: time.Hour}
	at := func(m int) int64 { return now.Add(-time.Duration(m) * time.Minute).UnixNano() }
	c := []cand{{1, false, at(30)}, {2, true, at(20)}, {3, false, at(10)}}
	if i := pick(c, nil, now, r); i != 1 {
		t.Errorf("empty history: %d", i)
	}
	if i := pick(c, []bool{true, false}, now, r); i != 0 {
		t.Errorf("share reached: %d", i)
	}
	if i := pick(c, []bool{true, false, false}, now, r); i != 1 {
		t.Errorf("share under: %d", i)
	}
	c[0].queueAt = at(61)
	if i := pick(c, nil, now, r); i != 0 {
		t.Errorf("longest wait: %d", i)
	}
	if i := pick(nil, nil, now, r); i != -1 {
		t.Errorf("empty: %d", i)
	}
	if n := ahead(c, 99, nil, now, r); n != 3 {
		t.Errorf("ahead of a stranger %d", n)
	}
}
