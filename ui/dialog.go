package ui

import (
	"image/color"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk/prompt"
)

// DialogButton is the least height of a dialog's buttons (idle warning, elder offer, staff
// confirmations): larger than TouchTarget, as the answer is what the dialog is for.
const DialogButton = 120

// dialogWidth is the share of the window's width a dialog takes.
const dialogWidth = 0.86

// Dialogs are in large text whatever the screen's: they are read by whoever stands at the kiosk,
// before they chose a text size. Their parts take the large size names (sizeLargeText,
// sizeLargeHeading) rather than a theme override: Fyne parses the font anew for every override.

// dialogHeading is a dialog's title, in elder mode's heading size.
func (u *UI) dialogHeading(s string) *widget.Label {
	h := u.heading(s)
	h.SizeName = sizeLargeHeading
	return h
}

// dialogText is a dialog's wrapped text, in elder mode's text size.
func (u *UI) dialogText(s string) *widget.Label {
	l := u.wrap(s)
	l.SizeName = sizeLargeText
	return l
}

// bigButton is a dialog's button: at least DialogButton high and twice as wide.
func (u *UI) bigButton(label string, style Style, tap func()) fyne.CanvasObject {
	b := NewButton(label, style, "", u.clicked(tap))
	b.SizeName = sizeLargeText
	if style == Danger {
		b.IconName = iconAlert
	}
	spacer := canvas.NewRectangle(color.Transparent)
	spacer.SetMinSize(fyne.NewSize(2*DialogButton, DialogButton))
	return container.NewStack(spacer, b)
}

// popup shows content (built of dialogHeading, dialogText and bigButton) as a modal dialog,
// dialogWidth of the window wide.
func (u *UI) popup(content fyne.CanvasObject) *widget.PopUp {
	c := u.win.Canvas()
	// An outline sets the dialog apart from the screen behind it (3:1 and more over the backdrop).
	edge := canvas.NewRectangle(color.Transparent)
	edge.StrokeColor, edge.StrokeWidth = colEdge, edgeWidth
	framed := container.NewStack(container.New(layout.NewCustomPaddedLayout(-theme.Padding(), -theme.Padding(), -theme.Padding(), -theme.Padding()), edge),
		container.NewPadded(content))
	p := widget.NewModalPopUp(framed, c)
	w := c.Size().Width * dialogWidth
	p.Resize(fyne.NewSize(w, p.MinSize().Height))
	p.Show()
	// Wrapped text knows its height only once it has its width: size it again now.
	p.Resize(fyne.NewSize(w, p.MinSize().Height))
	return p
}

// ask shows a question in a modal dialog with two large buttons: yes (primary) and no. Either
// answer closes it and is a touch. Only one question is on screen at a time: a new one, a
// screen change and the end of the session close it.
func (u *UI) ask(title, body, yes, no string, onYes, onNo func()) {
	u.askStyled(title, body, yes, no, Primary, onYes, onNo)
}

// askStyled is ask with yes in the style given (Danger for a destructive action).
func (u *UI) askStyled(title, body, yes, no string, yesStyle Style, onYes, onNo func()) {
	u.hideDialog()
	h := u.dialogHeading(title)
	var answer *widget.PopUp
	close := func(f func()) func() {
		return func() {
			u.touch()
			if u.dialog == answer {
				u.hideDialog()
			}
			if f != nil {
				f()
			}
		}
	}
	buttons := container.NewGridWithColumns(2, u.bigButton(no, Secondary, close(onNo)), u.bigButton(yes, yesStyle, close(onYes)))
	box := container.NewVBox(h)
	if body != "" {
		box.Add(u.dialogText(body))
	}
	box.Add(buttons)
	answer = u.popup(box)
	u.dialog = answer
}

// hideDialog closes the question on screen, if any.
func (u *UI) hideDialog() {
	if u.dialog != nil {
		u.dialog.Hide()
		u.dialog = nil
	}
}

// dialogShown reports whether a question is on screen (tests).
func (u *UI) dialogShown() bool { return u.dialog != nil }

// confirm asks staff to confirm action (its name, as on its button) with what it will do; 确认
// (in the danger style: every action confirmed stops citizens' service) runs do, 取消 nothing.
func (u *UI) confirm(action, consequence string, do func()) {
	u.askStyled(u.tf("confirm.title", map[string]any{"A": action}), consequence, u.t("confirm.yes"), u.t("confirm.no"), Danger, do, nil)
}

// showIdle is the idle warning: the session ends in left unless someone touches the screen. It
// counts down every second (Tick) and its large 继续 button goes on with the session.
func (u *UI) showIdle(left time.Duration) {
	u.hideIdle()
	title := u.dialogHeading(u.t("idle.title"))
	u.idleCount = canvas.NewText("", colPrimary)
	u.idleCount.TextSize = 120
	u.idleCount.TextStyle.Bold = true
	u.idleCount.Alignment = fyne.TextAlignCenter
	u.idleBody = u.dialogText("")
	u.idleBody.Alignment = fyne.TextAlignCenter
	u.setIdleLeft(left)
	cont := u.bigButton(u.t("idle.continue"), Primary, func() { u.touch() })
	u.idle = u.popup(container.NewVBox(title, u.idleCount, u.idleBody, cont))
}

// setIdleLeft shows the seconds left in the idle warning (rounded up: "0" shows only as the
// session ends).
func (u *UI) setIdleLeft(left time.Duration) {
	s := int((left + time.Second - 1) / time.Second)
	u.idleCount.Text = strconv.Itoa(s)
	u.idleCount.Refresh()
	u.idleBody.SetText(u.tf("idle.body", map[string]any{"S": s}))
}

// tickIdle counts the idle warning down (Tick).
func (u *UI) tickIdle() {
	if u.idle == nil {
		return
	}
	if left, ok := u.core.Sessions().Left(); ok {
		u.setIdleLeft(left)
	}
}

func (u *UI) hideIdle() {
	if u.idle != nil {
		u.idle.Hide()
		u.idle = nil
	}
}

// idleShown reports whether the idle warning is on screen (tests).
func (u *UI) idleShown() bool { return u.idle != nil }

// idleLeft is the countdown the idle warning shows (tests); "" when none is shown.
func (u *UI) idleLeft() string {
	if u.idle == nil {
		return ""
	}
	return u.idleCount.Text
}

// offerElder offers elder mode (large text) to a citizen whose ID card shows they are old enough
// (kiosk.Kiosk.ElderOffer decides), once per session.
func (u *UI) offerElder() {
	// Said with the card's 读卡成功, which it would otherwise cut short.
	u.say(prompt.Line{Prompt: prompt.CardRead}, prompt.Line{Prompt: prompt.ElderOffer})
	u.ask(u.t("elder.offer_title"), u.t("elder.offer_body"), u.t("elder.offer_yes"), u.t("elder.offer_no"),
		func() { u.setLarge(true) }, nil)
}
