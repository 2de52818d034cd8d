// emptywin is the floor of BenchmarkStart: an empty Fyne window of the demo kiosk's size, which
// prints "window drawn" when its first frame is painted, detected as the kiosk detects its home
// screen (a 1×1 transparent raster painted last; ui's drawnMarker). Only the benchmark builds
// it (testdata is outside ./...).
package main

import (
	"fmt"
	"image"
	"os"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
)

func main() {
	started := time.Now()
	a := app.NewWithID("cn.citizenhome.emptywin")
	w := a.NewWindow("empty")
	var once sync.Once
	r := canvas.NewRaster(func(int, int) image.Image {
		once.Do(func() { fmt.Fprintf(os.Stderr, "window drawn ms=%d\n", time.Since(started).Milliseconds()) })
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	})
	r.Resize(fyne.NewSize(1, 1))
	w.SetContent(container.NewWithoutLayout(r))
	w.Resize(fyne.NewSize(720, 1280))
	w.ShowAndRun()
}
