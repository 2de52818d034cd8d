package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/session"
)

// showGuide shows the service guide (办事指南): search by pinyin initials or English words on an
// on-screen keypad (the kiosk has no keyboard and Fyne's input methods are poor), common topics
// as one-tap searches, and the matters found; with nothing typed, every matter by section.
func (u *UI) showGuide() { u.guide("") }

// guideKeywords are one-tap searches for what citizens most often come for, in Chinese (no IME).
var guideKeywords = []string{"身份证", "社保", "医保", "护照", "营业执照", "不动产", "居住证", "退休"}

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
				results.Add(widget.NewLabelWithStyle(s.Name.In(u.lang), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
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
		topics := container.NewGridWithColumns(4)
		for _, k := range guideKeywords {
			k := k
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
	label := fmt.Sprintf("%s  ·  %s", m.Name.In(u.lang), m.Handling.Label().In(u.lang))
	return u.tile(label, false, func() { u.touch(); u.showGuideDetail(m, func() { u.guide(query) }) })
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

// showGuideDetail shows every field of a matter's guide (art. 22 of the regulations: basis,
// conditions, procedure, legal and promised time limits, fees, forms), and a button to take a
// ticket for it and, for a matter with a fee, one to pay it by city card (一卡通缴费).
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
			fee += "（" + m.Fee.Standard.In(u.lang) + "）"
		}
		form := widget.NewForm(
			widget.NewFormItem(u.t("guide.department"), u.wrap(m.Department.In(u.lang))),
			widget.NewFormItem(u.t("ticket.section"), widget.NewLabel(section)),
			widget.NewFormItem(u.t("guide.handling"), widget.NewLabel(m.Handling.Label().In(u.lang))),
			widget.NewFormItem(u.t("guide.legal"), widget.NewLabel(m.LegalLabel(u.lang))),
			widget.NewFormItem(u.t("guide.promised"), widget.NewLabel(m.PromisedLabel(u.lang))),
			widget.NewFormItem(u.t("guide.fee"), u.wrap(fee)),
			widget.NewFormItem(u.t("guide.weekend"), widget.NewLabel(weekend)),
		)
		body := container.NewVBox(form)
		list := func(title string, items []string) {
			if len(items) == 0 {
				return
			}
			body.Add(widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
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
		list(u.t("guide.basis"), texts(m.Basis))
		list(u.t("guide.conditions"), texts(m.Conditions))
		var mats []string
		for _, mt := range m.Materials {
			s := fmt.Sprintf("%s（%s × %d）", mt.Name.In(u.lang), mt.Kind.Label().In(u.lang), mt.Copies)
			if !mt.Note.IsZero() {
				s += " " + mt.Note.In(u.lang)
			}
			mats = append(mats, s)
		}
		list(u.t("guide.materials"), mats)
		list(u.t("guide.steps"), texts(m.Steps))
		var forms []string
		for _, f := range m.Templates {
			forms = append(forms, fmt.Sprintf("%s（%s）", f.Name.In(u.lang), strings.Join([]string{f.Blank, f.Sample}, "、")))
		}
		list(u.t("guide.forms"), forms)
		var take fyne.CanvasObject = tall(u.primary(u.t("guide.take"), func() { u.touch(); u.takeFor(m, func() { u.showGuideDetail(m, u.showGuide) }) }))
		if pay := u.pay.button(m, func() { u.showGuideDetail(m, back) }); pay != nil {
			cols := 2
			if u.theme.Large {
				cols = 1
			}
			take = container.NewGridWithColumns(cols, take, pay)
		}
		head := widget.NewLabelWithStyle(m.Name.In(u.lang), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		head.Wrapping = fyne.TextWrapWord
		return u.page(u.t("guide.detail"), back, container.NewBorder(head, take, nil, nil, u.scroll(body)))
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
