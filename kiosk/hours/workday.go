package hours

import "time"

// maxSpan bounds the day loops of the working-day arithmetic: no time limit in a service guide
// comes near ten years, and a bound keeps a corrupt figure from spinning forever.
const maxSpan = 3660

// Workday reports whether the local date of t is a working day (工作日) for statutory and
// promised time limits: Monday to Friday unless the date is closed (a public holiday), and a
// Saturday or Sunday only when it is a make-up working day (调休). The hall's 5+2 weekend opening
// does not make a weekend a working day: time limits count the departments' working days.
func (s *Schedule) Workday(t time.Time) bool {
	lt := t.In(s.loc)
	d := lt.Format(time.DateOnly)
	if s.closed[d] {
		return false
	}
	if wd := lt.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return s.workdays[d]
	}
	return true
}

// Midnight returns the start of the local date of t in the hall's zone.
func (s *Schedule) Midnight(t time.Time) time.Time {
	lt := t.In(s.loc)
	return time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, s.loc)
}

// AddWorkdays returns the local midnight of the n-th working day after the local date of t. The
// date of t itself is not counted, whether or not it is a working day (民法典 art. 201: a period
// counted in days starts on the following day). n <= 0 returns the midnight of t's own date;
// n is capped at 3660.
func (s *Schedule) AddWorkdays(t time.Time, n int) time.Time {
	d := s.Midnight(t)
	n = min(n, maxSpan)
	for i := 0; n > 0 && i < 3*maxSpan; i++ {
		d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, s.loc)
		if s.Workday(d) {
			n--
		}
	}
	return d
}

// AddDays returns the local midnight of the date n calendar days after t's local date, moved
// forward to the next working day when it is not one (民法典 art. 203: a period whose last day is
// a holiday ends on the first day after it). n <= 0 gives t's own date, moved the same way; n is
// capped at 3660.
func (s *Schedule) AddDays(t time.Time, n int) time.Time {
	d := s.Midnight(t)
	n = max(min(n, maxSpan), 0)
	d = time.Date(d.Year(), d.Month(), d.Day()+n, 0, 0, 0, 0, s.loc)
	for i := 0; !s.Workday(d) && i < maxSpan; i++ {
		d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, s.loc)
	}
	return d
}
