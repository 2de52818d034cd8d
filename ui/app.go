// Package ui is the kiosk's touch screen, built on Fyne. It renders the core's state and forwards
// the citizen's choices to it; it never touches a device. cmd/kiosk only wires it.
//
// Goroutines reach the widgets only through fyne.Do: the core's events, the clock, and the
// result of a ticket being printed all arrive from other goroutines.
package ui

import (
	"context"
	"errors"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/prompt"
	"citizenhome/kiosk/queue"
	"citizenhome/kiosk/session"
)

// Maintenance is told when hall staff enter (true) and leave (false) staff mode, so that the
// hall sees the kiosk as under maintenance (telemetry's Agent.SetMaintenance).
type Maintenance interface{ SetMaintenance(on bool) }

// Core is what the screens need of the kiosk core (*kiosk.Kiosk). The staff actions, the hall
// services and payments come apart, handed in at wiring (Options).
type Core interface {
	Config() config.Config
	Demo() bool
	Now() time.Time
	Catalog() *catalog.Catalog
	Offer() kiosk.Offer
	Estimate(ctx context.Context, matterID string) (kiosk.Estimate, error)
	TakeTicket(ctx context.Context, matterID string) (kiosk.Issued, error)
	PrintChecklist(ctx context.Context, matterID, lang string) error
	TicketCounts(ctx context.Context) (queue.Counts, error)
	WaitingBySection(ctx context.Context) (map[string]int, error)
	Sessions() *session.Manager
	Person() *kiosk.Person
	CityCard() *kiosk.CityCard
	Locked() (bool, string)
	ElderOffer() bool
	// RequestHelp calls staff to the kiosk (呼叫工作人员); see kiosk.Kiosk.RequestHelp.
	RequestHelp(ctx context.Context) time.Time
	Devices() map[string]kiosk.Device
	Subscribe(func(kiosk.Event))
	SubscribeCards(func(kiosk.CardEvent))
}

// What the core hands the screens, and what stands in for a service it runs without.
var (
	_ Core         = (*kiosk.Kiosk)(nil)
	_ StaffLogin   = (*kiosk.StaffLogin)(nil)
	_ Staff        = (*kiosk.StaffHandle)(nil)
	_ HallServices = (*kiosk.HallServices)(nil)
	_ HallServices = kiosk.NoHall{}
	_ Payments     = (*kiosk.Payments)(nil)
	_ Payments     = kiosk.NoPayments{}
)

// UI is the kiosk's screen in one window.
type UI struct {
	win   fyne.Window
	core  Core
	theme *Theme
	text  texts
	lang  string

	hall   *tapLabel
	header *headerLayout    // the header row's layout, kept across rebuilds (header.go)
	clock  *widget.RichText // white, on the band (bandText)
	zone   struct {         // the hall's time zone, loaded once per name (loc)
		name string
		loc  *time.Location
	}
	badge     fyne.CanvasObject
	body      *fyne.Container
	idle      *widget.PopUp // the idle warning (dialog.go)
	idleCount *canvas.Text  // its countdown
	idleBody  *widget.Label
	drawn     func()                   // Options.Drawn until the first build has placed its marker
	dialog    *widget.PopUp            // the question on screen (dialog.go)
	screen    session.Screen           // the kind of the screen being built (show), for its idle timeout
	async     func(func())             // runs slow work (printing, asking for the waiting counts) off the UI goroutine
	current   func() fyne.CanvasObject // rebuilds the screen shown (language or text size change)
	onHome    bool                     // the home screen is shown: device changes redraw it
	onLocked  bool                     // the locked screen is shown (a staff card works there)
	waiting   *waitBoard               // the section tiles shown, whose counts Tick refreshes; nil: none shown
	waitCard  string                   // what the screen shown waits a card for (waitCity, ...)
	quit      func()                   // staff mode's quit; nil: no quit button action
	maint     Maintenance              // nil: nobody to tell
	flow      flow                     // what the citizen chose in this session
	staff     *staffDesk               // staff mode (staff.go)
	services  HallServices             // or kiosk.NoHall
	voice     Voice                    // the spoken prompts and the tap click; nil: silent
	pay       *payDesk                 // the payment screens (pay.go)
}

// flow is what the citizen entered or was given in the session in progress: all of it is
// dropped when the session ends.
type flow struct {
	ticket    *sessionTicket // the ticket taken (or checked in for) in this session
	rating    ratingForm
	complaint complaintForm
	pay       payForm
}

