package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen hands Open arbitrary file contents, as a damaged disk might: it must not panic, and
// must either open the file at the latest version or refuse it with a typed error, keeping the
// bytes of a file it calls corrupt.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	good := filepath.Join(dir, "good.db")
	s, err := Open(good)
	if err != nil {
		f.Fatal(err)
	}
	s.Close()
	b, err := os.ReadFile(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:100])
	f.Add(b[:len(b)/2])
	f.Add([]byte{})
	f.Add([]byte("SQLite format 3\x00"))
	f.Add(bytes.Repeat([]byte{0}, 4096))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "kiosk.db")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path)
		var ce *CorruptError
		switch {
		case err == nil:
			defer s.Close()
			if s.Version() != len(Migrations) {
				t.Fatalf("opened at version %d", s.Version())
			}
		case errors.As(err, &ce):
			moved, rerr := os.ReadFile(ce.MovedTo)
			if rerr != nil || !bytes.Equal(moved, data) {
				t.Fatalf("corrupt file not kept intact: %v", rerr)
			}
		case errors.Is(err, ErrMigration), errors.Is(err, ErrTooNew):
			// A valid database of someone else's schema, or with a huge user_version.
		default:
			t.Logf("other error: %v", err) // e.g. SQLITE_CANTOPEN on a bizarre header
		}
	})
}
