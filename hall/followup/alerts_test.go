package followup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/followup"
	"citizenhome/hall/history"
	"citizenhome/hall/ledger"
	"citizenhome/hall/notify"
)

const phone = "13800138000"

// due is the deadline of an order opened on monday: five weekdays later at closing time.
var due = time.Date(2026, 12, 14, 17, 0, 0, 0, cst)

func TestOverdueOrderIsAnAlertUntilClosed(t *testing.T) {
	f := newFixture(t, followup.Options{})
	ctx := context.Background()
	late := f.rating(1, "社保", phone)
	onTime := f.complaint("TS1")
	if !late.Due.Equal(due) || !onTime.Due.Equal(due) {
		t.Fatalf("due %v and %v, want %v", late.Due, onTime.Due, due)
	}
	f.clk.Set(due.Add(-time.Minute))
	f.move(onTime.ID, followup.Answered, onTime.Manager, "已答复")
	if o, _ := f.s.Get(ctx, late.ID); o.Overdue {
		t.Error("overdue before its deadline")
	}
	if as, err := f.s.Alerts(ctx, history.AlertFilter{Open: true}); err != nil || len(as) != 0 {
		t.Fatalf("alerts before the deadline: %+v %v", as, err)
	}
	f.clk.Set(due.Add(time.Minute))
	if o, _ := f.s.Get(ctx, late.ID); !o.Overdue {
		t.Error("not overdue after its deadline")
	}
	if o, _ := f.s.Get(ctx, onTime.ID); o.Overdue {
		t.Error("an order closed in time is overdue")
	}
	if orders, _ := f.s.List(ctx, followup.Filter{Overdue: true}); len(orders) != 1 || orders[0].ID != late.ID {
		t.Errorf("overdue list %+v", orders)
	}
	as, err := f.s.Alerts(ctx, history.AlertFilter{Open: true})
	if err != nil || len(as) != 1 {
		t.Fatalf("open alerts %+v %v", as, err)
	}
	a := as[0]
	if a.ID != -late.ID || a.Kiosk != "" || a.Code != followup.AlertCode || a.Severity != "warning" ||
		a.Device != "section:社保" || !a.Started.Equal(due) || a.Ended != nil {
		t.Errorf("alert %+v", a)
	}
	if id, ok := followup.OrderID(a); !ok || id != late.ID {
		t.Errorf("OrderID %d %v", id, ok)
	}
	if !strings.Contains(a.Message, fmt.Sprint(late.ID)) || !strings.Contains(a.Message, "2026-12-14 17:00") {
		t.Errorf("message %q names neither the order nor its deadline", a.Message)
	}
	for _, personal := range []string{phone, "A012", "staff7", "w3"} {
		if strings.Contains(a.Message, personal) {
			t.Errorf("message %q holds %q", a.Message, personal)
		}
	}
	for name, filter := range map[string]history.AlertFilter{
		"a kiosk": {Kiosk: "k1"}, "another code": {Code: history.KioskLost}, "errors": {Severity: "error"},
		"started after": {Until: due},
	} {
		if as, _ := f.s.Alerts(ctx, filter); len(as) != 0 {
			t.Errorf("%s: %+v", name, as)
		}
	}

	closed := due.Add(17 * time.Hour)
	f.clk.Set(closed)
	f.move(late.ID, followup.CalledBack, "wang", "已回访")
	f.move(late.ID, followup.Rectifying, "wang", "")
	if as, _ := f.s.Alerts(ctx, history.AlertFilter{Open: true}); len(as) != 1 {
		t.Errorf("the order is not closed but its alert is: %+v", as)
	}
	f.move(late.ID, followup.Rectified, "wang", "已整改")
	if as, _ := f.s.Alerts(ctx, history.AlertFilter{Open: true}); len(as) != 0 {
		t.Errorf("still open after closing: %+v", as)
	}
	// What the notifier asks to learn an alert's end.
	as, _ = f.s.Alerts(ctx, history.AlertFilter{Code: followup.AlertCode, Since: due, Until: due.Add(time.Nanosecond)})
	if len(as) != 1 || as[0].Ended == nil || !as[0].Ended.Equal(closed) {
		t.Fatalf("the ended alert %+v", as)
	}
	if as, _ := f.s.Alerts(ctx, history.AlertFilter{Since: closed.Add(time.Second)}); len(as) != 0 {
		t.Errorf("an alert ended before Since: %+v", as)
	}
	if o, _ := f.s.Get(ctx, late.ID); !o.Overdue {
		t.Error("an order closed late is no longer overdue")
	}
}

