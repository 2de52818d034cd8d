package kiosk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Staff mode: hall staff service the kiosk on site after proving who they are with the staff
// PIN: typed alone on the PIN pad (the hidden gesture opens it), or after tapping a configured
// staff card, which names the way in but proves nothing on its own (a card's UID is read by any
// phone and written to a blank card in seconds). Wrong PINs are limited so that the PIN cannot be
// guessed at the screen: after StaffMaxTries wrong PINs in a row, PIN entry is refused for
// StaffLockoutFirst, and each further wrong PIN locks it for twice as long as the last, up to
// StaffLockoutMax, until the right PIN. The count and the lockout are kept in the store (table
// staff_pin_guard), so a restart gives no fresh tries; a lockout raises AlertStaffPINLockout.
const (
	StaffMaxTries     = 5
	StaffLockoutFirst = 30 * time.Second
	StaffLockoutMax   = time.Hour

	// AlertStaffPINLockout is the warning (of DeviceKiosk) that stands from the first lockout of a
	// run of wrong PINs until the right PIN is typed: someone may be guessing the staff PIN.
	AlertStaffPINLockout = "staff-pin-lockout"
)

// Staff errors.
var (
	ErrStaffPIN       = errors.New("wrong staff PIN")
	ErrStaffLockedOut = errors.New("staff PIN entry is locked after too many wrong PINs")
	ErrStaffNoPIN     = errors.New("no staff PIN is configured; staff mode opens only from the hall")
	// ErrStaffCardRequired refuses the PIN alone where staff.card_required asks for a staff card
	// too; no PIN is checked, so no try is used.
	ErrStaffCardRequired = errors.New("a staff card is required before the staff PIN")
)

// StaffLockedOutError is ErrStaffLockedOut with the time PIN entry opens again.
type StaffLockedOutError struct{ Until time.Time }

func (e *StaffLockedOutError) Error() string {
	return fmt.Sprintf("%v until %s", ErrStaffLockedOut, e.Until.Format("15:04:05"))
}

// Is makes errors.Is(err, ErrStaffLockedOut) true.
func (e *StaffLockedOutError) Is(target error) bool { return target == ErrStaffLockedOut }

// staffLockout is how long PIN entry closes after the fails-th wrong PIN in a row (0: it does not).
func staffLockout(fails int) time.Duration {
	if fails < StaffMaxTries {
		return 0
	}
	d := StaffLockoutFirst
	for i := StaffMaxTries; i < fails && d < StaffLockoutMax; i++ {
		d *= 2
	}
	return min(d, StaffLockoutMax)
}

// staffGuard is the state of staff PIN entry, as kept in the store's staff_pin_guard.
type staffGuard struct {
	fails       int       // wrong PINs since the last right one
	lockedUntil time.Time // PIN entry refused until then; zero: not locked
	alertSince  time.Time // the first lockout of this run of wrong PINs; zero: no alert
}

// loadStaffGuard reads the guard from the store; the zero guard when no PIN was ever checked.
func loadStaffGuard(ctx context.Context, db *sql.DB) (staffGuard, error) {
	var g staffGuard
	var until, since int64
	err := db.QueryRowContext(ctx, `SELECT fails, locked_until, alert_since FROM staff_pin_guard WHERE one = 1`).Scan(&g.fails, &until, &since)
	if errors.Is(err, sql.ErrNoRows) {
		return staffGuard{}, nil
	}
	if err != nil {
		return staffGuard{}, fmt.Errorf("reading the staff PIN lockout: %w", err)
	}
	if until > 0 {
		g.lockedUntil = time.Unix(0, until)
	}
	if since > 0 {
		g.alertSince = time.Unix(0, since)
	}
	return g, nil
}

func unixNanoOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// saveStaffGuard writes g to the store.
func (k *Kiosk) saveStaffGuard(ctx context.Context, g staffGuard) error {
	return k.store.Tx(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO staff_pin_guard (one, fails, locked_until, alert_since) VALUES (1, ?, ?, ?)
ON CONFLICT (one) DO UPDATE SET fails = excluded.fails, locked_until = excluded.locked_until, alert_since = excluded.alert_since`,
			g.fails, unixNanoOrZero(g.lockedUntil), unixNanoOrZero(g.alertSince))
		return err
	})
}

// StaffLogin is the way into staff mode at the screen: the staff PIN, alone or after a
// configured staff card. Each way in gives the StaffHandle of whoever came in, whose actions the
// audit log then names by it. Every attempt is written to the audit log (AuditStaffLogin,
// AuditStaffLoginFailed) but a card that is no staff card: every citizen's tap would be a row
// otherwise.
type StaffLogin struct{ k *Kiosk }

// StaffLogin gives the way into staff mode.
func (k *Kiosk) StaffLogin() *StaffLogin { return &StaffLogin{k: k} }

// PIN checks a staff PIN and returns the handle of staff by PIN (StaffByPIN) when it is right.
// Otherwise the handle is nil and the error is ErrStaffPIN when wrong (with the tries left, see
// TriesLeft); a *StaffLockedOutError when this wrong PIN locked entry, or while entry is locked,
// whatever the PIN (a right PIN during the lockout is refused too, so guessing gains nothing);
// ErrStaffNoPIN when no PIN is configured; ErrStaffCardRequired, without a look at the PIN, where
// staff.card_required closes this way in. Each attempt is written to the audit log with the
// reason; the PIN itself never is. A right PIN ends a citizen's call for staff (RequestHelp):
// staff have come to the kiosk.
func (l *StaffLogin) PIN(pin string) (*StaffHandle, error) {
	return l.login(StaffByPIN, pin)
}

// Card lets a staff member in by their card and the staff PIN: uid is the card's UID in hex (any
// case, PresentCard.UIDHex). A card's UID is no secret (it is read, and copied to a blank card, by
// anyone close to it), so the card only names the way in and the PIN proves it: the PIN is checked
// as by PIN, under the same count of wrong PINs and the same lockout, and gives the handle of
// staff by card (StaffByCard). A card that is no configured staff card, or none (""), returns
// ErrNotStaffCard, is not logged and costs no try; IsStaffCard tells beforehand.
func (l *StaffLogin) Card(uid, pin string) (*StaffHandle, error) {
	if !l.IsStaffCard(uid) {
		return nil, ErrNotStaffCard
	}
	return l.login(StaffByCard, pin)
}

// IsStaffCard reports whether uid (hex, any case; "" is none) is a configured staff card: the
// screen then asks for the PIN (Card).
func (l *StaffLogin) IsStaffCard(uid string) bool {
	return uid != "" && l.k.cfg.Staff.IsStaffCard(uid)
}

func (l *StaffLogin) login(via StaffVia, pin string) (*StaffHandle, error) {
	h := l.k.Staff(onSite(via))
	var err error
	if via == StaffByPIN && l.k.cfg.Staff.CardRequired {
		err = ErrStaffCardRequired
	} else {
		err = l.k.checkStaffPIN(pin)
	}
	if err != nil {
		h.audit(context.Background(), AuditStaffLoginFailed, nil, err)
		return nil, err
	}
	h.audit(context.Background(), AuditStaffLogin, nil, nil)
	l.k.answerHelp(via)
	return h, nil
}

// TriesLeft is how many wrong PINs remain before the next lockout: StaffMaxTries after a right
// PIN, 0 once a lockout has come (from then on each wrong PIN locks entry again, for longer).
func (l *StaffLogin) TriesLeft() int {
	l.k.mu.Lock()
	defer l.k.mu.Unlock()
	return max(StaffMaxTries-l.k.staffGuard.fails, 0)
}

// LockedUntil is when PIN entry opens again; the zero time when it is open now.
func (l *StaffLogin) LockedUntil() time.Time {
	now := l.k.now()
	l.k.mu.Lock()
	defer l.k.mu.Unlock()
	l.k.staffGuard.clamp(now)
	if now.Before(l.k.staffGuard.lockedUntil) {
		return l.k.staffGuard.lockedUntil
	}
	return time.Time{}
}

// clamp shortens a lockout that ends more than StaffLockoutMax from now, which no wrong PIN
// earns: the clock was set back since (a kiosk that booted with a wrong time, corrected later).
// Without it, such a lockout would keep staff out for as long as the clock was wrong.
func (g *staffGuard) clamp(now time.Time) {
	if g.lockedUntil.After(now.Add(StaffLockoutMax)) {
		g.lockedUntil = now.Add(StaffLockoutMax)
	}
}

// checkStaffPIN checks pin under the lockout and records the outcome in the store before it
// answers. A failure to record it is logged and does not change the answer: the lockout still
// holds in memory until the program stops.
func (k *Kiosk) checkStaffPIN(pin string) error {
	// One check at a time, from the look at the lockout to the store's write: two PINs typed at
	// once could otherwise both be checked against the same count.
	k.staffMu.Lock()
	defer k.staffMu.Unlock()
	now := k.now()
	k.mu.Lock()
	k.staffGuard.clamp(now)
	g := k.staffGuard
	k.mu.Unlock()
	if now.Before(g.lockedUntil) {
		return &StaffLockedOutError{Until: g.lockedUntil}
	}
	if k.cfg.Staff.PINHash == "" {
		return ErrStaffNoPIN
	}
	next := staffGuard{}
	if !k.cfg.Staff.CheckPIN(pin) {
		next = staffGuard{fails: g.fails + 1, alertSince: g.alertSince}
		if d := staffLockout(next.fails); d > 0 {
			next.lockedUntil = now.Add(d)
			if next.alertSince.IsZero() {
				next.alertSince = now
			}
		}
	}
	if err := k.saveStaffGuard(context.Background(), next); err != nil {
		k.log.Error("staff PIN lockout not kept in the store", "err", err)
	}
	k.mu.Lock()
	k.staffGuard = next
	k.mu.Unlock()
	if next.alertSince.IsZero() != g.alertSince.IsZero() {
		if next.alertSince.IsZero() {
			k.log.Info("staff PIN entry open again: the right PIN was typed", "alert", AlertStaffPINLockout)
		}
		k.emit(Event{Kind: EventAlert})
	}
	switch {
	case !next.lockedUntil.IsZero():
		k.log.Warn("staff PIN entry locked after repeated wrong PINs", "alert", AlertStaffPINLockout,
			"wrong", next.fails, "until", next.lockedUntil)
		return &StaffLockedOutError{Until: next.lockedUntil}
	case next.fails > 0:
		return ErrStaffPIN
	}
	return nil
}

// staffAlert is the staff-pin-lockout alert while it stands.
func (k *Kiosk) staffAlert() (Alert, bool) {
	k.mu.Lock()
	g := k.staffGuard
	k.mu.Unlock()
	if g.alertSince.IsZero() {
		return Alert{}, false
	}
	return Alert{Code: AlertStaffPINLockout, Device: DeviceKiosk, Warning: true, Since: g.alertSince,
		Detail: fmt.Sprintf("%d wrong staff PINs in a row: PIN entry locks after each until the right one", g.fails)}, true
}
