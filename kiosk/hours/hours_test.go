package hours

import (
	"testing"
	"time"
)

func shanghai(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestStatus(t *testing.T) {
	loc := shanghai(t)
	s, err := New(loc, []string{"13:30-17:30", "08:30-12:00"}, []string{"09:00-12:00"},
		[]string{"2026-10-01"}, []string{"2026-10-10"})
	if err != nil {
		t.Fatal(err)
	}
	lt := func(v string) time.Time {
		x, err := time.ParseInLocation("2006-01-02 15:04", v, loc)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	cases := []struct {
		at      string
		open    bool
		weekend bool
		reason  Reason
		next    string
	}{
		{"2026-11-26 08:29", false, false, BeforeOpening, "2026-11-26 08:30"}, // Thursday
		{"2026-11-26 08:30", true, false, Open, "2026-11-26 12:00"},
		{"2026-11-26 11:59", true, false, Open, "2026-11-26 12:00"},
		{"2026-11-26 12:00", false, false, Break, "2026-11-26 13:30"},
		{"2026-11-26 17:29", true, false, Open, "2026-11-26 17:30"},
		{"2026-11-26 17:30", false, false, AfterClosing, "2026-11-27 08:30"},
		{"2026-11-27 23:00", false, false, AfterClosing, "2026-11-28 09:00"}, // Friday night -> Saturday 5+2
		{"2026-11-28 10:00", true, true, Open, "2026-11-28 12:00"},           // Saturday
		{"2026-11-29 13:00", false, true, AfterClosing, "2026-11-30 08:30"},  // Sunday afternoon
		{"2026-10-01 10:00", false, false, Holiday, "2026-10-02 08:30"},      // National Day (Thursday)
		{"2026-10-10 10:00", true, false, Open, "2026-10-10 12:00"},          // Saturday worked as a weekday
		{"2026-10-10 14:00", true, false, Open, "2026-10-10 17:30"},
	}
	for _, c := range cases {
		st := s.Status(lt(c.at))
		if st.Open != c.open || st.Weekend != c.weekend || st.Reason != c.reason {
			t.Errorf("%s: got %+v, want open=%v weekend=%v reason=%q", c.at, st, c.open, c.weekend, c.reason)
		}
		if !st.Next.Equal(lt(c.next)) {
			t.Errorf("%s: next %s, want %s", c.at, st.Next.In(loc).Format("2006-01-02 15:04"), c.next)
		}
	}
	// The day is the local date: 23:59 UTC on the 25th is the 26th in Shanghai.
	if d := s.Day(time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC)); d != "2026-11-26" {
		t.Errorf("Day = %s", d)
	}
}

func TestNoWeekendService(t *testing.T) {
	s, err := New(shanghai(t), []string{"09:00-17:00"}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := s.Status(time.Date(2026, 11, 28, 10, 0, 0, 0, s.Location()))
	if st.Open || st.Reason != NoWeekend || st.Next.Weekday() != time.Monday {
		t.Errorf("Saturday without weekend hours: %+v", st)
	}
}

func TestNeverOpen(t *testing.T) {
	s, err := New(shanghai(t), nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := s.Status(time.Date(2026, 11, 26, 10, 0, 0, 0, s.Location()))
	if st.Open || !st.Next.IsZero() {
		t.Errorf("a hall with no hours: %+v", st)
	}
}

func TestBadInput(t *testing.T) {
	loc := shanghai(t)
	for name, args := range map[string][4][]string{
		"overlap":   {{"08:00-12:00", "11:00-13:00"}, nil, nil, nil},
		"reversed":  {{"12:00-08:00"}, nil, nil, nil},
		"form":      {nil, {"9-5"}, nil, nil},
		"closed":    {nil, nil, {"1 Oct"}, nil},
		"workday":   {nil, nil, nil, {"2026/10/10"}},
		"past 24h":  {{"08:00-24:30"}, nil, nil, nil},
		"no minute": {{"08-12:00"}, nil, nil, nil},
	} {
		if _, err := New(loc, args[0], args[1], args[2], args[3]); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(nil, nil, nil, nil, nil); err == nil {
		t.Error("nil location accepted")
	}
}
