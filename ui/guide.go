package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/session"
)

// showGuide shows the service guide (办事指南): search by pinyin initials or English words on an
// on-screen keypad (the kiosk has no keyboard and Fyne's input methods are poor), common topics
// as one-tap searches, and the matters found; with nothing typed, every matter by section.
func (u *UI) showGuide() { u.guide("") }

// guideTopics are one-tap searches for what citizens most often come for (there is no IME), in
// the screen's language: each finds matters by their Chinese or English name or their section's
// (社保, 市场监管: catalog.Search).
var guideTopics = []catalog.Text{
	{Zh: "身份证", En: "Identity card"}, {Zh: "社保", En: "Social security"}, {Zh: "医保", En: "Medical"},
	{Zh: "护照", En: "Passport"}, {Zh: "市场监管", En: "Business"}, {Zh: "不动产", En: "Real estate"},
	{Zh: "居住证", En: "Residence permit"}, {Zh: "退休", En: "Retirement"},
}

func (u *UI) guide(query string) {
	u.set(func() fyne.CanvasObject {
		typed := u.wrap(u.tf("guide.typed", map[string]any{"Q": query}))
		typed.TextStyle.Bold = true
		if query == "" {
			typed.SetText(u.t("guide.hint"))
		}
		results := container.NewVBox()
		c := u.core.Catalog()
		if query == "" {
			for _, s := range c.Sections() {
				results.Add(u.section(s.Name.In(u.lang)))
				for _, m := range c.Matters(s.ID) {
					results.Add(u.matterButton(m, query))
				}
			}
		} else {
			found := c.Search(query)
			if len(found) == 0 {
				results.Add(u.wrap(u.t("guide.none")))
			}
			for _, m := range found {
				results.Add(u.matterButton(m, query))
			}
		}
		cols := 4
		if u.theme.Large && u.lang == "en" {
			cols = 2 // "Residence permit" in large text: four of them are wider than the screen
		}
		topics := container.NewGridWithColumns(cols)
		for _, k := range guideTopics {
			k := k.In(u.lang)
			topics.Add(tall(u.button(k, func() { u.touch(); u.guide(k) })))
		}
		keys := u.keypad(query, func(q string) { u.touch(); u.guide(q) })
		top := container.NewVBox(typed, keys, topics)
		if u.theme.Large {
			// Elder mode: the topics are enough to start with; fewer choices on one screen.
			top = container.NewVBox(typed, topics, keys)
		}
		if u.landscape() {
			// Keys on the left, what they find on the right.
			split := container.NewHSplit(u.scroll(top), u.scroll(results))
			split.Offset = 0.5
			return u.page(u.t("home.guide"), nil, split)
		}
		return u.page(u.t("home.guide"), nil, container.NewBorder(top, nil, nil, nil, u.scroll(results)))
	})
}

func (u *UI) matterButton(m *catalog.Matter, query string) fyne.CanvasObject {
	label := fmt.Sprintf("%s  ·  %s", m.Name.In(u.lang), m.HandlingTime().In(u.lang))
	t := u.tile(label, false, func() { u.touch(); u.showGuideDetail(m, func() { u.guide(query) }) })
	t.IconName = iconGuide // a result, told apart from the keys above it
	return t
}

// keypad is an on-screen keyboard of the Latin letters (pinyin initials, English words), with
// space, backspace and clear. It calls set with the new query on every key.
func (u *UI) keypad(query string, set func(string)) fyne.CanvasObject {
	cols := 7
	if u.theme.Large {
		cols = 5
	}
	g := container.NewGridWithColumns(cols)
	for c := 'A'; c <= 'Z'; c++ {
		c := c
		g.Add(tall(u.button(string(c), func() { set(query + string(c)) })))
	}
	g.Add(tall(u.button(u.t("guide.space"), func() { set(query + " ") })))
	g.Add(tall(u.button("⌫", func() {
		r := []rune(query)
		if len(r) > 0 {
			set(string(r[:len(r)-1]))
		}
	})))
	g.Add(tall(u.button(u.t("guide.clear"), func() { set("") })))
	return g
}

