package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/prompt"
	"citizenhome/kiosk/queue"
	"citizenhome/kiosk/session"
)

// StaffLogin is the ways into staff mode at the screen (*kiosk.StaffLogin): the PIN pad, which a
// staff card opens too (the card names the way in, the PIN proves it). Each gives the handle of
// whoever came in (its type is the core's: Go has no covariant results), which the screen then
// holds as Staff.
type StaffLogin interface {
	PIN(pin string) (*kiosk.StaffHandle, error)
	Card(uid, pin string) (*kiosk.StaffHandle, error)
	IsStaffCard(uid string) bool
	TriesLeft() int
	LockedUntil() time.Time
}

// Staff is what the staff screen does, as the staff member logged in (*kiosk.StaffHandle):
// every action is written to the audit log by the core.
type Staff interface {
	Via() kiosk.StaffVia
	AuditLog(ctx context.Context, n int) ([]kiosk.AuditEntry, error)
	Reprint(ctx context.Context, code string) (queue.Ticket, error)
	SelfTest(ctx context.Context) (kiosk.DeviceState, error)
	PaperReplaced(ctx context.Context) kiosk.DeviceState
	Lock(ctx context.Context, message string) string
	Unlock(ctx context.Context)
	Reset(ctx context.Context)
	Logout(ctx context.Context)
	Quit(ctx context.Context)
	// ReceiptsUnprinted and ReprintReceipt: payments whose receipt did not come out
	// (kiosk.ErrNoPayments: no payments on this kiosk, and no such section on the screen).
	ReceiptsUnprinted(ctx context.Context) ([]payment.Entry, error)
	ReprintReceipt(ctx context.Context, id int64) (payment.Entry, error)
	// SetVoice sets the voice's volume and mute (kiosk.ErrNoVoice: the kiosk runs silent).
	SetVoice(ctx context.Context, l prompt.Level) error
}

// staffDesk is staff mode on the screen: the ways in (the hidden gesture and the PIN pad, a staff
// card), who is logged in, and the staff screen with what it keeps (recent device problems).
type staffDesk struct {
	u         *UI
	logins    StaffLogin
	on        bool
	by        Staff         // the staff member logged in, while on
	login     bool          // the PIN pad is shown (a staff card works there too)
	lockNote  *widget.Label // the PIN pad's line on the lockout, kept up to date by Tick; nil: no pad
	taps      []time.Time   // recent taps on the hall's name (the gesture)
	devErrors []devError    // recent device problems, newest last
	lockMsg   string        // the lock message typed on site ("": the hall's default)
	code      string        // the ticket code typed to reprint
}

// StaffAuditRows is how many rows of the audit log the staff screen shows.
const StaffAuditRows = 20

// staffDeviceErrors is how many recent device problems the staff screen keeps.
const staffDeviceErrors = 10

// devError is a device problem seen since the program started.
type devError struct {
	At     time.Time
	Name   string
	State  kiosk.DeviceState
	Detail string
}

// noteDevice keeps a device problem for the staff screen.
func (d *staffDesk) noteDevice(name string, dev kiosk.Device) {
	if dev.State == kiosk.StateOK {
		return
	}
	d.devErrors = append(d.devErrors, devError{At: dev.Since, Name: name, State: dev.State, Detail: dev.Detail})
	if n := len(d.devErrors); n > staffDeviceErrors {
		d.devErrors = slices.Delete(d.devErrors, 0, n-staffDeviceErrors)
	}
}

// The hidden gesture that opens staff PIN entry: StaffTaps taps on the hall's name within
// StaffTapWindow. Citizens do not tap a title five times by chance; staff learn it once.
const (
	StaffTaps      = 5
	StaffTapWindow = 3 * time.Second
)

// tapLabel is the hall's name in the header: a label in white bold text for the red band, which
// counts taps (the staff gesture). The white is set on the label's own text (bandRenderer), not
// by a theme override: Fyne parses the font again for every override scope and keeps each parse.
type tapLabel struct {
	widget.Label
	onTap func()
}

