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
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/queue"
)

// Staff is what the staff screens need of the core, beyond Core (*kiosk.Kiosk implements it).
// Every action goes through the Staff* methods, which write the audit log.
type Staff interface {
	StaffPIN(pin string) error
	StaffTriesLeft() int
	StaffCardLogin(uid string) error
	SubscribeCards(fn func(kiosk.CardEvent))
	TicketCounts(ctx context.Context) (queue.Counts, error)
	AuditLog(ctx context.Context, n int) ([]kiosk.AuditEntry, error)
	StaffReprint(ctx context.Context, by kiosk.StaffVia) (queue.Ticket, error)
	StaffSelfTest(ctx context.Context, by kiosk.StaffVia) (kiosk.DeviceState, error)
	StaffPaperReplaced(ctx context.Context, by kiosk.StaffVia) kiosk.DeviceState
	StaffLock(ctx context.Context, by kiosk.StaffVia, message string)
	StaffUnlock(ctx context.Context, by kiosk.StaffVia)
	StaffReset(ctx context.Context, by kiosk.StaffVia)
	StaffLogout(ctx context.Context, by kiosk.StaffVia)
	StaffQuit(ctx context.Context, by kiosk.StaffVia)
	// ReceiptsUnprinted and StaffReprintReceipt: payments whose receipt did not come out
	// (kiosk.ErrNoPayments: no payments on this kiosk, and no such section on the screen).
	ReceiptsUnprinted(ctx context.Context) ([]payment.Entry, error)
	StaffReprintReceipt(ctx context.Context, by kiosk.StaffVia, id int64) (payment.Entry, error)
}

