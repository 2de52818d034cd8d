package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
)

// WaitingPoll is how often Tick asks the core again how many wait for each section while
// section tiles are on screen. halld publishes its figures at most once a second and a citizen
// reads a tile for a few seconds: asking more often would only load the store.
const WaitingPoll = 5 * time.Second

// waitingTimeout bounds one question to the core: the screen does not wait on a busy store.
const waitingTimeout = 2 * time.Second

// waitBoard is what shows the waiting counts on the screen shown: the sections screen's tiles,
// the home screen's panel. Only the UI goroutine touches it (Tick arrives through fyne.Do; the
// answer of a refresh too).
type waitBoard struct {
	// show writes the core's counts by section ID on the screen, or says there are none when
	// err is not nil.
	show   func(counts map[string]int, err error)
	polled time.Time // when the core was last asked, on the core's clock
	busy   bool      // a refresh is under way off the UI goroutine
}

// newWaitBoard makes the board of a screen being built, shows the core's figures at once (the
// screen never shows without them when the core has them), and makes it the one Tick
// refreshes.
func (u *UI) newWaitBoard(show func(counts map[string]int, err error)) {
	b := &waitBoard{show: show, polled: u.core.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), waitingTimeout)
	counts, err := u.core.WaitingBySection(ctx)
	cancel()
	b.show(counts, err)
	u.waiting = b
}

// pollWaiting asks the core again, off the UI goroutine, when WaitingPoll has passed since the
// last question and none is under way. A clock set back counts as time passed: the figures are
// not left to age until it catches up.
func (u *UI) pollWaiting() {
	b := u.waiting
	if b == nil || b.busy {
		return
	}
	now := u.core.Now()
	if d := now.Sub(b.polled); d >= 0 && d < WaitingPoll {
		return
	}
	b.busy, b.polled = true, now
	u.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitingTimeout)
		counts, err := u.core.WaitingBySection(ctx)
		cancel()
		fyne.Do(func() {
			b.busy = false
			if u.waiting == b { // the screen is still the one asked for
				b.show(counts, err)
			}
		})
	})
}

// fillWaiting writes counts on the section tiles: "12 人等候", or "无需等候" for none. A section
// the core gave no figure for, or every section when the core failed, shows no count rather
// than an old or made-up one.
func (u *UI) fillWaiting(tiles map[string]*Tile, counts map[string]int, err error) {
	for id, t := range tiles {
		t.SetNote(u.waitingText(id, counts, err))
	}
}

// waitingText is what a section's count reads: "12 人等候", "无需等候", or "" when the core gave
// no figure for it (or failed).
func (u *UI) waitingText(id string, counts map[string]int, err error) string {
	n, ok := counts[id]
	switch {
	case err != nil || !ok:
		return ""
	case n == 0:
		return u.t("ticket.no_wait")
	}
	return u.tf("ticket.section_waiting", map[string]any{"N": n})
}
