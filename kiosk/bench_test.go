package kiosk

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkConfirmToCommitted measures what a citizen waits for between pressing 确认取号 and
// the number being durably committed (status check of the printer included, printing excluded):
// the time from TakeTicket's call to its EventTicket, which is emitted right after the commit.
func BenchmarkConfirmToCommitted(b *testing.B) {
	r := newRig(b, nil)
	m := r.k.Catalog().All()[0]
	var start time.Time
	lat := make([]time.Duration, 0, b.N)
	r.k.Subscribe(func(e Event) {
		if e.Kind == EventTicket {
			lat = append(lat, time.Since(start))
		}
	})
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i > 0 && i%5000 == 0 { // a category has at most 9999 numbers a day
			r.clock.Set(r.clock.Now().AddDate(0, 0, 7)) // next Thursday: open, a weekday
		}
		start = time.Now()
		if _, err := r.k.TakeTicket(ctx, m.ID); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds()), "p95-µs")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tickets/s")
}
