package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
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

// homeService is a service on the home screen: its text key (the subtitle's is key+"_sub")
// and icon.
type homeService struct{ key, icon string }

// homeServices are the home screen's services in the order shown; the first is the main one.
var homeServices = []homeService{
	{"home.ticket", iconTicket}, {"home.appointment", iconAppointment}, {"home.guide", iconGuide},
	{"home.progress", iconProgress}, {"home.citycard", iconCityCard}, {"home.rating", iconRating},
	{"home.complaint", iconComplaint}, {"home.elder", iconElder}, {"home.help", iconHelp},
}

// homeTileHeight is the least height of a home tile: a target a hand finds without aiming.
const homeTileHeight = 150

func (u *UI) home() fyne.CanvasObject {
	welcome := u.heading(u.t("home.welcome"))
	hint := widget.NewLabelWithStyle(u.t("home.tap_card"), fyne.TextAlignCenter, fyne.TextStyle{})
	top := container.NewVBox(welcome,
		container.NewCenter(container.NewHBox(container.NewCenter(iconImage(iconCard, colText, 40)), hint)))
	if p := u.core.Person(); p != nil {
		top.Add(widget.NewLabelWithStyle(u.tf("person.hello", map[string]any{"Name": p.Greeting()}),
			fyne.TextAlignCenter, fyne.TextStyle{Bold: true}))
	}
	unavailable := map[string]string{}
	elderKey := "home.elder"
	if u.theme.Large {
		elderKey = "home.normal"
	}
	ready := map[string]func(){
		"home.ticket":      func() { u.touch(); u.showSections() },
		"home.appointment": func() { u.touch(); u.showCheckIn() },
		"home.guide":       func() { u.touch(); u.showGuide() },
		"home.progress":    func() { u.touch(); u.showProgress() },
		"home.citycard":    func() { u.touch(); u.showCityCard() },
		"home.rating":      func() { u.touch(); u.showRating() },
		"home.complaint":   func() { u.touch(); u.showComplaint() },
		"home.elder":       func() { u.touch(); u.setLarge(!u.theme.Large) },
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
	for i, s := range homeServices {
		key, text := s.key, u.t(s.key)
		if key == "home.elder" {
			text = u.t(elderKey)
		}
		var t *Tile
		if tap, ok := ready[key]; ok {
			subKey := key + "_sub"
			if key == "home.elder" {
				subKey = elderKey + "_sub"
			}
			t = u.serviceTile(text, u.t(subKey), s.icon, i == 0, tap)
		} else {
			t = u.serviceTile(fmt.Sprintf("%s\n%s", text, unavailable[key]), "", s.icon, false, nil)
			t.Disable()
		}
		t.MinHeight = homeTileHeight
		tiles = append(tiles, t)
	}
	panel := u.waitingPanel()
	if u.theme.Large {
		// Elder mode: one column of larger tiles, the counts after them.
		return container.NewBorder(top, nil, nil, nil, u.scroll(container.NewVBox(append(tiles, panel)...)))
	}
	// The main service across the screen, the others two by two, and the counts: the rows
	// share the height the screen has, so that nothing is left empty.
	rows := []fyne.CanvasObject{tiles[0]}
	for i := 1; i < len(tiles); i += 2 {
		rows = append(rows, container.NewGridWithColumns(2, tiles[i], tiles[i+1]))
	}
	rows = append(rows, panel)
	return container.NewBorder(top, nil, nil, nil, u.scroll(container.New(&fillRows{grow: len(rows) - 1}, rows...)))
}

// fillRows stacks its objects like a VBox and shares the height left over among the first grow
// of them (the tile rows), so that a screen that has room gives it to the tiles.
type fillRows struct{ grow int }

func (l *fillRows) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	extra := size.Height - l.MinSize(objs).Height
	n := min(l.grow, len(objs))
	share := float32(0)
	if extra > 0 && n > 0 {
		share = extra / float32(n)
	}
	y := float32(0)
	for i, o := range objs {
		h := o.MinSize().Height
		if i < n {
			h += share
		}
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h + pad
	}
}

func (l *fillRows) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for i, o := range objs {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height
		if i > 0 {
			s.Height += theme.Padding()
		}
	}
	return s
}

// waitingPanel is the home screen's 当前等候: how many wait for each section, refreshed every
// WaitingPoll. When the core has no figure for a section it says so ("暂无数据"); when it has
// none at all, one line says the figures are unavailable: never a 0 that is not known.
func (u *UI) waitingPanel() fyne.CanvasObject {
	title := widget.NewLabelWithStyle(u.t("waiting.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	head := container.NewBorder(nil, nil, container.NewCenter(iconImage(iconPeople, colText, 40)), nil, title)
	cols := 3
	if u.theme.Large || u.lang == "en" {
		cols = 2
	}
	grid := container.NewGridWithColumns(cols)
	counts := map[string]*widget.Label{}
	for _, s := range u.core.Catalog().Sections() {
		name := widget.NewLabel(s.Name.In(u.lang))
		count := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		count.SizeName = theme.SizeNameSubHeadingText
		counts[s.ID] = count
		grid.Add(container.NewVBox(name, count))
	}
	none := u.wrap(u.t("waiting.unavailable"))
	none.TextStyle.Bold = true
	u.newWaitBoard(func(c map[string]int, err error) {
		if err != nil {
			grid.Hide()
			none.Show()
			return
		}
		none.Hide()
		grid.Show()
		for id, l := range counts {
			text := u.waitingText(id, c, nil)
			if text == "" {
				text = u.t("waiting.unknown")
			}
			l.SetText(text)
		}
	})
	bg := canvas.NewRectangle(colPanel)
	bg.CornerRadius = 8
	bg.StrokeColor, bg.StrokeWidth = colOffEdge, 2
	edge := bg.StrokeWidth / 2 // the outline is centred on the edge: inset, it is not clipped
	return container.NewStack(container.New(layout.NewCustomPaddedLayout(edge, edge, edge, edge), bg),
		container.NewPadded(container.NewVBox(head, grid, none)))
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
		list := container.NewVBox(u.section(u.t("citycard.records")))
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
