package ui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/session"
)

// Payments is what the payment screens (一卡通缴费) need (*kiosk.Payments). On a kiosk without
// payments (no PSAM) kiosk.NoPayments stands in: its Ready says why, the pay buttons show
// disabled with the reason, and the flow cannot be entered.
type Payments interface {
	// Ready is nil when payments can be made on this kiosk; otherwise why not
	// (kiosk.ErrNoPayments).
	Ready() error
	Pay(ctx context.Context, matterID string) (kiosk.Paid, error)
	PayAgain(ctx context.Context, matterID string) (kiosk.Paid, error)
	// Entry is a payment of the journal as it stands now.
	Entry(ctx context.Context, id int64) (payment.Entry, error)
}

// payCall bounds a payment: the debit itself takes well under a second, the receipt a few. The
// core finishes a debit that happened whatever this context does.
const payCall = time.Minute

// What the payment screens wait a card for (UI.waitCard).
const (
	waitPay       = "pay"        // the tap prompt: a city card read starts the payment
	waitPaySettle = "pay-settle" // a payment torn mid-debit: the card's return settles it
)

// payForm is the payment in progress in this session (UI.flow: dropped when the session ends).
type payForm struct {
	matter *catalog.Matter
	back   func() // where the confirm screen's Back goes
	torn   int64  // the journal id of a payment torn mid-debit, waiting for its card; 0 none
}

// payDesk is the payment screens (一卡通缴费): the payments they use, or what stands in for them,
// and whether a payment is with the card now.
type payDesk struct {
	u      *UI
	svc    Payments // or kiosk.NoPayments
	paying bool     // a payment is with the card: nothing may leave its screen
}

// hasFee reports whether m has a fee to pay at the kiosk.
func hasFee(m *catalog.Matter) bool { return m != nil && !m.Fee.Free && m.Fee.AmountFen > 0 }

// ready says whether a payment can be made now, and if not why, in the citizen's words: no
// payments on this kiosk, the payment journal waiting for staff (the payment device in error),
// the printer that must print the receipt, or the card reader down. Like the ticket tile with
// the printer, the pay buttons are then shown disabled with this reason.
func (pd *payDesk) ready() (string, bool) {
	u := pd.u
	if pd.svc.Ready() != nil {
		return u.t("pay.none"), false
	}
	devs := u.core.Devices()
	if d, ok := devs[kiosk.DevicePayment]; ok && !d.State.Usable() {
		return u.t("pay.down"), false
	}
	if d := devs[kiosk.DevicePrinter]; !d.State.Usable() {
		return u.tf("pay.no_printer", map[string]any{"S": u.t("printer." + string(d.State))}), false
	}
	if d, ok := devs[kiosk.DeviceCardReader]; ok && !d.State.Usable() {
		return u.t("pay.no_reader"), false
	}
	return "", true
}

// button is the pay entry for m (guide detail): "缴费 ¥20.00", or disabled with the reason
// when payments cannot be made now. nil for a free matter.
func (pd *payDesk) button(m *catalog.Matter, back func()) fyne.CanvasObject {
	u := pd.u
	if !hasFee(m) {
		return nil
	}
	label := u.tf("pay.button", map[string]any{"A": yuan(m.Fee.AmountFen)})
	if why, ok := pd.ready(); !ok {
		t := u.tile(label+"\n"+why, false, nil)
		t.Disable()
		return t
	}
	return tall(u.button(label, func() { u.touch(); pd.showConfirm(m, back) }))
}

// entry is the 一卡通 screen's way into payments: to the list of matters with a fee, or
// disabled with the reason.
func (pd *payDesk) entry() fyne.CanvasObject {
	u := pd.u
	if why, ok := pd.ready(); !ok {
		t := u.tile(u.t("pay.title")+"\n"+why, false, nil)
		t.Disable()
		return t
	}
	return u.tile(u.t("pay.title"), true, func() { u.touch(); pd.showChoose() })
}