// sessionTicket is the ticket of this session, which a rating may name.
type sessionTicket struct {
	ID   int64
	Code string
}

// What a screen waits a card for (UI.waitCard).
const (
	waitCity     = "city"     // the city card screen
	waitCheckIn  = "checkin"  // appointment check-in
	waitProgress = "progress" // progress lookup by card
)

// Options tune New.
type Options struct {
	// Theme is the look; nil means NewTheme(nil) (Fyne's bundled font: layout tests only).
	Theme *Theme
	// Sync runs slow work (printing a ticket, refreshing the waiting counts) on the calling
	// goroutine: tests use it so that a tap returns with the next screen shown.
	Sync bool
	// Quit ends the program (staff mode's quit button); nil leaves the button without effect.
	Quit func()
	// Maintenance is told when staff mode starts and ends; nil for none.
	Maintenance Maintenance

	// Staff lets staff in (kiosk.Kiosk.StaffLogin); required.
	Staff StaffLogin
	// Hall is the hall services (what kiosk.Kiosk.UseHall gave), or kiosk.NoHall with the reason
	// the kiosk runs without them: their tiles then show as unavailable. Required.
	Hall HallServices
	// Payments is one-card payments (what kiosk.Kiosk.UsePayments gave), or kiosk.NoPayments with
	// the reason the kiosk runs without them: the pay buttons then show as unavailable. Required.
	Payments Payments
	// Voice speaks the prompts at the key steps and clicks at every tap; nil for a silent kiosk.
	Voice Voice
	// Drawn, when set, is called once, on Fyne's draw goroutine, while the window's first frame
	// is painted: everything of the home screen is drawn and only the buffer swap is left. It
	// must return quickly (a log line: what the start-up benchmark waits for).
	Drawn func()
}

// New builds the UI in win and shows the home screen. It refuses Options without Staff, Hall or
// Payments: a service the kiosk runs without is handed in as what stands in for it.
func New(win fyne.Window, core Core, o Options) (*UI, error) {
	if o.Staff == nil || o.Hall == nil || o.Payments == nil {
		return nil, errors.New("ui: Options.Staff, Hall and Payments are required (kiosk.NoHall, kiosk.NoPayments stand in for a service the kiosk runs without)")
	}
	t, err := loadTexts()
	if err != nil {
		return nil, err
	}
	th := o.Theme
	if th == nil {
		th = NewTheme(nil)
	}
	u := &UI{win: win, core: core, theme: th, text: t, lang: core.Config().Kiosk.Language,
		async: func(f func()) { go f() }}
	if o.Sync {
		u.async = func(f func()) { f() }
	}
	fyne.CurrentApp().Settings().SetTheme(th)
	// The header band reaches the screen's edges; the screens pad their own content.
	win.SetPadded(false)
	u.staff = &staffDesk{u: u, logins: o.Staff}
	u.hall = newTapLabel(u.staff.hallTapped)
	u.header = &headerLayout{}
	u.quit = o.Quit
	u.maint = o.Maintenance
	u.services = o.Hall
	u.voice = o.Voice
	u.pay = &payDesk{u: u, svc: o.Payments}
	u.clock = bandText()
	u.body = container.NewStack()
	u.drawn = o.Drawn
	u.build()
	core.Subscribe(func(e kiosk.Event) { fyne.Do(func() { u.onEvent(e) }) })
	core.SubscribeCards(func(e kiosk.CardEvent) {
		if e.Inserted && len(e.UID) > 0 {
			uid := kiosk.PresentCard{UID: e.UID}.UIDHex()
			fyne.Do(func() { u.staff.cardTapped(uid) })
		}
	})
	u.showHome()
	u.Tick()
	return u, nil
}

// t translates key into the screen's language.
func (u *UI) t(key string) string { return u.text.get(u.lang, key, nil) }

// tf translates key with template data.
func (u *UI) tf(key string, data map[string]any) string { return u.text.get(u.lang, key, data) }

// Lang is the language on screen.
func (u *UI) Lang() string { return u.lang }

