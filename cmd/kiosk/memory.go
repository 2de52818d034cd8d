package main

import (
	"context"
	"runtime/debug"
	"time"
)

// idleGCPercent is the kiosk's GOGC: a kiosk idles most of the day, redrawing its clock each
// second, and with Go's default of 100 the heap grows to twice the live data between
// collections, resident until the next trim; at 25 the collections are more frequent (a few ms
// each, about one a minute at idle) and the heap stays near the live data: 2-3 MB less resident
// than at 50 (docs/benchmarks.md). GOGC in the environment still wins.
const idleGCPercent = 25

// trimMemory returns the heap's free pages to the system once start-up's garbage is gone (the
// full font read to cut the theme font from it, the catalog's parse) and then every interval
// while nobody uses the kiosk: the scavenger would return them too, but slowly, and the memory
// figure the hall watches is the resident set.
func trimMemory(ctx context.Context, interval time.Duration, idle func() bool) {
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if idle() {
				debug.FreeOSMemory()
			}
			t.Reset(interval)
		}
	}
}
