package line

import (
	"citizenhome/telemetry/wire"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/ledger"
	"citizenhome/hall/ledger/ledgertest"
)

// clock is a settable clock; each reading advances it by tick, so that tickets issued one after
// the other have distinct times as on a real clock.
type clock struct {
	mu   sync.Mutex
	t    time.Time
	tick time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.tick)
	return t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var shanghai = DefaultLocation()

func local(s string) time.Time {
	t, err := time.ParseInLocation(time.DateTime, s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// testConfig: A is served by windows 1 and 2, B by 2 and 3, C by 4.
func testConfig(c *clock) Config {
	return Config{
		Categories: []Category{
			{Letter: "A", Name: "户籍", AvgService: 6 * time.Minute},
			{Letter: "B", Name: "社保", AvgService: 4 * time.Minute},
			{Letter: "C", Name: "出入境", AvgService: 10 * time.Minute},
		},
		Windows: []Window{
			{ID: "1", Categories: []string{"A"}},
			{ID: "2", Categories: []string{"A", "B"}},
			{ID: "3", Categories: []string{"B"}},
			{ID: "4", Categories: []string{"C"}},
		},
		Location: shanghai,
		Now:      c.Now,
	}
}

func newClock() *clock { return &clock{t: local("2026-12-07 09:00:00"), tick: time.Millisecond} }

func newLine(t testing.TB, edit ...func(*Config)) (*Line, *clock) {
	t.Helper()
	c := newClock()
	cfg := testConfig(c)
	for _, e := range edit {
		e(&cfg)
	}
	l, err := Open(context.Background(), ledgertest.Open(t, Migrations), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l, c
}

var ctx = context.Background()

var takeSeq struct {
	sync.Mutex
	n int
}

func takeID() string {
	takeSeq.Lock()
	defer takeSeq.Unlock()
	takeSeq.n++
	return fmt.Sprintf("%032x", takeSeq.n)
}

// issue takes a number for kiosk k1 and confirms it, as a kiosk that printed it would.
func issue(t testing.TB, l *Line, category string, priority bool) Ticket {
	t.Helper()
	r := Take{ID: takeID(), Category: category, Priority: priority}
	if priority {
		r.Reason = ReasonElder
	}
	tk, _, err := l.Take(ctx, "k1", r)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Issued(ctx, "k1", Issued{Take: r.ID, Day: tk.Day, Code: tk.Code, Lookup: tk.Lookup}); err != nil {
		t.Fatal(err)
	}
	tk.State = Waiting
	return tk
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}

func TestOpenConfig(t *testing.T) {
	db := ledgertest.Open(t, Migrations)
	c := newClock()
	bad := map[string]func(*Config){
		"no categories":      func(c *Config) { c.Categories = nil },
		"lower-case letter":  func(c *Config) { c.Categories[0].Letter = "a" },
		"repeated letter":    func(c *Config) { c.Categories[1].Letter = "A" },
		"negative service":   func(c *Config) { c.Categories[0].AvgService = -1 },
		"bad window id":      func(c *Config) { c.Windows[0].ID = "3 号" },
		"long window id":     func(c *Config) { c.Windows[0].ID = "12345678901234567" },
		"repeated window":    func(c *Config) { c.Windows[1].ID = "1" },
		"window serves none": func(c *Config) { c.Windows[0].Categories = nil },
		"unknown category":   func(c *Config) { c.Windows[0].Categories = []string{"Z"} },
		"share above 1":      func(c *Config) { c.Rules.PriorityShare = 1.5 },
		"negative wait":      func(c *Config) { c.Rules.LongestWait = -time.Minute },
		"huge lease":         func(c *Config) { c.Rules.LeaseSize = 1000 },
	}
	for name, edit := range bad {
		cfg := testConfig(c)
		edit(&cfg)
		if _, err := Open(ctx, db, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: error %v, want ErrConfig", name, err)
		}
	}
	l, err := Open(ctx, db, testConfig(c))
	if err != nil {
		t.Fatal(err)
	}
	want := Rules{PriorityShare: DefaultPriorityShare, LongestWait: DefaultLongestWait, MaxRecalls: DefaultMaxRecalls,
		NoShowGrace: DefaultNoShowGrace, RequeueAfter: DefaultRequeueAfter, LeaseSize: DefaultLeaseSize}
	if l.Rules() != want {
		t.Errorf("rules %+v, want the defaults %+v", l.Rules(), want)
	}
	if _, err := Open(ctx, ledgertest.Open(t), testConfig(c)); err == nil {
		t.Error("Open on a ledger without the line's tables succeeded")
	}
}

func TestTakeNumbersUpAndPositions(t *testing.T) {
	l, _ := newLine(t)
	var got []string
	for i := range 3 {
		r := Take{ID: takeID(), Category: "A", Matter: "hz-001", Section: "东区"}
		tk, pos, err := l.Take(ctx, "k1", r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tk.Code)
		if tk.State != Unconfirmed || tk.Day != "2026-12-07" || tk.Kiosk != "k1" || !wire.ValidLookup(tk.Lookup) || tk.Matter != "hz-001" {
			t.Errorf("ticket %+v", tk)
		}
		// Earlier takes are confirmed, so they count; two windows serve A at 6 minutes each.
		if pos.Ahead != i || pos.ETA != time.Duration(i)*3*time.Minute {
			t.Errorf("take %d: position %+v, want %d ahead, %s", i, pos, i, time.Duration(i)*3*time.Minute)
		}
		if err := l.Issued(ctx, "k1", Issued{Take: r.ID, Code: tk.Code, Day: tk.Day, Lookup: tk.Lookup}); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(got, []string{"A001", "A002", "A003"}) {
		t.Errorf("codes %v", got)
	}
	tk, _, err := l.Take(ctx, "k1", Take{ID: takeID(), Category: "B"})
	if err != nil || tk.Code != "B001" {
		t.Errorf("first B: %v %v", tk.Code, err)
	}
	for _, r := range []Take{
		{ID: takeID(), Category: "Z"},
		{ID: takeID(), Category: "a"},
	} {
		_, _, err := l.Take(ctx, "k1", r)
		wantErr(t, err, ErrUnknownCategory)
	}
	for _, r := range []Take{
		{ID: "", Category: "A"},
		{ID: takeID(), Category: "A", Priority: true},
		{ID: takeID(), Category: "A", Reason: ReasonElder},
		{ID: takeID(), Category: "A", Priority: true, Reason: "Elder!"},
		{ID: takeID(), Category: "A", Matter: "a\nb"},
		{ID: takeID(), Category: "A", Section: string(make([]byte, 200))},
	} {
		_, _, err := l.Take(ctx, "k1", r)
		wantErr(t, err, ErrInvalid)
	}
	_, _, err = l.Take(ctx, "", Take{ID: takeID(), Category: "A"})
	wantErr(t, err, ErrInvalid)
	// None of the refusals spent a number.
	if tk, _, err := l.Take(ctx, "k1", Take{ID: takeID(), Category: "A"}); err != nil || tk.Code != "A004" {
		t.Errorf("after refusals: %v %v", tk.Code, err)
	}
}

func TestTakeUnconfirmedIsNotQueued(t *testing.T) {
	l, _ := newLine(t)
	r := Take{ID: takeID(), Category: "A"}
	tk, _, err := l.Take(ctx, "k1", r)
	if err != nil {
		t.Fatal(err)
	}
	if ts, _ := l.Tickets(ctx, "", ""); len(ts) != 0 {
		t.Errorf("unconfirmed take listed: %+v", ts)
	}
	_, err = l.Ticket(ctx, tk.Code)
	wantErr(t, err, ErrNotFound)
	_, err = l.Public(ctx, tk.Lookup)
	wantErr(t, err, ErrNotFound)
	_, err = l.Next(ctx, "1", "staff")
	wantErr(t, err, ErrEmpty)
	if err := l.Issued(ctx, "k1", Issued{Take: r.ID, Code: tk.Code, Day: tk.Day}); err != nil {
		t.Fatal(err)
	}
	got, err := l.Ticket(ctx, "a1")
	if err != nil || got.State != Waiting || got.Code != "A001" {
		t.Fatalf("confirmed: %+v %v", got, err)
	}
	p, err := l.Public(ctx, " "+tk.Lookup+" ")
	if err != nil || p.Code != "A001" || p.State != Waiting || p.Ahead != 0 {
		t.Errorf("public %+v %v", p, err)
	}
}

func TestTakeAndIssuedIdempotent(t *testing.T) {
	l, _ := newLine(t)
	r := Take{ID: takeID(), Category: "A", Priority: true, Reason: ReasonUrgent}
	a, _, err := l.Take(ctx, "k1", r)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := l.Take(ctx, "k1", r)
	if err != nil || b != a {
		t.Fatalf("repeat take: %+v %v, want %+v", b, err, a)
	}
	_, _, err = l.Take(ctx, "k2", r)
	wantErr(t, err, ErrInvalid)
	ev := Issued{Take: r.ID, Code: a.Code, Day: a.Day, Lookup: a.Lookup}
	for range 3 {
		if err := l.Issued(ctx, "k1", ev); err != nil {
			t.Fatal(err)
		}
	}
	// A repeat after the ticket was called changes nothing either.
	if _, err := l.Next(ctx, "1", "s"); err != nil {
		t.Fatal(err)
	}
	if err := l.Issued(ctx, "k1", ev); err != nil {
		t.Fatal(err)
	}
	c, _, err := l.Take(ctx, "k1", r)
	if err != nil || c.Code != a.Code || c.State != Called {
		t.Errorf("repeat take after the call: %+v %v", c, err)
	}
	// Lease tickets: the same event again is the same ticket.
	lease, err := l.Lease(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	n := lease["2026-12-07"]["B"][0]
	lev := Issued{Lease: true, Day: "2026-12-07", Code: TicketCode("B", n), Lookup: "7K3M9Q2D1C", IssuedAt: local("2026-12-07 08:59:00")}
	for range 3 {
		if err := l.Issued(ctx, "k1", lev); err != nil {
			t.Fatal(err)
		}
	}
	ts, _ := l.Tickets(ctx, "", "")
	if len(ts) != 2 {
		t.Fatalf("tickets %+v", ts)
	}
	lt := ts[1]
	if ts[0].Code == "B999" {
		lt = ts[0]
	}
	if lt.Code != "B999" || !lt.Lease || lt.Lookup != "7K3M9Q2D1C" || lt.State != Waiting || !lt.IssuedAt.Equal(local("2026-12-07 08:59:00")) {
		t.Errorf("lease ticket %+v", lt)
	}
}

// TestNumbersUniqueUnderConcurrency has many kiosks take and lease at once; every number is
// allocated once: no two takes, no two grants, no take and grant share one.
func TestNumbersUniqueUnderConcurrency(t *testing.T) {
	l, _ := newLine(t, func(c *Config) { c.Rules.LeaseSize = 5 })
	const kiosks, takes = 8, 12
	type got struct {
		codes  []string
		leases map[string]map[string][]int
	}
	res := make([]got, kiosks)
	var wg sync.WaitGroup
	errs := make(chan error, kiosks)
	for k := range kiosks {
		wg.Go(func() {
			kiosk := fmt.Sprintf("k%d", k)
			for i := range takes {
				cat := []string{"A", "B", "C"}[(k+i)%3]
				tk, _, err := l.Take(ctx, kiosk, Take{ID: takeID(), Category: cat})
				if err != nil {
					errs <- err
					return
				}
				res[k].codes = append(res[k].codes, tk.Day+" "+tk.Code)
				if i%4 == 0 {
					m, err := l.Lease(ctx, kiosk)
					if err != nil {
						errs <- err
						return
					}
					res[k].leases = m
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]string{}
	claim := func(key, who string) {
		if prev, dup := seen[key]; dup {
			t.Errorf("%s given twice: %s and %s", key, prev, who)
		}
		seen[key] = who
	}
	for k, r := range res {
		for _, c := range r.codes {
			claim(c, fmt.Sprintf("take of k%d", k))
		}
		for day, cats := range r.leases {
			for letter, ns := range cats {
				if len(ns) != 5 {
					t.Errorf("k%d lease %s %s: %v, want 5 numbers", k, day, letter, ns)
				}
				for _, n := range ns {
					claim(day+" "+TicketCode(letter, n), fmt.Sprintf("lease of k%d", k))
				}
			}
		}
	}
	if want := kiosks*takes + kiosks*2*3*5; len(seen) != want {
		t.Errorf("%d numbers, want %d", len(seen), want)
	}
	// Takes counted up from 1 without a gap.
	for _, letter := range []string{"A", "B", "C"} {
		for n := 1; n <= kiosks*takes/3; n++ {
			if _, ok := seen["2026-12-07 "+TicketCode(letter, n)]; !ok {
				t.Errorf("%s never given", TicketCode(letter, n))
			}
		}
	}
}

func TestLeaseTopDownAndCounterSkips(t *testing.T) {
	l, _ := newLine(t, func(c *Config) { c.Rules.LeaseSize = 3 })
	m1, err := l.Lease(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	m2, err := l.Lease(ctx, "k2")
	if err != nil {
		t.Fatal(err)
	}
	for _, day := range []string{"2026-12-07", "2026-12-08"} {
		if got := m1[day]["A"]; !slices.Equal(got, []int{999, 998, 997}) {
			t.Errorf("k1 %s A: %v", day, got)
		}
		if got := m2[day]["A"]; !slices.Equal(got, []int{996, 995, 994}) {
			t.Errorf("k2 %s A: %v", day, got)
		}
	}
	if len(m1) != 2 {
		t.Errorf("lease days %v", m1)
	}
	// A lease already full is not topped up: the same numbers come back.
	again, err := l.Lease(ctx, "k1")
	if err != nil || !slices.Equal(again["2026-12-07"]["A"], []int{999, 998, 997}) {
		t.Errorf("lease again: %v %v", again, err)
	}
	// k1 prints A999: its lease is topped up with the next free number downwards.
	if err := l.Issued(ctx, "k1", Issued{Lease: true, Day: "2026-12-07", Code: "A999", Lookup: "AAAAAAAAA1"}); err != nil {
		t.Fatal(err)
	}
	m1, err = l.Lease(ctx, "k1")
	if err != nil || !slices.Equal(m1["2026-12-07"]["A"], []int{998, 997, 993}) {
		t.Errorf("after A999: %v %v", m1["2026-12-07"]["A"], err)
	}
	// A kiosk prints A002, which halld never granted (its grant was lost): recorded, and the
	// counter skips it.
	if err := l.Issued(ctx, "k3", Issued{Lease: true, Day: "2026-12-07", Code: "A002", Lookup: "AAAAAAAAA2"}); err != nil {
		t.Fatalf("a free number printed: %v", err)
	}
	var codes []string
	for range 3 {
		tk, _, err := l.Take(ctx, "k1", Take{ID: takeID(), Category: "A"})
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, tk.Code)
	}
	if !slices.Equal(codes, []string{"A001", "A003", "A004"}) {
		t.Errorf("takes %v, want A002 skipped", codes)
	}
}

// TestExhausted: takes going up and leases going down skip every number allocated otherwise,
// and meet without sharing one; then the category has none left.
func TestExhausted(t *testing.T) {
	l, _ := newLine(t, func(c *Config) {
		c.Categories, c.Windows = c.Categories[:1], c.Windows[:1]
		c.Rules.LeaseSize = 100
	})
	// A printed number halld never granted, recorded first: the leases skip it.
	if err := l.Issued(ctx, "k0", Issued{Lease: true, Day: "2026-12-07", Code: "A950", Lookup: "AAAAAAAAA0"}); err != nil {
		t.Fatal(err)
	}
	leased := map[int]bool{}
	for k := range 9 {
		m, err := l.Lease(ctx, fmt.Sprintf("k%d", k+1))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range m["2026-12-07"]["A"] {
			if leased[n] || n == 950 {
				t.Errorf("A%03d granted twice", n)
			}
			leased[n] = true
		}
	}
	if len(leased) != 900 || leased[950] || !leased[99] || leased[98] {
		t.Fatalf("%d leased, want 999..99 but 950", len(leased))
	}
	for n := 1; n <= 98; n++ {
		tk, _, err := l.Take(ctx, "k1", Take{ID: takeID(), Category: "A"})
		if err != nil || tk.Number != n {
			t.Fatalf("take %d: %+v %v", n, tk.Number, err)
		}
	}
	_, _, err := l.Take(ctx, "k1", Take{ID: takeID(), Category: "A"})
	wantErr(t, err, ErrExhausted)
	m, err := l.Lease(ctx, "k99")
	if err != nil || len(m["2026-12-07"]["A"]) != 0 || len(m["2026-12-08"]["A"]) != 99 { // tomorrow: 999..100 went to k1..k9
		t.Errorf("lease with nothing left today: %v %v", m, err)
	}
}

func TestVoidAndUnused(t *testing.T) {
	l, _ := newLine(t, func(c *Config) { c.Rules.LeaseSize = 2 })
	t1 := Take{ID: takeID(), Category: "A"}
	a, _, err := l.Take(ctx, "k1", t1)
	if err != nil {
		t.Fatal(err)
	}
	t2 := Take{ID: takeID(), Category: "A"}
	b, _, err := l.Take(ctx, "k2", t2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lease(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	// k1 timed out on t1, printed A999 from its lease, and says it abandoned t1; a take id it
	// abandoned before halld ever saw it is remembered too.
	never := takeID()
	if err := l.Issued(ctx, "k1", Issued{Lease: true, Day: a.Day, Code: "A999", Lookup: "AAAAAAAAA3", Abandoned: []string{t1.ID, never}}); err != nil {
		t.Fatal(err)
	}
	un, err := l.Unused(ctx, "2026-12-07")
	if err != nil {
		t.Fatal(err)
	}
	want := []Unused{
		{Day: "2026-12-07", Code: "A001", Number: 1, Kiosk: "k1", Why: UnusedVoid},
		{Day: "2026-12-07", Code: "A002", Number: 2, Kiosk: "k2", Why: UnusedUnconfirmed},
		{Day: "2026-12-07", Code: "A998", Number: 998, Kiosk: "k1", Why: UnusedLease},
	}
	var gotA []Unused
	for _, u := range un {
		if u.Code[0] == 'A' {
			gotA = append(gotA, u)
		}
	}
	if !slices.Equal(gotA, want) {
		t.Errorf("unused %+v\nwant %+v", gotA, want)
	}
	if len(un) != len(want)+2*2 { // B and C: two lease numbers each
		t.Errorf("%d unused, want %d: %+v", len(un), len(want)+4, un)
	}
	_, _, err = l.Take(ctx, "k1", t1)
	wantErr(t, err, ErrExpired)
	_, _, err = l.Take(ctx, "k1", Take{ID: never, Category: "A"})
	wantErr(t, err, ErrExpired)
	// The void number is never given again.
	if c, _, err := l.Take(ctx, "k1", Take{ID: takeID(), Category: "A"}); err != nil || c.Code != "A003" {
		t.Errorf("next take %v %v", c.Code, err)
	}
	// Events crossed: the abandoned take was printed after all. Print wins.
	if err := l.Issued(ctx, "k1", Issued{Take: t1.ID, Day: a.Day, Code: a.Code}); err != nil {
		t.Fatal(err)
	}
	if tk, err := l.Ticket(ctx, "A001"); err != nil || tk.State != Waiting {
		t.Errorf("A001 after its late event: %+v %v", tk, err)
	}
	// A take's ticket already printed is not voided by a later abandon.
	if err := l.Issued(ctx, "k2", Issued{Take: t2.ID, Day: b.Day, Code: b.Code}); err != nil {
		t.Fatal(err)
	}
	if err := l.Issued(ctx, "k2", Issued{Abandoned: []string{t2.ID}}); err != nil {
		t.Fatal(err)
	}
	if tk, err := l.Ticket(ctx, "A002"); err != nil || tk.State != Waiting {
		t.Errorf("A002 after an abandon: %+v %v", tk, err)
	}
	_, err = l.Unused(ctx, "7 Dec")
	wantErr(t, err, ErrInvalid)
}

func TestTakeDeadlineAndDay(t *testing.T) {
	l, c := newLine(t)
	_, _, err := l.Take(ctx, "k1", Take{ID: takeID(), Category: "A", Expires: c.Now().Add(-time.Millisecond)})
	wantErr(t, err, ErrExpired)
	_, _, err = l.Take(ctx, "k1", Take{ID: takeID(), Category: "A", Day: "2026-12-06"})
	wantErr(t, err, ErrExpired)
	tk, _, err := l.Take(ctx, "k1", Take{ID: takeID(), Category: "A", Day: "2026-12-07", Expires: c.Now().Add(time.Second)})
	if err != nil || tk.Code != "A001" {
		t.Errorf("in time: %v %v (refused takes must spend no number)", tk.Code, err)
	}
}

func TestIssuedConflicts(t *testing.T) {
	var logs syncBuffer
	l, _ := newLine(t, func(c *Config) {
		c.Rules.LeaseSize = 2
		c.Log = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if _, err := l.Lease(ctx, "k2"); err != nil {
		t.Fatal(err)
	}
	// k1 prints A999, which was granted to k2: recorded, taken from k2's lease, flagged.
	err := l.Issued(ctx, "k1", Issued{Lease: true, Day: "2026-12-07", Code: "A999", Lookup: "AAAAAAAAA4"})
	wantErr(t, err, ErrConflict)
	tk, err := l.Ticket(ctx, "A999")
	if err != nil || !tk.Conflict || tk.Kiosk != "k1" || tk.State != Waiting {
		t.Errorf("A999: %+v %v", tk, err)
	}
	m, err := l.Lease(ctx, "k2")
	if err != nil || slices.Contains(m["2026-12-07"]["A"], 999) {
		t.Errorf("k2's lease still lists A999: %v %v", m["2026-12-07"]["A"], err)
	}
	// k3 prints A001, which a take holds: both are queued; the take's ticket owns the code.
	a := issue(t, l, "A", false)
	err = l.Issued(ctx, "k3", Issued{Lease: true, Day: "2026-12-07", Code: "A001", Lookup: "AAAAAAAAA5"})
	wantErr(t, err, ErrConflict)
	err = l.Issued(ctx, "k3", Issued{Lease: true, Day: "2026-12-07", Code: "A001", Lookup: "AAAAAAAAA5"})
	wantErr(t, err, ErrConflict) // the same answer again, and no second copy
	ts, err := l.Tickets(ctx, string(Waiting), "A")
	if err != nil || len(ts) != 3 {
		t.Fatalf("waiting A: %+v %v", ts, err)
	}
	if got, _ := l.Ticket(ctx, "A001"); got.Lookup != a.Lookup || got.Conflict {
		t.Errorf("A001 is %+v, want the take's", got)
	}
	if p, err := l.Public(ctx, "AAAAAAAAA5"); err != nil || p.Code != "A001" {
		t.Errorf("the duplicate's QR: %+v %v", p, err)
	}
	// An unknown take (a ledger restored from an old backup) with a free number: recorded.
	if err := l.Issued(ctx, "k1", Issued{Take: takeID(), Day: "2026-12-07", Code: "A500", Lookup: "AAAAAAAAA6"}); err != nil {
		t.Errorf("unknown take: %v", err)
	}
	if tk, err := l.Ticket(ctx, "A500"); err != nil || tk.Conflict || tk.State != Waiting {
		t.Errorf("A500: %+v %v", tk, err)
	}
	// A lookup code another ticket has: queued without it.
	err = l.Issued(ctx, "k1", Issued{Lease: true, Day: "2026-12-07", Code: "A600", Lookup: "AAAAAAAAA6"})
	wantErr(t, err, ErrConflict)
	if tk, err := l.Ticket(ctx, "A600"); err != nil || tk.Lookup != "" || !tk.Conflict {
		t.Errorf("A600: %+v %v", tk, err)
	}
	// Malformed events are refused: nothing printed can be named by them.
	for _, ev := range []Issued{
		{Lease: true, Code: "A", Day: "2026-12-07"},
		{Lease: true, Code: "A001", Day: "07-12-2026"},
		{Abandoned: []string{""}},
	} {
		wantErr(t, l.Issued(ctx, "k1", ev), ErrInvalid)
	}
	wantErr(t, l.Issued(ctx, "", Issued{Lease: true, Code: "A700"}), ErrInvalid)
	// Each new conflict was logged once (not again for a repeated event), and so was the
	// unknown take.
	out := logs.String()
	for _, want := range []string{"code=A999", "code=A001", "code=A500", "code=A600"} {
		if n := strings.Count(out, want+" "); n != 1 {
			t.Errorf("%s logged %d times:\n%s", want, n, out)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDayRollover(t *testing.T) {
	l, c := newLine(t, func(cfg *Config) { cfg.Rules.LeaseSize = 2 })
	c.Set(local("2026-12-07 23:59:59"))
	a := issue(t, l, "A", false)
	before, err := l.Lease(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if a.Code != "A001" || a.Day != "2026-12-07" || len(before) != 2 || before["2026-12-08"]["A"] == nil {
		t.Fatalf("before midnight: %+v, lease %v", a, before)
	}
	c.Set(local("2026-12-08 00:00:01"))
	if l.Today() != "2026-12-08" {
		t.Fatalf("today %s", l.Today())
	}
	b := issue(t, l, "A", false)
	if b.Code != "A001" || b.Day != "2026-12-08" {
		t.Errorf("after midnight: %+v", b)
	}
	after, err := l.Lease(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if _, old := after["2026-12-07"]; old || !slices.Equal(after["2026-12-08"]["A"], before["2026-12-08"]["A"]) || len(after["2026-12-09"]["A"]) != 2 {
		t.Errorf("lease after midnight %v, before %v", after, before)
	}
	ts, _ := l.Tickets(ctx, "", "")
	if len(ts) != 1 || ts[0].Day != "2026-12-08" {
		t.Errorf("today's tickets %+v", ts)
	}
	_, err = l.Public(ctx, a.Lookup)
	wantErr(t, err, ErrNotFound)
	// Yesterday's waiting ticket is not called today.
	if tk, err := l.Next(ctx, "1", "s"); err != nil || tk.Code != "A001" || tk.Day != "2026-12-08" {
		t.Errorf("next %+v %v", tk, err)
	}
	// A lease ticket of yesterday arriving late is recorded under its own day.
	if err := l.Issued(ctx, "k1", Issued{Lease: true, Day: "2026-12-07", Code: TicketCode("A", before["2026-12-07"]["A"][0]), Lookup: "AAAAAAAAA7"}); err != nil {
		t.Errorf("late lease ticket: %v", err)
	}
	un, _ := l.Unused(ctx, "2026-12-07")
	for _, u := range un {
		if u.Code == TicketCode("A", before["2026-12-07"]["A"][0]) {
			t.Errorf("printed number reported unused: %+v", u)
		}
	}
}

func TestRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "halld.db")
	c := newClock()
	open := func() (*Line, *ledger.DB) {
		db, err := ledger.Open(path, Migrations)
		if err != nil {
			t.Fatal(err)
		}
		l, err := Open(ctx, db, testConfig(c))
		if err != nil {
			t.Fatal(err)
		}
		return l, db
	}
	l, db := open()
	r := Take{ID: takeID(), Category: "A"}
	a, _, err := l.Take(ctx, "k1", r)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Issued(ctx, "k1", Issued{Take: r.ID, Day: a.Day, Code: a.Code}); err != nil {
		t.Fatal(err)
	}
	issue(t, l, "A", true)
	lease, err := l.Lease(ctx, "k2")
	if err != nil {
		t.Fatal(err)
	}
	called, err := l.Next(ctx, "1", "anna")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Recall(ctx, "1", "anna"); err != nil {
		t.Fatal(err)
	}
	if err := l.Pause(ctx, "3", "bo", "lunch"); err != nil {
		t.Fatal(err)
	}
	snap1, err := l.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tickets1, _ := l.Tickets(ctx, "", "")
	calls1, _ := l.Calls(ctx, 0, 0)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	l, db = open()
	defer db.Close()
	snap2, err := l.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(snap1) != fmt.Sprint(snap2) || snap2.Windows[0].Serving != called.Code || snap2.Windows[2].State != "paused" {
		t.Errorf("snapshot after restart\n%+v\nbefore\n%+v", snap2, snap1)
	}
	tickets2, _ := l.Tickets(ctx, "", "")
	calls2, _ := l.Calls(ctx, 0, 0)
	if fmt.Sprint(tickets1) != fmt.Sprint(tickets2) || fmt.Sprint(calls1) != fmt.Sprint(calls2) || len(calls2) != 2 {
		t.Errorf("tickets or calls changed:\n%+v\n%+v\n%+v\n%+v", tickets1, tickets2, calls1, calls2)
	}
	// The take is still the same ticket, the lease the same numbers, the counter goes on.
	if again, _, err := l.Take(ctx, "k1", r); err != nil || again.Code != a.Code || again.Lookup != a.Lookup {
		t.Errorf("take after restart: %+v %v", again, err)
	}
	if m, err := l.Lease(ctx, "k2"); err != nil || fmt.Sprint(m) != fmt.Sprint(lease) {
		t.Errorf("lease after restart %v, before %v (%v)", m, lease, err)
	}
	if n, _, err := l.Take(ctx, "k1", Take{ID: takeID(), Category: "A"}); err != nil || n.Code != "A003" {
		t.Errorf("next take after restart: %v %v", n.Code, err)
	}
	// The window's current ticket survived: it must be finished before the next.
	_, err = l.Next(ctx, "1", "anna")
	wantErr(t, err, ErrState)
	if d, err := l.Done(ctx, "1", "anna"); err != nil || d.Code != called.Code {
		t.Errorf("done after restart: %+v %v", d, err)
	}
}

func TestWatch(t *testing.T) {
	l, _ := newLine(t)
	ch, stop := l.Watch()
	for range 30 {
		issue(t, l, "A", false)
	}
	// Nobody read: the writer was not blocked, and one coalesced change waits.
	var last Ticket
	for range 5 {
		var err error
		if last, err = l.Next(ctx, "1", "s"); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Done(ctx, "1", "s"); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case c := <-ch:
		if !c.Queue || c.Call == nil || c.Call.Code != last.Code || c.Call.Window != "1" {
			t.Errorf("coalesced change %+v", c)
		}
		missed, err := l.Calls(ctx, 0, 0)
		if err != nil || len(missed) != 5 || missed[4].ID != c.Call.ID || missed[0].ID != c.Call.ID-4 {
			t.Errorf("calls %+v %v", missed, err)
		}
	default:
		t.Fatal("no change pending")
	}
	select {
	case c := <-ch:
		t.Fatalf("a second change pending: %+v", c)
	default:
	}
	// A reader that keeps up sees each call.
	done := make(chan []int64)
	go func() {
		var ids []int64
		for c := range ch {
			if c.Call != nil {
				ids = append(ids, c.Call.ID)
			}
		}
		done <- ids
	}()
	first, _ := l.Calls(ctx, 0, 0)
	if _, err := l.Next(ctx, "2", "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Recall(ctx, "2", "s"); err != nil {
		t.Fatal(err)
	}
	all, _ := l.Calls(ctx, first[len(first)-1].ID, 0)
	// Closing delivers what is buffered first, so the reader ends with the last call.
	stop()
	stop()
	ids := <-done
	if len(all) != 2 || len(ids) == 0 || ids[len(ids)-1] != all[1].ID || !slices.IsSorted(ids) {
		t.Errorf("watched calls %v, made %+v", ids, all)
	}
}
