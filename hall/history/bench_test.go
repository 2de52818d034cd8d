package history

import (
	"context"
	"fmt"
	"testing"
	"time"

	"citizenhome/telemetry/wire"
)

// The goal: a 30-day timeline of one kiosk and the monthly report of 50 kiosks answer
// in < 100 ms. The ledger is filled through the real path (wire payloads, fleet.View, Record,
// the batched writer) with November 2026 of 50 kiosks, each day 40 state changes (10 faults
// of a device, each degrading the kiosk and recovering 10 minutes later) and 10 alerts.

const (
	benchKiosks = 50
	benchDays   = 30
)

var benchMonth = time.Date(2026, 11, 1, 0, 0, 0, 0, shanghai)

func benchFeed(b *testing.B) *feed {
	b.Helper()
	f := newFeed(b, benchMonth, Options{Location: shanghai})
	ids := make([]string, benchKiosks)
	for i := range ids {
		ids[i] = fmt.Sprintf("k%02d", i+1)
		f.boot(ids[i])
	}
	faults := []struct{ device, state, code string }{
		{"printer", StatePaperOut, "printer-paper-out"},
		{"id-reader", "offline", "id-reader-offline"},
		{"card-reader", "error", "card-reader-error"},
	}
	slot := 24 * time.Hour / 20
	start := time.Now()
	recorded := 0
	for d := range benchDays {
		midnight := benchMonth.AddDate(0, 0, d)
		for s := range 20 {
			for i, id := range ids {
				at := midnight.Add(time.Duration(s)*slot + time.Duration(i)*time.Second)
				x := faults[(d+s+i)%len(faults)]
				if s%2 == 0 { // a device fault: 2 changes down, 2 up
					f.at(at).set(id, wire.StateDegraded, x.device, x.state, "fault")
					f.at(at.Add(10*time.Minute)).set(id, wire.StateReady, x.device, "ok", "")
					recorded += 4 // status and state, twice
				} else { // an alert
					f.at(at).alert(id, x.code, x.device)
					f.at(at.Add(10*time.Minute)).clear(id, x.code)
					recorded += 2
				}
			}
		}
		for _, id := range ids {
			f.k(id).counters = wire.Counters{Tickets: int64(100 + d), Errors: int64(d % 3)}
			f.at(midnight.Add(23*time.Hour + 59*time.Minute)).status(id)
			recorded++
		}
		f.sync()
	}
	took := time.Since(start)
	var changes, alerts int
	f.db.SQL().QueryRow(`SELECT count(*) FROM history_change`).Scan(&changes)
	f.db.SQL().QueryRow(`SELECT count(*) FROM history_alert`).Scan(&alerts)
	if want := benchKiosks * benchDays * 40; changes < want || alerts != benchKiosks*benchDays*10 {
		b.Fatalf("%d changes (want %d), %d alerts", changes, want, alerts)
	}
	b.Logf("%d updates applied and recorded in %v (%.0f/s, with the view's decoding), %d dropped; %d changes, %d alerts",
		recorded, took.Round(time.Millisecond), float64(recorded)/took.Seconds(), f.s.Dropped(), changes, alerts)
	f.at(benchMonth.AddDate(0, 1, 0).Add(time.Hour))
	return f
}

func reportMS(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(time.Millisecond), "ms/op")
}

func BenchmarkTimeline30Days(b *testing.B) {
	f := benchFeed(b)
	ctx := context.Background()
	to := benchMonth.AddDate(0, 0, benchDays)
	var n int
	for b.Loop() {
		cs, err := f.s.Timeline(ctx, "k25", benchMonth, to)
		if err != nil {
			b.Fatal(err)
		}
		n = len(cs)
	}
	reportMS(b)
	if n < benchDays*40 {
		b.Fatalf("timeline of %d changes", n)
	}
}

func BenchmarkMonth50Kiosks(b *testing.B) {
	f := benchFeed(b)
	ctx := context.Background()
	var got []Availability
	for b.Loop() {
		var err error
		if got, err = f.s.Month(ctx, benchMonth); err != nil {
			b.Fatal(err)
		}
	}
	reportMS(b)
	if len(got) != benchKiosks || got[0].Open != 240*time.Hour || got[0].Ready == 0 || got[0].Ready >= got[0].Open || got[0].Tickets == 0 {
		b.Fatalf("report: %+v", got)
	}
}