// An overdue order reaches a person through hall/notify like a kiosk's fault: opened, then ended
// when the order closes, with a link to the order's page and nothing of the citizen.
func TestNotifierSendsOverdueOrders(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("not JSON: %s", b)
		}
		mu.Lock()
		got, bodies = append(got, m), append(bodies, string(b))
		mu.Unlock()
	}))
	defer srv.Close()
	f := newFixture(t, followup.Options{})
	f.db.Close()
	db, err := ledger.Open(f.path, followup.Migrations, notify.Migrations)
	if err != nil {
		t.Fatal(err)
	}
	f.db = db
	if f.s, err = followup.Open(db, f.o); err != nil {
		t.Fatal(err)
	}
	n, err := notify.New(db, f.s, notify.Options{Hall: "开封市民之家", NoDelay: true, Hours: weekdays(t, nil), Now: f.clk.Now,
		ConsoleURL: "https://halld.example:8443/", Channels: []notify.Channel{{Kind: notify.JSON, URL: srv.URL}},
		Jitter: func(d time.Duration) time.Duration { return d }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	o := f.rating(1, "社保", phone)
	step := func(at time.Time) {
		t.Helper()
		f.clk.Set(at)
		if err := n.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	step(due.Add(-time.Minute))
	// Overdue at closing time: the message waits for the hall to open in the morning.
	step(due.Add(time.Minute))
	mu.Lock()
	if len(got) != 0 {
		t.Errorf("sent while the hall is closed: %v", bodies)
	}
	mu.Unlock()
	morning := time.Date(2026, 12, 15, 9, 0, 30, 0, cst)
	step(morning)
	mu.Lock()
	if len(got) != 1 || got[0]["event"] != "opened" || got[0]["kiosk"] != "" {
		t.Fatalf("received %v", bodies)
	}
	url := fmt.Sprintf("https://halld.example:8443/console/orders/%d", o.ID)
	text, _ := got[0]["text"].(string)
	if got[0]["url"] != url || !strings.Contains(text, "大厅告警") || !strings.Contains(text, "工单逾期未办结") ||
		!strings.Contains(text, "科室：社保") || !strings.Contains(text, "查看："+url) || strings.Contains(text, "自助机") {
		t.Errorf("opened message %q, url %v", text, got[0]["url"])
	}
	mu.Unlock()
	f.move(o.ID, followup.CalledBack, "wang", "回访内容")
	f.move(o.ID, followup.Rectifying, "wang", "")
	f.move(o.ID, followup.Rectified, "wang", "整改内容")
	step(morning.Add(time.Minute))
	mu.Lock()
	defer mu.Unlock()
	for _, m := range got {
		t.Logf("%s:\n%s", m["event"], m["text"])
	}
	if len(got) != 2 || got[1]["event"] != "ended" || !strings.Contains(got[1]["text"].(string), "大厅告警已恢复") {
		t.Fatalf("received %v", bodies)
	}
	for _, b := range bodies {
		for _, personal := range []string{phone, "A012", "staff7", "回访内容", "整改内容"} {
			if strings.Contains(b, personal) {
				t.Errorf("a notification holds %q: %s", personal, b)
			}
		}
	}
}

// The phone is sealed in the ledger file, opens for the assigned manager only, survives a
// restart, and is deleted with its order after the retention.
func TestPhoneSealedShownToTheManagerPurgedWithTheOrder(t *testing.T) {
	f := newFixture(t, followup.Options{Retention: 30 * 24 * time.Hour})
	ctx := context.Background()
	o := f.rating(1, "社保", "138 0013 8000")
	without := f.rating(2, "社保", "")
	if o.Manager != "wang" || without.Manager != "li" {
		t.Fatalf("managers %q %q", o.Manager, without.Manager)
	}
	if p, err := f.s.Phone(ctx, o.ID, "wang"); err != nil || p != phone {
		t.Fatalf("the manager reads %q, %v", p, err)
	}
	for _, who := range []string{"li", "zhao", ""} { // another manager of the section, the director, nobody
		if p, err := f.s.Phone(ctx, o.ID, who); !errors.Is(err, followup.ErrForbidden) || p != "" {
			t.Errorf("%q reads %q, %v", who, p, err)
		}
	}
	_, err := f.s.Phone(ctx, without.ID, "li")
	isErr(t, err, followup.ErrNoPhone, "an order without a phone")
	_, err = f.s.Phone(ctx, 99, "wang")
	isErr(t, err, followup.ErrNotFound, "no such order")
	_, err = f.s.OpenRating(ctx, followup.RatingRef{Rating: 3, Level: 2, Phone: "12ab"})
	isErr(t, err, followup.ErrInvalid, "a phone that is none")
	_, err = f.s.OpenRating(ctx, followup.RatingRef{Rating: 3, Level: 3})
	isErr(t, err, followup.ErrInvalid, "a rating that is no 差评")

	// Not in the file in clear (nor its WAL), while the ticket, stored in clear, is found there.
	files := func() []byte {
		var all []byte
		for _, p := range []string{f.path, f.path + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all
	}
	if b := files(); bytes.Contains(b, []byte(phone)) || bytes.Contains(b, []byte("138 0013")) || !bytes.Contains(b, []byte("A012")) {
		t.Errorf("phone in the file %v, ticket in the file %v", bytes.Contains(b, []byte(phone)), bytes.Contains(b, []byte("A012")))
	}
	if strings.Contains(f.log.String(), phone) {
		t.Error("the phone is in the log")
	}
	// Another order's sealed phone copied onto this one does not open: sealed to the order.
	if _, err := f.db.SQL().ExecContext(ctx, `UPDATE followup_order SET phone = (SELECT phone FROM followup_order WHERE id = ?) WHERE id = ?`, o.ID, without.ID); err != nil {
		t.Fatal(err)
	}
	if p, err := f.s.Phone(ctx, without.ID, "li"); err == nil || p != "" {
		t.Errorf("a phone copied to another order opened: %q", p)
	}

	// Restart: the orders, their steps and the phone are there.
	f.move(o.ID, followup.CalledBack, "wang", "已致歉")
	f.db.Close()
	f.open()
	back, err := f.s.Get(ctx, o.ID)
	if err != nil || back.State != followup.CalledBack || len(back.Steps) != 2 || back.Steps[1].Note != "已致歉" ||
		!back.Due.Equal(due) || !back.Opened.Equal(monday) {
		t.Fatalf("after the restart %+v %v", back, err)
	}
	if p, err := f.s.Phone(ctx, o.ID, "wang"); err != nil || p != phone {
		t.Errorf("after the restart the manager reads %q, %v", p, err)
	}
	if next := f.rating(4, "社保", ""); next.ID <= without.ID {
		t.Errorf("a new order took id %d", next.ID)
	}

	// Purge: closed 30 days ago and more go, with steps and phone; open ones stay however old.
	closedAt := monday.Add(24 * time.Hour)
	f.clk.Set(closedAt)
	f.move(o.ID, followup.Rectifying, "wang", "")
	f.move(o.ID, followup.Rectified, "wang", "已整改")
	f.clk.Set(closedAt.Add(30*24*time.Hour - time.Second))
	if n, err := f.s.Purge(ctx); err != nil || n != 0 {
		t.Fatalf("purged %d before the retention ran out: %v", n, err)
	}
	f.clk.Set(closedAt.Add(30*24*time.Hour + time.Second))
	if n, err := f.s.Purge(ctx); err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want 1", n, err)
	}
	_, err = f.s.Get(ctx, o.ID)
	isErr(t, err, followup.ErrNotFound, "a purged order")
	_, err = f.s.Phone(ctx, o.ID, "wang")
	isErr(t, err, followup.ErrNotFound, "a purged order's phone")
	var steps, phones int
	f.db.SQL().QueryRow(`SELECT count(*) FROM followup_step WHERE order_id = ?`, o.ID).Scan(&steps)
	f.db.SQL().QueryRow(`SELECT count(*) FROM followup_order WHERE phone IS NOT NULL`).Scan(&phones)
	if steps != 0 || phones != 1 { // the one left is the copy on the open order 2
		t.Errorf("%d steps and %d phones left", steps, phones)
	}
	if left, _ := f.s.List(ctx, followup.Filter{}); len(left) != 2 {
		t.Errorf("%d orders left, want the 2 open ones", len(left))
	}
}

func TestListFilters(t *testing.T) {
	f := newFixture(t, followup.Options{})
	ctx := context.Background()
	r1 := f.rating(1, "社保", "")
	f.clk.Set(monday.Add(time.Hour))
	r2 := f.rating(2, "公积金", "")
	c := f.complaint("TS9")
	f.move(r2.ID, followup.Rectifying, "zhao", "")
	ids := func(fl followup.Filter) []int64 {
		orders, err := f.s.List(ctx, fl)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, o := range orders {
			out = append(out, o.ID)
		}
		return out
	}
	for name, c := range map[string]struct {
		f    followup.Filter
		want []int64
	}{
		"all, newest first": {followup.Filter{}, []int64{c.ID, r2.ID, r1.ID}},
		"kind":              {followup.Filter{Kind: "complaint"}, []int64{c.ID}},
		"state":             {followup.Filter{State: "rectifying"}, []int64{r2.ID}},
		"section":           {followup.Filter{Section: "社保"}, []int64{c.ID, r1.ID}},
		"manager":           {followup.Filter{Manager: "zhao"}, []int64{r2.ID}},
		"since":             {followup.Filter{Since: monday.Add(time.Minute)}, []int64{c.ID, r2.ID}},
		"until":             {followup.Filter{Until: monday.Add(time.Minute)}, []int64{r1.ID}},
		"limit":             {followup.Filter{Limit: 1}, []int64{c.ID}},
		"overdue":           {followup.Filter{Overdue: true}, nil},
	} {
		if got := ids(c.f); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
	f.move(c.ID, followup.Answered, c.Manager, "答复")
	if got := ids(followup.Filter{Open: true}); fmt.Sprint(got) != fmt.Sprint([]int64{r2.ID, r1.ID}) {
		t.Errorf("open: %v", got)
	}
}

// Ratings arriving together (and twice) open one order each; -race watches the store.
func TestConcurrentOpening(t *testing.T) {
	f := newFixture(t, followup.Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if _, err := f.s.OpenRating(ctx, followup.RatingRef{Rating: int64(i%20 + 1), Level: 1, Section: "社保", Phone: phone}); err != nil {
				t.Error(err)
			}
			if _, err := f.s.Alerts(ctx, history.AlertFilter{Open: true}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	orders, err := f.s.List(ctx, followup.Filter{})
	if err != nil || len(orders) != 20 {
		t.Fatalf("%d orders, %v", len(orders), err)
	}
	per := map[string]int{}
	for _, o := range orders {
		per[o.Manager]++
	}
	if per["wang"] != 10 || per["li"] != 10 {
		t.Errorf("orders per manager %v, want 10 and 10", per)
	}
}
