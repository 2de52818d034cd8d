package ui

import (
	"context"
	"errors"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk/civic"
)

// ratingForm is the 好差评 being filled in.
type ratingForm struct {
	levels  map[civic.Dimension]civic.Level
	reasons []civic.Reason
	general bool // rate the hall in general, not the ticket of this session
}

// bad reports whether a level given is 不满意 or 非常不满意: reasons are then required.
func (f ratingForm) bad() bool {
	for _, l := range f.levels {
		if l.Bad() {
			return true
		}
	}
	return false
}

// levelsShown are the five national levels, best first, as citizens read them.
var levelsShown = []civic.Level{civic.VerySatisfied, civic.Satisfied, civic.Fair, civic.Dissatisfied, civic.VeryDissatisfied}

// showRating starts 好差评: the five national levels on the four national dimensions (elder mode
// asks the overall satisfaction only: fewer choices), with the reasons required for the two
// lowest, linked to the ticket taken in this session unless the citizen rates the hall in
// general.
func (u *UI) showRating() {
	u.flow.rating = ratingForm{levels: map[civic.Dimension]civic.Level{}}
	u.rating()
}

func (u *UI) rating() {
	u.set(func() fyne.CanvasObject {
		f := &u.flow.rating
		if f.levels == nil {
			f.levels = map[civic.Dimension]civic.Level{}
		}
		body := container.NewVBox()
		if t := u.flow.ticket; t != nil {
			this := u.tile(u.tf("rating.this_ticket", map[string]any{"T": t.Code}), !f.general, func() {
				u.touch()
				f.general = false
				u.rating()
			})
			all := u.tile(u.t("rating.general"), f.general, func() { u.touch(); f.general = true; u.rating() })
			body.Add(container.NewGridWithColumns(2, this, all))
		}
		dims := civic.Dimensions
		if u.theme.Large {
			dims = dims[:1]
		}
		cols := 5
		if u.theme.Large {
			cols = 1
		}
		for _, d := range dims {
			label := d.Label().In(u.lang)
			if d == civic.Overall {
				label = u.tf("rating.required", map[string]any{"D": label})
			} else {
				label = u.tf("rating.optional", map[string]any{"D": label})
			}
			body.Add(widget.NewLabelWithStyle(label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			g := container.NewGridWithColumns(cols)
			for _, l := range levelsShown {
				d, l := d, l
				g.Add(u.tile(l.Label().In(u.lang), f.levels[d] == l, func() {
					u.touch()
					if f.levels[d] == l && d != civic.Overall {
						delete(f.levels, d) // a second tap takes an optional answer back
					} else {
						f.levels[d] = l
					}
					u.rating()
				}))
			}
			body.Add(g)
		}
		if f.bad() {
			body.Add(widget.NewLabelWithStyle(u.t("rating.reasons"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			rcols := 3
			if u.theme.Large {
				rcols = 2
			}
			g := container.NewGridWithColumns(rcols)
			for _, r := range civic.Reasons {
				r := r
				on := slices.Contains(f.reasons, r)
				g.Add(u.tile(r.Label().In(u.lang), on, func() {
					u.touch()
					if on {
						f.reasons = slices.DeleteFunc(f.reasons, func(x civic.Reason) bool { return x == r })
					} else {
						f.reasons = append(f.reasons, r)
					}
					u.rating()
				}))
			}
			body.Add(g)
		}
		submit := u.primary(u.t("rating.submit"), func() { u.touch(); u.rate() })
		hint := ""
		switch {
		case f.levels[civic.Overall] == 0:
			hint = u.t("rating.need_overall")
		case f.bad() && len(f.reasons) == 0:
			hint = u.t("rating.need_reason")
		}
		bottom := container.NewVBox(tall(submit))
		if hint != "" {
			submit.Disable()
			bottom = container.NewVBox(u.bold(hint), tall(submit))
		}
		return u.page(u.t("rating.title"), nil, container.NewBorder(nil, bottom, nil, nil, u.scroll(body)))
	})
}

// rate sends the rating (a quick local write: no printing).
func (u *UI) rate() {
	h := u.services
	if err := h.Ready(); err != nil {
		u.hallError(err, nil)
		return
	}
	f := u.flow.rating
	r := civic.Rating{
		Overall: f.levels[civic.Overall], Efficiency: f.levels[civic.Efficiency],
		Skill: f.levels[civic.Skill], Attitude: f.levels[civic.Attitude],
	}
	if f.bad() {
		// In the national order, whatever order they were tapped in.
		for _, re := range civic.Reasons {
			if slices.Contains(f.reasons, re) {
				r.Reasons = append(r.Reasons, re)
			}
		}
	}
	if t := u.flow.ticket; t != nil && !f.general {
		r.TicketID = t.ID
	}
	ctx, cancel := context.WithTimeout(context.Background(), hallCall)
	defer cancel()
	rated, err := h.Rate(ctx, r)
	if err != nil {
		u.rateError(err)
		return
	}
	bad := r.Overall.Bad() || len(r.Reasons) > 0
	u.flow.rating = ratingForm{}
	u.set(func() fyne.CanvasObject {
		items := []fyne.CanvasObject{layout.NewSpacer(), u.heading(u.t("rating.thanks"))}
		if rated.Ticket != "" {
			l := u.wrap(u.tf("rating.rated_ticket", map[string]any{"T": rated.Ticket}))
			l.Alignment = fyne.TextAlignCenter
			items = append(items, l)
		}
		if bad {
			items = append(items, u.wrap(u.t("rating.bad_followup")),
				tall(u.button(u.t("home.complaint"), func() { u.touch(); u.showComplaint() })))
		}
		items = append(items, layout.NewSpacer(), u.finish())
		return u.page(u.t("rating.title"), nil, container.NewVBox(items...))
	})
}

func (u *UI) rateError(err error) {
	switch {
	case errors.Is(err, civic.ErrAlreadyRated), errors.Is(err, civic.ErrNotFound):
		text := u.tf("rating.already", map[string]any{"T": u.flow.ticket.code()})
		title := u.t("rating.already_title")
		if errors.Is(err, civic.ErrNotFound) {
			text, title = u.t("rating.no_ticket"), u.t("error.title")
		}
		u.answer(title, text, tall(u.primary(u.t("rating.rate_general"), func() {
			u.touch()
			u.flow.rating.general = true
			u.rating()
		})))
	case errors.Is(err, civic.ErrInvalid):
		u.message(u.t("error.title"), u.t("rating.invalid"), u.rating)
	default:
		u.hallError(err, u.rating)
	}
}

func (t *sessionTicket) code() string {
	if t == nil {
		return ""
	}
	return t.Code
}

// answer shows a full screen answer with its actions under the text.
func (u *UI) answer(title, text string, actions ...fyne.CanvasObject) {
	u.set(func() fyne.CanvasObject {
		items := append([]fyne.CanvasObject{layout.NewSpacer(), u.wrap(text), layout.NewSpacer()}, actions...)
		return u.page(title, nil, container.NewVBox(items...))
	})
}
