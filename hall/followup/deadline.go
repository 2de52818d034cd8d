package followup

import (
	"time"

	"citizenhome/hall/hours"
)

// searchDays bounds the search for working days: a calendar with no opening in a year has none.
const searchDays = 400

// Deadline returns the end of the opening hours of the days-th working day of w after the
// hall-local date of opened (see the package documentation); ok is false when w has fewer
// than days working days in the searchDays days after it (a calendar closed for good).
func Deadline(w hours.Week, opened time.Time, days int) (time.Time, bool) {
	loc := w.Location()
	o := opened.In(loc)
	m := time.Date(o.Year(), o.Month(), o.Day(), 0, 0, 0, 0, loc)
	for i := 0; i < searchDays; i++ {
		m = time.Date(m.Year(), m.Month(), m.Day()+1, 0, 0, 0, 0, loc)
		next := time.Date(m.Year(), m.Month(), m.Day()+1, 0, 0, 0, 0, loc)
		if w.Within(m, next) <= 0 {
			continue
		}
		if days--; days == 0 {
			return closingTime(w, m, next), true
		}
	}
	return time.Time{}, false
}

// closingTime is when the hall closes for the day on the date starting at midnight m (ending at
// next), a date with opening hours: the first minute after which it is open no more. hours
// keeps its spans to itself; they are whole minutes, so a binary search over the day's
// minutes on Within finds the end of the last one.
func closingTime(w hours.Week, m, next time.Time) time.Time {
	at := func(min int) time.Time {
		return time.Date(m.Year(), m.Month(), m.Day(), min/60, min%60, 0, 0, m.Location())
	}
	lo, hi := 0, 24*60 // open after lo; not open after hi
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if w.Within(at(mid), next) > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	if hi == 24*60 {
		return next // open until midnight
	}
	return at(hi)
}
