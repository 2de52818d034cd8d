package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Style is how a control looks, by what it does.
type Style int

const (
	// Secondary is a light control with a dark outline and dark text: navigation, keys, answers
	// that are not the screen's main one.
	Secondary Style = iota
	// Primary is filled with the government red, white text: the screen's main action.
	Primary
	// Danger is a destructive action (quit, reset, lock, and their confirmation): outlined and
	// written in dark red, and marked with the alert icon, so that it is told by shape too.
	Danger
	// OnBand is a control on the red header band: a white key with dark text, the fill being its
	// edge against the red.
	OnBand
)

// edgeWidth is the outline of a secondary or danger control: thick enough to read as an edge
// from a step away, not just as a line.
const edgeWidth = 3

// Button is a Fyne button in one of the kiosk's styles, optionally with one of our icons before
// its text. It is at least TouchTarget high and wide. Its text, tap handler, enabling and
// alignment are the embedded widget.Button's.
type Button struct {
	widget.Button
	Style Style
	// IconName is one of the icon constants, drawn in the text's colour; "" for none (Fyne's
	// Icon field is set from it on every refresh).
	IconName string
	// SizeName is the text's size name; "" for the theme's text size.
	SizeName fyne.ThemeSizeName
}

// NewButton returns a button in style s; iconName may be "".
func NewButton(label string, s Style, iconName string, tap func()) *Button {
	b := &Button{Style: s, IconName: iconName}
	b.Text = label
	b.OnTapped = tap
	if s == Primary {
		b.Importance = widget.HighImportance
	}
	b.ExtendBaseWidget(b)
	return b
}

// colours are the fill, the text's colour name and the outline (nil: none) of the button now.
func (b *Button) colours() (fill color.Color, text fyne.ThemeColorName, edge color.Color) {
	if b.Disabled() {
		if b.Style == OnBand {
			return colOff, theme.ColorNameDisabled, nil // the light fill is its edge on the red
		}
		return colOff, theme.ColorNameDisabled, colOffEdge
	}
	switch b.Style {
	case Primary:
		return colPrimary, theme.ColorNameForegroundOnPrimary, nil
	case Danger:
		return colDangerFill, colorNameDanger, colDanger
	case OnBand:
		return colBackground, colorNameInk, nil
	}
	return colButton, colorNameInk, colEdge
}

// CreateRenderer implements fyne.Widget: Fyne's button, with the style's colours and an
// outline drawn over it.
func (b *Button) CreateRenderer() fyne.WidgetRenderer {
	b.ExtendBaseWidget(b)
	b.setIcon()
	edge := canvas.NewRectangle(color.Transparent)
	r := &styledRenderer{b: b, inner: b.Button.CreateRenderer(), edge: edge}
	r.style()
	return r
}

// setIcon draws the icon in the colour the text has now (a disabled button greys both).
func (b *Button) setIcon() {
	if b.IconName == "" {
		b.Icon = nil
		return
	}
	_, text, _ := b.colours()
	b.Icon = icon(b.IconName, palette.Color(text, theme.VariantLight))
}

// palette is the kiosk's colours by name, whatever theme a button is drawn in (a theme override
// knows nothing of the kiosk's own names).
var palette = &Theme{}

type styledRenderer struct {
	b     *Button
	inner fyne.WidgetRenderer
	edge  *canvas.Rectangle
}

// style applies the style over what Fyne's renderer chose (it knows only its importances).
func (r *styledRenderer) style() {
	fill, text, edge := r.b.colours()
	radius := r.b.Theme().Size(theme.SizeNameInputRadius)
	for i, o := range r.inner.Objects() {
		switch o := o.(type) {
		case *canvas.Rectangle:
			if i == 0 { // Fyne's renderer draws the background first, then the tap's shade
				o.FillColor = fill
				o.Refresh()
			}
		case *widget.RichText:
			for _, s := range o.Segments {
				if t, ok := s.(*widget.TextSegment); ok {
					t.Style.ColorName = text
					if r.b.SizeName != "" {
						t.Style.SizeName = r.b.SizeName
					}
				}
			}
			o.Refresh()
		}
	}
	r.edge.CornerRadius = radius
	if edge == nil {
		r.edge.StrokeWidth, r.edge.StrokeColor = 0, nil
	} else {
		r.edge.StrokeWidth, r.edge.StrokeColor = edgeWidth, edge
	}
	r.edge.Refresh()
}

func (r *styledRenderer) Layout(s fyne.Size) {
	r.inner.Layout(s)
	// The outline is drawn centred on the rectangle's edge: inset by half its width, it ends
	// where the button's fill does.
	sw := r.edge.StrokeWidth
	r.edge.Resize(fyne.NewSize(s.Width-sw, s.Height-sw))
	r.edge.Move(fyne.NewPos(sw/2, sw/2))
}

func (r *styledRenderer) MinSize() fyne.Size {
	m := r.inner.MinSize()
	return fyne.NewSize(max(m.Width, TouchTarget), max(m.Height, TouchTarget))
}

func (r *styledRenderer) Refresh() {
	r.b.setIcon()
	r.inner.Refresh()
	r.style()
	r.Layout(r.b.Size())
}

func (r *styledRenderer) Objects() []fyne.CanvasObject {
	return append(append([]fyne.CanvasObject(nil), r.inner.Objects()...), r.edge)
}

func (r *styledRenderer) Destroy() { r.inner.Destroy() }
