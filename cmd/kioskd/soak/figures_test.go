package soak

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// findings collects what the soak found wrong, by kind: the first few of each kind are logged
// when they happen (with their time, to find them in kioskd's log), and the test fails at the
// end with a count per kind. Safe for concurrent use.
type findings struct {
	t     *testing.T
	mu    sync.Mutex
	kinds map[string]*finding
}

type finding struct {
	n     int
	first []string
}

const findingsShown = 5

func newFindings(t *testing.T) *findings { return &findings{t: t, kinds: map[string]*finding{}} }

func (f *findings) add(kind, format string, args ...any) {
	msg := time.Now().Format("15:04:05.000 ") + fmt.Sprintf(format, args...)
	f.mu.Lock()
	k := f.kinds[kind]
	if k == nil {
		k = &finding{}
		f.kinds[kind] = k
	}
	k.n++
	show := k.n <= findingsShown
	if show {
		k.first = append(k.first, msg)
	}
	f.mu.Unlock()
	if show {
		f.t.Logf("FINDING %s: %s", kind, msg)
	}
}

// count returns how many findings of kind there are.
func (f *findings) count(kind string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k := f.kinds[kind]; k != nil {
		return k.n
	}
	return 0
}

// summary lists the findings by kind, "" when there are none.
func (f *findings) summary() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, kind := range slices.Sorted(maps.Keys(f.kinds)) {
		k := f.kinds[kind]
		fmt.Fprintf(&b, "%s: %d\n", kind, k.n)
		for _, m := range k.first {
			fmt.Fprintf(&b, "    %s\n", m)
		}
	}
	return b.String()
}

// counter counts by name. Safe for concurrent use.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) inc(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[name]++
}

func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

func (c *counter) get(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[name]
}

// String is "a 3, b 1", sorted by name.
func (c *counter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c.m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, c.m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// timings keeps durations by name. Safe for concurrent use.
type timings struct {
	mu sync.Mutex
	m  map[string][]time.Duration
}

func (t *timings) add(name string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string][]time.Duration{}
	}
	t.m[name] = append(t.m[name], d)
}

func (t *timings) names() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Sorted(maps.Keys(t.m))
}

func (t *timings) get(name string) []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]time.Duration(nil), t.m[name]...)
}

// quantile is the q-quantile of sorted ds by the nearest-rank method.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// spread is "n=12 p50=120ms p99=1.2s max=1.3s" ("n=0" for none).
func spread(ds []time.Duration) string {
	if len(ds) == 0 {
		return "n=0"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("n=%d p50=%v p99=%v max=%v", len(s), r(quantile(s, 0.5)), r(quantile(s, 0.99)), r(s[len(s)-1]))
}

// Memory flatness: kioskd's RSS is sampled all along; after a warm-up, the median of the last
// quarter of the samples must not exceed the median of the first quarter by more than
// rssGrowthRatio and rssGrowthSlack together. A leak shows as a steady climb; a Go heap that
// settles to its working size does not.
const (
	rssGrowthRatio = 1.20
	rssGrowthSlack = 4 << 10 // KiB
)

// flatness compares the first and last quarter of the samples taken after warm, for one figure.
type flatness struct {
	n                 int
	first, last, peak int64 // medians of the quarters, and the maximum after warm-up
}

func flat(samples []procSample, warm time.Time, fig func(procSample) int64) (flatness, bool) {
	var v []int64
	for _, s := range samples {
		if !s.At.Before(warm) {
			v = append(v, fig(s))
		}
	}
	if len(v) < 8 {
		return flatness{n: len(v)}, false
	}
	q := len(v) / 4
	med := func(x []int64) int64 {
		y := slices.Clone(x)
		sort.Slice(y, func(i, j int) bool { return y[i] < y[j] })
		return y[len(y)/2]
	}
	return flatness{n: len(v), first: med(v[:q]), last: med(v[len(v)-q:]), peak: slices.Max(v)}, true
}

// rssFlat reports whether the RSS figures meet the tolerance.
func (f flatness) rssFlat() bool {
	return float64(f.last) <= float64(f.first)*rssGrowthRatio+rssGrowthSlack
}
