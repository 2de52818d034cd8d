package line

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"citizenhome/hall/ledger"
	"citizenhome/hall/ledger/ledgertest"
)

// dumpRows reads what the statistics read of every row of the three tables, ids included (the
// API's random lookup codes, take ids and kiosk are left out: bulk makes its own).
func dumpRows(t testing.TB, db *ledger.DB) [][]string {
	t.Helper()
	var out [][]string
	for _, q := range []string{
		`SELECT id, day, code, letter, number, category, priority, reason, matter, section, lease, conflict, state,
			issued_at, queue_at, called_at, win, recalls, started_at, ended_at, served_ns FROM line_ticket ORDER BY id`,
		`SELECT id, ticket, day, code, category, win, at, recall, priority, staff FROM line_call ORDER BY id`,
		`SELECT id, at, day, staff, win, action, code, reason FROM line_audit ORDER BY id`,
	} {
		rows, err := db.SQL().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			r := []string{}
			for _, v := range vals {
				r = append(r, fmt.Sprint(v))
			}
			out = append(out, r)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestBulkMatchesAPI runs one plan (3 days, 6 windows, 30 tickets each, with no-shows and
// transfers) through the real API into one ledger and through bulk into another: the rows, and
// so every figure of Stats, must be the same. The benchmark's year is bulk's.
func TestBulkMatchesAPI(t *testing.T) {
	cats, wins := genConfig(6)
	plan := genPlan([]string{"2026-11-30", "2026-12-01", "2026-12-02"}, 6, 30, 7)
	var moved, missed int
	for _, p := range plan {
		if !p.transferred.IsZero() {
			moved++
		}
		if !p.noShow.IsZero() {
			missed++
		}
	}
	if moved == 0 || missed == 0 {
		t.Fatalf("the plan has %d transfers and %d no-shows: pick another seed", moved, missed)
	}
	edit := func(cfg *Config) { cfg.Categories, cfg.Windows = cats, wins }
	api, c := newLine(t, edit)
	replay(t, api, c, plan)

	db := ledgertest.Open(t, Migrations)
	if err := bulk(ctx, db, plan); err != nil {
		t.Fatal(err)
	}
	fast, err := Open(ctx, db, testConfigWith(c, edit))
	if err != nil {
		t.Fatal(err)
	}
	got, want := dumpRows(t, db), dumpRows(t, api.db)
	if len(want) < len(plan)*3 {
		t.Fatalf("the API wrote %d rows for %d tickets", len(want), len(plan))
	}
	if !reflect.DeepEqual(got, want) {
		for i := range min(len(got), len(want)) {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("row %d: bulk %v, API %v", i, got[i], want[i])
			}
		}
		t.Fatalf("bulk wrote %d rows, the API %d", len(got), len(want))
	}
	for _, by := range []Group{BySection, ByWindow, ByStaff, ByCategory, ByDay, ByMonth, ByYear} {
		q := StatsQuery{From: "2026-11-01", To: "2027-01-01", By: by}
		a, err := api.Stats(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := fast.Stats(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("by %s: API's %+v, bulk's %+v", by, a, b)
		}
		total := 0
		for _, r := range a {
			total += r.Called
		}
		if total != len(plan) {
			t.Errorf("by %s: %d first calls, the plan has %d tickets", by, total, len(plan))
		}
	}
}

func testConfigWith(c *clock, edit func(*Config)) Config {
	cfg := testConfig(c)
	edit(&cfg)
	return cfg
}

// BenchmarkStatsYear: a year (the weekdays of 2025) of a 30-window hall, 400 tickets a window a
// day (3.1 million tickets), written by bulk into a ledger file; then a month grouped by window
// and the year grouped by month, first with nothing kept ("-first": every day summed from the
// tables, the kept sums dropped before each query), then as asked again (the past days' sums
// kept), beside the floor of a plain count of the same tickets and calls. The generation (a few
// minutes) is not timed; env STATS_BENCH_DB names a ledger file to keep it in and reuse.
func BenchmarkStatsYear(b *testing.B) {
	const windows, perWindow = 30, 400
	cats, wins := genConfig(windows)
	path := os.Getenv("STATS_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "hall.db")
	}
	_, statErr := os.Stat(path)
	db, err := ledger.Open(path, Migrations)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	days := weekdays("2025-01-01", "2026-01-01")
	if statErr != nil {
		// A month at a time keeps the plan's memory small.
		for m := 1; m <= 12; m++ {
			var month []string
			for _, d := range days {
				if d[5:7] == fmt.Sprintf("%02d", m) {
					month = append(month, d)
				}
			}
			if err := bulk(context.Background(), db, genPlan(month, windows, perWindow, uint64(m))); err != nil {
				b.Fatal(err)
			}
		}
	}
	var tickets, calls int
	_ = db.SQL().QueryRow(`SELECT count(*) FROM line_ticket`).Scan(&tickets)
	_ = db.SQL().QueryRow(`SELECT count(*) FROM line_call`).Scan(&calls)
	b.Logf("%d tickets, %d calls over %d days (generated in %s)", tickets, calls, len(days), time.Since(start).Round(time.Second))
	l, err := Open(context.Background(), db, Config{Categories: cats, Windows: wins})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		q    StatsQuery
	}{
		{"month-by-window", StatsQuery{From: "2025-06-01", To: "2025-07-01", By: ByWindow}},
		{"year-by-month", StatsQuery{From: "2025-01-01", To: "2026-01-01", By: ByMonth}},
	} {
		run := func(name string, drop bool) {
			b.Run(name, func(b *testing.B) {
				var rows []StatsRow
				for b.Loop() {
					if drop {
						b.StopTimer()
						if _, err := db.SQL().Exec(`DELETE FROM line_stats_day`); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					if rows, err = l.Stats(context.Background(), c.q); err != nil {
						b.Fatal(err)
					}
				}
				n := 0
				for _, r := range rows {
					n += r.Called
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
				b.ReportMetric(float64(n), "tickets")
			})
		}
		run(c.name+"-first", true)
		run(c.name, false)
		b.Run(c.name+"-floor", func(b *testing.B) {
			for b.Loop() {
				var t, k int
				if err := db.SQL().QueryRow(`SELECT count(*) FROM line_ticket WHERE day >= ? AND day < ?`, c.q.From, c.q.To).Scan(&t); err != nil {
					b.Fatal(err)
				}
				if err := db.SQL().QueryRow(`SELECT count(*) FROM line_call WHERE day >= ? AND day < ?`, c.q.From, c.q.To).Scan(&k); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
		})
	}
}
