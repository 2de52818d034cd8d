package rating

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// maxReasons bounds the reasons of one rating (the kiosk knows nine).
const maxReasons = 12

// reReason is a reason code: the kiosk's (docs/hall-data.md) and any a newer kiosk may add, in
// the same shape. Codes are joined by commas in the table, so none may hold one.
var reReason = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// levels is what a rating says, checked.
type levels struct {
	Overall, Efficiency, Skill, Attitude int
	Reasons                              []string
}

// check refuses what the kiosk would not send: a level out of range, a bad or repeated reason,
// a 差评 without a reason.
func (l levels) check() error {
	if l.Overall < 1 || l.Overall > 5 {
		return errf(CodeInvalid, "overall level %d is not 1 to 5", l.Overall)
	}
	for _, d := range []int{l.Efficiency, l.Skill, l.Attitude} {
		if d < 0 || d > 5 {
			return errf(CodeInvalid, "dimension level %d is not 1 to 5 (0: not rated)", d)
		}
	}
	if len(l.Reasons) > maxReasons {
		return errf(CodeInvalid, "%d reasons, at most %d", len(l.Reasons), maxReasons)
	}
	seen := map[string]bool{}
	for _, r := range l.Reasons {
		if !reReason.MatchString(r) {
			return errf(CodeInvalid, "reason %q is not a reason code", r)
		}
		if seen[r] {
			return errf(CodeInvalid, "reason %q given twice", r)
		}
		seen[r] = true
	}
	if lowest(l.Overall, l.Efficiency, l.Skill, l.Attitude) <= 2 && len(l.Reasons) == 0 {
		return errf(CodeInvalid, "a rating of 不满意 or 非常不满意 needs at least one reason")
	}
	return nil
}

const cols = `id, source, kiosk, coalesce(event_id, ''), day, ticket, win, staff, section, overall,
	efficiency, skill, attitude, reasons, at, status, refusal, work_order`

func (s *Store) scan(sc interface{ Scan(...any) error }) (Rating, error) {
	var (
		r       Rating
		reasons string
		at      int64
	)
	err := sc.Scan(&r.ID, &r.Source, &r.Kiosk, &r.EventID, &r.Day, &r.Ticket, &r.Window, &r.Staff, &r.Section,
		&r.Overall, &r.Efficiency, &r.Skill, &r.Attitude, &reasons, &at, &r.Status, &r.Refusal, &r.Order)
	if err != nil {
		return Rating{}, err
	}
	if reasons != "" {
		r.Reasons = strings.Split(reasons, ",")
	}
	r.At = time.Unix(0, at).In(s.loc)
	return r, nil
}

func (s *Store) list(ctx context.Context, where string, args ...any) ([]Rating, error) {
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT `+cols+` FROM rating WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("rating: list: %w", err)
	}
	defer rows.Close()
	var out []Rating
	for rows.Next() {
		r, err := s.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("rating: list: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rating: list: %w", err)
	}
	return out, nil
}

// insert records r (its ID is set). A Served rating of a ticket rated already is recorded as
// Refused (CodeRated) instead when keep, else not recorded (ErrRated), in the same transaction,
// so two ratings racing for one ticket count once. When r has a kiosk event id recorded before,
// r becomes that row, nothing is inserted, and found is true.
func (s *Store) insert(ctx context.Context, r *Rating, keep bool) (found bool, err error) {
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if r.EventID != "" {
			old, err := s.scan(tx.QueryRowContext(ctx, `SELECT `+cols+` FROM rating WHERE kiosk = ? AND event_id = ?`, r.Kiosk, r.EventID))
			if err == nil {
				*r, found = old, true
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if r.Status == StatusServed {
			var rated bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM rating WHERE day = ? AND ticket = ? AND status = 'served')`,
				r.Day, r.Ticket).Scan(&rated); err != nil {
				return err
			}
			if rated && !keep {
				return errf(CodeRated, "ticket %s of %s has its rating already", r.Ticket, r.Day)
			}
			if rated {
				r.Status, r.Refusal = StatusRefused, CodeRated
			}
		}
		var event any
		if r.EventID != "" {
			event = r.EventID
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO rating (source, kiosk, event_id, day, ticket, win, staff, section,
			overall, efficiency, skill, attitude, reasons, at, received, status, refusal)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Source, r.Kiosk, event, r.Day, r.Ticket, r.Window, r.Staff, r.Section, r.Overall, r.Efficiency,
			r.Skill, r.Attitude, strings.Join(r.Reasons, ","), r.At.UnixNano(), s.now().UnixNano(), r.Status, string(r.Refusal))
		if err != nil {
			return err
		}
		r.ID, err = res.LastInsertId()
		return err
	})
	var re *Error
	if errors.As(err, &re) {
		return false, err
	}
	if err != nil {
		return false, fmt.Errorf("rating: recording: %w", err)
	}
	return found, nil
}

// refusal is the error a kept rating answers with: nil for a counted one.
func refusal(r Rating) error {
	switch r.Refusal {
	case "":
		return nil
	case CodeNotServed:
		return errf(CodeNotServed, "ticket %s of %s had not been served at a window when rated", r.Ticket, r.Day)
	case CodeUnknownTicket:
		return errf(CodeUnknownTicket, "no ticket %s on %s", r.Ticket, r.Day)
	case CodeRated:
		return errf(CodeRated, "ticket %s of %s has its rating already", r.Ticket, r.Day)
	}
	return &Error{Code: r.Refusal}
}
