package line

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// at sets the clock (not ticking) to the local time hh:mm:ss of day.
func at(c *clock, day, hms string) {
	c.Set(local(day + " " + hms))
}

// issueAt issues a ticket of category in section at the clock's time, through Take and Issued
// as a kiosk does.
func issueAt(t *testing.T, l *Line, category, section string, priority bool) Ticket {
	t.Helper()
	r := Take{ID: takeID(), Category: category, Priority: priority, Section: section}
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
	return tk
}

// do runs a counter action and fails the test on its error; want, when given, is the code the
// action must have acted on.
func do(t *testing.T, want string) func(Ticket, error) {
	t.Helper()
	return func(tk Ticket, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if want != "" && tk.Code != want {
			t.Fatalf("acted on %s, want %s", tk.Code, want)
		}
	}
}

// statsScene plays a morning through the real API (see TestStats for what happens), and one
// ticket the next day.
func statsScene(t *testing.T) *Line {
	l, c := newLine(t)
	c.mu.Lock()
	c.tick = 0
	c.mu.Unlock()
	const d = "2026-12-07"
	at(c, d, "09:00:00")
	issueAt(t, l, "A", "户籍区", false) // A001
	at(c, d, "09:00:10")
	issueAt(t, l, "A", "户籍区", true) // A002, priority
	at(c, d, "09:00:20")
	issueAt(t, l, "A", "户籍区", false) // A003
	at(c, d, "09:00:30")
	issueAt(t, l, "B", "出入境区", false) // B001
	at(c, d, "09:00:40")
	issueAt(t, l, "C", "出入境区", false) // C001

	at(c, d, "09:01:40")
	do(t, "A002")(l.Next(ctx, "1", "alice")) // priority first: waited 90 s
	at(c, d, "09:02:00")
	do(t, "A002")(l.Start(ctx, "1", "alice"))
	at(c, d, "09:03:00")
	do(t, "A001")(l.Next(ctx, "2", "bob")) // waited 180 s
	at(c, d, "09:04:00")
	do(t, "A001")(l.NoShow(ctx, "2", "bob"))
	at(c, d, "09:05:00")
	do(t, "A002")(l.Done(ctx, "1", "alice")) // served 180 s
	at(c, d, "09:10:00")
	do(t, "B001")(l.Next(ctx, "3", "carol")) // waited 570 s
	at(c, d, "09:12:00")
	do(t, "B001")(l.Transfer(ctx, "3", "carol", "C"))
	at(c, d, "09:15:00")
	do(t, "A001")(l.Return(ctx, "A001", "desk"))
	at(c, d, "09:20:00")
	do(t, "A003")(l.Next(ctx, "2", "bob")) // waited 1180 s
	at(c, d, "09:21:00")
	do(t, "A003")(l.Recall(ctx, "2", "bob")) // a recall is no first call
	at(c, d, "09:30:00")
	do(t, "A003")(l.Done(ctx, "2", "bob")) // no Start: served 600 s from the call
	at(c, d, "09:31:00")
	do(t, "A001")(l.Next(ctx, "1", "alice")) // its second call
	at(c, d, "09:31:30")
	do(t, "A001")(l.Start(ctx, "1", "alice"))
	at(c, d, "09:33:30")
	do(t, "A001")(l.Done(ctx, "1", "alice")) // served 120 s
	at(c, d, "09:40:00")
	do(t, "B001")(l.Next(ctx, "4", "dave")) // the transferred ticket keeps its queue time
	at(c, d, "09:40:10")
	do(t, "B001")(l.Start(ctx, "4", "dave"))
	at(c, d, "09:45:10")
	do(t, "B001")(l.Done(ctx, "4", "dave")) // served 300 s, in C
	at(c, d, "09:46:00")
	do(t, "C001")(l.Next(ctx, "4", "dave")) // waited 2720 s
	at(c, d, "09:47:00")
	do(t, "C001")(l.NoShow(ctx, "4", "dave"))

	const d2 = "2026-12-08"
	at(c, d2, "10:00:00")
	issueAt(t, l, "A", "户籍区", false)
	at(c, d2, "10:05:00")
	do(t, "A001")(l.Next(ctx, "1", "alice")) // waited 300 s
	at(c, d2, "10:06:00")
	do(t, "A001")(l.Done(ctx, "1", "alice")) // served 60 s
	return l
}