// showChoose lists the catalog's matters with a fee, by section, as large buttons.
func (pd *payDesk) showChoose() {
	u := pd.u
	if why, ok := pd.ready(); !ok {
		u.message(u.t("pay.title"), why, nil)
		return
	}
	u.set(func() fyne.CanvasObject {
		c := u.core.Catalog()
		list := container.NewVBox(u.wrap(u.t("pay.choose_hint")))
		for _, s := range c.Sections() {
			var ms []*catalog.Matter
			for _, m := range c.Matters(s.ID) {
				if hasFee(m) {
					ms = append(ms, m)
				}
			}
			if len(ms) == 0 {
				continue
			}
			list.Add(u.section(s.Name.In(u.lang)))
			for _, m := range ms {
				list.Add(u.tile(fmt.Sprintf("%s  ·  %s", m.Name.In(u.lang), yuan(m.Fee.AmountFen)), false,
					func() { u.touch(); pd.showConfirm(m, pd.showChoose) }))
			}
		}
		return u.page(u.t("pay.choose"), u.showCityCard, u.scroll(list))
	})
}

// showConfirm starts the payment of m's fee: the matter and the amount to confirm; back is where
// Back goes. Refused with the reason when payments cannot be made now or the hall is closed.
func (pd *payDesk) showConfirm(m *catalog.Matter, back func()) {
	u := pd.u
	if why, ok := pd.ready(); !ok {
		u.message(u.t("pay.title"), why, back)
		return
	}
	if !hasFee(m) {
		u.message(u.t("pay.title"), u.t("pay.free"), back)
		return
	}
	if o := u.core.Offer(); !o.Hours.Open {
		u.closed(o)
		return
	}
	u.flow.pay = payForm{matter: m, back: back}
	pd.confirm()
}

func (pd *payDesk) confirm() {
	u := pd.u
	m, back := u.flow.pay.matter, u.flow.pay.back
	if m == nil { // the session ended: nothing to confirm any more
		u.showHome()
		return
	}
	u.set(func() fyne.CanvasObject {
		form := widget.NewForm(widget.NewFormItem(u.t("ticket.matter"), u.wrap(m.Name.In(u.lang))))
		if !m.Fee.Standard.IsZero() {
			form.Append(u.t("pay.standard"), u.wrap(m.Fee.Standard.In(u.lang)))
		}
		if c := u.core.CityCard(); c != nil {
			form.Append(u.t("citycard.number"), widget.NewLabel(c.Masked()))
			form.Append(u.t("citycard.balance"), widget.NewLabel(yuan(c.BalanceFen)))
		}
		amount := container.NewVBox(u.centred(widget.NewLabel(u.t("pay.amount"))), u.big(yuan(m.Fee.AmountFen), 96))
		note := u.centred(u.wrap(u.t("pay.confirm_note")))
		ok := tall(u.primary(u.tf("pay.confirm", map[string]any{"A": yuan(m.Fee.AmountFen)}), func() { u.touch(); pd.start() }))
		// The button stays in reach; what it confirms scrolls in elder mode's large text.
		return u.page(u.t("pay.confirm_title"), back, container.NewBorder(nil, ok, nil, nil, u.scroll(container.NewVBox(form, amount, note))))
	})
}

// start follows the confirmation: with a city card read in this session (most likely still
// on the reader) it pays at once; otherwise, or when the card is no longer there, it asks for
// the tap and pays as soon as the card is read.
func (pd *payDesk) start() {
	u := pd.u
	if u.core.CityCard() != nil {
		pd.pay(false, true)
		return
	}
	pd.tap("")
}

// tap asks for the city card; note says why again (nothing found, a retry).
func (pd *payDesk) tap(note string) {
	u := pd.u
	m := u.flow.pay.matter
	if m == nil {
		u.showHome()
		return
	}
	u.set(func() fyne.CanvasObject {
		tap := u.heading(u.t("pay.tap"))
		items := []fyne.CanvasObject{tap,
			u.centred(u.wrap(u.tf("pay.due", map[string]any{"A": yuan(m.Fee.AmountFen), "M": m.Name.In(u.lang)}))),
			u.centred(u.bold(u.t("pay.hold")))}
		if note != "" {
			items = append(items, u.centred(u.wrap(note)))
		}
		placed := tall(u.button(u.t("pay.card_placed"), func() { u.touch(); pd.pay(false, false) }))
		return u.page(u.t("pay.title"), pd.confirm, u.cardScreen(container.NewVBox(items...), placed, cardCity))
	})
	u.waitCard = waitPay
}

