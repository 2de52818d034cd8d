package ui

// What the tests of the rendered screens (contrast_test.go) measure: contrast from the pixels of
// a capture, and where on it the texts and the controls are, from the Fyne object tree.

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// relLuminance is the WCAG 2.x relative luminance of c (sRGB; a pixel that is not opaque is
// taken as drawn over white, as the kiosk's background is).
func relLuminance(c color.Color) float64 {
	n := opaque(c)
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(n.R) + 0.7152*lin(n.G) + 0.0722*lin(n.B)
}

// contrastRatio is WCAG 2.x's (L1 + 0.05) / (L2 + 0.05), the lighter over the darker: 1 to 21.
func contrastRatio(a, b color.Color) float64 {
	la, lb := relLuminance(a), relLuminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// opaque is c as an opaque NRGBA, composed over white.
func opaque(c color.Color) color.NRGBA {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	if n.A == 0xFF {
		return n
	}
	over := func(v uint8) uint8 { return uint8((int(v)*int(n.A) + 255*(255-int(n.A)) + 127) / 255) }
	return color.NRGBA{over(n.R), over(n.G), over(n.B), 0xFF}
}

// pixelAt reads img's pixels as opaque colours; straight from the buffer for a capture (an
// *image.NRGBA), which is many times faster than At under the race detector.
func pixelAt(img image.Image) func(x, y int) color.NRGBA {
	if n, ok := img.(*image.NRGBA); ok {
		return func(x, y int) color.NRGBA {
			i := n.PixOffset(x, y)
			c := color.NRGBA{n.Pix[i], n.Pix[i+1], n.Pix[i+2], n.Pix[i+3]}
			if c.A == 0xFF {
				return c
			}
			return opaque(c)
		}
	}
	return func(x, y int) color.NRGBA { return opaque(img.At(x, y)) }
}

// hex is c as #RRGGBB, for messages.
func hex(c color.NRGBA) string { return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B) }

// glyphPercentile says which of a text's glyph pixels, ordered by their contrast with the
// background, gives the text's contrast: not the highest (one stray pixel of something else in
// the box would decide), and high enough that the anti-aliased edges of thin strokes, which are
// most of the pixels of small text, do not.
const glyphPercentile = 0.95

// glyphMinContrast is the contrast with the background under which a pixel of a text's box is
// taken for background still (the faintest anti-aliasing).
const glyphMinContrast = 1.1

// textContrast measures the text drawn in r of img: the background is the most frequent colour
// in r, the glyphs' colour the pixel at glyphPercentile of those that differ from it (by
// glyphMinContrast or more), ordered by their contrast with it. ok is false when r is empty or
// holds nothing but background: no text is drawn there.
func textContrast(img image.Image, r image.Rectangle) (ratio float64, bg, fg color.NRGBA, ok bool) {
	r = r.Intersect(img.Bounds())
	if r.Empty() {
		return 0, bg, fg, false
	}
	bg = dominant(img, []image.Rectangle{r})
	type px struct {
		c     color.NRGBA
		ratio float64
	}
	var ink []px
	at := pixelAt(img)
	ratios := map[color.NRGBA]float64{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := at(x, y)
			q, seen := ratios[c]
			if !seen {
				q = contrastRatio(c, bg)
				ratios[c] = q
			}
			if q >= glyphMinContrast {
				ink = append(ink, px{c, q})
			}
		}
	}
	if len(ink) == 0 {
		return 1, bg, bg, false
	}
	sort.Slice(ink, func(i, j int) bool { return ink[i].ratio < ink[j].ratio })
	p := ink[min(len(ink)-1, int(math.Floor(glyphPercentile*float64(len(ink)))))]
	return p.ratio, bg, p.c, true
}

// The edge of a control is looked for side by side, across each side's middle (edgeCorner
// left out at either end, for rounded corners). The surroundings are the most frequent colour
// of the band edgeNear to edgeFar-1 pixels outside the control, all round; a side's edge is the
// one-pixel line parallel to it, from edgeNear-1 pixels outside down to edgeDepth-1 inside, that
// stands out most from them. Lines outside count: an outline is drawn centred on the bounds, and
// Fyne's software painter draws a stroked rectangle that a scroll cuts at its top a few pixels
// lower than it is (its drawOblongStroke does not offset the source for the clip); a band of
// four pixels stays within the 8 px gap Fyne leaves between controls.
const (
	edgeDepth  = 6
	edgeNear   = 4
	edgeFar    = 8
	edgeCorner = 12
)