func sec(n int) time.Duration { return time.Duration(n) * time.Second }

// TestStats checks every figure of every grouping against the morning statsScene plays.
func TestStats(t *testing.T) {
	l := statsScene(t)
	day := StatsQuery{From: "2026-12-07", To: "2026-12-08"}
	cases := []struct {
		by   Group
		q    StatsQuery
		want []StatsRow
	}{
		{ByWindow, day, []StatsRow{
			{Key: "1", Priority: 1, Called: 1, WaitMedian: sec(90), WaitP90: sec(90), Served: 2, ServiceMedian: sec(120), ServiceP90: sec(180)},
			{Key: "2", Called: 2, WaitMedian: sec(180), WaitP90: sec(1180), Served: 1, ServiceMedian: sec(600), ServiceP90: sec(600), NoShows: 1},
			{Key: "3", Called: 1, WaitMedian: sec(570), WaitP90: sec(570), Transfers: 1},
			{Key: "4", Called: 1, WaitMedian: sec(2720), WaitP90: sec(2720), Served: 1, ServiceMedian: sec(300), ServiceP90: sec(300), NoShows: 1},
			{Key: "", Returns: 1}, // a return is recorded at no window: after the windows
		}},
		{ByStaff, day, []StatsRow{
			{Key: "alice", Priority: 1, Called: 1, WaitMedian: sec(90), WaitP90: sec(90), Served: 2, ServiceMedian: sec(120), ServiceP90: sec(180)},
			{Key: "bob", Called: 2, WaitMedian: sec(180), WaitP90: sec(1180), Served: 1, ServiceMedian: sec(600), ServiceP90: sec(600), NoShows: 1},
			{Key: "carol", Called: 1, WaitMedian: sec(570), WaitP90: sec(570), Transfers: 1},
			{Key: "dave", Called: 1, WaitMedian: sec(2720), WaitP90: sec(2720), Served: 1, ServiceMedian: sec(300), ServiceP90: sec(300), NoShows: 1},
			{Key: "desk", Returns: 1},
		}},
		{ByCategory, day, []StatsRow{
			{Key: "A", Issued: 3, Priority: 1, Called: 3, WaitMedian: sec(180), WaitP90: sec(1180), Served: 3, ServiceMedian: sec(180), ServiceP90: sec(600), NoShows: 1, Returns: 1},
			{Key: "B", Issued: 1, Called: 1, WaitMedian: sec(570), WaitP90: sec(570), Transfers: 1},
			{Key: "C", Issued: 1, Called: 1, WaitMedian: sec(2720), WaitP90: sec(2720), Served: 1, ServiceMedian: sec(300), ServiceP90: sec(300), NoShows: 1},
		}},
		{BySection, day, []StatsRow{
			{Key: "出入境区", Issued: 2, Called: 2, WaitMedian: sec(570), WaitP90: sec(2720), Served: 1, ServiceMedian: sec(300), ServiceP90: sec(300), NoShows: 1, Transfers: 1},
			{Key: "户籍区", Issued: 3, Priority: 1, Called: 3, WaitMedian: sec(180), WaitP90: sec(1180), Served: 3, ServiceMedian: sec(180), ServiceP90: sec(600), NoShows: 1, Returns: 1},
		}},
		{ByDay, StatsQuery{From: "2026-12-01", To: "2026-12-31"}, []StatsRow{
			{Key: "2026-12-07", Issued: 5, Priority: 1, Called: 5, WaitMedian: sec(570), WaitP90: sec(2720), Served: 4, ServiceMedian: sec(180), ServiceP90: sec(600), NoShows: 2, Transfers: 1, Returns: 1},
			{Key: "2026-12-08", Issued: 1, Called: 1, WaitMedian: sec(300), WaitP90: sec(300), Served: 1, ServiceMedian: sec(60), ServiceP90: sec(60)},
		}},
		// Six waits: 90 180 300 570 1180 2720; five services: 60 120 180 300 600.
		{ByMonth, StatsQuery{From: "2026-12-01", To: "2027-01-01"}, []StatsRow{
			{Key: "2026-12", Issued: 6, Priority: 1, Called: 6, WaitMedian: sec(300), WaitP90: sec(2720), Served: 5, ServiceMedian: sec(180), ServiceP90: sec(600), NoShows: 2, Transfers: 1, Returns: 1},
		}},
		{ByYear, StatsQuery{From: "2026-12-08", To: "2027-01-01"}, []StatsRow{
			{Key: "2026", Issued: 1, Called: 1, WaitMedian: sec(300), WaitP90: sec(300), Served: 1, ServiceMedian: sec(60), ServiceP90: sec(60)},
		}},
		{ByYear, StatsQuery{From: "2027-01-01", To: "2027-02-01"}, []StatsRow{}},
	}
	for _, tc := range cases {
		tc.q.By = tc.by
		got, err := l.Stats(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.by, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("by %s %s..%s:\n got %+v\nwant %+v", tc.by, tc.q.From, tc.q.To, got, tc.want)
		}
	}
	rows, err := l.Stats(ctx, StatsQuery{From: "2026-12-07", To: "2026-12-08", By: ByCategory})
	if err != nil {
		t.Fatal(err)
	}
	if s := rows[0].PriorityShare(ByCategory); s != 1.0/3 {
		t.Errorf("A's priority share %v, want 1/3", s)
	}
	if s := (StatsRow{}).PriorityShare(ByWindow); s != 0 {
		t.Errorf("an empty row's share %v, want 0", s)
	}
}

