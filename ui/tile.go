package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Tile is a large touch button whose text wraps: matter names are long, and in elder mode's
// large text a plain button would need a wider screen than the kiosk has. It is at least
// TouchTarget high. A tile with an icon (the home screen's services) shows it at the left, its
// text left-aligned beside it, the first line as a bold title; a tile without one is centred.
// Lines of Text after the first (a reason the tile cannot be used) are drawn at body size
// under the title, as Sub is.
type Tile struct {
	widget.BaseWidget
	Text string
	// Note is a second line under Text, bold and a size larger (a section's "12 人等候"): read
	// from a step away. Empty: none. Change it with SetNote.
	Note string
	// Sub is a one-line explanation under the title ("排队取号，查看等候人数"); "" for none.
	Sub string
	// IconName is one of the icon constants, drawn at the tile's left; "" for none.
	IconName string
	// MinHeight raises the tile's least height (the home screen's main service); 0: as its
	// text needs, at least TouchTarget.
	MinHeight float32
	OnTapped  func()
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

// colours are the tile's fill, text colour name and outline (nil: none) now.
func (t *Tile) colours() (fill color.Color, text fyne.ThemeColorName, edge color.Color) {
	switch {
	case t.disabled:
		return colOff, theme.ColorNameDisabled, colOffEdge
	case t.Primary:
		return colPrimary, theme.ColorNameForegroundOnPrimary, nil
	}
	return colButton, colorNameInk, colEdge
}

// iconColour is the colour of the tile's icon: white on red, red on a light tile (6.4:1: a
// graphic needs 3:1), grey when disabled.
func (t *Tile) iconColour() color.Color {
	switch {
	case t.disabled:
		return colDisabled
	case t.Primary:
		return color.White
	}
	return colPrimary
}

// CreateRenderer implements fyne.Widget.
func (t *Tile) CreateRenderer() fyne.WidgetRenderer {
	t.ExtendBaseWidget(t)
	bg := canvas.NewRectangle(colButton)
	bg.CornerRadius = 8
	l := widget.NewRichText()
	l.Wrapping = fyne.TextWrapWord
	sub := widget.NewRichText()
	sub.Wrapping = fyne.TextWrapWord
	r := &tileRenderer{t: t, bg: bg, label: l, sub: sub, icon: canvas.NewImageFromResource(nil)}
	r.icon.FillMode = canvas.ImageFillContain
	r.Refresh()
	return r
}

type tileRenderer struct {
	t     *Tile
	bg    *canvas.Rectangle
	label *widget.RichText // the title, and the note under it
	sub   *widget.RichText // the subtitle, or the lines after the title; hidden when none
	icon  *canvas.Image    // hidden when the tile has none
}

// iconSize is the side of the icon: twice the inline icon size (64 px, 96 in elder mode).
func (r *tileRenderer) iconSize() float32 { return 2 * r.t.Theme().Size(theme.SizeNameInlineIcon) }

// textLeft is where the text starts and how wide it is in a tile of width w.
func (r *tileRenderer) textLeft(w float32) (x, width float32) {
	pad := theme.Padding()
	if r.icon.Visible() {
		pad = 2 * theme.Padding()
		x = pad + r.iconSize() + 2*theme.Padding()
		return x, max(0, w-x-pad)
	}
	return pad, max(0, w-2*pad)
}

// textHeight measures the title and the subtitle at width w, one under the other.
func (r *tileRenderer) textHeight(w float32) float32 {
	r.label.Resize(fyne.NewSize(w, r.label.MinSize().Height))
	h := r.label.MinSize().Height
	if r.sub.Visible() {
		r.sub.Resize(fyne.NewSize(w, r.sub.MinSize().Height))
		h += r.sub.MinSize().Height
	}
	return h
}

func (r *tileRenderer) Layout(size fyne.Size) {
	// An outline is drawn centred on the rectangle's edge: inset by half its width, it stays
	// within the tile (a scroll clips what is outside).
	sw := r.bg.StrokeWidth
	r.bg.Move(fyne.NewPos(sw/2, sw/2))
	r.bg.Resize(fyne.NewSize(size.Width-sw, size.Height-sw))
	x, w := r.textLeft(size.Width)
	h := r.textHeight(w)
	// Measured at the width it gets, the text is centred vertically.
	y := (size.Height - h) / 2
	r.label.Move(fyne.NewPos(x, y))
	r.label.Resize(fyne.NewSize(w, r.label.MinSize().Height))
	if r.sub.Visible() {
		r.sub.Move(fyne.NewPos(x, y+r.label.MinSize().Height))
		r.sub.Resize(fyne.NewSize(w, r.sub.MinSize().Height))
	}
	if r.icon.Visible() {
		s := r.iconSize()
		r.icon.Resize(fyne.NewSquareSize(s))
		r.icon.Move(fyne.NewPos(2*theme.Padding(), (size.Height-s)/2))
	}
}

func (r *tileRenderer) MinSize() fyne.Size {
	x, w := r.textLeft(r.t.Size().Width)
	pad := theme.Padding()
	h := r.label.MinSize().Height
	if r.sub.Visible() {
		h += r.sub.MinSize().Height
	}
	if r.t.Size().Width > 0 {
		h = r.textHeight(w)
	}
	h += 2 * pad
	var minW float32 = TouchTarget
	if r.icon.Visible() {
		h = max(h, r.iconSize()+4*pad)
		minW = max(minW, x+TouchTarget)
	}
	return fyne.NewSize(minW, max(TouchTarget, r.t.MinHeight, h))
}

func (r *tileRenderer) Refresh() {
	t := r.t
	fill, textColour, edge := t.colours()
	r.bg.FillColor = fill
	r.bg.StrokeWidth, r.bg.StrokeColor = 0, nil
	if edge != nil {
		r.bg.StrokeWidth, r.bg.StrokeColor = edgeWidth, edge
	}
	if t.Chosen {
		r.bg.StrokeWidth, r.bg.StrokeColor = 5, colText
	}
	align := fyne.TextAlignCenter
	if t.IconName != "" {
		align = fyne.TextAlignLeading
		r.icon.Resource = icon(t.IconName, t.iconColour())
		r.icon.Show()
	} else {
		r.icon.Hide()
	}
	style := widget.RichTextStyle{Alignment: align, ColorName: textColour, Inline: true}
	title, rest, _ := strings.Cut(t.Text, "\n")
	sub := t.Sub
	if rest != "" {
		// The reason a tile cannot be used replaces its subtitle.
		sub = rest
	}
	titleStyle := style
	if t.IconName != "" || sub != "" {
		// A title over an explanation: bold and a size larger, so the two read apart.
		titleStyle.TextStyle.Bold = true
		titleStyle.SizeName = theme.SizeNameSubHeadingText
	}
	segs := []widget.RichTextSegment{&widget.TextSegment{Text: title, Style: titleStyle}}
	if t.Note != "" {
		// The note is a paragraph of its own, in the tile's text colour (the same contrast).
		titleStyle.Inline = false
		segs[0] = &widget.TextSegment{Text: title, Style: titleStyle}
		note := style
		note.SizeName = theme.SizeNameSubHeadingText
		note.TextStyle.Bold = true
		segs = append(segs, &widget.TextSegment{Text: t.Note, Style: note})
	}
	r.label.Segments = segs
	if sub != "" {
		r.sub.Segments = []widget.RichTextSegment{&widget.TextSegment{Text: sub, Style: style}}
		r.sub.Show()
	} else {
		r.sub.Segments = nil
		r.sub.Hide()
	}
	r.bg.Refresh()
	r.label.Refresh()
	r.sub.Refresh()
	r.icon.Refresh()
	r.Layout(t.Size())
}

func (r *tileRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.bg, r.icon, r.label, r.sub}
}
func (r *tileRenderer) Destroy() {}
