package ui

import (
	"context"
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/prompt"
	"citizenhome/kiosk/session"
)

// HallServices is what the hall-service screens (预约签到, 办件查询, 好差评, 投诉建议) need
// (*kiosk.HallServices). On a kiosk without them (no hall key) kiosk.NoHall stands in: its Ready
// says why, and the four tiles show as unavailable.
type HallServices interface {
	// Ready is nil when the services can be used; otherwise why not (kiosk.ErrNoHall).
	Ready() error
	CheckIn(ctx context.Context) (kiosk.CheckIn, error)
	Progress(ctx context.Context, code string) (civic.Progress, error)
	Rate(ctx context.Context, r civic.Rating) (civic.Rated, error)
	RatableTicket(ctx context.Context, code string) (civic.Ratable, error)
	Complain(ctx context.Context, c civic.Complaint) (kiosk.Complained, error)
}

// hallCall is how long a hall-service call may take before the screen says so; a check-in and
// a complaint print, which takes a few seconds.
const hallCall = 30 * time.Second

// identified reports whether a card was read in this session (the ID card's identity or a city
// card): what check-in and the lookup by card need.
func (u *UI) identified() bool { return u.core.Person() != nil || u.core.CityCard() != nil }

// cardPrompt asks for an ID card or a city card; the screen then waits for it (waitCard), and
// the card's arrival moves on (onEvent).
func (u *UI) cardPrompt(wait, title, text string) {
	u.set(func() fyne.CanvasObject {
		l := widget.NewLabelWithStyle(text, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		l.Wrapping = fyne.TextWrapWord
		hint := u.wrap(u.t("card.where"))
		hint.Alignment = fyne.TextAlignCenter
		return u.page(title, nil, u.cardScreen(l, hint, cardID, cardCity))
	})
	u.waitCard = wait
}

// working shows a screen while slow work (printing, a lookup) runs.
func (u *UI) working(text string) {
	u.set(func() fyne.CanvasObject {
		bar := widget.NewProgressBarInfinite()
		l := widget.NewLabelWithStyle(text, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		return container.NewVBox(layout.NewSpacer(), l, bar, layout.NewSpacer())
	})
}

// big is a number shown very large: a ticket, a complaint number.
func (u *UI) big(s string, size float32) *canvas.Text {
	t := canvas.NewText(s, colPrimary)
	t.TextSize = size
	if u.theme.Large {
		t.TextSize = size * 1.25
	}
	t.TextStyle.Bold = true
	t.Alignment = fyne.TextAlignCenter
	return t
}

// section is the title of a part of a screen (申请材料, 服务效率): bold and a size larger than
// the text under it, at the left.
func (u *UI) section(s string) *widget.Label {
	l := u.wrap(s)
	l.TextStyle.Bold = true
	l.SizeName = theme.SizeNameSubHeadingText
	return l
}

// heading is a screen's centred bold title.
func (u *UI) heading(s string) *widget.Label {
	h := widget.NewLabelWithStyle(s, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	h.SizeName = "headingText"
	h.Wrapping = fyne.TextWrapWord
	return h
}

// bold is a bold label that wraps.
func (u *UI) bold(s string) *widget.Label {
	l := u.wrap(s)
	l.TextStyle.Bold = true
	return l
}

// centred centres a label's text.
func (u *UI) centred(l *widget.Label) *widget.Label {
	l.Alignment = fyne.TextAlignCenter
	return l
}

// loc is the hall's time zone. It is loaded once per zone name: time.LoadLocation reads the
// zone database from disk, and the clock asks every second.
func (u *UI) loc() *time.Location {
	name := u.core.Config().Hall.TimeZone
	if u.zone.loc != nil && u.zone.name == name {
		return u.zone.loc
	}
	loc, err := u.core.Config().Location()
	if err != nil {
		return time.Local
	}
	u.zone.name, u.zone.loc = name, loc
	return loc
}

func (u *UI) hhmm(t time.Time) string { return t.In(u.loc()).Format("15:04") }
func (u *UI) day(t time.Time) string  { return t.In(u.loc()).Format("2006-01-02") }

// finish is the button that ends the citizen's session (done: back home, data wiped). It carries
// the home icon: it is the screen's way home, and says so to a citizen who reads no 完成.
func (u *UI) finish() fyne.CanvasObject {
	return tall(NewButton(u.t("ticket.finish"), Primary, iconHome, u.clicked(func() { u.core.Sessions().End(session.Finished) })))
}

// ticketCodeLen is the longest ticket number the keypads take (a letter and digits).
const ticketCodeLen = 5

// ticketCodePad is the keypad on which a ticket's number is typed (rating a service, a staff
// reprint): the hall's queue letters and the digits.
func (u *UI) ticketCodePad(code string, set func(string)) fyne.CanvasObject {
	var letters strings.Builder
	for _, c := range u.core.Config().Queue.Categories {
		letters.WriteString(c.Letter)
	}
	return u.charPad(code, letters.String()+"0123456789", 6, ticketCodeLen, set)
}

// charPad is an on-screen keypad of the keys given (digits, Latin letters) with backspace and
// clear; typing stops at limit runes. It calls set with the new text on every key.
func (u *UI) charPad(text string, keys string, cols, limit int, set func(string)) fyne.CanvasObject {
	g := container.NewGridWithColumns(cols)
	add := func(s string) {
		if len([]rune(text)) < limit {
			set(text + s)
		}
	}
	for _, c := range keys {
		c := string(c)
		g.Add(tall(u.button(c, func() { u.touch(); add(c) })))
	}
	g.Add(tall(u.button("⌫", func() {
		u.touch()
		if r := []rune(text); len(r) > 0 {
			set(string(r[:len(r)-1]))
		}
	})))
	g.Add(tall(u.button(u.t("guide.clear"), func() { u.touch(); set("") })))
	return g
}

// hallError shows what a hall-service error means and what to do next; back is where the
// citizen can try again (nil: home only).
func (u *UI) hallError(err error, back func()) {
	var ce *kiosk.ClosedError
	var pe *kiosk.PrinterError
	switch {
	case errors.Is(err, civic.ErrSource), errors.Is(err, context.DeadlineExceeded):
		u.say(prompt.Line{Prompt: prompt.HallUnreachable})
	case errors.As(err, &ce), errors.Is(err, kiosk.ErrLocked), errors.Is(err, kiosk.ErrNoHall), errors.Is(err, civic.ErrCardNotLinked):
		// The closed screen says its own; locked says nothing; the others are no fault to announce.
	default:
		u.sayError(err)
	}
	switch {
	case errors.Is(err, kiosk.ErrLocked):
		_, msg := u.core.Locked()
		u.showLocked(msg)
	case errors.As(err, &ce):
		u.closed(kiosk.Offer{Hours: ce.Status})
	case errors.As(err, &pe):
		u.message(u.t("error.title"), u.tf("error.printer", map[string]any{"S": u.t("printer." + string(pe.State))}), nil)
	case errors.Is(err, kiosk.ErrNoHall):
		u.message(u.t("error.title"), u.t("error.no_hall"), nil)
	case errors.Is(err, civic.ErrCardNotLinked):
		// A city card the hall has not linked to its holder: the ID card works, or a window
		// links the card.
		u.message(u.t("error.card_not_linked_title"), u.t("error.card_not_linked"), back)
	case errors.Is(err, civic.ErrSource), errors.Is(err, context.DeadlineExceeded):
		u.message(u.t("error.title"), u.t("error.source"), back)
	default:
		u.message(u.t("error.title"), u.t("error.other"), back)
	}
}
