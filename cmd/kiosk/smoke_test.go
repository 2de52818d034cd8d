package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestDemoShowsHomeScreen starts the real binary in demo mode on a real X server (Xvfb, started by
// scripts/testenv.sh) and checks from a screenshot of the X server that the home screen is drawn:
// the primary buttons' red covers a good part of the screen, which a blank or black window does not.
func TestDemoShowsHomeScreen(t *testing.T) {
	display := os.Getenv("CITIZENHOME_TEST_DISPLAY")
	if display == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CITIZENHOME_TEST_DISPLAY is not set: run the tests through make test (scripts/testenv.sh)")
		}
		t.Skip("no test X server; make test starts one")
	}
	for _, tool := range []string{"xwd", "convert"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s missing: scripts/deps.sh test installs it", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kiosk")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-demo", "-data", filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "XDG_DATA_HOME="+dir)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cancel()
		<-exited
	}()

	deadline := time.Now().Add(90 * time.Second)
	var last float64
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("kiosk exited early: %v\n%s", err, logs.String())
		default:
		}
		img, err := screenshot(display)
		if err != nil {
			t.Fatal(err)
		}
		last = redShare(img)
		if last > 0.02 {
			if err := os.WriteFile(filepath.Join(os.TempDir(), "citizenhome-smoke.png"), encodePNG(img), 0o644); err != nil {
				t.Log(err)
			}
			simPanelOpens(t, display, cmd.Process.Pid, deadline)
			return
		}
		time.Sleep(200 * time.Millisecond) // polling the X server, not waiting for an outcome
	}
	t.Fatalf("home screen not drawn within 90 s (red share %.4f)\n%s", last, logs.String())
}

// simPanelOpens checks that the demo's simulator panel, a second window which the kiosk opens
// once its home screen is drawn, appears (found by its title and the kiosk's pid).
func simPanelOpens(t *testing.T, display string, pid int, deadline time.Time) {
	t.Helper()
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Fatal("xdotool missing: scripts/deps.sh test installs it")
	}
	for {
		find := exec.Command("xdotool", "search", "--all", "--pid", fmt.Sprint(pid), "--name", "模拟设备")
		find.Env = append(os.Environ(), "DISPLAY="+display)
		if out, err := find.Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the home screen is drawn, but the simulator panel never opened")
		}
		time.Sleep(100 * time.Millisecond) // polling the X server, not waiting for an outcome
	}
}

func screenshot(display string) (image.Image, error) {
	xwd := exec.Command("xwd", "-root", "-silent", "-display", display)
	conv := exec.Command("convert", "xwd:-", "png:-")
	pipe, err := xwd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	conv.Stdin = pipe
	var out bytes.Buffer
	conv.Stdout = &out
	if err := conv.Start(); err != nil {
		return nil, err
	}
	if err := xwd.Run(); err != nil {
		return nil, err
	}
	if err := conv.Wait(); err != nil {
		return nil, err
	}
	return png.Decode(&out)
}

// redShare is the share of pixels close to the theme's primary red (#A51C20).
func redShare(img image.Image) float64 {
	b := img.Bounds()
	n, red := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			n++
			if near(r>>8, 0xA5) && near(g>>8, 0x1C) && near(bl>>8, 0x20) {
				red++
			}
		}
	}
	return float64(red) / float64(n)
}

func near(v uint32, want int) bool { d := int(v) - want; return d > -24 && d < 24 }

func encodePNG(img image.Image) []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}
