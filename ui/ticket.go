package ui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/prompt"
	"citizenhome/kiosk/queue"
)

// showSections starts the take-a-ticket flow: the hall sections with something to offer now.
func (u *UI) showSections() {
	o := u.core.Offer()
	if !o.Hours.Open {
		u.closed(o)
		return
	}
	u.set(func() fyne.CanvasObject {
		o := u.core.Offer()
		var items []fyne.CanvasObject
		if o.Hours.Weekend {
			items = append(items, widget.NewLabelWithStyle(u.t("weekend.only"), fyne.TextAlignCenter, fyne.TextStyle{Italic: true}))
		}
		tiles := map[string]*Tile{}
		for _, so := range o.Sections {
			so := so
			tile := u.tile(so.Section.Name.In(u.lang), true, func() { u.touch(); u.showMatters(so) })
			tiles[so.Section.ID] = tile
			items = append(items, tile)
		}
		// Each tile says how many wait for its section.
		u.newWaitBoard(func(counts map[string]int, err error) { u.fillWaiting(tiles, counts, err) })
		return u.page(u.t("ticket.choose_section"), nil, u.scroll(container.NewVBox(items...)))
	})
}

// showMatters lists a section's matters offered now.
func (u *UI) showMatters(so kiosk.SectionOffer) {
	u.set(func() fyne.CanvasObject {
		var items []fyne.CanvasObject
		for _, m := range so.Matters {
			m := m
			label := fmt.Sprintf("%s  ·  %s", m.Name.In(u.lang), m.HandlingTime().In(u.lang))
			t := u.tile(label, false, func() { u.touch(); u.showConfirm(so, m) })
			t.IconName = iconTicket
			items = append(items, t)
		}
		title := u.t("ticket.choose_matter") + " · " + so.Section.Name.In(u.lang)
		return u.page(title, u.showSections, u.scroll(container.NewVBox(items...)))
	})
}

// priorityKey is the text of a green-channel ticket: an urgent matter's (急办件) names it as the
// guide and the ticket do.
func priorityKey(urgent bool) string {
	if urgent {
		return "ticket.priority_urgent"
	}
	return "ticket.priority"
}

