package line

import (
	"slices"
	"testing"
	"time"
)

func TestCounterActions(t *testing.T) {
	l, c := newLine(t)
	_, err := l.Next(ctx, "9", "anna")
	wantErr(t, err, ErrUnknownWindow)
	_, err = l.Next(ctx, "1", "")
	wantErr(t, err, ErrInvalid)
	_, err = l.Next(ctx, "1", "anna")
	wantErr(t, err, ErrEmpty)
	for _, f := range []func() (Ticket, error){
		func() (Ticket, error) { return l.Recall(ctx, "1", "anna") },
		func() (Ticket, error) { return l.Start(ctx, "1", "anna") },
		func() (Ticket, error) { return l.Done(ctx, "1", "anna") },
		func() (Ticket, error) { return l.NoShow(ctx, "1", "anna") },
		func() (Ticket, error) { return l.Transfer(ctx, "1", "anna", "B") },
	} {
		_, err := f()
		wantErr(t, err, ErrNothing)
	}

	a1 := issue(t, l, "A", false)
	a2 := issue(t, l, "A", false)
	c.Add(time.Minute)
	got, err := l.Next(ctx, "1", "anna")
	if err != nil || got.Code != a1.Code || got.State != Called || got.Window != "1" || got.CalledAt.IsZero() {
		t.Fatalf("next %+v %v", got, err)
	}
	_, err = l.Next(ctx, "1", "anna")
	wantErr(t, err, ErrState)
	_, err = l.Call(ctx, "1", "anna", a2.Code, "asked by the manager")
	wantErr(t, err, ErrState)
	for i := range DefaultMaxRecalls {
		r, err := l.Recall(ctx, "1", "anna")
		if err != nil || r.Recalls != i+1 {
			t.Fatalf("recall %d: %+v %v", i+1, r, err)
		}
	}
	_, err = l.Recall(ctx, "1", "anna")
	wantErr(t, err, ErrRecallLimit)
	if s, err := l.Start(ctx, "1", "anna"); err != nil || s.State != Serving {
		t.Fatalf("start %+v %v", s, err)
	}
	_, err = l.Start(ctx, "1", "anna")
	wantErr(t, err, ErrState)
	_, err = l.Recall(ctx, "1", "anna")
	wantErr(t, err, ErrState)
	_, err = l.NoShow(ctx, "1", "anna")
	wantErr(t, err, ErrState)
	c.Add(5 * time.Minute)
	d, err := l.Done(ctx, "1", "anna")
	if err != nil || d.State != Done || d.Served < 5*time.Minute || d.Served > 5*time.Minute+time.Second {
		t.Fatalf("done %+v %v", d, err)
	}
	_, err = l.Done(ctx, "1", "anna")
	wantErr(t, err, ErrNothing)

	// Call a chosen ticket: a reason is required and audited.
	a3 := issue(t, l, "A", false)
	b1 := issue(t, l, "B", false)
	_, err = l.Call(ctx, "1", "anna", a3.Code, " ")
	wantErr(t, err, ErrInvalid)
	_, err = l.Call(ctx, "1", "anna", "A0x1", "x")
	wantErr(t, err, ErrInvalid)
	_, err = l.Call(ctx, "1", "anna", "A099", "x")
	wantErr(t, err, ErrNotFound)
	_, err = l.Call(ctx, "1", "anna", b1.Code, "x")
	wantErr(t, err, ErrInvalid) // window 1 does not serve B
	_, err = l.Call(ctx, "1", "anna", a1.Code, "x")
	wantErr(t, err, ErrState) // done already
	got, err = l.Call(ctx, "1", "anna", a3.Code, "wheelchair, at the door")
	if err != nil || got.Code != a3.Code || got.State != Called {
		t.Fatalf("call %+v %v", got, err)
	}
	// Done without Start: the service time runs from the call.
	c.Add(2 * time.Minute)
	if d, err := l.Done(ctx, "1", "anna"); err != nil || d.Served < 2*time.Minute || d.Served > 2*time.Minute+time.Second {
		t.Errorf("done from called: %+v %v", d, err)
	}

	// No-show, and the refusals of Return.
	if got, err := l.Next(ctx, "1", "anna"); err != nil || got.Code != a2.Code {
		t.Fatalf("next %+v %v", got, err)
	}
	if ns, err := l.NoShow(ctx, "1", "anna"); err != nil || ns.State != NoShow {
		t.Fatalf("no-show %+v %v", ns, err)
	}
	_, err = l.Return(ctx, a3.Code, "anna")
	wantErr(t, err, ErrState)
	_, err = l.Return(ctx, "A098", "anna")
	wantErr(t, err, ErrNotFound)
	_, err = l.Return(ctx, a2.Code, "")
	wantErr(t, err, ErrInvalid)
	c.Add(DefaultNoShowGrace + time.Second)
	_, err = l.Return(ctx, a2.Code, "anna")
	wantErr(t, err, ErrExpired)

	// Transfer keeps the code.
	if got, err := l.Next(ctx, "2", "bo"); err != nil || got.Code != b1.Code {
		t.Fatalf("next at 2: %+v %v", got, err)
	}
	_, err = l.Transfer(ctx, "2", "bo", "Q")
	wantErr(t, err, ErrUnknownCategory)
	_, err = l.Transfer(ctx, "2", "bo", "B")
	wantErr(t, err, ErrInvalid)
	tr, err := l.Transfer(ctx, "2", "bo", "C")
	if err != nil || tr.Code != b1.Code || tr.Category != "C" || tr.State != Waiting || tr.Window != "" {
		t.Fatalf("transfer %+v %v", tr, err)
	}
	if got, err := l.Next(ctx, "4", "cai"); err != nil || got.Code != b1.Code || got.Category != "C" {
		t.Fatalf("next at 4: %+v %v", got, err)
	}

	// Pause: no calls, but the current ticket can be finished.
	issue(t, l, "C", false)
	if err := l.Pause(ctx, "4", "cai", "lunch"); err != nil {
		t.Fatal(err)
	}
	_, err = l.Next(ctx, "4", "cai")
	wantErr(t, err, ErrPaused)
	_, err = l.Call(ctx, "4", "cai", "C001", "x")
	wantErr(t, err, ErrPaused)
	if _, err := l.Recall(ctx, "4", "cai"); err != nil {
		t.Errorf("recall while paused: %v", err)
	}
	if _, err := l.Done(ctx, "4", "cai"); err != nil {
		t.Errorf("done while paused: %v", err)
	}
	wantErr(t, l.Pause(ctx, "4", "cai", "a\x00b"), ErrInvalid)
	wantErr(t, l.Pause(ctx, "x", "cai", ""), ErrUnknownWindow)
	snap, err := l.Snapshot(ctx)
	if err != nil || snap.Windows[3].State != "paused" || snap.Windows[3].Staff != "cai" {
		t.Errorf("snapshot %+v %v", snap.Windows, err)
	}
	if err := l.Resume(ctx, "4", "cai"); err != nil {
		t.Fatal(err)
	}
	if got, err := l.Next(ctx, "4", "cai"); err != nil || got.Code != "C001" {
		t.Errorf("next after resume %+v %v", got, err)
	}

	// The audit has every action, who did it, and the reasons.
	au, err := l.Audit(ctx, "2026-12-07")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range au {
		actions = append(actions, a.Action)
		if a.Action == ActionCall && (a.Reason != "wheelchair, at the door" || a.Staff != "anna" || a.Window != "1" || a.Code != a3.Code) {
			t.Errorf("call audited as %+v", a)
		}
		if a.Action == ActionTransfer && a.Reason != "to C" {
			t.Errorf("transfer audited as %+v", a)
		}
	}
	want := []string{"next", "recall", "recall", "recall", "start", "done", "call", "done", "next", "no-show",
		"next", "transfer", "next", "pause", "recall", "done", "resume", "next"}
	if !slices.Equal(actions, want) {
		t.Errorf("audited\n%v\nwant\n%v", actions, want)
	}
	// Every call and recall, in order.
	calls, err := l.Calls(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var seq []string
	for i, cl := range calls {
		if i > 0 && cl.ID != calls[i-1].ID+1 {
			t.Errorf("call ids %d after %d", cl.ID, calls[i-1].ID)
		}
		s := cl.Code + "@" + cl.Window
		if cl.Recall {
			s += "!"
		}
		seq = append(seq, s)
	}
	wantSeq := []string{"A001@1", "A001@1!", "A001@1!", "A001@1!", "A003@1", "A002@1", "B001@2", "B001@4", "B001@4!", "C001@4"}
	if !slices.Equal(seq, wantSeq) {
		t.Errorf("calls %v\nwant %v", seq, wantSeq)
	}
	if page, _ := l.Calls(ctx, calls[2].ID, 2); len(page) != 2 || page[0].ID != calls[3].ID {
		t.Errorf("page after %d: %+v", calls[2].ID, page)
	}
}

func TestReturnAfterNoShow(t *testing.T) {
	l, c := newLine(t)
	var codes []string
	for range 7 {
		codes = append(codes, issue(t, l, "A", false).Code)
		c.Add(time.Second)
	}
	if got, _ := l.Next(ctx, "1", "s"); got.Code != "A001" {
		t.Fatalf("first call %s", got.Code)
	}
	if _, err := l.NoShow(ctx, "1", "s"); err != nil {
		t.Fatal(err)
	}
	c.Add(10 * time.Minute)
	r, err := l.Return(ctx, "a001", "desk")
	if err != nil || r.State != Waiting || r.Window != "" {
		t.Fatalf("return %+v %v", r, err)
	}
	// Behind the next three: A002, A003, A004, then A001, then A005.
	if pos, err := l.Position(ctx, "A001"); err != nil || pos.Ahead != DefaultRequeueAfter {
		t.Errorf("position after return %+v %v", pos, err)
	}
	var order []string
	for range 6 {
		got, err := l.Next(ctx, "1", "s")
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, got.Code)
		if _, err := l.Done(ctx, "1", "s"); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"A002", "A003", "A004", "A001", "A005", "A006"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	// With fewer than RequeueAfter waiting, a return goes after all of them.
	got, _ := l.Next(ctx, "1", "s")
	if got.Code != "A007" {
		t.Fatalf("last %s", got.Code)
	}
	if _, err := l.NoShow(ctx, "1", "s"); err != nil {
		t.Fatal(err)
	}
	x := issue(t, l, "A", false)
	if _, err := l.Return(ctx, "A007", "desk"); err != nil {
		t.Fatal(err)
	}
	if pos, _ := l.Position(ctx, "A007"); pos.Ahead != 1 {
		t.Errorf("A007 behind %d, want 1 (%s)", pos.Ahead, x.Code)
	}
}

func TestEstimates(t *testing.T) {
	l, c := newLine(t)
	for range 4 {
		issue(t, l, "A", false)
	}
	// Two windows serve A at the configured 6 minutes.
	if pos, _ := l.Position(ctx, "A004"); pos.Ahead != 3 || pos.ETA != 9*time.Minute {
		t.Errorf("A004 %+v", pos)
	}
	if err := l.Pause(ctx, "2", "s", ""); err != nil {
		t.Fatal(err)
	}
	if pos, _ := l.Position(ctx, "A004"); pos.ETA != 18*time.Minute {
		t.Errorf("A004 with one window open: %+v", pos)
	}
	// Three services of 2, 4 and 9 minutes: the median, 4, replaces the configured 6.
	for _, d := range []time.Duration{2 * time.Minute, 4 * time.Minute, 9 * time.Minute} {
		if _, err := l.Next(ctx, "1", "s"); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Start(ctx, "1", "s"); err != nil {
			t.Fatal(err)
		}
		c.Add(d)
		if _, err := l.Done(ctx, "1", "s"); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		issue(t, l, "A", false)
	}
	snap, err := l.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := snap.Categories[0]
	if a.Letter != "A" || a.Name != "户籍" || a.Waiting != 3 || a.LastCalled != "A003" ||
		a.AvgService.Round(time.Second) != 4*time.Minute || a.ETANext.Round(time.Second) != 12*time.Minute {
		t.Errorf("A %+v", a)
	}
	if b := snap.Categories[1]; b.AvgService != 4*time.Minute || b.Waiting != 0 || b.LastCalled != "" || b.ETANext != 0 {
		t.Errorf("B %+v", b)
	}
	if pos, _ := l.Position(ctx, "A006"); pos.Ahead != 2 || pos.ETA.Round(time.Second) != 8*time.Minute {
		t.Errorf("A006 %+v", pos)
	}
}

func TestSnapshot(t *testing.T) {
	l, _ := newLine(t)
	issue(t, l, "A", false)
	issue(t, l, "A", true)
	issue(t, l, "B", true)
	if _, err := l.Next(ctx, "2", "bo"); err != nil {
		t.Fatal(err)
	}
	snap, err := l.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Day != "2026-12-07" || len(snap.Categories) != 3 || len(snap.Windows) != 4 {
		t.Fatalf("snapshot %+v", snap)
	}
	// Window 2 serves A and B: the oldest priority ticket, A002, goes first.
	if a := snap.Categories[0]; a.Waiting != 1 || a.WaitingPriority != 0 || a.LastCalled != "A002" {
		t.Errorf("A %+v", a)
	}
	if b := snap.Categories[1]; b.Waiting != 1 || b.WaitingPriority != 1 {
		t.Errorf("B %+v", b)
	}
	w := snap.Windows[1]
	if w.Window != "2" || w.State != "open" || w.Serving != "A002" || w.Staff != "bo" || !slices.Equal(w.Categories, []string{"A", "B"}) {
		t.Errorf("window 2 %+v", w)
	}
	if w := snap.Windows[0]; w.Serving != "" || w.Staff != "" || w.State != "open" {
		t.Errorf("window 1 %+v", w)
	}
	ts, err := l.Tickets(ctx, string(Waiting), "")
	if err != nil || len(ts) != 2 {
		t.Errorf("waiting %+v %v", ts, err)
	}
	_, err = l.Tickets(ctx, "lost", "")
	wantErr(t, err, ErrInvalid)
	_, err = l.Tickets(ctx, "", "Q")
	wantErr(t, err, ErrUnknownCategory)
	_, err = l.Ticket(ctx, "A01x")
	wantErr(t, err, ErrInvalid)
}