// showGuideDetail shows a matter's guide in the order a citizen needs it: what to bring
// (申请材料) first, then conditions, procedure, time and fees (the handling as a time: "15个工作日
// 办结"), the forms, and last the legal basis (设定依据), folded until tapped. ▲▼ page buttons move
// through a long guide and a hint says while more is below. Below it: take a ticket, print the
// materials and procedure (一次性告知单) and, for a matter with a fee, pay it by city card.
func (u *UI) showGuideDetail(m *catalog.Matter, back func()) {
	u.set(func() fyne.CanvasObject {
		u.screen = session.ScreenReading
		c := u.core.Catalog()
		section := m.Section
		if s := c.Section(m.Section); s != nil {
			section = s.Name.In(u.lang)
		}
		weekend := u.t("guide.weekend_no")
		if m.Weekend {
			weekend = u.t("guide.weekend_yes")
		}
		fee := m.Fee.Label(u.lang)
		if !m.Fee.Free && !m.Fee.Standard.IsZero() {
			fee += u.paren(m.Fee.Standard.In(u.lang))
		}
		body := container.NewVBox()
		heading := func(title string) {
			body.Add(u.section(title))
		}
		list := func(title string, items []string) {
			if len(items) == 0 {
				return
			}
			heading(title)
			for i, s := range items {
				body.Add(u.wrap(fmt.Sprintf("%d. %s", i+1, s)))
			}
		}
		texts := func(ts []catalog.Text) []string {
			out := make([]string, len(ts))
			for i, t := range ts {
				out[i] = t.In(u.lang)
			}
			return out
		}
		list(u.t("guide.materials"), u.materials(m))
		list(u.t("guide.conditions"), texts(m.Conditions))
		list(u.t("guide.steps"), texts(m.Steps))
		heading(u.t("guide.time_fee"))
		body.Add(widget.NewForm(
			widget.NewFormItem(u.t("guide.time"), u.bold(m.HandlingTime().In(u.lang))),
			widget.NewFormItem(u.t("guide.legal"), widget.NewLabel(m.LegalLabel(u.lang))),
			widget.NewFormItem(u.t("guide.fee"), u.wrap(fee)),
			widget.NewFormItem(u.t("guide.weekend"), widget.NewLabel(weekend)),
			widget.NewFormItem(u.t("guide.department"), u.wrap(m.Department.In(u.lang))),
			widget.NewFormItem(u.t("ticket.section"), u.wrap(section)),
		))
		var forms []string
		for _, f := range m.Templates {
			forms = append(forms, f.Name.In(u.lang)+u.paren(strings.Join([]string{f.Blank, f.Sample}, u.t("guide.list_sep"))))
		}
		list(u.t("guide.forms"), forms)
		pg := &pager{}
		if len(m.Basis) > 0 {
			// The legal basis matters to few citizens and pushed the materials down: folded.
			basis := container.NewVBox()
			for i, s := range texts(m.Basis) {
				basis.Add(u.wrap(fmt.Sprintf("%d. %s", i+1, s)))
			}
			basis.Hide()
			var fold *Button
			fold = u.button(u.t("guide.basis_show"), func() {
				u.touch()
				if basis.Visible() {
					basis.Hide()
					fold.SetText(u.t("guide.basis_show"))
				} else {
					basis.Show()
					fold.SetText(u.t("guide.basis_hide"))
				}
				body.Refresh()
				pg.update()
			})
			fold.Alignment = widget.ButtonAlignLeading
			body.Add(tall(fold))
			body.Add(basis)
		}
		paged := u.newPager(pg, body)
		cols := 2
		if u.lang == "en" && u.theme.Large {
			cols = 1 // "Take a ticket for this matter" in large text takes the screen's width
		}
		var actions fyne.CanvasObject = container.NewGridWithColumns(cols,
			tall(NewButton(u.t("guide.print"), Secondary, iconPrint, u.clicked(func() { u.touch(); u.printChecklist(m, back) }))),
			tall(NewButton(u.t("guide.take"), Primary, iconTicket, u.clicked(func() { u.touch(); u.takeFor(m, func() { u.showGuideDetail(m, u.showGuide) }) }))))
		if pay := u.pay.button(m, func() { u.showGuideDetail(m, back) }); pay != nil {
			if u.lang == "zh" && !u.theme.Large {
				actions = container.NewGridWithColumns(3, append(actions.(*fyne.Container).Objects, pay)...)
			} else {
				// Three English labels, or elder mode's large text, do not fit side by side on
				// a portrait screen: the payment gets a row of its own, the guide keeps its room.
				actions = container.NewVBox(actions, pay)
			}
		}
		head := widget.NewLabelWithStyle(m.Name.In(u.lang), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		head.Wrapping = fyne.TextWrapWord
		return u.page(u.t("guide.detail"), back, container.NewBorder(head, actions, nil, nil, paged))
	})
}

// materials lists what to bring, each with the kind and number of copies.
func (u *UI) materials(m *catalog.Matter) []string {
	var out []string
	for _, mt := range m.Materials {
		s := mt.Name.In(u.lang) + u.paren(fmt.Sprintf("%s × %d", mt.Kind.Label().In(u.lang), mt.Copies))
		if !mt.Note.IsZero() {
			s += " " + mt.Note.In(u.lang)
		}
		out = append(out, s)
	}
	return out
}

// paren puts s in brackets after a text: full-width in Chinese, " (s)" in English.
func (u *UI) paren(s string) string {
	if u.lang == "en" {
		return " (" + s + ")"
	}
	return "（" + s + "）"
}

// pager is a long text in a scroll with ▲▼ page buttons and a "more below ▼" hint, for
// citizens who do not know a touch screen scrolls by dragging.
type pager struct {
	scroll   *container.Scroll
	up, down *Button
	more     *widget.Label
}

// newPager fills p to page through content and returns what to show.
func (u *UI) newPager(p *pager, content fyne.CanvasObject) fyne.CanvasObject {
	p.scroll = container.NewVScroll(content)
	p.scroll.OnScrolled = func(fyne.Position) { u.touch(); p.update() }
	p.up = u.button(u.t("guide.page_up"), func() { u.touch(); p.page(-1) })
	p.down = u.button(u.t("guide.page_down"), func() { u.touch(); p.page(1) })
	p.more = widget.NewLabelWithStyle(u.t("guide.more"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	bar := container.NewBorder(nil, nil, tall(p.up), tall(p.down), p.more)
	return container.New(&pagerLayout{p: p, bar: bar}, p.scroll, bar)
}

// page scrolls by most of a screen (dir -1 up, 1 down), keeping a line of context.
func (p *pager) page(dir float32) {
	h := p.scroll.Size().Height
	step := h * 0.85
	y := p.scroll.Offset.Y + dir*step
	y = max(0, min(y, p.scroll.Content.MinSize().Height-h))
	p.scroll.ScrollToOffset(fyne.NewPos(0, y))
	p.update()
}

// below reports whether content is hidden below the scroll's bottom edge.
func (p *pager) below() bool {
	return p.scroll.Offset.Y+p.scroll.Size().Height < p.scroll.Content.MinSize().Height-1
}

// update shows the hint and enables the buttons for where the scroll is.
func (p *pager) update() {
	if p.scroll == nil {
		return
	}
	below := p.below()
	if below {
		p.more.Show()
		p.down.Enable()
	} else {
		p.more.Hide()
		p.down.Disable()
	}
	if p.scroll.Offset.Y > 0 {
		p.up.Enable()
	} else {
		p.up.Disable()
	}
}

// pagerLayout puts the scroll above the page bar, and updates the bar whenever the scroll's
// size changes (the first layout, a rotation, a language change).
type pagerLayout struct {
	p   *pager
	bar fyne.CanvasObject
}

func (l *pagerLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	bh := l.bar.MinSize().Height
	l.p.scroll.Resize(fyne.NewSize(size.Width, size.Height-bh-theme.Padding()))
	l.p.scroll.Move(fyne.NewPos(0, 0))
	l.bar.Resize(fyne.NewSize(size.Width, bh))
	l.bar.Move(fyne.NewPos(0, size.Height-bh))
	l.p.update()
}

func (l *pagerLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s, b := l.p.scroll.MinSize(), l.bar.MinSize()
	return fyne.NewSize(max(s.Width, b.Width), s.Height+b.Height+theme.Padding())
}

// printChecklist prints the matter's 一次性告知单 off the UI goroutine and says how it went, with
// back (to the guide) from there.
func (u *UI) printChecklist(m *catalog.Matter, back func()) {
	again := func() { u.showGuideDetail(m, back) }
	u.set(func() fyne.CanvasObject {
		bar := widget.NewProgressBarInfinite()
		l := widget.NewLabelWithStyle(u.t("guide.printing"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		return container.NewVBox(layout.NewSpacer(), l, bar, layout.NewSpacer())
	})
	lang := u.lang
	u.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := u.core.PrintChecklist(ctx, m.ID, lang)
		fyne.Do(func() {
			var pe *kiosk.PrinterError
			switch {
			case err == nil:
				u.message(u.t("guide.printed_title"), u.t("guide.printed"), again)
			case errors.As(err, &pe):
				u.message(u.t("error.title"), u.tf("guide.print_failed", map[string]any{"S": u.t("printer." + string(pe.State))}), again)
			case errors.Is(err, kiosk.ErrLocked):
				_, msg := u.core.Locked()
				u.showLocked(msg)
			case errors.Is(err, kiosk.ErrUnknownMatter):
				u.message(u.t("error.title"), u.t("error.unknown"), u.showGuide)
			default:
				u.message(u.t("error.title"), u.t("error.other"), again)
			}
		})
	})
}

// takeFor goes straight to the confirm screen of a matter (from its guide, or instead of a
// check-in), when it is offered now; otherwise it says why, with back (nil: none) to return.
func (u *UI) takeFor(m *catalog.Matter, back func()) {
	o := u.core.Offer()
	if !o.Hours.Open {
		u.closed(o)
		return
	}
	for _, so := range o.Sections {
		for _, x := range so.Matters {
			if x.ID == m.ID {
				u.showConfirm(so, x)
				return
			}
		}
	}
	u.message(u.t("error.title"), u.t("error.weekend"), back)
}
