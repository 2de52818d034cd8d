package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"citizenhome/hall/fleet"
	"citizenhome/hall/hours"
	"citizenhome/hall/ledger"
	"citizenhome/telemetry/wire"
)

// Tuning of the writer.
const (
	// QueueLen is how many updates Record holds for the writer; beyond, it drops. Each holds
	// a copy of its kiosk (a kilobyte or two): 100 s of a 1,000-kiosk fleet's statuses, in
	// some 20 MB at worst, while the disk stalls.
	QueueLen = 10_000
	// BatchMax and BatchWait bound one write transaction: the writer gathers updates for at
	// most BatchWait after the first, or BatchMax of them, so that a busy fleet costs a few
	// commits a second and the ledger's one connection stays free for the line's tickets.
	BatchMax  = 500
	BatchWait = 200 * time.Millisecond
	// PruneEvery is how often Run prunes; the first prune is PruneEvery/24 after it starts.
	PruneEvery = 24 * time.Hour
	// dropLogEvery is how often at most Record's drops are logged.
	dropLogEvery = time.Minute
)

// Errors, matched with errors.Is.
var (
	// ErrInvalid: an argument a query cannot answer (an empty kiosk, a span that ends before
	// it starts, a malformed date).
	ErrInvalid = errors.New("history: invalid argument")
	// ErrStopped: Sync was called after Run returned, or while Run had not started and the
	// context ended.
	ErrStopped = errors.New("history: the writer is not running")
	// ErrRunning: Run was called a second time.
	ErrRunning = errors.New("history: Run called twice")
)

// Options tune Open; zero values take the defaults.
type Options struct {
	Retention time.Duration  // 0: DefaultRetention
	Hours     hours.Week     // opening hours (reports); zero: hours.Default(Location)
	Location  *time.Location // the hall's zone: days of counters, months of reports; nil: Hours' zone
	Now       func() time.Time
	Log       *slog.Logger
}

// Store is the history over one hall's ledger. Record and the queries are safe for concurrent
// use; Run is the one writer.
//
// What it keeps, from each update and the view's kiosk after it:
//   - a change when the kiosk's lifecycle state (with its lock message while locked) or a
//     device's state or detail differs from the last kept; dated by the hall's clock when
//     Record was called, so that a kiosk's clock and a will's stale "since" never reorder a
//     timeline (a change that happened while halld was down is dated by its arrival);
//   - alerts: one opens when raised and ends when cleared, or when a status neither lists it
//     nor the view holds it (a missed clearing, an ended session); KioskLost opens when the
//     kiosk's state becomes lost and ends when it leaves it;
//   - the counters of the hall-local date of the status's own time (the kiosk's midnight);
//   - commands and their first reply, matched by kiosk and id.
type Store struct {
	db        *ledger.DB
	retention time.Duration
	week      hours.Week
	loc       *time.Location
	now       func() time.Time
	log       *slog.Logger

	q     chan item
	flush chan struct{}

	qmu    sync.Mutex // orders seq with the queue
	queued int64      // seq of the last item queued

	dropped     atomic.Int64
	loggedDrops int64 // Run's: the drops logged so far
	started     atomic.Bool
	stopped     chan struct{}
	wmu         sync.Mutex
	written     int64         // seq of the last item written (or failed)
	wake        chan struct{} // closed and replaced at every batch
	failedSeq   int64         // seq of the last item of the last batch that failed
	failedErr   error

	// The writer's memory of the ledger: the last state of each kiosk and device, the open
	// alerts. Only Run's goroutine (and Open) touch them; a failed batch reloads them.
	cur  map[key]last
	open map[key]int64 // kiosk, code: alert id
}

type key struct{ kiosk, name string }

type last struct{ state, detail string }

type item struct {
	u   fleet.Update
	k   fleet.Kiosk
	at  time.Time
	seq int64
}

