package civic

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"citizenhome/kiosk/queue"

	"citizenhome/telemetry/wire"
)

func TestRateValidation(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	for name, c := range map[string]struct {
		r    Rating
		want error
	}{
		"no overall":             {Rating{}, ErrInvalid},
		"overall 6":              {Rating{Overall: 6}, ErrInvalid},
		"dimension -1":           {Rating{Overall: 5, Skill: -1}, ErrInvalid},
		"bad without reasons":    {Rating{Overall: Dissatisfied}, ErrInvalid},
		"bad dimension, no why":  {Rating{Overall: Satisfied, Attitude: VeryDissatisfied}, ErrInvalid},
		"unknown reason":         {Rating{Overall: 1, Reasons: []Reason{"rude"}}, ErrInvalid},
		"repeated reason":        {Rating{Overall: 1, Reasons: []Reason{ReasonSlow, ReasonSlow}}, ErrInvalid},
		"unknown ticket":         {Rating{Overall: 5, TicketID: 999}, ErrNotFound},
		"negative ticket":        {Rating{Overall: 5, TicketID: -1}, ErrInvalid},
		"good, no reasons":       {Rating{Overall: VerySatisfied, Efficiency: Fair}, nil},
		"bad with reasons":       {Rating{Overall: VeryDissatisfied, Reasons: []Reason{ReasonWaitLong, ReasonManyTrips}}, nil},
		"good with a reason too": {Rating{Overall: Fair, Reasons: []Reason{ReasonMaterials}}, nil},
	} {
		_, err := r.svc.Rate(ctx, c.r)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if n := count(t, r.st, "hall_rating"); n != 3 {
		t.Errorf("%d ratings stored, want the 3 valid ones", n)
	}
	for _, l := range []Level{1, 2, 3, 4, 5} {
		if l.Label().Zh == "" || l.Bad() != (l <= 2) {
			t.Errorf("level %d: %q bad=%v", l, l.Label().Zh, l.Bad())
		}
	}
	if VerySatisfied.Label().Zh != "非常满意" || VeryDissatisfied.Label().Zh != "非常不满意" || Overall.Label().Zh != "整体满意度" {
		t.Error("labels")
	}
}

func TestRateTicketOnceWithEvent(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	tk, err := r.q.Issue(ctx, queue.Request{Category: "B", MatterID: "sb-003", Section: "sb"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.q.Call(ctx, tk.Code, "12"); err != nil {
		t.Fatal(err)
	}
	rt := Rating{Overall: Dissatisfied, Efficiency: VeryDissatisfied, Attitude: Satisfied, Reasons: []Reason{ReasonWaitLong}, TicketID: tk.ID}
	got, err := r.svc.Rate(ctx, rt)
	if err != nil {
		t.Fatal(err)
	}
	if got.Ticket != tk.Code || got.Section != "sb" || got.Window != "12" || got.Matter != "sb-003" || got.ID == 0 {
		t.Errorf("rated %+v", got)
	}
	if _, err := r.svc.Rate(ctx, Rating{Overall: VerySatisfied, TicketID: tk.ID}); !errors.Is(err, ErrAlreadyRated) {
		t.Errorf("second rating of the ticket: %v", err)
	}
	if n := count(t, r.st, "hall_rating"); n != 1 {
		t.Errorf("%d ratings", n)
	}
	ev := r.sink.list()
	if len(ev) != 1 || ev[0].typ != wire.EventRating {
		t.Fatalf("events %+v", ev)
	}
	b, _ := json.Marshal(ev[0].data)
	want := `{"rating":1,"overall":2,"efficiency":1,"attitude":4,"reasons":["wait-long"],"ticket":"B001","day":"2026-11-26","section":"sb","window":"12","matter":"sb-003","ts":"2026-11-26T09:00:00+08:00"}`
	if string(b) != want {
		t.Errorf("event\n got %s\nwant %s", b, want)
	}
	// A rating whose event cannot be recorded is not stored.
	r.sink.fail = errors.New("outbox broken")
	if _, err := r.svc.Rate(ctx, Rating{Overall: 5}); err == nil || count(t, r.st, "hall_rating") != 1 {
		t.Errorf("failing sink: %v, %d ratings", err, count(t, r.st, "hall_rating"))
	}
	// Without a queue a ticket cannot be named.
	noq := newRig(t, func(o *Options) { o.Queue = nil })
	if _, err := noq.svc.Rate(ctx, Rating{Overall: 5, TicketID: 1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no queue: %v", err)
	}
}

// Ratings are counted on the hall's local date: one a second before Shanghai midnight and one at
// midnight land on two days (both are the same day in UTC).
func TestAggregatesByLocalDay(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	call := func(cat, window string) int64 {
		tk, err := r.q.Issue(ctx, queue.Request{Category: cat, Section: map[string]string{"A": "zh", "B": "sb"}[cat]})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.q.Call(ctx, tk.Code, window); err != nil {
			t.Fatal(err)
		}
		return tk.ID
	}
	rate := func(when string, rt Rating) {
		t.Helper()
		r.clock.Set(at(when))
		if _, err := r.svc.Rate(ctx, rt); err != nil {
			t.Fatal(err)
		}
	}
	r.clock.Set(at("2026-11-26 09:00"))
	a1, a2, b1 := call("A", "3"), call("A", "3"), call("B", "12")
	rate("2026-11-26 10:00", Rating{Overall: 5, Efficiency: 5, TicketID: a1})
	rate("2026-11-26 23:59:59", Rating{Overall: 1, Efficiency: 2, Reasons: []Reason{ReasonWaitLong, ReasonSlow}, TicketID: a2})
	rate("2026-11-27 00:00:00", Rating{Overall: 4, Skill: 3, TicketID: b1})
	rate("2026-11-27 10:00", Rating{Overall: 3})
	rate("2026-12-01 10:00", Rating{Overall: 2, Reasons: []Reason{ReasonAttitude}})

	days, err := Aggregates(ctx, r.st, Daily, "2026-11-26", "2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		period, section, window string
		count, bad              int
	}
	var gotRows []row
	for _, a := range days {
		gotRows = append(gotRows, row{a.Period, a.Section, a.Window, a.Count, a.Bad()})
	}
	wantRows := []row{
		{"2026-11-26", "zh", "3", 2, 1},
		{"2026-11-27", "", "", 1, 0},
		{"2026-11-27", "sb", "12", 1, 0},
	}
	if len(gotRows) != len(wantRows) {
		t.Fatalf("daily rows %+v", gotRows)
	}
	for i := range wantRows {
		if gotRows[i] != wantRows[i] {
			t.Errorf("row %d: %+v, want %+v", i, gotRows[i], wantRows[i])
		}
	}
	zh := days[0]
	if zh.Levels[5] != 1 || zh.Levels[1] != 1 || zh.Mean[Overall] != 3 || zh.Mean[Efficiency] != 3.5 || zh.Mean[Skill] != 0 ||
		zh.Reasons[ReasonWaitLong] != 1 || zh.Reasons[ReasonSlow] != 1 || zh.Satisfaction() != 0.5 {
		t.Errorf("2026-11-26 zh: %+v", zh)
	}

	months, err := Aggregates(ctx, r.st, Monthly, "2026-11-01", "2026-12-31")
	if err != nil {
		t.Fatal(err)
	}
	total := map[string]int{}
	for _, a := range months {
		total[a.Period] += a.Count
	}
	if total["2026-11"] != 4 || total["2026-12"] != 1 || len(total) != 2 {
		t.Errorf("monthly totals %v", total)
	}

	var buf bytes.Buffer
	if err := WriteAggregatesCSV(&buf, days); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 4 {
		t.Fatalf("CSV %d rows, %v", len(recs), err)
	}
	head := strings.Join(recs[0], ",")
	if !strings.HasPrefix(head, "period,section,window,count,very_dissatisfied") || !strings.Contains(head, "reason_wait-long") {
		t.Errorf("header %s", head)
	}
	if got := strings.Join(recs[1][:13], ","); got != "2026-11-26,zh,3,2,1,0,0,0,1,1,0.50,3.00,3.50" {
		t.Errorf("first row %s", got)
	}

	for _, bad := range [][3]string{{"week", "2026-11-01", "2026-11-30"}, {"day", "2026-11-31", "2026-12-01"}, {"day", "2026-12-01", "2026-11-01"}} {
		if _, err := Aggregates(ctx, r.st, Period(bad[0]), bad[1], bad[2]); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if (Aggregate{}).Satisfaction() != 0 || math.IsNaN((Aggregate{}).Satisfaction()) {
		t.Error("empty aggregate")
	}
}

// A citizen rates by the number on the ticket: only today's tickets of this queue, once.
func TestRatableTicketByNumber(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	tk, err := r.q.Issue(ctx, queue.Request{Category: "B", MatterID: "sb-003", Section: "sb"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.svc.RatableTicket(ctx, " b001 ")
	if err != nil || got.TicketID != tk.ID || got.Ticket != "B001" || got.Matter != "sb-003" {
		t.Fatalf("ratable %+v, %v", got, err)
	}
	for code, want := range map[string]error{"B002": ErrNotFound, "A001": ErrNotFound, "": ErrInvalid, "B0x1": ErrInvalid} {
		if _, err := r.svc.RatableTicket(ctx, code); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", code, err, want)
		}
	}
	if _, err := r.svc.Rate(ctx, Rating{Overall: VerySatisfied, TicketID: got.TicketID}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.RatableTicket(ctx, "B001"); !errors.Is(err, ErrAlreadyRated) {
		t.Errorf("rated ticket: %v", err)
	}
	// Yesterday's ticket cannot be rated by its number today.
	if _, err := r.q.Issue(ctx, queue.Request{Category: "B", MatterID: "sb-003", Section: "sb"}); err != nil {
		t.Fatal(err)
	}
	r.clock.Add(24 * time.Hour)
	if _, err := r.svc.RatableTicket(ctx, "B002"); !errors.Is(err, ErrNotFound) {
		t.Errorf("yesterday's ticket: %v", err)
	}
	noq := newRig(t, func(o *Options) { o.Queue = nil })
	if _, err := noq.svc.RatableTicket(ctx, "B001"); !errors.Is(err, ErrInvalid) {
		t.Errorf("no queue: %v", err)
	}
}
