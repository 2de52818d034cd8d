package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"citizenhome/kiosk/kiosktest"
	"citizenhome/kiosk/store"
)

const (
	take1 = "0123456789abcdef0123456789abcdef"
	take2 = "fedcba9876543210fedcba9876543210"
	take3 = "00000000000000000000000000000003"
)

func given(take, day string, n int, lookup string) Given {
	return Given{Take: take, Day: day, Number: n, Lookup: lookup, Ahead: 4, Wait: 3 * time.Minute}
}

func TestIssueGiven(t *testing.T) {
	ctx := context.Background()
	clock := kiosktest.NewClock(local("2026-12-07 09:00:00"))
	q, _ := newQueue(t, clock)
	tk, err := q.IssueGiven(ctx, Request{Category: "A", MatterID: "crj-004", Priority: true, PriorityReason: ReasonUrgent},
		given(take1, "2026-12-07", 12, "7K3M9Q2D1C"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Code != "A012" || tk.Source != SourceGiven || tk.TakeID != take1 || tk.LookupCode != "7K3M9Q2D1C" ||
		tk.WaitingAhead != 4 || tk.EstimatedWait != 3*time.Minute || tk.Print != Pending || tk.PriorityReason != ReasonUrgent {
		t.Fatalf("IssueGiven = %+v", tk)
	}
	back, err := q.ByID(ctx, tk.ID)
	if err != nil || back != tk {
		t.Fatalf("ByID = %+v, %v; issued %+v", back, err, tk)
	}
	if l, err := q.ByLookup(ctx, "7k3m9q2d1c"); err != nil || l.ID != tk.ID {
		t.Errorf("ByLookup(halld's code) = %+v, %v", l, err)
	}
	// The same take, number or lookup code again is refused, and writes nothing.
	for _, g := range []Given{
		given(take1, "2026-12-07", 13, "7K3M9Q2D1D"),
		given(take2, "2026-12-07", 12, "7K3M9Q2D1D"),
		given(take2, "2026-12-07", 13, "7K3M9Q2D1C"),
	} {
		_, err := q.IssueGiven(ctx, Request{Category: "A"}, g, nil)
		wantCode(t, err, CodeTaken)
	}
	// Malformed numbers from outside are refused before anything is written.
	for _, g := range []Given{
		given("ABC", "2026-12-07", 13, "7K3M9Q2D1D"),
		given(take2, "2026-12-7", 13, "7K3M9Q2D1D"),
		given(take2, "2026-12-07", 0, "7K3M9Q2D1D"),
		given(take2, "2026-12-07", MaxNumber+1, "7K3M9Q2D1D"),
		given(take2, "2026-12-07", 13, "7K3M9Q2D1I"),
		{Take: take2, Day: "2026-12-07", Number: 13, Lookup: "7K3M9Q2D1D", Ahead: -1},
	} {
		_, err := q.IssueGiven(ctx, Request{Category: "A"}, g, nil)
		wantCode(t, err, CodeInvalid)
	}
	_, err = q.IssueGiven(ctx, Request{Category: "Q"}, given(take2, "2026-12-07", 13, "7K3M9Q2D1D"), nil)
	wantCode(t, err, CodeUnknownCategory)
	if c, _ := q.CountToday(ctx); c.Issued != 1 {
		t.Errorf("refusals wrote tickets: %+v", c)
	}
	// also's error rolls the number back.
	boom := errors.New("boom")
	if _, err := q.IssueGiven(ctx, Request{Category: "A"}, given(take2, "2026-12-07", 13, "7K3M9Q2D1D"),
		func(*sql.Tx, Ticket) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("also's error: %v", err)
	}
	if tk, err := q.IssueGiven(ctx, Request{Category: "A"}, given(take2, "2026-12-07", 13, "7K3M9Q2D1D"), nil); err != nil || tk.Code != "A013" {
		t.Fatalf("after the rollback: %+v %v", tk, err)
	}
}

func TestIssueLeased(t *testing.T) {
	ctx := context.Background()
	clock := kiosktest.NewClock(local("2026-12-07 09:00:00"))
	q, _ := newQueue(t, clock)
	_, err := q.IssueLeased(ctx, Request{Category: "A"}, nil, nil)
	wantCode(t, err, CodeNoLease)
	n, err := q.MergeLease(ctx, map[string]map[string][]int{
		"2026-12-07": {"A": {998, 999, 997}, "B": {999}},
		"2026-12-08": {"A": {999}},
	})
	if err != nil || n != 5 {
		t.Fatalf("MergeLease = %d, %v", n, err)
	}
	if left, _ := q.LeaseLeft(ctx, "2026-12-07", "A"); left != 3 {
		t.Errorf("LeaseLeft = %d", left)
	}
	// Highest unused first; each used once; the lookup code drawn here; the local figures.
	var codes []string
	for range 3 {
		tk, err := q.IssueLeased(ctx, Request{Category: "A"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Source != SourceLease || tk.TakeID != "" || len(tk.LookupCode) != lookupLen {
			t.Errorf("lease ticket %+v", tk)
		}
		codes = append(codes, tk.Code)
	}
	if fmt.Sprint(codes) != "[A999 A998 A997]" {
		t.Errorf("lease order %v", codes)
	}
	_, err = q.IssueLeased(ctx, Request{Category: "A"}, nil, nil)
	wantCode(t, err, CodeNoLease)
	if left, _ := q.LeaseLeft(ctx, "2026-12-07", "A"); left != 0 {
		t.Errorf("LeaseLeft after use = %d", left)
	}
	// The hall's figures, when given, are what is printed.
	tk, err := q.IssueLeased(ctx, Request{Category: "B"}, &Position{Ahead: 7, Wait: 5 * time.Minute}, nil)
	if err != nil || tk.Code != "B999" || tk.WaitingAhead != 7 || tk.EstimatedWait != 5*time.Minute {
		t.Fatalf("B lease %+v %v", tk, err)
	}
	// A merge of a lease that still lists used numbers (halld has not heard of them yet) does
	// not make them unused.
	if n, err := q.MergeLease(ctx, map[string]map[string][]int{"2026-12-07": {"A": {999, 998, 997, 996}}}); err != nil || n != 1 {
		t.Fatalf("second merge = %d, %v", n, err)
	}
	if tk, err := q.IssueLeased(ctx, Request{Category: "A"}, nil, nil); err != nil || tk.Code != "A996" {
		t.Fatalf("after the second merge: %+v %v", tk, err)
	}
	// also's error rolls back the ticket and the number's use.
	if _, err := q.MergeLease(ctx, map[string]map[string][]int{"2026-12-07": {"C": {500}}}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if _, err := q.IssueLeased(ctx, Request{Category: "C"}, nil, func(*sql.Tx, Ticket) error { return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if left, _ := q.LeaseLeft(ctx, "2026-12-07", "C"); left != 1 {
		t.Errorf("a rolled back lease ticket used its number: %d left", left)
	}
	// Tomorrow's lease serves after midnight.
	clock.Set(local("2026-12-08 00:00:01"))
	if tk, err := q.IssueLeased(ctx, Request{Category: "A"}, nil, nil); err != nil || tk.Code != "A999" || tk.Day != "2026-12-08" {
		t.Fatalf("tomorrow's lease: %+v %v", tk, err)
	}
	for _, bad := range []map[string]map[string][]int{
		{"2026-12-7": {"A": {1}}}, {"2026-12-07": {"a": {1}}}, {"2026-12-07": {"A": {0}}}, {"2026-12-07": {"A": {MaxNumber + 1}}},
	} {
		_, err := q.MergeLease(ctx, bad)
		wantCode(t, err, CodeInvalid)
	}
}

// The counter's last follows the highest number held, so a kiosk switched back to local
// numbering the same day never repeats a code it printed.
func TestLocalAfterHallNumbers(t *testing.T) {
	ctx := context.Background()
	clock := kiosktest.NewClock(local("2026-12-07 09:00:00"))
	q, _ := newQueue(t, clock)
	if _, err := q.IssueGiven(ctx, Request{Category: "A"}, given(take1, "2026-12-07", 5, "7K3M9Q2D1C"), nil); err != nil {
		t.Fatal(err)
	}
	if tk := issue(t, q, Request{Category: "A"}); tk.Code != "A006" || tk.Source != SourceLocal {
		t.Errorf("local after given: %+v", tk)
	}
	// A leased number this kiosk already holds (it numbered locally before) is skipped.
	if _, err := q.MergeLease(ctx, map[string]map[string][]int{"2026-12-07": {"A": {6, 7}}}); err != nil {
		t.Fatal(err)
	}
	if tk, err := q.IssueLeased(ctx, Request{Category: "A"}, nil, nil); err != nil || tk.Code != "A007" {
		t.Fatalf("lease: %+v %v", tk, err)
	}
	_, err := q.IssueLeased(ctx, Request{Category: "A"}, nil, nil)
	wantCode(t, err, CodeNoLease)
}

func TestAbandoned(t *testing.T) {
	ctx := context.Background()
	clock := kiosktest.NewClock(local("2026-12-07 09:00:00"))
	q, st := newQueue(t, clock)
	wantCode(t, q.Abandon(ctx, "nope"), CodeInvalid)
	for _, id := range []string{take1, take2, take1} {
		clock.Add(time.Second)
		if err := q.Abandon(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if ids, err := q.Abandoned(ctx); err != nil || fmt.Sprint(ids) != fmt.Sprint([]string{take1, take2}) {
		t.Fatalf("Abandoned = %v, %v", ids, err)
	}
	// Read inside a transaction that rolls back: still there.
	boom := errors.New("boom")
	err := st.Tx(ctx, func(tx *sql.Tx) error {
		ids, err := TakeAbandoned(ctx, tx, "")
		if err != nil || len(ids) != 2 {
			t.Errorf("TakeAbandoned = %v, %v", ids, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if ids, _ := q.Abandoned(ctx); len(ids) != 2 {
		t.Fatalf("a rolled back read forgot the takes: %v", ids)
	}
	// A given ticket whose own take was (wrongly) recorded: it is deleted, not reported.
	var named []string
	_, err = q.IssueGiven(ctx, Request{Category: "A"}, given(take2, "2026-12-07", 1, "7K3M9Q2D1C"), func(tx *sql.Tx, tk Ticket) error {
		var err error
		named, err = TakeAbandoned(ctx, tx, tk.TakeID)
		return err
	})
	if err != nil || fmt.Sprint(named) != fmt.Sprint([]string{take1}) {
		t.Fatalf("named %v, %v", named, err)
	}
	if ids, _ := q.Abandoned(ctx); len(ids) != 0 {
		t.Fatalf("committed, yet kept: %v", ids)
	}
}

// Lease numbers, their use and abandoned takes survive a restart (a new Queue on the store
// reopened), and many goroutines issuing from one lease never share a number.
func TestLeaseRestartAndConcurrency(t *testing.T) {
	ctx := context.Background()
	clock := kiosktest.NewClock(local("2026-12-07 09:00:00"))
	path := filepath.Join(t.TempDir(), "kiosk.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	q, err := New(st, testCats, nil, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	lease := make([]int, 0, 40)
	for n := 999; n > 959; n-- {
		lease = append(lease, n)
	}
	if _, err := q.MergeLease(ctx, map[string]map[string][]int{"2026-12-07": {"A": lease}}); err != nil {
		t.Fatal(err)
	}
	first, err := q.IssueLeased(ctx, Request{Category: "A"}, nil, nil)
	if err != nil || first.Code != "A999" {
		t.Fatal(first, err)
	}
	if err := q.Abandon(ctx, take3); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q, err = New(st, testCats, nil, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := q.LeaseLeft(ctx, "2026-12-07", "A"); left != 39 {
		t.Fatalf("after restart %d left", left)
	}
	if ids, _ := q.Abandoned(ctx); len(ids) != 1 || ids[0] != take3 {
		t.Fatalf("abandoned after restart: %v", ids)
	}
	var (
		mu    sync.Mutex
		seen  = map[string]bool{first.Code: true}
		wg    sync.WaitGroup
		empty int
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 6 {
				tk, err := q.IssueLeased(ctx, Request{Category: "A"}, nil, nil)
				mu.Lock()
				switch {
				case errors.Is(err, ErrNoLease):
					empty++
				case err != nil:
					t.Error(err)
				case seen[tk.Code]:
					t.Errorf("%s issued twice", tk.Code)
				default:
					seen[tk.Code] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 40 || empty != 8*6-39 {
		t.Errorf("%d codes issued, %d refusals", len(seen), empty)
	}
}
