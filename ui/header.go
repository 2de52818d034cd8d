package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// headerLayout lays out the header's row: the hall's name at the left, the toggles (大字模式,
// English) at the right, the clock centred between them. The name
// takes what it needs of the width the clock and the toggles leave; when that is not enough (a
// long English name in elder mode's large text on a portrait screen) it wraps and the row grows
// in height, instead of the screen in width. When the name fits, the row is laid out exactly as
// a border layout with the name left, the toggles right and the clock centred would.
//
// Its objects are, in this order: the name (a wrapping *tapLabel), the clock (centred in its
// own container) and the toggles. One layout serves every header the UI builds: it remembers
// the width it was last given, and the window's width then, so that the row's height is right
// in the first pass after a language or text size change or a turn of the screen, not one
// frame later.
type headerLayout struct {
	width  float32 // the width last laid out; 0 before the first layout
	canvas float32 // the window's width then; 0 when unknown
}

// nameWidth is the width the name gets in a row of width w: what it needs on one line, or what
// the clock and the toggles leave, whichever is less; never less than its wrapped minimum.
func (l *headerLayout) nameWidth(objs []fyne.CanvasObject, w float32) float32 {
	name, clock, toggles := objs[0], objs[1], objs[2]
	hw := naturalWidth(name)
	if w > 0 {
		hw = min(hw, w-toggles.MinSize().Width-clock.MinSize().Width-2*theme.Padding())
	}
	return max(hw, name.MinSize().Width)
}

func (l *headerLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) != 3 {
		return
	}
	l.width, l.canvas = size.Width, canvasWidth(objs[0])
	name, clock, toggles := objs[0], objs[1], objs[2]
	pad := theme.Padding()
	tw := toggles.MinSize().Width
	hw := l.nameWidth(objs, size.Width)
	name.Resize(fyne.NewSize(hw, size.Height))
	name.Move(fyne.NewPos(0, 0))
	// The toggles keep their height in a row the name made higher, centred like the clock.
	th := min(toggles.MinSize().Height, size.Height)
	toggles.Resize(fyne.NewSize(tw, th))
	toggles.Move(fyne.NewPos(size.Width-tw, (size.Height-th)/2))
	clock.Resize(fyne.NewSize(size.Width-hw-tw-2*pad, size.Height))
	clock.Move(fyne.NewPos(hw+pad, 0))
}

// MinSize is as narrow as the name can wrap, and as high as the name needs at the width the row
// is about to get: the last layout's, changed by as much as the window's width changed since
// (on one line before any layout). The name is resized to its width here already: a wrapping
// label knows its height only at the width it has.
func (l *headerLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if len(objs) != 3 {
		return fyne.Size{}
	}
	name := objs[0]
	w := l.width
	if c := canvasWidth(name); w > 0 && c > 0 && l.canvas > 0 {
		w += c - l.canvas
	}
	if hw := l.nameWidth(objs, w); name.Size().Width != hw {
		name.Resize(fyne.NewSize(hw, name.Size().Height))
	}
	var s fyne.Size
	for _, o := range objs {
		m := o.MinSize()
		s.Width += m.Width
		s.Height = max(s.Height, m.Height)
	}
	s.Width += 2 * theme.Padding()
	return s
}

// naturalWidth is the width of the name on one line, as an unwrapped label would need.
func naturalWidth(o fyne.CanvasObject) float32 {
	l, ok := o.(*tapLabel)
	if !ok {
		return o.MinSize().Width
	}
	th := l.Theme()
	size := th.Size(theme.SizeNameText)
	if l.SizeName != "" {
		size = th.Size(l.SizeName)
	}
	w := fyne.MeasureText(l.Text, size, l.TextStyle).Width
	// The label's inner padding either side: exactly what an unwrapped label asks for, so that
	// the clock stands where it did before the name could wrap (the reference images), and the
	// same measure the label wraps by, so that a name that fits does not wrap.
	return w + 2*th.Size(theme.SizeNameInnerPadding)
}

// canvasWidth is the width of o's window; 0 when o is not on one yet.
func canvasWidth(o fyne.CanvasObject) float32 {
	c := fyne.CurrentApp().Driver().CanvasForObject(o)
	if c == nil {
		return 0
	}
	return c.Size().Width
}

// newHeader builds the header's row from its parts with layout l (see headerLayout). The name
// (tapLabel) and the clock (bandText) draw their text white themselves, for the red band.
func newHeader(l *headerLayout, name *tapLabel, clock, toggles fyne.CanvasObject) *fyne.Container {
	return container.New(l, name, container.NewCenter(clock), toggles)
}

// bandText is a one-segment text in white for the red header band. The colour is the segment's,
// not a theme override's: Fyne parses the theme font anew for every override scope it meets and
// never lets the parse go, so a header or dialog rebuilt under an override cost megabytes each
// time (a language switch, every idle warning).
func bandText() *widget.RichText {
	return widget.NewRichText(&widget.TextSegment{Style: widget.RichTextStyle{
		ColorName: theme.ColorNameForegroundOnPrimary, Inline: true, SizeName: theme.SizeNameText}})
}
