// Package ledger is the hall controller's durable state: one SQLite file in WAL mode with
// synchronous=FULL, so that a ticket number handed to a kiosk or a counter's action survives a
// power cut the instant its transaction commits.
//
// Each package of the hall owns its tables and declares them as a list of named migrations
// (line.Migrations, access.Migrations); Open applies, in the order given, every migration whose
// name the file has not recorded yet. Names are recorded in the table ledger_migration, in the
// transaction of the migration itself, so a migration is applied once or not at all. Migrations
// only move forward: a file that records a name the binary does not know was written by a newer
// halld, and Open refuses it (ErrTooNew) rather than run an old binary on a newer schema.
//
// Open checks the file's integrity before writing to it and moves a damaged file aside
// (ErrCorrupt) instead of overwriting it: the operator keeps it for recovery, and a new empty
// ledger starts on the next Open.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"
)

// BusyTimeout is how long a statement waits for another process's lock (halld's own
// tools, a backup) before failing.
const BusyTimeout = 5 * time.Second

// Migration is one forward step of one package's schema. SQL may hold several statements.
type Migration struct {
	Name string // unique across every list, e.g. "line-1"; recorded once applied
	SQL  string
}

// Errors, matched with errors.Is.
var (
	// ErrCorrupt: the file failed its integrity check or is not a SQLite database; it was
	// moved aside (CorruptError.MovedTo) when Open found it.
	ErrCorrupt = errors.New("ledger: database file is damaged")
	// ErrTooNew: the file records migrations this binary does not know.
	ErrTooNew = errors.New("ledger: database written by a newer halld")
	// ErrMigration: a migration failed; the file is left as it was before that migration.
	ErrMigration = errors.New("ledger: migration failed")
	// ErrBusy: another connection held the write-ahead log, so it could not be truncated.
	ErrBusy = errors.New("ledger: write-ahead log in use")
)

// CorruptError says which file was damaged, why, and where it now is.
type CorruptError struct {
	Path, MovedTo, Detail string
}

