package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Tile is a large touch button whose text wraps: matter names are long, and in elder mode's
// large text a plain button would need a wider screen than the kiosk has. It is at least
// TouchTarget high.
type Tile struct {
	widget.BaseWidget
	Text string
	// Note is a second line under Text, bold and a size larger (a section's "12 人等候"): read
	// from a step away. Empty: none. Change it with SetNote.
	Note     string
	OnTapped func()
	// Activity is told of every tap, enabled or not: a tap shows someone is there.
	Activity func()
	Primary  bool
	// Chosen draws a thick dark outline: an answer picked, shown by shape as well as by colour
	// (the caller also marks its text with ✓).
	Chosen   bool
	disabled bool
}

// NewTile returns an enabled tile.
func NewTile(text string, primary bool, tap func()) *Tile {
	t := &Tile{Text: text, OnTapped: tap, Primary: primary}
	t.ExtendBaseWidget(t)
	return t
}

// SetNote replaces the tile's second line ("" removes it) and redraws the tile if it changed.
func (t *Tile) SetNote(note string) {
	if note == t.Note {
		return
	}
	t.Note = note
	t.Refresh()
}

// Disable greys the tile out; taps do nothing.
func (t *Tile) Disable() { t.disabled = true; t.Refresh() }

// Disabled reports whether the tile is greyed out.
func (t *Tile) Disabled() bool { return t.disabled }

// Tapped implements fyne.Tappable.
func (t *Tile) Tapped(*fyne.PointEvent) {
	if t.Activity != nil {
		t.Activity()
	}
	if !t.disabled && t.OnTapped != nil {
		t.OnTapped()
	}
}

// CreateRenderer implements fyne.Widget.
func (t *Tile) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(colButton)
	bg.CornerRadius = 6
	l := widget.NewRichText()
	l.Wrapping = fyne.TextWrapWord
	r := &tileRenderer{t: t, bg: bg, label: l}
	r.Refresh()
	return r
}

type tileRenderer struct {
	t     *Tile
	bg    *canvas.Rectangle
	label *widget.RichText
}

func (r *tileRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	pad := theme.Padding()
	inner := fyne.NewSize(size.Width-2*pad, r.label.MinSize().Height)
	r.label.Resize(inner)
	// Measure at the width it gets, then centre vertically.
	h := r.label.MinSize().Height
	r.label.Move(fyne.NewPos(pad, (size.Height-h)/2))
}

func (r *tileRenderer) MinSize() fyne.Size {
	m := r.label.MinSize()
	return fyne.NewSize(TouchTarget, max(TouchTarget, m.Height+2*theme.Padding()))
}

func (r *tileRenderer) Refresh() {
	style := widget.RichTextStyle{Alignment: fyne.TextAlignCenter, ColorName: theme.ColorNameForeground, Inline: true}
	switch {
	case r.t.disabled:
		r.bg.FillColor = color.NRGBA{0xF4, 0xF4, 0xF4, 0xFF}
		style.ColorName = theme.ColorNameDisabled
	case r.t.Primary:
		r.bg.FillColor = colPrimary
		style.ColorName = theme.ColorNameForegroundOnPrimary
	default:
		r.bg.FillColor = colButton
	}
	r.bg.StrokeWidth, r.bg.StrokeColor = 0, nil
	if r.t.Chosen {
		r.bg.StrokeWidth, r.bg.StrokeColor = 5, colText
	}
	segs := []widget.RichTextSegment{&widget.TextSegment{Text: r.t.Text, Style: style}}
	if r.t.Note != "" {
		// The note is a paragraph of its own, in the tile's text colour (the same contrast).
		style.Inline = false
		segs[0] = &widget.TextSegment{Text: r.t.Text, Style: style}
		note := style
		note.Inline = true
		note.SizeName = theme.SizeNameSubHeadingText
		note.TextStyle.Bold = true
		segs = append(segs, &widget.TextSegment{Text: r.t.Note, Style: note})
	}
	r.label.Segments = segs
	r.bg.Refresh()
	r.label.Refresh()
}

func (r *tileRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.label} }
func (r *tileRenderer) Destroy()                     {}
