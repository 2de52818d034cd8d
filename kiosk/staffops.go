package kiosk

import (
	"context"
	"strconv"

	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/queue"
)

// TicketCounts returns today's ticket figures for the staff screen.
func (k *Kiosk) TicketCounts(ctx context.Context) (queue.Counts, error) {
	return k.queue.CountToday(ctx)
}

// ReprintLast prints today's last ticket again (staff: the citizen lost it, or it jammed).
func (k *Kiosk) ReprintLast(ctx context.Context) (queue.Ticket, error) {
	t, err := k.queue.Last(ctx)
	if err != nil {
		return t, err
	}
	return k.Reprint(ctx, t.ID)
}

// PaperReplaced asks the printer for its state again after staff replaced the roll or closed the
// cover, so that tickets are offered again at once instead of at the next poll.
func (k *Kiosk) PaperReplaced(ctx context.Context) DeviceState {
	if k.printer == nil {
		return StateAbsent
	}
	ds, _ := k.checkPrinter(ctx)
	return ds
}

// The staff screen's actions: each does what the hall's command of the same kind does and
// writes a row to the audit log (see staffaudit.go) with by, the way the staff member logged in.
// The plain methods (Lock, Reset, ...) stay for the hall's commands, which keep their own audit.

// StaffLock locks the kiosk (see Lock) for staff working on it.
func (k *Kiosk) StaffLock(ctx context.Context, by StaffVia, message string) {
	k.Lock(message)
	var args map[string]string
	if message != "" {
		args = map[string]string{"message": message}
	}
	k.staffAudit(ctx, by, AuditStaffLock, args, nil)
}

// StaffUnlock resumes service (see Unlock).
func (k *Kiosk) StaffUnlock(ctx context.Context, by StaffVia) {
	k.Unlock()
	k.staffAudit(ctx, by, AuditStaffUnlock, nil, nil)
}

// StaffReset ends the session in progress (see Reset).
func (k *Kiosk) StaffReset(ctx context.Context, by StaffVia) {
	k.Reset()
	k.staffAudit(ctx, by, AuditStaffReset, nil, nil)
}

// StaffReprint prints today's last ticket again (see ReprintLast); a failure is logged as such.
func (k *Kiosk) StaffReprint(ctx context.Context, by StaffVia) (queue.Ticket, error) {
	t, err := k.ReprintLast(ctx)
	var args map[string]string
	if t.Code != "" {
		args = map[string]string{"ticket": t.Code}
	}
	k.staffAudit(ctx, by, AuditStaffReprint, args, err)
	return t, err
}

// StaffSelfTest prints the self-test page (see SelfTest).
func (k *Kiosk) StaffSelfTest(ctx context.Context, by StaffVia) (DeviceState, error) {
	s, err := k.SelfTest(ctx)
	k.staffAudit(ctx, by, AuditStaffSelfTest, map[string]string{"state": string(s)}, err)
	return s, err
}

// StaffPaperReplaced asks the printer again after a new roll (see PaperReplaced).
func (k *Kiosk) StaffPaperReplaced(ctx context.Context, by StaffVia) DeviceState {
	s := k.PaperReplaced(ctx)
	k.staffAudit(ctx, by, AuditStaffPaper, map[string]string{"state": string(s)}, nil)
	return s
}

// StaffReprintReceipt prints a paid payment's receipt again (see ReprintReceipt; the list to
// choose from is ReceiptsUnprinted) and returns the entry as it stands afterwards: Receipt
// printed, or failed again with the printer's error. An id that is no paid payment is refused
// with an error wrapping payment.ErrNotFound, a printer that cannot print with *PrinterError,
// no payments with ErrNoPayments; every attempt is written to the audit log with the
// transaction number (the id when there is no such payment), a refusal as failed.
func (k *Kiosk) StaffReprintReceipt(ctx context.Context, by StaffVia, id int64) (payment.Entry, error) {
	e, err := k.reprintReceipt(ctx, id)
	args := map[string]string{"payment": strconv.FormatInt(id, 10)}
	if e.ID != 0 {
		args["txn"] = e.Txn()
	}
	k.staffAudit(ctx, by, AuditStaffReceipt, args, err)
	return e, err
}
