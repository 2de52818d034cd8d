package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/followup"
)

const (
	testComplaint = "TS20261207K7Q2M9"
	// testAnswer is what the citizen is told; internalNote is what the section noted on the way.
	testAnswer   = "经核实，窗口工作人员服务用语不规范，已批评教育并组织培训。感谢您的监督。"
	internalNote = "内部：已调取监控，约谈窗口负责人"
)

var addrSeq atomic.Int64

// public sends a request without credentials from its own address (every call another one,
// unless addr is given), as a citizen's phone does, straight to the handler.
func (h *harness) public(path, addr string, hdr ...string) reply {
	h.t.Helper()
	if addr == "" {
		addr = fmt.Sprintf("198.51.100.%d", addrSeq.Add(1)%250+1)
	}
	req := httptest.NewRequest("GET", path, nil)
	req.RemoteAddr = addr + ":40000"
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	return reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// The complaint's answer reaches its citizen by the slip's number, in JSON and on the page: the
// state and dates until it is answered, then the answer; never the manager, the section's
// notes, or anybody's phone.
func TestPublicComplaint(t *testing.T) {
	now := day.Add(3 * time.Hour) // Monday 12:00
	h := newOrdersHarness(t, now)
	o := h.complaint(testComplaint, "社保")
	if o.Manager != "zhang" {
		t.Fatalf("manager %s", o.Manager)
	}
	h.rating(1, "社保", testPhone)
	secret := []string{"zhang", "chen", internalNote, testPhone, "5678", "社保"}
	clean := func(what string, body []byte) {
		t.Helper()
		for _, s := range secret {
			if bytes.Contains(body, []byte(s)) {
				t.Errorf("%s holds %q: %s", what, s, body)
			}
		}
	}

	// Received: no answer yet.
	r := h.public("/v1/public/complaints/"+testComplaint, "")
	h.want(r, 200, "")
	var got struct {
		Number, Category, State string
		StateLabel              map[string]string `json:"state_label"`
		Opened, Due             string
		Answered                *string
		Answer                  string
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Number != testComplaint || got.Category != "efficiency" || got.State != "accepted" || got.StateLabel["zh"] != "已受理" ||
		got.StateLabel["en"] != "Received" || got.Opened != "2026-12-07T12:00:00+08:00" || got.Due != "2026-12-14T17:00:00+08:00" ||
		got.Answered != nil || got.Answer != "" {
		t.Errorf("received: %s", r.body)
	}
	if m := r.json(t); len(m) != 8 {
		t.Errorf("fields %v", m)
	}
	clean("the JSON", r.body)
	page := h.public("/c/"+testComplaint, "", "Accept", "text/html")
	h.want(page, 200, "")
	for _, s := range []string{`id="number"><span>TS</span><span>20261207</span><span>K7Q2M9</span>`, "已受理", "Received", "办事效率", "Efficiency", "2026-12-14 17:00",
		`id="pending"`, `action="/c"`, `name="number"`} {
		if !strings.Contains(string(page.body), s) {
			t.Errorf("the page lacks %q", s)
		}
	}
	if page.header.Get("Content-Security-Policy") == "" || page.header.Get("Referrer-Policy") != "no-referrer" || page.header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", page.header)
	}

	// Handling, with an internal note: still not shown.
	h.clk.Add(time.Hour)
	h.move(o.ID, followup.Handling, "zhang", internalNote+"，群众电话 "+testPhone)
	r = h.public("/v1/public/complaints/"+testComplaint, "")
	if m := r.json(t); m["state"] != "handling" || m["answer"] != "" || m["answered"] != nil {
		t.Errorf("handling: %s", r.body)
	}
	clean("the JSON while handling", r.body)
	clean("the page while handling", h.public("/c/"+testComplaint, "").body)

	// Answered: the answer and when, typed as the citizen may type the number.
	h.clk.Add(time.Hour)
	h.move(o.ID, followup.Answered, "zhang", testAnswer)
	r = h.public("/v1/public/complaints/"+url.PathEscape("ts 20261207 k7q2m9"), "")
	h.want(r, 200, "")
	if m := r.json(t); m["number"] != testComplaint || m["state"] != "answered" || m["answer"] != testAnswer ||
		m["answered"] != "2026-12-07T14:00:00+08:00" || m["state_label"].(map[string]any)["zh"] != "已答复" {
		t.Errorf("answered: %s", r.body)
	}
	clean("the JSON once answered", r.body)
	page = h.public("/c/"+strings.ToLower(testComplaint), "")
	h.want(page, 200, "")
	for _, s := range []string{"已答复", `id="answer-text">` + testAnswer, "处理结果", `id="answered">2026-12-07 14:00`} {
		if !strings.Contains(string(page.body), s) {
			t.Errorf("the answered page lacks %q", s)
		}
	}
	if strings.Contains(string(page.body), `id="pending"`) || strings.Contains(string(page.body), `id="due"`) {
		t.Errorf("the answered page still waits")
	}
	clean("the page once answered", page.body)

	// Unknown and malformed: one message; 404 and 400 in JSON, the same not-found page.
	unknown := h.public("/v1/public/complaints/TS20261207AAAAAA", "")
	h.want(unknown, 404, "not-found")
	bad := h.public("/v1/public/complaints/A012", "")
	h.want(bad, 400, "bad-number")
	if unknown.json(t)["error"].(map[string]any)["message"] != bad.json(t)["error"].(map[string]any)["message"] {
		t.Errorf("the messages differ: %s %s", unknown.body, bad.body)
	}
	for _, p := range []string{"/c/TS20261207AAAAAA", "/c/A012", "/c/" + url.PathEscape("<script>"), "/c/C0001"} {
		r := h.public(p, "", "Accept", "text/html")
		if r.status != 404 || !strings.Contains(string(r.body), `id="not-found"`) || !strings.Contains(string(r.body), `action="/c"`) {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
		if strings.Contains(string(r.body), "<script>") {
			t.Errorf("%s is echoed unescaped", p)
		}
	}
	// A rating's order is no complaint, whatever its number.
	h.want(h.public("/v1/public/complaints/C0001", ""), 400, "bad-number")

	// The form: empty, a number to its page, anything else the not-found page.
	r = h.public("/c", "")
	if r.status != 200 || !strings.Contains(string(r.body), "投诉查询") || strings.Contains(string(r.body), `id="not-found"`) {
		t.Errorf("/c: %d %s", r.status, r.body)
	}
	if r := h.public("/c/", ""); r.status != 303 || r.header.Get("Location") != "/c" {
		t.Errorf("/c/: %d %v", r.status, r.header)
	}
	r = h.public("/c?number="+url.QueryEscape(" ts 2026 1207 k7q2 m9 "), "")
	if r.status != 303 || r.header.Get("Location") != "/c/"+testComplaint {
		t.Errorf("/c?number=: %d %v", r.status, r.header)
	}
	r = h.public("/c?number=nonsense", "")
	if r.status != 404 || !strings.Contains(string(r.body), `value="nonsense"`) {
		t.Errorf("/c?number=nonsense: %d %s", r.status, r.body)
	}
	if r := h.public("/c?number="+strings.Repeat("x", 200), ""); r.status != 404 || strings.Contains(string(r.body), "xxxxxxxxxx") {
		t.Errorf("an overlong number is echoed: %d", r.status)
	}
	if strings.Contains(h.log.String(), testAnswer) || strings.Contains(h.log.String(), internalNote) {
		t.Errorf("a note is in the log")
	}
}

// One address gets its burst of the public routes, shared by the tickets and the complaints,
// then 429 with Retry-After, on the page and in JSON; another address is not held back.
func TestPublicComplaintRateLimit(t *testing.T) {
	h := newOrdersHarness(t, day.Add(3*time.Hour)) // 6 a minute, a burst of 3
	h.complaint(testComplaint, "社保")
	h.q.add("A001", "7K3M9Q2D1C", false)
	const addr = "203.0.113.7"
	h.want(h.public("/c/"+testComplaint, addr), 200, "")
	h.want(h.public("/v1/public/complaints/"+testComplaint, addr), 200, "")
	h.want(h.public("/t/7K3M9Q2D1C", addr), 200, "")
	r := h.public("/c/"+testComplaint, addr, "Accept", "text/html")
	if r.status != 429 || r.header.Get("Retry-After") != "10" || !strings.Contains(string(r.body), "请稍后再试") || strings.Contains(string(r.body), testComplaint) {
		t.Fatalf("the 4th request: %d %v %s", r.status, r.header, r.body)
	}
	h.want(h.public("/v1/public/complaints/"+testComplaint, addr), 429, "rate-limited")
	// What is no number costs a lookup too: guessing is held back the same.
	h.want(h.public("/v1/public/complaints/nonsense", addr), 429, "rate-limited")
	if r := h.public("/c?number=nonsense", addr); r.status != 429 {
		t.Errorf("/c?number=nonsense over the limit: %d", r.status)
	}
	h.want(h.public("/v1/public/complaints/"+testComplaint, "203.0.113.8"), 200, "")
	h.clk.Add(10 * time.Second) // 6 a minute: one more
	h.want(h.public("/v1/public/complaints/"+testComplaint, addr), 200, "")
	h.want(h.public("/v1/public/complaints/"+testComplaint, addr), 429, "rate-limited")
}

// failingReply is a work-order store whose ledger fails.
type failingReply struct{ Orders }

func (failingReply) Reply(context.Context, string) (followup.Reply, error) {
	return followup.Reply{}, errors.New("ledger: disk I/O error at /var/lib/secret")
}

// Without work orders the public routes say so; a failing store is a 500 that tells nothing of
// why (it is logged).
func TestPublicComplaintUnavailable(t *testing.T) {
	h := newHarness(t)
	h.want(h.public("/v1/public/complaints/"+testComplaint, ""), 503, "no-orders")
	if r := h.public("/c/"+testComplaint, ""); r.status != 503 || !strings.Contains(string(r.body), "暂时无法查询投诉") {
		t.Errorf("the page without orders: %d", r.status)
	}
	var log lockedBuf
	h = newHarness(t, func(o *Options) { o.Orders = failingReply{}; o.Log = slog.New(slog.NewTextHandler(&log, nil)) })
	r := h.public("/v1/public/complaints/"+testComplaint, "")
	h.want(r, 500, "internal")
	if strings.Contains(string(r.body), "secret") {
		t.Errorf("the error's text is in the answer: %s", r.body)
	}
	if r := h.public("/c/"+testComplaint, ""); r.status != 500 || strings.Contains(string(r.body), "secret") || !strings.Contains(string(r.body), "暂时无法查询") {
		t.Errorf("the page: %d %s", r.status, r.body)
	}
	if !strings.Contains(log.String(), "public complaint failed") {
		t.Errorf("not logged: %s", log.String())
	}
}

// The answer is shown publicly, so the console refuses one that holds a phone or an ID number:
// the form says why and keeps the text to be put right, nothing is stored, the refusal is
// audited; the API answers 400 personal-data.
func TestAnswerWithPersonalDataRefused(t *testing.T) {
	h := newOrdersHarness(t, day.Add(3*time.Hour))
	o := h.complaint(testComplaint, "社保")
	r1 := h.rating(1, "社保", "")
	cookie, csrf, _ := h.login("zhang", crewPass)
	path := fmt.Sprintf("/console/orders/%d", o.ID)

	// The complaint's answer field says where it is shown; a rating's notes do not.
	page := h.page(path, cookie)
	h.want(page, 200, "")
	if !strings.Contains(string(page.body), "公开的投诉查询页") || !strings.Contains(string(page.body), "no personal data") {
		t.Errorf("the answer field does not say it is public")
	}
	if strings.Contains(string(h.page(fmt.Sprintf("/console/orders/%d", r1.ID), cookie).body), "公开的投诉查询页") {
		t.Errorf("a rating's page says its notes are public")
	}

	note := "已核实，请回电138 0013 8000了解详情"
	r := h.form(path+"/moves", cookie, url.Values{"csrf": {csrf}, "to": {"answered"}, "note": {note}})
	if r.status != 400 {
		t.Fatalf("refused answer: %d %s", r.status, r.body)
	}
	body := string(r.body)
	for _, s := range []string{`id="error"`, "手机号", "personal data", `aria-invalid="true"`, ">" + note + "</textarea>"} {
		if !strings.Contains(body, s) {
			t.Errorf("the refusal lacks %q", s)
		}
	}
	if got, _ := h.fo.Get(context.Background(), o.ID); got.State != followup.Accepted || len(got.Steps) != 1 {
		t.Errorf("stored: %+v", got)
	}
	if a := h.audits("order-move"); len(a) != 1 || a[0].Outcome != "personal-data" || strings.Contains(a[0].Detail, "8000") {
		t.Errorf("audit %+v", a)
	}
	zhang := h.token("zhang", access.Crew)
	r = h.do("POST", fmt.Sprintf("/v1/orders/%d/moves", o.ID), zhang, `{"to":"answered","note":"身份证110101199003071234"}`)
	h.want(r, 400, "personal-data")
	if strings.Contains(string(r.body), "1234") || !strings.Contains(string(r.body), "身份证号") {
		t.Errorf("the API's refusal: %s", r.body)
	}
	// Put right, it is taken, and it is what the citizen reads.
	r = h.form(path+"/moves", cookie, url.Values{"csrf": {csrf}, "to": {"answered"}, "note": {testAnswer}})
	if r.status != 303 {
		t.Fatalf("the answer: %d %s", r.status, r.body)
	}
	if m := h.public("/v1/public/complaints/"+testComplaint, "").json(t); m["answer"] != testAnswer {
		t.Errorf("the public answer %v", m)
	}
}