// edgeContrast measures the visible boundary of a control at r on img, seen within clip (a
// control partly scrolled out of view has no edge where the scroll cuts it): on each side whose
// surroundings are in view, the line near the boundary that stands out most from the
// surroundings; the control's edge is its weakest side, so an outline counts as well
// as a fill, and a bare link, whose only boundary is its text, gets about 1:1. ok is false when
// no side's surroundings are in view.
func edgeContrast(img image.Image, r, clip image.Rectangle) (ratio float64, inside, outside color.NRGBA, ok bool) {
	vis := clip.Intersect(img.Bounds())
	cx0, cx1 := r.Min.X+min(edgeCorner, r.Dx()/4), r.Max.X-min(edgeCorner, r.Dx()/4)
	cy0, cy1 := r.Min.Y+min(edgeCorner, r.Dy()/4), r.Max.Y-min(edgeCorner, r.Dy()/4)
	// Each side's strip from a to b pixels from it (positive inwards, b excluded), across its
	// middle.
	sides := []func(a, b int) image.Rectangle{
		func(a, b int) image.Rectangle { return image.Rect(cx0, r.Min.Y+a, cx1, r.Min.Y+b) }, // top
		func(a, b int) image.Rectangle { return image.Rect(cx0, r.Max.Y-b, cx1, r.Max.Y-a) }, // bottom
		func(a, b int) image.Rectangle { return image.Rect(r.Min.X+a, cy0, r.Min.X+b, cy1) }, // left
		func(a, b int) image.Rectangle { return image.Rect(r.Max.X-b, cy0, r.Max.X-a, cy1) }, // right
	}
	var judged []func(a, b int) image.Rectangle
	var ring []image.Rectangle
	for _, band := range sides {
		full := band(-edgeFar+1, -edgeNear+1)
		out := full.Intersect(vis)
		if out.Empty() || 2*out.Dx()*out.Dy() < full.Dx()*full.Dy() {
			continue // this side's surroundings are out of view: a scroll cuts it there
		}
		judged = append(judged, band)
		ring = append(ring, out)
	}
	if len(judged) == 0 {
		return 0, inside, outside, false
	}
	outside = dominant(img, ring)
	for _, band := range judged {
		best, bestIn := 0.0, color.NRGBA{}
		for d := -edgeNear + 1; d < edgeDepth; d++ {
			line := band(d, d+1).Intersect(vis)
			if line.Empty() {
				continue
			}
			c := dominant(img, []image.Rectangle{line})
			if q := contrastRatio(c, outside); q > best {
				best, bestIn = q, c
			}
		}
		if !ok || best < ratio {
			ratio, inside, ok = best, bestIn, true
		}
	}
	return ratio, inside, outside, ok
}

// dominant is the most frequent colour in rs (ties: the darker, so that the answer does not
// depend on map order).
func dominant(img image.Image, rs []image.Rectangle) color.NRGBA {
	count := map[color.NRGBA]int{}
	at := pixelAt(img)
	for _, r := range rs {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				count[at(x, y)]++
			}
		}
	}
	var best color.NRGBA
	n := -1
	for c, k := range count {
		if k > n || k == n && relLuminance(c) < relLuminance(best) {
			best, n = c, k
		}
	}
	return best
}

// shownText is a text on a rendered screen.
type shownText struct {
	text string
	size float32         // its text size
	box  image.Rectangle // where the painter draws its glyphs, cut to its clip and the screen
	in   *shownControl   // the control it is part of; nil for none
}

// shownControl is something a citizen can tap on a rendered screen.
type shownControl struct {
	obj      fyne.CanvasObject
	label    string          // its texts, joined; "" when it has none
	bounds   image.Rectangle // all of it, as laid out (its touch target)
	clip     image.Rectangle // the part of the screen it can be seen in (its scroll's)
	shown    bool            // some of it is in view (not scrolled out of it)
	disabled bool
	icons    []string // the names of the icons drawn in it
}

// String names the control in messages: its text, else its type and where it is.
func (c *shownControl) String() string {
	if c.label != "" {
		return fmt.Sprintf("%q", c.label)
	}
	return fmt.Sprintf("%T at %v", c.obj, c.bounds.Min)
}

// shownScreen is what a rendered screen shows that a citizen can read or tap: the top modal
// dialog's content if one is up (its shade covers the rest), else the window's content and the
// popups over it. Its controls include those scrolled out of view (shown false), whose size
// counts when they are scrolled in; its texts only those in view (half their height or more).
type shownScreen struct {
	texts    []*shownText
	controls []*shownControl
	modal    bool
}

// notControls are the tappable widgets that are not controls offered to a citizen, by their
// type's name (Fyne's own are unexported), with the reason.
var notControls = map[string]string{
	// The hall's name in the header: tapped StaffTaps times, it is staff mode's hidden entrance.
	reflect.TypeFor[*tapLabel]().String(): "staff's hidden entrance",
	// The popup itself: a modal one takes every tap outside its content and does nothing.
	reflect.TypeFor[*widget.PopUp]().String(): "a dialog's shade",
	// A scroll's bar, drawn by Fyne over the content's edge: on the touch screen the content is
	// dragged, and the long screens have full-size ▲▼ page buttons.
	"*widget.scrollBarArea": "a scroll's bar",
}

