package ui

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestCaptureScreens writes PNGs of key screens, rendered by Fyne's software painter with the CJK
// font, to $CITIZENHOME_CAPTURE_DIR, for README screenshots and for looking at a change.
func TestCaptureScreens(t *testing.T) {
	dir := os.Getenv("CITIZENHOME_CAPTURE_DIR")
	if dir == "" {
		t.Skip("set CITIZENHOME_CAPTURE_DIR to write screen captures")
	}
	font, err := LoadFont("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, thursday, NewTheme(font))
	shot := func(name string) {
		img := f.win.Canvas().Capture()
		out, err := os.Create(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		if err := png.Encode(out, img); err != nil {
			t.Fatal(err)
		}
	}
	shot("home")
	f.tap(t, "办事指南")
	for _, k := range "SFZ" {
		f.tap(t, string(k))
	}
	shot("guide")
	f.tap(t, "居民身份证换领")
	shot("guide-detail")
	f.tap(t, "取号办理此事项")
	shot("confirm")
	f.tap(t, "确认取号")
	shot("ticket-done")
	f.tap(t, "完成")
	f.tap(t, "大字模式")
	shot("elder-home")
}
