package queue

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"citizenhome/kiosk/store"

	"citizenhome/kiosk/kiosktest"
)

var shanghai = DefaultLocation()

func local(s string) time.Time {
	t, err := time.ParseInLocation(time.DateTime, s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

var testCats = []Category{
	{Letter: "A", AvgService: 6 * time.Minute, Counters: 4},
	{Letter: "B", AvgService: 8 * time.Minute, Counters: 3},
	{Letter: "C"}, // no fallback time, no counters configured
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newQueue(t testing.TB, c *kiosktest.Clock) (*Queue, *store.Store) {
	t.Helper()
	st := openStore(t)
	q, err := New(st, testCats, nil, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	return q, st
}

func issue(t testing.TB, q *Queue, r Request) Ticket {
	t.Helper()
	tk, err := q.Issue(context.Background(), r)
	if err != nil {
		t.Fatalf("Issue(%+v): %v", r, err)
	}
	return tk
}

func wantCode(t *testing.T, err error, c Code) {
	t.Helper()
	var qe *Error
	if !errors.As(err, &qe) || qe.Code != c || !errors.Is(err, &Error{Code: c}) {
		t.Fatalf("err = %v, want code %s", err, c)
	}
}

func TestDefaultLocationIsUTC8(t *testing.T) {
	for _, s := range []string{"2026-01-15 12:00:00", "2026-07-15 12:00:00"} { // no DST either way
		if _, off := local(s).Zone(); off != 8*3600 {
			t.Errorf("offset at %s = %d", s, off)
		}
	}
}

func TestNumberingPerCategory(t *testing.T) {
	c := kiosktest.NewClock(local("2026-11-26 09:00:00"))
	q, _ := newQueue(t, c)
	var got []string
	var ids []int64
	lookups := map[string]bool{}
	for _, cat := range []string{"A", "A", "B", "A", "C", "B"} {
		tk := issue(t, q, Request{Category: cat, MatterID: "11310000000000-1", Section: "社保医保"})
		got = append(got, tk.Code)
		ids = append(ids, tk.ID)
		if tk.Day != "2026-11-26" || tk.Print != Pending || !tk.IssuedAt.Equal(c.Now()) || tk.Priority {
			t.Errorf("ticket %+v", tk)
		}
		if tk.IssuedAt.Location() != q.loc {
			t.Errorf("IssuedAt in %v", tk.IssuedAt.Location())
		}
		if len(tk.LookupCode) != lookupLen || lookups[tk.LookupCode] {
			t.Errorf("lookup code %q short or repeated", tk.LookupCode)
		}
		lookups[tk.LookupCode] = true
		c.Add(time.Minute)
	}
	want := []string{"A001", "A002", "B001", "A003", "C001", "B002"}
	if !slices.Equal(got, want) {
		t.Fatalf("codes %v, want %v", got, want)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("ids not increasing: %v", ids)
	}
}

// The day is the local date: numbering restarts at midnight in Shanghai (16:00 UTC, while the
// UTC date has not changed) and not at midnight UTC (08:00 in Shanghai).
func TestDayRollover(t *testing.T) {
	c := kiosktest.NewClock(time.Time{})
	q, _ := newQueue(t, c)
	ctx := context.Background()
	steps := []struct {
		at       time.Time
		cat      string
		wantDay  string
		wantCode string
	}{
		{local("2026-11-26 07:59:59"), "A", "2026-11-26", "A001"}, // UTC still the 25th
		{local("2026-11-26 08:00:00"), "A", "2026-11-26", "A002"}, // UTC midnight: no rollover
		{local("2026-11-26 23:59:59"), "A", "2026-11-26", "A003"},
		{local("2026-11-26 23:59:59").Add(999 * time.Millisecond), "B", "2026-11-26", "B001"},
		{local("2026-11-27 00:00:00"), "A", "2026-11-27", "A001"}, // UTC: 2026-11-26 16:00
		{local("2026-11-27 00:00:00"), "B", "2026-11-27", "B001"},
		{local("2026-11-27 00:00:01"), "A", "2026-11-27", "A002"},
	}
	for _, s := range steps {
		c.Set(s.at.UTC()) // the clock's zone must not matter
		tk := issue(t, q, Request{Category: s.cat})
		if tk.Day != s.wantDay || tk.Code != s.wantCode {
			t.Errorf("at %s (UTC %s): %s %s, want %s %s", s.at, s.at.UTC(), tk.Day, tk.Code, s.wantDay, s.wantCode)
		}
		if q.Today() != s.wantDay {
			t.Errorf("Today() = %s", q.Today())
		}
	}
	// Yesterday's waiting tickets do not count today, and both days stay addressable.
	if n, p, err := q.Waiting(ctx, "A"); err != nil || n != 2 || p != 0 {
		t.Errorf("Waiting(A) = %d, %d, %v; want 2, 0", n, p, err)
	}
	for _, d := range []struct{ day, code string }{{"2026-11-26", "A003"}, {"2026-11-27", "A002"}} {
		if tk, err := q.ByCode(ctx, d.day, d.code); err != nil || tk.Day != d.day {
			t.Errorf("ByCode(%s, %s) = %+v, %v", d.day, d.code, tk, err)
		}
	}

	// Another zone for the same instants moves the boundary with it.
	q2, err := New(openStore(t), testCats, time.UTC, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	c.Set(local("2026-11-27 07:59:59"))
	if tk := issue(t, q2, Request{Category: "A"}); tk.Day != "2026-11-26" {
		t.Errorf("UTC queue: day %s", tk.Day)
	}
}

func TestPriority(t *testing.T) {
	c := kiosktest.NewClock(local("2026-11-26 09:00:00"))
	q, _ := newQueue(t, c)
	ctx := context.Background()
	elder := Request{Category: "A", Priority: true, PriorityReason: ReasonElder}
	seq := []struct {
		req       Request
		code      string
		ahead     int
		estimated time.Duration // fallback: 6 min / 4 counters = 90 s per ticket ahead
	}{
		{Request{Category: "A"}, "A001", 0, 0},
		{Request{Category: "A"}, "A002", 1, 90 * time.Second},
		{Request{Category: "A"}, "A003", 2, 180 * time.Second},
		{elder, "A004", 0, 0}, // normal tickets ahead do not count for the green channel
		{Request{Category: "A", Priority: true, PriorityReason: ReasonAppointment}, "A005", 1, 90 * time.Second},
		{Request{Category: "A"}, "A006", 5, 450 * time.Second}, // priority tickets are served first
		{Request{Category: "B", Priority: true, PriorityReason: ReasonCategory}, "B001", 0, 0},
	}
	var tickets []Ticket
	for _, s := range seq {
		tk := issue(t, q, s.req)
		if tk.Code != s.code || tk.WaitingAhead != s.ahead || tk.EstimatedWait != s.estimated ||
			tk.Priority != s.req.Priority || tk.PriorityReason != s.req.PriorityReason {
			t.Errorf("issued %s ahead %d est %v prio %v %q; want %s %d %v", tk.Code, tk.WaitingAhead,
				tk.EstimatedWait, tk.Priority, tk.PriorityReason, s.code, s.ahead, s.estimated)
		}
		tickets = append(tickets, tk)
	}
	if n, p, err := q.Waiting(ctx, "A"); err != nil || n != 4 || p != 2 {
		t.Fatalf("Waiting(A) = %d, %d, %v; want 4, 2", n, p, err)
	}
	if err := q.Call(ctx, "A004", "7"); err != nil {
		t.Fatal(err)
	}
	if n, p, _ := q.Waiting(ctx, "A"); n != 4 || p != 1 {
		t.Errorf("after calling A004: %d, %d; want 4, 1", n, p)
	}
	for _, w := range []struct {
		tk    Ticket
		ahead int
	}{{tickets[4], 0}, {tickets[0], 1}, {tickets[1], 2}, {tickets[5], 4}} {
		n, _, err := q.Ahead(ctx, w.tk.ID)
		if err != nil || n != w.ahead {
			t.Errorf("Ahead(%s) = %d, %v; want %d", w.tk.Code, n, err, w.ahead)
		}
	}
	_, _, err := q.Ahead(ctx, tickets[3].ID)
	wantCode(t, err, CodeAlreadyCalled)

	bad := []Request{
		{Category: "A", Priority: true},
		{Category: "A", Priority: true, PriorityReason: "vip"},
		{Category: "A", PriorityReason: ReasonElder},
		{Category: "A", MatterID: string(bytes.Repeat([]byte("x"), maxField+1))},
		{Category: "A", Section: "\xff\xfe"},
		{Category: "A", Section: "a\nb"},
	}
	for _, r := range bad {
		_, err := q.Issue(ctx, r)
		wantCode(t, err, CodeInvalid)
	}
	if tk := issue(t, q, Request{Category: "A"}); tk.Code != "A007" {
		t.Errorf("a refused request used a number: next is %s", tk.Code)
	}
}

func TestUnknownCategory(t *testing.T) {
	q, st := newQueue(t, kiosktest.NewClock(local("2026-11-26 09:00:00")))
	ctx := context.Background()
	for _, cat := range []string{"Z", "a", "", "AA", "甲"} {
		_, err := q.Issue(ctx, Request{Category: cat})
		wantCode(t, err, CodeUnknownCategory)
		if !errors.Is(err, ErrUnknownCategory) || errors.Is(err, ErrInvalid) {
			t.Errorf("errors.Is mismatch for %v", err)
		}
		_, _, err = q.Waiting(ctx, cat)
		wantCode(t, err, CodeUnknownCategory)
		_, err = q.Estimate(ctx, cat, 1)
		wantCode(t, err, CodeUnknownCategory)
	}
	var n int
	st.DB().QueryRow(`SELECT count(*) FROM queue_counter`).Scan(&n)
	if n != 0 {
		t.Errorf("%d counters created by refused requests", n)
	}
}

func TestNewValidation(t *testing.T) {
	st := openStore(t)
	cases := map[string]struct {
		st   *store.Store
		cats []Category
	}{
		"no store":      {nil, testCats},
		"no categories": {st, nil},
		"lowercase":     {st, []Category{{Letter: "a"}}},
		"two letters":   {st, []Category{{Letter: "AB"}}},
		"duplicate":     {st, []Category{{Letter: "A"}, {Letter: "A"}}},
		"negative time": {st, []Category{{Letter: "A", AvgService: -time.Second}}},
		"negative ctrs": {st, []Category{{Letter: "A", Counters: -1}}},
	}
	for name, c := range cases {
		if _, err := New(c.st, c.cats, nil, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
	if _, err := New(st, testCats, nil, nil); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentIssue(t *testing.T) {
	c := kiosktest.NewClock(local("2026-11-26 10:00:00"))
	q, st := newQueue(t, c)
	const workers, each = 50, 4
	start := make(chan struct{})
	var wg sync.WaitGroup
	results := make(chan Ticket, workers*each)
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			<-start
			for i := range each {
				r := Request{Category: []string{"A", "B"}[(w+i)%2]}
				if w%5 == 0 {
					r.Priority, r.PriorityReason = true, ReasonElder
				}
				tk, err := q.Issue(context.Background(), r)
				if err != nil {
					errs <- err
					return
				}
				results <- tk
			}
		})
	}
	close(start)
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	nums := map[string][]int{}
	ids, lookups := map[int64]bool{}, map[string]bool{}
	for tk := range results {
		nums[tk.Category] = append(nums[tk.Category], tk.Number)
		if ids[tk.ID] || lookups[tk.LookupCode] {
			t.Errorf("duplicate id or lookup code: %+v", tk)
		}
		ids[tk.ID], lookups[tk.LookupCode] = true, true
	}
	if len(ids) != workers*each {
		t.Fatalf("%d tickets, want %d", len(ids), workers*each)
	}
	for cat, ns := range nums {
		slices.Sort(ns)
		for i, n := range ns {
			if n != i+1 {
				t.Fatalf("category %s numbers %v: duplicate or gap at position %d", cat, ns, i)
			}
		}
		var last int
		st.DB().QueryRow(`SELECT last FROM queue_counter WHERE category = ?`, cat).Scan(&last)
		if last != len(ns) {
			t.Errorf("counter %s = %d, want %d", cat, last, len(ns))
		}
	}
}

func TestPrintStates(t *testing.T) {
	c := kiosktest.NewClock(local("2026-11-26 09:00:00"))
	q, _ := newQueue(t, c)
	ctx := context.Background()
	state := func(id int64) (PrintState, string) {
		tk, err := q.ByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return tk.Print, tk.PrintError
	}
	a := issue(t, q, Request{Category: "A"})
	if s, _ := state(a.ID); s != Pending {
		t.Fatalf("new ticket %s", s)
	}
	steps := []struct {
		do        func() error
		want      PrintState
		wantError string
	}{
		{func() error { return q.MarkPrinted(ctx, a.ID) }, Printed, ""},
		{func() error { return q.MarkPrinted(ctx, a.ID) }, Printed, ""},
		{func() error { return q.MarkReprint(ctx, a.ID, " paper out ") }, Reprint, "paper out"},
		{func() error { return q.MarkReprint(ctx, a.ID, "") }, Reprint, "reprint requested"},
		{func() error { return q.MarkPrinted(ctx, a.ID) }, Printed, ""},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got, e := state(a.ID); got != s.want || e != s.wantError {
			t.Fatalf("step %d: %s %q, want %s %q", i, got, e, s.want, s.wantError)
		}
	}
	wantCode(t, q.MarkPrinted(ctx, 9999), CodeNotFound)
	wantCode(t, q.MarkReprint(ctx, 9999, "x"), CodeNotFound)
	wantCode(t, q.MarkReprint(ctx, a.ID, "bad\x00reason"), CodeInvalid)

	// Recover: pending tickets of any day become reprints; Reprints lists today's only.
	old := issue(t, q, Request{Category: "B"}) // pending, then the day ends
	c.Set(local("2026-11-27 08:30:00"))
	b := issue(t, q, Request{Category: "A"})
	d := issue(t, q, Request{Category: "A"})
	e := issue(t, q, Request{Category: "B"})
	if err := q.MarkPrinted(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	n, err := q.Recover(ctx)
	if err != nil || n != 3 {
		t.Fatalf("Recover = %d, %v; want 3", n, err)
	}
	for _, id := range []int64{old.ID, b.ID, e.ID} {
		if s, reason := state(id); s != Reprint || reason != RecoverReason {
			t.Errorf("ticket %d: %s %q after Recover", id, s, reason)
		}
	}
	if s, _ := state(d.ID); s != Printed {
		t.Errorf("printed ticket became %s", s)
	}
	if n, _ := q.Recover(ctx); n != 0 {
		t.Errorf("second Recover = %d", n)
	}
	rs, err := q.Reprints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range rs {
		codes = append(codes, r.Code)
	}
	if !slices.Equal(codes, []string{"A001", "B001"}) || rs[0].ID != b.ID {
		t.Errorf("Reprints = %v, want [A001 B001] of today", codes)
	}
}

func TestLookups(t *testing.T) {
	c := kiosktest.NewClock(local("2026-11-26 09:00:00"))
	q, _ := newQueue(t, c)
	ctx := context.Background()
	if _, err := q.Last(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Last on empty day: %v", err)
	}
	a := issue(t, q, Request{Category: "A", MatterID: "m1", Section: "民政"})
	b := issue(t, q, Request{Category: "B", Priority: true, PriorityReason: ReasonElder})
	same := func(got Ticket, want Ticket) {
		t.Helper()
		got.IssuedAt, want.IssuedAt = got.IssuedAt.UTC(), want.IssuedAt.UTC()
		if got != want {
			t.Errorf("got %+v\nwant %+v", got, want)
		}
	}
	for _, code := range []string{"A001", "a1", " A001 ", "A01"} {
		tk, err := q.ByCode(ctx, "2026-11-26", code)
		if err != nil {
			t.Fatalf("ByCode(%q): %v", code, err)
		}
		same(tk, a)
	}
	tk, err := q.ByID(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(tk, b)
	tk, err = q.ByLookup(ctx, " "+string(bytes.ToLower([]byte(a.LookupCode)))+" ")
	if err != nil {
		t.Fatal(err)
	}
	same(tk, a)
	tk, err = q.Last(ctx)
	if err != nil {
		t.Fatal(err)
	}
	same(tk, b)

	for _, bad := range []struct{ day, code string }{
		{"2026-11-26", "A"}, {"2026-11-26", "1A"}, {"2026-11-26", "A0"}, {"2026-11-26", "A-1"},
		{"2026-11-26", "A+12"}, {"2026-11-26", "A10000"}, {"26/11/2026", "A001"}, {"", "A001"},
	} {
		_, err := q.ByCode(ctx, bad.day, bad.code)
		wantCode(t, err, CodeInvalid)
	}
	_, err = q.ByCode(ctx, "2026-11-25", "A001")
	wantCode(t, err, CodeNotFound)
	_, err = q.ByCode(ctx, "2026-11-26", "A002")
	wantCode(t, err, CodeNotFound)
	_, err = q.ByID(ctx, 12345)
	wantCode(t, err, CodeNotFound)
	for _, bad := range []string{"", "SHORT", "ILOU000000", "0123456789A"} {
		_, err = q.ByLookup(ctx, bad)
		wantCode(t, err, CodeInvalid)
	}
	_, err = q.ByLookup(ctx, "0000000000")
	wantCode(t, err, CodeNotFound)

	c.Set(local("2026-11-27 08:00:00"))
	if _, err := q.Last(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("Last the next morning: %v, want ErrNotFound", err)
	}
	_, _, err = q.Ahead(ctx, a.ID)
	wantCode(t, err, CodeExpired)
}

func TestCallAndEstimate(t *testing.T) {
	c := kiosktest.NewClock(local("2026-11-26 09:00:00"))
	q, _ := newQueue(t, c)
	ctx := context.Background()
	for range 40 {
		issue(t, q, Request{Category: "A"})
	}
	est := func(ahead int) time.Duration {
		t.Helper()
		d, err := q.Estimate(ctx, "A", ahead)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	called := 0
	call := func(after time.Duration) {
		t.Helper()
		c.Add(after)
		called++
		if err := q.Call(ctx, code("A", called), "3"); err != nil {
			t.Fatalf("Call A%03d: %v", called, err)
		}
	}
	if got := est(2); got != 180*time.Second {
		t.Errorf("fallback estimate %v, want 6m/4*2", got)
	}
	call(0)
	call(30 * time.Second)
	call(40 * time.Second)
	if got := est(2); got != 180*time.Second {
		t.Errorf("two intervals are not enough: %v, want fallback", got)
	}
	call(500 * time.Second) // intervals 30, 40, 500: median 40
	if got := est(5); got != 200*time.Second {
		t.Errorf("median estimate %v, want 5*40s", got)
	}
	call(50 * time.Second) // 30, 40, 50, 500: median 45
	if got := est(2); got != 90*time.Second {
		t.Errorf("even-count median %v, want 2*45s", got)
	}
	if tk := issue(t, q, Request{Category: "A"}); tk.WaitingAhead != 40-called || tk.EstimatedWait != time.Duration(40-called)*45*time.Second {
		t.Errorf("issued with ahead %d est %v", tk.WaitingAhead, tk.EstimatedWait)
	}
	// Only the last recentIntervals count: eleven long intervals, then ten short ones.
	for range 11 {
		call(1000 * time.Second)
	}
	for range recentIntervals {
		call(10 * time.Second)
	}
	if got := est(3); got != 30*time.Second {
		t.Errorf("recent median %v, want 3*10s", got)
	}
	// A call stamped earlier (the clock stepped back) does not disturb the recent intervals.
	c.Add(-time.Hour)
	call(0)
	c.Add(time.Hour)
	if got := est(1); got != 10*time.Second {
		t.Errorf("after a clock step back: %v", got)
	}

	// Called tickets: a re-call keeps the first time, unknown ones are refused.
	first, _ := q.ByCode(ctx, q.Today(), "A001")
	c.Add(time.Minute)
	wantCode(t, q.Call(ctx, "A001", "4"), CodeAlreadyCalled)
	again, _ := q.ByCode(ctx, q.Today(), "A001")
	if !again.CalledAt.Equal(first.CalledAt) || again.Window != "3" || first.CalledAt.IsZero() {
		t.Errorf("re-call changed the call: %v %q -> %v %q", first.CalledAt, first.Window, again.CalledAt, again.Window)
	}
	wantCode(t, q.Call(ctx, "A999", "3"), CodeNotFound)
	wantCode(t, q.Call(ctx, "B001", "3"), CodeNotFound)
	wantCode(t, q.Call(ctx, "Z001", "3"), CodeUnknownCategory)
	wantCode(t, q.Call(ctx, "A", "3"), CodeInvalid)
	wantCode(t, q.Call(ctx, "A002", "bad\nwindow"), CodeInvalid)

	// C has no service time: no estimate, not a made-up one. B falls back to 8m/3.
	if d, err := q.Estimate(ctx, "C", 4); err != nil || d != 0 {
		t.Errorf("Estimate(C) = %v, %v", d, err)
	}
	if d, _ := q.Estimate(ctx, "B", 3); d != 8*time.Minute {
		t.Errorf("Estimate(B, 3) = %v", d)
	}
	if d, _ := q.Estimate(ctx, "A", 0); d != 0 {
		t.Errorf("Estimate(A, 0) = %v", d)
	}
	_, err := q.Estimate(ctx, "A", -1)
	wantCode(t, err, CodeInvalid)

	// Yesterday's calls do not feed today's estimates.
	c.Set(local("2026-11-27 09:00:00"))
	if got := est(2); got != 180*time.Second {
		t.Errorf("next day estimate %v, want the fallback", got)
	}
}

func TestNumberLimits(t *testing.T) {
	c := kiosktest.NewClock(local("2026-11-26 09:00:00"))
	q, st := newQueue(t, c)
	ctx := context.Background()
	if _, err := st.DB().Exec(`INSERT INTO queue_counter VALUES ('2026-11-26', 'A', 999), ('2026-11-26', 'B', ?)`, MaxNumber); err != nil {
		t.Fatal(err)
	}
	tk := issue(t, q, Request{Category: "A"})
	if tk.Code != "A1000" {
		t.Errorf("number 1000 coded %s", tk.Code)
	}
	if got, err := q.ByCode(ctx, tk.Day, "A1000"); err != nil || got.ID != tk.ID {
		t.Errorf("ByCode(A1000) = %+v, %v", got, err)
	}
	_, err := q.Issue(ctx, Request{Category: "B"})
	wantCode(t, err, CodeExhausted)
	var last int
	st.DB().QueryRow(`SELECT last FROM queue_counter WHERE category = 'B'`).Scan(&last)
	if last != MaxNumber {
		t.Errorf("counter moved to %d by a refused ticket", last)
	}
}

// repeatReader yields the same byte forever.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestLookupCollision(t *testing.T) {
	q, _ := newQueue(t, kiosktest.NewClock(local("2026-11-26 09:00:00")))
	ctx := context.Background()
	q.rand = repeatReader(0)
	if tk := issue(t, q, Request{Category: "A"}); tk.LookupCode != "0000000000" {
		t.Fatalf("lookup %s", tk.LookupCode)
	}
	// The same draw again: the second ticket gets the next draw.
	q.rand = io.MultiReader(bytes.NewReader(make([]byte, lookupLen)), repeatReader(1))
	if tk := issue(t, q, Request{Category: "A"}); tk.LookupCode != "1111111111" || tk.Code != "A002" {
		t.Fatalf("after a collision: %s %s", tk.Code, tk.LookupCode)
	}
	// A broken source fails the ticket without using its number.
	q.rand = repeatReader(0)
	if _, err := q.Issue(ctx, Request{Category: "A"}); err == nil {
		t.Fatal("issued with a colliding lookup code")
	}
	q.rand = repeatReader(2)
	if tk := issue(t, q, Request{Category: "A"}); tk.Code != "A003" {
		t.Fatalf("next ticket %s, want A003", tk.Code)
	}
}

func TestCancelledIssueUsesNoNumber(t *testing.T) {
	q, _ := newQueue(t, kiosktest.NewClock(local("2026-11-26 09:00:00")))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Issue(ctx, Request{Category: "A"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if tk := issue(t, q, Request{Category: "A"}); tk.Code != "A001" {
		t.Fatalf("next ticket %s, want A001", tk.Code)
	}
}

func TestErrorMessages(t *testing.T) {
	for _, e := range []error{ErrNotFound, errf(CodeNotFound, "no ticket %s", "A001")} {
		if msg := e.Error(); msg == "" || msg[:7] != "queue: " {
			t.Errorf("message %q", msg)
		}
	}
	if errors.Is(ErrNotFound, ErrInvalid) {
		t.Error("different codes match")
	}
	if !errors.Is(fmt.Errorf("wrapped: %w", errf(CodeExpired, "x")), ErrExpired) {
		t.Error("wrapped error does not match its sentinel")
	}
}

func TestIssueWith(t *testing.T) {
	q, st := newQueue(t, kiosktest.NewClock(local("2026-11-26 09:00:00")))
	ctx := context.Background()
	if _, err := st.DB().Exec(`CREATE TABLE outbox (ticket_id INTEGER, code TEXT)`); err != nil {
		t.Fatal(err)
	}
	write := func(tx *sql.Tx, tk Ticket) error {
		_, err := tx.Exec(`INSERT INTO outbox VALUES (?, ?)`, tk.ID, tk.Code)
		return err
	}
	tk, err := q.IssueWith(ctx, Request{Category: "A"}, write)
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("outbox full")
	_, err = q.IssueWith(ctx, Request{Category: "A"}, func(tx *sql.Tx, tk Ticket) error {
		if err := write(tx, tk); err != nil {
			return err
		}
		return stop
	})
	if err != stop {
		t.Fatalf("err = %v, want the callback's error unwrapped", err)
	}
	var n int
	var c string
	if err := st.DB().QueryRow(`SELECT count(*), max(code) FROM outbox`).Scan(&n, &c); err != nil || n != 1 || c != tk.Code {
		t.Fatalf("outbox: %d rows, %q, %v; want only %s", n, c, err, tk.Code)
	}
	if next := issue(t, q, Request{Category: "A"}); next.Code != "A002" {
		t.Fatalf("failed IssueWith used a number: next is %s", next.Code)
	}
}

func TestCountToday(t *testing.T) {
	clk := kiosktest.NewClock(local("2026-11-26 09:00:00"))
	q, _ := newQueue(t, clk)
	ctx := context.Background()
	for _, p := range []bool{false, true, false} {
		if _, err := q.Issue(ctx, Request{Category: "A", Priority: p, PriorityReason: map[bool]string{true: ReasonElder}[p]}); err != nil {
			t.Fatal(err)
		}
	}
	last, _ := q.Last(ctx)
	if err := q.MarkReprint(ctx, last.ID, "paper out"); err != nil {
		t.Fatal(err)
	}
	if err := q.Call(ctx, "A001", "3"); err != nil {
		t.Fatal(err)
	}
	c, err := q.CountToday(ctx)
	if err != nil || c != (Counts{Issued: 3, Priority: 1, Waiting: 2, Reprint: 1}) {
		t.Fatalf("%+v %v", c, err)
	}
	clk.Add(24 * time.Hour)
	if c, _ := q.CountToday(ctx); c != (Counts{}) {
		t.Errorf("next day: %+v", c)
	}
}