// staffMode is whether staff are logged in on the screen, and how they proved it.
type staffMode struct {
	on    bool
	via   kiosk.StaffVia
	login bool // the PIN pad is shown (a staff card works there too)
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

func (u *UI) noteDevice(name string, d kiosk.Device) {
	if d.State == kiosk.StateOK {
		return
	}
	u.devErrors = append(u.devErrors, devError{At: d.Since, Name: name, State: d.State, Detail: d.Detail})
	if n := len(u.devErrors); n > staffDeviceErrors {
		u.devErrors = slices.Delete(u.devErrors, 0, n-staffDeviceErrors)
	}
}

// The hidden gesture that opens staff PIN entry: StaffTaps taps on the hall's name within
// StaffTapWindow. Citizens do not tap a title five times by chance; staff learn it once.
const (
	StaffTaps      = 5
	StaffTapWindow = 3 * time.Second
)

// tapLabel is a label that counts taps (the hall's name in the header).
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

// Tapped implements fyne.Tappable.
func (l *tapLabel) Tapped(*fyne.PointEvent) { l.onTap() }

func (u *UI) hallTapped() {
	if u.paying {
		return // no staff screen over a debit in progress
	}
	now := u.core.Now()
	u.taps = append(u.taps, now)
	for len(u.taps) > 0 && now.Sub(u.taps[0]) > StaffTapWindow {
		u.taps = u.taps[1:]
	}
	if len(u.taps) >= StaffTaps {
		u.taps = nil
		u.StaffLogin()
	}
}

// StaffLogin asks for the staff PIN on an on-screen number pad.
func (u *UI) StaffLogin() { u.staffLogin("", "") }

// InStaffMode reports whether staff are logged in on the screen.
func (u *UI) InStaffMode() bool { return u.staff.on }

// cardTapped lets staff in by their card, on the home, locked and PIN screens: not in the
// middle of a citizen's business.
func (u *UI) cardTapped(uid string) {
	st, ok := u.core.(Staff)
	if !ok || u.staff.on || !(u.onHome || u.onLocked || u.staff.login) {
		return
	}
	if st.StaffCardLogin(uid) == nil {
		u.enterStaff(kiosk.StaffByCard)
	}
}

// enterStaff starts staff mode: the hall is told the kiosk is under maintenance.
func (u *UI) enterStaff(via kiosk.StaffVia) {
	u.staff.via = via
	if !u.staff.on {
		u.staff.on = true
		if u.maint != nil {
			u.maint.SetMaintenance(true)
		}
	}
	u.touch()
	u.StaffScreen("")
}

// leaveStaff ends staff mode, if on: audited, and the hall told maintenance is over.
func (u *UI) leaveStaff() {
	u.staff.login = false
	if !u.staff.on {
		return
	}
	u.staff.on = false
	if st, ok := u.core.(Staff); ok {
		st.StaffLogout(context.Background(), u.staff.via)
	}
	if u.maint != nil {
		u.maint.SetMaintenance(false)
	}
}

func (u *UI) staffLogin(pin, note string) {
	st, ok := u.core.(Staff)
	if !ok {
		return
	}
	u.touch()
	u.set(func() fyne.CanvasObject {
		shown := widget.NewLabelWithStyle(strings.Repeat("●", len(pin)), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		shown.SizeName = "headingText"
		msg := u.wrap(note)
		pad := container.NewGridWithColumns(3)
		for _, d := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"} {
			d := d
			pad.Add(tall(u.button(d, func() { u.staffLogin(pin+d, "") })))
		}
		pad.Add(tall(u.button("⌫", func() {
			if len(pin) > 0 {
				u.staffLogin(pin[:len(pin)-1], "")
			}
		})))
		pad.Add(tall(u.button("0", func() { u.staffLogin(pin+"0", "") })))
		pad.Add(tall(u.primary(u.t("staff.enter"), func() {
			err := st.StaffPIN(pin)
			var lo *kiosk.StaffLockedOutError
			switch {
			case err == nil:
				u.enterStaff(kiosk.StaffByPIN)
			case errors.As(err, &lo):
				u.staffLogin("", u.tf("staff.locked_out", map[string]any{"T": lo.Until.Format("15:04")}))
			case errors.Is(err, kiosk.ErrStaffNoPIN):
				u.staffLogin("", u.t("staff.no_pin"))
			default:
				u.staffLogin("", u.tf("staff.wrong", map[string]any{"N": st.StaffTriesLeft()}))
			}
		})))
		return u.page(u.t("staff.login"), nil, container.NewVBox(shown, msg, pad))
	})
	u.staff.login = true
}

// StaffScreen is the staff mode: devices, today's counters, the service actions, today's
// receipts to reprint (first, when there are any), recent device problems and the audit log.
// note is the result of the last action. Outside staff mode it shows the PIN pad instead.
func (u *UI) StaffScreen(note string) {
	st, ok := u.core.(Staff)
	if !ok {
		return
	}
	if !u.staff.on {
		u.StaffLogin()
		return
	}
	u.show(func() fyne.CanvasObject {
		ctx := context.Background()
		by := u.staff.via
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
				s += "（" + d.Detail + "）"
			}
			form.Append(u.t("device."+n), u.wrap(s))
		}
		if c, err := st.TicketCounts(ctx); err == nil {
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
				u.StaffScreen(note)
			}
		}
		locked, _ := u.core.Locked()
		lock := u.button(u.t("staff.lock"), do(func() string { st.StaffLock(ctx, by, ""); return u.t("staff.done_lock") }))
		if locked {
			lock = u.button(u.t("staff.unlock"), do(func() string { st.StaffUnlock(ctx, by); return u.t("staff.done_unlock") }))
		}
		actions := container.NewGridWithColumns(2,
			tall(u.button(u.t("staff.reprint"), do(func() string {
				t, err := st.StaffReprint(ctx, by)
				if err != nil {
					return u.tf("staff.failed", map[string]any{"E": err.Error()})
				}
				return u.tf("staff.done_reprint", map[string]any{"T": t.Code})
			}))),
			tall(u.button(u.t("staff.selftest"), do(func() string {
				s, err := st.StaffSelfTest(ctx, by)
				if err != nil {
					return u.tf("staff.failed", map[string]any{"E": err.Error()})
				}
				return u.tf("staff.done_selftest", map[string]any{"S": u.t("device." + string(s))})
			}))),
			tall(u.button(u.t("staff.paper"), do(func() string {
				return u.tf("staff.done_paper", map[string]any{"S": u.t("device." + string(st.StaffPaperReplaced(ctx, by)))})
			}))),
			tall(lock),
			tall(u.button(u.t("staff.reset"), do(func() string { st.StaffReset(ctx, by); return u.t("staff.done_reset") }))),
			tall(u.button(u.t("staff.leave"), func() { u.Home() })),
			tall(u.button(u.t("staff.quit"), func() {
				st.StaffQuit(ctx, by)
				u.staff.on = false
				if u.maint != nil {
					u.maint.SetMaintenance(false)
				}
				if u.quit != nil {
					u.quit()
				}
			})),
		)
		who := u.t("staff.by." + string(by))
		body := container.NewVBox(widget.NewLabel(u.tf("staff.logged_in", map[string]any{"By": who})))
		// A receipt the printer failed comes first: a citizen may be waiting for it at the
		// kiosk. With none, the section sits below the actions.
		receipts, due := u.staffReceipts(ctx, st, by, do)
		if due {
			body.Add(receipts)
		}
		body.Add(form)
		body.Add(u.wrap(note))
		body.Add(actions)
		if !due && receipts != nil {
			body.Add(receipts)
		}
		body.Add(widget.NewLabelWithStyle(u.t("staff.device_errors"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		if len(u.devErrors) == 0 {
			body.Add(widget.NewLabel(u.t("staff.none")))
		}
		for i := len(u.devErrors) - 1; i >= 0; i-- {
			e := u.devErrors[i]
			s := fmt.Sprintf("%s  %s  %s", e.At.In(u.loc()).Format("01-02 15:04:05"), u.t("device."+e.Name), u.t("device."+string(e.State)))
			if e.Detail != "" {
				s += "（" + e.Detail + "）"
			}
			body.Add(u.wrap(s))
		}
		body.Add(widget.NewLabelWithStyle(u.tf("staff.audit", map[string]any{"N": StaffAuditRows}), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		rows, err := st.AuditLog(ctx, StaffAuditRows)
		if err != nil {
			body.Add(u.wrap(u.tf("staff.failed", map[string]any{"E": err.Error()})))
		}
		for _, e := range rows {
			body.Add(u.wrap(u.auditLine(e)))
		}
		return u.page(u.t("staff.title"), nil, container.NewVScroll(body))
	})
}

// staffReceipts is the section of today's payments whose receipt did not come out, each with
// its reprint button; due reports whether there is any. nil without payments on this kiosk.
func (u *UI) staffReceipts(ctx context.Context, st Staff, by kiosk.StaffVia, do func(func() string) func()) (o fyne.CanvasObject, due bool) {
	list, err := st.ReceiptsUnprinted(ctx)
	if errors.Is(err, kiosk.ErrNoPayments) {
		return nil, false
	}
	title := widget.NewLabelWithStyle(u.t("staff.receipts"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
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
			e, err := st.StaffReprintReceipt(ctx, by, id)
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
func (u *UI) auditLine(e kiosk.AuditEntry) string {
	name := e.Name
	if u.text.has(u.lang, "audit."+e.Name) {
		name = u.t("audit." + e.Name)
	}
	by := e.By
	if e.Staff() {
		by = u.t("staff.by." + e.By)
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
