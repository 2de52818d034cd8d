package ui

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/prompt"
)

// Directions: where to go after a ticket (the section's location in the catalog), and where on
// the kiosk to put a card (devices.*_reader_position in the config, read through Core.Config).

// whereTo is the done screens' "请到 二楼 B区 5-8号窗口" in large bold text, or nil when the
// catalog gives the matter's section no location (or m is nil: a ticket without a matter).
func (u *UI) whereTo(m *catalog.Matter) fyne.CanvasObject {
	if m == nil {
		return nil
	}
	s := u.core.Catalog().Section(m.Section)
	if s == nil || s.Location == nil {
		return nil
	}
	where := u.tf("where.go_to", map[string]any{"W": s.Location.Label().In(u.lang)})
	// Large: over twice the body text, yet well below the ticket number above it.
	size := float32(56)
	if u.theme.Large {
		size = 72
	}
	t := canvas.NewText(where, colText)
	t.TextStyle.Bold = true
	t.Alignment = fyne.TextAlignCenter
	// canvas.Text does not wrap: a long zone name shrinks the line to the screen's width rather
	// than being cut off.
	for t.TextSize = size; t.TextSize > 28 && fyne.MeasureText(where, t.TextSize, t.TextStyle).Width > maxLineWidth; t.TextSize -= 2 {
	}
	return t
}

// maxLineWidth is the widest a line of large text may be on the 1080 px portrait screen, its
// padding taken off.
const maxLineWidth = 1000

// The cards a screen can ask for.
const (
	cardID   = "id"   // the resident ID card (id_reader, uid_reader)
	cardCity = "city" // the city card (card_reader)
)

// readerMark is one arrow of the kiosk picture: a reader position and what goes there.
type readerMark struct {
	Pos   string // one of config.ReaderPositions
	Label string // 身份证, 市民卡, or both when they share a reader position
}

// readerMarks says where each card of kinds goes, by the configured positions; cards that share a
// position share one arrow.
func (u *UI) readerMarks(kinds ...string) []readerMark {
	d := u.core.Config().Devices
	var marks []readerMark
	for _, k := range kinds {
		pos, name := d.IDReaderPosition, u.t("where.id_card")
		if k == cardCity {
			pos, name = d.CardReaderPosition, u.t("where.city_card")
		}
		merged := false
		for i := range marks {
			if marks[i].Pos == pos {
				marks[i].Label += " / " + name
				merged = true
			}
		}
		if !merged {
			marks = append(marks, readerMark{Pos: pos, Label: name})
		}
	}
	return marks
}

// cardScreen lays out a screen that asks for a card: top, then the kiosk drawn with an arrow at
// each reader the card kinds go to, as large as the space left allows (a landscape screen or
// elder mode's large text leaves less), then a line per card naming the place, then bottom. On a
// landscape screen the picture stands beside the rest, so that it keeps the screen's height.
func (u *UI) cardScreen(top, bottom fyne.CanvasObject, kinds ...string) fyne.CanvasObject {
	pic := newReaderPicture(u.readerMarks(kinds...), false)
	if s := u.win.Canvas().Size(); s.Width > s.Height {
		// The picture at a fixed size on the right; the text gets the rest of the width, so that
		// it wraps into few lines.
		pic.scale = sideScale
		// The text scrolls above the buttons when it cannot fit (elder mode's large English).
		text := u.scroll(container.NewVBox(layout.NewSpacer(), top, u.cardPlaces(kinds...), layout.NewSpacer()))
		return container.NewBorder(nil, nil, nil, pic, container.NewBorder(nil, bottom, nil, nil, text))
	}
	return container.NewBorder(top, container.NewVBox(u.cardPlaces(kinds...), bottom), nil, nil, pic)
}

// cardGuide is the picture at a fixed, smaller size and the lines naming the places, for a
// screen that scrolls (where nothing is left over for the picture to grow into).
func (u *UI) cardGuide(kinds ...string) fyne.CanvasObject {
	pic := newReaderPicture(u.readerMarks(kinds...), true)
	return container.NewVBox(container.NewCenter(pic), u.cardPlaces(kinds...))
}

