package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startDir holds startBins' builds; TestMain removes it.
var startDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if startDir != "" {
		_ = os.RemoveAll(startDir)
	}
	os.Exit(code)
}

// startBins are the kiosk and the empty window, built once per test binary: linking the kiosk
// takes seconds, and the benchmark function runs several times as b.N grows.
var startBins = sync.OnceValues(func() ([2]string, error) {
	dir, err := os.MkdirTemp("", "citizenhome-start")
	if err != nil {
		return [2]string{}, err
	}
	startDir = dir
	bins := [2]string{filepath.Join(dir, "kiosk"), filepath.Join(dir, "emptywin")}
	for i, pkg := range []string{".", "./testdata/emptywin"} {
		if out, err := exec.Command("go", "build", "-o", bins[i], pkg).CombinedOutput(); err != nil {
			return bins, fmt.Errorf("build %s: %v\n%s", pkg, err, out)
		}
	}
	return bins, nil
})

// BenchmarkStart measures the start of the real binary in demo mode on a real X server (Xvfb,
// from scripts/testenv.sh): from the process started to the log line "home screen drawn", which
// the kiosk writes while the first frame of its home screen is painted (ui.Options.Drawn). The
// floor is an empty Fyne window of the same size started the same way (testdata/emptywin, which
// prints "window drawn" on its first frame), started just before each kiosk start, so that both
// see the same machine load. Each iteration is one start of each; the kiosk keeps one data
// directory, as a kiosk does across restarts, after a first start (reported apart as first-ms)
// has created its store and caches. After each start a screenshot checks that the home screen
// (its red tiles) is really on the screen.
//
// The kiosk's start-up phases (debug log "start phase") of the last run are logged with -v.
// CITIZENHOME_START_BASELINE=path/to/kiosk adds a third start to each iteration, of that
// (older) build with its own data directory: a before/after comparison under the same load
// (base-* figures).
func BenchmarkStart(b *testing.B) {
	display := os.Getenv("CITIZENHOME_TEST_DISPLAY")
	if display == "" {
		b.Skip("no test X server; make bench starts one")
	}
	bins, err := startBins()
	if err != nil {
		b.Fatal(err)
	}
	data := b.TempDir()
	first, _, err := startOnce(display, bins[0], "home screen drawn", true, "-demo", "-debug", "-demo-mqtt", "127.0.0.1:0", "-data", data)
	if err != nil {
		b.Fatal(err)
	}
	base, baseData := os.Getenv("CITIZENHOME_START_BASELINE"), b.TempDir()
	if base != "" {
		if _, _, err := startOnce(display, base, "home screen drawn", true, "-demo", "-demo-mqtt", "127.0.0.1:0", "-data", baseData); err != nil {
			b.Fatal(err)
		}
	}
	var empty, kiosk, ratio, baseMs, baseRatio []float64
	var phases []string
	for i := 0; i < b.N; i++ {
		e, _, err := startOnce(display, bins[1], "window drawn", false)
		if err != nil {
			b.Fatal(err)
		}
		if base != "" {
			k, _, err := startOnce(display, base, "home screen drawn", true, "-demo", "-demo-mqtt", "127.0.0.1:0", "-data", baseData)
			if err != nil {
				b.Fatal(err)
			}
			baseMs = append(baseMs, ms(k))
			baseRatio = append(baseRatio, ms(k)/ms(e))
		}
		k, log, err := startOnce(display, bins[0], "home screen drawn", true, "-demo", "-debug", "-demo-mqtt", "127.0.0.1:0", "-data", data)
		if err != nil {
			b.Fatal(err)
		}
		empty = append(empty, ms(e))
		kiosk = append(kiosk, ms(k))
		ratio = append(ratio, ms(k)/ms(e))
		phases = phases[:0]
		for _, l := range log {
			if strings.Contains(l, "start phase") || strings.Contains(l, "home screen drawn") {
				phases = append(phases, l)
			}
		}
	}
	b.Logf("phases of the last start (ms since main began):\n%s", strings.Join(phases, "\n"))
	b.Logf("ratios: %.2f", ratio)
	b.ReportMetric(ms(first), "first-ms")
	b.ReportMetric(median(empty), "empty-p50-ms")
	b.ReportMetric(median(kiosk), "kiosk-p50-ms")
	b.ReportMetric(slices.Max(kiosk), "kiosk-max-ms")
	b.ReportMetric(median(ratio), "ratio-p50")
	b.ReportMetric(slices.Min(ratio), "ratio-min")
	b.ReportMetric(slices.Max(ratio), "ratio-max")
	if base != "" {
		b.Logf("baseline ratios: %.2f", baseRatio)
		b.ReportMetric(median(baseMs), "base-p50-ms")
		b.ReportMetric(median(baseRatio), "base-ratio-p50")
		b.ReportMetric(slices.Min(baseRatio), "base-ratio-min")
		b.ReportMetric(slices.Max(baseRatio), "base-ratio-max")
	}
	b.ReportMetric(0, "ns/op") // one op is two process starts: the figures above say more
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// startOnce starts bin with args on display, returns how long until a line of its stderr held
// want, with its lines up to then, and stops it (SIGTERM, as systemd does). home: a screenshot
// must then show the home screen.
func startOnce(display, bin, want string, home bool, args ...string) (time.Duration, []string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return 0, nil, err
	}
	found := make(chan time.Duration, 1)
	var lines []string
	var mu sync.Mutex
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	go func() {
		sc := bufio.NewScanner(pipe)
		seen := false
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
			if !seen && strings.Contains(sc.Text(), want) {
				seen = true
				found <- time.Since(start)
			}
		}
	}()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	var d time.Duration
	select {
	case d = <-found:
	case <-ctx.Done():
		stop()
		mu.Lock()
		defer mu.Unlock()
		return 0, nil, fmt.Errorf("%s: no %q in 60 s:\n%s", filepath.Base(bin), want, strings.Join(lines, "\n"))
	}
	var shotErr error
	if home {
		// The frame was painted; its buffer swap may be a moment later: poll briefly.
		deadline := time.Now().Add(5 * time.Second)
		for {
			img, err := grabXWD(display)
			if err == nil && redShare(img) > 0.02 {
				break
			}
			if time.Now().After(deadline) {
				shotErr = fmt.Errorf("%s logged %q but the home screen is not on the screen (%v)", filepath.Base(bin), want, err)
				break
			}
		}
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	return d, slices.Clone(lines), shotErr
}
