package main

import (
	"os/exec"
	"strings"
	"testing"
)

// kioskd runs on window PCs and kiosks without a screen stack: it must not link Fyne (or GL).
func TestNoFyne(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "fyne.io/") || strings.Contains(dep, "go-gl/") {
			t.Errorf("kioskd links %s", dep)
		}
	}
	if !strings.Contains(string(out), "citizenhome/kiosk\n") {
		t.Error("go list -deps did not list the core: the check would pass vacuously")
	}
}