// cardPlaces names, per card, where it goes, on screen and aloud: every screen that asks for a
// card has them.
func (u *UI) cardPlaces(kinds ...string) fyne.CanvasObject {
	var items []fyne.CanvasObject
	var lines []prompt.Line
	d := u.core.Config().Devices
	for _, k := range kinds {
		key, pos := "where.id_at", d.IDReaderPosition
		lines = append(lines, prompt.Line{Prompt: prompt.PlaceIDCard})
		if k == cardCity {
			key, pos = "where.city_at", d.CardReaderPosition
			lines[len(lines)-1].Prompt = prompt.PlaceCityCard
		}
		l := u.centred(u.bold(u.tf(key, map[string]any{"P": u.t("where.pos." + pos)})))
		l.SizeName = "subHeadingText"
		items = append(items, l)
	}
	u.say(lines...)
	return container.NewVBox(items...)
}

// The picture is drawn on a 560×640 grid and scaled to the size it is given.
const (
	picW, picH = 560, 640
)

// Colours of the picture: the kiosk's outline and the arrows are at least 3:1 against white and
// against what they cross (WCAG non-text contrast); the arrow and the reader are the government
// red the primary buttons use.
var (
	colCabinet = color.NRGBA{0xE4, 0xE4, 0xE4, 0xFF}
	colScreen  = color.NRGBA{0x23, 0x2F, 0x3C, 0xFF}
	colShelf   = color.NRGBA{0xC8, 0xC8, 0xC8, 0xFF}
)

// rect is a box on the picture's grid.
type rect struct{ x0, y0, x1, y1 float32 }

// The kiosk's parts on the grid.
var (
	cabinet  = rect{140, 10, 420, 420}
	screen   = rect{185, 40, 375, 320}
	shelf    = rect{100, 420, 460, 470}
	pedestal = rect{210, 470, 350, 630}
)

// readerSpot is where a reader sits on the grid and the arrow that points at it: from its tail to
// its tip, and where its label goes (beside the tail).
type readerSpot struct {
	pad        rect
	tail, tip  fyne.Position
	label      fyne.Position // top-left of the label
	labelRight bool          // the label ends at label.X instead of starting there
}

var readerSpots = map[string]readerSpot{
	config.PosLeft:        {pad: rect{150, 150, 178, 250}, tail: fyne.NewPos(10, 200), tip: fyne.NewPos(146, 200), label: fyne.NewPos(4, 116)},
	config.PosRight:       {pad: rect{382, 150, 410, 250}, tail: fyne.NewPos(550, 200), tip: fyne.NewPos(414, 200), label: fyne.NewPos(556, 116), labelRight: true},
	config.PosBelowScreen: {pad: rect{230, 334, 330, 372}, tail: fyne.NewPos(550, 353), tip: fyne.NewPos(334, 353), label: fyne.NewPos(556, 268), labelRight: true},
	config.PosFrontShelf:  {pad: rect{220, 428, 340, 462}, tail: fyne.NewPos(520, 600), tip: fyne.NewPos(342, 465), label: fyne.NewPos(556, 604), labelRight: true},
}

// readerPicture draws the kiosk's front with an arrow at each marked reader, scaled to fit the
// size it is given (up to maxScale), centred in it.
type readerPicture struct {
	widget.BaseWidget
	marks []readerMark
	scale float32 // its minimum size is the grid times scale
}

// Scales of the picture: its least when it fills what a screen leaves (small enough for a
// landscape screen in elder mode), the fixed one on a scrolling screen, and its largest.
const (
	fillScale    = 0.3
	compactScale = 0.6
	sideScale    = 0.85 // beside the text on a landscape screen
	maxScale     = 1.3
)

func newReaderPicture(marks []readerMark, compact bool) *readerPicture {
	p := &readerPicture{marks: marks, scale: fillScale}
	if compact {
		p.scale = compactScale
	}
	p.ExtendBaseWidget(p)
	return p
}

// placed is one drawn object and where it goes on the grid.
type placed struct {
	obj fyne.CanvasObject
	at  rect
	// line: a canvas.Line from (at.x0, at.y0) to (at.x1, at.y1) rather than a box
	line bool
	// right: a text right-aligned at at.x0
	right bool
}

