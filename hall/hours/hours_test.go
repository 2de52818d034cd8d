package hours

import (
	"errors"
	"testing"
	"time"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustParse(t *testing.T, loc *time.Location, days, dates map[string]string) Week {
	t.Helper()
	w, err := Parse(loc, days, dates)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		name        string
		days, dates map[string]string
	}{
		{"unknown day", map[string]string{"mon": "09:00-17:00"}, nil},
		{"no dash", map[string]string{"monday": "09:00"}, nil},
		{"not a time", map[string]string{"monday": "9h-17h"}, nil},
		{"reversed", map[string]string{"monday": "17:00-09:00"}, nil},
		{"empty span", map[string]string{"monday": "09:00-09:00"}, nil},
		{"overlap", map[string]string{"weekdays": "09:00-12:00,11:30-17:00"}, nil},
		{"past midnight", map[string]string{"friday": "20:00-24:30"}, nil},
		{"minute 60", map[string]string{"friday": "09:00-16:60"}, nil},
		{"trailing comma", map[string]string{"friday": "09:00-12:00,"}, nil},
		{"bad date", nil, map[string]string{"2026-1-1": "closed"}},
		{"not a date", nil, map[string]string{"new year": "closed"}},
		{"bad date spans", nil, map[string]string{"2026-10-01": "all day"}},
	} {
		if _, err := Parse(time.UTC, c.days, c.dates); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", c.name, err)
		}
	}
}

func TestOpen(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	at := func(d, h, m int) time.Time { return time.Date(2026, 10, d, h, m, 0, 0, sh) }
	// October 2026: the 1st is a Thursday; the 1st-7th are the national day holiday; Saturday
	// the 10th is a working day (调休) with the weekdays' hours.
	w := mustParse(t, sh, map[string]string{
		"weekdays": "08:30-12:00,13:30-17:30",
		"weekend":  "10:00-16:00",
		"sunday":   "closed", // a day's own entry wins over its group's
	}, map[string]string{
		"2026-10-01": "closed", "2026-10-02": "", "2026-10-10": "08:30-12:00,13:30-17:30",
	})
	for _, c := range []struct {
		t    time.Time
		open bool
	}{
		{at(8, 8, 29), false}, // a Thursday
		{at(8, 8, 30), true},
		{at(8, 11, 59), true},
		{at(8, 12, 0), false}, // lunch
		{at(8, 13, 30), true},
		{at(8, 17, 29), true},
		{at(8, 17, 30), false},
		{at(1, 9, 0), false},  // holiday
		{at(2, 9, 0), false},  // "" is closed too
		{at(3, 11, 0), true},  // a Saturday of the holiday week: weekend hours
		{at(4, 11, 0), false}, // Sunday
		{at(10, 8, 45), true}, // the working Saturday
		{at(17, 8, 45), false},
		{at(17, 10, 0), true},
		// Another zone's time is placed in the hall's: 02:00 UTC is 10:00 in Shanghai.
		{time.Date(2026, 10, 8, 2, 0, 0, 0, time.UTC), true},
	} {
		if got := w.Open(c.t); got != c.open {
			t.Errorf("Open(%v) = %v", c.t, got)
		}
	}
	d := Default(sh)
	if !d.Open(at(4, 9, 0)) || d.Open(at(4, 17, 0)) || d.Location() != sh {
		t.Error("the default: 09:00-17:00 every day")
	}
	if (Week{}).Open(at(8, 10, 0)) || (Week{}).Location() != time.Local {
		t.Error("the zero Week is never open, in time.Local")
	}
	if !(Week{}).IsZero() || d.IsZero() || mustParse(t, sh, map[string]string{"weekdays": "closed", "weekend": "closed"}, nil).IsZero() {
		t.Error("IsZero")
	}
	all := mustParse(t, sh, map[string]string{"weekdays": "00:00-24:00", "weekend": "00:00-24:00"}, nil)
	if !all.Open(at(8, 23, 59)) || !all.Open(at(9, 0, 0)) {
		t.Error("a span to 24:00 ends at the next midnight")
	}
}