func (e *CorruptError) Error() string {
	if e.MovedTo == "" {
		return fmt.Sprintf("ledger: %s is damaged (%s)", e.Path, e.Detail)
	}
	return fmt.Sprintf("ledger: %s is damaged (%s); moved to %s, a new ledger starts on the next open", e.Path, e.Detail, e.MovedTo)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// DB is an open ledger, safe for concurrent use. It holds one SQLite connection, so that
// writers queue in database/sql rather than spin on SQLite's busy handler: inside a Tx callback
// use only the *sql.Tx given, never SQL() (it would wait for the busy connection forever).
type DB struct {
	db   *sql.DB
	path string
}

// Open opens or creates the ledger at path (creating its directory, mode 0750) and applies the
// migrations of every list in ms that the file has not recorded. Errors: *CorruptError (the file
// was moved aside; open again to start anew), ErrTooNew, ErrMigration (wrapping the cause), a
// duplicate or empty migration name in ms, or a plain error for what says nothing about the
// file (no permission, a directory at path, disk full).
func Open(path string, ms ...[]Migration) (*DB, error) {
	if path == "" {
		return nil, errors.New("ledger: empty path")
	}
	var all []Migration
	seen := map[string]bool{}
	for _, l := range ms {
		for _, m := range l {
			if m.Name == "" || strings.TrimSpace(m.SQL) == "" || seen[m.Name] {
				return nil, fmt.Errorf("ledger: migration %q is empty or named twice", m.Name)
			}
			seen[m.Name] = true
			all = append(all, m)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	// The file holds every ticket and account of the hall: it is created for halld's user
	// alone, whatever the umask of the shell an operator runs `halld token create` from.
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	} else {
		f.Close()
	}
	if detail, err := inspect(path); err != nil {
		return nil, fmt.Errorf("ledger: open %s: %w", path, err)
	} else if detail != "" {
		return nil, moveAside(path, detail)
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL") // with WAL the driver would default to NORMAL
	q.Set("_busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds()))
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	// On every connection the pool opens: the ledger holds sealed phones and the work orders'
	// notes, and a purged row's bytes must be zeroed in the file, not left in a free page.
	q.Set("_secure_delete", "on")
	db, err := sql.Open("sqlite3", uri(path, q))
	if err != nil {
		return nil, fmt.Errorf("ledger: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	d := &DB{db: db, path: path}
	if err := d.migrate(all, seen); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// uri builds a file: URI so that any character may appear in path.
func uri(path string, q url.Values) string {
	p := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(filepath.ToSlash(path))
	return "file:" + p + "?" + q.Encode()
}

// inspect returns why the file at path is not a sound database ("" when it is, or does not
// exist yet), reading it without writing: a read-write open could checkpoint a WAL into a
// damaged file and destroy what the operator needs.
func inspect(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	head := make([]byte, 16)
	n, _ := f.Read(head)
	f.Close()
	if n == 0 {
		return "", nil
	}
	if string(head[:n]) != "SQLite format 3\x00" {
		return "not a SQLite database", nil
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds()))
	db, err := sql.Open("sqlite3", uri(path, q))
	if err != nil {
		return "", err
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		var msg = err.Error()
		if strings.Contains(msg, "malformed") || strings.Contains(msg, "not a database") {
			return msg, nil
		}
		return "", err
	}
	if res != "ok" {
		return res, nil
	}
	return "", nil
}

func moveAside(path, detail string) error {
	to := path + ".corrupt-" + time.Now().UTC().Format("20060102T150405Z")
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Rename(path+suffix, to+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("ledger: %s is damaged (%s) and could not be moved aside: %w", path, detail, err)
		}
	}
	if err := os.Rename(path, to); err != nil {
		return fmt.Errorf("ledger: %s is damaged (%s) and could not be moved aside: %w", path, detail, err)
	}
	return &CorruptError{Path: path, MovedTo: to, Detail: detail}
}

func (d *DB) migrate(ms []Migration, known map[string]bool) error {
	ctx := context.Background()
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS ledger_migration (
		name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("ledger: %s: %w", d.path, err)
	}
	done := map[string]bool{}
	rows, err := d.db.QueryContext(ctx, `SELECT name FROM ledger_migration`)
	if err != nil {
		return fmt.Errorf("ledger: %s: %w", d.path, err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("ledger: %s: %w", d.path, err)
		}
		done[n] = true
	}
	rows.Close()
	for n := range done {
		if !known[n] {
			return fmt.Errorf("%w: %s records migration %q", ErrTooNew, d.path, n)
		}
	}
	for _, m := range ms {
		if done[m.Name] {
			continue
		}
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			// Another halld process may have applied it since we looked: the write lock is ours now.
			var again bool
			if err := tx.QueryRow(`SELECT EXISTS (SELECT 1 FROM ledger_migration WHERE name = ?)`, m.Name).Scan(&again); err != nil || again {
				return err
			}
			if _, err := tx.Exec(m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(`INSERT INTO ledger_migration (name, applied_at) VALUES (?, ?)`, m.Name, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("%w: %s: %s: %w", ErrMigration, d.path, m.Name, err)
		}
	}
	return nil
}

// SQL is the database for reads and single statements. Not inside a Tx callback (see DB).
func (d *DB) SQL() *sql.DB { return d.db }

// Path is the file the ledger lives in.
func (d *DB) Path() string { return d.path }

// Tx runs fn in one IMMEDIATE transaction (the write lock is taken at BEGIN, so two writers
// never deadlock upgrading) and commits it durably when fn returns nil; any error from fn rolls
// everything back and is returned unwrapped. fn must use only tx.
func (d *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: commit: %w", err)
	}
	return nil
}

// TruncateWAL copies the write-ahead log into the file and truncates the log to zero bytes
// (PRAGMA wal_checkpoint(TRUNCATE)): after a retention purge, so that the purged rows' pages do
// not live on in the -wal file until the next automatic checkpoint. ErrBusy when another
// connection holds the log; it is then left as it was, and a later call retries. Not inside a
// Tx callback.
func (d *DB) TruncateWAL(ctx context.Context) error {
	var busy, frames, done int
	if err := d.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done); err != nil {
		return fmt.Errorf("ledger: checkpoint: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("ledger: checkpoint: %w", ErrBusy)
	}
	return nil
}

// Close closes the file; a WAL is checkpointed into it.
func (d *DB) Close() error { return d.db.Close() }