// scanScreen walks the canvas as Fyne's software painter does (positions add up from the
// root; a scroll, or a widget whose renderer says IsClip, clips what is inside it to its own
// bounds) and lists the texts and the controls on it, in device pixels.
func scanScreen(c fyne.Canvas) *shownScreen {
	s := &shownScreen{}
	layers := append([]fyne.CanvasObject{c.Content()}, c.Overlays().List()...)
	for i := len(layers) - 1; i > 0; i-- {
		if p, ok := layers[i].(*widget.PopUp); ok && p.Visible() && isModal(p) {
			layers, s.modal = layers[i:], true
			break
		}
	}
	k := c.Scale()
	px := func(pos fyne.Position, size fyne.Size) image.Rectangle {
		return image.Rect(int(math.Floor(float64(pos.X*k))), int(math.Floor(float64(pos.Y*k))),
			int(math.Ceil(float64((pos.X+size.Width)*k))), int(math.Ceil(float64((pos.Y+size.Height)*k))))
	}
	screen := px(fyne.Position{}, c.Size())
	var walk func(o fyne.CanvasObject, offset fyne.Position, clip image.Rectangle, in *shownControl)
	walk = func(o fyne.CanvasObject, offset fyne.Position, clip image.Rectangle, in *shownControl) {
		if o == nil || !o.Visible() {
			return
		}
		pos := o.Position().Add(offset)
		var children []fyne.CanvasObject
		switch w := o.(type) {
		case *fyne.Container:
			children = w.Objects
		case fyne.Widget:
			r := test.WidgetRenderer(w)
			children = r.Objects()
			_, scroll := o.(fyne.Scrollable)
			if _, clips := r.(interface{ IsClip() }); scroll || clips {
				clip = px(pos, o.Size()) // as the painter: the inner clip replaces the outer one
			}
		}
		if _, ok := o.(fyne.Tappable); ok && in == nil && notControls[reflect.TypeOf(o).String()] == "" {
			in = &shownControl{obj: o, bounds: px(pos, o.Size()), clip: clip.Intersect(screen)}
			if d, ok := o.(interface{ Disabled() bool }); ok {
				in.disabled = d.Disabled()
			}
			in.shown = !in.clip.Intersect(in.bounds).Empty()
			if o.Size().Width > 0 && o.Size().Height > 0 {
				s.controls = append(s.controls, in)
			}
		}
		switch t := o.(type) {
		case *canvas.Text:
			if strings.TrimSpace(t.Text) == "" {
				break
			}
			// The painter draws MinSize, aligned in the object's size and centred in its height.
			m := t.MinSize()
			off := fyne.Position{}
			switch t.Alignment {
			case fyne.TextAlignTrailing:
				off.X = t.Size().Width - m.Width
			case fyne.TextAlignCenter:
				off.X = (t.Size().Width - m.Width) / 2
			}
			if t.Size().Height > m.Height {
				off.Y = (t.Size().Height - m.Height) / 2
			}
			full := px(pos.Add(off), m)
			box := full.Intersect(clip).Intersect(screen)
			// A text a scroll cuts to less than half its height is read once scrolled to; its
			// sliver holds too few glyph pixels to measure.
			if !box.Empty() && 2*box.Dy() >= full.Dy() {
				s.texts = append(s.texts, &shownText{text: t.Text, size: t.TextSize, box: box, in: in})
			}
			if in != nil {
				in.label = strings.TrimSpace(in.label + " " + t.Text)
			}
		case *canvas.Image:
			if in != nil && t.Resource != nil {
				in.icons = append(in.icons, t.Resource.Name())
			}
		}
		for _, ch := range children {
			walk(ch, pos, clip, in)
		}
	}
	for _, l := range layers {
		walk(l, fyne.Position{}, screen, nil)
	}
	return s
}

// isModal reports whether p is a modal popup (whose shade covers the canvas). Fyne does not
// export it; the field has been there since modal popups came (v1.2).
func isModal(p *widget.PopUp) bool {
	f := reflect.ValueOf(p).Elem().FieldByName("modal")
	return f.IsValid() && f.Kind() == reflect.Bool && f.Bool()
}

// homeOrBack matches the text of a control that leads home or back, in either language.
var homeOrBack = regexp.MustCompile(`首页|返回|(?i)\b(home|back)\b`)

// homeOrBackIcon matches the name of an icon that says home or back (Fyne's own are
// home.svg and arrow-back.svg; ours name what they draw).
var homeOrBackIcon = regexp.MustCompile(`(?i)home|back`)

// leadsHomeOrBack reports whether c says, by its text or an icon, that it leads home or back.
func (c *shownControl) leadsHomeOrBack() bool {
	if homeOrBack.MatchString(c.label) {
		return true
	}
	for _, n := range c.icons {
		if homeOrBackIcon.MatchString(n) {
			return true
		}
	}
	return false
}