// Open returns the store over db, which must hold Migrations, and loads the last states and
// the open alerts, so that a restarted halld neither repeats a change nor opens an alert twice.
func Open(db *ledger.DB, o Options) (*Store, error) {
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Location == nil {
		if o.Hours.IsZero() {
			o.Location = time.Local
		} else {
			o.Location = o.Hours.Location()
		}
	}
	if o.Hours.IsZero() {
		o.Hours = hours.Default(o.Location)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	s := &Store{db: db, retention: o.Retention, week: o.Hours, loc: o.Location, now: o.Now, log: o.Log,
		q: make(chan item, QueueLen), flush: make(chan struct{}, 1), stopped: make(chan struct{}),
		wake: make(chan struct{})}
	if err := s.load(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) load(ctx context.Context) error {
	cur := map[key]last{}
	open := map[key]int64{}
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT kiosk, device, state, detail FROM history_state`)
	if err != nil {
		return fmt.Errorf("history: loading states: %w", err)
	}
	for rows.Next() {
		var k key
		var l last
		if err := rows.Scan(&k.kiosk, &k.name, &l.state, &l.detail); err != nil {
			rows.Close()
			return fmt.Errorf("history: loading states: %w", err)
		}
		cur[k] = l
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("history: loading states: %w", err)
	}
	rows, err = s.db.SQL().QueryContext(ctx, `SELECT id, kiosk, code FROM history_alert WHERE ended IS NULL`)
	if err != nil {
		return fmt.Errorf("history: loading alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k key
		if err := rows.Scan(&id, &k.kiosk, &k.name); err != nil {
			return fmt.Errorf("history: loading alerts: %w", err)
		}
		open[k] = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("history: loading alerts: %w", err)
	}
	s.cur, s.open = cur, open
	return nil
}

// Keeps reports whether Record keeps anything of u: not for stale and duplicate updates, the
// controller's state and updates that carry nothing kept (an event, an empty retained
// message). A caller checks it before copying the view's kiosk for Record, most of a fleet's
// messages being events.
func Keeps(u fleet.Update) bool {
	if u.Stale || u.Duplicate || u.Addr.Controller() || u.Addr.Kiosk.Kiosk == "" {
		return false
	}
	return u.State != nil || u.Status != nil || u.Command != nil || u.Reply != nil || u.Addr.Kind == wire.KindAlert
}

// Record queues one update with the view's kiosk after it (fleet.View.Kiosk, a copy the
// caller no longer touches), dated now. It never blocks: when the writer is QueueLen behind,
// the update is dropped and counted (Dropped), and Run logs the drops at most once a minute.
// An update Keeps refuses is ignored.
func (s *Store) Record(u fleet.Update, k fleet.Kiosk) {
	if !Keeps(u) {
		return
	}
	it := item{u: u, k: k, at: s.now()}
	s.qmu.Lock()
	defer s.qmu.Unlock()
	it.seq = s.queued + 1
	select {
	case s.q <- it:
		s.queued = it.seq
	default:
		s.dropped.Add(1)
	}
}

// Dropped is how many updates Record dropped since Open because the queue was full.
func (s *Store) Dropped() int64 { return s.dropped.Load() }

// Run writes what Record queues, in batches of one transaction, and prunes once a day, until
// ctx ends; then it writes what is still queued and returns nil. A batch that fails is logged
// and lost (Sync reports it); the writer goes on. Run may be called once (ErrRunning).
func (s *Store) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer close(s.stopped)
	prune := time.NewTimer(PruneEvery / 24)
	defer prune.Stop()
	tick := time.NewTicker(dropLogEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			// Shutdown: what was recorded is still written, on a context of its own.
			var batch []item
			for len(s.q) > 0 && len(batch) < QueueLen {
				batch = append(batch, <-s.q)
			}
			if len(batch) > 0 {
				s.write(context.WithoutCancel(ctx), batch)
			}
			s.logDrops()
			return nil
		case it := <-s.q:
			// A batch gathered is written even if ctx ends meanwhile.
			s.write(context.WithoutCancel(ctx), s.gather(ctx, it))
		case <-s.flush:
			s.write(context.WithoutCancel(ctx), s.gather(ctx, item{}))
		case <-prune.C:
			if n, err := s.Prune(ctx); err != nil {
				s.log.Error("history: pruning", "err", err)
			} else if n > 0 {
				s.log.Info("history: pruned", "rows", n)
			}
			prune.Reset(PruneEvery)
		case <-tick.C:
			s.logDrops()
		}
	}
}

// logDrops logs the drops since it last did, if any. Run calls it once a minute.
func (s *Store) logDrops() {
	if d := s.dropped.Load(); d > s.loggedDrops {
		s.log.Warn("history: updates dropped, the writer is behind", "dropped", d-s.loggedDrops, "total", d)
		s.loggedDrops = d
	}
}

// gather collects a batch after first (seq 0: none), for at most BatchWait or until Sync asks.
func (s *Store) gather(ctx context.Context, first item) []item {
	batch := make([]item, 0, 64)
	if first.seq != 0 {
		batch = append(batch, first)
	}
	wait := time.NewTimer(BatchWait)
	defer wait.Stop()
	for len(batch) < BatchMax {
		// What is queued already goes first, without waiting.
		select {
		case it := <-s.q:
			batch = append(batch, it)
			continue
		default:
		}
		select {
		case it := <-s.q:
			batch = append(batch, it)
		case <-s.flush:
			return batch
		case <-wait.C:
			return batch
		case <-ctx.Done():
			return batch
		}
	}
	return batch
}

func (s *Store) write(ctx context.Context, batch []item) {
	var err error
	if len(batch) > 0 {
		err = s.db.Tx(ctx, func(tx *sql.Tx) error {
			for _, it := range batch {
				if err := s.apply(tx, it); err != nil {
					return fmt.Errorf("%s %s: %w", it.u.Addr.Kiosk, it.u.Addr.Kind, err)
				}
			}
			return nil
		})
		if err != nil {
			s.log.Error("history: a batch of updates is lost", "updates", len(batch), "err", err)
			// The memory ran ahead of the rolled-back transaction.
			if lerr := s.load(context.WithoutCancel(ctx)); lerr != nil {
				s.log.Error("history: reloading", "err", lerr)
			}
		}
	}
	s.wmu.Lock()
	if len(batch) > 0 {
		s.written = batch[len(batch)-1].seq
		if err != nil {
			s.failedSeq, s.failedErr = s.written, err
		}
	}
	close(s.wake)
	s.wake = make(chan struct{})
	s.wmu.Unlock()
}

// Sync returns once everything Recorded before the call is written, asking the writer not to
// wait for a fuller batch. Errors: the context's; ErrStopped when Run has returned; the error
// of a batch written since the call that failed.
func (s *Store) Sync(ctx context.Context) error {
	s.qmu.Lock()
	target := s.queued
	s.qmu.Unlock()
	s.wmu.Lock()
	from := s.written
	s.wmu.Unlock()
	for {
		s.wmu.Lock()
		done, wake := s.written >= target, s.wake
		var err error
		if s.failedSeq > from {
			err = s.failedErr
		}
		s.wmu.Unlock()
		if done {
			return err
		}
		select {
		case s.flush <- struct{}{}:
		default:
		}
		select {
		case <-wake:
		case <-s.stopped:
			s.wmu.Lock()
			done = s.written >= target
			s.wmu.Unlock()
			if done {
				continue
			}
			return ErrStopped
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// apply writes one update. Called by the writer only, inside its transaction.
func (s *Store) apply(tx *sql.Tx, it item) error {
	u, k, at := it.u, it.k, it.at.UnixNano()
	kiosk := u.Addr.Kiosk.Kiosk
	if u.Command != nil {
		if err := s.command(tx, kiosk, u.Command, at); err != nil {
			return err
		}
	}
	if u.Reply != nil {
		if err := s.reply(tx, kiosk, u.Reply, at); err != nil {
			return err
		}
	}
	// The lifecycle state is the view's (a stale will or a late status already sorted out);
	// "" while the view has seen neither state nor status.
	if k.State != "" && (u.State != nil || u.Status != nil) {
		detail := ""
		if k.State == wire.StateLocked && k.Status != nil && k.Status.State == wire.StateLocked {
			detail = k.Status.LockMessage
		}
		changed, err := s.change(tx, kiosk, "", k.State, detail, at)
		if err != nil {
			return err
		}
		if changed {
			if err := s.lost(tx, kiosk, k.State == wire.StateLost, at); err != nil {
				return err
			}
		}
	}
	if u.Status != nil {
		names := make([]string, 0, len(u.Status.Devices))
		for n := range u.Status.Devices {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			d := u.Status.Devices[n]
			if n == "" || d.State == "" {
				continue // not a device: the lifecycle has device ""
			}
			if _, err := s.change(tx, kiosk, n, d.State, d.Detail, at); err != nil {
				return err
			}
		}
		if err := s.day(tx, kiosk, u.Status, it.at); err != nil {
			return err
		}
		if err := s.reconcile(tx, kiosk, u.Status, k, at); err != nil {
			return err
		}
	}
	if u.Addr.Kind == wire.KindAlert && u.Addr.Code != KioskLost {
		if u.Alert != nil {
			return s.raise(tx, kiosk, *u.Alert, at)
		}
		// An empty payload: the alert ended (u.Cleared only says so when the view held it,
		// which a halld restarted since the alert began does not).
		return s.end(tx, kiosk, u.Addr.Code, at)
	}
	return nil
}

// change records a state when it differs from the last one of the kiosk's device.
func (s *Store) change(tx *sql.Tx, kiosk, device, state, detail string, at int64) (bool, error) {
	k := key{kiosk, device}
	if l, ok := s.cur[k]; ok && l.state == state && l.detail == detail {
		return false, nil
	}
	if _, err := tx.Exec(`INSERT INTO history_change (kiosk, device, at, state, detail) VALUES (?, ?, ?, ?, ?)`,
		kiosk, device, at, state, detail); err != nil {
		return false, err
	}
	if _, err := tx.Exec(`INSERT INTO history_state (kiosk, device, state, detail, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kiosk, device) DO UPDATE SET state = excluded.state, detail = excluded.detail, at = excluded.at`,
		kiosk, device, state, detail, at); err != nil {
		return false, err
	}
	s.cur[k] = last{state, detail}
	return true, nil
}

// lost opens or ends the synthetic KioskLost alert with the kiosk's lifecycle.
func (s *Store) lost(tx *sql.Tx, kiosk string, lost bool, at int64) error {
	if !lost {
		return s.end(tx, kiosk, KioskLost, at)
	}
	return s.raise(tx, kiosk, wire.Alert{Code: KioskLost, Severity: wire.SeverityError,
		Message: "连接中断 the kiosk lost its connection to the hall"}, at)
}

// raise opens an alert, or refreshes the one open with its code (a rebirth publishes it again;
// its start stays).
func (s *Store) raise(tx *sql.Tx, kiosk string, a wire.Alert, at int64) error {
	k := key{kiosk, a.Code}
	sev := a.Severity
	if sev == "" {
		sev = wire.SeverityError
	}
	if id, ok := s.open[k]; ok {
		_, err := tx.Exec(`UPDATE history_alert SET severity = ?, device = ?, message = ? WHERE id = ?`,
			sev, a.Device, a.Message, id)
		return err
	}
	r, err := tx.Exec(`INSERT INTO history_alert (kiosk, code, severity, device, message, started) VALUES (?, ?, ?, ?, ?, ?)`,
		kiosk, a.Code, sev, a.Device, a.Message, at)
	if err != nil {
		return err
	}
	id, err := r.LastInsertId()
	if err != nil {
		return err
	}
	s.open[k] = id
	return nil
}

// end closes the open alert of the code, if any.
func (s *Store) end(tx *sql.Tx, kiosk, code string, at int64) error {
	k := key{kiosk, code}
	id, ok := s.open[k]
	if !ok {
		return nil
	}
	if _, err := tx.Exec(`UPDATE history_alert SET ended = max(?, started) WHERE id = ?`, at, id); err != nil {
		return err
	}
	delete(s.open, k)
	return nil
}

// reconcile makes the open alerts agree with a status, the full snapshot: an open alert neither
// listed in it nor held by the view (which keeps an alert published after the status) has
// ended, its clearing missed or its session over; an alert the view holds that is not open
// (a batch lost, a queue full) opens now.
func (s *Store) reconcile(tx *sql.Tx, kiosk string, st *wire.Status, k fleet.Kiosk, at int64) error {
	keep := map[string]bool{KioskLost: true}
	for _, c := range st.Alerts {
		keep[c] = true
	}
	for c := range k.Alerts {
		keep[c] = true
	}
	var ended []string
	for ok := range s.open {
		if ok.kiosk == kiosk && !keep[ok.name] {
			ended = append(ended, ok.name)
		}
	}
	slices.Sort(ended)
	for _, c := range ended {
		if err := s.end(tx, kiosk, c, at); err != nil {
			return err
		}
	}
	codes := k.ActiveAlerts()
	for _, c := range codes {
		if _, ok := s.open[key{kiosk, c}]; !ok && c != KioskLost {
			if err := s.raise(tx, kiosk, k.Alerts[c], at); err != nil {
				return err
			}
		}
	}
	return nil
}

// day keeps the counters of the status's hall-local date: the kiosk resets them at its local
// midnight, so the last status of a date holds that date's totals. The status's own time
// picks the date (one sent at 23:59:59 and received after midnight belongs to the day before);
// an older status than the one kept (a retained copy) changes nothing.
func (s *Store) day(tx *sql.Tx, kiosk string, st *wire.Status, at time.Time) error {
	ts := st.TS
	if ts.IsZero() {
		ts = at
	}
	c := st.Counters
	_, err := tx.Exec(`INSERT INTO history_day (kiosk, date, ts, tickets, receipts, card_reads, ratings, errors)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (kiosk, date) DO UPDATE SET ts = excluded.ts, tickets = excluded.tickets,
			receipts = excluded.receipts, card_reads = excluded.card_reads, ratings = excluded.ratings,
			errors = excluded.errors
		WHERE excluded.ts >= history_day.ts`,
		kiosk, ts.In(s.loc).Format(time.DateOnly), ts.UnixNano(), c.Tickets, c.Receipts, c.CardReads, c.Ratings, c.Errors)
	return err
}

// command keeps a command; a repeat of its id (a redelivery) keeps the first, and a command
// whose reply came first fills the reply's row.
func (s *Store) command(tx *sql.Tx, kiosk string, c *wire.Command, at int64) error {
	var args any
	if len(c.Args) > 0 {
		args = string(c.Args)
	}
	_, err := tx.Exec(`INSERT INTO history_command (kiosk, id, name, args, sender, sent, at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (kiosk, id) DO UPDATE SET name = excluded.name, args = excluded.args, sender = excluded.sender,
			sent = excluded.sent, at = excluded.at
		WHERE history_command.sent IS NULL`,
		kiosk, c.ID, c.Name, args, c.By, at, at)
	return err
}

// reply keeps a command's first reply (a repeated id gets the first reply again); a reply to a
// command never seen is kept on its own.
func (s *Store) reply(tx *sql.Tx, kiosk string, r *wire.Reply, at int64) error {
	_, err := tx.Exec(`INSERT INTO history_command (kiosk, id, replied, ok, error, at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (kiosk, id) DO UPDATE SET replied = excluded.replied, ok = excluded.ok, error = excluded.error
		WHERE history_command.replied IS NULL`,
		kiosk, r.ID, at, r.OK, r.Error, at)
	return err
}

// Prune deletes what is older than the retention: ended alerts, changes (but the last one
// before the cutoff of each kiosk and device, so that a timeline still knows the state then),
// days and commands. It returns the number of rows deleted. Run calls it daily.
func (s *Store) Prune(ctx context.Context) (int64, error) {
	cut := s.now().Add(-s.retention)
	c := cut.UnixNano()
	var n int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM history_alert WHERE ended IS NOT NULL AND ended < ?`, []any{c}},
			// Series by series (CROSS JOIN keeps that order) through the device index, so
			// that a day's pruning reads what it deletes, not the whole history.
			{`DELETE FROM history_change WHERE id IN (
				SELECT c.id FROM history_state AS s CROSS JOIN history_change AS c INDEXED BY history_change_device
				WHERE c.kiosk = s.kiosk AND c.device = s.device AND c.at < ?1
				AND (c.at, c.id) < (SELECT k.at, k.id FROM history_change AS k INDEXED BY history_change_device
					WHERE k.kiosk = s.kiosk AND k.device = s.device AND k.at < ?1 ORDER BY k.at DESC, k.id DESC LIMIT 1))`, []any{c}},
			{`DELETE FROM history_day WHERE date < ?`, []any{cut.In(s.loc).Format(time.DateOnly)}},
			{`DELETE FROM history_command WHERE at < ?`, []any{c}},
		} {
			r, err := tx.ExecContext(ctx, q.sql, q.args...)
			if err != nil {
				return err
			}
			d, _ := r.RowsAffected()
			n += d
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("history: pruning: %w", err)
	}
	return n, nil
}
