package ui

import (
	"image"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
)

// drawnMarker is a transparent 1×1 raster that calls drawn once, when a painter first asks for
// its pixels. Fyne paints a window's objects in tree order, and the marker comes last (the top
// of a stack over the content), so by then the whole frame is painted; only the buffer swap is
// left. It adds no pixel: a transparent pixel changes nothing it is drawn over.
//
// It sits in a container without layout so that it stays 1×1: a raster the size of the window
// would allocate a window's worth of pixels for nothing.
func drawnMarker(drawn func()) fyne.CanvasObject {
	var once sync.Once
	r := canvas.NewRaster(func(w, h int) image.Image {
		once.Do(drawn)
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	})
	r.Resize(fyne.NewSize(1, 1))
	return container.NewWithoutLayout(r)
}
