package ui

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
	"citizenhome/kiosk/prompt"
)

// Voice speaks the prompts and clicks at taps (*prompt.Voice). The screens decide when: they
// know what is shown and in which language. Its methods return at once.
type Voice interface {
	// Say says lines in lang, cutting short what was being said.
	Say(lang string, lines ...prompt.Line)
	// Tap clicks.
	Tap()
	// Level is the volume and mute staff set.
	Level() prompt.Level
}

var _ Voice = (*prompt.Voice)(nil)

// say says lines in the screen's language; nothing without a voice.
func (u *UI) say(lines ...prompt.Line) {
	if u.voice != nil {
		u.voice.Say(u.lang, lines...)
	}
}

// tapped clicks, for a tap on a button or tile (not for a scroll).
func (u *UI) tapped() {
	if u.voice != nil {
		u.voice.Tap()
	}
}

// sayError says what a screen reporting err says: the printer, the hall's system, the numbering,
// anything else. Errors with a screen of their own (closed, locked) say theirs there.
func (u *UI) sayError(err error) {
	var pe *kiosk.PrinterError
	var ne *kiosk.NumberError
	switch {
	case errors.As(err, &pe) && pe.State == kiosk.StatePaperOut:
		u.say(prompt.Line{Prompt: prompt.PaperOut})
	case errors.As(err, &pe):
		u.say(prompt.Line{Prompt: prompt.PrinterFault})
	case errors.Is(err, kiosk.ErrNoNumber), errors.As(err, &ne):
		u.say(prompt.Line{Prompt: prompt.NoNumber})
	default:
		u.say(prompt.Line{Prompt: prompt.Failed})
	}
}

// volumeStep is how much staff's − and + change the volume.
const volumeStep = 10

// voiceControls are staff mode's volume − / + and mute, applied at once; nil without a voice.
func (d *staffDesk) voiceControls(ctx context.Context, st Staff, do func(func() string) func()) fyne.CanvasObject {
	u := d.u
	if u.voice == nil {
		return nil
	}
	l := u.voice.Level()
	set := func(n prompt.Level) func() {
		return do(func() string {
			if err := st.SetVoice(ctx, n); err != nil {
				return u.tf("staff.failed", map[string]any{"E": err.Error()})
			}
			n = u.voice.Level()
			if n.Muted {
				return u.t("staff.voice_muted")
			}
			u.tapped() // staff hear the new volume
			return u.tf("staff.voice_volume", map[string]any{"V": n.Volume})
		})
	}
	state := u.tf("staff.voice_volume", map[string]any{"V": l.Volume})
	if l.Muted {
		state = u.t("staff.voice_muted") + " · " + state // the volume it comes back at
	}
	muteKey := "staff.voice_mute"
	if l.Muted {
		muteKey = "staff.voice_unmute"
	}
	return container.NewVBox(u.bold(u.t("staff.voice")), widget.NewLabel(state), container.NewGridWithColumns(3,
		tall(u.button(u.t("staff.voice_down"), set(prompt.Level{Volume: max(0, l.Volume-volumeStep), Muted: l.Muted}))),
		tall(u.button(u.t("staff.voice_up"), set(prompt.Level{Volume: min(100, l.Volume+volumeStep), Muted: l.Muted}))),
		tall(u.button(u.t(muteKey), set(prompt.Level{Volume: l.Volume, Muted: !l.Muted}))),
	))
}