// pay pays off the UI goroutine, the paying screen shown meanwhile. The screen has no way
// out and the session is held in a transaction (no idle end) until the core returns: a citizen
// must not walk away from a debit half done. quiet: a card missing is no news (the automatic
// attempt after the confirmation), the tap prompt just shows.
func (pd *payDesk) pay(again, quiet bool) {
	u := pd.u
	p, m := pd.svc, u.flow.pay.matter
	if p.Ready() != nil || m == nil {
		u.showHome()
		return
	}
	done := u.core.Sessions().Begin()
	pd.paying = true
	u.set(func() fyne.CanvasObject {
		bar := widget.NewProgressBarInfinite()
		return container.NewVBox(layout.NewSpacer(), u.heading(u.t("pay.paying")),
			u.big(yuan(m.Fee.AmountFen), 96), u.centred(u.bold(u.t("pay.hold"))), bar, layout.NewSpacer())
	})
	u.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), payCall)
		defer cancel()
		pay := p.Pay
		if again {
			pay = p.PayAgain
		}
		paid, err := pay(ctx, m.ID)
		fyne.Do(func() {
			pd.paying = false
			done()
			// The session may have ended meanwhile (the card taken away with removal wiping
			// it): the outcome is shown all the same, in a session of its own, so that the
			// screen still returns home when left alone.
			u.touch()
			pd.result(m, paid, err, quiet)
		})
	})
}

// result shows what a payment did and what to do next.
func (pd *payDesk) result(m *catalog.Matter, paid kiosk.Paid, err error, quiet bool) {
	u := pd.u
	if u.flow.pay.matter == nil {
		u.flow.pay = payForm{matter: m, back: pd.showChoose}
	}
	var ce *kiosk.ClosedError
	var pe *kiosk.PrinterError
	switch {
	case errors.Is(err, payment.ErrAlreadyPaid):
		pd.already(paid)
		return
	case paid.Payment.Status == payment.StatusPaid:
		// Paid, also when a step after the debit failed (the message says so).
		note := ""
		if err != nil {
			note = u.msg(payment.Message(err))
		}
		pd.showPaid(paid.Payment, m, paid.BalanceFen, paid.PrintErr == nil, note, paid.Settled)
		return
	case err == nil:
		u.message(u.t("error.title"), u.t("error.other"), nil) // no payment and no error: not expected
		return
	case errors.Is(err, payment.ErrNoCard):
		note := u.t("pay.no_card")
		if quiet {
			note = ""
		}
		pd.tap(note)
		return
	case errors.Is(err, payment.ErrPending):
		pd.retry(u.t("pay.pending_title"), u.msg(payment.MsgPending)+"\n"+u.t("pay.pending_help"))
		return
	case errors.Is(err, kiosk.ErrLocked):
		_, msg := u.core.Locked()
		u.showLocked(msg)
		return
	case errors.As(err, &ce):
		u.closed(kiosk.Offer{Hours: ce.Status})
		return
	case errors.As(err, &pe):
		u.message(u.t("error.title"), u.tf("pay.no_printer", map[string]any{"S": u.t("printer." + string(pe.State))})+"\n"+u.t("pay.not_charged"), nil)
		return
	case errors.Is(err, kiosk.ErrNoPayments):
		u.message(u.t("error.title"), u.t("pay.none"), nil)
		return
	case errors.Is(err, kiosk.ErrFree):
		u.message(u.t("pay.title"), u.t("pay.free"), nil)
		return
	case errors.Is(err, kiosk.ErrUnknownMatter):
		u.message(u.t("error.title"), u.t("error.unknown"), nil)
		return
	}
	msg := payment.Message(err)
	switch msg {
	case payment.MsgUnknown:
		u.flow.pay.torn = paid.Payment.ID
		pd.torn("")
	case payment.MsgInsufficientBalance:
		pd.balance(m, paid.BalanceFen)
	case payment.MsgCardLeft, payment.MsgMACInvalid, payment.MsgNotDebited:
		pd.retry(u.t("pay.failed_title"), u.msg(msg))
	case payment.MsgAppLocked, payment.MsgKeyLocked:
		pd.failed(u.t("pay.card_locked_title"), u.msg(msg))
	default: // the PSAM, a key the card lacks: this kiosk cannot take this payment
		pd.failed(u.t("pay.failed_title"), u.msg(msg))
	}
}

