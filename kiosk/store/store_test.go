package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

func TestOpenCreatesAndConfigures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "kiosk.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Version() != len(Migrations) {
		t.Errorf("Version() = %d, want %d", s.Version(), len(Migrations))
	}
	if s.Path() != path {
		t.Errorf("Path() = %q", s.Path())
	}
	for _, c := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", fmt.Sprint(DefaultBusyTimeout.Milliseconds())},
		{"user_version", fmt.Sprint(len(Migrations))},
	} {
		var got string
		if err := s.DB().QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %q, want %q", c.pragma, got, c.want)
		}
	}
}

func TestOpenOddPaths(t *testing.T) {
	dir := t.TempDir()
	if s, err := Open(""); err == nil {
		s.Close()
		t.Error("Open(\"\") succeeded")
	}
	for _, name := range []string{"x?mode=ro", "x#y", "100%25", "a b", "市民之家.db", "x?_journal_mode=DELETE"} {
		p := filepath.Join(dir, name)
		s, err := Open(p)
		if err != nil {
			t.Errorf("Open(%q): %v", name, err)
			continue
		}
		var mode string
		s.DB().QueryRow(`PRAGMA journal_mode`).Scan(&mode)
		s.Close()
		if mode != "wal" {
			t.Errorf("%q: journal_mode %q", name, mode)
		}
		if !exists(p) {
			t.Errorf("%q: file not created under its own name", name)
		}
		if s, err := Open(p); err != nil {
			t.Errorf("reopen %q: %v", name, err)
		} else {
			s.Close()
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 6 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files %q, want exactly the six databases", names)
	}
}

// A failure that says nothing about the file's content must not move it aside.
func TestOpenDirectoryIsNotCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatal("Open on a directory succeeded")
	}
	if errors.Is(err, ErrCorrupt) {
		t.Fatalf("directory reported as corrupt: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		t.Fatalf("directory disturbed: %v", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = s.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('kept')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v string
	if err := s.DB().QueryRow(`SELECT v FROM t`).Scan(&v); err != nil || v != "kept" {
		t.Fatalf("got %q, %v", v, err)
	}
	if m, _ := filepath.Glob(path + ".corrupt-*"); len(m) != 0 {
		t.Fatalf("healthy file moved aside: %v", m)
	}
}

func TestTxRollsBack(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.DB().Exec(`CREATE TABLE t (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	sentinel := errors.New("stop")
	err = s.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO t VALUES (1)`); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", sentinel)
	})
	if !errors.Is(err, sentinel) {
		t.Fatalf("Tx error = %v, want the callback's", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic swallowed")
			}
		}()
		_ = s.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.Exec(`INSERT INTO t VALUES (2)`); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if err := s.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO t VALUES (3)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var got []int
	rows, err := s.DB().Query(`SELECT v FROM t ORDER BY v`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		rows.Scan(&v)
		got = append(got, v)
	}
	rows.Close()
	if len(got) != 1 || got[0] != 3 {
		t.Fatalf("rows = %v, want [3] (the failed and panicked transactions rolled back)", got)
	}
}

