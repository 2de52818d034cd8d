package line

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestServedBy(t *testing.T) {
	l, c := newLine(t)
	r := Take{ID: takeID(), Category: "A", Section: "东区"}
	a1, _, err := l.Take(ctx, "k1", r)
	if err != nil {
		t.Fatal(err)
	}
	// Not printed yet: unknown to the hall's side.
	_, err = l.ServedBy(ctx, "", a1.Code)
	wantErr(t, err, ErrNotFound)
	if err := l.Issued(ctx, "k1", Issued{Take: r.ID, Day: a1.Day, Code: a1.Code, Lookup: a1.Lookup}); err != nil {
		t.Fatal(err)
	}
	a2 := issue(t, l, "A", false)

	_, err = l.ServedBy(ctx, "", a1.Code)
	wantErr(t, err, ErrNotServed)
	var le *Error
	if !errors.As(err, &le) || le.Code != CodeNotServed || le.Msg == "" {
		t.Errorf("waiting: error %#v, want a not-served *Error with its detail", err)
	}
	if errors.Is(err, ErrNotFound) || errors.Is(ErrNotFound, ErrNotServed) {
		t.Error("not-served matches not-found")
	}
	called := c.Now()
	if _, err := l.Next(ctx, "1", "anna"); err != nil {
		t.Fatal(err)
	}
	_, err = l.ServedBy(ctx, "", a1.Code)
	wantErr(t, err, ErrNotServed)
	c.Add(2 * time.Minute)
	start := c.Now()
	if _, err := l.Start(ctx, "1", "bo"); err != nil {
		t.Fatal(err)
	}
	_, err = l.ServedBy(ctx, "", a1.Code)
	wantErr(t, err, ErrNotServed)
	c.Add(4 * time.Minute)
	if _, err := l.Done(ctx, "1", "bo"); err != nil {
		t.Fatal(err)
	}
	s, err := l.ServedBy(ctx, "", " "+strings.ToLower(a1.Code)+" ")
	if err != nil {
		t.Fatal(err)
	}
	// The staff of the call (anna), not of the start (bo): the rating is of who called it.
	if s.Window != "1" || s.Staff != "anna" || s.Section != "东区" || s.Category != "A" {
		t.Errorf("served %+v", s)
	}
	if s.Started.Before(start) || s.Started.After(start.Add(time.Second)) || !s.Ended.After(s.Started.Add(4*time.Minute-time.Second)) {
		t.Errorf("served from %s to %s; started at %s (called %s)", s.Started, s.Ended, start, called)
	}
	if s2, err := l.ServedBy(ctx, a1.Day, a1.Code); err != nil || s2 != s {
		t.Errorf("by its day: %+v %v", s2, err)
	}

	// A no-show was not served; a transferred ticket is the window that finished it, with the
	// call's time as its start when staff skipped Start.
	if _, err := l.Next(ctx, "1", "anna"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.NoShow(ctx, "1", "anna"); err != nil {
		t.Fatal(err)
	}
	_, err = l.ServedBy(ctx, "", a2.Code)
	wantErr(t, err, ErrNotServed)
	b1 := issue(t, l, "A", false)
	if _, err := l.Next(ctx, "1", "anna"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Transfer(ctx, "1", "anna", "B"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Next(ctx, "3", "chen"); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute)
	if _, err := l.Done(ctx, "3", "chen"); err != nil {
		t.Fatal(err)
	}
	s, err = l.ServedBy(ctx, "", b1.Code)
	if err != nil || s.Window != "3" || s.Staff != "chen" || s.Category != "B" || s.Started.IsZero() || !s.Ended.After(s.Started) {
		t.Errorf("transferred: %+v %v", s, err)
	}

	for _, bad := range []struct{ day, code string }{{"", "A0x1"}, {"7.12.2026", a1.Code}, {"", ""}} {
		_, err := l.ServedBy(ctx, bad.day, bad.code)
		wantErr(t, err, ErrInvalid)
	}
	_, err = l.ServedBy(ctx, "", "A999")
	wantErr(t, err, ErrNotFound)
	_, err = l.ServedBy(ctx, "2026-12-06", a1.Code)
	wantErr(t, err, ErrNotFound)
}

func TestLastDone(t *testing.T) {
	l, c := newLine(t)
	_, _, _, err := l.LastDone(ctx, "9")
	wantErr(t, err, ErrUnknownWindow)
	_, _, _, err = l.LastDone(ctx, "1")
	wantErr(t, err, ErrNotFound)

	a1 := issue(t, l, "A", false)
	a2 := issue(t, l, "A", false)
	a3 := issue(t, l, "A", false)
	if _, err := l.Next(ctx, "1", "anna"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Done(ctx, "1", "anna"); err != nil {
		t.Fatal(err)
	}
	code, day, s, err := l.LastDone(ctx, "1")
	if err != nil || code != a1.Code || day != "2026-12-07" || s.Window != "1" || s.Staff != "anna" {
		t.Fatalf("last done %s %s %+v %v", code, day, s, err)
	}
	// A call, then a no-show: the last done stays a1.
	if _, err := l.Next(ctx, "1", "anna"); err != nil {
		t.Fatal(err)
	}
	if code, _, _, _ := l.LastDone(ctx, "1"); code != a1.Code {
		t.Errorf("while %s is called: last done %s, want %s", a2.Code, code, a1.Code)
	}
	if _, err := l.NoShow(ctx, "1", "anna"); err != nil {
		t.Fatal(err)
	}
	if code, _, _, _ := l.LastDone(ctx, "1"); code != a1.Code {
		t.Errorf("after a no-show: last done %s, want %s", code, a1.Code)
	}
	// Another window's done is not this one's.
	if _, err := l.Next(ctx, "2", "bo"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Done(ctx, "2", "bo"); err != nil {
		t.Fatal(err)
	}
	if code, _, _, _ := l.LastDone(ctx, "1"); code != a1.Code {
		t.Errorf("after window 2's done: window 1's last done %s, want %s", code, a1.Code)
	}
	if code, _, s, _ := l.LastDone(ctx, "2"); code != a3.Code || s.Staff != "bo" {
		t.Errorf("window 2's last done %s %+v, want %s by bo", code, s, a3.Code)
	}
	// Past midnight yesterday's last is still found; two days on it is not.
	c.Add(16 * time.Hour)
	if code, day, _, err := l.LastDone(ctx, "1"); err != nil || code != a1.Code || day != "2026-12-07" {
		t.Errorf("the next day: %s %s %v", code, day, err)
	}
	c.Add(24 * time.Hour)
	_, _, _, err = l.LastDone(ctx, "1")
	wantErr(t, err, ErrNotFound)
}
