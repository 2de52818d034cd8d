package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
	"citizenhome/kiosk/civic"
)

// complaintForm is the complaint being written. Text and phone are personal data: they live
// here only until the session ends (onEvent drops the flow) or the complaint is filed.
type complaintForm struct {
	category civic.ComplaintCategory
	text     string
	phone    string
}

// textKeys are the Latin keys of the complaint text: Chinese comes from the common phrases (no
// IME on the kiosk), letters and digits from the keypad (a window number, a name in pinyin).
const textKeys = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// Phone numbers are 7 to 15 digits (civic.Complaint).
const (
	minPhone = 7
	maxPhone = 15
)

// showComplaint starts 投诉建议: the category, then the text (common phrases and a keypad), then an
// optional phone number; the complaint's number is shown large, and printed on a slip.
func (u *UI) showComplaint() {
	u.flow.complaint = complaintForm{}
	u.complaintCategory()
}

func (u *UI) complaintCategory() {
	u.set(func() fyne.CanvasObject {
		cols := 2
		if u.theme.Large {
			cols = 1
		}
		g := container.NewGridWithColumns(cols)
		for _, c := range civic.ComplaintCategories {
			c := c
			g.Add(u.tile(c.Label().In(u.lang), u.flow.complaint.category == c, func() {
				u.touch()
				u.flow.complaint.category = c
				u.complaintText()
			}))
		}
		intro := u.wrap(u.t("complaint.intro"))
		return u.page(u.t("complaint.choose_category"), nil, u.scroll(container.NewVBox(intro, g)))
	})
}

// phrases are the common complaint phrases in the screen's language.
func (u *UI) phrases() []string {
	var out []string
	for i := 1; ; i++ {
		key := fmt.Sprintf("complaint.phrase.%d", i)
		if !u.text.has(u.lang, key) {
			return out
		}
		out = append(out, u.t(key))
	}
}

func (u *UI) complaintText() {
	u.set(func() fyne.CanvasObject {
		f := &u.flow.complaint
		setText := func(s string) { f.text = s; u.complaintText() }
		cat := u.bold(u.tf("complaint.category_is", map[string]any{"C": f.category.Label().In(u.lang)}))
		typed := u.wrap(u.t("complaint.text_hint"))
		count := widget.NewLabel(u.tf("complaint.count", map[string]any{"N": utf8.RuneCountInString(f.text), "Max": civic.MaxComplaintText}))
		if f.text != "" {
			typed = u.bold(f.text)
		}
		cols := 2
		if u.theme.Large {
			cols = 1
		}
		ph := container.NewGridWithColumns(cols)
		for _, p := range u.phrases() {
			p := p
			ph.Add(u.tile(p, false, func() {
				u.touch()
				s := f.text
				if s != "" {
					s += u.t("complaint.sep")
				}
				s += p
				if utf8.RuneCountInString(s) <= civic.MaxComplaintText {
					setText(s)
				}
			}))
		}
		body := container.NewVBox(cat, card(typed), count, u.section(u.t("complaint.phrases")), ph)
		if u.theme.Large {
			// Elder mode: the phrases only, and a way to start again.
			body.Add(tall(u.button(u.t("guide.clear"), func() { u.touch(); setText("") })))
		} else {
			body.Add(u.section(u.t("complaint.keys")))
			pad := u.charPad(f.text, textKeys, 7, civic.MaxComplaintText, setText)
			space := tall(u.button(u.t("guide.space"), func() {
				u.touch()
				if utf8.RuneCountInString(f.text) < civic.MaxComplaintText {
					setText(f.text + " ")
				}
			}))
			body.Add(pad)
			body.Add(space)
		}
		next := u.primary(u.t("complaint.next"), func() { u.touch(); u.complaintPhone() })
		if strings.TrimSpace(f.text) == "" {
			next.Disable()
		}
		return u.page(u.t("home.complaint"), u.complaintCategory, container.NewBorder(nil, tall(next), nil, nil, u.scroll(body)))
	})
}