func TestStatsRefuses(t *testing.T) {
	l, _ := newLine(t)
	for _, q := range []StatsQuery{
		{From: "2026-12-07", To: "2026-12-07", By: ByDay},
		{From: "2026-12-08", To: "2026-12-07", By: ByDay},
		{From: "2026-12-7", To: "2026-12-08", By: ByDay},
		{From: "2026-12-07", To: "tomorrow", By: ByDay},
		{From: "2026-01-01", To: "2027-01-03", By: ByMonth},
		{From: "2026-12-07", To: "2026-12-08", By: "hour"},
		{From: "2026-12-07", To: "2026-12-08"},
	} {
		if _, err := l.Stats(ctx, q); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: error %v, want ErrInvalid", q, err)
		}
	}
	// A leap year is the longest span.
	if _, err := l.Stats(ctx, StatsQuery{From: "2028-01-01", To: "2029-01-01", By: ByMonth}); err != nil {
		t.Errorf("a leap year: %v", err)
	}
}

func TestHistPercentile(t *testing.T) {
	seq := func(n int) *hist {
		h := &hist{}
		for i := range n {
			h.add(int64(i+1), 1)
		}
		return h
	}
	for _, c := range []struct {
		n, pct int
		want   int64
	}{
		{0, 50, 0}, {1, 50, 1}, {1, 90, 1}, {2, 50, 1}, {2, 90, 2},
		{10, 50, 5}, {10, 90, 9}, {11, 50, 6}, {11, 90, 10}, {100, 90, 90}, {101, 90, 91},
	} {
		if got := seq(c.n).percentile(c.pct); got != c.want {
			t.Errorf("p%d of 1..%d = %d, want %d", c.pct, c.n, got, c.want)
		}
	}
	// Counts, and samples beyond a day (a kiosk's clock days off) in order after the others.
	h := &hist{}
	h.add(3*86400, 2)
	h.add(60, 4)
	h.add(2*86400, 5)
	if m, p := h.percentile(50), h.percentile(90); m != 2*86400 || p != 3*86400 {
		t.Errorf("median %d, p90 %d", m, p)
	}
	if h.percentile(30) != 60 {
		t.Errorf("p30 %d", h.percentile(30))
	}
}

