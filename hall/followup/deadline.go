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
			return w.Closes(m)
		}
	}
	return time.Time{}, false
}
