package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"citizenhome/hall/access"
	"citizenhome/hall/followup"
	"citizenhome/hall/ledger/ledgertest"
	"citizenhome/hall/line"
	"citizenhome/hall/rating"
	"citizenhome/hall/web"
)

// The pad's tests run the real queue, the real ratings (hall/rating) and the real access store
// over a temporary ledger; only the work orders are a fake, which records what it is given
// (the phone included: the order is where it is sealed).

type padOrders struct {
	mu   sync.Mutex
	refs []followup.RatingRef
}

func (o *padOrders) OpenRating(_ context.Context, r followup.RatingRef) (followup.Order, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refs = append(o.refs, r)
	return followup.Order{ID: int64(len(o.refs)), Kind: followup.KindRating}, nil
}

func (o *padOrders) got() []followup.RatingRef {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]followup.RatingRef(nil), o.refs...)
}

// padRecorder is the server's Ratings as given (hall/rating through RatingPad), recording each
// rating the pad sent.
type padRecorder struct {
	web.Ratings
	mu   sync.Mutex
	sent []web.PadRating
}

func (p *padRecorder) FromPad(ctx context.Context, window string, in web.PadRating) error {
	p.mu.Lock()
	p.sent = append(p.sent, in)
	p.mu.Unlock()
	return p.Ratings.FromPad(ctx, window, in)
}

func (p *padRecorder) got() []web.PadRating {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]web.PadRating(nil), p.sent...)
}

type padHall struct {
	t       testing.TB
	line    *line.Line
	ratings *rating.Store
	orders  *padOrders
	rec     *padRecorder
	ts      *httptest.Server
	log     *syncLog
}

