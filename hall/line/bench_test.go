package line

import (
	"errors"
	"testing"
	"time"
)

// benchLine spreads tickets over 26 letters, so no category runs out of numbers however long
// the benchmark runs (at most 26×999 takes a day: the clock moves a day every 20 000).
func benchLine(b *testing.B) (*Line, *clock, []string) {
	var letters []string
	var cats []Category
	for l := 'A'; l <= 'Z'; l++ {
		letters = append(letters, string(l))
		cats = append(cats, Category{Letter: string(l), AvgService: 5 * time.Minute})
	}
	l, c := newLine(b, func(cfg *Config) {
		cfg.Categories = cats
		cfg.Windows = []Window{{ID: "1", Categories: letters}}
	})
	return l, c, letters
}

// BenchmarkTake measures one take: a number committed durably (synchronous=FULL) with its
// ticket, lookup code and position.
func BenchmarkTake(b *testing.B) {
	l, c, letters := benchLine(b)
	i := 0
	for b.Loop() {
		if i > 0 && i%20000 == 0 {
			c.Add(24 * time.Hour)
		}
		if _, _, err := l.Take(ctx, "k1", Take{ID: takeID(), Category: letters[i%len(letters)]}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "takes/s")
}

// BenchmarkNext measures one Next (the rule over every waiting ticket of a window serving 26
// categories, a committed call) with 200 tickets waiting; Done and the refill are not timed.
func BenchmarkNext(b *testing.B) {
	l, c, letters := benchLine(b)
	fill := func() {
		for i := range 200 {
			issue(b, l, letters[i%len(letters)], i%5 == 0)
		}
	}
	fill()
	k := 0
	b.ResetTimer()
	for range b.N {
		_, err := l.Next(ctx, "1", "s")
		b.StopTimer()
		if errors.Is(err, ErrEmpty) {
			c.Add(24 * time.Hour) // a new day, so numbers never run out
			fill()
			b.StartTimer()
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		if _, err := l.Done(ctx, "1", "s"); err != nil {
			b.Fatal(err)
		}
		// Keep about 200 waiting; a new day before any letter runs out of numbers.
		if k++; k%20000 == 0 {
			c.Add(24 * time.Hour)
		}
		issue(b, l, letters[k%len(letters)], false)
		b.StartTimer()
	}
}
