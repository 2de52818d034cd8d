package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seed is what the migration test knows about one schema version: rows valid at that version,
// and how to find them again in the LATEST schema. Every migration needs one (TestSeedsCoverMigrations),
// so a new migration cannot ship without proving it keeps older data.
type seed struct {
	insert func(tx *sql.Tx) error
	check  func(t *testing.T, db *sql.DB) // runs against the latest schema
}

var seeds = map[int]seed{
	1: {
		insert: func(tx *sql.Tx) error {
			_, err := tx.Exec(`
INSERT INTO queue_counter (day, category, last) VALUES ('2026-11-25', 'A', 2), ('2026-11-25', 'B', 1);
INSERT INTO queue_ticket (day, category, number, priority, priority_reason, matter_id, section,
    issued_at, waiting_ahead, estimated_ms, lookup_code, print_state, print_error, called_at, call_window)
VALUES ('2026-11-25', 'A', 1, 0, '', 'M-1', '民政', 1764030000000000000, 0, 0, 'SEEDLOOKUP1', 'printed', '', 1764030600000000000, '3'),
       ('2026-11-25', 'A', 2, 1, 'elder', '', '', 1764030001000000000, 0, 0, 'SEEDLOOKUP2', 'reprint', 'paper out', NULL, ''),
       ('2026-11-25', 'B', 1, 0, '', '', '', 1764030002000000000, 3, 360000, 'SEEDLOOKUP3', 'pending', '', NULL, '');`)
			return err
		},
		check: func(t *testing.T, db *sql.DB) {
			var last int
			if err := db.QueryRow(`SELECT last FROM queue_counter WHERE day = '2026-11-25' AND category = 'A'`).Scan(&last); err != nil || last != 2 {
				t.Errorf("v1 counter: last = %d, %v", last, err)
			}
			var (
				num, prio    int
				reason, code string
				state, perr  string
			)
			err := db.QueryRow(`SELECT number, priority, priority_reason, lookup_code, print_state, print_error
				FROM queue_ticket WHERE day = '2026-11-25' AND category = 'A' AND number = 2`).Scan(&num, &prio, &reason, &code, &state, &perr)
			if err != nil || prio != 1 || reason != "elder" || code != "SEEDLOOKUP2" || state != "reprint" || perr != "paper out" {
				t.Errorf("v1 ticket A002: %d %d %q %q %q %q, %v", num, prio, reason, code, state, perr, err)
			}
			var section string
			var called sql.NullInt64
			err = db.QueryRow(`SELECT section, called_at FROM queue_ticket WHERE lookup_code = 'SEEDLOOKUP1'`).Scan(&section, &called)
			if err != nil || section != "民政" || called.Int64 != 1764030600000000000 {
				t.Errorf("v1 ticket A001: %q %v, %v", section, called, err)
			}
		},
	},
	2: {
		insert: func(tx *sql.Tx) error {
			_, err := tx.Exec(`
INSERT INTO telemetry_outbox (id, ts, type, data) VALUES
    ('seed-event-1', 1764030000000000000, 'ticket.issued', '{"ticket":"A001"}'),
    ('seed-event-2', 1764030001000000000, 'kiosk.reset', '{}');
INSERT INTO telemetry_boot (one, boot) VALUES (1, 7);
INSERT INTO telemetry_alert (code) VALUES ('printer-paper-out');
INSERT INTO command_audit (id, name, by_user, args, received_at, done_at, executed, ok, error, reply)
VALUES ('seed-cmd-1', 'lock', 'ops', '{"message":"x"}', 1764030000000000000, 1764030001000000000, 1, 1, '',
        '{"id":"seed-cmd-1","ok":true,"error":"","ts":"2025-11-25T08:20:01+08:00"}');
INSERT INTO remote_setting (key, value, set_by, set_at) VALUES ('kiosk.idle_timeout', '90s', 'ops', 1764030000000000000);`)
			return err
		},
		check: func(t *testing.T, db *sql.DB) {
			var id, typ string
			if err := db.QueryRow(`SELECT id, type FROM telemetry_outbox ORDER BY seq LIMIT 1`).Scan(&id, &typ); err != nil || id != "seed-event-1" || typ != "ticket.issued" {
				t.Errorf("v2 outbox: %q %q, %v", id, typ, err)
			}
			var boot int
			if err := db.QueryRow(`SELECT boot FROM telemetry_boot`).Scan(&boot); err != nil || boot != 7 {
				t.Errorf("v2 boot: %d, %v", boot, err)
			}
			var by, reply string
			if err := db.QueryRow(`SELECT by_user, reply FROM command_audit WHERE id = 'seed-cmd-1'`).Scan(&by, &reply); err != nil || by != "ops" || reply == "" {
				t.Errorf("v2 audit: %q %q, %v", by, reply, err)
			}
			var v string
			if err := db.QueryRow(`SELECT value FROM remote_setting WHERE key = 'kiosk.idle_timeout'`).Scan(&v); err != nil || v != "90s" {
				t.Errorf("v2 setting: %q, %v", v, err)
			}
		},
	},
}

