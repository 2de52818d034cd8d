package ui

import (
	"context"
	"errors"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/session"
)

// codeKeys are the keys of the lookup-code keypad: codes and complaint numbers are digits and
// capital letters (civic.ParseCode).
const codeKeys = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// maxCode bounds what can be typed: the longest lookup code civic.ParseCode accepts.
const maxCode = 40

// showProgress starts 办件查询: by the ID card or city card (read already, or tapped now), or by the
// lookup code printed on a ticket, a receipt or a complaint slip, typed on an on-screen keypad.
func (u *UI) showProgress() { u.progress("") }

func (u *UI) progress(code string) {
	u.set(func() fyne.CanvasObject {
		var byCard fyne.CanvasObject
		if u.identified() {
			byCard = tall(u.primary(u.t("progress.mine"), func() { u.touch(); u.lookup("") }))
		} else {
			byCard = container.NewVBox(u.bold(u.t("progress.tap")), u.cardGuide(cardID, cardCity))
		}
		typed := u.bold(u.tf("progress.typed", map[string]any{"Q": code}))
		if code == "" {
			typed = u.wrap(u.t("progress.code_hint"))
		}
		cols := 7
		if u.theme.Large {
			cols = 5
		}
		pad := u.charPad(code, codeKeys, cols, maxCode, u.progress)
		search := u.primary(u.t("progress.search"), func() { u.touch(); u.lookup(code) })
		if strings.TrimSpace(code) == "" {
			search.Disable()
		}
		body := container.NewVBox(byCard, widget.NewSeparator(), card(typed), pad, tall(search))
		return u.page(u.t("home.progress"), nil, u.scroll(body))
	})
	if !u.identified() {
		u.waitCard = waitProgress
	}
}

// lookup asks the core: by the session's card when code is "", else by code.
func (u *UI) lookup(code string) {
	h := u.services
	if err := h.Ready(); err != nil {
		u.hallError(err, nil)
		return
	}
	u.working(u.t("progress.working"))
	u.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), hallCall)
		defer cancel()
		p, err := h.Progress(ctx, code)
		fyne.Do(func() { u.found(code, p, err) })
	})
}

func (u *UI) found(code string, p civic.Progress, err error) {
	back := func() { u.progress(code) }
	switch {
	case err == nil:
	case errors.Is(err, civic.ErrNoIdentity):
		u.progress(code)
		return
	case errors.Is(err, civic.ErrInvalid):
		u.message(u.t("progress.title_none"), u.t("progress.invalid"), back)
		return
	case errors.Is(err, civic.ErrNotFound):
		u.message(u.t("progress.title_none"), u.t("progress.not_found"), back)
		return
	default:
		u.hallError(err, back)
		return
	}
	u.set(func() fyne.CanvasObject {
		u.screen = session.ScreenReading
		list := container.NewVBox()
		if code == "" {
			if who := u.core.Person(); who != nil {
				list.Add(u.bold(u.tf("progress.of", map[string]any{"Name": who.Greeting()})))
			} else if c := u.core.CityCard(); c != nil {
				list.Add(u.bold(u.tf("progress.of_card", map[string]any{"Card": c.Masked()})))
			}
		}
		if len(p.Applications) == 0 && len(p.Complaints) == 0 && p.Ticket == nil {
			list.Add(u.wrap(u.t("progress.empty")))
		}
		if t := p.Ticket; t != nil {
			name := t.MatterID
			if m := u.core.Catalog().Matter(t.MatterID); m != nil {
				name = m.Name.In(u.lang)
			}
			list.Add(u.bold(u.tf("progress.ticket", map[string]any{"T": t.Code, "M": name, "D": t.Day})))
		}
		if len(p.Applications) > 0 {
			list.Add(u.section(u.t("progress.applications")))
		}
		for _, a := range p.Applications {
			list.Add(u.application(a))
		}
		if len(p.Complaints) > 0 {
			list.Add(u.section(u.t("progress.complaints")))
		}
		for _, c := range p.Complaints {
			list.Add(u.complaintStatus(c))
		}
		return u.page(u.t("progress.result_title"), back, u.scroll(container.NewVBox(list, layout.NewSpacer(), u.finish())))
	})
}

// card frames one record of a list.
func card(items ...fyne.CanvasObject) fyne.CanvasObject {
	bg := canvas.NewRectangle(color.Transparent)
	bg.StrokeColor = colDisabled
	bg.StrokeWidth = 2
	bg.CornerRadius = 6
	return container.NewStack(bg, container.NewPadded(container.NewVBox(items...)))
}