// Tx must take the write lock at BEGIN: a second writer is refused while the first transaction
// has not written anything yet. With a DEFERRED transaction it would succeed.
func TestTxIsImmediate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s1, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	if _, err := s1.DB().Exec(`CREATE TABLE t (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenWith(path, Options{BusyTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()

	inTx, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s1.Tx(context.Background(), func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
				return err
			}
			close(inTx)
			<-release
			return nil
		})
	}()
	<-inTx
	_, err = s2.DB().Exec(`INSERT INTO t VALUES (1)`)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrBusy {
		t.Fatalf("second writer during an open Tx: err = %v, want SQLITE_BUSY", err)
	}
	if _, err := s2.DB().Exec(`INSERT INTO t VALUES (1)`); err != nil {
		t.Fatalf("second writer after the Tx: %v", err)
	}
}

// writeDB creates a healthy database at path with enough rows to span many pages, closed so that
// its WAL is checkpointed into the main file.
func writeDB(t *testing.T, path string) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Tx(context.Background(), func(tx *sql.Tx) error {
		if _, err := tx.Exec(`CREATE TABLE filler (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
			return err
		}
		if _, err := tx.Exec(`CREATE INDEX filler_v ON filler (v)`); err != nil {
			return err
		}
		for i := range 2000 {
			if _, err := tx.Exec(`INSERT INTO filler (v) VALUES (?)`, strings.Repeat(fmt.Sprint(i), 20)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if exists(path + "-wal") {
		t.Fatal("WAL not checkpointed on close")
	}
}

func TestCorruptFileMovedAside(t *testing.T) {
	stamp := time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC)
	cases := []struct {
		name    string
		prepare func(t *testing.T, path string) // leaves a damaged file at path
		wal     bool                            // prepare also leaves a -wal file
	}{
		{"garbage", func(t *testing.T, path string) {
			os.WriteFile(path, bytes.Repeat([]byte("this is not a database\n"), 500), 0o644)
		}, false},
		{"short garbage", func(t *testing.T, path string) {
			os.WriteFile(path, []byte("SQLite format 2\x00 hello"), 0o644)
		}, false},
		{"garbage with wal", func(t *testing.T, path string) {
			os.WriteFile(path, bytes.Repeat([]byte{0xA5}, 8192), 0o644)
			os.WriteFile(path+"-wal", []byte("some wal bytes"), 0o644)
		}, true},
		{"truncated", func(t *testing.T, path string) {
			writeDB(t, path)
			fi, _ := os.Stat(path)
			if err := os.Truncate(path, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"page overwritten", func(t *testing.T, path string) {
			writeDB(t, path)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			fi, _ := f.Stat()
			f.WriteAt(bytes.Repeat([]byte{0xFF}, 4096), fi.Size()/2/4096*4096)
			f.Close()
		}, false},
		// The WAL holds committed transactions not yet in the main file (a power cut while
		// open): it must be moved intact, not checkpointed into the damaged file nor deleted.
		{"damaged with live wal", func(t *testing.T, path string) {
			live := filepath.Join(t.TempDir(), "live.db")
			writeDB(t, live)
			s, err := Open(live)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.DB().Exec(`INSERT INTO filler (v) VALUES ('only in the wal')`); err != nil {
				t.Fatal(err)
			}
			for _, suf := range []string{"", "-wal"} {
				b, err := os.ReadFile(live + suf)
				if err != nil {
					t.Fatal(err)
				}
				if suf == "-wal" && len(b) == 0 {
					t.Fatal("empty WAL")
				}
				os.WriteFile(path+suf, b, 0o644)
			}
			f, _ := os.OpenFile(path, os.O_RDWR, 0)
			fi, _ := f.Stat()
			f.WriteAt(bytes.Repeat([]byte{0x5A}, 4096), fi.Size()/3/4096*4096)
			f.Close()
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kiosk.db")
			c.prepare(t, path)
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var origWAL []byte
			if c.wal {
				origWAL, _ = os.ReadFile(path + "-wal")
			}

			s, err := OpenWith(path, Options{Now: func() time.Time { return stamp.In(time.FixedZone("CST", 8*3600)) }})
			if err == nil {
				s.Close()
				t.Fatal("Open accepted a damaged file")
			}
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v (%T), want *CorruptError", err, err)
			}
			want := path + ".corrupt-20261126T010203Z"
			if ce.Path != path || ce.MovedTo != want || ce.Detail == "" || ce.Err != nil {
				t.Fatalf("CorruptError = %+v, want MovedTo %s", ce, want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not say where the file went", err)
			}
			moved, err := os.ReadFile(ce.MovedTo)
			if err != nil || !bytes.Equal(moved, orig) {
				t.Fatalf("moved file differs from the original (%v)", err)
			}
			if c.wal {
				if w, err := os.ReadFile(ce.MovedTo + "-wal"); err != nil || !bytes.Equal(w, origWAL) {
					t.Fatalf("WAL not moved with the file: %v", err)
				}
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if exists(p) {
					t.Errorf("%s still exists", filepath.Base(p))
				}
			}

			// The caller decides to start empty: Open again.
			s, err = OpenWith(path, Options{Now: func() time.Time { return stamp }})
			if err != nil {
				t.Fatalf("second Open: %v", err)
			}
			defer s.Close()
			if s.Version() != len(Migrations) {
				t.Errorf("fresh database at version %d", s.Version())
			}
			if moved2, _ := os.ReadFile(ce.MovedTo); !bytes.Equal(moved2, orig) {
				t.Fatal("moved-aside copy changed by the second Open")
			}
		})
	}
}

// Two corruptions within the same second must not overwrite the first copy.
func TestCorruptNameCollision(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kiosk.db")
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	var moved []string
	for i := range 3 {
		body := []byte(fmt.Sprintf("garbage %d %s", i, strings.Repeat("x", 600)))
		os.WriteFile(path, body, 0o644)
		_, err := OpenWith(path, Options{Now: now})
		var ce *CorruptError
		if !errors.As(err, &ce) {
			t.Fatalf("round %d: %v", i, err)
		}
		if got, _ := os.ReadFile(ce.MovedTo); !bytes.Equal(got, body) {
			t.Fatalf("round %d: content of %s wrong", i, ce.MovedTo)
		}
		moved = append(moved, ce.MovedTo)
	}
	want := []string{path + ".corrupt-20260102T030405Z", path + ".corrupt-20260102T030405Z-2", path + ".corrupt-20260102T030405Z-3"}
	for i := range want {
		if moved[i] != want[i] {
			t.Errorf("move %d went to %s, want %s", i, moved[i], want[i])
		}
		if _, err := os.ReadFile(want[i]); err != nil {
			t.Error(err)
		}
	}
}

func TestIntegrityHealthy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	writeDB(t, path)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM filler`).Scan(&n); err != nil || n != 2000 {
		t.Fatalf("rows = %d, %v", n, err)
	}
	detail, err := integrity(context.Background(), s.DB())
	if err != nil || detail != "" {
		t.Fatalf("integrity = %q, %v", detail, err)
	}
}

// A power cut leaves committed transactions only in the WAL: Open must accept the file and see them.
func TestOpenAfterCrashReadsWAL(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	writeDB(t, live)
	s, err := Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB().Exec(`INSERT INTO filler (v) VALUES ('only in the wal')`); err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(dir, "crashed.db")
	for _, suf := range []string{"", "-wal"} {
		b, err := os.ReadFile(live + suf)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(crashed+suf, b, 0o644)
	}
	c, err := Open(crashed)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var n int
	if err := c.DB().QueryRow(`SELECT count(*) FROM filler WHERE v = 'only in the wal'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("row from the WAL: %d, %v", n, err)
	}
}

// A rollback journal left next to the file (a crash while it was being created) must not stop
// the kiosk from starting: a read-only check cannot roll it back, the writer can.
func TestOpenWithLeftoverJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	writeDB(t, path)
	if err := os.WriteFile(path+"-journal", bytes.Repeat([]byte{0x11}, 2048), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM filler`).Scan(&n); err != nil || n != 2000 {
		t.Fatalf("rows = %d, %v", n, err)
	}
	if m, _ := filepath.Glob(path + ".corrupt-*"); len(m) != 0 {
		t.Fatalf("moved aside: %v", m)
	}
}

// Check reports what Open would find, and leaves every byte where it was.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	s, err := Open(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(fmt.Sprintf("PRAGMA user_version = %d", len(Migrations)+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	newer, _ := os.ReadFile(good)
	old := filepath.Join(dir, "old.db")
	if s, err = OpenWith(old, Options{Migrations: Migrations[:1]}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		path    string
		version int
		is      error
	}{
		{"old schema", old, 1, nil},
		{"newer", write("newer.db", newer), len(Migrations) + 1, ErrTooNew},
		{"empty", write("empty.db", nil), 0, nil},
		{"missing", filepath.Join(dir, "none.db"), 0, os.ErrNotExist},
		{"not sqlite", write("hello.db", []byte("hello")), 0, ErrCorrupt},
		{"garbage", write("junk.db", []byte("SQLite format 3\x00"+strings.Repeat("garbage ", 600))), 0, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(tt.path)
			v, err := Check(context.Background(), tt.path)
			if v != tt.version || !errors.Is(err, tt.is) || (tt.is == nil) != (err == nil) {
				t.Fatalf("Check = %d, %v; want %d, %v", v, err, tt.version, tt.is)
			}
			if after, _ := os.ReadFile(tt.path); !bytes.Equal(before, after) {
				t.Fatal("Check changed the file")
			}
			if m, _ := filepath.Glob(tt.path + ".corrupt-*"); len(m) != 0 {
				t.Fatalf("moved aside: %v", m)
			}
		})
	}
}
