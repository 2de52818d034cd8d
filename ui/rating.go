package ui

import (
	"context"
	"errors"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk/civic"
)

// ratingForm is the 好差评 being filled in.
type ratingForm struct {
	levels  map[civic.Dimension]civic.Level
	reasons []civic.Reason
	general bool   // rate the hall in general, not a ticket
	code    string // the ticket number being typed
	ticket  civic.Ratable
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

// goodLevels is how many of levelsShown are not 差评: a wider gap follows them, so that the
// satisfied and the dissatisfied answers are not a slip of the finger apart.
const goodLevels = 3

// showRating starts 好差评. A service is rated by the number on its ticket (today's tickets of
// this kiosk, each once), typed on a keypad: offered at any time rather than when the ticket is
// taken, since the citizen has not been served yet then. The hall may be rated in general too.
func (u *UI) showRating() {
	u.flow.rating = ratingForm{levels: map[civic.Dimension]civic.Level{}}
	u.ratingTicket()
}

// ratingTicket asks for the ticket number to rate.
func (u *UI) ratingTicket() {
	u.set(func() fyne.CanvasObject {
		f := &u.flow.rating
		field := u.centred(u.bold(u.tf("rating.typed", map[string]any{"T": f.code})))
		if f.code == "" {
			field = u.centred(u.wrap(u.t("rating.code_hint")))
		}
		pad := u.ticketCodePad(f.code, func(s string) { f.code = s; u.ratingTicket() })
		next := u.primary(u.t("rating.by_ticket"), func() { u.touch(); u.ratingCheck() })
		if strings.TrimSpace(f.code) == "" {
			next.Disable()
		}
		general := u.button(u.t("rating.general"), func() {
			u.touch()
			f.general, f.ticket = true, civic.Ratable{}
			u.rating()
		})
		body := container.NewVBox(u.bold(u.t("rating.code_ask")), container.NewPadded(card(field)), pad, tall(next),
			widget.NewSeparator(), tall(general))
		return u.page(u.t("rating.title"), nil, u.scroll(body))
	})
}

// ratingCheck checks the number typed (a quick local read) and opens the form for it.
func (u *UI) ratingCheck() {
	h := u.services
	if err := h.Ready(); err != nil {
		u.hallError(err, nil)
		return
	}
	f := &u.flow.rating
	ctx, cancel := context.WithTimeout(context.Background(), hallCall)
	defer cancel()
	t, err := h.RatableTicket(ctx, f.code)
	code := strings.ToUpper(strings.TrimSpace(f.code))
	switch {
	case err == nil:
		f.ticket, f.general, f.code = t, false, ""
		u.rating()
	case errors.Is(err, civic.ErrAlreadyRated):
		f.ticket = civic.Ratable{Ticket: code}
		u.rateError(err)
	case errors.Is(err, civic.ErrInvalid):
		u.message(u.t("error.title"), u.tf("rating.code_invalid", map[string]any{"C": code}), u.ratingTicket)
	case errors.Is(err, civic.ErrNotFound):
		u.message(u.t("error.title"), u.tf("rating.code_unknown", map[string]any{"C": code}), u.ratingTicket)
	case errors.Is(err, civic.ErrNotServed):
		// 好差评 rates a service: before it there is nothing to rate but the wait and the hall.
		u.answer(u.t("rating.not_served_title"), u.tf("rating.not_served", map[string]any{"C": code}),
			tall(u.primary(u.t("rating.rate_general"), func() {
				u.touch()
				f.general, f.ticket, f.code = true, civic.Ratable{}, ""
				u.rating()
			})),
			tall(u.button(u.t("home.complaint"), func() { u.touch(); u.showComplaint() })))
	default:
		u.hallError(err, u.ratingTicket)
	}
}

func (u *UI) rating() {
	u.set(func() fyne.CanvasObject {
		f := &u.flow.rating
		if f.levels == nil {
			f.levels = map[civic.Dimension]civic.Level{}
		}
		body := container.NewVBox()
		if f.ticket.TicketID != 0 && !f.general {
			if f.ticket.Window != "" {
				body.Add(u.bold(u.tf("rating.this_ticket_window", map[string]any{"T": f.ticket.Ticket, "W": f.ticket.Window})))
			} else {
				body.Add(u.bold(u.tf("rating.this_ticket", map[string]any{"T": f.ticket.Ticket})))
			}
		} else {
			body.Add(u.bold(u.t("rating.general")))
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
			body.Add(u.section(label))
			var row []fyne.CanvasObject
			for _, l := range levelsShown {
				d, l := d, l
				chosen := f.levels[d] == l
				text := l.Label().In(u.lang)
				if chosen {
					text = u.tf("rating.chosen", map[string]any{"L": text})
				}
				t := u.tile(text, chosen, func() {
					u.touch()
					if f.levels[d] == l && d != civic.Overall {
						delete(f.levels, d) // a second tap takes an optional answer back
					} else {
						f.levels[d] = l
					}
					u.rating()
				})
				t.Chosen = chosen
				row = append(row, t)
			}
			body.Add(container.New(&splitRow{split: goodLevels, gap: 4 * theme.Padding(), vertical: cols == 1}, row...))
		}
		if f.bad() {
			body.Add(u.section(u.t("rating.reasons")))
			rcols := 3
			if u.theme.Large {
				rcols = 2
			}
			g := container.NewGridWithColumns(rcols)
			for _, r := range civic.Reasons {
				r := r
				on := slices.Contains(f.reasons, r)
				text := r.Label().In(u.lang)
				if on {
					// Marked by ✓ and an outline as well as by colour, as the levels are.
					text = u.tf("rating.chosen", map[string]any{"L": text})
				}
				t := u.tile(text, on, func() {
					u.touch()
					if on {
						f.reasons = slices.DeleteFunc(f.reasons, func(x civic.Reason) bool { return x == r })
					} else {
						f.reasons = append(f.reasons, r)
					}
					u.rating()
				})
				t.Chosen = on
				g.Add(t)
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
	if !f.general {
		r.TicketID = f.ticket.TicketID
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
		text := u.tf("rating.already", map[string]any{"T": u.flow.rating.ticket.Ticket})
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

// splitRow lays its objects out in equal cells in a row (or a column when vertical), with gap
// instead of the theme's padding after the first split of them.
type splitRow struct {
	split    int
	gap      float32
	vertical bool
}

func (s *splitRow) gaps(n int) float32 {
	pad := theme.Padding()
	if n <= 1 {
		return 0
	}
	g := float32(n-1) * pad
	if s.split > 0 && s.split < n {
		g += s.gap - pad
	}
	return g
}

// Layout implements fyne.Layout.
func (s *splitRow) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	n := len(objs)
	if n == 0 {
		return
	}
	pad := theme.Padding()
	total := size.Width
	if s.vertical {
		total = size.Height
	}
	cell := (total - s.gaps(n)) / float32(n)
	pos := float32(0)
	for i, o := range objs {
		if s.vertical {
			o.Move(fyne.NewPos(0, pos))
			o.Resize(fyne.NewSize(size.Width, cell))
		} else {
			o.Move(fyne.NewPos(pos, 0))
			o.Resize(fyne.NewSize(cell, size.Height))
		}
		pos += cell + pad
		if i == s.split-1 {
			pos += s.gap - pad
		}
	}
}

// MinSize implements fyne.Layout: every cell as large as the largest object.
func (s *splitRow) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	n := float32(len(objs))
	if s.vertical {
		return fyne.NewSize(m.Width, m.Height*n+s.gaps(len(objs)))
	}
	return fyne.NewSize(m.Width*n+s.gaps(len(objs)), m.Height)
}

// answer shows a full screen answer with its actions under the text.
func (u *UI) answer(title, text string, actions ...fyne.CanvasObject) {
	u.set(func() fyne.CanvasObject {
		items := append([]fyne.CanvasObject{layout.NewSpacer(), u.wrap(text), layout.NewSpacer()}, actions...)
		return u.page(title, nil, container.NewVBox(items...))
	})
}
