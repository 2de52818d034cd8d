package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Migration is one forward step of the schema. SQL may hold several statements.
type Migration struct {
	Version int    // position in the list, starting at 1; stored in PRAGMA user_version
	Name    string // for error messages
	SQL     string
}

func checkMigrations(ms []Migration) error {
	for i, m := range ms {
		if m.Version != i+1 {
			return fmt.Errorf("store: migration list: entry %d has version %d, want %d", i, m.Version, i+1)
		}
		if strings.TrimSpace(m.SQL) == "" {
			return fmt.Errorf("store: migration list: version %d has no SQL", m.Version)
		}
	}
	return nil
}

// migrate applies every migration above the file's user_version, each in its own transaction,
// and returns the resulting version.
func migrate(ctx context.Context, db *sql.DB, path string, ms []Migration) (int, error) {
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	if have > len(ms) {
		return 0, &TooNewError{Path: path, Have: have, Known: len(ms)}
	}
	for _, m := range ms[have:] {
		if err := apply(ctx, db, m); err != nil {
			return 0, &MigrationError{Version: m.Version, Name: m.Name, Err: err}
		}
	}
	// Another process may have migrated concurrently, possibly a newer binary past our list.
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	if have > len(ms) {
		return 0, &TooNewError{Path: path, Have: have, Known: len(ms)}
	}
	return have, nil
}

func apply(ctx context.Context, db *sql.DB, m Migration) error {
	tx, err := db.BeginTx(ctx, nil) // IMMEDIATE: another process cannot migrate at the same time
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Re-read under the write lock: another process may have migrated since we looked.
	var have int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return err
	}
	if have >= m.Version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	// user_version lives in the file header, which SQLite writes inside the transaction: the
	// version and the schema change commit or roll back together.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.Version)); err != nil {
		return err
	}
	if err := foreignKeyCheck(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// foreignKeyCheck fails when the migration left rows pointing at nothing, which foreign_keys=ON
// does not catch for tables created or altered inside the same transaction.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return err
		}
		return fmt.Errorf("foreign key violation: %s row %v references missing %s", table, rowid.Int64, parent)
	}
	return rows.Err()
}