func (u *UI) complaintPhone() {
	u.set(func() fyne.CanvasObject {
		f := &u.flow.complaint
		setPhone := func(s string) { f.phone = s; u.complaintPhone() }
		typed := widget.NewLabelWithStyle(f.phone, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		typed.SizeName = "headingText"
		if f.phone == "" {
			typed.SetText(" ")
		}
		pad := container.NewGridWithColumns(3)
		for _, d := range "123456789" {
			d := string(d)
			pad.Add(tall(u.button(d, func() {
				u.touch()
				if len(f.phone) < maxPhone {
					setPhone(f.phone + d)
				}
			})))
		}
		pad.Add(tall(u.button("⌫", func() {
			u.touch()
			if len(f.phone) > 0 {
				setPhone(f.phone[:len(f.phone)-1])
			}
		})))
		pad.Add(tall(u.button("0", func() {
			u.touch()
			if len(f.phone) < maxPhone {
				setPhone(f.phone + "0")
			}
		})))
		pad.Add(tall(u.button(u.t("guide.clear"), func() { u.touch(); setPhone("") })))
		// Tiles, whose text wraps: side by side, two buttons of English in elder mode's large
		// text are wider than a portrait screen.
		skip := u.tile(u.t("complaint.no_phone"), false, func() { u.touch(); f.phone = ""; u.complain() })
		submit := u.tile(u.t("complaint.submit"), true, func() { u.touch(); u.complain() })
		var hint fyne.CanvasObject = layout.NewSpacer()
		if len(f.phone) < minPhone {
			submit.Disable()
			if f.phone != "" {
				hint = u.wrap(u.tf("complaint.phone_short", map[string]any{"Min": minPhone}))
			}
		}
		body := container.NewVBox(u.bold(u.t("complaint.phone")), u.wrap(u.t("complaint.phone_why")), card(typed), hint, pad)
		return u.page(u.t("home.complaint"), u.complaintText, container.NewBorder(nil,
			container.NewGridWithColumns(2, skip, submit), nil, nil, u.scroll(body)))
	})
}

// complain files the complaint off the UI goroutine (its slip prints).
func (u *UI) complain() {
	h := u.services
	if err := h.Ready(); err != nil {
		u.hallError(err, nil)
		return
	}
	f := u.flow.complaint
	c := civic.Complaint{Category: f.category, Text: f.text, Phone: f.phone}
	u.working(u.t("complaint.working"))
	u.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), hallCall)
		defer cancel()
		res, err := h.Complain(ctx, c)
		fyne.Do(func() { u.complained(res, err) })
	})
}

func (u *UI) complained(res kiosk.Complained, err error) {
	if err != nil {
		if errors.Is(err, civic.ErrInvalid) {
			u.message(u.t("error.title"), u.t("complaint.invalid"), u.complaintText)
			return
		}
		u.hallError(err, u.complaintPhone)
		return
	}
	// Filed: what was typed is no longer needed on this kiosk.
	u.flow.complaint = complaintForm{}
	u.set(func() fyne.CanvasObject {
		note := u.t("complaint.printed")
		if res.PrintErr != nil {
			note = u.t("complaint.not_printed")
		}
		items := []fyne.CanvasObject{
			layout.NewSpacer(),
			widget.NewLabelWithStyle(u.t("complaint.your_number"), fyne.TextAlignCenter, fyne.TextStyle{}),
			u.big(res.Number, 72),
			widget.NewLabelWithStyle(u.tf("complaint.category_is", map[string]any{"C": res.Category.Label().In(u.lang)}), fyne.TextAlignCenter, fyne.TextStyle{}),
			u.centred(u.bold(note)),
			u.centred(u.wrap(u.t("complaint.follow"))),
			layout.NewSpacer(),
			u.finish(),
		}
		return container.NewBorder(u.heading(u.t("complaint.done_title")), nil, nil, nil, container.NewVBox(items...))
	})
}