func (u *UI) build() {
	cfg := u.core.Config()
	// Wrapping first: SetText redraws the label.
	if u.lang == "en" {
		u.hall.Wrapping = fyne.TextWrapWord
		u.hall.SetText(cfg.Hall.NameEn)
	} else {
		u.hall.Wrapping = fyne.TextWrapBreak // no spaces between Chinese words
		u.hall.SetText(cfg.Hall.Name)
	}
	langIcon, sizeIcon, sizeKey := iconLanguage, iconElder, "nav.large"
	if u.theme.Large {
		// Elder mode's large hall name needs the room of the icons (and the home screen has a
		// large text tile with its icon).
		langIcon, sizeIcon, sizeKey = "", "", "nav.normal"
	}
	langBtn := NewButton(u.t("nav.lang"), OnBand, langIcon, u.clicked(func() { u.touch(); u.setLanguage(other(u.lang)) }))
	sizeBtn := NewButton(u.t(sizeKey), OnBand, sizeIcon, u.clicked(func() { u.touch(); u.setLarge(!u.theme.Large) }))
	// In elder mode the toggles keep the standard text size the citizen found them in: that
	// leaves the hall's name the room its large text needs (English on a portrait screen did
	// not fit). They stay TouchTarget square at least (tall).
	langBtn.SizeName, sizeBtn.SizeName = sizeStandardText, sizeStandardText
	toggles := container.NewHBox(tall(sizeBtn), tall(langBtn))
	// The header is a band of the government red with white text: the hall's name and the
	// time read as the kiosk's own, apart from the screen's content, and the toggles on it are
	// white keys.
	row := newHeader(u.header, u.hall, u.clock, toggles)
	pad := theme.Padding()
	band := container.NewStack(canvas.NewRectangle(colPrimary), container.New(
		layout.NewCustomPaddedLayout(pad, pad, 2*pad, 2*pad), row))
	var header fyne.CanvasObject = band
	if u.core.Demo() {
		b := canvas.NewText(u.t("demo.badge"), colPrimary)
		b.TextStyle.Bold = true
		b.Alignment = fyne.TextAlignCenter
		u.badge = b
		header = container.NewVBox(band, b)
	}
	var content fyne.CanvasObject = container.NewBorder(header, nil, nil, nil, container.NewPadded(u.body))
	if u.drawn != nil {
		content = container.NewStack(content, drawnMarker(u.drawn))
		u.drawn = nil // the first frame only; a rebuild (language, elder mode) comes later
	}
	u.win.SetContent(content)
}

func other(lang string) string {
	if lang == "zh" {
		return "en"
	}
	return "zh"
}

// setLanguage switches the screen's language and redraws the current screen.
func (u *UI) setLanguage(lang string) {
	u.lang = lang
	u.build()
	u.redraw()
}

// setLarge switches elder mode's large text on or off, for the session (whose idle timeout
// follows it, and whose end turns it off).
func (u *UI) setLarge(on bool) {
	u.core.Sessions().SetElder(on)
	u.applyLarge(on)
	u.build()
	u.redraw()
}

// applyLarge sets the theme's text size.
func (u *UI) applyLarge(on bool) {
	u.theme.Large = on
	fyne.CurrentApp().Settings().SetTheme(u.theme)
}

// redraw rebuilds the screen shown (same screen: staff mode stays as it is). The flags of the
// screen (waiting for a card, ...) stay too.
func (u *UI) redraw() {
	if u.current == nil {
		return
	}
	home, locked, wait := u.onHome, u.onLocked, u.waitCard
	u.show(u.current)
	u.onHome, u.onLocked, u.waitCard = home, locked, wait
}

// set shows a screen built by f (kept to rebuild it after a language change). Any screen but
// staff mode's own leaves staff mode.
func (u *UI) set(f func() fyne.CanvasObject) {
	u.staff.leave()
	u.show(f)
}

func (u *UI) show(f func() fyne.CanvasObject) {
	u.hideDialog()
	u.current = f
	u.onHome, u.onLocked, u.waitCard = false, false, ""
	u.waiting = nil                // a screen with section tiles sets its own as it is built
	u.screen = session.ScreenOther // a reading screen or staff mode says so as it is built
	u.body.Objects = []fyne.CanvasObject{f()}
	u.core.Sessions().SetScreen(u.screen)
	u.body.Refresh()
}

// scroll is a vertical scroll whose every move is a touch: a citizen reading a long guide is
// there. Its content keeps clear of the scroll bar, which would cover the controls' right edges.
func (u *UI) scroll(content fyne.CanvasObject) *container.Scroll {
	s := container.NewVScroll(container.New(layout.NewCustomPaddedLayout(0, 0, 0, 2*theme.Padding()), content))
	s.OnScrolled = func(fyne.Position) { u.touch() }
	return s
}

