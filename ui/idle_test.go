package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
	"citizenhome/kiosk/config"
)

// secondsToWarning moves the clock on a second at a time, as cmd/kiosk ticks the core and the
// UI, until the idle warning shows, and returns how long that took.
func (f *fixture) secondsToWarning(t *testing.T) time.Duration {
	t.Helper()
	start := f.clock.Now()
	for i := 0; i < 1000; i++ {
		if f.ui.idleShown() {
			return f.clock.Now().Sub(start)
		}
		f.clock.Add(time.Second)
		f.k.Sessions().Tick()
		f.ui.Tick()
	}
	t.Fatal("no idle warning")
	return 0
}

// warnAfter checks that the warning comes d after the last touch: 20 s before the end of a
// session of timeout d+20s.
func (f *fixture) warnAfter(t *testing.T, what string, timeout time.Duration) {
	t.Helper()
	if got := f.secondsToWarning(t); got != timeout-20*time.Second {
		t.Errorf("%s: warning after %s, want %s (a %s timeout)", what, got, timeout-20*time.Second, timeout)
	}
	if got := f.ui.idleLeft(); got != "20" {
		t.Errorf("%s: countdown starts at %q, want 20", what, got)
	}
	f.tap(t, "继续")
	if f.ui.idleShown() {
		t.Fatalf("%s: the warning stays after 继续", what)
	}
}

func TestIdleTimeoutPerScreenKindAndElderMode(t *testing.T) {
	f := newFixture(t, thursday)
	f.tap(t, "取号")
	f.warnAfter(t, "sections", 60*time.Second)
	f.tap(t, "首页")
	f.tap(t, "办事指南")
	f.warnAfter(t, "guide search", 60*time.Second)
	f.tap(t, "居民身份证换领")
	f.mustShow(t, "设定依据")
	f.warnAfter(t, "guide detail", 120*time.Second)
	f.tap(t, "首页")
	f.tap(t, "大字模式")
	f.warnAfter(t, "elder home", 180*time.Second)
	f.tap(t, "办事指南")
	f.tap(t, "居民身份证换领")
	f.warnAfter(t, "elder guide detail", 180*time.Second)
}

func TestIdleTimeoutsFromConfig(t *testing.T) {
	f := newFixtureOpts(t, thursday, fixtureOptions{edit: func(c *config.Config) {
		c.Kiosk.IdleTimeout.Duration = 45 * time.Second
		c.Kiosk.IdleReading.Duration = 200 * time.Second
	}})
	f.tap(t, "办事指南")
	f.warnAfter(t, "guide search", 45*time.Second)
	f.tap(t, "居民身份证换领")
	f.warnAfter(t, "guide detail", 200*time.Second)
}

func TestIdleWarningCountsDownAndContinueExtends(t *testing.T) {
	f := newFixture(t, thursday)
	f.tap(t, "取号")
	f.secondsToWarning(t)
	f.mustShow(t, "您还在吗？", "20 秒后将返回首页")
	cont := f.button(t, "继续").(*Button)
	if s := cont.Size(); s.Height < DialogButton || s.Width < 2*DialogButton {
		t.Errorf("继续 is %v, want at least %dx%d", s, 2*DialogButton, DialogButton)
	}
	for _, want := range []string{"19", "18", "17"} {
		f.tick(time.Second)
		f.k.Sessions().Tick()
		if got := f.ui.idleLeft(); got != want {
			t.Fatalf("countdown %q, want %q", got, want)
		}
	}
	f.mustShow(t, "17 秒后将返回首页", "17")
	f.tap(t, "继续")
	if f.ui.idleShown() {
		t.Fatal("warning shown after 继续")
	}
	if left, ok := f.k.Sessions().Left(); !ok || left != 60*time.Second {
		t.Fatalf("after 继续: %s left (session %v), want the whole 60s", left, ok)
	}
	f.mustShow(t, "请选择办事区域") // the citizen's screen is as they left it
	// Without an answer the session ends at 0 and the screen goes home.
	f.secondsToWarning(t)
	for i := 0; i < 20; i++ {
		f.tick(time.Second)
		f.k.Sessions().Tick()
	}
	if _, ok := f.k.Sessions().Active(); ok || f.ui.idleShown() {
		t.Fatal("session or warning left after the countdown")
	}
	f.mustShow(t, "您好，请选择要办理的业务")
}

// findScroll is the first scroll on screen.
func (f *fixture) findScroll(t *testing.T) *container.Scroll {
	t.Helper()
	var s *container.Scroll
	f.visit(false, func(o fyne.CanvasObject) bool {
		s, _ = o.(*container.Scroll)
		return s == nil
	})
	if s == nil {
		t.Fatalf("no scroll on screen: %q", f.texts())
	}
	return s
}

// Scrolling, typing, a tap on a tile (even a disabled one) and a card on a reader are activity:
// each during the warning goes on with the session, and each restarts its whole timeout.
func TestScrollTypingTilesAndCardsAreActivity(t *testing.T) {
	f, _ := newStaffFixture(t)
	// A small window: the guide's detail scrolls.
	f.win.Resize(fyne.NewSize(1080, 900))
	f.tap(t, "办事指南")
	f.tap(t, "居民身份证换领")
	f.secondsToWarning(t)
	f.findScroll(t).Scrolled(&fyne.ScrollEvent{Scrolled: fyne.Delta{DY: -200}})
	if f.ui.idleShown() {
		t.Fatal("scrolling did not continue the session")
	}
	if left, _ := f.k.Sessions().Left(); left != 120*time.Second {
		t.Errorf("after scrolling %s left, want 120s", left)
	}
	f.win.Resize(fyne.NewSize(1080, 1920))

	// A tile that cannot be used now is still a tap by someone there.
	f.tap(t, "首页")
	f.k.SetDevice(kiosk.DevicePrinter, kiosk.StatePaperOut, "")
	f.secondsToWarning(t)
	var off *Tile
	f.visit(false, func(o fyne.CanvasObject) bool {
		if tl, ok := o.(*Tile); ok && tl.Disabled() {
			off = tl
		}
		return off == nil
	})
	if off == nil {
		t.Fatal("no disabled tile with the printer out of paper")
	}
	test.Tap(off)
	if f.ui.idleShown() {
		t.Fatal("a tap on a tile did not continue the session")
	}

	f.secondsToWarning(t)
	f.k.CardInserted(kiosk.PresentCard{Kind: kiosk.CardUnknown, Reader: "UID reader", UID: []byte{1, 2, 3, 4}})
	if f.ui.idleShown() {
		t.Fatal("a card on the reader did not continue the session")
	}

	// Typing: the lock message in staff mode, whose own timeout is 300 s.
	f.staffCard(t)
	if got := f.secondsToWarning(t); got != 280*time.Second {
		t.Errorf("staff mode warned after %s, want 280s", got)
	}
	test.Type(f.entry(t), "换纸")
	if f.ui.idleShown() {
		t.Fatal("typing did not continue the session")
	}
	if left, _ := f.k.Sessions().Left(); left != 300*time.Second {
		t.Errorf("after typing %s left, want 300s", left)
	}
}

// entry is the first text entry on screen.
func (f *fixture) entry(t *testing.T) *widget.Entry {
	t.Helper()
	var e *widget.Entry
	f.visit(false, func(o fyne.CanvasObject) bool {
		e, _ = o.(*widget.Entry)
		return e == nil
	})
	if e == nil {
		t.Fatalf("no entry on screen: %q", f.texts())
	}
	return e
}