// showConfirm shows the matter, the queue ahead and the estimated wait before the number is taken.
func (u *UI) showConfirm(so kiosk.SectionOffer, m *catalog.Matter) {
	u.set(func() fyne.CanvasObject {
		est, err := u.core.Estimate(context.Background(), m.ID)
		form := widget.NewForm(
			widget.NewFormItem(u.t("ticket.section"), widget.NewLabel(so.Section.Name.In(u.lang))),
			widget.NewFormItem(u.t("ticket.matter"), u.wrap(m.Name.In(u.lang))),
		)
		info := container.NewVBox(form)
		if err == nil {
			info.Add(widget.NewLabel(u.tf("ticket.waiting", map[string]any{"N": est.Ahead})))
			info.Add(widget.NewLabel(u.tf("ticket.estimate", map[string]any{"M": int(est.Wait.Round(time.Minute).Minutes())})))
			if est.Priority {
				info.Add(widget.NewLabelWithStyle(u.t(priorityKey(m.Handling == catalog.Urgent)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			}
		}
		ok := tall(NewButton(u.t("ticket.confirm"), Primary, iconTicket, u.clicked(func() { u.touch(); u.take(m) })))
		return u.page(u.t("ticket.confirm_title"), func() { u.showMatters(so) },
			container.NewVBox(info, layout.NewSpacer(), ok))
	})
}

// wrap is a label that wraps: Chinese at any character (it has no spaces), English at words.
func (u *UI) wrap(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	if u.lang == "zh" {
		l.Wrapping = fyne.TextWrapBreak
	}
	return l
}

// take issues and prints the ticket off the UI goroutine, showing the printing screen meanwhile.
func (u *UI) take(m *catalog.Matter) {
	u.set(func() fyne.CanvasObject {
		bar := widget.NewProgressBarInfinite()
		l := widget.NewLabelWithStyle(u.t("ticket.printing"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		return container.NewVBox(layout.NewSpacer(), l, bar, layout.NewSpacer())
	})
	u.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		is, err := u.core.TakeTicket(ctx, m.ID)
		fyne.Do(func() { u.taken(is, err) })
	})
}

func (u *UI) taken(is kiosk.Issued, err error) {
	if err != nil {
		u.ticketError(err)
		return
	}
	u.flow.ticket = &sessionTicket{ID: is.Ticket.ID, Code: is.Ticket.Code}
	u.say(prompt.Line{Prompt: prompt.Ticket, Code: is.Ticket.Code, Ahead: is.Ticket.WaitingAhead})
	u.set(func() fyne.CanvasObject {
		num := canvas.NewText(is.Ticket.Code, colPrimary)
		num.TextSize = 160
		if u.theme.Large {
			num.TextSize = 200
		}
		num.TextStyle.Bold = true
		num.Alignment = fyne.TextAlignCenter
		items := []fyne.CanvasObject{
			widget.NewLabelWithStyle(u.t("ticket.your_number"), fyne.TextAlignCenter, fyne.TextStyle{}),
			num,
			widget.NewLabelWithStyle(is.Matter.Name.In(u.lang), fyne.TextAlignCenter, fyne.TextStyle{}),
		}
		if w := u.whereTo(is.Matter); w != nil {
			items = append(items, w)
		}
		items = append(items, widget.NewLabelWithStyle(u.tf("ticket.waiting", map[string]any{"N": is.Ticket.WaitingAhead}), fyne.TextAlignCenter, fyne.TextStyle{Bold: true}))
		// The estimate printed on the ticket (the hall's when it numbered it): with nobody
		// ahead, or nothing to estimate from, there is no wait worth a line.
		if is.Ticket.WaitingAhead > 0 && is.Ticket.EstimatedWait > 0 {
			m := max(1, int(is.Ticket.EstimatedWait.Round(time.Minute).Minutes()))
			items = append(items, widget.NewLabelWithStyle(u.tf("ticket.estimate", map[string]any{"M": m}), fyne.TextAlignCenter, fyne.TextStyle{}))
		}
		if is.Ticket.Priority {
			key := priorityKey(is.Ticket.PriorityReason == queue.ReasonUrgent)
			items = append(items, widget.NewLabelWithStyle(u.t(key), fyne.TextAlignCenter, fyne.TextStyle{}))
		}
		note := u.t("ticket.take_slip")
		if is.PrintErr != nil {
			note = u.t("ticket.not_printed")
		}
		noteLabel := u.wrap(note)
		noteLabel.Alignment = fyne.TextAlignCenter
		items = append(items, noteLabel, layout.NewSpacer())
		items = append(items, u.finish()) // no rating here: the citizen has not been served yet
		h := widget.NewLabelWithStyle(u.t("ticket.done_title"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		h.SizeName = "headingText"
		return container.NewBorder(h, nil, nil, nil, container.NewVBox(items...))
	})
}

func (u *UI) ticketError(err error) {
	var pe *kiosk.PrinterError
	var ce *kiosk.ClosedError
	var ne *kiosk.NumberError
	switch {
	case errors.As(err, &ce), errors.Is(err, kiosk.ErrLocked), errors.Is(err, kiosk.ErrNotOnWeekend), errors.Is(err, kiosk.ErrUnknownMatter):
		// The closed screen says its own; locked says nothing; the others lead back to a choice.
	default:
		u.sayError(err)
	}
	switch {
	case errors.As(err, &ce):
		u.closed(kiosk.Offer{Hours: ce.Status})
	case errors.As(err, &pe):
		u.message(u.t("error.title"), u.tf("error.printer", map[string]any{"S": u.t("printer." + string(pe.State))}), nil)
	case errors.Is(err, kiosk.ErrNotOnWeekend):
		u.message(u.t("error.title"), u.t("error.weekend"), u.showSections)
	case errors.Is(err, kiosk.ErrUnknownMatter):
		u.message(u.t("error.title"), u.t("error.unknown"), u.showSections)
	case errors.Is(err, kiosk.ErrLocked):
		_, msg := u.core.Locked()
		u.showLocked(msg)
	case errors.As(err, &ne) && ne.Refused:
		u.message(u.t("error.title"), u.t("error.number_refused"), nil)
	case errors.Is(err, kiosk.ErrNoNumber):
		u.message(u.t("error.title"), u.t("error.no_number"), nil)
	default:
		u.message(u.t("error.title"), u.t("error.other"), nil)
	}
}

// closed says the hall is not serving, why, and when it serves next.
func (u *UI) closed(o kiosk.Offer) {
	why := u.t("closed." + string(o.Hours.Reason))
	next := u.t("closed.none")
	if !o.Hours.Next.IsZero() {
		loc, err := u.core.Config().Location()
		if err != nil {
			loc = time.Local
		}
		next = u.tf("closed.next", map[string]any{"T": o.Hours.Next.In(loc).Format("2006-01-02 15:04")})
	}
	u.message(u.t("closed.title"), why+"\n"+next, nil)
	u.say(prompt.Line{Prompt: prompt.Closed})
}
