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

// StaffPIN checks a staff PIN. It returns nil when right; ErrStaffPIN when wrong (with the tries
// left, see StaffTriesLeft); a *StaffLockedOutError while entry is locked, whatever the PIN (a
// right PIN during the lockout is refused too, so guessing gains nothing); ErrStaffNoPIN when
// no PIN is configured. Each attempt is written to the audit log (AuditStaffLogin or
// AuditStaffLoginFailed by StaffByPIN, with the reason); the PIN itself never is.
func (k *Kiosk) StaffPIN(pin string) error {
	err := k.checkStaffPIN(pin)
	action := AuditStaffLogin
	if err != nil {
		action = AuditStaffLoginFailed
	}
	k.staffAudit(context.Background(), StaffByPIN, action, nil, err)
	return err
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

// StaffTriesLeft is how many wrong PINs remain before the lockout.
func (k *Kiosk) StaffTriesLeft() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return StaffMaxTries - k.staffFails
}

// StaffCard reports whether a card UID (hex) is a configured staff card.
func (k *Kiosk) StaffCard(uid string) bool { return k.cfg.Staff.IsStaffCard(uid) }