func newTapLabel(onTap func()) *tapLabel {
	l := &tapLabel{onTap: onTap}
	l.TextStyle = fyne.TextStyle{Bold: true}
	l.ExtendBaseWidget(l)
	return l
}

// CreateRenderer implements fyne.Widget.
func (l *tapLabel) CreateRenderer() fyne.WidgetRenderer {
	r := &bandRenderer{WidgetRenderer: l.Label.CreateRenderer()}
	r.white()
	return r
}

// bandRenderer draws a label's text in white (ColorNameForegroundOnPrimary) over whatever colour
// the label chose at each refresh.
type bandRenderer struct{ fyne.WidgetRenderer }

func (r *bandRenderer) Refresh() {
	r.WidgetRenderer.Refresh()
	r.white()
}

func (r *bandRenderer) white() {
	for _, o := range r.Objects() {
		if rt, ok := o.(*widget.RichText); ok {
			for _, s := range rt.Segments {
				if t, ok := s.(*widget.TextSegment); ok {
					t.Style.ColorName = theme.ColorNameForegroundOnPrimary
				}
			}
			rt.Refresh()
		}
	}
}

// Tapped implements fyne.Tappable.
func (l *tapLabel) Tapped(*fyne.PointEvent) { l.onTap() }

// hallTapped counts a tap on the hall's name: the gesture opens the PIN pad.
func (d *staffDesk) hallTapped() {
	u := d.u
	if u.pay.paying {
		return // no staff screen over a debit in progress
	}
	now := u.core.Now()
	d.taps = append(d.taps, now)
	for len(d.taps) > 0 && now.Sub(d.taps[0]) > StaffTapWindow {
		d.taps = d.taps[1:]
	}
	if len(d.taps) >= StaffTaps {
		d.taps = nil
		d.showLogin()
	}
}

// showLogin asks for the staff PIN on an on-screen number pad.
func (d *staffDesk) showLogin() { d.pinPad("", "", "") }

// cardTapped asks a staff card's holder for the staff PIN, on the home, locked and PIN screens:
// not in the middle of a citizen's business. The card alone opens nothing: its UID is copied
// too easily.
func (d *staffDesk) cardTapped(uid string) {
	u := d.u
	if d.on || !(u.onHome || u.onLocked || d.login) {
		return
	}
	if d.logins.IsStaffCard(uid) {
		d.pinPad(uid, "", "")
	}
}

// enter starts staff mode as by: the hall is told the kiosk is under maintenance.
func (d *staffDesk) enter(by Staff) {
	u := d.u
	d.by = by
	d.lockNote = nil
	if !d.on {
		d.on = true
		if u.maint != nil {
			u.maint.SetMaintenance(true)
		}
	}
	u.touch()
	d.show("")
}

// leave ends staff mode, if on: audited, and the hall told maintenance is over.
func (d *staffDesk) leave() {
	d.login = false
	d.lockNote = nil
	if !d.on {
		return
	}
	d.on = false
	d.by.Logout(context.Background())
	if m := d.u.maint; m != nil {
		m.SetMaintenance(false)
	}
}

