// Package store is the kiosk's durable state: one SQLite file holding the queue tickets, the hall
// services' records (bookings, check-ins, applications, ratings, complaints), the payment
// journal, the audit log, and the telemetry outbox, alerts and counters.
//
// The file is opened in WAL mode with synchronous=FULL, because ticket numbers and money must
// survive a power cut the instant a transaction commits. Open checks the file's integrity first
// and moves a damaged file aside instead of overwriting it, then brings the schema up to date
// with the forward-only Migrations list.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// DefaultBusyTimeout is how long a statement waits for another process's lock before failing
// with SQLITE_BUSY.
const DefaultBusyTimeout = 5 * time.Second

// Options tune OpenWith. The zero value gives what Open does.
type Options struct {
	// Now stamps the name a corrupt file is moved to; nil means time.Now.
	Now func() time.Time
	// Migrations replaces the package's Migrations list; nil means Migrations. Tests use a
	// prefix of it to build databases at older versions.
	Migrations []Migration
	// BusyTimeout replaces DefaultBusyTimeout when positive.
	BusyTimeout time.Duration
	// KeepCorrupt is how long a copy of a damaged file moved aside is kept: copies named older
	// than this are deleted at each open. 0 means DefaultKeepCorrupt; negative keeps them all.
	KeepCorrupt time.Duration
}

// DefaultKeepCorrupt is how long a damaged database moved aside is kept before OpenWith deletes
// it: long enough for a technician to look at it or recover a payment from it, short enough that
// the personal data it holds does not outlive the retention period by much.
const DefaultKeepCorrupt = 30 * 24 * time.Hour

// Store is an open kiosk database. It is safe for concurrent use.
//
// It holds a single SQLite connection: statements and transactions from concurrent goroutines
// queue in database/sql instead of spinning on SQLite's busy handler. The price is that code
// inside a Tx callback must use the *sql.Tx it is given, never DB(): the only connection is busy
// with the transaction, so DB() would wait for it forever.
type Store struct {
	db      *sql.DB
	path    string
	version int
}

// Open opens or creates the database at path with the package's Migrations. See OpenWith.
func Open(path string) (*Store, error) { return OpenWith(path, Options{}) }