// The telemetry counters migration's seed, registered by name like the hall's and the payments',
// so that its version number can move when migrations of other features are appended at once.
func init() {
	for _, m := range Migrations {
		if strings.HasPrefix(m.Name, "telemetry daily counters") {
			seeds[m.Version] = counterSeed
		}
	}
}

var counterSeed = seed{
	insert: func(tx *sql.Tx) error {
		_, err := tx.Exec(`
INSERT INTO telemetry_counter (day, name, n) VALUES
    ('2026-11-26', 'card_reads', 300), ('2026-11-26', 'errors', 2), ('2026-11-25', 'card_reads', 17);`)
		return err
	},
	check: func(t *testing.T, db *sql.DB) {
		var n int64
		if err := db.QueryRow(`SELECT n FROM telemetry_counter WHERE day = '2026-11-26' AND name = 'card_reads'`).Scan(&n); err != nil || n != 300 {
			t.Errorf("v5 counter card_reads: %d, %v", n, err)
		}
		// The telemetry agent's increment: an UPSERT on (day, name).
		if _, err := db.Exec(`INSERT INTO telemetry_counter (day, name, n) VALUES ('2026-11-26', 'errors', 1)
			ON CONFLICT (day, name) DO UPDATE SET n = n + excluded.n`); err != nil {
			t.Fatalf("v5 counter upsert: %v", err)
		}
		if err := db.QueryRow(`SELECT n FROM telemetry_counter WHERE day = '2026-11-26' AND name = 'errors'`).Scan(&n); err != nil || n != 3 {
			t.Errorf("v5 counter errors after upsert: %d, %v", n, err)
		}
	},
}

// TestCounterConstraints: the schema refuses what would break the purge and today's lookup (both
// compare day as text) or make a counter negative.
func TestCounterConstraints(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		day, name string
		n         int64
		ok        bool
	}{
		{"2026-11-26", "card_reads", 0, true},
		{"2026-11-27", "errors", 5, true},
		{"2026-11-26", "card_reads", 1, false}, // the same (day, name) again: the primary key
		{"2026-1-26", "errors", 1, false},
		{"26-11-2026", "errors", 1, false},
		{"2026-11-26T00:00", "errors", 1, false},
		{"2026-11-28", "", 1, false},
		{"2026-11-28", "errors", -1, false},
	} {
		_, err := s.DB().Exec(`INSERT INTO telemetry_counter (day, name, n) VALUES (?, ?, ?)`, c.day, c.name, c.n)
		if (err == nil) != c.ok {
			t.Errorf("(%q, %q, %d): err = %v, want ok %v", c.day, c.name, c.n, err, c.ok)
		}
	}
}

// dropped lists tables a migration removes on purpose; any other table must keep all its rows.
var dropped = map[string]bool{}

func TestSeedsCoverMigrations(t *testing.T) {
	for _, m := range Migrations {
		if _, ok := seeds[m.Version]; !ok {
			t.Errorf("migration %d (%s) has no entry in seeds: add rows valid at that version and a check", m.Version, m.Name)
		}
	}
	if err := checkMigrations(Migrations); err != nil {
		t.Fatal(err)
	}
}

func tableCounts(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	counts := map[string]int{}
	for _, n := range names {
		var c int
		if err := db.QueryRow(`SELECT count(*) FROM "` + n + `"`).Scan(&c); err != nil {
			t.Fatal(err)
		}
		counts[n] = c
	}
	return counts
}

