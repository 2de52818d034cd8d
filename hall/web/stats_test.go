package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/history"
	"citizenhome/hall/ledger/ledgertest"
	"citizenhome/hall/line"
)

// The statistics' routes run the real queue (hall/line) over a temporary ledger; the ratings
// are a fake Satisfaction (hall/rating's part of the issue).

// sceneClock is the queue's clock, set by the scene.
type sceneClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *sceneClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *sceneClock) set(day, hms string) {
	t, err := time.ParseInLocation(time.DateTime, day+" "+hms, line.DefaultLocation())
	if err != nil {
		panic(err)
	}
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// fakeSatisfaction answers for window "1" and the month 2026-12, and records what it was asked.
type fakeSatisfaction struct {
	mu    sync.Mutex
	asked []string
}

func (f *fakeSatisfaction) Satisfaction(_ context.Context, by string, from, to time.Time) ([]Score, error) {
	f.mu.Lock()
	f.asked = append(f.asked, by+" "+from.Format(time.RFC3339)+" "+to.Format(time.RFC3339))
	f.mu.Unlock()
	switch by {
	case "window":
		return []Score{{Key: "1", Ratings: 12, Average: 4.5, Bad: 1, RectifiedInTime: 1}}, nil
	case "month":
		return []Score{{Key: "2026-12", Ratings: 30, Average: 4.2, Bad: 3, RectifiedInTime: 2}}, nil
	}
	return nil, nil
}

// statsLine is a queue of two categories (A 户籍 at windows 1 and 2, B 社保 at 2 and 3).
func statsLine(t testing.TB) (*line.Line, *sceneClock) {
	t.Helper()
	clk := &sceneClock{}
	l, err := line.Open(context.Background(), ledgertest.Open(t, line.Migrations), line.Config{
		Categories: []line.Category{{Letter: "A", Name: "户籍", AvgService: 5 * time.Minute}, {Letter: "B", Name: "社保", AvgService: 5 * time.Minute}},
		Windows: []line.Window{{ID: "1", Categories: []string{"A"}}, {ID: "2", Categories: []string{"A", "B"}},
			{ID: "3", Categories: []string{"B"}}},
		Location: line.DefaultLocation(), Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return l, clk
}

var takeN int

func sceneIssue(t testing.TB, l *line.Line, category, section string, priority bool) {
	t.Helper()
	takeN++
	r := line.Take{ID: fmt.Sprintf("take-%06d", takeN), Category: category, Section: section, Priority: priority}
	if priority {
		r.Reason = line.ReasonElder
	}
	tk, _, err := l.Take(context.Background(), "k1", r)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Issued(context.Background(), "k1", line.Issued{Take: r.ID, Day: tk.Day, Code: tk.Code, Lookup: tk.Lookup}); err != nil {
		t.Fatal(err)
	}
}

func must(t testing.TB) func(line.Ticket, error) {
	return func(_ line.Ticket, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// playMorning: A001 no-show at window 2 and back; A002 (priority) served at 1; B001 at 3.
// Waits: A002 110 s (window 1), A001 180 s (2), B001 280 s (3). Services: A002 240 s, B001
// 120 s, A001 180 s (window 1, from its call: no Start).
func playMorning(t testing.TB, l *line.Line, clk *sceneClock) {
	ctx := context.Background()
	const d = "2026-12-07"
	clk.set(d, "09:00:00")
	sceneIssue(t, l, "A", "户籍区", false)
	clk.set(d, "09:00:10")
	sceneIssue(t, l, "A", "户籍区", true)
	clk.set(d, "09:00:20")
	sceneIssue(t, l, "B", "社保区", false)
	clk.set(d, "09:02:00")
	must(t)(l.Next(ctx, "1", "alice"))
	clk.set(d, "09:02:30")
	must(t)(l.Start(ctx, "1", "alice"))
	clk.set(d, "09:03:00")
	must(t)(l.Next(ctx, "2", "bob"))
	clk.set(d, "09:04:00")
	must(t)(l.NoShow(ctx, "2", "bob"))
	clk.set(d, "09:05:00")
	must(t)(l.Next(ctx, "3", "carol"))
	clk.set(d, "09:05:20")
	must(t)(l.Start(ctx, "3", "carol"))
	clk.set(d, "09:06:30")
	must(t)(l.Done(ctx, "1", "alice"))
	clk.set(d, "09:07:20")
	must(t)(l.Done(ctx, "3", "carol"))
	clk.set(d, "09:10:00")
	must(t)(l.Return(ctx, "A001", "desk"))
	clk.set(d, "09:11:00")
	must(t)(l.Next(ctx, "1", "alice"))
	clk.set(d, "09:14:00")
	must(t)(l.Done(ctx, "1", "alice"))
}

// newStatsHarness is the console harness over the real queue l, with sat as the ratings.
func newStatsHarness(t testing.TB, l *line.Line, sat Satisfaction, realClock bool) *consoleHarness {
	t.Helper()
	c := &consoleHarness{fleet: newFakeFleet(), hist: &fakeHistory{months: map[string][]history.Availability{}}, audit: &fakeAuditor{}}
	c.harness = newHarness(t, func(o *Options) {
		o.Fleet, o.FleetHall, o.History, o.Auditor = c.fleet, testHall, c.hist, c.audit
		o.Queue, o.Location = LineQueue(l), line.DefaultLocation()
		if sat != nil {
			o.Satisfaction = sat
		}
		if realClock {
			o.Now = time.Now
		}
	})
	c.now.Add(3 * time.Hour) // 12:00 on 2026-12-07
	if realClock {
		c.now.mu.Lock()
		c.now.t = time.Now()
		c.now.mu.Unlock()
	}
	if err := c.store.AddAccount(context.Background(), "li", access.Crew, crewPass); err != nil {
		t.Fatal(err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

func TestStatsAPI(t *testing.T) {
	l, clk := statsLine(t)
	playMorning(t, l, clk)
	sat := &fakeSatisfaction{}
	h := newStatsHarness(t, l, sat, false)
	crew, admin := h.tokens[access.Crew], h.tokens[access.Admin]
	get := func(q, tok string) statsJSON {
		t.Helper()
		r := h.do("GET", "/v1/stats?"+q, tok, "")
		h.want(r, 200, "")
		var out statsJSON
		if err := json.Unmarshal(r.body, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := get("from=2026-12-01&to=2027-01-01&by=window", crew)
	want := []statsRowJSON{
		{Key: "1", Priority: 1, PriorityShare: ptr(1.0), Called: 1, Served: 2, WaitMedianS: ptr[int64](110), WaitP90S: ptr[int64](110),
			ServiceMedianS: ptr[int64](180), ServiceP90S: ptr[int64](240), Ratings: &ratingsJSON{Count: 12, Average: 4.5, Bad: 1, RectifiedInTime: 1}},
		{Key: "2", PriorityShare: ptr(0.0), Called: 1, NoShows: 1, WaitMedianS: ptr[int64](180), WaitP90S: ptr[int64](180)},
		{Key: "3", PriorityShare: ptr(0.0), Called: 1, Served: 1, WaitMedianS: ptr[int64](280), WaitP90S: ptr[int64](280),
			ServiceMedianS: ptr[int64](120), ServiceP90S: ptr[int64](120)},
		{Key: "", Returns: 1},
	}
	if got.From != "2026-12-01" || got.To != "2027-01-01" || got.By != "window" || !reflect.DeepEqual(got.Rows, want) {
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(want)
		t.Fatalf("by window:\n got %s\nwant rows %s", a, b)
	}
	if len(got.Notes) != 1 || !strings.Contains(got.Notes[0], "applications_overdue") {
		t.Errorf("notes %q", got.Notes)
	}
	// The ratings were asked for the hall's local midnights.
	if len(sat.asked) != 1 || sat.asked[0] != "window 2026-12-01T00:00:00+08:00 2027-01-01T00:00:00+08:00" {
		t.Errorf("ratings asked %q", sat.asked)
	}

	got = get("from=2026-12-07&to=2026-12-08&by=category", admin)
	wantCat := []statsRowJSON{
		{Key: "A", Issued: ptr(2), Priority: 1, PriorityShare: ptr(0.5), Called: 2, Served: 2, NoShows: 1, Returns: 1,
			WaitMedianS: ptr[int64](110), WaitP90S: ptr[int64](180), ServiceMedianS: ptr[int64](180), ServiceP90S: ptr[int64](240)},
		{Key: "B", Issued: ptr(1), PriorityShare: ptr(0.0), Called: 1, Served: 1,
			WaitMedianS: ptr[int64](280), WaitP90S: ptr[int64](280), ServiceMedianS: ptr[int64](120), ServiceP90S: ptr[int64](120)},
	}
	if !reflect.DeepEqual(got.Rows, wantCat) || len(got.Notes) != 2 {
		a, _ := json.Marshal(got)
		t.Fatalf("by category: %s", a)
	}
	// Nothing the day after; the JSON still has its rows array.
	if r := h.do("GET", "/v1/stats?from=2026-12-08&to=2026-12-09&by=day", crew, ""); r.status != 200 || !bytes.Contains(r.body, []byte(`"rows":[]`)) {
		t.Errorf("an empty day: %d %s", r.status, r.body)
	}

	for _, q := range []string{"by=hour", "from=2026-12-1", "from=2026-12-07&to=2026-12-07", "from=2026-12-08&to=2026-12-07",
		"from=2026-01-01&to=2027-01-03", "to=someday"} {
		h.want(h.do("GET", "/v1/stats?"+q, crew, ""), 400, "bad-query")
	}
	h.want(h.do("GET", "/v1/stats", h.tokens[access.Counter], ""), 403, "forbidden")
	h.want(h.do("GET", "/v1/stats", "", ""), 401, "unauthorized")
	h.want(h.do("GET", "/console/stats.csv", h.tokens[access.Counter], ""), 403, "forbidden")

	// Without a queue that keeps statistics (the fake one): 503.
	bare := newConsoleHarness(t)
	for _, p := range []string{"/v1/stats", "/console/stats.csv"} {
		bare.want(bare.do("GET", p, bare.tokens[access.Crew], ""), 503, "no-stats")
	}
	if r := bare.do("GET", "/console/stats", bare.tokens[access.Crew], "", "Accept", "text/html"); r.status != 503 || !strings.Contains(string(r.body), "统计暂不可用") {
		t.Errorf("/console/stats without statistics: %d %s", r.status, r.body)
	}
}

func TestStatsCSV(t *testing.T) {
	l, clk := statsLine(t)
	playMorning(t, l, clk)
	h := newStatsHarness(t, l, &fakeSatisfaction{}, false)
	r := h.do("GET", "/console/stats.csv?from=2026-12-01&to=2027-01-01&by=window", h.tokens[access.Crew], "")
	h.want(r, 200, "")
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="hall-stats-window-2026-12-01-2027-01-01.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	body, ok := bytes.CutPrefix(r.body, []byte("\ufeff"))
	if !ok {
		t.Fatalf("no byte order mark: %q", r.body[:8])
	}
	if !bytes.Contains(body, []byte("\r\n")) {
		t.Errorf("lines do not end in CRLF")
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// The documented header, word for word (docs/hall-api.md).
	wantHeader := "起始日(from),截止日_不含(to_exclusive),分组方式(group_by),分组(key),取号数(issued),优先号数(priority)," +
		"优先占比_百分比(priority_share_pct),首次叫号数(called),办结数(served),过号数(no_shows),转移数(transfers),过号重排数(returns)," +
		"等候时间中位数_秒(wait_median_s),等候时间90分位_秒(wait_p90_s),办理时间中位数_秒(service_median_s),办理时间90分位_秒(service_p90_s)," +
		"评价数(ratings),平均评价等级(rating_average),差评数(bad_ratings),差评按时整改数(bad_rectified_in_time),办件超期数(applications_overdue)"
	if got := strings.Join(recs[0], ","); got != wantHeader {
		t.Errorf("header\n got %s\nwant %s", got, wantHeader)
	}
	want := [][]string{
		{"2026-12-01", "2027-01-01", "window", "1", "", "1", "100.0", "1", "2", "0", "0", "0", "110", "110", "180", "240", "12", "4.50", "1", "1", ""},
		{"2026-12-01", "2027-01-01", "window", "2", "", "0", "0.0", "1", "0", "1", "0", "0", "180", "180", "", "", "", "", "", "", ""},
		{"2026-12-01", "2027-01-01", "window", "3", "", "0", "0.0", "1", "1", "0", "0", "0", "280", "280", "120", "120", "", "", "", "", ""},
		{"2026-12-01", "2027-01-01", "window", "", "", "0", "", "0", "0", "0", "0", "1", "", "", "", "", "", "", "", "", ""},
	}
	if !reflect.DeepEqual(recs[1:], want) {
		t.Errorf("rows\n got %q\nwant %q", recs[1:], want)
	}
	// By section: the tickets issued are known.
	r = h.do("GET", "/console/stats.csv?from=2026-12-07&to=2026-12-08&by=section", h.tokens[access.Crew], "")
	recs, err = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][3] != "户籍区" || recs[1][4] != "2" || recs[2][3] != "社保区" || recs[2][4] != "1" {
		t.Errorf("by section: %q %v", recs, err)
	}
	h.want(h.do("GET", "/console/stats.csv?by=nothing", h.tokens[access.Crew], ""), 400, "bad-query")

	// The export names no ticket, lookup code or kiosk: only the groups and their figures.
	ts, err := l.Tickets(context.Background(), "", "")
	if err != nil || len(ts) != 3 {
		t.Fatalf("tickets %v %v", ts, err)
	}
	for _, by := range []string{"window", "staff", "section", "category", "day"} {
		r := h.do("GET", "/console/stats.csv?from=2026-12-01&to=2027-01-01&by="+by, h.tokens[access.Crew], "")
		j := h.do("GET", "/v1/stats?from=2026-12-01&to=2027-01-01&by="+by, h.tokens[access.Crew], "")
		for _, tk := range ts {
			for _, s := range []string{tk.Code, tk.Lookup, tk.Kiosk} {
				if bytes.Contains(r.body, []byte(s)) || bytes.Contains(j.body, []byte(s)) {
					t.Errorf("by %s: the export names %q", by, s)
				}
			}
		}
	}
}

func TestStatsPage(t *testing.T) {
	l, clk := statsLine(t)
	playMorning(t, l, clk)
	h := newStatsHarness(t, l, nil, false)
	crew := h.tokens[access.Crew]
	page := func(q string, status int) string {
		t.Helper()
		r := h.do("GET", "/console/stats"+q, crew, "", "Accept", "text/html")
		if r.status != status {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		}
		return string(r.body)
	}
	// Without a query: this month (the harness's clock: 2026-12-07), by window.
	b := page("", 200)
	for _, s := range []string{`<a href="/console/stats" aria-current="page">统计`, `value="2026-12-01"`, `value="2027-01-01"`,
		`<option value="window" selected>`, `href="/console/stats.csv?from=2026-12-01&amp;to=2027-01-01&amp;by=window"`,
		`<tr data-key="1"><th scope="row">1 号窗口</th><td>—</td><td>100.0 %</td><td>1</td><td>2</td>`,
		`<td data-col="wait-median">1:50</td><td data-col="wait-p90">1:50</td><td data-col="service-median">3:00</td><td data-col="service-p90">4:00</td>`,
		`<tr data-key="">`, `前台（过号重排）`, `未接入评价数据`, `halld 没有办件（审批）数据`, `<a href="/console"`} {
		if !strings.Contains(b, s) {
			t.Errorf("the page lacks %s", s)
		}
	}
	b = page("?from=2026-12-07&to=2026-12-08&by=category", 200)
	if !strings.Contains(b, `<tr data-key="A"><th scope="row">A</th><td>2</td><td>50.0 %</td>`) {
		t.Errorf("by category: %s", b)
	}
	b = page("?from=2026-12-09&to=2026-12-08", 400)
	if !strings.Contains(b, `role="alert">from must be before to`) || strings.Contains(b, `id="stats"`) {
		t.Errorf("a bad query: %s", b)
	}
	if b = page("?from=2027-03-01&to=2027-04-01", 200); !strings.Contains(b, "这段时间没有取号记录") {
		t.Errorf("an empty month: %s", b)
	}
}