type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newPadHall starts halld's HTTP server with ratings (withRatings false: without).
func newPadHall(t testing.TB, withRatings bool) *padHall {
	t.Helper()
	ctx := context.Background()
	db := ledgertest.Open(t, line.Migrations, access.Migrations, rating.Migrations)
	l, err := line.Open(ctx, db, line.Config{
		Categories: []line.Category{{Letter: "A", Name: "户籍"}, {Letter: "B", Name: "出入境"}},
		Windows:    []line.Window{{ID: "2", Categories: []string{"A"}}, {ID: "3", Categories: []string{"A", "B"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &padHall{t: t, line: l, orders: &padOrders{}, log: &syncLog{}}
	h.ratings, err = rating.Open(db, l, h.orders, rating.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := web.Options{Queue: web.LineQueue(l), Access: access.Open(db, access.Options{}), HallName: "示范区政务服务中心",
		DisplayKey: displayKey, Location: line.DefaultLocation(), Log: slog.New(slog.NewTextHandler(h.log, nil))}
	if withRatings {
		h.rec = &padRecorder{Ratings: web.RatingPad(h.ratings)}
		o.Ratings = h.rec
	}
	srv, err := web.New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.ts = httptest.NewServer(srv)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	t.Cleanup(func() {
		h.ts.CloseClientConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		h.ts.Close()
	})
	return h
}

// serve issues a ticket of category, calls it at window and finishes it.
func (h *padHall) serve(category, window, staff string) line.Ticket {
	h.t.Helper()
	tk := h.issue(category)
	if _, err := h.line.Next(context.Background(), window, staff); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.line.Done(context.Background(), window, staff); err != nil {
		h.t.Fatal(err)
	}
	return tk
}

func (h *padHall) issue(category string) line.Ticket {
	h.t.Helper()
	ctx := context.Background()
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	tk, _, err := h.line.Take(ctx, "k1", line.Take{ID: id, Category: category})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.line.Issued(ctx, "k1", line.Issued{Take: id, Code: tk.Code, Lookup: tk.Lookup, Day: tk.Day}); err != nil {
		h.t.Fatal(err)
	}
	return tk
}

// do sends a request with the display key and returns the status and the decoded JSON body.
func (h *padHall) do(method, path, body string) (int, map[string]any) {
	h.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	req, _ := http.NewRequest(method, h.ts.URL+path+sep+"key="+displayKey, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestRatePadAPI(t *testing.T) {
	h := newPadHall(t, true)

	// Nothing finished yet: no offer.
	st, m := h.do("GET", "/rate/3/offer", "")
	if st != 200 || m["offer"] != false || m["reason"] != "no-ticket-to-rate" {
		t.Fatalf("offer before any service: %d %v", st, m)
	}
	if st, m := h.do("GET", "/rate/9/offer", ""); st != 404 || errCode(m) != "unknown-window" {
		t.Errorf("unknown window: %d %v", st, m)
	}
	// Credentials: the display key, nothing else.
	resp, err := http.Get(h.ts.URL + "/rate/3/offer")
	if err != nil || resp.StatusCode != 401 {
		t.Errorf("without the key: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()

	tk := h.serve("A", "3", "wang")
	st, m = h.do("GET", "/rate/3/offer", "")
	nonce, _ := m["nonce"].(string)
	if st != 200 || m["offer"] != true || len(nonce) != 32 || m["id"] == "" {
		t.Fatalf("offer: %d %v", st, m)
	}
	// The offer tells nothing of the ticket.
	if b, _ := json.Marshal(m); strings.Contains(string(b), tk.Code) {
		t.Errorf("the offer names the ticket: %s", b)
	}
	_, again := h.do("GET", "/rate/3/offer", "")
	if again["id"] != m["id"] || again["nonce"] == nonce {
		t.Errorf("a second offer of the same ticket: %v, first %v", again, m)
	}
	if _, m2 := h.do("GET", "/rate/2/offer", ""); m2["offer"] != false {
		t.Errorf("window 2 is offered window 3's ticket: %v", m2)
	}

	// Invalid: 400, and the nonce may be used again.
	if st, m := h.do("POST", "/rate/3", `{"nonce":"`+nonce+`","overall":2}`); st != 400 || errCode(m) != "invalid-rating" {
		t.Errorf("a 差评 without reasons: %d %v", st, m)
	}
	if st, m := h.do("POST", "/rate/3", `{"nonce":"`+nonce+`","overall":1,"reasons":["slow"],"phone":"12ab"}`); st != 400 || errCode(m) != "invalid-rating" {
		t.Errorf("a bad phone: %d %v", st, m)
	}
	if st, m := h.do("POST", "/rate/3", `[1]`); st != 400 || errCode(m) != "bad-json" {
		t.Errorf("not an object: %d %v", st, m)
	}
	// Another window's nonce, or none: refused.
	if st, m := h.do("POST", "/rate/2", `{"nonce":"`+nonce+`","overall":5}`); st != 409 || errCode(m) != "bad-nonce" {
		t.Errorf("window 3's nonce at window 2: %d %v", st, m)
	}
	if st, m := h.do("POST", "/rate/3", `{"overall":5}`); st != 409 || errCode(m) != "bad-nonce" {
		t.Errorf("no nonce: %d %v", st, m)
	}
	body := `{"nonce":"` + nonce + `","overall":1,"attitude":1,"reasons":["attitude","wait-long"],"phone":"13800138000"}`
	if st, m := h.do("POST", "/rate/3", body); st != 200 || m["ok"] != true {
		t.Fatalf("rating: %d %v", st, m)
	}
	// Replayed: refused by the nonce.
	if st, m := h.do("POST", "/rate/3", body); st != 409 || errCode(m) != "bad-nonce" {
		t.Errorf("replay: %d %v", st, m)
	}
	// The other nonce of the same ticket: rated already.
	if st, m := h.do("POST", "/rate/3", `{"nonce":"`+again["nonce"].(string)+`","overall":5}`); st != 409 || errCode(m) != "already-rated" {
		t.Errorf("second nonce: %d %v", st, m)
	}
	if _, m := h.do("GET", "/rate/3/offer", ""); m["offer"] != false || m["reason"] != "already-rated" {
		t.Errorf("offer after the rating: %v", m)
	}
	rs, err := h.ratings.List(context.Background(), rating.Filter{})
	if err != nil || len(rs) != 1 || rs[0].Ticket != tk.Code || rs[0].Window != "3" || rs[0].Staff != "wang" || rs[0].Overall != 1 ||
		rs[0].Attitude != 1 || rs[0].Source != rating.SourcePad || rs[0].Order != 1 {
		t.Errorf("ratings %+v %v", rs, err)
	}
	if o := h.orders.got(); len(o) != 1 || o[0].Phone != "13800138000" || o[0].Window != "3" {
		t.Errorf("orders %+v", o)
	}
	if strings.Contains(h.log.String(), "13800138000") {
		t.Error("the phone is in the log")
	}

	// A later ticket at the window: the earlier offer's nonce no longer fits.
	h.serve("A", "3", "wang")
	_, m = h.do("GET", "/rate/3/offer", "")
	h.serve("A", "3", "wang")
	if st, m := h.do("POST", "/rate/3", `{"nonce":"`+m["nonce"].(string)+`","overall":4}`); st != 409 || errCode(m) != "no-ticket-to-rate" {
		t.Errorf("stale offer: %d %v", st, m)
	}

	// The page: for the key only, a configured window only.
	page := func(path string, key bool) (int, string) {
		req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
		if key {
			q := req.URL.Query()
			q.Set("key", displayKey)
			req.URL.RawQuery = q.Encode()
		}
		req.Header.Set("Accept", "text/html")
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, b := page("/rate/3", true); st != 200 || !strings.Contains(b, "3 号窗口") || !strings.Contains(b, "非常不满意") {
		t.Errorf("page: %d", st)
	}
	if st, _ := page("/rate/9", true); st != 404 {
		t.Errorf("page of an unknown window: %d", st)
	}
	if st, _ := page("/rate/3", false); st != http.StatusSeeOther {
		t.Errorf("page without the key: %d, want 303 to the login", st)
	}
}

func TestRatePadWithoutRatings(t *testing.T) {
	h := newPadHall(t, false)
	h.serve("A", "3", "wang")
	if st, m := h.do("GET", "/rate/3/offer", ""); st != 503 || errCode(m) != "no-ratings" {
		t.Errorf("offer: %d %v", st, m)
	}
	if st, m := h.do("POST", "/rate/3", `{"nonce":"x","overall":5}`); st != 503 || errCode(m) != "no-ratings" {
		t.Errorf("post: %d %v", st, m)
	}
}
