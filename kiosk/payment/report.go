package payment

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Report is one day's payments for reconciliation with the bank (art. 13): the totals and every
// entry, each paid one with its TAC.
type Report struct {
	Day        string `json:"day"` // YYYY-MM-DD, local
	Paid       int    `json:"paid"`
	TotalFen   int64  `json:"total_fen"` // the sum of the paid amounts
	NotCharged int    `json:"not_charged"`
	Undecided  int    `json:"undecided"` // flagged: staff settle them with the clearing centre
	Open       int    `json:"open"`      // in progress or waiting for their card
	// Unverified counts paid entries whose MAC2 the PSAM did not check (recovered, or the
	// check failed): the clearing centre's TAC check settles them.
	Unverified int     `json:"mac2_unverified"`
	NoTAC      int     `json:"paid_without_tac"` // paid, but the card no longer gave the TAC
	Entries    []Entry `json:"-"`
	Lines      []Line  `json:"payments"`
}

// Line is one entry as the report prints it. No personal data: the card is masked.
type Line struct {
	Txn            string `json:"txn"`
	Time           string `json:"time"` // RFC 3339
	Matter         string `json:"matter"`
	AmountFen      int64  `json:"amount_fen"`
	Card           string `json:"card"`
	Status         Status `json:"status"`
	Step           Step   `json:"step"`
	TAC            string `json:"tac"`
	Terminal       string `json:"terminal"`
	TerminalSerial int64  `json:"terminal_serial"`
	OfflineSerial  int    `json:"offline_serial"`
	MAC2Verified   bool   `json:"mac2_verified"`
	Recovered      bool   `json:"recovered"`
	Receipt        string `json:"receipt"`
	Reason         string `json:"reason,omitempty"`
}

// DailyReport reads day's entries (the day of their intent, YYYY-MM-DD) from db, the kiosk's
// store (kioskctl opens it read-only, beside the running kiosk). loc is the hall's zone for the
// times printed; nil means China time. A malformed day is an error.
func DailyReport(ctx context.Context, db *sql.DB, day string, loc *time.Location) (Report, error) {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return Report{}, fmt.Errorf("payment: report: day %q is not YYYY-MM-DD", day)
	}
	rows, err := db.QueryContext(ctx, `SELECT `+entryCols+` FROM payment WHERE day = ? ORDER BY id`, day)
	if err != nil {
		return Report{}, fmt.Errorf("payment: report: %w", err)
	}
	defer rows.Close()
	r := Report{Day: day, Lines: []Line{}}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return Report{}, fmt.Errorf("payment: report: %w", err)
		}
		r.Entries = append(r.Entries, e)
		switch e.Status {
		case StatusPaid:
			r.Paid++
			r.TotalFen += e.AmountFen
			if !e.MAC2Verified {
				r.Unverified++
			}
			if e.TAC == "" {
				r.NoTAC++
			}
		case StatusNotCharged:
			r.NotCharged++
		case StatusUndecided:
			r.Undecided++
		default:
			r.Open++
		}
		r.Lines = append(r.Lines, Line{
			Txn: e.Txn(), Time: e.Time(loc).Format(time.RFC3339), Matter: e.Matter, AmountFen: e.AmountFen,
			Card: e.CardMasked, Status: e.Status, Step: e.Step, TAC: e.TAC, Terminal: e.Terminal,
			TerminalSerial: e.TerminalSerial, OfflineSerial: e.OfflineSerial, MAC2Verified: e.MAC2Verified,
			Recovered: e.Recovered, Receipt: string(e.Receipt), Reason: e.Reason,
		})
	}
	return r, rows.Err()
}