// pinPad is the PIN pad with pin typed so far and note (why the last PIN was refused); card is the
// staff card tapped ("": the PIN alone, after the gesture). While PIN entry is locked out it says
// so, with the time left (kept counting by Tick).
func (d *staffDesk) pinPad(card, pin, note string) {
	u := d.u
	u.touch()
	u.set(func() fyne.CanvasObject {
		shown := widget.NewLabelWithStyle(strings.Repeat("●", len(pin)), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		shown.SizeName = "headingText"
		// Built anew when the screen is (a language switch, say): Tick counts down the one shown.
		lockNote := u.wrap(d.lockText())
		lockNote.TextStyle = fyne.TextStyle{Bold: true}
		d.lockNote = lockNote
		msg := u.wrap(note)
		pad := container.NewGridWithColumns(3)
		for _, k := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"} {
			pad.Add(tall(u.button(k, func() { d.pinPad(card, pin+k, "") })))
		}
		pad.Add(tall(u.button("⌫", func() {
			if len(pin) > 0 {
				d.pinPad(card, pin[:len(pin)-1], "")
			}
		})))
		pad.Add(tall(u.button("0", func() { d.pinPad(card, pin+"0", "") })))
		pad.Add(tall(u.primary(u.t("staff.enter"), func() {
			var st *kiosk.StaffHandle
			var err error
			if card != "" {
				st, err = d.logins.Card(card, pin)
			} else {
				st, err = d.logins.PIN(pin)
			}
			switch {
			case err == nil:
				d.enter(st)
			case errors.Is(err, kiosk.ErrStaffLockedOut):
				d.pinPad(card, "", "") // the lockout's line says it
			case errors.Is(err, kiosk.ErrStaffNoPIN):
				d.pinPad(card, "", u.t("staff.no_pin"))
			case errors.Is(err, kiosk.ErrStaffCardRequired):
				d.pinPad(card, "", u.t("staff.card_required"))
			default:
				d.pinPad(card, "", u.tf("staff.wrong", map[string]any{"N": d.logins.TriesLeft()}))
			}
		})))
		title, ask := u.t("staff.login"), u.t("staff.ask_pin")
		if card != "" {
			title, ask = u.t("staff.card_login"), u.t("staff.card_pin")
		}
		// An empty line would cost the pad its room on a landscape screen: hidden until it says
		// something (Tick shows the lockout's line when it starts).
		if lockNote.Text == "" {
			lockNote.Hide()
		}
		if note == "" {
			msg.Hide()
		}
		texts := container.NewVBox(u.wrap(ask), shown, lockNote, msg)
		return u.page(title, nil, container.New(&besideWhenShort{gap: theme.Padding() * 4}, texts, pad))
	})
	d.login = true
}

// lockText is the PIN pad's line on the lockout: how long PIN entry stays closed, and until
// when; after a lockout, that the next wrong PIN closes it again; "" otherwise.
func (d *staffDesk) lockText() string {
	u := d.u
	until := d.logins.LockedUntil()
	if until.IsZero() {
		if d.logins.TriesLeft() == 0 {
			return u.t("staff.next_locks")
		}
		return ""
	}
	left := until.Sub(u.core.Now())
	return u.tf("staff.locked_out", map[string]any{"Left": u.duration(left), "T": until.In(u.loc()).Format("15:04:05")})
}

// tickLock counts the PIN pad's lockout down, if the pad is shown.
func (d *staffDesk) tickLock() {
	if d.lockNote == nil {
		return
	}
	if s := d.lockText(); s != d.lockNote.Text {
		d.lockNote.SetText(s)
		if s == "" {
			d.lockNote.Hide()
		} else {
			d.lockNote.Show()
		}
	}
}

// duration words a lockout's time left, rounded up to the second: "4 分 05 秒", "45 秒".
func (u *UI) duration(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	if s >= 60 {
		return u.tf("staff.min_sec", map[string]any{"M": s / 60, "S": fmt.Sprintf("%02d", s%60)})
	}
	return u.tf("staff.sec", map[string]any{"S": s})
}