// TestMigrateFromEveryVersion builds a database at each earlier version k (0 = empty file),
// fills it with the sample rows of versions 1..k, migrates to the latest and checks the rows.
// Appending a migration adds a case here by itself.
func TestMigrateFromEveryVersion(t *testing.T) {
	ctx := context.Background()
	for k := 0; k <= len(Migrations); k++ {
		t.Run(fmt.Sprintf("from_v%d", k), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kiosk.db")
			old, err := OpenWith(path, Options{Migrations: Migrations[:k]})
			if err != nil {
				t.Fatal(err)
			}
			if old.Version() != k {
				t.Fatalf("built version %d, want %d", old.Version(), k)
			}
			for v := 1; v <= k; v++ {
				if err := old.Tx(ctx, seeds[v].insert); err != nil {
					t.Fatalf("seed v%d at version %d: %v", v, k, err)
				}
			}
			before := tableCounts(t, old.DB())
			if err := old.Close(); err != nil {
				t.Fatal(err)
			}

			s, err := Open(path)
			if err != nil {
				t.Fatalf("migrate %d -> %d: %v", k, len(Migrations), err)
			}
			defer s.Close()
			if s.Version() != len(Migrations) {
				t.Fatalf("Version() = %d", s.Version())
			}
			var uv int
			s.DB().QueryRow(`PRAGMA user_version`).Scan(&uv)
			if uv != len(Migrations) {
				t.Fatalf("user_version = %d", uv)
			}
			after := tableCounts(t, s.DB())
			for name, n := range before {
				if dropped[name] {
					continue
				}
				if after[name] < n {
					t.Errorf("table %s: %d rows before, %d after", name, n, after[name])
				}
			}
			for v := 1; v <= k; v++ {
				seeds[v].check(t, s.DB())
			}
			if detail, err := integrity(ctx, s.DB()); err != nil || detail != "" {
				t.Fatalf("integrity after migration: %q %v", detail, err)
			}
		})
	}
}

func TestMigrationFailureRollsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	ms := []Migration{
		{1, "one", `CREATE TABLE one (v INTEGER)`},
		{2, "two", `CREATE TABLE two (v INTEGER); INSERT INTO one VALUES (1); THIS IS NOT SQL;`},
	}
	_, err := OpenWith(path, Options{Migrations: ms})
	var me *MigrationError
	if !errors.As(err, &me) || !errors.Is(err, ErrMigration) || me.Version != 2 || me.Name != "two" {
		t.Fatalf("err = %v, want MigrationError for version 2", err)
	}
	s, err := OpenWith(path, Options{Migrations: ms[:1]})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Version() != 1 {
		t.Fatalf("version after failed migration = %d, want 1", s.Version())
	}
	var n int
	s.DB().QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'two'`).Scan(&n)
	if n != 0 {
		t.Error("table of the failed migration exists")
	}
	s.DB().QueryRow(`SELECT count(*) FROM one`).Scan(&n)
	if n != 0 {
		t.Error("row inserted by the failed migration kept")
	}
}

func TestMigrationForeignKeyViolation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	ms := []Migration{{1, "orphan", `
CREATE TABLE p (id INTEGER PRIMARY KEY);
CREATE TABLE c (p INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED);
INSERT INTO c VALUES (42);`}}
	_, err := OpenWith(path, Options{Migrations: ms})
	if !errors.Is(err, ErrMigration) {
		t.Fatalf("err = %v, want ErrMigration", err)
	}
}

func TestTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	before, _ := os.ReadFile(path)

	older := Migrations[:len(Migrations)-1]
	_, err = OpenWith(path, Options{Migrations: older})
	var te *TooNewError
	if !errors.As(err, &te) || !errors.Is(err, ErrTooNew) {
		t.Fatalf("err = %v, want *TooNewError", err)
	}
	if te.Have != len(Migrations) || te.Known != len(older) || te.Path != path {
		t.Fatalf("TooNewError = %+v", te)
	}
	if errors.Is(err, ErrCorrupt) {
		t.Fatal("a newer database is not corrupt")
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatal("file modified by the older binary")
	}
	if m, _ := filepath.Glob(path + ".corrupt-*"); len(m) != 0 {
		t.Fatal("newer database moved aside")
	}
	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen with the current binary: %v", err)
	}
	s.Close()
}

func TestBadMigrationList(t *testing.T) {
	dir := t.TempDir()
	for i, ms := range [][]Migration{
		{{2, "gap", "SELECT 1"}},
		{{1, "one", "SELECT 1"}, {1, "dup", "SELECT 1"}},
		{{1, "empty", "  "}},
	} {
		path := filepath.Join(dir, "x", "kiosk.db")
		if s, err := OpenWith(path, Options{Migrations: ms}); err == nil {
			s.Close()
			t.Errorf("case %d: accepted", i)
		}
		if exists(path) {
			t.Errorf("case %d: file created for a bad list", i)
		}
	}
}
