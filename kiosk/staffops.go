package kiosk

import (
	"context"
	"strconv"

	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/queue"
	"citizenhome/kiosk/session"
)

// Actor is who acts on the kiosk through a StaffHandle. It decides what the audit log says of an
// action: staff on site (whose handle only StaffLogin gives) get a row per action from the
// handle; a hall command (Remote) gets its one row from the command pipeline (telemetry/agent),
// written with its reply; kioskd's local API (LocalAPI) keeps no audit, its caller having proved
// itself with the API's token.
type Actor struct {
	via StaffVia // on site; "" otherwise
	by  string   // the hall user who sent a command
}

// onSite is hall staff at the kiosk's screen, in staff mode by via.
func onSite(via StaffVia) Actor { return Actor{via: via} }

// Remote is the hall's control room: a command sent by by (the command's "by", a hall user).
func Remote(by string) Actor { return Actor{by: by} }

// auditBy is who the audit log says acted: the StaffVia on site, the hall user for a command, ""
// for the local API.
func (a Actor) auditBy() string {
	if a.via != "" {
		return string(a.via)
	}
	return a.by
}

// LocalAPI is kioskd's local API (the staff's own applications at a service window). It is the
// zero Actor.
var LocalAPI = Actor{}

// StaffHandle is every action hall staff take on the kiosk, on site or from the control room,
// as one actor: the staff screen, the hall's remote commands and the local API all go through
// it, one method per action. Its methods are safe for concurrent use.
type StaffHandle struct {
	k  *Kiosk
	by Actor
}

// Staff returns the handle through which by acts on the kiosk: a hall command's sender (Remote),
// or the local API (LocalAPI). Staff on site get theirs from StaffLogin.
func (k *Kiosk) Staff(by Actor) *StaffHandle { return &StaffHandle{k: k, by: by} }

// Via is how the handle's staff member proved who they are on site; "" for a hall command or
// the local API.
func (h *StaffHandle) Via() StaffVia { return h.by.via }

// Lock stops service (暂停服务) with message, or, when it is empty, the hall's default message
// (SetLockedMessage, else the configured hall.locked_message), and returns the message shown.
// The session in progress, if any, ends and its data is wiped. Locking a locked kiosk replaces
// its message.
func (h *StaffHandle) Lock(ctx context.Context, message string) string {
	shown := h.k.lockWith(message)
	var args map[string]string
	if message != "" {
		args = map[string]string{"message": message}
	}
	h.audit(ctx, AuditStaffLock, args, nil)
	return shown
}

// Unlock resumes service; unlocking a kiosk that is not locked changes nothing (but is audited).
func (h *StaffHandle) Unlock(ctx context.Context) {
	h.k.unlock()
	h.audit(ctx, AuditStaffUnlock, nil, nil)
}

// Reset ends the session in progress, if any, and wipes its data. Done on site, it reaches the
// hall as a kiosk.reset event in the audit row's transaction; a hall command's reset has its
// event written with the command's row.
func (h *StaffHandle) Reset(ctx context.Context) {
	h.k.sessions.End(session.Reset)
	h.audit(ctx, AuditStaffReset, nil, nil)
}

// LastTicket is Reprint's code for today's last ticket.
const LastTicket = ""

// Reprint prints today's ticket code ("A012", any case) again, or today's last ticket for
// LastTicket, and records it (ticket.reprinted). A code that is no ticket code is refused with
// an error matching queue.ErrInvalid, one that was not issued today with queue.ErrNotFound
// (also LastTicket before the day's first ticket); the ticket is then zero. A printer that
// cannot print is a *PrinterError, and the ticket is marked for reprint.
func (h *StaffHandle) Reprint(ctx context.Context, code string) (queue.Ticket, error) {
	q := h.k.queue
	var t queue.Ticket
	var err error
	if code == LastTicket {
		t, err = q.Last(ctx)
	} else {
		t, err = q.ByCode(ctx, q.Today(), code)
	}
	if err == nil {
		t, err = h.k.reprint(ctx, t.ID)
	}
	var args map[string]string
	if t.Code != "" {
		args = map[string]string{"ticket": t.Code}
	}
	h.audit(ctx, AuditStaffReprint, args, err)
	return t, err
}

// SelfTest prints the printer self-test page and returns the printer's state after it; see
// Kiosk.selfTest for what the page holds and when it is refused (*PrinterError). It prints while
// the kiosk is locked or the hall is closed, and touches no citizen session.
func (h *StaffHandle) SelfTest(ctx context.Context) (DeviceState, error) {
	s, err := h.k.selfTest(ctx)
	h.audit(ctx, AuditStaffSelfTest, map[string]string{"state": string(s)}, err)
	return s, err
}

// PaperReplaced asks the printer for its state again after staff replaced the roll or closed the
// cover, so that tickets are offered again at once instead of at the next poll, and returns it;
// StateAbsent without a printer.
func (h *StaffHandle) PaperReplaced(ctx context.Context) DeviceState {
	s := StateAbsent
	if h.k.printer != nil {
		s, _ = h.k.checkPrinter(ctx)
	}
	h.audit(ctx, AuditStaffPaper, map[string]string{"state": string(s)}, nil)
	return s
}

// ReprintReceipt prints a paid payment's receipt again (the list to choose from is
// ReceiptsUnprinted) and returns the entry as it stands afterwards: Receipt printed, or failed
// again with the printer's error. An id that is no paid payment is refused with an error
// wrapping payment.ErrNotFound, a printer that cannot print with *PrinterError, no payments with
// ErrNoPayments. On site, every attempt is written to the audit log with the transaction number
// (the id when there is no such payment), a refusal as failed.
func (h *StaffHandle) ReprintReceipt(ctx context.Context, id int64) (payment.Entry, error) {
	e, err := h.k.reprintReceipt(ctx, id)
	args := map[string]string{"payment": strconv.FormatInt(id, 10)}
	if e.ID != 0 {
		args["txn"] = e.Txn()
	}
	h.audit(ctx, AuditStaffReceipt, args, err)
	return e, err
}

// ReceiptsUnprinted lists today's paid payments (the day of their intent, in the hall's zone)
// whose receipt did not come out: failed at the printer, or never attempted (a stop between the
// debit and the printer that the start could not print either). Oldest first; none is an empty
// list. Without payments set up it returns ErrNoPayments. A payment of an earlier day no longer
// shows: staff look those up with kioskctl payments. It is a read, not audited.
func (h *StaffHandle) ReceiptsUnprinted(ctx context.Context) ([]payment.Entry, error) {
	return h.k.receiptsUnprinted(ctx)
}

// Logout records that staff left staff mode (back to the citizens' screens, or timed out).
func (h *StaffHandle) Logout(ctx context.Context) {
	h.audit(ctx, AuditStaffLogout, nil, nil)
}

// Quit records that staff are quitting the program; the caller then quits.
func (h *StaffHandle) Quit(ctx context.Context) {
	h.audit(ctx, AuditStaffQuit, nil, nil)
}