// TestStatsKept: a past day's sum is kept, gives what summing again gives, and is dropped when a
// row of the day is written (here a ticket a kiosk printed offline that day, reported late).
func TestStatsKept(t *testing.T) {
	l := statsScene(t) // its clock: 2026-12-08 10:06
	q := StatsQuery{From: "2026-12-01", To: "2026-12-31", By: ByDay}
	first, err := l.Stats(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	kept := func() []string {
		t.Helper()
		rows, err := l.db.SQL().Query(`SELECT day FROM line_stats_day ORDER BY day`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var days []string
		for rows.Next() {
			var d string
			rows.Scan(&d)
			days = append(days, d)
		}
		return days
	}
	// Every day before today is kept (empty ones too); today and later are not.
	if k := kept(); len(k) != 7 || k[0] != "2026-12-01" || k[6] != "2026-12-07" {
		t.Fatalf("kept days %q", k)
	}
	again, err := l.Stats(ctx, q)
	if err != nil || !reflect.DeepEqual(again, first) {
		t.Fatalf("from the kept sums: %+v %v, summed: %+v", again, err, first)
	}
	for _, by := range []Group{BySection, ByWindow, ByStaff, ByCategory, ByMonth} {
		q := StatsQuery{From: "2026-12-01", To: "2026-12-31", By: by}
		fromKept, err := l.Stats(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.db.SQL().Exec(`DELETE FROM line_stats_day`); err != nil {
			t.Fatal(err)
		}
		summed, err := l.Stats(ctx, q)
		if err != nil || !reflect.DeepEqual(fromKept, summed) {
			t.Errorf("by %s: kept %+v, summed %+v (%v)", by, fromKept, summed, err)
		}
	}
	// A lease ticket printed on the 7th reaches halld on the 8th: the 7th counts it.
	if err := l.Issued(ctx, "k2", Issued{Lease: true, Day: "2026-12-07", Code: "B900", Lookup: "LATE000001",
		IssuedAt: local("2026-12-07 16:00:00")}); err != nil {
		t.Fatal(err)
	}
	if k := kept(); slices.Contains(k, "2026-12-07") || !slices.Contains(k, "2026-12-06") {
		t.Errorf("after the late ticket, kept %q", k)
	}
	late, err := l.Stats(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if late[0].Key != "2026-12-07" || late[0].Issued != first[0].Issued+1 {
		t.Errorf("the 7th after the late ticket: %+v, before %+v", late[0], first[0])
	}
	// A damaged kept value is summed again, not trusted.
	if _, err := l.db.SQL().Exec(`UPDATE line_stats_day SET cells = x'01ff' WHERE day = '2026-12-07'`); err != nil {
		t.Fatal(err)
	}
	if got, err := l.Stats(ctx, q); err != nil || !reflect.DeepEqual(got, late) {
		t.Errorf("with a damaged kept day: %+v %v", got, err)
	}
}

func TestCellsRoundTrip(t *testing.T) {
	cells := []statsCell{
		{kind: cellIssued, section: "户籍区", cat: "A", n: 3, prio: 1},
		{kind: cellCalled, win: "1", staff: "alice", section: "户籍区", cat: "A", n: 4, prio: 1,
			hist: []histBin{{0, 1}, {90, 2}, {3 * 86400, 1}}},
		{kind: cellReturn, staff: "desk", cat: "A", n: 1},
	}
	got, ok := decodeCells(encodeCells(cells))
	if !ok || !reflect.DeepEqual(got, cells) {
		t.Fatalf("round trip: %+v %v", got, ok)
	}
	if got, ok := decodeCells(encodeCells(nil)); !ok || len(got) != 0 {
		t.Errorf("no cells: %+v %v", got, ok)
	}
}

// FuzzDecodeCells: a damaged kept value is refused or read, never a panic, and what is read
// folds without one.
func FuzzDecodeCells(f *testing.F) {
	f.Add(encodeCells([]statsCell{{kind: cellServed, win: "2", staff: "bob", cat: "B", n: 2, hist: []histBin{{30, 1}, {45, 1}}}}))
	f.Add([]byte{cellsVersion, cellCalled, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		cells, ok := decodeCells(b)
		if !ok {
			return
		}
		a := &statsAcc{by: ByWindow, rows: map[string]*statsGroup{}}
		a.fold("2026-12-07", cells)
		a.result(func(string) int { return 0 })
	})
}