// show is the staff screen: devices, today's counters, the service actions, today's receipts to
// reprint (first, when there are any), recent device problems and the audit log. note is the
// result of the last action. Outside staff mode it shows the PIN pad instead.
func (d *staffDesk) show(note string) {
	u := d.u
	if !d.on {
		d.showLogin()
		return
	}
	st := d.by
	u.show(func() fyne.CanvasObject {
		u.screen = session.ScreenStaff
		ctx := context.Background()
		devs := u.core.Devices()
		names := make([]string, 0, len(devs))
		for n := range devs {
			names = append(names, n)
		}
		sort.Strings(names)
		form := widget.NewForm()
		for _, n := range names {
			d := devs[n]
			s := u.t("device." + string(d.State))
			if d.Detail != "" {
				s += u.paren(d.Detail)
			}
			form.Append(u.t("device."+n), u.wrap(s))
		}
		if c, err := u.core.TicketCounts(ctx); err == nil {
			form.Append(u.t("staff.counts"), widget.NewLabel(u.tf("staff.counts_value",
				map[string]any{"I": c.Issued, "P": c.Priority, "W": c.Waiting, "R": c.Reprint})))
		}
		// Every action is a touch: staff mode ends by itself after the idle timeout, so a kiosk
		// left in staff mode returns to the citizens' home screen. Touched after the action too:
		// lock and reset end the session, and without one nothing would time out.
		do := func(f func() string) func() {
			return func() {
				u.touch()
				note := f()
				u.touch()
				d.show(note)
			}
		}
		locked, _ := u.core.Locked()
		// Lock, reset and quit stop citizens' service: each asks first, naming itself.
		lock := u.danger(u.t("staff.lock"), func() {
			u.touch()
			shown := d.lockMsg
			if shown == "" {
				shown = u.t("staff.lock_default")
			}
			u.confirm(u.t("staff.lock"), u.tf("staff.confirm_lock", map[string]any{"M": shown}), do(func() string {
				st.Lock(ctx, strings.TrimSpace(d.lockMsg))
				d.lockMsg = ""
				return u.t("staff.done_lock")
			}))
		})
		if locked {
			lock = u.button(u.t("staff.unlock"), do(func() string { st.Unlock(ctx); return u.t("staff.done_unlock") }))
		}
		msg := widget.NewEntry()
		msg.SetPlaceHolder(u.t("staff.lock_message_hint"))
		msg.SetText(d.lockMsg)
		// Typing is a touch: staff writing a long message are there.
		msg.OnChanged = func(s string) { u.touch(); d.lockMsg = s }
		lockBox := container.NewVBox(u.section(u.t("staff.lock_message")), tall(msg))
		actions := container.NewGridWithColumns(2,
			tall(u.button(u.t("staff.reprint"), do(func() string {
				t, err := st.Reprint(ctx, kiosk.LastTicket)
				if err != nil {
					return u.tf("staff.failed", map[string]any{"E": err.Error()})
				}
				return u.tf("staff.done_reprint", map[string]any{"T": t.Code})
			}))),
			tall(u.button(u.t("staff.selftest"), do(func() string {
				s, err := st.SelfTest(ctx)
				if err != nil {
					return u.tf("staff.failed", map[string]any{"E": err.Error()})
				}
				return u.tf("staff.done_selftest", map[string]any{"S": u.t("device." + string(s))})
			}))),
			tall(u.button(u.t("staff.paper"), do(func() string {
				return u.tf("staff.done_paper", map[string]any{"S": u.t("device." + string(st.PaperReplaced(ctx)))})
			}))),
			tall(lock),
			tall(u.danger(u.t("staff.reset"), func() {
				u.touch()
				u.confirm(u.t("staff.reset"), u.t("staff.confirm_reset"), do(func() string { st.Reset(ctx); return u.t("staff.done_reset") }))
			})),
			tall(u.button(u.t("staff.leave"), func() { u.showHome() })),
			tall(u.danger(u.t("staff.quit"), func() {
				u.touch()
				u.confirm(u.t("staff.quit"), u.t("staff.confirm_quit"), func() {
					st.Quit(ctx)
					d.on = false
					if u.maint != nil {
						u.maint.SetMaintenance(false)
					}
					if u.quit != nil {
						u.quit()
					}
				})
			})),
		)
		who := u.t("staff.by." + string(st.Via()))
		body := container.NewVBox(widget.NewLabel(u.tf("staff.logged_in", map[string]any{"By": who})))
		// A receipt the printer failed comes first: a citizen may be waiting for it at the
		// kiosk. With none, the section sits below the actions.
		receipts, due := d.receipts(ctx, st, do)
		if due {
			body.Add(receipts)
		}
		body.Add(form)
		body.Add(u.wrap(note))
		body.Add(actions)
		if v := d.voiceControls(ctx, st, do); v != nil {
			body.Add(v)
		}
		body.Add(d.reprintByCode(ctx, st, do))
		if !locked {
			body.Add(lockBox)
		}
		if !due && receipts != nil {
			body.Add(receipts)
		}
		body.Add(u.section(u.t("staff.device_errors")))
		if len(d.devErrors) == 0 {
			body.Add(widget.NewLabel(u.t("staff.none")))
		}
		for i := len(d.devErrors) - 1; i >= 0; i-- {
			e := d.devErrors[i]
			s := fmt.Sprintf("%s  %s  %s", e.At.In(u.loc()).Format("01-02 15:04:05"), u.t("device."+e.Name), u.t("device."+string(e.State)))
			if e.Detail != "" {
				s += u.paren(e.Detail)
			}
			body.Add(u.wrap(s))
		}
		body.Add(u.section(u.tf("staff.audit", map[string]any{"N": StaffAuditRows})))
		rows, err := st.AuditLog(ctx, StaffAuditRows)
		if err != nil {
			body.Add(u.wrap(u.tf("staff.failed", map[string]any{"E": err.Error()})))
		}
		for _, e := range rows {
			body.Add(u.wrap(d.auditLine(e)))
		}
		return u.page(u.t("staff.title"), nil, u.scroll(body))
	})
}

