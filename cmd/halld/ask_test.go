package main

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"citizenhome/hall/followup"
	"citizenhome/kiosk/civic"
)

// TestKioskAsksHalld: a kiosk's core asks the real halld, over Mosquitto, what only halld knows.
// A 好差评 for a ticket no window has finished is refused on the spot, and accepted once window 1
// has served it, naming the window; a complaint filed at the kiosk becomes a work order, and its
// manager's answer reaches the citizen at the kiosk by the slip's number (kept there once
// fetched, while halld is away) and on halld's public complaint page. An answer that looks like
// a phone number is refused: it would be shown to whoever holds the number.
func TestKioskAsksHalld(t *testing.T) {
	if testing.Short() {
		t.Skip("a hall and a kiosk")
	}
	h := newFollowupHall(t, "ask", "")
	add := exec.Command(h.bin, "user", "add", defaultMgr, "--role", "counter", "-config", h.cfg)
	add.Stdin = strings.NewReader(mgrPassword + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("halld user add: %v %s", err, out)
	}
	h.start(t)
	k := startCore(t, h.dir, h.env.Hall, "k1", h.m.URL, h.env)
	untilReady(t, h, k)
	ctx := context.Background()

	code := k.take(t)
	waitUntil(t, 20*time.Second, "halld to list the ticket", h.proc.log, func() bool {
		l, err := hallTickets(h.addr, h.admin)
		return err == nil && l[code] == "k1"
	})
	if _, err := k.hall.RatableTicket(ctx, code); !errors.Is(err, civic.ErrNotServed) {
		t.Fatalf("rating %s before its service: %v, want not served", code, err)
	}
	if got := h.serve(t); got != code {
		t.Fatalf("window 1 served %s, want %s", got, code)
	}
	rt, err := k.hall.RatableTicket(ctx, code)
	if err != nil || rt.Window != "1" {
		t.Fatalf("rating %s after its service: %+v %v, want window 1", code, rt, err)
	}

	c, err := k.hall.Complain(ctx, civic.Complaint{Category: civic.CategoryAttitude, Text: "窗口人员不耐烦"})
	if err != nil {
		t.Fatal(err)
	}
	var order followup.Order
	waitUntil(t, 30*time.Second, "the complaint's work order", h.proc.log, func() bool {
		got := h.orders(t, h.admin, "?kind=complaint")
		if len(got) == 1 {
			order = got[0]
		}
		return len(got) == 1
	})
	if order.Complaint != c.Number || order.Manager != defaultMgr {
		t.Fatalf("work order %+v: want complaint %s for %s", order, c.Number, defaultMgr)
	}
	look := func() civic.ComplaintStatus {
		t.Helper()
		p, err := k.hall.Progress(ctx, c.Number)
		if err != nil || len(p.Complaints) != 1 {
			t.Fatalf("lookup of %s: %+v %v", c.Number, p, err)
		}
		return p.Complaints[0]
	}
	if s := look(); s.State != civic.ComplaintAccepted || s.Reply != "" {
		t.Errorf("accepted at halld, at the kiosk: %+v", s)
	}
	mgr := h.login(t, defaultMgr, mgrPassword, "/console/orders/"+strconv.FormatInt(order.ID, 10))
	h.move(t, mgr, order.ID, followup.Handling, "")
	if s := look(); s.State != civic.ComplaintProcessing {
		t.Errorf("being handled at halld, at the kiosk: %+v", s)
	}
	// An answer with a phone number in it is refused whole, nothing moved.
	if st, body := h.moveStatus(t, mgr, order.ID, followup.Answered, "请致电 139 1234 5678 联系我们"); st < 400 || st >= 500 {
		t.Errorf("an answer holding a phone: %d %s", st, body)
	}
	answer := "经核实，窗口人员服务态度确有不当，已批评教育并调整岗位。\n感谢您的监督。"
	h.move(t, mgr, order.ID, followup.Answered, answer)
	s := look()
	if s.State != civic.ComplaintResolved || s.Reply != answer || s.Category != civic.CategoryAttitude {
		t.Errorf("answered at halld, at the kiosk: %+v", s)
	}
	st, page := h.do(t, "GET", "/c/"+c.Number, "", nil)
	if st != 200 || !strings.Contains(string(page), "已批评教育并调整岗位") {
		t.Errorf("public complaint page: %d\n%s", st, page)
	}
	// halld away: the kiosk still shows the answer it fetched.
	h.proc.stop()
	if s := look(); s.State != civic.ComplaintResolved || s.Reply != answer {
		t.Errorf("with halld stopped, at the kiosk: %+v", s)
	}
	if _, err := k.hall.RatableTicket(ctx, code); err != nil {
		t.Errorf("rating with halld stopped: %v, want no refusal", err)
	}
}
