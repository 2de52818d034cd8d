package agent

import (
	"context"
	"database/sql"
	"time"
)

// Names of the status counters kept in the store's telemetry_counter table (the others are
// counted from their business tables), as the status names them.
const (
	counterCardReads = "card_reads"
	counterErrors    = "errors"
)

// CounterKeepDays is how many local days of counters stay in the store; older rows are purged
// at the day roll (the first status or count of a day, and the first after a start).
const CounterKeepDays = 40

type counterKey struct{ day, name string }

// count adds one to today's counter name; a.mu held. The increment is in memory at once (the
// status shows it) and reaches the store shortly after, from a goroutine of its own: count runs
// on the kiosk's event callback, which must not block, and may run while the caller holds the
// store's only connection in a transaction.
func (a *Agent) count(name string) {
	a.rollDay()
	a.pending[counterKey{a.day, name}]++
	a.startFlush()
}

// rollDay notes the local day; on a new one (and on the first call) it schedules the purge of
// counters older than CounterKeepDays. a.mu held.
func (a *Agent) rollDay() {
	now := a.now().In(a.loc)
	d := now.Format(time.DateOnly)
	if d == a.day {
		return
	}
	a.day = d
	y, m, dd := now.Date()
	a.purgeBefore = time.Date(y, m, dd-CounterKeepDays, 12, 0, 0, 0, a.loc).Format(time.DateOnly)
	a.startFlush()
}

// startFlush starts the writer unless it runs already; a.mu held. The writer ends when nothing
// is left to write, or on an error (the increments stay pending, in memory and in the status,
// and the next count tries again), so an idle agent keeps no goroutine.
func (a *Agent) startFlush() {
	if a.flushing {
		return
	}
	a.flushing = true
	go func() {
		for {
			err := a.flushCounters(context.Background())
			a.mu.Lock()
			if err != nil || len(a.pending) == 0 && a.purgeBefore == "" {
				a.flushing = false
				a.mu.Unlock()
				if err != nil {
					a.log.Warn("daily counters not stored; kept in memory, retried at the next count", "err", err)
				}
				return
			}
			a.mu.Unlock()
		}
	}()
}

// flushCounters writes the pending increments (all of them in one transaction: a burst of
// refused API tokens costs one write, not one per request) and the due purge. It holds a.cmu
// throughout, so Snapshot never sees an increment both pending and stored, nor neither.
func (a *Agent) flushCounters(ctx context.Context) error {
	a.cmu.Lock()
	defer a.cmu.Unlock()
	a.mu.Lock()
	batch, purge := a.pending, a.purgeBefore
	a.pending, a.purgeBefore = map[counterKey]int64{}, ""
	a.mu.Unlock()
	if len(batch) == 0 && purge == "" {
		return nil
	}
	if a.flushTaken != nil {
		a.flushTaken()
	}
	err := a.st.Tx(ctx, func(tx *sql.Tx) error {
		for k, n := range batch {
			if _, err := tx.ExecContext(ctx, `INSERT INTO telemetry_counter (day, name, n) VALUES (?, ?, ?)
				ON CONFLICT (day, name) DO UPDATE SET n = n + excluded.n`, k.day, k.name, n); err != nil {
				return err
			}
		}
		if purge != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM telemetry_counter WHERE day < ?`, purge); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		a.mu.Lock()
		for k, n := range batch {
			a.pending[k] += n
		}
		if a.purgeBefore == "" {
			a.purgeBefore = purge
		}
		a.mu.Unlock()
	}
	return err
}

// counters returns today's local date and its card_reads and errors: stored plus pending. A
// store that cannot be read gives the pending part only.
func (a *Agent) counters(ctx context.Context) (day string, cardReads, errs int64) {
	a.cmu.Lock()
	defer a.cmu.Unlock()
	a.mu.Lock()
	a.rollDay()
	day = a.day
	a.mu.Unlock()
	stored := map[string]int64{}
	if rows, err := a.st.DB().QueryContext(ctx, `SELECT name, n FROM telemetry_counter WHERE day = ?`, day); err == nil {
		for rows.Next() {
			var name string
			var n int64
			if rows.Scan(&name, &n) == nil {
				stored[name] = n
			}
		}
		rows.Close()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return day, stored[counterCardReads] + a.pending[counterKey{day, counterCardReads}],
		stored[counterErrors] + a.pending[counterKey{day, counterErrors}]
}