func TestWithin(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	berlin := zone(t, "Europe/Berlin")
	h := time.Hour
	sd := func(mo time.Month, d, hh, mm int) time.Time { return time.Date(2026, mo, d, hh, mm, 0, 0, sh) }
	bd := func(mo time.Month, d, hh, mm int) time.Time { return time.Date(2026, mo, d, hh, mm, 0, 0, berlin) }
	def := Default(sh)
	lunch := mustParse(t, sh, map[string]string{"weekdays": "08:30-12:00,13:30-17:30", "weekend": "closed"},
		map[string]string{"2026-12-25": "closed", "2026-12-26": "09:00-12:00"})
	allDay := mustParse(t, berlin, map[string]string{"weekdays": "00:00-24:00", "weekend": "00:00-24:00"}, nil)
	night := mustParse(t, berlin, map[string]string{"weekdays": "01:00-04:00", "weekend": "01:00-04:00"}, nil)
	for _, c := range []struct {
		name     string
		w        Week
		from, to time.Time
		want     time.Duration
	}{
		{"a whole day", def, sd(12, 2, 0, 0), sd(12, 3, 0, 0), 8 * h},
		{"inside a span", def, sd(12, 2, 10, 0), sd(12, 2, 10, 30), 30 * time.Minute},
		{"across midnight", def, sd(12, 2, 16, 0), sd(12, 3, 10, 0), 2 * h},
		{"outside the hours", def, sd(12, 2, 17, 0), sd(12, 3, 9, 0), 0},
		{"to before from", def, sd(12, 3, 0, 0), sd(12, 2, 0, 0), 0},
		{"empty", def, sd(12, 2, 10, 0), sd(12, 2, 10, 0), 0},
		{"a month", def, sd(11, 1, 0, 0), sd(12, 1, 0, 0), 240 * h},
		{"a lunch break", lunch, sd(12, 2, 11, 0), sd(12, 2, 14, 0), 90 * time.Minute},
		// December 21st (Monday) to 28th: five weekdays, the 25th a holiday, the 26th (a
		// Saturday) a working morning.
		{"a week with a holiday and a working Saturday", lunch, sd(12, 21, 0, 0), sd(12, 28, 0, 0), 4*(7*h+30*time.Minute) + 3*h},
		{"times in another zone", def, sd(12, 2, 0, 0).UTC(), sd(12, 3, 0, 0).UTC(), 8 * h},
		{"spring forward: a day of 23 hours", allDay, bd(3, 29, 0, 0), bd(3, 30, 0, 0), 23 * h},
		{"fall back: a day of 25 hours", allDay, bd(10, 25, 0, 0), bd(10, 26, 0, 0), 25 * h},
		{"March in Berlin", allDay, bd(3, 1, 0, 0), bd(4, 1, 0, 0), 743 * h},
		{"a span over the spring change", night, bd(3, 29, 0, 0), bd(3, 30, 0, 0), 2 * h},
		{"a span over the autumn change", night, bd(10, 25, 0, 0), bd(10, 26, 0, 0), 4 * h},
		{"a normal night", night, bd(3, 28, 0, 0), bd(3, 29, 0, 0), 3 * h},
		{"never open", Week{}, sd(12, 2, 0, 0), sd(12, 9, 0, 0), 0},
	} {
		if got := c.w.Within(c.from, c.to); got != c.want {
			t.Errorf("%s: Within = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestNextOpen(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	at := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, sh) }
	w := mustParse(t, sh, map[string]string{"weekdays": "08:30-12:00,13:30-17:30", "weekend": "closed"},
		map[string]string{"2026-12-07": "closed"})
	for _, c := range []struct {
		name   string
		t, out time.Time
	}{
		{"open now", at(2, 9, 0), at(2, 9, 0)},
		{"at the opening", at(2, 8, 30), at(2, 8, 30)},
		{"before the opening", at(2, 7, 0), at(2, 8, 30)},
		{"lunch", at(2, 12, 0), at(2, 13, 30)},
		{"evening", at(2, 17, 30), at(3, 8, 30)},
		{"Friday evening, the weekend closed, Monday a holiday", at(4, 18, 0), at(8, 8, 30)},
	} {
		got, ok := w.NextOpen(c.t)
		if !ok || !got.Equal(c.out) {
			t.Errorf("%s: NextOpen(%v) = %v %v, want %v", c.name, c.t, got, ok, c.out)
		}
	}
	closed := mustParse(t, sh, map[string]string{"weekdays": "closed", "weekend": "closed"}, nil)
	if got, ok := closed.NextOpen(at(2, 9, 0)); ok {
		t.Errorf("a hall never open opens at %v", got)
	}
	if _, ok := (Week{}).NextOpen(at(2, 9, 0)); ok {
		t.Error("the zero Week opens")
	}
}

// Closes is the end of a date's last span, midnight for a day open to its end, none for a
// closed date.
func TestCloses(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	w := mustParse(t, loc, map[string]string{"weekdays": "08:30-12:00,13:30-17:30", "saturday": "18:00-24:00", "sunday": "closed"}, nil)
	for _, c := range []struct {
		at   time.Time
		want time.Time
		ok   bool
	}{
		{time.Date(2026, 12, 7, 3, 0, 0, 0, loc), time.Date(2026, 12, 7, 17, 30, 0, 0, loc), true},
		{time.Date(2026, 12, 12, 23, 0, 0, 0, loc), time.Date(2026, 12, 13, 0, 0, 0, 0, loc), true},
		{time.Date(2026, 12, 13, 10, 0, 0, 0, loc), time.Time{}, false},
	} {
		if got, ok := w.Closes(c.at); ok != c.ok || !got.Equal(c.want) {
			t.Errorf("Closes(%s) = %s %v, want %s %v", c.at, got, ok, c.want, c.ok)
		}
	}
}
