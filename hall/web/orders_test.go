package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/followup"
	"citizenhome/hall/hours"
	"citizenhome/hall/ledger/ledgertest"
	"citizenhome/seal"
)

// The work orders' tests run the real hall/followup over a temporary ledger (its phones sealed
// under a test key), the real access store, and a fake auditor.

// Accounts: zhang (crew) and chen (counter staff) manage section 社保, wang (counter) 户籍; li
// (crew) manages nothing; zhao (admin) is the hall's default manager, who reviews appeals.
var orderManagers = map[string][]string{"社保": {"zhang", "chen"}, "户籍": {"wang"}, "": {"zhao"}}

const (
	testPhone = "13912345678"
	adminPass = "admin-pass-12345"
)

type ordersHarness struct {
	*harness
	fo    *followup.Store
	clk   *testClock // followup's and the pages' clock
	audit *fakeAuditor
	log   *lockedBuf
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// newOrdersHarness starts halld's server with work orders at now (the browser test: the real
// time, which its session cookie needs).
func newOrdersHarness(t testing.TB, now time.Time) *ordersHarness {
	t.Helper()
	key, err := seal.NewKey(bytes.Repeat([]byte{9}, seal.SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	week, err := hours.Parse(day.Location(), map[string]string{"weekend": "closed"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &ordersHarness{clk: &testClock{t: now}, audit: &fakeAuditor{}, log: &lockedBuf{}}
	h.fo, err = followup.Open(ledgertest.Open(t, followup.Migrations), followup.Options{Hours: week, Managers: orderManagers,
		Seal: key, Now: h.clk.Now, Log: slog.New(slog.NewTextHandler(h.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.harness = newHarness(t, func(o *Options) {
		o.Orders, o.Auditor, o.Location, o.Now = h.fo, h.audit, day.Location(), h.clk.Now
		o.Log = slog.New(slog.NewTextHandler(h.log, nil))
	})
	h.harness.now.mu.Lock()
	h.harness.now.t = now
	h.harness.now.mu.Unlock()
	ctx := context.Background()
	for name, role := range map[string]access.Role{"zhang": access.Crew, "li": access.Crew, "chen": access.Counter, "zhao": access.Admin} {
		pass := crewPass
		if role == access.Counter {
			pass = "counter-pass-1"
		} else if role == access.Admin {
			pass = adminPass
		}
		if err := h.store.AddAccount(ctx, name, role, pass); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h *ordersHarness) rating(id int64, section, phone string) followup.Order {
	h.t.Helper()
	o, err := h.fo.OpenRating(context.Background(), followup.RatingRef{Rating: id, Level: 1, Reasons: []string{"attitude", "wait-long"},
		Ticket: "A012", Day: "2026-12-07", Section: section, Window: "3", Staff: "staff7", Phone: phone})
	if err != nil {
		h.t.Fatal(err)
	}
	return o
}

func (h *ordersHarness) complaint(number, section string) followup.Order {
	h.t.Helper()
	o, err := h.fo.OpenComplaint(context.Background(), followup.ComplaintRef{Number: number, Category: "efficiency", Section: section, At: h.clk.Now()})
	if err != nil {
		h.t.Fatal(err)
	}
	return o
}

func (h *ordersHarness) move(id int64, to followup.State, by, note string) {
	h.t.Helper()
	if _, err := h.fo.Move(context.Background(), id, to, by, note); err != nil {
		h.t.Fatalf("move %d to %s: %v", id, to, err)
	}
}

// form posts a console form with a session's cookie.
func (h *ordersHarness) form(path, cookie string, v url.Values) reply {
	h.t.Helper()
	return h.do("POST", path, "", v.Encode(), "Cookie", cookie, "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
}

func (h *ordersHarness) page(path, cookie string) reply {
	h.t.Helper()
	return h.do("GET", path, "", "", "Cookie", cookie, "Accept", "text/html")
}

func (h *ordersHarness) token(name string, role access.Role) string {
	h.t.Helper()
	tok, err := h.store.CreateToken(context.Background(), name, role)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// audits returns the audit's entries of action.
func (h *ordersHarness) audits(action string) []access.Entry {
	var out []access.Entry
	for _, e := range h.audit.all() {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

func TestOrdersAPI(t *testing.T) {
	now := day.Add(3 * time.Hour) // Monday 12:00
	h := newOrdersHarness(t, now)
	r1 := h.rating(1, "社保", testPhone)
	c1 := h.complaint("C0001", "户籍")
	crew, counter := h.tokens[access.Crew], h.tokens[access.Counter]

	r := h.do("GET", "/v1/orders", crew, "")
	h.want(r, 200, "")
	var got struct{ Orders []followup.Order }
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Orders) != 2 || got.Orders[0].ID != c1.ID || got.Orders[1].ID != r1.ID {
		t.Fatalf("orders %s", r.body)
	}
	o := got.Orders[1]
	if o.State != followup.PendingCallback || o.Manager != "zhang" || !o.HasPhone || o.Window != "3" || len(o.Reasons) != 2 || len(o.Steps) != 1 {
		t.Errorf("the rating's order %+v", o)
	}
	if !strings.Contains(string(r.body), `"opened":"2026-12-07T12:00:00+08:00"`) || !strings.Contains(string(r.body), `"due":"2026-12-14T17:00:00+08:00"`) {
		t.Errorf("times not in the hall's zone to the second: %s", r.body)
	}
	if strings.Contains(string(r.body), testPhone) || strings.Contains(string(r.body), "5678") {
		t.Fatalf("the phone is in the API's answer: %s", r.body)
	}
	// Filters.
	for q, want := range map[string]int{"kind=complaint": 1, "kind=rating&state=pending-callback": 1, "section=户籍": 1,
		"state=rectified": 0, "open=1": 2, "overdue=1": 0, "limit=1": 1} {
		r := h.do("GET", "/v1/orders?"+q, crew, "")
		h.want(r, 200, "")
		if n := len(r.json(t)["orders"].([]any)); n != want {
			t.Errorf("%s: %d orders, want %d", q, n, want)
		}
	}
	for q, code := range map[string]string{"kind=praise": "bad-kind", "state=done": "bad-state", "limit=0": "bad-limit", "limit=x": "bad-limit"} {
		h.want(h.do("GET", "/v1/orders?"+q, crew, ""), 400, code)
	}
	// mine: the caller's own.
	zhang := h.token("zhang", access.Crew)
	if n := len(h.do("GET", "/v1/orders?mine=1", zhang, "").json(t)["orders"].([]any)); n != 1 {
		t.Errorf("zhang's orders: %d", n)
	}
	if n := len(h.do("GET", "/v1/orders?mine=1", crew, "").json(t)["orders"].([]any)); n != 0 {
		t.Errorf("tok-crew's orders: %d", n)
	}

	// Rights: counter staff do not list; they read an order assigned to them only.
	h.want(h.do("GET", "/v1/orders", counter, ""), 403, "forbidden")
	h.want(h.do("GET", "/v1/orders", "", ""), 401, "unauthorized")
	wang := h.token("wang", access.Counter)
	h.want(h.do("GET", fmt.Sprintf("/v1/orders/%d", c1.ID), wang, ""), 200, "")
	h.want(h.do("GET", fmt.Sprintf("/v1/orders/%d", r1.ID), wang, ""), 403, "forbidden")
	h.want(h.do("GET", "/v1/orders/999", crew, ""), 404, "not-found")
	h.want(h.do("GET", "/v1/orders/abc", crew, ""), 404, "not-found")
	h.want(h.do("POST", fmt.Sprintf("/v1/orders/%d/moves", r1.ID), "", `{"to":"called-back","note":"x"}`), 401, "unauthorized")

	// Moves: followup's refusals mapped, then the workflow.
	path := fmt.Sprintf("/v1/orders/%d/moves", r1.ID)
	h.want(h.do("POST", path, zhang, `{"to":"called-back"}`), 400, "invalid-request")
	h.want(h.do("POST", path, zhang, `{"to":"rectifying"}`), 409, "transition") // a real-name 差评 is called back first
	h.want(h.do("POST", path, crew, `{"to":"called-back","note":"已回访"}`), 403, "forbidden")
	h.want(h.do("POST", path, zhang, `not json`), 400, "bad-json")
	h.want(h.do("POST", "/v1/orders/999/moves", zhang, `{"to":"called-back","note":"x"}`), 404, "not-found")
	const note = "群众反映等候四十分钟，已致歉"
	r = h.do("POST", path, zhang, `{"to":"called-back","note":"`+note+`"}`)
	h.want(r, 200, "")
	var moved struct{ Order followup.Order }
	json.Unmarshal(r.body, &moved)
	if moved.Order.State != followup.CalledBack || len(moved.Order.Steps) != 2 || moved.Order.Steps[1].By != "zhang" || moved.Order.Steps[1].Note != note {
		t.Errorf("moved %s", r.body)
	}
	// chen, counter staff but a manager of 社保, may move it; the bearer's name is "by".
	chen := h.token("chen", access.Counter)
	h.want(h.do("POST", path, chen, `{"to":"rectifying"}`), 200, "")
	if o, _ := h.fo.Get(context.Background(), r1.ID); o.State != followup.Rectifying || o.Steps[2].By != "chen" {
		t.Errorf("after chen's move: %+v", o)
	}

	// Every move is audited, refused ones too, with from→to and never the note.
	moves := h.audits("order-move")
	if len(moves) != 6 {
		t.Fatalf("%d moves audited: %+v", len(moves), moves)
	}
	ok := moves[4]
	if ok.Who != "zhang" || ok.Target != strconv.FormatInt(r1.ID, 10) || ok.Detail != "pending-callback→called-back" || ok.Outcome != access.OutcomeOK {
		t.Errorf("the move's audit %+v", ok)
	}
	if moves[0].Outcome != "invalid-request" || moves[1].Outcome != "transition" || moves[2].Outcome != "forbidden" || moves[2].Who != "tok-crew" ||
		moves[3].Outcome != "not-found" || moves[5].Who != "chen" {
		t.Errorf("refusals audited %+v", moves)
	}
	for _, e := range h.audit.all() {
		if strings.Contains(e.Detail, "群众") {
			t.Errorf("a note in the audit: %+v", e)
		}
	}
	if log := h.log.String(); strings.Contains(log, "群众") || strings.Contains(log, testPhone) {
		t.Errorf("a note or the phone in the log:\n%s", log)
	}
}

func TestOrderPages(t *testing.T) {
	now := day.Add(3 * time.Hour)
	h := newOrdersHarness(t, now)
	r1 := h.rating(1, "社保", testPhone)
	r2 := h.rating(2, "社保", "")
	c1 := h.complaint("C0001", "户籍")
	zc, zcsrf, _ := h.login("zhang", crewPass)
	lc, lcsrf, _ := h.login("li", crewPass)
	orderPath := fmt.Sprintf("/console/orders/%d", r1.ID)

	// The list: each order in Chinese; not overdue yet.
	r := h.page("/console/orders", zc)
	h.want(r, 200, "")
	body := string(r.body)
	for _, s := range []string{`href="/console/orders" aria-current="page">工单<`, `data-order="` + strconv.FormatInt(r1.ID, 10) + `"`,
		"待回访", "受理", "差评", "投诉", "社保", "窗口 3", "2026-12-14 17:00", "zhang", "wang"} {
		if !strings.Contains(body, s) {
			t.Errorf("the list lacks %q", s)
		}
	}
	if strings.Contains(body, "已逾期") {
		t.Errorf("an order is overdue already")
	}
	if r := h.page("/console/orders?state=nonsense", zc); r.status != 400 || !strings.Contains(string(r.body), "筛选条件有误") {
		t.Errorf("a bad filter: %d", r.status)
	}
	if r := h.page("/console/orders?kind=complaint", zc); strings.Count(string(r.body), "<tr data-order") != 1 {
		t.Errorf("kind=complaint lists %d", strings.Count(string(r.body), "<tr data-order"))
	}
	// r2 went to chen, the manager of 社保 with fewer open orders then.
	if r := h.page("/console/orders?mine=1", zc); strings.Count(string(r.body), "<tr data-order") != 1 {
		t.Errorf("mine lists %d for zhang", strings.Count(string(r.body), "<tr data-order"))
	}

	// The manager's page: the button, no digits until it is pressed.
	r = h.page(orderPath, zc)
	h.want(r, 200, "")
	body = string(r.body)
	for _, s := range []string{`id="show-phone"`, "显示电话", "非常不满意", "服务态度不好", "等候时间长", "开单 → 待回访",
		`data-to="called-back"`, `data-to="appealed"`, `name="csrf" value="` + zcsrf + `"`} {
		if !strings.Contains(body, s) {
			t.Errorf("the manager's page lacks %q", s)
		}
	}
	if strings.Contains(body, `data-to="rectifying"`) {
		t.Errorf("rectifying offered before the real-name 差评 was called back")
	}
	if strings.Contains(body, testPhone) || strings.Contains(body, "5678") {
		t.Fatalf("the phone is on the page before the button")
	}
	// Without the CSRF token: refused, nothing read, nothing audited.
	h.want(h.form(orderPath+"/phone", zc, url.Values{}), 403, "csrf")
	if n := len(h.audits("order-phone")); n != 0 {
		t.Fatalf("%d readings audited", n)
	}
	r = h.form(orderPath+"/phone", zc, url.Values{"csrf": {zcsrf}})
	h.want(r, 200, "")
	if !strings.Contains(string(r.body), `<b id="phone">`+testPhone+`</b>`) {
		t.Errorf("the manager does not see the phone: %s", r.body)
	}
	if a := h.audits("order-phone"); len(a) != 1 || a[0].Who != "zhang" || a[0].Target != strconv.FormatInt(r1.ID, 10) || a[0].Outcome != access.OutcomeOK ||
		strings.Contains(a[0].Detail, "5678") {
		t.Errorf("the reading's audit %+v", a)
	}

	// Another crew member: no button, no digits, and the POST is 403, audited.
	r = h.page(orderPath, lc)
	h.want(r, 200, "")
	if body := string(r.body); strings.Contains(body, "show-phone") || strings.Contains(body, "5678") || !strings.Contains(body, "仅负责人 zhang 可查看") {
		t.Errorf("li's page: %s", body)
	}
	r = h.form(orderPath+"/phone", lc, url.Values{"csrf": {lcsrf}})
	if r.status != 403 || strings.Contains(string(r.body), "5678") || !strings.Contains(string(r.body), "只有负责人 zhang") {
		t.Errorf("li's reading: %d %s", r.status, r.body)
	}
	if a := h.audits("order-phone"); len(a) != 2 || a[1].Who != "li" || a[1].Outcome != "forbidden" {
		t.Errorf("li's reading audited %+v", a)
	}
	// An order without a phone: nothing to show, and no button.
	if body := string(h.page(fmt.Sprintf("/console/orders/%d", r2.ID), zc).body); strings.Contains(body, "show-phone") || strings.Contains(body, "群众电话") {
		t.Errorf("an order without a phone offers one")
	}
	if r := h.form(fmt.Sprintf("/console/orders/%d/phone", r2.ID), zc, url.Values{"csrf": {zcsrf}}); r.status != 403 {
		t.Errorf("the phone of another's order: %d", r.status)
	}
	chc, chcsrf, _ := h.login("chen", "counter-pass-1") // counter staff, r2's manager
	if r := h.form(fmt.Sprintf("/console/orders/%d/phone", r2.ID), chc, url.Values{"csrf": {chcsrf}}); r.status != 404 || !strings.Contains(string(r.body), "没有留电话") {
		t.Errorf("the phone of an order without one: %d", r.status)
	}

	// Moves through the forms: li may not; zhang may, with the note it needs.
	move := func(cookie, csrf, to, note string) reply {
		return h.form(orderPath+"/moves", cookie, url.Values{"csrf": {csrf}, "to": {to}, "note": {note}})
	}
	if r := move(lc, lcsrf, "called-back", "x"); r.status != 403 || !strings.Contains(string(r.body), "您不能处理这张工单") {
		t.Errorf("li's move: %d", r.status)
	}
	if r := move(zc, zcsrf, "called-back", ""); r.status != 400 || !strings.Contains(string(r.body), "请填写说明") {
		t.Errorf("a move without its note: %d", r.status)
	}
	if r := move(zc, zcsrf, "rectified", "x"); r.status != 409 {
		t.Errorf("a move out of turn: %d", r.status)
	}
	h.want(h.form(orderPath+"/moves", zc, url.Values{"to": {"called-back"}, "note": {"x"}}), 403, "csrf")
	r = move(zc, zcsrf, "called-back", "已电话回访，群众表示理解")
	if r.status != 303 || r.header.Get("Location") != orderPath {
		t.Fatalf("the move: %d %s", r.status, r.header.Get("Location"))
	}
	body = string(h.page(orderPath, zc).body)
	if !strings.Contains(body, "待回访 → 已回访") || !strings.Contains(body, "已电话回访，群众表示理解") || !strings.Contains(body, `data-to="rectifying"`) {
		t.Errorf("after the move: %s", body)
	}
	if o, _ := h.fo.Get(context.Background(), r1.ID); o.State != followup.CalledBack {
		t.Errorf("the order is %s", o.State)
	}

	// An appeal and its review: zhang appeals r2; the review's outcome comes from the form.
	r2Path := fmt.Sprintf("/console/orders/%d", r2.ID)
	if r := h.form(r2Path+"/moves", zc, url.Values{"csrf": {zcsrf}, "to": {"appealed"}, "note": {"当日系统故障"}}); r.status != 303 {
		t.Fatalf("the appeal: %d", r.status)
	}
	if r := h.form(r2Path+"/moves", zc, url.Values{"csrf": {zcsrf}, "to": {"reviewed"}, "outcome": {"overturned"}, "note": {"x"}}); r.status != 403 {
		t.Errorf("the appellant's review: %d", r.status)
	}
	ac, acsrf, _ := h.login("zhao", adminPass)
	if !strings.Contains(string(h.page(r2Path, ac).body), `value="overturned"`) {
		t.Errorf("the review form has no outcome")
	}
	if r := h.form(r2Path+"/moves", ac, url.Values{"csrf": {acsrf}, "to": {"reviewed"}, "note": {"无结论"}}); r.status != 400 {
		t.Errorf("a review without its outcome: %d", r.status)
	}
	if r := h.form(r2Path+"/moves", ac, url.Values{"csrf": {acsrf}, "to": {"reviewed"}, "outcome": {"overturned"}, "note": {"系统日志证实故障"}}); r.status != 303 {
		t.Fatalf("the review: %d", r.status)
	}
	if body := string(h.page(r2Path, ac).body); !strings.Contains(body, "撤销差评") || !strings.Contains(body, "工单已办结") || strings.Contains(body, `class="move-form"`) {
		t.Errorf("the reviewed order: %s", body)
	}

	// Counter staff: not the list; their own order yes, another no.
	cc, _, _ := h.login("wang", "counter-pass-1")
	if r := h.page("/console/orders", cc); r.status != 403 {
		t.Errorf("the list for counter staff: %d", r.status)
	}
	if r := h.page(fmt.Sprintf("/console/orders/%d", c1.ID), cc); r.status != 200 || !strings.Contains(string(r.body), "办事效率") {
		t.Errorf("wang's own order: %d", r.status)
	}
	if r := h.page(orderPath, cc); r.status != 403 || strings.Contains(string(r.body), "staff7") {
		t.Errorf("another's order for counter staff: %d", r.status)
	}
	if r := h.page("/console/orders/999", zc); r.status != 404 {
		t.Errorf("no such order: %d", r.status)
	}

	// Past the deadline: marked overdue in words.
	h.clk.Add(8 * 24 * time.Hour)
	body = string(h.page("/console/orders?overdue=1", zc).body)
	if n := strings.Count(body, "<tr data-order"); n != 2 || strings.Count(body, "已逾期 Overdue") != 2 || !strings.Contains(body, `class="row-overdue"`) {
		t.Errorf("overdue: %d rows\n%s", n, body)
	}

	// Nothing of the phone or the notes in the log.
	if log := h.log.String(); strings.Contains(log, testPhone) || strings.Contains(log, "群众") || strings.Contains(log, "系统日志") {
		t.Errorf("personal data in the log:\n%s", log)
	}
}

func TestOrdersReport(t *testing.T) {
	start := day.Add(3 * time.Hour) // Monday 7 December, 12:00; due Monday 14th at 17:00
	h := newOrdersHarness(t, start)
	// 社保: a real-name 差评 called back and put right in time; a real-name one not called back
	// (appealed, reviewed late); one without a phone put right in time.
	a := h.rating(1, "社保", testPhone)
	b := h.rating(2, "社保", "13700000000")
	c := h.rating(3, "社保", "")
	// 户籍: a real-name 差评 called back, still open; a complaint answered in time.
	d := h.rating(4, "户籍", "13600000000")
	e := h.complaint("C1", "户籍")
	// No section: a complaint answered late.
	f := h.complaint("C2", "")
	h.move(a.ID, followup.CalledBack, "zhang", "x")
	h.move(a.ID, followup.Rectifying, "zhang", "")
	h.move(c.ID, followup.Rectifying, "zhang", "")
	h.move(d.ID, followup.CalledBack, "wang", "x")
	h.move(b.ID, followup.Appealed, "zhang", "x")
	h.clk.Add(2 * 24 * time.Hour)
	h.move(a.ID, followup.Rectified, "zhang", "x")
	h.move(c.ID, followup.Rectified, "zhang", "x")
	h.move(e.ID, followup.Answered, "wang", "x")
	h.clk.Add(10 * 24 * time.Hour) // past the deadlines
	h.move(b.ID, followup.Reviewed, "zhao", "upheld x")
	h.move(f.ID, followup.Answered, "zhao", "x")
	// Another month's order is not counted.
	h.clk.Add(30 * 24 * time.Hour)
	h.rating(5, "社保", "")

	cookie, _, _ := h.login("li", crewPass)
	r := h.page("/console/orders/report?month=2026-12", cookie)
	h.want(r, 200, "")
	body := string(r.body)
	if !strings.Contains(body, "2026 年 12 月") {
		t.Errorf("the report's month")
	}
	want := map[string]string{
		"社保": "<td>社保</td><td>3</td><td>2</td><td>66.7 %</td><td>2</td><td>1</td><td>50.0 %</td><td>0</td><td>0</td><td>—</td>",
		"户籍": "<td>户籍</td><td>1</td><td>0</td><td>0.0 %</td><td>1</td><td>1</td><td>100.0 %</td><td>1</td><td>1</td><td>100.0 %</td>",
		"":   "<td>未分科室</td><td>0</td><td>0</td><td>—</td><td>0</td><td>0</td><td>—</td><td>1</td><td>0</td><td>0.0 %</td>",
		"*":  "<td><b>合计</b><span class=\"en\">All</span></td><td>4</td><td>2</td><td>50.0 %</td><td>3</td><td>2</td><td>66.7 %</td><td>2</td><td>1</td><td>50.0 %</td>",
	}
	for sec, cells := range want {
		if !strings.Contains(body, `data-section="`+sec+`">`+cells+`</tr>`) {
			t.Errorf("section %q: want %s in\n%s", sec, cells, body)
		}
	}
	if strings.Index(body, `data-section="户籍"`) > strings.Index(body, `data-section="社保"`) || strings.Index(body, `data-section=""`) > strings.Index(body, `data-section="*"`) {
		t.Errorf("rows out of order")
	}
	if r := h.page("/console/orders/report?month=2026-11", cookie); !strings.Contains(string(r.body), "这个月没有工单") {
		t.Errorf("an empty month")
	}
	if r := h.page("/console/orders/report?month=12-2026", cookie); r.status != 400 {
		t.Errorf("a bad month: %d", r.status)
	}

	// The CSV: BOM, CRLF, the documented header, a row per section and the total.
	r = h.do("GET", "/console/orders/report.csv?month=2026-12", "", "", "Cookie", cookie)
	h.want(r, 200, "")
	if r.header.Get("Content-Disposition") != `attachment; filename="followup-2026-12.csv"` || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Errorf("headers %v", r.header)
	}
	if !bytes.HasPrefix(r.body, []byte("\ufeff")) || !bytes.Contains(r.body, []byte("\r\n")) {
		t.Fatalf("no BOM or CRLF: %q", r.body)
	}
	recs, err := csv.NewReader(bytes.NewReader(r.body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantCSV := [][]string{
		ordersCSVHeader,
		{"2026-12", "户籍", "1", "0", "0.0", "1", "1", "100.0", "1", "1", "100.0"},
		{"2026-12", "社保", "3", "2", "66.7", "2", "1", "50.0", "0", "0", ""},
		{"2026-12", "未分科室", "0", "0", "", "0", "0", "", "1", "0", "0.0"},
		{"2026-12", "合计", "4", "2", "50.0", "3", "2", "66.7", "2", "1", "50.0"},
	}
	if fmt.Sprint(recs) != fmt.Sprint(wantCSV) {
		t.Errorf("CSV\n%v\nwant\n%v", recs, wantCSV)
	}
	if bytes.Contains(r.body, []byte("5678")) || bytes.Contains(r.body, []byte("staff7")) {
		t.Errorf("personal data in the export")
	}
	h.want(h.do("GET", "/console/orders/report.csv?month=x", "", "", "Cookie", cookie), 400, "bad-month")
	if r := h.do("GET", "/console/orders/report.csv?month=2026-11", "", "", "Cookie", cookie); strings.Count(string(r.body), "\r\n") != 1 {
		t.Errorf("an empty month's CSV: %q", r.body)
	}
	h.want(h.do("GET", "/console/orders/report.csv", h.tokens[access.Counter], ""), 403, "forbidden")
}

// Without Options.Orders the routes say so.
func TestNoOrders(t *testing.T) {
	h := newHarness(t)
	crew := h.tokens[access.Crew]
	for _, p := range []string{"/v1/orders", "/v1/orders/1", "/console/orders/report.csv"} {
		h.want(h.do("GET", p, crew, ""), 503, "no-orders")
	}
	h.want(h.do("POST", "/v1/orders/1/moves", crew, `{"to":"called-back","note":"x"}`), 503, "no-orders")
	if r := h.do("GET", "/console/orders", crew, "", "Accept", "text/html"); r.status != 503 || !strings.Contains(string(r.body), "工单暂不可用") {
		t.Errorf("/console/orders without orders: %d", r.status)
	}
}