// OpenWith opens or creates the database at path, creating its parent directory.
//
// A file that is not a SQLite database, or fails PRAGMA integrity_check, is renamed (with its
// -wal, -shm and -journal files) to "<path>.corrupt-<UTC time>" and OpenWith returns a *CorruptError
// (errors.Is ErrCorrupt); calling it again then starts an empty database. Other failures (no
// permission, disk full, a directory at path) leave the file alone and return a plain error.
//
// Copies of damaged files moved aside earlier whose name says they were moved more than
// Options.KeepCorrupt ago are deleted first (they hold personal data nobody purges); a copy that
// cannot be deleted is left, and does not stop the open.
//
// A file whose schema version is above the last migration returns *TooNewError (ErrTooNew)
// and is not modified. A failing migration returns *MigrationError (ErrMigration) with the
// database left at the previous version.
func OpenWith(path string, opt Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Migrations == nil {
		opt.Migrations = Migrations
	}
	if opt.BusyTimeout <= 0 {
		opt.BusyTimeout = DefaultBusyTimeout
	}
	if opt.KeepCorrupt == 0 {
		opt.KeepCorrupt = DefaultKeepCorrupt
	}
	if err := checkMigrations(opt.Migrations); err != nil {
		return nil, err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	if opt.KeepCorrupt > 0 {
		_, _ = RemoveAgedCorrupt(path, opt.Now().Add(-opt.KeepCorrupt))
	}

	// Check before the read-write open: opening read-write lets SQLite checkpoint a WAL into a
	// damaged file or delete it on close, destroying what we promise to keep.
	ctx := context.Background()
	detail, _, err := check(ctx, path, opt.BusyTimeout)
	var se sqlite3.Error
	checkRW := false
	if errors.As(err, &se) && se.Code == sqlite3.ErrReadonly && exists(path+"-journal") {
		// A rollback journal left by a crash (while the file was created, before WAL mode was
		// on) can only be rolled back by a writer: check on the read-write connection instead.
		checkRW, err = true, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if detail != "" {
		moved, merr := moveAside(path, opt.Now().UTC())
		return nil, &CorruptError{Path: path, MovedTo: moved, Detail: detail, Err: merr}
	}
	db, err := openDB(path, opt.BusyTimeout)
	if err != nil {
		return nil, err
	}
	if checkRW {
		detail, err := integrity(ctx, db)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
		if detail != "" {
			db.Close()
			moved, merr := moveAside(path, opt.Now().UTC())
			return nil, &CorruptError{Path: path, MovedTo: moved, Detail: detail, Err: merr}
		}
	}
	v, err := migrate(ctx, db, path, opt.Migrations)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db, path: path, version: v}, nil
}

func openDB(path string, busy time.Duration) (*sql.DB, error) {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL") // explicit: with WAL the driver would default to NORMAL
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	// Every connection, not only the purge's: a row deleted or overwritten anywhere (an outbox
	// event sent, a complaint's text cleared) is zeroed in the file, not left in a free page.
	q.Set("_secure_delete", "on")
	db, err := sql.Open("sqlite3", dsn(path, q))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// dsn builds a file: URI, so that any character may appear in path: the driver cuts the
// string at the first '?', and SQLite decodes %XX in the path part.
func dsn(path string, q url.Values) string {
	p := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(filepath.ToSlash(path))
	return "file:" + p + "?" + q.Encode()
}

// sqliteMagic starts every SQLite 3 database file.
const sqliteMagic = "SQLite format 3\x00"

// Check inspects the database at path without changing it, for tools that run beside the
// kiosk: it never creates, moves aside, migrates or repairs the file, unlike Open. It reads the
// header by hand and runs integrity_check on a read-only connection, which can neither
// checkpoint nor remove a WAL.
//
// It returns the schema version (PRAGMA user_version; 0 for an empty file, which Open would
// turn into a database). Errors:
//   - *CorruptError (ErrCorrupt) with MovedTo empty: the file is damaged or not a SQLite
//     database, so Open would move it aside;
//   - *TooNewError (ErrTooNew), together with the version: the file was written by a newer
//     binary than this one;
//   - an error wrapping fs.ErrNotExist when there is no file;
//   - other errors (no permission, a directory at path, a lock held longer than
//     DefaultBusyTimeout, a crash's rollback journal that only a writer may roll back) say
//     nothing about the file's contents.
func Check(ctx context.Context, path string) (version int, err error) {
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	detail, version, err := check(ctx, path, DefaultBusyTimeout)
	switch {
	case err != nil:
		return 0, fmt.Errorf("store: check %s: %w", path, err)
	case detail != "":
		return 0, &CorruptError{Path: path, Detail: detail}
	case version > len(Migrations):
		return version, &TooNewError{Path: path, Have: version, Known: len(Migrations)}
	}
	return version, nil
}

// check returns a non-empty description when the file at path is damaged or not a database, and
// an error only for failures that say nothing about its contents; otherwise the file's schema
// version. A missing or empty file is fine (version 0): SQLite creates the database. The check
// never writes: the header is read by hand, and integrity_check runs on a read-only connection,
// which can neither checkpoint nor remove a WAL.
func check(ctx context.Context, path string, busy time.Duration) (detail string, version int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return "", 0, err
	}
	if fi.IsDir() {
		f.Close()
		return "", 0, errors.New("is a directory")
	}
	head := make([]byte, 100)
	n, err := io.ReadFull(f, head)
	f.Close()
	switch {
	case n == 0 && fi.Size() == 0:
		return "", 0, nil
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		return "", 0, err
	case n < len(head) || string(head[:len(sqliteMagic)]) != sqliteMagic:
		return fmt.Sprintf("not a SQLite database (%d bytes, header %q)", fi.Size(), head[:min(n, 16)]), 0, nil
	}

	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	db, err := sql.Open("sqlite3", dsn(path, q))
	if err != nil {
		return "", 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if detail, err := integrity(ctx, db); detail != "" || err != nil {
		return detail, 0, err
	}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return "", 0, err
	}
	return "", version, nil
}

// integrity returns a non-empty description when the file is damaged or not a database, and an
// error only for failures that say nothing about the file's contents.
func integrity(ctx context.Context, db *sql.DB) (string, error) {
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check(20)")
	if err != nil {
		if d := corruptDetail(err); d != "" {
			return d, nil
		}
		return "", err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "", err
		}
		lines = append(lines, s)
	}
	if err := rows.Err(); err != nil {
		if d := corruptDetail(err); d != "" {
			return d, nil
		}
		return "", err
	}
	if len(lines) == 1 && lines[0] == "ok" {
		return "", nil
	}
	if len(lines) == 0 {
		return "integrity_check returned nothing", nil
	}
	return strings.Join(lines, "; "), nil
}

