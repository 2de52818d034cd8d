package ui

import (
	"context"
	"image/color"
	"math"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
	"citizenhome/kiosk/config"
	"citizenhome/telemetry/wire"
)

// hallFigures stands in for halld's retained queue figures (the agent's MQTT end is tested
// against Mosquitto in telemetry/agent; here only what the screen makes of the figures counts).
type hallFigures struct {
	mu sync.Mutex
	q  wire.QueueState
}

// Take refuses at once, sending nothing, as the agent does when halld is offline: these tests
// take no ticket through halld.
func (h *hallFigures) Take(context.Context, wire.Take) (wire.Given, error) {
	return wire.Given{}, kiosk.ErrHallUnreachable
}

func (h *hallFigures) Queue() (wire.QueueState, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.q, h.q.Day != ""
}

func (h *hallFigures) set(q wire.QueueState) {
	h.mu.Lock()
	h.q = q
	h.mu.Unlock()
}

// sectionTiles returns the section tiles on screen by section ID.
func (f *fixture) sectionTiles(t *testing.T) map[string]*Tile {
	t.Helper()
	out := map[string]*Tile{}
	for _, so := range f.k.Offer().Sections {
		name := so.Section.Name.In(f.ui.Lang())
		f.visit(false, func(o fyne.CanvasObject) bool {
			if tl, ok := o.(*Tile); ok && tl.Text == name {
				out[so.Section.ID] = tl
			}
			return true
		})
		if out[so.Section.ID] == nil {
			t.Fatalf("no tile for section %q on screen: %q", name, f.texts())
		}
	}
	return out
}

// tick is a second of cmd/kiosk's clock: the clock moves on and the UI ticks.
func (f *fixture) tick(d time.Duration) {
	f.clock.Add(d)
	f.ui.Tick()
}

