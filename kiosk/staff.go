package kiosk

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Staff mode: hall staff service the kiosk on site after proving who they are, with a configured
// staff card or the staff PIN. Wrong PINs are limited so that the PIN cannot be guessed at the
// screen: after StaffMaxTries wrong PINs in a row, PIN entry is refused for StaffLockout.
const (
	StaffMaxTries = 5
	StaffLockout  = 5 * time.Minute
)

// Staff errors.
var (
	ErrStaffPIN       = errors.New("wrong staff PIN")
	ErrStaffLockedOut = errors.New("staff PIN entry is locked after too many wrong PINs")
	ErrStaffNoPIN     = errors.New("no staff PIN is configured; use a staff card")
)

// StaffLockedOutError is ErrStaffLockedOut with the time PIN entry opens again.
type StaffLockedOutError struct{ Until time.Time }

func (e *StaffLockedOutError) Error() string {
	return fmt.Sprintf("%v until %s", ErrStaffLockedOut, e.Until.Format("15:04:05"))
}

// Is makes errors.Is(err, ErrStaffLockedOut) true.
func (e *StaffLockedOutError) Is(target error) bool { return target == ErrStaffLockedOut }

// StaffLogin is the way into staff mode at the screen: the staff PIN, or a configured staff
// card. Each way in gives the StaffHandle of whoever came in, whose actions the audit log then
// names by it. Every attempt is written to the audit log (AuditStaffLogin, AuditStaffLoginFailed)
// but a card that is no staff card: every citizen's tap would be a row otherwise.
type StaffLogin struct{ k *Kiosk }

// StaffLogin gives the way into staff mode.
func (k *Kiosk) StaffLogin() *StaffLogin { return &StaffLogin{k: k} }

// PIN checks a staff PIN and returns the handle of staff by PIN (StaffByPIN) when it is right.
// Otherwise the handle is nil and the error is ErrStaffPIN when wrong (with the tries left, see
// TriesLeft); a *StaffLockedOutError while entry is locked, whatever the PIN (a right PIN during
// the lockout is refused too, so guessing gains nothing); ErrStaffNoPIN when no PIN is
// configured. Each attempt is written to the audit log with the reason; the PIN itself never is.
// A right PIN ends a citizen's call for staff (RequestHelp): staff have come to the kiosk.
func (l *StaffLogin) PIN(pin string) (*StaffHandle, error) {
	h := l.k.Staff(onSite(StaffByPIN))
	err := l.k.checkStaffPIN(pin)
	if err != nil {
		h.audit(context.Background(), AuditStaffLoginFailed, nil, err)
		return nil, err
	}
	h.audit(context.Background(), AuditStaffLogin, nil, nil)
	l.k.answerHelp(StaffByPIN)
	return h, nil
}

// Card lets a staff member in by their card: uid is the card's UID in hex (any case,
// PresentCard.UIDHex). A configured staff card is written to the audit log as a login by
// StaffByCard and gives its handle; any other card, or none (""), returns ErrNotStaffCard and is
// not logged. A staff card works while PIN entry is locked out: the lockout stops guessing, and a
// card cannot be guessed at the screen. A staff card ends a citizen's call for staff, as a PIN does.
func (l *StaffLogin) Card(uid string) (*StaffHandle, error) {
	if uid == "" || !l.k.cfg.Staff.IsStaffCard(uid) {
		return nil, ErrNotStaffCard
	}
	h := l.k.Staff(onSite(StaffByCard))
	h.audit(context.Background(), AuditStaffLogin, nil, nil)
	l.k.answerHelp(StaffByCard)
	return h, nil
}

// TriesLeft is how many wrong PINs remain before the lockout; StaffMaxTries after a right PIN
// and after a lockout.
func (l *StaffLogin) TriesLeft() int {
	l.k.mu.Lock()
	defer l.k.mu.Unlock()
	return StaffMaxTries - l.k.staffFails
}

func (k *Kiosk) checkStaffPIN(pin string) error {
	now := k.now()
	k.mu.Lock()
	if now.Before(k.staffLockedUntil) {
		until := k.staffLockedUntil
		k.mu.Unlock()
		return &StaffLockedOutError{Until: until}
	}
	k.mu.Unlock()
	if k.cfg.Staff.PINHash == "" {
		return ErrStaffNoPIN
	}
	ok := k.cfg.Staff.CheckPIN(pin)
	k.mu.Lock()
	defer k.mu.Unlock()
	if ok {
		k.staffFails = 0
		return nil
	}
	k.staffFails++
	if k.staffFails >= StaffMaxTries {
		k.staffFails = 0
		k.staffLockedUntil = now.Add(StaffLockout)
		k.log.Warn("staff PIN entry locked after repeated wrong PINs", "until", k.staffLockedUntil)
		return &StaffLockedOutError{Until: k.staffLockedUntil}
	}
	return ErrStaffPIN
}
