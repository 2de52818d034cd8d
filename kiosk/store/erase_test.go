package store

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// secureDelete reads PRAGMA secure_delete on the pool's connection.
func secureDelete(t *testing.T, s *Store) int {
	t.Helper()
	var on int
	if err := s.DB().QueryRow("PRAGMA secure_delete").Scan(&on); err != nil {
		t.Fatal(err)
	}
	return on
}

// The pragma is per connection: it must come with every connection the pool opens, not be set
// once by whoever purges (the first connection may be replaced after an error).
func TestSecureDeleteOnEveryConnection(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if on := secureDelete(t, s); on != 1 {
		t.Fatalf("first connection: secure_delete = %d, want 1", on)
	}

	// Mark the first connection (a TEMP table lives on its connection only), switch the pragma
	// off on it, then have the pool throw it away as broken.
	ctx := context.Background()
	c, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE TEMP TABLE first_conn (x)", "PRAGMA secure_delete = OFF"} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	c.Close()

	var marks int
	if err := s.DB().QueryRow("SELECT count(*) FROM temp.sqlite_master WHERE name = 'first_conn'").Scan(&marks); err != nil {
		t.Fatal(err)
	}
	if marks != 0 {
		t.Fatal("the pool kept the first connection: the test proves nothing")
	}
	if on := secureDelete(t, s); on != 1 {
		t.Fatalf("new connection: secure_delete = %d, want 1", on)
	}
}

// A deleted row's bytes are gone from the database and its log once the log is truncated.
func TestDeletedRowsLeaveNoTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const phrase = "窗口工作人员态度恶劣-ZQX-7741"
	if _, err := s.DB().Exec(`CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)`); err != nil {
		t.Fatal(err)
	}
	// Several pages' worth, so that deleting them frees whole pages as well as cells.
	for i := range 200 {
		if _, err := s.DB().Exec(`INSERT INTO note (body) VALUES (?)`, strings.Repeat(phrase, 1+i%5)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.TruncateWAL(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !fileHas(t, path, phrase) {
		t.Fatal("the phrase is not in the file before the delete: the test proves nothing")
	}
	if _, err := s.DB().Exec(`DELETE FROM note`); err != nil {
		t.Fatal(err)
	}
	if !fileHas(t, path+"-wal", phrase) && walSize(t, path) == 0 {
		t.Fatal("the delete wrote nothing to the log")
	}
	if err := s.TruncateWAL(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := walSize(t, path); n != 0 {
		t.Errorf("-wal is %d bytes after TruncateWAL, want 0", n)
	}
	if fileHas(t, path, phrase) {
		t.Error("the deleted phrase is still in the database file")
	}
	if fileHas(t, path+"-wal", phrase) {
		t.Error("the deleted phrase is still in the -wal file")
	}
}

// A reader of another connection holding an old snapshot keeps the log: ErrBusy, log untouched.
func TestTruncateWALBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := OpenWith(path, Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB().Exec(`CREATE TABLE t (x)`); err != nil {
		t.Fatal(err)
	}
	r, err := openDB(path, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tx, err := r.Begin() // _txlock=immediate: a write lock, which a checkpoint must wait for
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	if err := s.TruncateWAL(context.Background()); !errors.Is(err, ErrBusy) {
		t.Fatalf("TruncateWAL while another connection writes: %v, want ErrBusy", err)
	}
}

func fileHas(t *testing.T, path, phrase string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(b, []byte(phrase))
}

func walSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// Copies of damaged files moved aside long ago are deleted at open; recent ones, and files that
// only look alike, stay.
func TestAgedCorruptCopiesRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kiosk.db")
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	old := path + ".corrupt-" + now.Add(-31*24*time.Hour).Format(corruptStamp)
	recent := path + ".corrupt-" + now.Add(-29*24*time.Hour).Format(corruptStamp)
	aged := []string{old, old + "-wal", old + "-shm", old + "-journal", old + "-2", old + "-2-wal"}
	kept := []string{recent, recent + "-wal",
		path + ".corrupt-notatime", old + "-notes.txt", old + ".bak", filepath.Join(dir, "other.db.corrupt-"+now.Add(-400*24*time.Hour).Format(corruptStamp))}
	for _, p := range append(slices.Clone(aged), kept...) {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := OpenWith(path, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, p := range aged {
		if exists(p) {
			t.Errorf("%s kept, want deleted (moved aside 31 days ago)", filepath.Base(p))
		}
	}
	for _, p := range kept {
		if !exists(p) {
			t.Errorf("%s deleted, want kept", filepath.Base(p))
		}
	}

	// Negative KeepCorrupt keeps them all.
	s, err = OpenWith(path, Options{Now: func() time.Time { return now.AddDate(1, 0, 0) }, KeepCorrupt: -1})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if !exists(recent) {
		t.Error("KeepCorrupt < 0 deleted a copy")
	}
}

// A copy made by moveAside is found by RemoveAgedCorrupt under the name moveAside gave it.
func TestMovedAsideCopyAgesOut(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kiosk.db")
	if err := os.WriteFile(path, []byte("not a database at all, but long enough to have a header of 100 bytes........................................"), 0o600); err != nil {
		t.Fatal(err)
	}
	moved := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	_, err := OpenWith(path, Options{Now: func() time.Time { return moved }})
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.MovedTo == "" {
		t.Fatalf("OpenWith = %v, want a CorruptError with MovedTo", err)
	}
	got, err := RemoveAgedCorrupt(path, moved.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != ce.MovedTo {
		t.Fatalf("removed %v, want [%s]", got, ce.MovedTo)
	}
}
