package civic

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
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
// personal data and are kept. Deleted content is overwritten in the file (secure_delete), not
// just unlinked. It runs in one transaction: all or nothing.
func (s *Service) Purge(ctx context.Context, now time.Time) (Purged, error) {
	cut := cutoff(now, s.Location(), s.retention).UnixNano()
	var p Purged
	err := s.st.Tx(ctx, func(tx *sql.Tx) error {
		// On the store's one connection, for this and every later write: freed pages are
		// zeroed, so purged bytes do not linger in the file.
		if _, err := tx.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
			return fmt.Errorf("hall: purge: %w", err)
		}
		for _, step := range []struct {
			n   *int
			sql string
		}{
			{&p.Appointments, `DELETE FROM hall_appointment WHERE start_at < ?`},
			{&p.CheckIns, `DELETE FROM hall_checkin WHERE at < ?`},
			{&p.Applications, `DELETE FROM hall_application WHERE updated_at < ?`},
			{&p.Complaints, `UPDATE hall_complaint SET text = NULL, phone = NULL, person_hash = NULL, purged_at = ?1
				WHERE at < ?1 AND purged_at IS NULL`},
			{&p.Replies, `UPDATE hall_complaint_status SET reply = '' WHERE updated_at < ? AND reply <> ''`},
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
	return p, nil
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
		switch {
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