func (u *UI) application(a civic.Application) fyne.CanvasObject {
	name := a.MatterName.In(u.lang)
	if a.MatterName.IsZero() {
		name = a.Matter
	}
	// The status first, in colour, and an overdue flag beside it: what the citizen came to see.
	status := container.NewHBox(u.statusFlag(a.Status))
	if a.Overdue || a.OverdueLegal {
		key := "progress.overdue"
		if a.OverdueLegal {
			key = "progress.overdue_legal"
		}
		status.Add(u.flag(u.t(key), colWarning))
	}
	form := widget.NewForm(widget.NewFormItem(u.t("progress.number"), widget.NewLabel(a.ID)))
	ask := false // the hall's import did not say what to bring or where, in this language
	if a.Handling != "" {
		form.Append(u.t("guide.handling"), widget.NewLabel(a.Handling.Label().In(u.lang)))
	}
	if a.Accepted != "" {
		form.Append(u.t("progress.accepted"), widget.NewLabel(a.Accepted))
	}
	if a.Finished != "" {
		form.Append(u.t("progress.finished"), widget.NewLabel(a.Finished))
	}
	if a.Status != civic.StatusRejected && !a.MatterName.IsZero() {
		form.Append(u.t("guide.promised"), u.wrap(u.deadline(a.Promised)))
		form.Append(u.t("guide.legal"), u.wrap(u.deadline(a.Legal)))
	}
	if a.Status == civic.StatusCorrection {
		// What to bring and where, as the hall words them: what the citizen must act on.
		// The hall's Chinese alone is not shown in English: the citizen is sent to ask instead.
		bring, to := u.hallText(a.Bring), u.hallText(a.BringTo)
		if bring != "" {
			form.Append(u.t("progress.bring"), u.bold(bring))
		}
		if to != "" {
			form.Append(u.t("progress.bring_to"), u.bold(to))
		}
		ask = bring == "" || to == ""
	}
	items := []fyne.CanvasObject{u.bold(name), status, form}
	if ask {
		items = append(items, u.wrap(u.t("progress.bring_ask")))
	}
	if a.Suspended {
		items = append(items, u.wrap(u.t("progress.suspended")))
	}
	if a.Overdue || a.OverdueLegal {
		items = append(items, u.wrap(u.t("progress.overdue_help")))
	}
	return card(items...)
}

// statusMeaning is what a status asks of the citizen, which its colour and mark say (never the
// colour alone: the mark and the words say it too).
type statusMeaning int

const (
	meaningOpen    statusMeaning = iota // in hand at the hall: wait
	meaningDone                         // done, approved, issued
	meaningAction                       // the citizen must act (补正)
	meaningRefused                      // not accepted
)

// statusMark is the colour and the translation key of the mark put before a status.
func statusMark(m statusMeaning) (color.Color, string) {
	switch m {
	case meaningDone:
		return colSuccess, "progress.mark_done"
	case meaningAction:
		return colWarning, "progress.mark_action"
	case meaningRefused:
		return colPrimary, "progress.mark_refused"
	}
	return colInfo, "progress.mark_open"
}

func applicationMeaning(st civic.Status) statusMeaning {
	switch st {
	case civic.StatusDone, civic.StatusIssued:
		return meaningDone
	case civic.StatusCorrection:
		return meaningAction
	case civic.StatusRejected:
		return meaningRefused
	}
	return meaningOpen
}

func complaintMeaning(st civic.ComplaintState) statusMeaning {
	switch st {
	case civic.ComplaintResolved:
		return meaningDone
	case civic.ComplaintRejected:
		return meaningRefused
	}
	return meaningOpen
}

func (u *UI) meaningFlag(m statusMeaning, label string) fyne.CanvasObject {
	c, key := statusMark(m)
	return u.flag(u.tf(key, map[string]any{"S": label}), c)
}

// statusFlag is an application's status, coloured and marked by what it means for the citizen.
func (u *UI) statusFlag(st civic.Status) fyne.CanvasObject {
	return u.meaningFlag(applicationMeaning(st), st.Label().In(u.lang))
}

// complaintFlag is a complaint's state, coloured and marked the same way.
func (u *UI) complaintFlag(st civic.ComplaintState) fyne.CanvasObject {
	return u.meaningFlag(complaintMeaning(st), st.Label().In(u.lang))
}

// hallText is a text the hall imported in the screen's language: "" in English mode when the
// hall gave only Chinese.
func (u *UI) hallText(t catalog.Text) string {
	if u.lang == "en" && t.En == "" {
		return ""
	}
	return t.In(u.lang)
}

// flag is a short bold text in a colour: a status, a warning.
func (u *UI) flag(s string, c color.Color) fyne.CanvasObject {
	t := canvas.NewText(s, c)
	t.TextStyle.Bold = true
	t.TextSize = u.theme.Size(theme.SizeNameSubHeadingText)
	return container.NewPadded(t)
}

// deadline is a time limit as a citizen reads it: "5 个工作日（2026-11-27 前）".
func (u *UI) deadline(d civic.Deadline) string {
	switch {
	case d.None:
		return u.t("progress.no_limit")
	case d.Days == 0:
		return u.t("progress.same_day")
	}
	key := "progress.workdays"
	if d.Calendar {
		key = "progress.days"
	}
	s := u.tf(key, map[string]any{"N": d.Days})
	if d.Date != "" {
		s += u.tf("progress.by", map[string]any{"D": d.Date})
	}
	return s
}

func (u *UI) complaintStatus(c civic.ComplaintStatus) fyne.CanvasObject {
	form := widget.NewForm(
		widget.NewFormItem(u.t("complaint.category"), widget.NewLabel(c.Category.Label().In(u.lang))),
		widget.NewFormItem(u.t("complaint.submitted_at"), widget.NewLabel(u.day(c.Submitted))),
	)
	if c.Reply != "" {
		form.Append(u.t("complaint.reply"), u.wrap(c.Reply))
	}
	return card(u.bold(u.tf("complaint.number_is", map[string]any{"N": c.Number})),
		container.NewHBox(u.complaintFlag(c.State)), form)
}