// tile is a Tile whose every tap, enabled or not, is a touch.
func (u *UI) tile(text string, primary bool, tap func()) *Tile {
	t := NewTile(text, primary, tap)
	t.Activity = func() { u.touch(); u.tapped() }
	return t
}

// serviceTile is a large tile with an icon and a one-line subtitle (the home screen's).
func (u *UI) serviceTile(text, sub, iconName string, primary bool, tap func()) *Tile {
	t := u.tile(text, primary, tap)
	t.Sub, t.IconName = sub, iconName
	return t
}

// landscape reports whether the screen is wider than high (kiosks are mostly portrait).
func (u *UI) landscape() bool {
	s := u.win.Canvas().Size()
	return s.Width > s.Height
}

// touch tells the core the citizen is there (starts a session or postpones its idle end).
func (u *UI) touch() { u.core.Sessions().Touch() }

// Tick updates the clock and, every WaitingPoll, the section tiles' counts of those waiting;
// cmd/kiosk calls it every second through fyne.Do.
func (u *UI) Tick() {
	u.tickIdle()
	u.pollWaiting()
	u.staff.tickLock()
	if seg, now := u.clock.Segments[0].(*widget.TextSegment), u.core.Now().In(u.loc()).Format("2006-01-02 15:04"); seg.Text != now {
		seg.Text = now
		u.clock.Refresh()
	}
}

func (u *UI) onEvent(e kiosk.Event) {
	switch e.Kind {
	case kiosk.EventSession:
		switch e.Session.Kind {
		case session.Warning:
			u.showIdle(e.Session.Remaining)
		case session.Continued:
			u.hideIdle()
		case session.Ended:
			u.hideIdle()
			u.hideDialog()
			u.flow = flow{}
			if u.pay.paying {
				// The card left with the session (removal wipes it) while the debit ran: the
				// paying screen stays; the outcome follows in a session of its own.
				return
			}
			// The next citizen starts in the kiosk's default language and standard text, not in
			// what the last one chose.
			reset := u.lang != u.core.Config().Kiosk.Language || u.theme.Large
			u.lang = u.core.Config().Kiosk.Language
			if u.theme.Large {
				u.applyLarge(false)
			}
			if u.staff.on && e.Session.Reason != session.Idle {
				// Staff locked or reset the kiosk from staff mode: they stay there.
				if reset {
					u.build()
					u.redraw()
				}
				return
			}
			// Back to the start, with nothing personal left on screen: every screen is rebuilt
			// from the core, which no longer has the data.
			u.build()
			u.showHome()
		}
	case kiosk.EventDevice:
		u.staff.noteDevice(e.Device, e.State)
		switch {
		case u.staff.on:
			u.redraw()
		case u.onHome:
			u.showHome()
		}
	case kiosk.EventCard:
		u.languageFor(e)
		citizen := !u.pay.paying && !u.staff.on && !u.staff.login
		if citizen && e.CardErr == nil {
			u.say(prompt.Line{Prompt: prompt.CardRead}) // a screen the card leads to may say more
		}
		switch {
		case u.pay.paying:
			// The payment has the card; a read of it (pulled and put back) changes nothing
			// on the paying screen, whose outcome follows.
		case u.staff.on, u.staff.login:
			// A staff card is no citizen's card: its "unreadable" is not news, in staff mode nor
			// on the PIN pad it opened.
		case e.CardErr != nil && u.waitCard == waitPay:
			u.pay.tap(u.t("card.unreadable"))
		case e.CardErr != nil && u.waitCard == waitPaySettle:
			u.pay.torn(u.t("card.unreadable"))
		case e.CardErr != nil:
			u.message(u.t("card.unreadable_title"), u.t("card.unreadable"), nil)
		case u.onHome:
			u.showHome() // the greeting shows the (masked) name
		case e.Card == kiosk.CardCity && u.waitCard == waitCity:
			u.showCityCard()
		case e.Card == kiosk.CardCity && u.waitCard == waitPay:
			u.pay.pay(false, false)
		case e.Card == kiosk.CardCity && u.waitCard == waitPaySettle:
			u.pay.settled()
		case u.waitCard == waitCheckIn:
			u.checkIn()
		case u.waitCard == waitProgress:
			u.lookup("")
		}
		if citizen && e.CardErr != nil {
			// After the screen it shows, whose "where to place the card" it replaces.
			u.say(prompt.Line{Prompt: prompt.CardUnreadable})
		}
		if e.Card == kiosk.CardID && e.CardErr == nil && !u.staff.on && !u.pay.paying && !u.theme.Large && u.core.ElderOffer() {
			u.offerElder()
		}
	case kiosk.EventLock:
		switch {
		case u.staff.on:
			u.redraw() // the staff screen shows lock or unlock
		case u.pay.paying:
			// The outcome of the payment is shown first; its Done leads to the locked screen.
		case e.Locked:
			u.showLocked(e.Message)
		default:
			u.showHome()
		}
	}
}

