// Package hours knows when the hall serves: opening hours on weekdays, the "5+2" weekend service
// (art. 18 of the regulations: on Saturdays and Sundays only the published convenience matters),
// public holidays, and the make-up working days (调休) on which a weekend day is worked as a weekday.
package hours

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Reason says why the hall is not serving. The zero value means it is.
type Reason string

// Reasons the hall is closed; the UI translates them and always says when it opens next.
const (
	Open          Reason = ""
	BeforeOpening Reason = "before-opening"
	Break         Reason = "break"         // between two spans of a day (lunch)
	AfterClosing  Reason = "after-closing" // after the last span of the day
	Holiday       Reason = "holiday"       // a configured closed date
	NoWeekend     Reason = "no-weekend"    // weekend with no weekend hours configured
)

// Status is the hall's state at an instant.
type Status struct {
	Open bool
	// Weekend is true on a Saturday or Sunday served as a 5+2 day: only matters flagged for
	// weekend service are offered. A make-up working day is not a weekend day.
	Weekend bool
	Reason  Reason
	// Next is the next opening when closed, or the end of the current span when open. It is zero
	// when no opening is found within the next 31 days (a misconfigured or long-closed hall).
	Next time.Time
}

type span struct{ from, to int } // minutes after local midnight, from < to

// Schedule answers Status for any instant. It is immutable and safe for concurrent use.
type Schedule struct {
	loc              *time.Location
	weekday, weekend []span
	closed, workdays map[string]bool
}

// New builds a schedule. Spans are "08:30-12:00"; dates are "2026-10-01". Overlapping or unordered
// spans are an error, so a typo cannot silently open the hall at night.
func New(loc *time.Location, weekday, weekend, closed, workdays []string) (*Schedule, error) {
	if loc == nil {
		return nil, fmt.Errorf("hours: no time zone")
	}
	s := &Schedule{loc: loc, closed: map[string]bool{}, workdays: map[string]bool{}}
	var err error
	if s.weekday, err = spans(weekday); err != nil {
		return nil, fmt.Errorf("hours: weekday: %w", err)
	}
	if s.weekend, err = spans(weekend); err != nil {
		return nil, fmt.Errorf("hours: weekend: %w", err)
	}
	for _, d := range closed {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, fmt.Errorf("hours: closed date %q: want YYYY-MM-DD", d)
		}
		s.closed[d] = true
	}
	for _, d := range workdays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, fmt.Errorf("hours: workday %q: want YYYY-MM-DD", d)
		}
		s.workdays[d] = true
	}
	return s, nil
}

func spans(in []string) ([]span, error) {
	out := make([]span, 0, len(in))
	for _, v := range in {
		f, t, err := ParseSpan(v)
		if err != nil {
			return nil, err
		}
		out = append(out, span{f, t})
	}
	slices.SortFunc(out, func(a, b span) int { return a.from - b.from })
	for i := 1; i < len(out); i++ {
		if out[i].from < out[i-1].to {
			return nil, fmt.Errorf("spans overlap")
		}
	}
	return out, nil
}

// ParseSpan parses "08:30-12:00" into minutes after midnight. The end must be after the start;
// a span cannot cross midnight.
func ParseSpan(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q must be a span like 08:30-12:00", s)
	}
	pm := func(x string) (int, error) {
		t, err := time.Parse("15:04", strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("%q must be a span like 08:30-12:00", s)
		}
		return t.Hour()*60 + t.Minute(), nil
	}
	if from, err = pm(a); err != nil {
		return 0, 0, err
	}
	if to, err = pm(b); err != nil {
		return 0, 0, err
	}
	if to <= from {
		return 0, 0, fmt.Errorf("%q ends before it starts", s)
	}
	return from, to, nil
}

// Location is the hall's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// Day returns the local date of t, "YYYY-MM-DD": tickets are numbered per Day.
func (s *Schedule) Day(t time.Time) string { return t.In(s.loc).Format(time.DateOnly) }

// kind tells what a local date is: its spans, whether it is a 5+2 weekend day, and the reason
// it has no spans.
func (s *Schedule) kind(day time.Time) (sp []span, weekend bool, why Reason) {
	d := day.Format(time.DateOnly)
	if s.closed[d] {
		return nil, false, Holiday
	}
	wd := day.Weekday()
	if (wd == time.Saturday || wd == time.Sunday) && !s.workdays[d] {
		if len(s.weekend) == 0 {
			return nil, true, NoWeekend
		}
		return s.weekend, true, Open
	}
	return s.weekday, false, Open
}

// Status reports whether the hall serves at t.
func (s *Schedule) Status(t time.Time) Status {
	lt := t.In(s.loc)
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, s.loc)
	min := lt.Hour()*60 + lt.Minute()
	sp, weekend, why := s.kind(midnight)
	st := Status{Weekend: weekend, Reason: why}
	if why == Open {
		st.Reason = BeforeOpening
		for i, x := range sp {
			switch {
			case min >= x.from && min < x.to:
				return Status{Open: true, Weekend: weekend, Next: at(midnight, x.to, s.loc)}
			case min >= x.to && i == len(sp)-1:
				st.Reason = AfterClosing
			case min >= x.to:
				st.Reason = Break
			}
		}
		if len(sp) == 0 {
			st.Reason = AfterClosing
		}
		for _, x := range sp {
			if x.from > min {
				st.Next = at(midnight, x.from, s.loc)
				return st
			}
		}
	}
	for i := 1; i <= 31; i++ {
		d := time.Date(lt.Year(), lt.Month(), lt.Day()+i, 0, 0, 0, 0, s.loc)
		if sp, _, why := s.kind(d); why == Open && len(sp) > 0 {
			st.Next = at(d, sp[0].from, s.loc)
			return st
		}
	}
	return st
}

// at is local midnight plus min minutes, computed on the wall clock so DST zones stay right.
func at(midnight time.Time, min int, loc *time.Location) time.Time {
	return time.Date(midnight.Year(), midnight.Month(), midnight.Day(), min/60, min%60, 0, 0, loc)
}
