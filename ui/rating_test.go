package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
)

// The satisfied and the dissatisfied answers are further apart than neighbouring answers, in a
// row and in elder mode's column; the cells stay equal and fill the space.
func TestSplitRowWiderGapBetweenOpposites(t *testing.T) {
	for _, vertical := range []bool{false, true} {
		objs := make([]fyne.CanvasObject, len(levelsShown))
		for i := range objs {
			r := canvas.NewRectangle(colButton)
			r.SetMinSize(fyne.NewSize(TouchTarget, TouchTarget))
			objs[i] = r
		}
		l := &splitRow{split: goodLevels, gap: 4 * theme.Padding(), vertical: vertical}
		size := fyne.NewSize(1000, 120)
		if vertical {
			size = fyne.NewSize(400, 600)
		}
		min := l.MinSize(objs)
		if min.Width < TouchTarget || min.Height < TouchTarget {
			t.Errorf("vertical %v: min size %v below the touch target", vertical, min)
		}
		l.Layout(objs, size)
		start := func(o fyne.CanvasObject) float32 {
			if vertical {
				return o.Position().Y
			}
			return o.Position().X
		}
		extent := func(o fyne.CanvasObject) float32 {
			if vertical {
				return o.Size().Height
			}
			return o.Size().Width
		}
		for i := 1; i < len(objs); i++ {
			gap := start(objs[i]) - start(objs[i-1]) - extent(objs[i-1])
			want := theme.Padding()
			if i == goodLevels {
				want = 4 * theme.Padding()
			}
			if d := gap - want; d < -0.01 || d > 0.01 {
				t.Errorf("vertical %v: gap before answer %d is %v, want %v", vertical, i, gap, want)
			}
			if d := extent(objs[i]) - extent(objs[0]); d < -0.01 || d > 0.01 {
				t.Errorf("vertical %v: cell %d is %v, cell 0 %v", vertical, i, extent(objs[i]), extent(objs[0]))
			}
		}
		last := objs[len(objs)-1]
		total := size.Width
		if vertical {
			total = size.Height
		}
		if end := start(last) + extent(last); end < total-0.01 || end > total+0.01 {
			t.Errorf("vertical %v: the row ends at %v of %v", vertical, end, total)
		}
	}
	if levelsShown[goodLevels-1].Bad() || !levelsShown[goodLevels].Bad() {
		t.Error("the wide gap is not between the satisfied and the dissatisfied answers")
	}
}
