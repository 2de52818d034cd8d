package ledger_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"citizenhome/hall/ledger"
)

var one = []ledger.Migration{{Name: "t-1", SQL: `CREATE TABLE a (x INTEGER)`}}
var two = []ledger.Migration{{Name: "u-1", SQL: `CREATE TABLE b (y INTEGER)`}, {Name: "u-2", SQL: `ALTER TABLE b ADD COLUMN z TEXT`}}

func TestMigrationsOnceAndInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	db, err := ledger.Open(path, one)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Tx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO a VALUES (7)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// A second package's list added later; the first is not applied again (it would fail).
	db, err = ledger.Open(path, one, two)
	if err != nil {
		t.Fatal(err)
	}
	var x int
	if err := db.SQL().QueryRow(`SELECT x FROM a`).Scan(&x); err != nil || x != 7 {
		t.Fatalf("row lost: %d %v", x, err)
	}
	if _, err := db.SQL().Exec(`INSERT INTO b (y, z) VALUES (1, 'z')`); err != nil {
		t.Fatal(err)
	}
	var mode string
	var sync int
	db.SQL().QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	db.SQL().QueryRow(`PRAGMA synchronous`).Scan(&sync)
	if mode != "wal" || sync != 2 {
		t.Errorf("journal_mode %s synchronous %d, want wal and 2 (FULL)", mode, sync)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm()&0o077 != 0 {
		t.Errorf("the ledger is readable by others: %v %v", st.Mode(), err)
	}
	db.Close()
	// An older binary that knows only the first list refuses the newer file.
	if _, err := ledger.Open(path, one); !errors.Is(err, ledger.ErrTooNew) {
		t.Fatalf("older binary: %v, want ErrTooNew", err)
	}
}

func TestFailedMigrationLeavesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	bad := []ledger.Migration{{Name: "t-2", SQL: `CREATE TABLE c (q); INSERT INTO nowhere VALUES (1)`}}
	if _, err := ledger.Open(path, one, bad); !errors.Is(err, ledger.ErrMigration) {
		t.Fatalf("got %v, want ErrMigration", err)
	}
	db, err := ledger.Open(path, one)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	db.SQL().QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'c'`).Scan(&n)
	if n != 0 {
		t.Fatal("a failed migration left its table behind")
	}
}

func TestDuplicateNames(t *testing.T) {
	if _, err := ledger.Open(filepath.Join(t.TempDir(), "h.db"), one, one); err == nil {
		t.Fatal("a migration named twice was accepted")
	}
}

func TestCorruptMovedAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h.db")
	db, err := ledger.Open(path, one)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		db.SQL().Exec(`INSERT INTO a VALUES (?)`, i)
	}
	db.Close()
	b, _ := os.ReadFile(path)
	for i := 4096; i < len(b) && i < 4096*3; i++ {
		b[i] ^= 0x5a // smash pages after the header
	}
	os.WriteFile(path, b, 0o600)
	_, err = ledger.Open(path, one)
	var ce *ledger.CorruptError
	if !errors.Is(err, ledger.ErrCorrupt) || !errors.As(err, &ce) || !strings.HasPrefix(ce.MovedTo, path+".corrupt-") {
		t.Fatalf("damaged file: %v", err)
	}
	if _, err := os.Stat(ce.MovedTo); err != nil {
		t.Fatalf("damaged file not kept: %v", err)
	}
	db, err = ledger.Open(path, one)
	if err != nil {
		t.Fatalf("fresh ledger after move: %v", err)
	}
	db.Close()

	os.WriteFile(path, []byte("this is not sqlite at all, just text"), 0o600)
	if _, err := ledger.Open(path, one); !errors.Is(err, ledger.ErrCorrupt) {
		t.Fatalf("text file: %v", err)
	}
}

// secure_delete is a connection's setting: it must come with each connection the pool opens
// (the first may be replaced after an error), so that purged phones are zeroed in the file.
func TestSecureDeleteOnEveryConnection(t *testing.T) {
	db, err := ledger.Open(filepath.Join(t.TempDir(), "h.db"), one)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	on := func() int {
		var v int
		if err := db.SQL().QueryRow(`PRAGMA secure_delete`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := on(); v != 1 {
		t.Fatalf("first connection: secure_delete = %d, want 1", v)
	}
	ctx := context.Background()
	c, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`CREATE TEMP TABLE first_conn (x)`, `PRAGMA secure_delete = OFF`} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.Raw(func(any) error { return driver.ErrBadConn }) // the pool drops the connection
	c.Close()
	var marks int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM temp.sqlite_master WHERE name = 'first_conn'`).Scan(&marks); err != nil || marks != 0 {
		t.Fatalf("the pool kept the first connection (%d, %v): the test proves nothing", marks, err)
	}
	if v := on(); v != 1 {
		t.Fatalf("new connection: secure_delete = %d, want 1", v)
	}
}

// After a purge the log holding the deleted rows is truncated to nothing, and with secure_delete
// neither file keeps them.
func TestTruncateWALAfterDelete(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	db, err := ledger.Open(path, one)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const phrase = "13800138000-SEALED-PHONE-STANDIN"
	for range 100 {
		if _, err := db.SQL().Exec(`INSERT INTO a (x) VALUES (?)`, phrase); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if err := db.TruncateWAL(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec(`DELETE FROM a`); err != nil {
		t.Fatal(err)
	}
	if err := db.TruncateWAL(ctx); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() != 0 {
		t.Errorf("-wal after TruncateWAL: %v %v", fi, err)
	}
	for _, p := range []string{path, path + "-wal"} {
		if b, _ := os.ReadFile(p); strings.Contains(string(b), phrase) {
			t.Errorf("%s still holds the deleted rows", filepath.Base(p))
		}
	}
}
