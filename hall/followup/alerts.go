package followup

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"citizenhome/hall/history"
)

// Alert values of an overdue order.
const (
	AlertCode     = "order-overdue"
	AlertSeverity = "warning"
	// AlertDevice prefixes the section in an alert's Device: the alert concerns no kiosk.
	AlertDevice = "section:"
)

var kindNames = map[Kind]string{KindRating: "差评", KindComplaint: "投诉"}

// Alerts returns the overdue orders as alerts of the hall's history, for hall/notify: one per
// order not closed by its deadline, ID the order's id negated (the history's ids are positive,
// so the two never collide in the notifier's ledger), Kiosk "", Code AlertCode, Severity
// AlertSeverity, Device AlertDevice+section, Started the deadline, Ended the closing when the
// order closed late (nil while open). The message names the order, its kind and its deadline,
// and nothing of the citizen.
//
// f is read as history.AlertFilter's: an alert is open from Started to Ended; a filter naming a
// kiosk, another code or another severity selects nothing; Open selects the orders still open;
// Since the alerts open at or after it; Until those started before it; newest first, at most
// Limit (0: history.DefaultLimit). Overdue is judged at the store's Now: an order becomes an
// alert the moment its deadline passes.
func (s *Store) Alerts(ctx context.Context, f history.AlertFilter) ([]history.Alert, error) {
	if f.Kiosk != "" || (f.Code != "" && f.Code != AlertCode) || (f.Severity != "" && f.Severity != AlertSeverity) {
		return nil, nil
	}
	now := s.o.Now()
	where := []string{"((closed IS NULL AND due < ?) OR closed > due)"}
	args := []any{now.UnixNano()}
	if f.Open {
		where = append(where, "closed IS NULL")
	}
	if !f.Since.IsZero() {
		where = append(where, "(closed IS NULL OR closed >= ?)")
		args = append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where = append(where, "due < ?")
		args = append(args, f.Until.UnixNano())
	}
	limit := f.Limit
	if limit <= 0 {
		limit = history.DefaultLimit
	}
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT id, kind, section, due, closed FROM followup_order WHERE `+
		strings.Join(where, " AND ")+` ORDER BY due DESC, id DESC LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, s.wrap("alerts", err)
	}
	defer rows.Close()
	loc := s.o.Hours.Location()
	var out []history.Alert
	for rows.Next() {
		var id, due int64
		var kind Kind
		var section string
		var closed sql.NullInt64
		if err := rows.Scan(&id, &kind, &section, &due, &closed); err != nil {
			return nil, s.wrap("alerts", err)
		}
		a := history.Alert{
			ID: -id, Code: AlertCode, Severity: AlertSeverity, Device: AlertDevice + section,
			Started: time.Unix(0, due),
			Message: fmt.Sprintf("工单 %d（%s）未在期限 %s 前办结", id, kindNames[kind], time.Unix(0, due).In(loc).Format("2006-01-02 15:04")),
		}
		if closed.Valid {
			e := time.Unix(0, closed.Int64)
			a.Ended = &e
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("alerts", err)
	}
	return out, nil
}

// OrderID returns the order an alert of Alerts stands for; ok is false for any other alert.
func OrderID(a history.Alert) (id int64, ok bool) {
	if a.Code != AlertCode || a.Kiosk != "" || a.ID >= 0 {
		return 0, false
	}
	return -a.ID, true
}
