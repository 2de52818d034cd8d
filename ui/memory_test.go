package ui

import (
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
)

// countedFont counts how often Fyne reads the font's bytes: once per parse.
type countedFont struct {
	fyne.Resource
	reads *atomic.Int32
}

func (c countedFont) Content() []byte { c.reads.Add(1); return c.Resource.Content() }

// Fyne parses the theme font anew for every theme-override scope it draws and keeps each parse
// for good (its font cache is keyed by scope, and every override made or re-rendered is a new
// scope). With overrides in the header and the dialogs, each idle warning and each switch of
// language cost some 12 MB: a kiosk grew by gigabytes in a busy day. The screens now use no
// override: once each style is parsed, dialogs and language switches parse nothing more, and a
// switch of text size (a new theme: Fyne drops its parses) parses each style once again at most.
func TestRedrawsParseNoFont(t *testing.T) {
	font, err := LoadFont(pinnedFont)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := SubsetFont(font, nil)
	if err != nil {
		t.Fatal(err)
	}
	var reads atomic.Int32
	f := newFixtureWith(t, thursday, NewTheme(countedFont{sub, &reads}))
	c := f.ui.win.Canvas()
	screens := func() {
		f.ui.showIdle(20 * time.Second)
		c.Capture()
		f.noOverride(t)
		f.ui.hideIdle()
		f.ui.ask("标题", "正文", "是", "否", nil, nil)
		c.Capture()
		f.ui.hideDialog()
		f.ui.setLanguage("en")
		c.Capture()
		f.ui.setLanguage("zh")
		c.Capture()
		f.noOverride(t)
	}
	screens() // the first draws parse each style once
	warm := reads.Load()
	if warm == 0 {
		t.Fatal("the font was never read: the count measures nothing")
	}
	for range 3 {
		screens()
	}
	if n := reads.Load() - warm; n != 0 {
		t.Errorf("dialogs and language switches parsed the font %d more times (%d styles at first)", n, warm)
	}
	for range 3 {
		before := reads.Load()
		f.ui.setLarge(true)
		c.Capture()
		f.noOverride(t)
		f.ui.showIdle(20 * time.Second)
		c.Capture()
		f.ui.hideIdle()
		f.ui.setLarge(false)
		c.Capture()
		if n := reads.Load() - before; n > 2*warm {
			t.Errorf("a switch of text size and back parsed the font %d times, want at most %d", n, 2*warm)
		}
	}
}

// noOverride fails t when the screen or a dialog on it holds a theme override.
func (f *fixture) noOverride(t *testing.T) {
	t.Helper()
	f.visit(true, func(o fyne.CanvasObject) bool {
		if th, ok := o.(*container.ThemeOverride); ok {
			t.Errorf("a theme override on screen (holding %T)", th.Content)
		}
		return true
	})
}