// corruptDetail says whether err is SQLite reporting a damaged file (as opposed to, say, a
// permission problem, which must not get a good file moved aside).
func corruptDetail(err error) string {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB) {
		return se.Error()
	}
	return ""
}

// moveAside renames path and its -wal/-shm/-journal companions to a free "<path>.corrupt-<ts>[-n]" name,
// keeping the suffixes so SQLite can still open the copy with its WAL.
func moveAside(path string, now time.Time) (string, error) {
	base := path + ".corrupt-" + now.Format(corruptStamp)
	target := base
	for n := 2; ; n++ {
		if !exists(target) && !exists(target+"-wal") && !exists(target+"-shm") && !exists(target+"-journal") {
			break
		}
		target = fmt.Sprintf("%s-%d", base, n)
	}
	if err := os.Rename(path, target); err != nil {
		return "", err
	}
	for _, suf := range []string{"-wal", "-shm", "-journal"} {
		if exists(path + suf) {
			if err := os.Rename(path+suf, target+suf); err != nil {
				return target, fmt.Errorf("store: moving %s: %w", path+suf, err)
			}
		}
	}
	return target, nil
}

// corruptStamp is the time format of a moved-aside file's name.
const corruptStamp = "20060102T150405Z"

// RemoveAgedCorrupt deletes the copies of path's damaged files moved aside before before (as
// their names say: "<path>.corrupt-<UTC time>[-n]" and their -wal, -shm and -journal files), and
// returns what it removed. Files of other names are never touched. The first failure to remove
// a file is returned after trying the others; a missing directory is not an error.
func RemoveAgedCorrupt(path string, before time.Time) ([]string, error) {
	dir, prefix := filepath.Dir(path), filepath.Base(path)+".corrupt-"
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var removed []string
	var first error
	for _, e := range ents {
		name, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || len(name) < len(corruptStamp) || !e.Type().IsRegular() {
			continue
		}
		at, err := time.Parse(corruptStamp, name[:len(corruptStamp)])
		if err != nil || !at.Before(before) || !corruptTail(name[len(corruptStamp):]) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			if first == nil {
				first = fmt.Errorf("store: %w", err)
			}
			continue
		}
		removed = append(removed, p)
	}
	return removed, first
}

// corruptTail reports whether rest, what follows the time in a moved-aside name, is one that
// moveAside makes: "", "-<n>", then "", "-wal", "-shm" or "-journal".
func corruptTail(rest string) bool {
	for _, suf := range []string{"-wal", "-shm", "-journal"} {
		if r, ok := strings.CutSuffix(rest, suf); ok {
			rest = r
			break
		}
	}
	if rest == "" {
		return true
	}
	n, ok := strings.CutPrefix(rest, "-")
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// DB returns the underlying pool (one connection). Never call it from inside a Tx callback.
func (s *Store) DB() *sql.DB { return s.db }

// Path returns the file path given to Open.
func (s *Store) Path() string { return s.path }

// Version returns the schema version the database was migrated to by Open.
func (s *Store) Version() int { return s.version }

// TruncateWAL copies the write-ahead log into the database file and truncates the -wal file to
// zero bytes (PRAGMA wal_checkpoint(TRUNCATE)), so that rows just deleted do not live on in the
// log until the next automatic checkpoint: call it after a purge. With secure_delete on, the
// deleted content is then gone from both files. It fails with ErrBusy when a reader of another
// process holds the log (the kiosk's tools read beside it); the log is then left as it was and
// the next call retries. Never call it from inside a Tx callback.
func (s *Store) TruncateWAL(ctx context.Context) error {
	var busy, logFrames, done int
	if err := s.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil {
		var se sqlite3.Error
		if errors.As(err, &se) && se.Code == sqlite3.ErrBusy {
			return fmt.Errorf("store: checkpoint: %w (%w)", ErrBusy, err)
		}
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("store: checkpoint: %w", ErrBusy)
	}
	return nil
}

// Close closes the database. In WAL mode the last close checkpoints and removes the -wal file.
func (s *Store) Close() error { return s.db.Close() }

// Tx runs fn in an IMMEDIATE transaction: the write lock is taken at BEGIN, so two writers never
// deadlock on a lock upgrade and fn sees no concurrent change. The transaction commits when fn
// returns nil (durably: synchronous=FULL) and rolls back when fn returns an error, which Tx
// returns unwrapped, or panics, which Tx re-raises after the rollback.
func (s *Store) Tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	committed = true
	return nil
}
