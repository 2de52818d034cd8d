package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/line"
)

// shiftClock is the real time moved to a fixed day, so that a test can jump ahead (a grace
// running out) without meeting midnight.
type shiftClock struct {
	mu    sync.Mutex
	start time.Time
	base  time.Time
}

func newShiftClock() *shiftClock {
	return &shiftClock{start: time.Now(), base: time.Date(2026, 12, 7, 10, 0, 0, 0, line.DefaultLocation())}
}

func (c *shiftClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Add(time.Since(c.start))
}

func (c *shiftClock) Add(d time.Duration) {
	c.mu.Lock()
	c.base = c.base.Add(d)
	c.mu.Unlock()
}

// post sends a counter route with the counter token; it returns the status and error code.
func (h *hall) post(path, body string) (int, string, map[string]any) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.ts.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m struct {
		Error  struct{ Code string }
		Ticket map[string]any
	}
	json.Unmarshal(b, &m)
	return resp.StatusCode, m.Error.Code, m.Ticket
}

// Every counter route over HTTP against the real queue, with its refusals: the line's errors
// reach the client as the contract's statuses and codes.
func TestCounterRoutesOverLine(t *testing.T) {
	clk := newShiftClock()
	h := newHall(t, false, clk.Now)
	want := func(path, body string, status int, code string) map[string]any {
		t.Helper()
		st, c, tk := h.post(path, body)
		if st != status || c != code {
			t.Fatalf("POST %s %s: %d %q, want %d %q", path, body, st, c, status, code)
		}
		return tk
	}
	want("/v1/windows/1/next", "", 204, "")
	a1, a2, b1 := h.issue("A"), h.issue("A"), h.issue("B")
	want("/v1/windows/9/next", "", 404, "unknown-window")
	want("/v1/windows/1/recall", "", 409, "no-current-ticket")
	want("/v1/windows/1/start", "", 409, "no-current-ticket")
	want("/v1/windows/1/done", "", 409, "no-current-ticket")
	want("/v1/windows/1/no-show", "", 409, "no-current-ticket")
	want("/v1/windows/1/transfer", `{"category":"B"}`, 409, "no-current-ticket")

	tk := want("/v1/windows/1/next", "", 200, "")
	if tk["code"] != a1.Code || tk["state"] != "called" || tk["window"] != "1" || tk["lookup"] != a1.Lookup {
		t.Fatalf("next: %v", tk)
	}
	want("/v1/windows/1/next", "", 409, "wrong-state")
	for i := 1; i <= line.DefaultMaxRecalls; i++ {
		if tk := want("/v1/windows/1/recall", "", 200, ""); tk["recalls"] != float64(i) {
			t.Fatalf("recall %d: %v", i, tk)
		}
	}
	want("/v1/windows/1/recall", "", 409, "recall-limit")
	want("/v1/windows/1/start", "", 200, "")
	want("/v1/windows/1/start", "", 409, "wrong-state")
	want("/v1/windows/1/no-show", "", 409, "wrong-state")
	want("/v1/windows/1/recall", "", 409, "wrong-state")
	if tk := want("/v1/windows/1/done", "", 200, ""); tk["state"] != "done" || tk["served_s"] == nil {
		t.Fatalf("done: %v", tk)
	}

	// Window 1 serves A only: B001 cannot be called there.
	want("/v1/windows/1/call", fmt.Sprintf(`{"code":%q,"reason":"appointment"}`, b1.Code), 400, "invalid-request")
	want("/v1/windows/2/call", `{"code":"A404","reason":"appointment"}`, 404, "not-found")
	if tk := want("/v1/windows/2/call", fmt.Sprintf(`{"code":%q,"reason":"appointment"}`, b1.Code), 200, ""); tk["code"] != b1.Code {
		t.Fatalf("call: %v", tk)
	}
	want("/v1/windows/2/transfer", `{"category":"Z"}`, 400, "unknown-category")
	if tk := want("/v1/windows/2/transfer", `{"category":"A"}`, 200, ""); tk["code"] != b1.Code || tk["category"] != "A" || tk["state"] != "waiting" {
		t.Fatalf("transfer: %v", tk)
	}

	// No-show, a return within the grace, and one after it.
	if tk := want("/v1/windows/1/next", "", 200, ""); tk["code"] != a2.Code {
		t.Fatalf("next: %v", tk)
	}
	want("/v1/windows/1/no-show", "", 200, "")
	want("/v1/tickets/"+a2.Code+"/return", "", 200, "")
	want("/v1/tickets/"+a2.Code+"/return", "", 409, "wrong-state")
	want("/v1/tickets/A404/return", "", 404, "not-found")
	want("/v1/windows/1/next", "", 200, "")
	want("/v1/windows/1/no-show", "", 200, "")
	clk.Add(line.DefaultNoShowGrace + time.Minute)
	st, code, _ := h.post("/v1/tickets/"+h.currentNoShow(t)+"/return", "")
	if st != 409 || code != "expired" {
		t.Fatalf("return after the grace: %d %s", st, code)
	}

	// Pause and resume.
	want("/v1/windows/3/next", "", 204, "") // nobody waits in B or C
	c1 := h.issue("C")
	want("/v1/windows/3/pause", `{"reason":"lunch"}`, 200, "")
	want("/v1/windows/3/next", "", 409, "window-paused")
	want("/v1/windows/3/call", fmt.Sprintf(`{"code":%q,"reason":"appointment"}`, c1.Code), 409, "window-paused")
	want("/v1/windows/3/resume", "", 200, "")
	if tk := want("/v1/windows/3/next", "", 200, ""); tk["code"] != c1.Code {
		t.Fatalf("after resume: %v", tk)
	}
}

func (h *hall) currentNoShow(t *testing.T) string {
	ts, err := h.line.Tickets(t.Context(), "no-show", "")
	if err != nil || len(ts) != 1 {
		t.Fatalf("no-shows: %v %v", ts, err)
	}
	return ts[0].Code
}
