package web

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"citizenhome/hall/history"
	"citizenhome/telemetry/wire"
)

func quote(s string) string { return strconv.Quote(s) }

// queryError is a query parameter refused: the answer's error code and message.
type queryError struct{ code, msg string }

func (e *queryError) Error() string { return e.code + ": " + e.msg }

// MaxAlertLimit is the most alerts one request lists.
const MaxAlertLimit = 1000

// parseWhen reads a time parameter: RFC 3339, or a date (2026-12-07) taken in loc; a date as an
// end (until) means the end of that day. ok false for anything else, or a year outside
// 2000-2999 (nothing in a hall's history is older; the bound keeps every later sum in range).
func parseWhen(v string, loc *time.Location, end bool) (time.Time, bool) {
	var t time.Time
	if d, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		t = d
		if end {
			t = d.AddDate(0, 0, 1)
		}
	} else if d, err := time.Parse(time.RFC3339, v); err == nil {
		t = d
	} else {
		return time.Time{}, false
	}
	if y := t.Year(); y < 2000 || y > 2999 {
		return time.Time{}, false
	}
	return t, true
}

// parseRange reads since= and until= (parseWhen) with defaults (zero: unbounded); until must be
// after since when both are bounded.
// Errors: *queryError bad-since, bad-until, bad-range.
func parseRange(q url.Values, loc *time.Location, defFrom, defTo time.Time) (from, to time.Time, err error) {
	from, to = defFrom, defTo
	if v := q.Get("since"); v != "" {
		t, ok := parseWhen(v, loc, false)
		if !ok {
			return from, to, &queryError{"bad-since", "since is a time (RFC 3339) or a date, 2026-12-07"}
		}
		from = t
	}
	if v := q.Get("until"); v != "" {
		t, ok := parseWhen(v, loc, true)
		if !ok {
			return from, to, &queryError{"bad-until", "until is a time (RFC 3339) or a date, 2026-12-07 (to its end)"}
		}
		to = t
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return from, to, &queryError{"bad-range", "until must be after since"}
	}
	return from, to, nil
}

// parseAlertQuery reads GET /v1/alerts's (and the alert log page's) filters into a
// history.AlertFilter: since and until (parseWhen; absent: unbounded), kiosk (a kiosk's id),
// code (an alert code), severity (warning or error), open (1/true/on: open alerts only;
// 0/false/"": all) and limit (1 to MaxAlertLimit; default history.DefaultLimit). Empty values
// are absent. Errors: *queryError with the parameter's code (bad-since, bad-until, bad-range,
// bad-kiosk, bad-code, bad-severity, bad-open, bad-limit).
func parseAlertQuery(q url.Values, loc *time.Location) (history.AlertFilter, error) {
	var f history.AlertFilter
	var err error
	if f.Since, f.Until, err = parseRange(q, loc, time.Time{}, time.Time{}); err != nil {
		return f, err
	}
	if v := strings.TrimSpace(q.Get("kiosk")); v != "" {
		if !wire.ValidName(v) {
			return f, &queryError{"bad-kiosk", "kiosk is a kiosk's id, like k1"}
		}
		f.Kiosk = v
	}
	if v := strings.TrimSpace(strings.ToLower(q.Get("code"))); v != "" {
		if !wire.ValidCode(v) {
			return f, &queryError{"bad-code", "code is an alert's code, like printer-paper-out"}
		}
		f.Code = v
	}
	switch v := q.Get("severity"); v {
	case "", wire.SeverityWarning, wire.SeverityError:
		f.Severity = v
	default:
		return f, &queryError{"bad-severity", "severity is warning or error"}
	}
	switch q.Get("open") {
	case "", "0", "false", "off":
	case "1", "true", "on":
		f.Open = true
	default:
		return f, &queryError{"bad-open", "open is true or false"}
	}
	f.Limit = history.DefaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxAlertLimit {
			return f, &queryError{"bad-limit", "limit is 1 to 1000"}
		}
		f.Limit = n
	}
	return f, nil
}
