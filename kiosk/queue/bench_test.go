package queue

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// benchQueue spreads tickets over 26 letters and moves the clock one second per ticket, so no
// category reaches MaxNumber in a day however long the benchmark runs.
func benchQueue(b *testing.B) (*Queue, []string) {
	var cats []Category
	var letters []string
	for l := 'A'; l <= 'Z'; l++ {
		cats = append(cats, Category{Letter: string(l), AvgService: 5 * time.Minute, Counters: 3})
		letters = append(letters, string(l))
	}
	var tick atomic.Int64
	start := local("2026-11-26 08:30:00")
	now := func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Second) }
	q, err := New(openStore(b), cats, nil, now)
	if err != nil {
		b.Fatal(err)
	}
	return q, letters
}

// BenchmarkIssue measures committed tickets per second (each one fsynced: synchronous=FULL).
func BenchmarkIssue(b *testing.B) {
	q, letters := benchQueue(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := q.Issue(ctx, Request{Category: letters[i%len(letters)]}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tickets/s")
}

// BenchmarkConfirmToCommitted measures the latency from the citizen's confirmation (the call to
// Issue) to the durably committed number, as percentiles.
func BenchmarkConfirmToCommitted(b *testing.B) {
	q, letters := benchQueue(b)
	ctx := context.Background()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		t0 := time.Now()
		if _, err := q.Issue(ctx, Request{Category: letters[i%len(letters)]}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		i++
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.95), "p95-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
