package store

import (
	"errors"
	"fmt"
)

// Sentinels for errors.Is. Every error of the matching type below matches its sentinel.
var (
	// ErrCorrupt is matched by *CorruptError: the file failed its integrity check or is not a
	// SQLite database at all, and was moved aside (by Open; Check leaves it in place).
	ErrCorrupt = errors.New("store: database corrupt")
	// ErrTooNew is matched by *TooNewError: the file was written by a newer binary.
	ErrTooNew = errors.New("store: database newer than this program")
	// ErrMigration is matched by *MigrationError: a migration failed and was rolled back.
	ErrMigration = errors.New("store: migration failed")
	// ErrBusy: another connection held the write-ahead log, so it could not be truncated.
	ErrBusy = errors.New("store: write-ahead log in use by a reader")
)

// CorruptError reports a damaged database. From Open, the file was refused and moved aside: the
// original bytes are kept at MovedTo (with its "-wal", "-shm" and "-journal" files when those
// existed), so nothing is lost; Path no longer exists and a second Open creates an empty
// database there. From Check, MovedTo and Err are empty and the file is still at Path.
type CorruptError struct {
	Path    string // the path given to Open or Check
	MovedTo string // where the file now is; empty if moving it failed (then Err says why) or Check found it
	Detail  string // what SQLite reported (first lines of integrity_check, or the open error)
	Err     error  // the error that stopped the move, if any
}

func (e *CorruptError) Error() string {
	if e.MovedTo == "" && e.Err == nil {
		return fmt.Sprintf("store: %s is corrupt (%s)", e.Path, e.Detail)
	}
	if e.MovedTo == "" {
		return fmt.Sprintf("store: %s is corrupt (%s) and could not be moved aside: %v", e.Path, e.Detail, e.Err)
	}
	return fmt.Sprintf("store: %s is corrupt (%s); moved aside to %s", e.Path, e.Detail, e.MovedTo)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Unwrap returns the error that prevented the move, if any.
func (e *CorruptError) Unwrap() error { return e.Err }

// TooNewError reports a database whose schema version is above the last migration this
// binary knows. The file is left untouched: running an older binary must not downgrade it.
type TooNewError struct {
	Path  string
	Have  int // PRAGMA user_version of the file
	Known int // highest migration version of this binary
}

func (e *TooNewError) Error() string {
	return fmt.Sprintf("store: %s has schema version %d, this program knows up to %d (install the newer version)", e.Path, e.Have, e.Known)
}

// Is makes errors.Is(err, ErrTooNew) true.
func (e *TooNewError) Is(target error) bool { return target == ErrTooNew }

// MigrationError reports a migration that failed. Its transaction was rolled back, so the
// database stays at Version-1 with none of the migration's changes.
type MigrationError struct {
	Version int
	Name    string
	Err     error
}

func (e *MigrationError) Error() string {
	return fmt.Sprintf("store: migration %d (%s): %v", e.Version, e.Name, e.Err)
}

// Is makes errors.Is(err, ErrMigration) true.
func (e *MigrationError) Is(target error) bool { return target == ErrMigration }

// Unwrap returns the SQLite error.
func (e *MigrationError) Unwrap() error { return e.Err }
