package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/kiosk/store"
)

// DefaultRetentionDays is how long a settled payment stays in the journal (payments.retention_days
// defaults to it): three years, the limitation period of a civil claim (Civil Code art. 188: a
// citizen charged twice may claim within it), which also outlasts a year's accounts and their
// audit. The journal is not the accounting archive: the hall's finance keeps the daily reports
// (DailyReport, kioskctl payments) and the bank its statements, for as long as the accounting
// archive rules require.
const DefaultRetentionDays = 1095

// Retention deletes settled payments from the journal once they are past the retention period.
// It needs no hall key and no terminal: a kiosk whose PSAM was removed still purges its old
// journal.
type Retention struct {
	Store *store.Store // required
	// Days is the retention period; 0 means DefaultRetentionDays.
	Days int
	// Location gives the local date the period is counted in; nil means China time.
	Location *time.Location
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Purge deletes the payments that are settled (paid, or closed without a charge) and whose day
// (the local date of the intent) is before the local midnight Days days before now's date.
// Open and undecided payments are never deleted, however old: their money is not settled yet.
// It returns how many it deleted. Deleted rows are zeroed in the file (the store's
// secure_delete) and the write-ahead log is truncated once anything was deleted; when another
// process reads the store then, the count comes with an error matching store.ErrBusy (the rows
// are gone from the database, the log's copy goes at the next purge or checkpoint).
func (r Retention) Purge(ctx context.Context, now time.Time) (int, error) {
	if r.Store == nil {
		return 0, errors.New("payment: retention without a store")
	}
	days := r.Days
	if days <= 0 {
		days = DefaultRetentionDays
	}
	loc := r.Location
	if loc == nil {
		loc = citycard.ChinaTime
	}
	lt := now.In(loc)
	cut := time.Date(lt.Year(), lt.Month(), lt.Day()-days, 0, 0, 0, 0, loc).Format(time.DateOnly)
	var n int64
	err := r.Store.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM payment WHERE day < ? AND status IN ('paid', 'not-charged') AND closed_at IS NOT NULL`, cut)
		if err != nil {
			return fmt.Errorf("payment: purge: %w", err)
		}
		n, err = res.RowsAffected()
		if err != nil {
			return fmt.Errorf("payment: purge: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if n > 0 {
		if err := r.Store.TruncateWAL(ctx); err != nil {
			return int(n), fmt.Errorf("payment: purge done, log not truncated: %w", err)
		}
	}
	return int(n), nil
}

// Every runs Purge at once and then every interval (24h when interval <= 0) until ctx ends,
// logging what each run deleted (a count) and any failure; a failed run is retried at the next
// tick. Run it in its own goroutine.
func (r Retention) Every(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		interval = 24 * time.Hour
	}
	if log == nil {
		log = slog.Default()
	}
	now := r.Now
	if now == nil {
		now = time.Now
	}
	run := func() {
		n, err := r.Purge(ctx, now())
		switch {
		case errors.Is(err, store.ErrBusy):
			log.Warn("settled payments past the retention period deleted, but the store's log could not be truncated; retrying at the next run", "payments", n)
		case err != nil && ctx.Err() == nil:
			log.Error("deleting settled payments past the retention period failed; retrying at the next run", "err", err)
		case err == nil && n > 0:
			log.Info("settled payments past the retention period deleted", "payments", n, "days", r.Days)
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