type pictureRenderer struct {
	items []placed
	objs  []fyne.CanvasObject
	pads  map[string]*canvas.Rectangle // by position: what the tests look for
	tips  map[string]*canvas.Line      // the arrows' shafts, by position
	min   fyne.Size
	size  fyne.Size // of the last Layout
}

func box(fill, stroke color.Color, width, radius float32) *canvas.Rectangle {
	r := canvas.NewRectangle(fill)
	r.StrokeColor, r.StrokeWidth, r.CornerRadius = stroke, width, radius
	return r
}

func (p *readerPicture) CreateRenderer() fyne.WidgetRenderer {
	r := &pictureRenderer{pads: map[string]*canvas.Rectangle{}, tips: map[string]*canvas.Line{},
		min: fyne.NewSize(picW*p.scale, picH*p.scale)}
	add := func(pl placed) { r.items = append(r.items, pl); r.objs = append(r.objs, pl.obj) }
	add(placed{obj: box(colCabinet, colText, 5, 18), at: pedestal})
	add(placed{obj: box(colShelf, colText, 5, 10), at: shelf})
	add(placed{obj: box(colCabinet, colText, 5, 24), at: cabinet})
	add(placed{obj: box(colScreen, colText, 3, 6), at: screen})
	for _, m := range p.marks {
		s, ok := readerSpots[m.Pos]
		if !ok {
			continue // config validation keeps other values out
		}
		pad := box(colPrimary, colText, 3, 4)
		r.pads[m.Pos] = pad
		add(placed{obj: pad, at: s.pad})
		shaft := canvas.NewLine(colPrimary)
		shaft.StrokeWidth = 12
		r.tips[m.Pos] = shaft
		add(placed{obj: shaft, at: rect{s.tail.X, s.tail.Y, s.tip.X, s.tip.Y}, line: true})
		// The head: two strokes back from the tip at ±35° to the shaft.
		a := math.Atan2(float64(s.tail.Y-s.tip.Y), float64(s.tail.X-s.tip.X))
		for _, da := range []float64{-0.6, 0.6} {
			h := canvas.NewLine(colPrimary)
			h.StrokeWidth = 12
			end := fyne.NewPos(s.tip.X+float32(44*math.Cos(a+da)), s.tip.Y+float32(44*math.Sin(a+da)))
			add(placed{obj: h, at: rect{s.tip.X, s.tip.Y, end.X, end.Y}, line: true})
		}
		t := canvas.NewText(m.Label, colText)
		t.TextStyle.Bold = true
		t.TextSize = 36
		add(placed{obj: t, at: rect{s.label.X, s.label.Y, s.label.X, s.label.Y}, right: s.labelRight})
	}
	return r
}

func (r *pictureRenderer) Layout(size fyne.Size) {
	r.size = size
	k := min(size.Width/picW, size.Height/picH, maxScale)
	// Centred in what it is given.
	ox, oy := (size.Width-picW*k)/2, (size.Height-picH*k)/2
	pt := func(x, y float32) fyne.Position { return fyne.NewPos(ox+x*k, oy+y*k) }
	for _, it := range r.items {
		switch o := it.obj.(type) {
		case *canvas.Line:
			o.Position1, o.Position2 = pt(it.at.x0, it.at.y0), pt(it.at.x1, it.at.y1)
			o.StrokeWidth = max(4, 12*k)
		case *canvas.Text:
			o.TextSize = 36 * k
			ts := fyne.MeasureText(o.Text, o.TextSize, o.TextStyle)
			p := pt(it.at.x0, it.at.y0)
			if it.right {
				p.X -= ts.Width
			}
			o.Move(p)
			o.Resize(ts)
		default:
			o.Move(pt(it.at.x0, it.at.y0))
			o.Resize(fyne.NewSize((it.at.x1-it.at.x0)*k, (it.at.y1-it.at.y0)*k))
		}
	}
}

func (r *pictureRenderer) MinSize() fyne.Size           { return r.min }
func (r *pictureRenderer) Refresh()                     { r.Layout(r.size) }
func (r *pictureRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *pictureRenderer) Destroy()                     {}
