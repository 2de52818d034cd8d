package hours

import (
	"testing"
	"time"
)

// The National Day week of 2026: 1-7 October closed, Saturday 10 October worked (调休).
func holidaySchedule(t *testing.T) *Schedule {
	t.Helper()
	s, err := New(shanghai(t), []string{"08:30-12:00"}, []string{"09:00-12:00"},
		[]string{"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"},
		[]string{"2026-10-10"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWorkday(t *testing.T) {
	s := holidaySchedule(t)
	loc := shanghai(t)
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 11, 26, 10, 0, 0, 0, loc), true},  // Thursday
		{time.Date(2026, 11, 28, 10, 0, 0, 0, loc), false}, // Saturday, though the hall opens (5+2)
		{time.Date(2026, 10, 1, 10, 0, 0, 0, loc), false},  // holiday
		{time.Date(2026, 10, 10, 10, 0, 0, 0, loc), true},  // make-up Saturday
		// 16:30 UTC on Friday the 27th is 00:30 on Saturday the 28th in the hall.
		{time.Date(2026, 11, 27, 16, 30, 0, 0, time.UTC), false},
		{time.Date(2026, 11, 27, 15, 59, 59, 0, time.UTC), true},
	} {
		if got := s.Workday(c.at); got != c.want {
			t.Errorf("Workday(%s) = %v, want %v", c.at, got, c.want)
		}
	}
}

func TestAddWorkdaysAndDays(t *testing.T) {
	s := holidaySchedule(t)
	loc := shanghai(t)
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, loc) }
	thu := time.Date(2026, 11, 26, 15, 0, 0, 0, loc)
	for _, c := range []struct {
		name string
		got  time.Time
		want time.Time
	}{
		{"0 working days is the same date", s.AddWorkdays(thu, 0), d(2026, 11, 26)},
		{"1 working day", s.AddWorkdays(thu, 1), d(2026, 11, 27)},
		{"over a weekend", s.AddWorkdays(thu, 2), d(2026, 11, 30)},
		{"from a Saturday", s.AddWorkdays(time.Date(2026, 11, 28, 10, 0, 0, 0, loc), 1), d(2026, 11, 30)},
		{"over the holiday", s.AddWorkdays(d(2026, 9, 30), 1), d(2026, 10, 8)},
		{"onto the make-up Saturday", s.AddWorkdays(d(2026, 9, 30), 3), d(2026, 10, 10)},
		{"after the make-up Saturday", s.AddWorkdays(d(2026, 9, 30), 4), d(2026, 10, 12)},
		{"calendar days", s.AddDays(thu, 1), d(2026, 11, 27)},
		{"calendar days ending on a Saturday move to Monday", s.AddDays(thu, 2), d(2026, 11, 30)},
		{"calendar days ending in the holiday move past it", s.AddDays(d(2026, 9, 24), 7), d(2026, 10, 8)},
		{"60 calendar days", s.AddDays(d(2026, 11, 2), 60), d(2027, 1, 1)},
		// the UTC instant is already the 27th in Shanghai
		{"local date of a UTC instant", s.AddWorkdays(time.Date(2026, 11, 26, 16, 30, 0, 0, time.UTC), 1), d(2026, 11, 30)},
	} {
		if !c.got.Equal(c.want) {
			t.Errorf("%s: %s, want %s", c.name, c.got.In(loc).Format(time.DateOnly), c.want.Format(time.DateOnly))
		}
	}
	// A schedule with every weekday closed cannot loop forever.
	var closed []string
	for i := range 400 {
		closed = append(closed, time.Date(2026, 1, 1+i, 0, 0, 0, 0, loc).Format(time.DateOnly))
	}
	none, err := New(loc, nil, nil, closed, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = none.AddWorkdays(d(2026, 1, 1), 5)
	_ = none.AddDays(d(2026, 1, 1), 5)
}
