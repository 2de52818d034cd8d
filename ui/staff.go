package ui

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
	"citizenhome/kiosk/queue"
)

// Staff is what the staff screens need of the core, beyond Core.
type Staff interface {
	StaffPIN(pin string) error
	StaffTriesLeft() int
	TicketCounts(ctx context.Context) (queue.Counts, error)
	ReprintLast(ctx context.Context) (queue.Ticket, error)
	SelfTest(ctx context.Context) (kiosk.DeviceState, error)
	PaperReplaced(ctx context.Context) kiosk.DeviceState
	Lock(message string)
	Unlock()
	Reset()
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
				u.StaffScreen("")
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
}

// StaffScreen is the staff mode: devices, today's counters, and the service actions. note is the
// result of the last action.
func (u *UI) StaffScreen(note string) {
	st, ok := u.core.(Staff)
	if !ok {
		return
	}
	u.set(func() fyne.CanvasObject {
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
				s += "（" + d.Detail + "）"
			}
			form.Append(u.t("device."+n), u.wrap(s))
		}
		if c, err := st.TicketCounts(ctx); err == nil {
			form.Append(u.t("staff.counts"), widget.NewLabel(u.tf("staff.counts_value",
				map[string]any{"I": c.Issued, "P": c.Priority, "W": c.Waiting, "R": c.Reprint})))
		}
		// Every action is a touch: staff mode ends by itself after the idle timeout, so a kiosk
		// left in staff mode returns to the citizens' home screen.
		do := func(f func() string) func() { return func() { u.touch(); u.StaffScreen(f()) } }
		locked, _ := u.core.Locked()
		lock := u.button(u.t("staff.lock"), do(func() string { st.Lock(""); return u.t("staff.done_lock") }))
		if locked {
			lock = u.button(u.t("staff.unlock"), do(func() string { st.Unlock(); return u.t("staff.done_unlock") }))
		}
		actions := container.NewGridWithColumns(2,
			tall(u.button(u.t("staff.reprint"), do(func() string {
				t, err := st.ReprintLast(ctx)
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
			tall(u.button(u.t("staff.reset"), do(func() string { st.Reset(); return u.t("staff.done_reset") }))),
			tall(u.button(u.t("staff.quit"), func() {
				if u.quit != nil {
					u.quit()
				}
			})),
		)
		body := container.NewVBox(form, u.wrap(note), actions)
		return u.page(u.t("staff.title"), nil, container.NewVScroll(body))
	})
}
