package followup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/followup"
	"citizenhome/hall/hours"
	"citizenhome/hall/ledger"
	"citizenhome/seal"
	"citizenhome/telemetry/wire"
)

var cst = time.FixedZone("CST", 8*3600)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Monday 7 December 2026, 10:00 in the hall.
var monday = time.Date(2026, 12, 7, 10, 0, 0, 0, cst)

// weekdays is a Monday-to-Friday hall, 09:00-17:00.
func weekdays(t *testing.T, dates map[string]string) hours.Week {
	t.Helper()
	w, err := hours.Parse(cst, map[string]string{"weekend": "closed"}, dates)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func testSeal(t *testing.T) *seal.Key {
	t.Helper()
	k, err := seal.NewKey(bytes.Repeat([]byte{7}, seal.SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type fixture struct {
	t    *testing.T
	path string
	db   *ledger.DB
	s    *followup.Store
	clk  *clock
	o    followup.Options
	log  *bytes.Buffer
}

// managers: section "社保" has wang and li; the rest, and the reviews, the hall's director zhao.
var managers = map[string][]string{"社保": {"wang", "li"}, "": {"zhao", "qian"}}

func newFixture(t *testing.T, o followup.Options) *fixture {
	t.Helper()
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "hall.db"), clk: &clock{t: monday}, log: &bytes.Buffer{}}
	if o.Hours.IsZero() {
		o.Hours = weekdays(t, nil)
	}
	if o.Managers == nil {
		o.Managers = managers
	}
	if o.Seal == nil {
		o.Seal = testSeal(t)
	}
	o.Now = f.clk.Now
	o.Log = slog.New(slog.NewTextHandler(f.log, nil))
	f.o = o
	f.open()
	t.Cleanup(func() { f.db.Close() })
	return f
}

func (f *fixture) open() {
	f.t.Helper()
	db, err := ledger.Open(f.path, followup.Migrations)
	if err != nil {
		f.t.Fatal(err)
	}
	s, err := followup.Open(db, f.o)
	if err != nil {
		f.t.Fatal(err)
	}
	f.db, f.s = db, s
}

func (f *fixture) rating(id int64, section, phone string) followup.Order {
	f.t.Helper()
	o, err := f.s.OpenRating(context.Background(), followup.RatingRef{Rating: id, Level: 1, Reasons: []string{"attitude", "wait-long"},
		Ticket: "A012", Day: "2026-12-07", Section: section, Window: "w3", Staff: "staff7", Phone: phone})
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

func (f *fixture) complaint(number string) followup.Order {
	f.t.Helper()
	o, err := f.s.OpenComplaint(context.Background(), followup.ComplaintRef{Number: number, Category: "attitude", Section: "社保", At: f.clk.Now()})
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

func (f *fixture) move(id int64, to followup.State, by, note string) followup.Order {
	f.t.Helper()
	o, err := f.s.Move(context.Background(), id, to, by, note)
	if err != nil {
		f.t.Fatalf("move %d to %s by %s: %v", id, to, by, err)
	}
	return o
}

func isErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

func TestRatingOrderRunsItsCourse(t *testing.T) {
	f := newFixture(t, followup.Options{})
	ctx := context.Background()
	o := f.rating(41, "社保", "138-0013-8000")
	if o.Kind != followup.KindRating || o.State != followup.PendingCallback || o.Rating != 41 || o.Level != 1 ||
		o.Section != "社保" || o.Window != "w3" || o.Staff != "staff7" || o.Ticket != "A012" || o.Day != "2026-12-07" ||
		!slices.Equal(o.Reasons, []string{"attitude", "wait-long"}) || !o.HasPhone || o.Closed != nil || o.Overdue {
		t.Fatalf("opened %+v", o)
	}
	if o.Manager != "wang" {
		t.Errorf("manager %q, want wang (the first of the section's, none has an order)", o.Manager)
	}
	if !o.Opened.Equal(monday) || len(o.Steps) != 1 || o.Steps[0].To != followup.PendingCallback || o.Steps[0].From != "" {
		t.Errorf("opening %v, steps %+v", o.Opened, o.Steps)
	}
	// The same rating again (an event delivered twice) is the same order.
	if again := f.rating(41, "社保", ""); again.ID != o.ID || !again.HasPhone {
		t.Errorf("the rating again opened %d (phone %v), want %d", again.ID, again.HasPhone, o.ID)
	}
	// The next goes to the section's other manager, who has fewer open orders.
	if next := f.rating(42, "社保", ""); next.Manager != "li" {
		t.Errorf("second order to %q, want li", next.Manager)
	}
	if other := f.rating(43, "公积金", ""); other.Manager != "zhao" {
		t.Errorf("a section not listed went to %q, want the default zhao", other.Manager)
	}

	// Refused: a real-name 差评 is called back before rectification; no note; not a manager.
	_, err := f.s.Move(ctx, o.ID, followup.Rectifying, "wang", "")
	isErr(t, err, followup.ErrTransition, "rectifying before the call back")
	_, err = f.s.Move(ctx, o.ID, followup.CalledBack, "wang", "  ")
	isErr(t, err, followup.ErrInvalid, "called back without a note")
	_, err = f.s.Move(ctx, o.ID, followup.CalledBack, "zhao", "他说等了一小时")
	isErr(t, err, followup.ErrForbidden, "a manager of another section")
	_, err = f.s.Move(ctx, o.ID, followup.CalledBack, "", "x")
	isErr(t, err, followup.ErrForbidden, "no account")
	_, err = f.s.Move(ctx, o.ID, followup.Answered, "wang", "x")
	isErr(t, err, followup.ErrTransition, "a complaint's state")
	_, err = f.s.Move(ctx, 999, followup.CalledBack, "wang", "x")
	isErr(t, err, followup.ErrNotFound, "no such order")
	_, err = f.s.Move(ctx, o.ID, followup.CalledBack, "wang", strings.Repeat("长", followup.MaxNote+1))
	isErr(t, err, followup.ErrInvalid, "a note too long")

	f.clk.Set(monday.Add(time.Hour))
	f.move(o.ID, followup.CalledBack, "wang", "市民反映窗口等候一小时，已致歉")
	f.clk.Set(monday.Add(2 * time.Hour))
	f.move(o.ID, followup.Rectifying, "li", "") // another manager of the section may act
	f.clk.Set(monday.Add(26 * time.Hour))
	done := f.move(o.ID, followup.Rectified, "wang", "增开一个窗口，高峰期分流")
	if done.State != followup.Rectified || done.Closed == nil || !done.Closed.Equal(monday.Add(26*time.Hour)) || done.Overdue {
		t.Fatalf("rectified %+v", done)
	}
	want := []followup.Step{
		{At: monday, By: "", From: "", To: followup.PendingCallback},
		{At: monday.Add(time.Hour), By: "wang", From: followup.PendingCallback, To: followup.CalledBack, Note: "市民反映窗口等候一小时，已致歉"},
		{At: monday.Add(2 * time.Hour), By: "li", From: followup.CalledBack, To: followup.Rectifying},
		{At: monday.Add(26 * time.Hour), By: "wang", From: followup.Rectifying, To: followup.Rectified, Note: "增开一个窗口，高峰期分流"},
	}
	if !slices.EqualFunc(done.Steps, want, func(a, b followup.Step) bool {
		return a.At.Equal(b.At) && a.By == b.By && a.From == b.From && a.To == b.To && a.Note == b.Note
	}) {
		t.Errorf("steps\n%+v\nwant\n%+v", done.Steps, want)
	}
	_, err = f.s.Move(ctx, o.ID, followup.Appealed, "wang", "x")
	isErr(t, err, followup.ErrTransition, "moving a closed order")

	// An anonymous 差评 (no phone) may go to rectification at once.
	anon := f.rating(44, "社保", "")
	f.move(anon.ID, followup.Rectifying, anon.Manager, "")

	// The notes are the citizen's words: never in the log.
	for _, secret := range []string{"等候一小时", "分流", "13800138000", "0013"} {
		if strings.Contains(f.log.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, f.log.String())
		}
	}
	if !strings.Contains(f.log.String(), "order moved") {
		t.Error("the moves were not logged at all")
	}
}

func TestAppealAndReview(t *testing.T) {
	f := newFixture(t, followup.Options{})
	ctx := context.Background()
	o := f.rating(1, "社保", "")
	_, err := f.s.Move(ctx, o.ID, followup.Appealed, "wang", "")
	isErr(t, err, followup.ErrInvalid, "an appeal without grounds")
	f.move(o.ID, followup.Appealed, "wang", "该市民所办事项不属本窗口，差评系误评")
	_, err = f.s.Move(ctx, o.ID, followup.Reviewed, "wang", "overturned")
	isErr(t, err, followup.ErrForbidden, "the appellant reviewing")
	_, err = f.s.Move(ctx, o.ID, followup.Reviewed, "li", "overturned")
	isErr(t, err, followup.ErrForbidden, "a section manager reviewing")
	_, err = f.s.Move(ctx, o.ID, followup.Reviewed, "zhao", "maybe")
	isErr(t, err, followup.ErrInvalid, "a review without an outcome")
	_, err = f.s.Move(ctx, o.ID, followup.Rectifying, "wang", "")
	isErr(t, err, followup.ErrTransition, "rectifying an appealed order")
	r := f.move(o.ID, followup.Reviewed, "zhao", "Overturned：调取录像，办事人员已告知到位")
	if r.State != followup.Reviewed || r.Outcome != followup.Overturned || r.Closed == nil {
		t.Fatalf("reviewed %+v", r)
	}
	if last := r.Steps[len(r.Steps)-1]; last.By != "zhao" || last.Note != "Overturned：调取录像，办事人员已告知到位" {
		t.Errorf("the review's step %+v", last)
	}
	// An appeal's review by the default managers also for a section of its own (the appellant zhao).
	o2 := f.rating(2, "公积金", "")
	f.move(o2.ID, followup.Appealed, "zhao", "理由")
	_, err = f.s.Move(ctx, o2.ID, followup.Reviewed, "zhao", "upheld")
	isErr(t, err, followup.ErrForbidden, "the appellant zhao reviewing")
	if r := f.move(o2.ID, followup.Reviewed, "qian", "upheld 差评成立"); r.Outcome != followup.Upheld {
		t.Errorf("outcome %q", r.Outcome)
	}
}

func TestComplaintOrder(t *testing.T) {
	f := newFixture(t, followup.Options{})
	ctx := context.Background()
	made := monday.Add(-30 * time.Minute)
	o, err := f.s.OpenComplaint(ctx, followup.ComplaintRef{Number: "TS20261207001", Category: "attitude", Section: "社保", At: made})
	if err != nil {
		t.Fatal(err)
	}
	if o.Kind != followup.KindComplaint || o.State != followup.Accepted || o.Complaint != "TS20261207001" || o.Category != "attitude" ||
		o.Rating != 0 || o.HasPhone || !o.Opened.Equal(made) || o.Steps[0].To != followup.Accepted {
		t.Fatalf("opened %+v", o)
	}
	if again := f.complaint("TS20261207001"); again.ID != o.ID {
		t.Errorf("the complaint again opened order %d", again.ID)
	}
	// A kiosk's clock ahead of the hall's does not open an order in the future.
	ahead, err := f.s.OpenComplaint(ctx, followup.ComplaintRef{Number: "TS2", At: monday.Add(time.Hour)})
	if err != nil || !ahead.Opened.Equal(monday) || ahead.Manager != "zhao" {
		t.Errorf("a complaint from the future: %+v %v", ahead, err)
	}
	_, err = f.s.OpenComplaint(ctx, followup.ComplaintRef{})
	isErr(t, err, followup.ErrInvalid, "no number")
	_, err = f.s.Move(ctx, o.ID, followup.CalledBack, o.Manager, "x")
	isErr(t, err, followup.ErrTransition, "a rating's state on a complaint")
	_, err = f.s.Move(ctx, o.ID, followup.Answered, o.Manager, "")
	isErr(t, err, followup.ErrInvalid, "an answer without its text")
	f.move(o.ID, followup.Handling, o.Manager, "")
	a := f.move(o.ID, followup.Answered, o.Manager, "经核实，已对窗口人员批评教育，感谢您的监督。")
	if a.State != followup.Answered || a.Closed == nil || a.Steps[2].Note != "经核实，已对窗口人员批评教育，感谢您的监督。" {
		t.Fatalf("answered %+v", a)
	}
	_, err = f.s.Move(ctx, o.ID, followup.Handling, o.Manager, "")
	isErr(t, err, followup.ErrTransition, "reopening an answered complaint")
	// Answered straight from accepted.
	f.move(ahead.ID, followup.Answered, "zhao", "已答复")
}

// Every pair of states is tried on an order standing at the first: exactly the moves of
// Transitions are allowed.
func TestOnlyAllowedTransitions(t *testing.T) {
	f := newFixture(t, followup.Options{})
	ctx := context.Background()
	// How to reach each state, from the opening, with a note and account that are accepted.
	paths := map[followup.Kind]map[followup.State][]followup.State{
		followup.KindRating: {
			followup.PendingCallback: nil,
			followup.CalledBack:      {followup.CalledBack},
			followup.Rectifying:      {followup.CalledBack, followup.Rectifying},
			followup.Rectified:       {followup.CalledBack, followup.Rectifying, followup.Rectified},
			followup.Appealed:        {followup.Appealed},
			followup.Reviewed:        {followup.Appealed, followup.Reviewed},
		},
		followup.KindComplaint: {
			followup.Accepted: nil,
			followup.Handling: {followup.Handling},
			followup.Answered: {followup.Handling, followup.Answered},
		},
	}
	all := []followup.State{followup.PendingCallback, followup.CalledBack, followup.Rectifying, followup.Rectified,
		followup.Appealed, followup.Reviewed, followup.Accepted, followup.Handling, followup.Answered, "nonsense"}
	by := func(to followup.State) string {
		if to == followup.Reviewed {
			return "zhao"
		}
		return "wang"
	}
	n := int64(0)
	tried := 0
	for kind, states := range paths {
		for from, path := range states {
			for _, to := range all {
				n++
				var o followup.Order
				if kind == followup.KindRating {
					o = f.rating(n, "社保", "13800138000")
				} else {
					var err error
					if o, err = f.s.OpenComplaint(ctx, followup.ComplaintRef{Number: fmt.Sprintf("C%d", n), Section: "社保"}); err != nil {
						t.Fatal(err)
					}
				}
				for _, st := range path {
					f.move(o.ID, st, by(st), "upheld 说明")
				}
				_, err := f.s.Move(ctx, o.ID, to, by(to), "upheld 说明")
				allowed := slices.Contains(followup.Transitions[kind][from], to) && !(from == followup.PendingCallback && to == followup.Rectifying)
				if allowed && err != nil {
					t.Errorf("%s %s → %s refused: %v", kind, from, to, err)
				}
				if !allowed && !errors.Is(err, followup.ErrTransition) {
					t.Errorf("%s %s → %s: err = %v, want ErrTransition", kind, from, to, err)
				}
				if got, _ := f.s.Get(ctx, o.ID); !allowed && got.State != from {
					t.Errorf("%s %s → %s refused but the order is %s", kind, from, to, got.State)
				}
				tried++
			}
		}
	}
	if tried != (6+3)*len(all) {
		t.Errorf("tried %d moves", tried)
	}
}

func TestDeadlineInWorkingDays(t *testing.T) {
	d := func(day, hm string) time.Time {
		t0, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hm, cst)
		if err != nil {
			t.Fatal(err)
		}
		return t0
	}
	week := weekdays(t, nil)
	// Christmas Friday closed; Saturday 19 December a working day of 调休 on short hours.
	holidays := weekdays(t, map[string]string{"2026-12-25": "closed", "2026-12-19": "09:00-12:00"})
	split, err := hours.Parse(cst, map[string]string{"weekend": "closed", "weekdays": "08:30-12:00,13:30-17:30"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		w      hours.Week
		opened time.Time
		days   int
		want   time.Time
	}{
		{"Monday + 5 weekdays", week, d("2026-12-07", "10:00"), 5, d("2026-12-14", "17:00")},
		{"the opening hour does not matter", week, d("2026-12-07", "16:59"), 5, d("2026-12-14", "17:00")},
		{"before opening too", week, d("2026-12-07", "07:00"), 5, d("2026-12-14", "17:00")},
		{"Thursday across the weekend", week, d("2026-12-03", "10:00"), 5, d("2026-12-10", "17:00")},
		{"Saturday (closed) counts from Monday", week, d("2026-12-05", "11:00"), 5, d("2026-12-11", "17:00")},
		{"Friday + 1", week, d("2026-12-04", "15:00"), 1, d("2026-12-07", "17:00")},
		{"a holiday skipped", holidays, d("2026-12-21", "10:00"), 5, d("2026-12-29", "17:00")},
		{"a working Saturday counted, on its own hours", holidays, d("2026-12-17", "10:00"), 2, d("2026-12-19", "12:00")},
		{"and counted among others", holidays, d("2026-12-17", "10:00"), 5, d("2026-12-23", "17:00")},
		{"split hours end at the last span", split, d("2026-12-07", "10:00"), 2, d("2026-12-09", "17:30")},
		{"5+2 default: every day", hours.Default(cst), d("2026-12-03", "10:00"), 5, d("2026-12-08", "17:00")},
		{"5+2 across the end of the year", hours.Default(cst), d("2026-12-30", "23:59"), 5, d("2027-01-04", "17:00")},
	} {
		got, ok := followup.Deadline(c.w, c.opened, c.days)
		if !ok || !got.Equal(c.want) {
			t.Errorf("%s: %v %v, want %v", c.name, got.In(cst), ok, c.want)
		}
	}
	midnight, _ := hours.Parse(cst, map[string]string{"monday": "20:00-24:00"}, nil)
	if got, ok := followup.Deadline(midnight, d("2026-12-07", "10:00"), 1); !ok || !got.Equal(d("2026-12-08", "17:00")) {
		t.Errorf("open till midnight the next day: %v", got)
	}
	if got, ok := followup.Deadline(midnight, d("2026-12-06", "10:00"), 1); !ok || !got.Equal(d("2026-12-08", "00:00")) {
		t.Errorf("a day open until midnight closes at midnight: %v", got.In(cst))
	}
	closed, _ := hours.Parse(cst, map[string]string{"weekdays": "closed", "weekend": "closed"}, nil)
	if _, ok := followup.Deadline(closed, d("2026-12-07", "10:00"), 1); ok {
		t.Error("a deadline in a calendar without working days")
	}
	db, err := ledger.Open(filepath.Join(t.TempDir(), "l.db"), followup.Migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := followup.Open(db, followup.Options{Hours: closed, Managers: managers, Seal: testSeal(t)}); !errors.Is(err, followup.ErrConfig) {
		t.Errorf("a store over a calendar without working days: %v", err)
	}
	for name, o := range map[string]followup.Options{
		"no seal":            {Managers: managers},
		"no default manager": {Managers: map[string][]string{"社保": {"wang"}}, Seal: testSeal(t)},
		"a section without":  {Managers: map[string][]string{"": {"zhao"}, "社保": nil}, Seal: testSeal(t)},
		"negative retention": {Managers: managers, Seal: testSeal(t), Retention: -time.Hour},
	} {
		if _, err := followup.Open(db, o); !errors.Is(err, followup.ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The store sets the deadline by the calendar and DeadlineDays.
	f := newFixture(t, followup.Options{DeadlineDays: 3})
	if o := f.rating(1, "社保", ""); !o.Due.Equal(d("2026-12-10", "17:00")) {
		t.Errorf("due %v", o.Due.In(cst))
	}
}

// A kiosk's complaint.submitted event opens its order once, dated by the complaint's time; what
// is not a complaint is refused as invalid (a kiosk sending it again would not change that).
func TestComplaintFromKiosk(t *testing.T) {
	f := newFixture(t, followup.Options{})
	ctx := context.Background()
	made := monday.Add(-20 * time.Minute)
	e := wire.Event{ID: "e1", Type: wire.EventComplaint, TS: monday,
		Data: json.RawMessage(`{"number":"TS20261207K7Q2M9","category":"facility","ts":"` + made.Format(time.RFC3339) + `"}`)}
	o, err := f.s.FromKiosk(ctx, "k1", e)
	if err != nil {
		t.Fatal(err)
	}
	if o.Kind != followup.KindComplaint || o.Complaint != "TS20261207K7Q2M9" || o.Category != "facility" || !o.Opened.Equal(made) {
		t.Errorf("order %+v", o)
	}
	if again, err := f.s.FromKiosk(ctx, "k1", e); err != nil || again.ID != o.ID {
		t.Errorf("the event again: %+v %v", again, err)
	}
	_, err = f.s.FromKiosk(ctx, "k1", wire.Event{ID: "e2", Type: wire.EventRating, Data: json.RawMessage(`{}`)})
	isErr(t, err, followup.ErrInvalid, "a rating event")
	_, err = f.s.FromKiosk(ctx, "k1", wire.Event{ID: "e3", Type: wire.EventComplaint, Data: json.RawMessage(`[1]`)})
	isErr(t, err, followup.ErrInvalid, "not a complaint's data")
	_, err = f.s.FromKiosk(ctx, "k1", wire.Event{ID: "e4", Type: wire.EventComplaint, Data: json.RawMessage(`{"category":"x"}`)})
	isErr(t, err, followup.ErrInvalid, "no number")
}

// NeedsNote says what Move enforces: each move it names is refused without a note, the others
// are not.
func TestNeedsNote(t *testing.T) {
	f := newFixture(t, followup.Options{})
	ctx := context.Background()
	want := map[followup.State]bool{followup.CalledBack: true, followup.Rectified: true, followup.Appealed: true,
		followup.Reviewed: true, followup.Answered: true}
	for _, s := range []followup.State{followup.PendingCallback, followup.CalledBack, followup.Rectifying, followup.Rectified,
		followup.Appealed, followup.Reviewed, followup.Accepted, followup.Handling, followup.Answered, "nonsense"} {
		if s.NeedsNote() != want[s] {
			t.Errorf("%s.NeedsNote() = %v", s, s.NeedsNote())
		}
	}
	o := f.rating(1, "社保", "13800138000")
	if _, err := f.s.Move(ctx, o.ID, followup.CalledBack, "wang", " "); !errors.Is(err, followup.ErrInvalid) {
		t.Errorf("called back without a note: %v", err)
	}
	f.move(o.ID, followup.CalledBack, "wang", "已致电")
	if _, err := f.s.Move(ctx, o.ID, followup.Rectifying, "wang", ""); err != nil {
		t.Errorf("rectifying without a note: %v", err)
	}
	if _, err := f.s.Move(ctx, o.ID, followup.Rectified, "wang", ""); !errors.Is(err, followup.ErrInvalid) {
		t.Errorf("rectified without a note: %v", err)
	}
}
