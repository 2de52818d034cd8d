package rating

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/followup"
	"citizenhome/hall/ledger"
	"citizenhome/hall/ledger/ledgertest"
	"citizenhome/hall/line"
	"citizenhome/telemetry/wire"
)

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// orders records the work orders asked for; fail makes the next ones fail.
type orders struct {
	mu   sync.Mutex
	refs []followup.RatingRef
	fail bool
}

func (o *orders) OpenRating(_ context.Context, r followup.RatingRef) (followup.Order, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail {
		return followup.Order{}, errors.New("followup down")
	}
	o.refs = append(o.refs, r)
	return followup.Order{ID: int64(100 + len(o.refs)), Kind: followup.KindRating}, nil
}

func (o *orders) got() []followup.RatingRef {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.refs)
}

type hall struct {
	db     *ledger.DB
	line   *line.Line
	clock  *clock
	orders *orders
	store  *Store
	log    *bytes.Buffer
	takes  int
}

func newHall(t *testing.T) *hall {
	t.Helper()
	db := ledgertest.Open(t, line.Migrations, Migrations)
	loc := line.DefaultLocation()
	c := &clock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, loc)}
	l, err := line.Open(ctx, db, line.Config{
		Categories: []line.Category{{Letter: "A", Name: "户籍"}, {Letter: "B", Name: "社保"}},
		Windows:    []line.Window{{ID: "1", Categories: []string{"A"}}, {ID: "2", Categories: []string{"A", "B"}}},
		Location:   loc, Now: c.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &hall{db: db, line: l, clock: c, orders: &orders{}, log: &bytes.Buffer{}}
	h.store, err = Open(db, l, h.orders, Options{Now: c.Now, Location: loc, Log: slog.New(slog.NewTextHandler(h.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// issue prints a ticket of category in section, as a kiosk does.
func (h *hall) issue(t *testing.T, category, section string) line.Ticket {
	t.Helper()
	h.takes++
	id := fmt.Sprintf("%032x", h.takes)
	tk, _, err := h.line.Take(ctx, "k1", line.Take{ID: id, Category: category, Section: section})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.line.Issued(ctx, "k1", line.Issued{Take: id, Day: tk.Day, Code: tk.Code, Lookup: tk.Lookup}); err != nil {
		t.Fatal(err)
	}
	return tk
}

// serve calls the next ticket at window as staff and finishes it.
func (h *hall) serve(t *testing.T, window, staff string) line.Ticket {
	t.Helper()
	tk, err := h.line.Next(ctx, window, staff)
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Add(3 * time.Minute)
	if _, err := h.line.Done(ctx, window, staff); err != nil {
		t.Fatal(err)
	}
	return tk
}

var evSeq int

// event is a kiosk's rating.submitted with data d (the documented JSON).
func event(d map[string]any) wire.Event {
	evSeq++
	b, _ := json.Marshal(d)
	return wire.Event{ID: fmt.Sprintf("ev-%d", evSeq), Seq: int64(evSeq), TS: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC),
		Type: wire.EventRating, Data: b}
}

func TestFromKiosk(t *testing.T) {
	h := newHall(t)
	a1 := h.issue(t, "A", "户籍区")
	a2 := h.issue(t, "A", "户籍区")
	h.serve(t, "1", "anna")

	// The kiosk's window and section are claims: the queue's are kept.
	e := event(map[string]any{"rating": 41, "overall": 5, "efficiency": 4, "ticket": a1.Code, "day": a1.Day,
		"window": "9", "section": "other", "ts": "2026-12-07T09:10:00+08:00"})
	r, err := h.store.FromKiosk(ctx, "k1", e)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.Status != StatusServed || r.Window != "1" || r.Staff != "anna" || r.Section != "户籍区" ||
		r.Overall != 5 || r.Efficiency != 4 || r.Skill != 0 || r.Source != SourceKiosk || r.Kiosk != "k1" || r.EventID != e.ID || r.Order != 0 {
		t.Errorf("served rating %+v", r)
	}
	if !r.At.Equal(time.Date(2026, 12, 7, 1, 10, 0, 0, time.UTC)) {
		t.Errorf("at %s, want the data's ts", r.At)
	}
	// Re-sent: the same row, nothing added.
	again, err := h.store.FromKiosk(ctx, "k1", e)
	if err != nil || again.ID != r.ID {
		t.Errorf("re-sent: %+v %v", again, err)
	}
	// Another event for the same ticket: kept, refused as rated.
	r2, err := h.store.FromKiosk(ctx, "k1", event(map[string]any{"overall": 3, "ticket": a1.Code, "day": a1.Day, "ts": "2026-12-07T09:11:00+08:00"}))
	if !errors.Is(err, ErrRated) || r2.ID == 0 || r2.Status != StatusRefused || r2.Refusal != CodeRated {
		t.Errorf("second rating: %+v %v", r2, err)
	}

	// Not served yet: kept as refused, ErrNotServed, with no work order even for a 差评.
	bad := event(map[string]any{"overall": 1, "reasons": []string{"wait-long", "attitude"}, "ticket": a2.Code, "day": a2.Day, "ts": "2026-12-07T09:12:00+08:00"})
	r3, err := h.store.FromKiosk(ctx, "k1", bad)
	var re *Error
	if !errors.Is(err, ErrNotServed) || !errors.As(err, &re) || re.Msg == "" || r3.Status != StatusRefused || r3.Refusal != CodeNotServed || r3.Window != "" {
		t.Errorf("unserved: %+v %v", r3, err)
	}
	// Re-sent after it was served: still the first answer (the event is the same).
	h.serve(t, "2", "bo")
	if again, err := h.store.FromKiosk(ctx, "k1", bad); !errors.Is(err, ErrNotServed) || again.ID != r3.ID {
		t.Errorf("re-sent unserved: %+v %v", again, err)
	}
	if len(h.orders.got()) != 0 {
		t.Errorf("orders %+v for refused ratings", h.orders.got())
	}
	if !strings.Contains(h.log.String(), "reason=not-served") {
		t.Errorf("log %q has no refusal", h.log.String())
	}

	// Unknown ticket.
	if r, err := h.store.FromKiosk(ctx, "k1", event(map[string]any{"overall": 4, "ticket": "A999", "day": "2026-12-07", "ts": "2026-12-07T09:13:00+08:00"})); !errors.Is(err, ErrUnknownTicket) || r.Status != StatusRefused {
		t.Errorf("unknown: %+v %v", r, err)
	}

	// A 差评 of a served ticket opens the work order with the lowest level and the service.
	a3 := h.issue(t, "A", "户籍区")
	h.serve(t, "2", "bo")
	r4, err := h.store.FromKiosk(ctx, "k2", event(map[string]any{"overall": 3, "attitude": 2, "reasons": []string{"attitude"},
		"ticket": a3.Code, "day": a3.Day, "ts": "2026-12-07T09:30:00+08:00"}))
	if err != nil || r4.Order != 101 || !r4.Bad() {
		t.Fatalf("差评: %+v %v", r4, err)
	}
	want := followup.RatingRef{Rating: r4.ID, Level: 2, Reasons: []string{"attitude"}, Ticket: a3.Code, Day: a3.Day, Section: "户籍区", Window: "2", Staff: "bo"}
	if got := h.orders.got(); len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint(want) {
		t.Errorf("orders %+v, want %+v", got, want)
	}

	// Without a ticket: unattached, counted, its 差评 followed up too.
	r5, err := h.store.FromKiosk(ctx, "k2", event(map[string]any{"overall": 2, "reasons": []string{"system"}, "day": "2026-12-07", "ts": "2026-12-07T09:40:00+08:00"}))
	if err != nil || r5.Status != StatusUnattached || r5.Order == 0 || r5.Window != "" {
		t.Errorf("unattached: %+v %v", r5, err)
	}

	// Invalid: nothing kept.
	for name, d := range map[string]map[string]any{
		"level 0":           {"overall": 0, "day": "2026-12-07", "ts": "2026-12-07T09:40:00+08:00"},
		"level 6":           {"overall": 6, "day": "2026-12-07", "ts": "2026-12-07T09:40:00+08:00"},
		"dimension 7":       {"overall": 4, "skill": 7, "day": "2026-12-07", "ts": "2026-12-07T09:40:00+08:00"},
		"差评 without reason": {"overall": 1, "day": "2026-12-07", "ts": "2026-12-07T09:40:00+08:00"},
		"reason with comma": {"overall": 1, "reasons": []string{"a,b"}, "day": "2026-12-07", "ts": "2026-12-07T09:40:00+08:00"},
		"reason twice":      {"overall": 1, "reasons": []string{"slow", "slow"}, "day": "2026-12-07", "ts": "2026-12-07T09:40:00+08:00"},
		"bad day":           {"overall": 4, "day": "7/12", "ts": "2026-12-07T09:40:00+08:00"},
	} {
		if _, err := h.store.FromKiosk(ctx, "k1", event(d)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	notJSON := event(nil)
	notJSON.Data = json.RawMessage(`[1]`)
	if _, err := h.store.FromKiosk(ctx, "k1", notJSON); !errors.Is(err, ErrInvalid) {
		t.Errorf("not an object: %v", err)
	}
	other := event(map[string]any{"overall": 4})
	other.Type = wire.EventComplaint
	if _, err := h.store.FromKiosk(ctx, "k1", other); !errors.Is(err, ErrInvalid) {
		t.Errorf("a complaint: %v", err)
	}
	all, err := h.store.List(ctx, Filter{})
	if err != nil || len(all) != 6 {
		t.Errorf("kept %d ratings, want 6: %v", len(all), err)
	}
}

func TestOrderRetried(t *testing.T) {
	h := newHall(t)
	a1 := h.issue(t, "A", "")
	a2 := h.issue(t, "A", "")
	h.serve(t, "1", "anna")
	h.orders.fail = true
	e := event(map[string]any{"overall": 1, "reasons": []string{"slow"}, "ticket": a1.Code, "day": a1.Day, "ts": "2026-12-07T09:10:00+08:00"})
	r, err := h.store.FromKiosk(ctx, "k1", e)
	if err == nil || errors.Is(err, ErrInvalid) || r.ID == 0 || r.Order != 0 {
		t.Fatalf("order failing: %+v %v", r, err)
	}
	h.orders.fail = false
	// The kiosk sends the event again (it was not acknowledged): the order opens, once.
	r, err = h.store.FromKiosk(ctx, "k1", e)
	if err != nil || r.Order == 0 {
		t.Fatalf("re-sent: %+v %v", r, err)
	}
	if _, err := h.store.FromKiosk(ctx, "k1", e); err != nil || len(h.orders.got()) != 1 {
		t.Errorf("third: %v, orders %d", err, len(h.orders.got()))
	}
	// A pad 差评 whose order fails is opened by OpenMissing, without its phone.
	h.serve(t, "1", "anna")
	h.orders.fail = true
	pr, err := h.store.FromPad(ctx, "1", PadRating{Overall: 2, Reasons: []string{"attitude"}, Phone: "13800138000"})
	if err == nil || pr.ID == 0 {
		t.Fatalf("pad with orders down: %+v %v", pr, err)
	}
	h.orders.fail = false
	if n, err := h.store.OpenMissing(ctx); err != nil || n != 1 {
		t.Fatalf("open missing: %d %v", n, err)
	}
	got := h.orders.got()
	if len(got) != 2 || got[1].Ticket != a2.Code || got[1].Phone != "" {
		t.Errorf("orders %+v", got)
	}
	if n, err := h.store.OpenMissing(ctx); err != nil || n != 0 {
		t.Errorf("open missing again: %d %v", n, err)
	}
}

func TestFromPad(t *testing.T) {
	h := newHall(t)
	_, err := h.store.FromPad(ctx, "1", PadRating{Overall: 5})
	if !errors.Is(err, ErrNoTicket) {
		t.Errorf("nothing done: %v", err)
	}
	if _, err := h.store.Awaiting(ctx, "7"); !errors.Is(err, ErrNoTicket) {
		t.Errorf("unknown window: %v", err)
	}
	a1 := h.issue(t, "A", "户籍区")
	a2 := h.issue(t, "A", "户籍区")
	h.serve(t, "1", "anna")
	o, err := h.store.Awaiting(ctx, "1")
	if err != nil || o.Ticket != a1.Code || o.Day != a1.Day {
		t.Fatalf("awaiting %+v %v", o, err)
	}
	if _, err := h.store.Awaiting(ctx, "2"); !errors.Is(err, ErrNoTicket) {
		t.Errorf("window 2 awaits: %v", err)
	}
	// Invalid input is refused before anything.
	for name, in := range map[string]PadRating{
		"level 0":        {},
		"no reason":      {Overall: 2},
		"phone letters":  {Overall: 1, Reasons: []string{"slow"}, Phone: "138-0013"},
		"phone too long": {Overall: 1, Reasons: []string{"slow"}, Phone: strings.Repeat("1", 21)},
	} {
		if _, err := h.store.FromPad(ctx, "1", in); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The offer was for a1; a2 finished meanwhile: refused, the pad offers again.
	h.serve(t, "1", "anna")
	if _, err := h.store.FromPad(ctx, "1", PadRating{Overall: 5, Day: o.Day, Ticket: o.Ticket}); !errors.Is(err, ErrNoTicket) {
		t.Errorf("stale offer: %v", err)
	}
	r, err := h.store.FromPad(ctx, "1", PadRating{Overall: 1, Efficiency: 2, Skill: 3, Attitude: 1,
		Reasons: []string{"attitude", "slow"}, Phone: "13800138000", Day: a2.Day, Ticket: a2.Code})
	if err != nil {
		t.Fatal(err)
	}
	if r.Source != SourcePad || r.Ticket != a2.Code || r.Window != "1" || r.Staff != "anna" || r.Section != "户籍区" || r.Order == 0 || r.Status != StatusServed {
		t.Errorf("pad rating %+v", r)
	}
	got := h.orders.got()
	if len(got) != 1 || got[0].Phone != "13800138000" || got[0].Level != 1 || got[0].Window != "1" {
		t.Errorf("orders %+v", got)
	}
	// Rated: refused, and no longer offered.
	if _, err := h.store.FromPad(ctx, "1", PadRating{Overall: 5}); !errors.Is(err, ErrRated) {
		t.Errorf("twice: %v", err)
	}
	if _, err := h.store.Awaiting(ctx, "1"); !errors.Is(err, ErrRated) {
		t.Errorf("awaiting a rated one: %v", err)
	}
	// A kiosk rating of the same ticket comes later: kept, refused.
	if _, err := h.store.FromKiosk(ctx, "k1", event(map[string]any{"overall": 5, "ticket": a2.Code, "day": a2.Day, "ts": "2026-12-07T09:40:00+08:00"})); !errors.Is(err, ErrRated) {
		t.Errorf("kiosk after pad: %v", err)
	}

	// The grace: 10 minutes after the end.
	h.issue(t, "A", "")
	h.issue(t, "A", "")
	h.serve(t, "1", "anna")
	h.clock.Add(DefaultGrace - time.Second)
	if r, err := h.store.FromPad(ctx, "1", PadRating{Overall: 4, Phone: "13800138000"}); err != nil || r.Order != 0 {
		t.Errorf("within the grace: %+v %v", r, err)
	}
	if len(h.orders.got()) != 1 {
		t.Error("a good rating opened an order")
	}
	h.serve(t, "1", "anna")
	h.clock.Add(DefaultGrace)
	if _, err := h.store.FromPad(ctx, "1", PadRating{Overall: 4}); !errors.Is(err, ErrExpired) {
		t.Errorf("after the grace: %v", err)
	}
	// No phone anywhere in the ledger, nor in the log.
	var n int
	if err := h.db.SQL().QueryRow(`SELECT count(*) FROM rating WHERE ' ' || source || kiosk || coalesce(event_id, '') || day || ticket || win || staff || section || reasons || refusal LIKE '%13800138000%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("phone found in %d rows (%v)", n, err)
	}
	if strings.Contains(h.log.String(), "13800138000") {
		t.Error("phone in the log")
	}
}

func TestSatisfaction(t *testing.T) {
	h := newHall(t)
	rate := func(window, staff, section string, in PadRating) {
		t.Helper()
		h.issue(t, "A", section)
		h.serve(t, window, staff)
		if _, err := h.store.FromPad(ctx, window, in); err != nil {
			t.Fatal(err)
		}
	}
	rate("1", "anna", "户籍区", PadRating{Overall: 5})
	rate("1", "anna", "户籍区", PadRating{Overall: 4})
	rate("1", "bo", "户籍区", PadRating{Overall: 2, Reasons: []string{"slow"}})
	rate("2", "chen", "社保区", PadRating{Overall: 3, Attitude: 1, Reasons: []string{"attitude"}})
	// Unattached and refused kiosk ratings.
	if _, err := h.store.FromKiosk(ctx, "k1", event(map[string]any{"overall": 5, "day": "2026-12-07", "ts": "2026-12-07T10:00:00+08:00"})); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.FromKiosk(ctx, "k1", event(map[string]any{"overall": 1, "reasons": []string{"slow"}, "ticket": "A500", "day": "2026-12-07", "ts": "2026-12-07T10:00:00+08:00"})); !errors.Is(err, ErrUnknownTicket) {
		t.Fatal(err)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	by := func(what string) map[string]Score {
		t.Helper()
		sc, err := h.store.Satisfaction(ctx, what, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]Score{}
		for _, s := range sc {
			m[s.Key] = s
		}
		return m
	}
	w := by("window")
	if s := w["1"]; s.Count != 3 || !near(s.Mean, 11.0/3) || !near(s.Satisfied, 2.0/3) || s.Bad != 1 || s.Refused != 0 {
		t.Errorf("window 1: %+v", s)
	}
	if s := w["2"]; s.Count != 1 || s.Mean != 3 || s.Satisfied != 0 || s.Bad != 1 {
		t.Errorf("window 2: %+v", s)
	}
	if s := w[""]; s.Count != 1 || s.Mean != 5 || s.Refused != 1 {
		t.Errorf("no window: %+v", s)
	}
	if s := by("staff")["anna"]; s.Count != 2 || s.Mean != 4.5 || s.Satisfied != 1 || s.Bad != 0 {
		t.Errorf("anna: %+v", s)
	}
	if s := by("section")["社保区"]; s.Count != 1 || s.Bad != 1 {
		t.Errorf("社保区: %+v", s)
	}
	m := by("month")
	if s := m["2026-12"]; len(m) != 1 || s.Count != 5 || s.Bad != 2 || s.Refused != 1 || !near(s.Mean, 19.0/5) {
		t.Errorf("months %+v", m)
	}
	// Bounds: none before 9:00 local.
	sc, err := h.store.Satisfaction(ctx, "window", time.Time{}, time.Date(2026, 12, 7, 9, 0, 0, 0, line.DefaultLocation()))
	if err != nil || len(sc) != 0 {
		t.Errorf("before the day: %+v %v", sc, err)
	}
	if _, err := h.store.Satisfaction(ctx, "year", time.Time{}, time.Time{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("by year: %v", err)
	}
	l, err := h.store.List(ctx, Filter{Window: "1", Limit: 2})
	if err != nil || len(l) != 2 || l[0].Overall != 2 || l[1].Overall != 4 {
		t.Errorf("list: %+v %v", l, err)
	}
	if l, err := h.store.List(ctx, Filter{Status: StatusRefused}); err != nil || len(l) != 1 || l[0].Refusal != CodeUnknownTicket {
		t.Errorf("refused: %+v %v", l, err)
	}
}

func TestOpen(t *testing.T) {
	db := ledgertest.Open(t, line.Migrations)
	l, err := line.Open(ctx, db, line.Config{Categories: []line.Category{{Letter: "A"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(nil, l, nil, Options{}); !errors.Is(err, ErrConfig) {
		t.Errorf("no db: %v", err)
	}
	if _, err := Open(db, nil, nil, Options{}); !errors.Is(err, ErrConfig) {
		t.Errorf("no queue: %v", err)
	}
	if _, err := Open(db, l, nil, Options{Grace: -1}); !errors.Is(err, ErrConfig) {
		t.Errorf("negative grace: %v", err)
	}
	if _, err := Open(db, l, nil, Options{}); err == nil {
		t.Error("opened without the rating table")
	}
}
