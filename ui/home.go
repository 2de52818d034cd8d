package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
)

// showHome shows the start screen. It is also where every session ends.
func (u *UI) showHome() {
	u.hideIdle()
	if locked, msg := u.core.Locked(); locked {
		u.showLocked(msg)
		return
	}
	u.set(u.home)
	u.onHome = true
}

func (u *UI) home() fyne.CanvasObject {
	welcome := widget.NewLabelWithStyle(u.t("home.welcome"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	welcome.SizeName = "headingText"
	hint := widget.NewLabelWithStyle(u.t("home.tap_card"), fyne.TextAlignCenter, fyne.TextStyle{})
	top := container.NewVBox(welcome, hint)
	if p := u.core.Person(); p != nil {
		top.Add(widget.NewLabelWithStyle(u.tf("person.hello", map[string]any{"Name": p.Greeting()}),
			fyne.TextAlignCenter, fyne.TextStyle{Bold: true}))
	}
	unavailable := map[string]string{}
	ready := map[string]func(){
		"home.ticket":      func() { u.touch(); u.showSections() },
		"home.appointment": func() { u.touch(); u.showCheckIn() },
		"home.guide":       func() { u.touch(); u.showGuide() },
		"home.progress":    func() { u.touch(); u.showProgress() },
		"home.citycard":    func() { u.touch(); u.showCityCard() },
		"home.rating":      func() { u.touch(); u.showRating() },
		"home.complaint":   func() { u.touch(); u.showComplaint() },
		// Calling staff works whatever else is down: it is what a stuck citizen has left.
		"home.help": u.callStaff,
	}
	down := func(key, why string) {
		if _, ok := unavailable[key]; !ok {
			delete(ready, key)
			unavailable[key] = why
		}
	}
	// A function that cannot work now is shown, disabled, with the reason: a citizen who sees
	// it greyed out knows to go to a window instead of waiting.
	if u.services.Ready() != nil {
		for _, key := range []string{"home.appointment", "home.progress", "home.rating", "home.complaint"} {
			down(key, u.t("home.no_hall"))
		}
	}
	if p := u.core.Devices()[kiosk.DevicePrinter]; !p.State.Usable() {
		why := u.tf("home.unavailable", map[string]any{"R": u.t("printer." + string(p.State))})
		down("home.ticket", why)
		down("home.appointment", why) // a check-in is a ticket
	}
	var tiles []fyne.CanvasObject
	for _, key := range []string{"home.ticket", "home.appointment", "home.guide", "home.progress",
		"home.citycard", "home.rating", "home.complaint", "home.help"} {
		if tap, ok := ready[key]; ok {
			tiles = append(tiles, u.tile(u.t(key), true, tap))
			continue
		}
		why := unavailable[key]
		b := u.tile(fmt.Sprintf("%s\n%s", u.t(key), why), false, nil)
		b.Disable()
		tiles = append(tiles, b)
	}
	cols := 2
	if u.theme.Large {
		cols = 1
	}
	grid := container.NewGridWithColumns(cols, tiles...)
	return container.NewBorder(top, nil, nil, nil, u.scroll(container.NewVBox(grid, layout.NewSpacer())))
}

// showCityCard shows the city card of the session: masked number, balance, recent records; without
// one it asks for a tap and shows the card as soon as it is read. Both lead to 一卡通缴费
// (payDesk.showChoose), or say why payments are unavailable.
func (u *UI) showCityCard() {
	defer func() {
		if u.core.CityCard() == nil {
			u.waitCard = waitCity
		}
	}()
	u.set(func() fyne.CanvasObject {
		c := u.core.CityCard()
		if c == nil {
			l := widget.NewLabelWithStyle(u.t("citycard.tap"), fyne.TextAlignCenter, fyne.TextStyle{})
			return u.page(u.t("citycard.title"), nil, u.cardScreen(l, u.pay.entry(), cardCity))
		}
		form := widget.NewForm(
			widget.NewFormItem(u.t("citycard.number"), widget.NewLabel(c.Masked())),
			widget.NewFormItem(u.t("citycard.balance"), widget.NewLabel(yuan(c.BalanceFen))),
		)
		list := container.NewVBox(widget.NewLabelWithStyle(u.t("citycard.records"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, r := range c.Records {
			list.Add(widget.NewLabel(fmt.Sprintf("%s  %s  %s", r.Time.Format("2006-01-02 15:04"), r.Type, yuan(r.AmountFen))))
		}
		return u.page(u.t("citycard.title"), nil, container.NewBorder(nil, u.pay.entry(), nil, nil, u.scroll(container.NewVBox(form, list))))
	})
}

func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, fen/100, fen%100)
}
