package ui

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/civic"
)

// showCheckIn starts 预约签到: with a card already read in this session it checks in at once;
// otherwise it asks for the ID card or city card the booking was made with, and checks in as
// soon as the card is read.
func (u *UI) showCheckIn() {
	if !u.identified() {
		u.cardPrompt(waitCheckIn, u.t("checkin.title"), u.t("checkin.tap"))
		return
	}
	u.checkIn()
}

// checkIn checks the session's citizen in off the UI goroutine (it prints the ticket).
func (u *UI) checkIn() {
	h := u.services
	if err := h.Ready(); err != nil {
		u.hallError(err, nil)
		return
	}
	u.working(u.t("checkin.working"))
	u.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), hallCall)
		defer cancel()
		ci, err := h.CheckIn(ctx)
		fyne.Do(func() { u.checkedIn(ci, err) })
	})
}

func (u *UI) checkedIn(ci kiosk.CheckIn, err error) {
	if err != nil {
		u.checkInError(err)
		return
	}
	is := ci.Issued
	u.flow.ticket = &sessionTicket{ID: is.Ticket.ID, Code: is.Ticket.Code}
	u.set(func() fyne.CanvasObject {
		items := []fyne.CanvasObject{
			widget.NewLabelWithStyle(u.t("ticket.your_number"), fyne.TextAlignCenter, fyne.TextStyle{}),
			u.big(is.Ticket.Code, 160),
		}
		if is.Matter != nil {
			items = append(items, widget.NewLabelWithStyle(is.Matter.Name.In(u.lang), fyne.TextAlignCenter, fyne.TextStyle{}))
		}
		if w := u.whereTo(is.Matter); w != nil {
			items = append(items, w)
		}
		items = append(items,
			widget.NewLabelWithStyle(u.tf("checkin.booked", map[string]any{"T": u.hhmm(ci.Appointment.Start)}), fyne.TextAlignCenter, fyne.TextStyle{}),
			widget.NewLabelWithStyle(u.t("checkin.priority"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
			widget.NewLabelWithStyle(u.tf("ticket.waiting", map[string]any{"N": is.Ticket.WaitingAhead}), fyne.TextAlignCenter, fyne.TextStyle{}),
		)
		note := u.t("ticket.take_slip")
		if is.PrintErr != nil {
			note = u.t("ticket.not_printed")
		}
		noteLabel := u.wrap(note)
		noteLabel.Alignment = fyne.TextAlignCenter
		items = append(items, noteLabel, layout.NewSpacer())
		items = append(items, u.finish()) // no rating here: the citizen has not been served yet
		return container.NewBorder(u.heading(u.t("checkin.done_title")), nil, nil, nil, container.NewVBox(items...))
	})
}

// checkInError says why there is no priority ticket and what to do instead: come back at the
// time the window opens, or take a normal ticket now.
func (u *UI) checkInError(err error) {
	var ce *civic.CheckInError
	switch {
	case errors.As(err, &ce):
		u.checkInRefused(ce)
	case errors.Is(err, civic.ErrNoIdentity):
		u.cardPrompt(waitCheckIn, u.t("checkin.title"), u.t("checkin.tap"))
	case errors.Is(err, civic.ErrNoAppointment):
		u.checkInAnswer(u.t("checkin.none_title"), u.t("checkin.none"), nil, true)
	case errors.Is(err, civic.ErrUnknownMatter):
		u.message(u.t("error.title"), u.t("checkin.unknown_matter"), nil)
	case errors.Is(err, kiosk.ErrNotOnWeekend):
		u.message(u.t("error.title"), u.t("error.weekend"), nil)
	default:
		u.hallError(err, nil)
	}
}

func (u *UI) checkInRefused(ce *civic.CheckInError) {
	a := ce.Appointment
	var m *catalog.Matter
	name := a.Matter
	if c := u.core.Catalog(); c != nil {
		if m = c.Matter(a.Matter); m != nil {
			name = m.Name.In(u.lang)
		}
	}
	data := map[string]any{
		"M": name, "Day": u.day(a.Start), "T": u.hhmm(a.Start),
		"Open": u.hhmm(ce.Opens), "Close": u.hhmm(ce.Closes), "N": a.Ticket,
	}
	if !a.CheckedIn.IsZero() {
		data["At"] = u.hhmm(a.CheckedIn)
	} else {
		data["At"] = ""
	}
	switch {
	case errors.Is(ce, civic.ErrTooEarly):
		u.checkInAnswer(u.t("checkin.early_title"), u.tf("checkin.early", data), nil, false)
	case errors.Is(ce, civic.ErrTooLate):
		u.checkInAnswer(u.t("checkin.late_title"), u.tf("checkin.late", data), m, true)
	case errors.Is(ce, civic.ErrWrongDay):
		u.checkInAnswer(u.t("checkin.wrong_day_title"), u.tf("checkin.wrong_day", data), m, true)
	case errors.Is(ce, civic.ErrCancelled):
		u.checkInAnswer(u.t("checkin.cancelled_title"), u.tf("checkin.cancelled", data), m, true)
	case errors.Is(ce, civic.ErrAlreadyCheckedIn):
		u.set(func() fyne.CanvasObject {
			items := []fyne.CanvasObject{layout.NewSpacer()}
			if a.Ticket != "" {
				items = append(items, u.big(a.Ticket, 120))
			}
			items = append(items, u.wrap(u.tf("checkin.already", data)), layout.NewSpacer())
			return u.page(u.t("checkin.already_title"), nil, container.NewVBox(items...))
		})
	default:
		u.hallError(ce, nil)
	}
}

// checkInAnswer shows a refusal; with offer, a button to take a normal ticket instead: for m
// when the booking's matter is known (and offered now), else the sections.
func (u *UI) checkInAnswer(title, text string, m *catalog.Matter, offer bool) {
	if !offer {
		u.answer(title, text)
		return
	}
	u.answer(title, text, tall(u.primary(u.t("checkin.normal_ticket"), func() {
		u.touch()
		if m != nil {
			u.takeFor(m, nil)
			return
		}
		u.showSections()
	})))
}
