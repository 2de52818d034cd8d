package store

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkFsyncFloor is the physical floor of a durable commit on this disk: one 4 KiB append
// and fsync to a file beside the database (a WAL commit with synchronous=FULL does at least one).
// Ticket benchmarks are read against it.
func BenchmarkFsyncFloor(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "floor"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, 4096)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Write(page); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fsyncs/s")
}
