package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkUI measures the real binary on a real X server (Xvfb, from scripts/testenv.sh), in
// demo mode: cold start (process start to the home screen drawn) and a tap to the next screen
// drawn (xdotool click to the first screenshot that differs), for several taps through the ticket
// flow. Screenshots are taken as fast as xwd allows; their period bounds the resolution and is
// reported too.
func BenchmarkUI(b *testing.B) {
	display := os.Getenv("CITIZENHOME_TEST_DISPLAY")
	if display == "" {
		b.Skip("no test X server; make bench starts one")
	}
	if _, err := exec.LookPath("xdotool"); err != nil {
		b.Skip("xdotool missing (scripts/deps.sh test installs it)")
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "kiosk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	var cold, taps, period []time.Duration
	for i := 0; i < b.N; i++ {
		c, t, p, err := uiCycle(bin, display, filepath.Join(dir, fmt.Sprint(i)))
		if err != nil {
			b.Fatal(err)
		}
		cold = append(cold, c)
		taps = append(taps, t...)
		period = append(period, p)
	}
	report := func(name string, d []time.Duration) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Milliseconds()), name+"-p50-ms")
		b.ReportMetric(float64(d[(len(d)*95+99)/100-1].Milliseconds()), name+"-p95-ms")
	}
	report("cold", cold)
	report("tap", taps)
	report("shot", period)
}

// uiCycle starts the kiosk, waits for the home screen, then taps 取号, the first section and
// the first matter.
func uiCycle(bin, display, data string) (cold time.Duration, taps []time.Duration, shot time.Duration, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-demo", "-data", data)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, nil, 0, err
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	var img image.Image
	deadline := start.Add(60 * time.Second)
	for {
		if time.Now().After(deadline) {
			return 0, nil, 0, fmt.Errorf("home not drawn in 60 s\n%s", logs.String())
		}
		if img, err = grabXWD(display); err != nil {
			return 0, nil, 0, err
		}
		if redShare(img) > 0.02 {
			break
		}
	}
	cold = time.Since(start)
	var x, y int
	for i := 0; i < 3; i++ {
		// Matters are grey tiles where the sections' red ones were: tap the same spot.
		if i < 2 {
			var ok bool
			if x, y, ok = firstRedTile(img); !ok {
				return cold, taps, shot, fmt.Errorf("tap %d: no red tile on screen", i)
			}
		} else {
			x += 40 // a move between taps, as a finger makes; a click without one may not register
		}
		area := image.Rect(0, 0, 720, 1280).Intersect(img.Bounds())
		before := region(img, area)
		t0 := time.Now()
		click := exec.Command("xdotool", "mousemove", "--sync", fmt.Sprint(x), fmt.Sprint(y), "click", "1")
		click.Env = append(os.Environ(), "DISPLAY="+display)
		if out, err := click.CombinedOutput(); err != nil {
			return cold, taps, shot, fmt.Errorf("xdotool: %v %s", err, out)
		}
		// xdotool's own time is part of what a touch costs, so it stays in the figure.
		n := 0
		for {
			if time.Since(t0) > 10*time.Second {
				_ = os.WriteFile(filepath.Join(os.TempDir(), "citizenhome-bench-fail.png"), encodePNG(img), 0o644)
				return cold, taps, shot, fmt.Errorf("tap %d at (%d,%d): screen did not change (screenshot in %s)", i, x, y, os.TempDir())
			}
			if img, err = grabXWD(display); err != nil {
				return cold, taps, shot, err
			}
			n++
			if !bytes.Equal(before, region(img, area)) {
				break
			}
		}
		d := time.Since(t0)
		taps = append(taps, d)
		shot = max(shot, d/time.Duration(n))
		// Let the new screen settle (a second frame) before the next tap reads it.
		time.Sleep(200 * time.Millisecond)
		if img, err = grabXWD(display); err != nil {
			return cold, taps, shot, err
		}
	}
	return cold, taps, shot, nil
}

// firstRedTile finds the centre of the first primary-red tile, scanning from the top.
func firstRedTile(img image.Image) (int, int, bool) {
	bnd := img.Bounds()
	for y := 200; y < bnd.Max.Y; y += 4 {
		for x := 0; x < bnd.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, 0xB0) && near(g>>8, 0x1E) && near(bl>>8, 0x23) {
				return x + 60, y + 30, true
			}
		}
	}
	return 0, 0, false
}