// msg is a message of the core in the screen's language.
func (u *UI) msg(m payment.Notice) string {
	if u.lang == "en" {
		return m.En
	}
	return m.Zh
}

// showPaid is the receipt screen: the amount, the balance after, the card masked, and whether
// the receipt came out; when it did not, the transaction number to note for staff to reprint.
func (pd *payDesk) showPaid(e payment.Entry, m *catalog.Matter, balance int64, printed bool, note string, settled []payment.Entry) {
	u := pd.u
	u.flow.pay.torn = 0
	if balance < 0 {
		balance = e.BalanceAfterFen()
	}
	name := e.Matter
	if m != nil {
		name = m.Name.In(u.lang)
	} else if x := u.core.Catalog().Matter(e.Matter); x != nil {
		name = x.Name.In(u.lang)
	}
	u.set(func() fyne.CanvasObject {
		items := []fyne.CanvasObject{
			u.centred(widget.NewLabel(u.t("pay.paid_amount"))),
			u.big(yuan(e.AmountFen), 120),
			u.centred(u.wrap(name)),
		}
		form := widget.NewForm(widget.NewFormItem(u.t("citycard.number"), widget.NewLabel(e.CardMasked)))
		if balance >= 0 {
			form.Append(u.t("pay.balance_after"), widget.NewLabel(yuan(balance)))
		}
		form.Append(u.t("pay.time"), widget.NewLabel(e.Time(u.loc()).Format("2006-01-02 15:04")))
		items = append(items, form)
		if printed {
			items = append(items, u.centred(u.bold(u.t("pay.printed"))))
		} else {
			items = append(items, u.centred(u.bold(u.t("pay.not_printed"))), u.big(e.Txn(), 56),
				u.centred(u.wrap(u.t("pay.reprint"))))
		}
		if note != "" {
			items = append(items, u.centred(u.wrap(note)))
		}
		for _, s := range settled {
			items = append(items, u.wrap(pd.settledLine(s)))
		}
		items = append(items, layout.NewSpacer())
		items = append(items, u.finish()) // no rating here: the citizen has not been served yet
		return container.NewBorder(u.heading(u.t("pay.done_title")), nil, nil, nil, u.scroll(container.NewVBox(items...)))
	})
}

// settledLine tells of an earlier payment of the card that this tap settled.
func (pd *payDesk) settledLine(e payment.Entry) string {
	u := pd.u
	key := "pay.settled_not_charged"
	switch e.Status {
	case payment.StatusPaid:
		key = "pay.settled_paid"
	case payment.StatusUndecided, payment.StatusOpen:
		key = "pay.settled_undecided"
	}
	return u.tf(key, map[string]any{"A": yuan(e.AmountFen), "T": e.Time(u.loc()).Format("01-02 15:04"), "N": e.Txn()})
}

// already: the card paid this fee a few minutes ago. Nothing was taken; the citizen is asked
// whether to pay once more (PayAgain) or not.
func (pd *payDesk) already(paid kiosk.Paid) {
	u := pd.u
	m, e := u.flow.pay.matter, paid.Payment
	u.set(func() fyne.CanvasObject {
		items := []fyne.CanvasObject{layout.NewSpacer(), u.wrap(u.msg(payment.MsgAlreadyPaid))}
		if e.ID != 0 {
			items = append(items, u.bold(u.tf("pay.already_when", map[string]any{
				"A": yuan(e.AmountFen), "T": e.Time(u.loc()).Format("15:04"), "N": e.Txn()})))
		}
		items = append(items, u.centred(u.heading(u.t("pay.again_q"))), layout.NewSpacer(),
			tall(u.primary(u.tf("pay.again", map[string]any{"A": yuan(m.Fee.AmountFen)}), func() { u.touch(); pd.pay(true, false) })),
			tall(u.button(u.t("pay.no_again"), func() { u.touch(); u.core.Sessions().End(session.Finished) })))
		return u.page(u.t("pay.already_title"), nil, container.NewVBox(items...))
	})
}

