package rating

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// MaxList is the most ratings one List returns.
const MaxList = 1000

// Filter selects ratings for List; zero fields select all.
type Filter struct {
	Window, Section, Staff string
	Source                 string // SourceKiosk or SourcePad
	Status                 string // StatusServed, StatusUnattached or StatusRefused
	Since, Until           time.Time
	Limit                  int // 1..MaxList; else MaxList
}

// List returns the ratings f selects, the newest first (by when the citizen rated).
func (s *Store) List(ctx context.Context, f Filter) ([]Rating, error) {
	where, args := []string{"1"}, []any(nil)
	for _, c := range []struct{ col, v string }{{"win", f.Window}, {"section", f.Section}, {"staff", f.Staff},
		{"source", f.Source}, {"status", f.Status}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "at < ?"), append(args, f.Until.UnixNano())
	}
	if f.Limit < 1 || f.Limit > MaxList {
		f.Limit = MaxList
	}
	return s.list(ctx, strings.Join(where, " AND ")+` ORDER BY at DESC, id DESC LIMIT ?`, append(args, f.Limit)...)
}

// Score is the satisfaction of one window, section, staff account or month.
type Score struct {
	Key       string  // the window, section, account, or month "2026-12"; "" for ratings tied to no service
	Count     int     // counted ratings (served and unattached)
	Mean      float64 // of the overall levels, 1..5; 0 when Count is 0
	Satisfied float64 // share of overall 4 or 5 (满意, 非常满意), 0..1
	Bad       int     // 差评: any level 1 or 2
	Refused   int     // ratings kept but not counted (not served, unknown, rated twice)
}

// Satisfaction returns the scores by "window", "section", "staff" or "month" (the month of the
// rating's time in the hall's zone) of the ratings given in [from, to) (a zero bound is open),
// sorted by key. Errors: ErrInvalid for another by.
func (s *Store) Satisfaction(ctx context.Context, by string, from, to time.Time) ([]Score, error) {
	var key string
	switch by {
	case "window":
		key = "win"
	case "section", "staff":
		key = by
	case "month":
		// The offset of the hall's zone at from (China keeps one offset all year).
		ref := from
		if ref.IsZero() {
			ref = s.now()
		}
		_, off := ref.In(s.loc).Zone()
		key = fmt.Sprintf("strftime('%%Y-%%m', (at / 1000000000) + %d, 'unixepoch')", off)
	default:
		return nil, errf(CodeInvalid, "by %q is not window, section, staff or month", by)
	}
	lo, hi := int64(-1<<63), int64(1<<63-1)
	if !from.IsZero() {
		lo = from.UnixNano()
	}
	if !to.IsZero() {
		hi = to.UnixNano()
	}
	// A refused rating has no window, staff or section: by those, refusals fall under "".
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT `+key+` AS k,
		sum(status != 'refused'),
		coalesce(avg(CASE WHEN status != 'refused' THEN overall END), 0),
		sum(status != 'refused' AND overall >= 4),
		sum(status != 'refused' AND `+badSQL+`),
		sum(status = 'refused')
		FROM rating WHERE at >= ? AND at < ? GROUP BY k ORDER BY k`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("rating: satisfaction: %w", err)
	}
	defer rows.Close()
	var out []Score
	for rows.Next() {
		var sc Score
		var sat int
		if err := rows.Scan(&sc.Key, &sc.Count, &sc.Mean, &sat, &sc.Bad, &sc.Refused); err != nil {
			return nil, fmt.Errorf("rating: satisfaction: %w", err)
		}
		if sc.Count > 0 {
			sc.Satisfied = float64(sat) / float64(sc.Count)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rating: satisfaction: %w", err)
	}
	return out, nil
}