// reprintByCode is the section that reprints any of today's tickets by its code, typed on a
// keypad of the queue letters and the digits.
func (d *staffDesk) reprintByCode(ctx context.Context, st Staff, do func(func() string) func()) fyne.CanvasObject {
	u := d.u
	field := widget.NewLabelWithStyle(d.code, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	field.SizeName = "headingText"
	if d.code == "" {
		// A hint, not a number: plain and grey (colDisabled, 8.9:1 on white).
		field = widget.NewLabelWithStyle(u.t("staff.code_hint"), fyne.TextAlignCenter, fyne.TextStyle{})
		field.Importance = widget.LowImportance
	}
	field.Wrapping = fyne.TextWrapWord
	pad := u.ticketCodePad(d.code, func(s string) { d.code = s; d.show("") })
	code := d.code
	reprint := u.primary(u.t("staff.reprint_code"), do(func() string {
		t, err := st.Reprint(ctx, code)
		switch {
		case err == nil:
			d.code = ""
			return u.tf("staff.done_reprint", map[string]any{"T": t.Code})
		case errors.Is(err, queue.ErrInvalid):
			return u.tf("staff.code_invalid", map[string]any{"C": code})
		case errors.Is(err, queue.ErrNotFound):
			return u.tf("staff.code_unknown", map[string]any{"C": strings.ToUpper(code)})
		}
		return u.tf("staff.failed", map[string]any{"E": err.Error()})
	}))
	if code == "" {
		reprint.Disable()
	}
	return container.NewVBox(u.section(u.t("staff.reprint_by_code")), field, pad, tall(reprint))
}

// receipts is the section of today's payments whose receipt did not come out, each with
// its reprint button; due reports whether there is any. nil without payments on this kiosk.
func (d *staffDesk) receipts(ctx context.Context, st Staff, do func(func() string) func()) (o fyne.CanvasObject, due bool) {
	u := d.u
	list, err := st.ReceiptsUnprinted(ctx)
	if errors.Is(err, kiosk.ErrNoPayments) {
		return nil, false
	}
	title := u.section(u.t("staff.receipts"))
	box := container.NewVBox(title)
	switch {
	case err != nil:
		box.Add(u.wrap(u.tf("staff.failed", map[string]any{"E": err.Error()})))
		return box, true
	case len(list) == 0:
		box.Add(widget.NewLabel(u.t("staff.none")))
		return box, false
	}
	for _, e := range list {
		id := e.ID
		name := e.Matter
		if m := u.core.Catalog().Matter(e.Matter); m != nil {
			name = m.Name.In(u.lang)
		}
		line := u.tf("staff.receipt_line", map[string]any{"T": e.Time(u.loc()).Format("15:04"), "M": name,
			"A": yuan(e.AmountFen), "C": e.CardMasked, "N": e.Txn()})
		btn := tall(u.primary(u.t("staff.receipt_reprint"), do(func() string {
			e, err := st.ReprintReceipt(ctx, id)
			if err != nil {
				return u.tf("staff.failed", map[string]any{"E": err.Error()})
			}
			return u.tf("staff.done_receipt", map[string]any{"N": e.Txn()})
		})))
		box.Add(container.NewBorder(nil, nil, nil, btn, u.wrap(line)))
	}
	return box, true
}

// auditLine is one audit row as staff read it: when, what, by whom, how it went.
func (d *staffDesk) auditLine(e kiosk.AuditEntry) string {
	u := d.u
	name := e.Name
	if u.text.has(u.lang, "audit."+e.Name) {
		name = u.t("audit." + e.Name)
	}
	by := e.By
	if e.Staff() {
		by = u.t("staff.by." + e.By)
	} else if u.text.has(u.lang, "audit.by."+e.By) { // a call for staff: by the citizen, or ended by time
		by = u.t("audit.by." + e.By)
	}
	result := u.t("audit.ok")
	switch {
	case !e.Executed:
		result = u.tf("audit.refused", map[string]any{"E": e.Error})
	case !e.OK:
		result = u.tf("audit.failed", map[string]any{"E": e.Error})
	}
	line := fmt.Sprintf("%s  %s  %s  %s", e.At.In(u.loc()).Format("01-02 15:04:05"), name, by, result)
	// A receipt reprint names its payment: staff check it against the citizen's number.
	var args map[string]any
	if json.Unmarshal([]byte(e.Args), &args) == nil {
		if txn, ok := args["txn"].(string); ok && txn != "" {
			line += "  " + txn
		}
	}
	return line
}

// besideWhenShort lays its two objects out one above the other when the height allows, as on a
// portrait screen, and side by side otherwise (a landscape screen in elder mode, a PIN pad with
// a message): the pad's keys keep their size and nothing scrolls out of reach.
type besideWhenShort struct{ gap float32 }

func (b *besideWhenShort) stacked(objs []fyne.CanvasObject) fyne.Size {
	top, bottom := objs[0].MinSize(), objs[1].MinSize()
	return fyne.NewSize(max(top.Width, bottom.Width), top.Height+b.gap+bottom.Height)
}

// Layout implements fyne.Layout.
func (b *besideWhenShort) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) != 2 {
		return
	}
	if b.stacked(objs).Height <= size.Height {
		top := objs[0].MinSize().Height
		objs[0].Move(fyne.NewPos(0, 0))
		objs[0].Resize(fyne.NewSize(size.Width, top))
		objs[1].Move(fyne.NewPos(0, top+b.gap))
		objs[1].Resize(fyne.NewSize(size.Width, objs[1].MinSize().Height))
		return
	}
	half := (size.Width - b.gap) / 2
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(fyne.NewSize(half, size.Height))
	objs[1].Move(fyne.NewPos(half+b.gap, 0))
	objs[1].Resize(fyne.NewSize(half, size.Height))
}

// MinSize implements fyne.Layout: the smaller of the two arrangements' heights, so that a short
// screen takes the side-by-side one.
func (b *besideWhenShort) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if len(objs) != 2 {
		return fyne.Size{}
	}
	left, right := objs[0].MinSize(), objs[1].MinSize()
	side := fyne.NewSize(2*max(left.Width, right.Width)+b.gap, max(left.Height, right.Height))
	st := b.stacked(objs)
	return fyne.NewSize(max(st.Width, side.Width), min(st.Height, side.Height))
}
