package ui

import (
	"context"
	"image/color"
	"reflect"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
)

// After a ticket is taken the screen says where to go, from the catalog's location of the
// matter's section, in the screen's language.
func TestTicketDoneSaysWhereToGo(t *testing.T) {
	f := newFixture(t, thursday)
	sec := f.takeFirstTicket(t)
	loc := sec.Section.Location
	if loc == nil {
		t.Fatalf("demo section %s has no location", sec.Section.ID)
	}
	f.mustShow(t, "请到 "+loc.Label().Zh)
	if got := loc.Label().Zh; got != "一楼 A区 1-2号窗口" {
		t.Errorf("demo location %q", got)
	}

	f.ui.setLanguage("en")
	is, err := f.k.TakeTicket(context.Background(), sec.Matters[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	f.ui.taken(is, nil)
	f.mustShow(t, "Go to 1F, zone A, windows 1-2")
	f.mustNotShow(t, "请到")

	// A section the catalog gives no location: no directions, and no empty line.
	if w := f.ui.whereTo(&catalog.Matter{Section: "none"}); w != nil {
		t.Error("directions for a section without a location")
	}
	if w := f.ui.whereTo(nil); w != nil {
		t.Error("directions for a ticket without a matter")
	}
}

func TestCheckInDoneSaysWhereToGo(t *testing.T) {
	f := newFixture(t, thursday)
	withHall(t, f)
	f.k.SetPerson(person("王小明", idWang))
	f.tap(t, "预约签到")
	f.mustShow(t, "签到成功", "请到 一楼 A区 1-2号窗口")
}

// pictures lists the kiosk pictures on screen.
func (f *fixture) pictures() []*readerPicture {
	var out []*readerPicture
	f.visit(false, func(o fyne.CanvasObject) bool {
		if p, ok := o.(*readerPicture); ok {
			out = append(out, p)
		}
		return true
	})
	return out
}

// checkPicture checks that the one picture on screen points at want (position → label) and only
// there: a red reader drawn at each position, and an arrow whose tip touches it.
func checkPicture(t *testing.T, f *fixture, want []readerMark) {
	t.Helper()
	ps := f.pictures()
	if len(ps) != 1 {
		t.Fatalf("%d kiosk pictures on screen, want 1", len(ps))
	}
	p := ps[0]
	if !reflect.DeepEqual(p.marks, want) {
		t.Errorf("marks %+v, want %+v", p.marks, want)
	}
	r := test.WidgetRenderer(p).(*pictureRenderer)
	if p.Size().Width < 300 || p.Size().Height < 300 {
		t.Errorf("picture drawn %v: too small to see", p.Size())
	}
	if len(r.pads) != len(want) || len(r.tips) != len(want) {
		t.Errorf("%d readers and %d arrows drawn, want %d", len(r.pads), len(r.tips), len(want))
	}
	for _, m := range want {
		pad, shaft := r.pads[m.Pos], r.tips[m.Pos]
		if pad == nil || shaft == nil {
			t.Errorf("nothing drawn at %s", m.Pos)
			continue
		}
		if pad.FillColor != colPrimary || shaft.StrokeColor != colPrimary {
			t.Errorf("%s: reader or arrow not in the primary red", m.Pos)
		}
		// The tip is where the arrow meets the reader: within a few pixels of its box.
		tip, at, sz := shaft.Position2, pad.Position(), pad.Size()
		const slack = 12
		if tip.X < at.X-slack || tip.X > at.X+sz.Width+slack || tip.Y < at.Y-slack || tip.Y > at.Y+sz.Height+slack {
			t.Errorf("%s: arrow tip %v is not at the reader %v+%v", m.Pos, tip, at, sz)
		}
		// And it comes from outside the kiosk: its tail is farther from the reader than its tip.
		if d := dist(shaft.Position1, at, sz); d < 60 {
			t.Errorf("%s: arrow tail %v only %.0f px from the reader", m.Pos, shaft.Position1, d)
		}
	}
}

func dist(p, at fyne.Position, sz fyne.Size) float32 {
	cx, cy := at.X+sz.Width/2, at.Y+sz.Height/2
	dx, dy := p.X-cx, p.Y-cy
	if dx < 0 {
		dx = -dx
	}
	if dy < 0 {
		dy = -dy
	}
	return max(dx, dy)
}

// Every screen that asks for a card draws the kiosk with an arrow at the reader the config
// names for that card, and says the place in words.
func TestCardPromptPointsAtTheConfiguredReader(t *testing.T) {
	f := newFixtureOpts(t, thursday, fixtureOptions{edit: func(c *config.Config) {
		c.Devices.IDReaderPosition = config.PosLeft
		c.Devices.CardReaderPosition = config.PosBelowScreen
	}})
	withHall(t, f)
	f.tap(t, "预约签到")
	checkPicture(t, f, []readerMark{{config.PosLeft, "身份证"}, {config.PosBelowScreen, "市民卡"}})
	f.mustShow(t, "身份证：放在屏幕左侧的读卡器上", "市民卡：放在屏幕正下方的读卡器上")
	f.tap(t, "首页")

	f.tap(t, "办件查询")
	checkPicture(t, f, []readerMark{{config.PosLeft, "身份证"}, {config.PosBelowScreen, "市民卡"}})
	f.tap(t, "首页")

	// Only the city card pays, and the city card screen waits for it: one arrow.
	f.ui.showCityCard()
	checkPicture(t, f, []readerMark{{config.PosBelowScreen, "市民卡"}})
	f.mustShow(t, "市民卡：放在屏幕正下方的读卡器上")
	f.mustNotShow(t, "身份证：")

	f.ui.setLanguage("en")
	f.ui.showCityCard()
	checkPicture(t, f, []readerMark{{config.PosBelowScreen, "City card"}})
	f.mustShow(t, "City card: on the reader just below the screen")
}

// Both cards on one reader: one arrow, named for both.
func TestCardPromptOneReaderForBoth(t *testing.T) {
	f := newFixtureOpts(t, thursday, fixtureOptions{edit: func(c *config.Config) {
		c.Devices.IDReaderPosition = config.PosFrontShelf
		c.Devices.CardReaderPosition = config.PosFrontShelf
	}})
	withHall(t, f)
	f.tap(t, "预约签到")
	checkPicture(t, f, []readerMark{{config.PosFrontShelf, "身份证 / 市民卡"}})
	f.mustShow(t, "身份证：放在身前台面的读卡器上", "市民卡：放在身前台面的读卡器上")

	// A landscape screen: the picture beside the text, as large as in portrait's compact form.
	f.win.Resize(fyne.NewSize(1920, 1080))
	f.ui.showCheckIn()
	checkPicture(t, f, []readerMark{{config.PosFrontShelf, "身份证 / 市民卡"}})
	if p := f.pictures()[0]; p.Size().Height < 500 {
		t.Errorf("landscape picture %v", p.Size())
	}
}

// Every position the config accepts has a place in the picture and words in both languages.
func TestEveryReaderPositionIsDrawn(t *testing.T) {
	f := newFixture(t, thursday)
	for _, pos := range config.ReaderPositions {
		if _, ok := readerSpots[pos]; !ok {
			t.Errorf("no spot for %s", pos)
		}
		for _, lang := range []string{"zh", "en"} {
			if _, ok := f.ui.text[lang]["where.pos."+pos]; !ok {
				t.Errorf("%s: no text for where.pos.%s", lang, pos)
			}
		}
	}
}

// The picture's parts stand out from what they lie on: arrows and readers at 3:1 or more against
// the white page, the cabinet and the shelf (WCAG 1.4.11), outlines against the page, labels and
// the directions line at 4.5:1 (text).
func TestReaderPictureContrast(t *testing.T) {
	for _, c := range []struct {
		name string
		a, b color.Color
		min  float64
	}{
		{"arrow on page", colPrimary, colBackground, 3},
		{"reader on cabinet", colPrimary, colCabinet, 3},
		{"reader on shelf", colPrimary, colShelf, 3},
		{"outline on page", colText, colBackground, 3},
		{"screen on cabinet", colScreen, colCabinet, 3},
		{"label on page", colText, colBackground, 4.5},
	} {
		if r := contrast(c.a, c.b); r < c.min {
			t.Errorf("%s: %.2f:1, want %.1f:1", c.name, r, c.min)
		}
	}
}