// torn: the card left while the debit was in flight. The kiosk cannot know yet whether the
// money was taken; the card's return tells (the core settles it on the tap, before the card is
// read into the session), and the screen then shows how it ended.
func (pd *payDesk) torn(note string) {
	u := pd.u
	u.set(func() fyne.CanvasObject {
		items := []fyne.CanvasObject{layout.NewSpacer(), u.heading(u.msg(payment.MsgUnknown)),
			u.centred(u.wrap(u.t("pay.torn_help")))}
		if note != "" {
			items = append(items, u.centred(u.bold(note)))
		}
		items = append(items, layout.NewSpacer())
		// No Back or Home: the card coming back is what settles the payment. A citizen who
		// leaves anyway is returned home by the idle timeout; the next tap of the card settles
		// it, or staff after payment.DefaultGrace.
		return container.NewBorder(u.heading(u.t("pay.torn_title")), nil, nil, nil, container.NewVBox(items...))
	})
	u.waitCard = waitPaySettle
}

// settled looks up the torn payment once its card is back.
func (pd *payDesk) settled() {
	u := pd.u
	p, id := pd.svc, u.flow.pay.torn
	if p.Ready() != nil || id == 0 {
		u.showHome()
		return
	}
	e, err := p.Entry(context.Background(), id)
	if err != nil {
		pd.failed(u.t("pay.failed_title"), u.t("pay.undecided"))
		return
	}
	switch e.Status {
	case payment.StatusPaid:
		pd.showPaid(e, u.flow.pay.matter, -1, e.Receipt == payment.ReceiptPrinted, u.t("pay.recovered"), nil)
	case payment.StatusNotCharged:
		u.flow.pay.torn = 0
		pd.retry(u.t("pay.cancelled_title"), u.t("pay.torn_not_charged"))
	case payment.StatusUndecided:
		pd.failed(u.t("pay.failed_title"), u.tf("pay.undecided_n", map[string]any{"N": e.Txn()}))
	default: // still open: the card read was not enough, or another card came
		pd.torn(u.t("pay.still_checking"))
	}
}

// retry: nothing was taken and another tap may work: the message, the card awaited again (a
// tap pays at once), and a button for a card already on the reader.
func (pd *payDesk) retry(title, text string) {
	u := pd.u
	u.set(func() fyne.CanvasObject {
		top := container.NewVBox(u.wrap(text), u.centred(u.bold(u.t("pay.tap"))))
		bottom := container.NewVBox(tall(u.primary(u.t("pay.retry"), func() { u.touch(); pd.pay(false, false) })), u.finish())
		return u.page(title, nil, u.cardScreen(top, bottom, cardCity))
	})
	u.waitCard = waitPay
}

// balance: 94 01. The balance is shown next to the fee, so that the citizen knows how much
// to top up.
func (pd *payDesk) balance(m *catalog.Matter, balance int64) {
	u := pd.u
	u.set(func() fyne.CanvasObject {
		form := widget.NewForm(widget.NewFormItem(u.t("pay.amount"), widget.NewLabel(yuan(m.Fee.AmountFen))))
		if balance >= 0 {
			form.Append(u.t("citycard.balance"), widget.NewLabel(yuan(balance)))
		}
		return u.page(u.t("pay.balance_title"), nil, container.NewVBox(layout.NewSpacer(),
			u.wrap(u.msg(payment.MsgInsufficientBalance)), form, layout.NewSpacer(), u.finish()))
	})
}

// failed: nothing to retry here (a locked card, the payment module): the message, and done.
func (pd *payDesk) failed(title, text string) {
	u := pd.u
	u.set(func() fyne.CanvasObject {
		return u.page(title, nil, container.NewVBox(layout.NewSpacer(), u.wrap(text), layout.NewSpacer(), u.finish()))
	})
}
