// Package ledgertest opens ledgers for the hall's tests.
package ledgertest

import (
	"path/filepath"
	"testing"

	"citizenhome/hall/ledger"
)

// Open returns a ledger in a new temporary directory with the given migrations, closed when
// the test ends. Its path is db.Path(), for tests that reopen it.
func Open(t testing.TB, ms ...[]ledger.Migration) *ledger.DB {
	t.Helper()
	db, err := ledger.Open(filepath.Join(t.TempDir(), "halld.db"), ms...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
