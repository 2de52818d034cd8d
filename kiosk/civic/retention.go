package civic

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"citizenhome/kiosk/store"
)

// cutoff is the local midnight days days before the local date of now: data of a date before it
// is past the retention period. Counting in dates keeps a purge at 00:05 and one at 23:55 of the
// same day in agreement.
func cutoff(now time.Time, loc *time.Location, days int) time.Time {
	lt := now.In(loc)
	return time.Date(lt.Year(), lt.Month(), lt.Day()-days, 0, 0, 0, 0, loc)
}

// Purged counts what a purge removed.
type Purged struct {
	Appointments int // bookings whose booked time is past the period
	CheckIns     int
	Applications int // applications whose last update is past the period
	Complaints   int // complaints whose text, phone and person were cleared
	Replies      int // replies from the hall cleared from complaint statuses
	// Sealed counts the hall's answers found in clear (written before they were sealed, store
	// version 8 and older) and sealed now. Not part of Total: nothing was removed.
	Sealed int
}

// Total is the number of records touched.
func (p Purged) Total() int {
	return p.Appointments + p.CheckIns + p.Applications + p.Complaints + p.Replies
}

// Purge removes the personal data older than the retention period at now: data dated before
// the local midnight RetentionDays days before now's date (with 180, on 26 November data of
// 29 May and earlier goes, data of 30 May stays). Bookings and their check-ins, and applications,
// are deleted; complaints keep their number, category and date for the statistics, and lose
// their text, phone and the person's hash; the hall's replies are cleared. Ratings hold no
// personal data and are kept. It also seals the hall's answers an older version stored in
// clear. It runs in one transaction: all or nothing.
//
// Deleted content is overwritten in the file (the store has secure_delete on every connection),
// and once anything was purged the write-ahead log, which still holds the purged rows' pages, is
// truncated. When another process reads the store at that moment the log cannot be truncated:
// Purge then returns the counts with an error matching store.ErrBusy (the data is purged from the
// database; the log's copy goes at the next purge or checkpoint).
func (s *Service) Purge(ctx context.Context, now time.Time) (Purged, error) {
	cut := cutoff(now, s.Location(), s.retention).UnixNano()
	var p Purged
	err := s.st.Tx(ctx, func(tx *sql.Tx) error {
		n, err := s.sealClearReplies(ctx, tx)
		if err != nil {
			return err
		}
		p.Sealed = n
		for _, step := range []struct {
			n   *int
			sql string
		}{
			{&p.Appointments, `DELETE FROM hall_appointment WHERE start_at < ?`},
			{&p.CheckIns, `DELETE FROM hall_checkin WHERE at < ?`},
			{&p.Applications, `DELETE FROM hall_application WHERE updated_at < ?`},
			{&p.Complaints, `UPDATE hall_complaint SET text = NULL, phone = NULL, person_hash = NULL, purged_at = ?1
				WHERE at < ?1 AND purged_at IS NULL`},
			{&p.Replies, `UPDATE hall_complaint_status SET reply = '', reply_sealed = NULL
				WHERE updated_at < ? AND (reply <> '' OR reply_sealed IS NOT NULL)`},
		} {
			res, err := tx.ExecContext(ctx, step.sql, cut)
			if err != nil {
				return fmt.Errorf("hall: purge: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("hall: purge: %w", err)
			}
			*step.n = int(n)
		}
		return nil
	})
	if err != nil {
		return Purged{}, err
	}
	if p.Total() > 0 || p.Sealed > 0 {
		if err := s.st.TruncateWAL(ctx); err != nil {
			return p, fmt.Errorf("hall: purge done, log not truncated: %w", err)
		}
	}
	return p, nil
}

// sealClearReplies seals the hall's answers that a version before store migration 9 kept in
// clear, and blanks them.
func (s *Service) sealClearReplies(ctx context.Context, tx *sql.Tx) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT number, reply FROM hall_complaint_status WHERE reply <> ''`)
	if err != nil {
		return 0, fmt.Errorf("hall: seal answers: %w", err)
	}
	type clear struct{ number, reply string }
	var todo []clear
	for rows.Next() {
		var c clear
		if err := rows.Scan(&c.number, &c.reply); err != nil {
			rows.Close()
			return 0, fmt.Errorf("hall: seal answers: %w", err)
		}
		todo = append(todo, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("hall: seal answers: %w", err)
	}
	for _, c := range todo {
		sealed, err := s.key.sealReply(c.number, c.reply)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE hall_complaint_status SET reply = '', reply_sealed = ? WHERE number = ?`,
			sealed, c.number); err != nil {
			return 0, fmt.Errorf("hall: seal answers: %w", err)
		}
	}
	return len(todo), nil
}

// PurgeEvery runs Purge at once and then every interval (24h when interval <= 0) until ctx ends,
// logging what each run removed (counts only) and any failure; a failed run is retried at the
// next tick. It returns when ctx is done. Run it in its own goroutine.
func (s *Service) PurgeEvery(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		interval = 24 * time.Hour
	}
	if log == nil {
		log = slog.Default()
	}
	run := func() {
		p, err := s.Purge(ctx, s.now())
		if p.Sealed > 0 {
			log.Info("the hall's complaint answers kept in clear by an earlier version sealed", "answers", p.Sealed)
		}
		switch {
		case errors.Is(err, store.ErrBusy):
			log.Warn("personal data purged, but the store's log could not be truncated (another program reads the store); retrying at the next run",
				"days", s.retention, "records", p.Total())
		case err != nil && ctx.Err() == nil:
			log.Error("purging personal data past the retention period failed; retrying at the next run", "err", err)
		case err == nil && p.Total() > 0:
			log.Info("personal data past the retention period purged", "days", s.retention,
				"appointments", p.Appointments, "check_ins", p.CheckIns, "applications", p.Applications,
				"complaints", p.Complaints, "replies", p.Replies)
		}
	}
	run()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			run()
		}
	}
}