func TestSectionTilesShowWaitingAndFollowTheQueue(t *testing.T) {
	f := newFixture(t, thursday)
	f.tap(t, "取号")
	for id, tl := range f.sectionTiles(t) {
		if tl.Note != "无需等候" {
			t.Errorf("section %s with nobody waiting says %q, want 无需等候", id, tl.Note)
		}
	}
	sec := f.k.Offer().Sections[0]
	m := sec.Matters[0]
	for i := 0; i < 12; i++ {
		if _, err := f.k.TakeTicket(context.Background(), m.ID); err != nil {
			t.Fatal(err)
		}
	}
	// Not yet asked again: the tiles show what they showed.
	f.tick(WaitingPoll - time.Second)
	if got := f.sectionTiles(t)[sec.Section.ID].Note; got != "无需等候" {
		t.Errorf("asked again before WaitingPoll: %q", got)
	}
	f.tick(time.Second)
	want, err := f.k.WaitingBySection(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want[sec.Section.ID] != 12 {
		t.Fatalf("the core counts %d for the section, 12 taken", want[sec.Section.ID])
	}
	for id, tl := range f.sectionTiles(t) {
		w := f.ui.tf("ticket.section_waiting", map[string]any{"N": want[id]})
		if want[id] == 0 {
			w = "无需等候"
		}
		if tl.Note != w {
			t.Errorf("section %s says %q, want %q", id, tl.Note, w)
		}
	}
	if !f.shows("12 人等候") {
		t.Errorf("no tile says 12 人等候: %q", f.texts())
	}
	// In English and in elder mode too (the screen is rebuilt with the figures at once).
	f.ui.setLanguage("en")
	f.ui.setLarge(true)
	tiles := f.sectionTiles(t)
	if got := tiles[sec.Section.ID].Note; got != "12 waiting" {
		t.Errorf("English elder mode: %q", got)
	}
	for id, tl := range tiles {
		if want[id] == 0 && tl.Note != "No wait" {
			t.Errorf("English, section %s: %q", id, tl.Note)
		}
	}
}

// The hall controller's figures, while fresh, are what the tiles show; a change of them reaches
// the screen within WaitingPoll; stale ones give way to the kiosk's own.
func TestSectionTilesShowHallFigures(t *testing.T) {
	f := newFixtureOpts(t, thursday, fixtureOptions{edit: func(c *config.Config) {
		c.Hall.Controller, c.MQTT.Enabled = true, true
	}})
	h := &hallFigures{}
	f.k.SetHallNumbers(h)
	sec := f.k.Offer().Sections[0]
	letter := sec.Matters[0].Queue
	figures := func(n int) wire.QueueState {
		return wire.QueueState{Day: "2026-11-26", TS: f.clock.Now(),
			Categories: []wire.QueueCategory{{Letter: letter, Waiting: n, ETANextS: int64(n) * 300}}}
	}
	h.set(figures(12))
	f.tap(t, "取号")
	if got := f.sectionTiles(t)[sec.Section.ID].Note; got != "12 人等候" {
		t.Fatalf("hall figures: tile says %q, want 12 人等候; texts %q", got, f.texts())
	}
	h.set(figures(3))
	f.tick(WaitingPoll)
	if got := f.sectionTiles(t)[sec.Section.ID].Note; got != "3 人等候" {
		t.Errorf("after the hall's figures changed: %q, want 3 人等候", got)
	}
	h.set(figures(0))
	f.tick(WaitingPoll)
	if got := f.sectionTiles(t)[sec.Section.ID].Note; got != "无需等候" {
		t.Errorf("the hall's queue emptied: %q, want 无需等候", got)
	}
	h.set(figures(7))
	f.tick(kiosk.FreshFigures + time.Second) // the figures' TS is now too old
	if got := f.sectionTiles(t)[sec.Section.ID].Note; got != "无需等候" {
		t.Errorf("stale figures shown: %q (this kiosk has no ticket waiting)", got)
	}
}

// A refresh runs off the UI goroutine: one at a time, and its answer is dropped when the
// screen it was asked for is gone.
func TestWaitingRefreshOneAtATimeForItsScreen(t *testing.T) {
	f := newFixture(t, thursday)
	var pending []func()
	f.ui.async = func(fn func()) { pending = append(pending, fn) }
	f.tap(t, "取号")
	sec := f.k.Offer().Sections[0]
	if _, err := f.k.TakeTicket(context.Background(), sec.Matters[0].ID); err != nil {
		t.Fatal(err)
	}
	f.tick(WaitingPoll)
	f.tick(WaitingPoll) // the first has not answered: no second question
	if len(pending) != 1 {
		t.Fatalf("%d refreshes under way, want 1", len(pending))
	}
	pending[0]()
	tile := f.sectionTiles(t)[sec.Section.ID]
	if tile.Note != "1 人等候" {
		t.Fatalf("after the refresh: %q", tile.Note)
	}
	f.tick(WaitingPoll)
	if len(pending) != 2 {
		t.Fatalf("%d refreshes asked, want 2 once the first answered", len(pending))
	}
	// The citizen went on before the answer came: the old screen's tiles are left alone, and
	// the next screen asks for itself.
	f.tap(t, sec.Section.Name.Zh)
	if _, err := f.k.TakeTicket(context.Background(), sec.Matters[0].ID); err != nil {
		t.Fatal(err)
	}
	pending[1]()
	if tile.Note != "1 人等候" {
		t.Errorf("an answer for a screen gone was written on it: %q", tile.Note)
	}
	if f.ui.waiting != nil {
		t.Error("the matters screen has a board of section tiles")
	}
	f.tick(WaitingPoll)
	if len(pending) != 2 {
		t.Errorf("refresh asked with no section tile on screen")
	}
	// Back on the sections screen the figures are there at once, without waiting for a tick.
	f.tap(t, "返回")
	if got := f.sectionTiles(t)[sec.Section.ID].Note; got != "2 人等候" {
		t.Errorf("back on the sections: %q", got)
	}
}

// The count is larger than the section's name and as legible as the tile's text: at least
// 7:1 against the tile (what elder mode needs), in standard and elder mode.
func TestSectionTileCountLegible(t *testing.T) {
	font, err := LoadFont(pinnedFont)
	if err != nil {
		t.Fatal(err)
	}
	th := NewTheme(font)
	f := newFixtureWith(t, thursday, th)
	for _, large := range []bool{false, true} {
		f.ui.setLarge(large)
		f.ui.showSections()
		for id, tl := range f.sectionTiles(t) {
			r := test.WidgetRenderer(tl).(*tileRenderer)
			if len(r.label.Segments) != 2 {
				t.Fatalf("large=%v section %s: %d segments, want name and count", large, id, len(r.label.Segments))
			}
			name := r.label.Segments[0].(*widget.TextSegment)
			count := r.label.Segments[1].(*widget.TextSegment)
			if count.Text != tl.Note || count.Text == "" {
				t.Errorf("large=%v section %s: count segment %q, note %q", large, id, count.Text, tl.Note)
			}
			sizeOf := func(n fyne.ThemeSizeName) float32 {
				if n == "" {
					n = "text"
				}
				return th.Size(n)
			}
			if sizeOf(count.Style.SizeName) <= sizeOf(name.Style.SizeName) || !count.Style.TextStyle.Bold {
				t.Errorf("large=%v section %s: count %v px bold=%v, name %v px", large, id,
					sizeOf(count.Style.SizeName), count.Style.TextStyle.Bold, sizeOf(name.Style.SizeName))
			}
			fg := th.Color(count.Style.ColorName, 0)
			if c := contrast(fg, r.bg.FillColor); c < 7 {
				t.Errorf("large=%v section %s: count at %.2f:1 on its tile", large, id, c)
			}
			// The name and the count are whole on screen (the tile is as high as both need).
			if need := r.label.MinSize().Height; tl.Size().Height < need {
				t.Errorf("large=%v section %s: tile %.0f px high, text needs %.0f", large, id, tl.Size().Height, need)
			}
		}
	}
}

// contrast is the WCAG 2 contrast ratio of two opaque colours.
func contrast(a, b color.Color) float64 {
	lum := func(c color.Color) float64 {
		r, g, b, _ := c.RGBA()
		lin := func(v uint32) float64 {
			s := float64(v) / 0xFFFF
			if s <= 0.04045 {
				return s / 12.92
			}
			return math.Pow((s+0.055)/1.055, 2.4)
		}
		return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
	}
	la, lb := lum(a), lum(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// The status colours are text on white: at least 7:1 (WCAG AAA, as elder mode needs), and told
// apart by their marks.
func TestStatusColoursContrast(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range []statusMeaning{meaningOpen, meaningDone, meaningAction, meaningRefused} {
		c, key := statusMark(m)
		if r := contrast(c, colBackground); r < 7 {
			t.Errorf("meaning %d: %v is %.2f:1 on white", m, c, r)
		}
		if seen[key] {
			t.Errorf("meaning %d shares its mark %s", m, key)
		}
		seen[key] = true
	}
}

func TestContrastRatio(t *testing.T) {
	if c := contrast(color.White, color.Black); math.Abs(c-21) > 0.01 {
		t.Errorf("white on black %.2f", c)
	}
	if c := contrast(colPrimary, colPrimary); c != 1 {
		t.Errorf("same colour %.2f", c)
	}
}

// The done screen tells the wait printed on the ticket when someone is ahead.
func TestDoneScreenShowsPositionAndEstimate(t *testing.T) {
	f := newFixture(t, thursday)
	sec := f.k.Offer().Sections[0]
	if _, err := f.k.TakeTicket(context.Background(), sec.Matters[0].ID); err != nil {
		t.Fatal(err)
	}
	est, err := f.k.Estimate(context.Background(), sec.Matters[0].ID)
	if err != nil || est.Ahead != 1 || est.Wait <= 0 {
		t.Fatalf("estimate before the second ticket %+v %v", est, err)
	}
	f.takeFirstTicket(t)
	m := max(1, int(est.Wait.Round(time.Minute).Minutes()))
	if !f.shows("前面等候 1 人") || !f.shows(f.ui.tf("ticket.estimate", map[string]any{"M": m})) {
		t.Errorf("done screen: %q", f.texts())
	}
}
