// Package hours is a hall's opening hours: the spans of each weekday, and the dates it is
// closed (public holidays) or open on other hours (a working Saturday of 调休). Reports count
// availability against them and notifications wait for them.
//
// The hall works "5+2" (the 2021 regulations, art. 18: weekends are working days), so the
// default is the same hours every day of the week.
package hours

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Span is a part of a day, in minutes after local midnight, From < To <= 24*60.
type Span struct{ From, To int }

// Week is the hall's opening hours in its time zone. The zero Week is never open; use Parse
// or Default.
type Week struct {
	loc   *time.Location
	days  [7][]Span         // by time.Weekday
	dates map[string][]Span // "2006-01-02": these spans instead (nil: closed that day)
}

// DefaultDay is every day's hours when the configuration names none.
const DefaultDay = "09:00-17:00"

// Error is a configuration the package refuses; errors.Is(err, ErrInvalid) holds.
var ErrInvalid = errors.New("hours: invalid")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Default is DefaultDay on all seven days in loc (nil: time.Local).
func Default(loc *time.Location) Week {
	w, _ := Parse(loc, nil, nil)
	return w
}

// Parse builds a Week. days maps weekday names ("monday".."sunday", or "weekdays" for Monday to
// Friday and "weekend" for Saturday and Sunday; a day's own name wins) to spans like
// "08:30-12:00,13:30-17:30", or "" / "closed" for a day without hours; a day not named takes
// DefaultDay. dates maps "2006-01-02" to the same form, for holidays ("closed") and changed
// days. Errors (ErrInvalid): an unknown key, a malformed or reversed span, overlapping spans.
func Parse(loc *time.Location, days, dates map[string]string) (Week, error) {
	if loc == nil {
		loc = time.Local
	}
	w := Week{loc: loc, dates: map[string][]Span{}}
	def, _ := parseSpans(DefaultDay)
	for d := range w.days {
		w.days[d] = def
	}
	names := map[string][]time.Weekday{
		"weekdays": {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
		"weekend":  {time.Saturday, time.Sunday},
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		names[strings.ToLower(d.String())] = []time.Weekday{d}
	}
	// Groups first, so that a day's own entry wins whatever the map's order.
	for _, group := range []bool{true, false} {
		for k, v := range days {
			ds, ok := names[strings.ToLower(k)]
			if !ok {
				return Week{}, invalid("unknown day %q (monday..sunday, weekdays, weekend)", k)
			}
			if (len(ds) > 1) != group {
				continue
			}
			sp, err := parseSpans(v)
			if err != nil {
				return Week{}, invalid("%s: %v", k, err)
			}
			for _, d := range ds {
				w.days[d] = sp
			}
		}
	}
	for k, v := range dates {
		if _, err := time.ParseInLocation(time.DateOnly, k, loc); err != nil {
			return Week{}, invalid("date %q: want YYYY-MM-DD", k)
		}
		sp, err := parseSpans(v)
		if err != nil {
			return Week{}, invalid("%s: %v", k, err)
		}
		w.dates[k] = sp
	}
	return w, nil
}

func parseSpans(s string) ([]Span, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "closed") {
		return nil, nil
	}
	var out []Span
	for _, part := range strings.Split(s, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, fmt.Errorf("%q: want HH:MM-HH:MM", part)
		}
		f, err1 := clock(from)
		t, err2 := clock(to)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%q: want HH:MM-HH:MM", part)
		}
		if f >= t {
			return nil, fmt.Errorf("%q ends before it starts", part)
		}
		out = append(out, Span{f, t})
	}
	slices.SortFunc(out, func(a, b Span) int { return a.From - b.From })
	for i := 1; i < len(out); i++ {
		if out[i].From < out[i-1].To {
			return nil, fmt.Errorf("spans %q overlap", s)
		}
	}
	return out, nil
}

func clock(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "24:00" {
		return 24 * 60, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// IsZero reports whether w is the zero Week (never open, no zone), not one from Parse or
// Default: callers use it to pick a default.
func (w Week) IsZero() bool {
	if w.loc != nil || w.dates != nil {
		return false
	}
	for _, d := range w.days {
		if d != nil {
			return false
		}
	}
	return true
}

// Location is the time zone the hours are in.
func (w Week) Location() *time.Location {
	if w.loc == nil {
		return time.Local
	}
	return w.loc
}

// spans returns the opening spans of the local date of midnight m.
func (w Week) spans(m time.Time) []Span {
	if sp, ok := w.dates[m.Format(time.DateOnly)]; ok {
		return sp
	}
	return w.days[m.Weekday()]
}

// Closes returns when the hall closes on t's local date: the end of its last opening span;
// ok is false on a date without opening hours.
func (w Week) Closes(t time.Time) (time.Time, bool) {
	m := w.midnight(t)
	sp := w.spans(m)
	if len(sp) == 0 {
		return time.Time{}, false
	}
	return w.at(m, sp[len(sp)-1].To), true
}

// midnight is the start of t's local day. Across a DST change a day is not 24 h, so spans are
// placed by the wall clock (time.Date), not by adding minutes to midnight.
func (w Week) midnight(t time.Time) time.Time {
	t = t.In(w.Location())
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, w.Location())
}

func (w Week) at(m time.Time, minutes int) time.Time {
	return time.Date(m.Year(), m.Month(), m.Day(), minutes/60, minutes%60, 0, 0, w.Location())
}

// Open reports whether the hall is open at t.
func (w Week) Open(t time.Time) bool {
	m := w.midnight(t)
	for _, sp := range w.spans(m) {
		if !t.Before(w.at(m, sp.From)) && t.Before(w.at(m, sp.To)) {
			return true
		}
	}
	return false
}

// Within returns how much of [from, to) the hall is open; 0 when to is not after from.
func (w Week) Within(from, to time.Time) time.Duration {
	var total time.Duration
	for m := w.midnight(from); m.Before(to); m = m.AddDate(0, 0, 1) {
		for _, sp := range w.spans(m) {
			a, b := w.at(m, sp.From), w.at(m, sp.To)
			if a.Before(from) {
				a = from
			}
			if b.After(to) {
				b = to
			}
			if b.After(a) {
				total += b.Sub(a)
			}
		}
	}
	return total
}

// NextOpen returns t when the hall is open at t, else the next opening after t; ok is false
// when the hall does not open within a year of t (every day closed).
func (w Week) NextOpen(t time.Time) (time.Time, bool) {
	if w.Open(t) {
		return t, true
	}
	for m, i := w.midnight(t), 0; i <= 366; m, i = m.AddDate(0, 0, 1), i+1 {
		for _, sp := range w.spans(m) {
			if a := w.at(m, sp.From); a.After(t) {
				return a, true
			}
		}
	}
	return time.Time{}, false
}