// languageFor switches the screen to the language of the citizen whose ID card was just read
// (a foreign resident's card: English) and redraws the screen shown in it, before the card's
// news is shown. Staff mode and a payment under way keep their screen as it is.
func (u *UI) languageFor(e kiosk.Event) {
	if e.Card != kiosk.CardID || e.CardErr != nil || u.staff.on || u.pay.paying {
		return
	}
	lang := u.core.Person().Language()
	if lang == "" || lang == u.lang {
		return
	}
	u.lang = lang
	u.build()
	u.redraw()
}

// button is a secondary button (Secondary: outlined, dark text), at least TouchTarget square.
func (u *UI) button(label string, tap func()) *Button {
	return NewButton(label, Secondary, "", u.clicked(tap))
}

// primary is the screen's main action (Primary: filled red).
func (u *UI) primary(label string, tap func()) *Button {
	return NewButton(label, Primary, "", u.clicked(tap))
}

// danger is a destructive action (Danger: dark red outline and text, the alert icon).
func (u *UI) danger(label string, tap func()) *Button {
	return NewButton(label, Danger, iconAlert, u.clicked(tap))
}

// clicked is tap after the tap click.
func (u *UI) clicked(tap func()) func() {
	return func() { u.tapped(); tap() }
}

// TouchTarget is the least height and width of anything a citizen taps.
const TouchTarget = 88

// tall wraps a button so that it is at least TouchTarget high and wide.
func tall(o fyne.CanvasObject) fyne.CanvasObject {
	spacer := canvas.NewRectangle(color.Transparent)
	spacer.SetMinSize(fyne.NewSize(TouchTarget, TouchTarget))
	return container.NewStack(spacer, o)
}

// page lays out a screen: a heading, the content, and a bar with Back and Home.
func (u *UI) page(title string, back func(), content fyne.CanvasObject) fyne.CanvasObject {
	h := u.heading(title) // wraps: an English title in elder mode's large text is wider than a portrait screen
	var nav []fyne.CanvasObject
	if back != nil {
		nav = append(nav, tall(NewButton(u.t("nav.back"), Secondary, iconBack, u.clicked(func() { u.touch(); back() }))))
	}
	nav = append(nav, tall(NewButton(u.t("nav.home"), Secondary, iconHome, u.clicked(func() { u.touch(); u.showHome() }))))
	bar := container.NewGridWithColumns(len(nav), nav...)
	return container.NewBorder(h, bar, nil, nil, content)
}

// showLocked shows the 暂停服务 screen until the hall unlocks the kiosk.
func (u *UI) showLocked(message string) {
	u.hideIdle()
	u.hideDialog()
	u.set(func() fyne.CanvasObject {
		title := widget.NewLabelWithStyle(u.t("locked.title"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		title.SizeName = "headingText"
		msg := widget.NewLabelWithStyle(message, fyne.TextAlignCenter, fyne.TextStyle{})
		msg.Wrapping = fyne.TextWrapWord
		sign := container.NewCenter(iconImage(iconAlert, colPrimary, 160))
		return container.NewVBox(layout.NewSpacer(), sign, title, msg, layout.NewSpacer())
	})
	u.onLocked = true
}

// message shows a full screen with a title and a text that says what to do next, and a button
// to call staff (呼叫工作人员) for a citizen who does not know what to do next.
func (u *UI) message(title, text string, back func()) {
	u.set(func() fyne.CanvasObject {
		l := widget.NewLabelWithStyle(text, fyne.TextAlignCenter, fyne.TextStyle{})
		l.Wrapping = fyne.TextWrapWord
		return u.page(title, back, container.NewVBox(layout.NewSpacer(), l, layout.NewSpacer(), u.helpButton()))
	})
}
