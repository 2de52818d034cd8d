package kiosk

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"
)

// A citizen who is stuck calls staff from the screen (呼叫工作人员). The call is one alert of the
// kiosk itself, AlertHelpRequested, listed by Alerts with the devices' faults, so the telemetry
// agent raises it to the hall as a retained alert/help-requested and kioskd's /v1/status lists it.
// It ends when staff open staff mode on this kiosk (they came), or after kiosk.help_timeout, the
// fallback for a call nobody answered at the screen. Calls and their ends are in the audit log.

// The help alert and its audit rows.
const (
	// AlertHelpRequested is the code of a citizen's call for staff.
	AlertHelpRequested = "help-requested"
	// DeviceKiosk is the Alert.Device of alerts about the kiosk as a whole, not one device.
	DeviceKiosk = "kiosk"

	AuditHelpRequested = "help-requested" // by "citizen"
	AuditHelpAnswered  = "help-answered"  // by the StaffVia that opened staff mode
	AuditHelpExpired   = "help-expired"   // by "timeout"; written when the end is next noticed
)

// helpState is the call for staff in progress; zero when there is none.
type helpState struct {
	since time.Time
	timer *time.Timer // tells subscribers when the call expires
}

// RequestHelp raises a call for staff and returns when it was first raised. A call while one is
// pending changes nothing and returns the first call's time, so a citizen tapping again (or
// twice) makes one alert, not several. It works while locked and outside opening hours (a stuck
// citizen is no less stuck then); it counts as a touch of the session. The call is written to the
// audit log; a failure to write it is logged and does not stop the call.
func (k *Kiosk) RequestHelp(ctx context.Context) time.Time {
	k.sessions.Touch()
	now := k.now()
	k.mu.Lock()
	k.expireHelpLocked(now)
	if !k.help.since.IsZero() {
		since := k.help.since
		k.mu.Unlock()
		return since
	}
	k.help = helpState{since: now}
	k.help.timer = time.AfterFunc(k.helpTimeout(), func() { k.helpTimer(now) })
	k.mu.Unlock()
	k.log.Warn("citizen asks for staff", "alert", AlertHelpRequested)
	k.auditHelp(ctx, AuditHelpRequested, "citizen", now)
	k.emit(Event{Kind: EventAlert})
	return now
}

// helpTimer ends the call raised at since when its time is up, and tells subscribers (the
// telemetry agent then clears the alert). The timer runs on the system's clock and the call's age
// on the kiosk's: when the kiosk's clock says it is not yet time, the timer is set again for the
// rest; a call answered or replaced meanwhile is left alone.
func (k *Kiosk) helpTimer(since time.Time) {
	k.mu.Lock()
	if !k.help.since.Equal(since) {
		k.mu.Unlock()
		return
	}
	now := k.now()
	ended := k.expireHelpLocked(now)
	if !ended {
		k.help.timer.Reset(max(k.helpTimeout()-now.Sub(since), time.Second))
	}
	k.mu.Unlock()
	if ended {
		k.emit(Event{Kind: EventAlert})
	}
}

// HelpPending reports whether a call for staff is raised, and since when. A call past
// kiosk.help_timeout is over, whether or not its timer has fired yet.
func (k *Kiosk) HelpPending() (time.Time, bool) {
	now := k.now()
	k.mu.Lock()
	ended := k.expireHelpLocked(now)
	since := k.help.since
	k.mu.Unlock()
	if ended {
		k.emit(Event{Kind: EventAlert})
	}
	return since, !since.IsZero()
}

// answerHelp ends the call for staff, if any, because staff opened staff mode by via.
func (k *Kiosk) answerHelp(via StaffVia) {
	k.mu.Lock()
	pending := !k.help.since.IsZero()
	if pending {
		k.help.timer.Stop()
		k.help = helpState{}
	}
	k.mu.Unlock()
	if pending {
		k.log.Info("call for staff answered", "alert", AlertHelpRequested, "by", string(via))
		k.auditHelp(context.Background(), AuditHelpAnswered, string(via), k.now())
		k.emit(Event{Kind: EventAlert})
	}
}

// expireHelpLocked ends a call older than the timeout and reports whether it did. k.mu is held;
// the audit row is written by a goroutine so that the lock is never held over the store.
func (k *Kiosk) expireHelpLocked(now time.Time) bool {
	if k.help.since.IsZero() || now.Sub(k.help.since) < k.helpTimeout() {
		return false
	}
	k.help.timer.Stop()
	k.help = helpState{}
	go func() {
		k.log.Info("call for staff ended unanswered", "alert", AlertHelpRequested)
		k.auditHelp(context.Background(), AuditHelpExpired, "timeout", now)
	}()
	return true
}

func (k *Kiosk) helpTimeout() time.Duration {
	if d := k.cfg.Kiosk.HelpTimeout.Duration; d > 0 {
		return d
	}
	return 15 * time.Minute
}

// auditHelp writes one row of the call's life to the audit log, as an executed, successful
// action of by.
func (k *Kiosk) auditHelp(ctx context.Context, name, by string, at time.Time) {
	id, err := auditID("help")
	if err != nil {
		k.log.Error("call for staff not written to the audit log", "action", name, "err", err)
		return
	}
	e := AuditEntry{ID: id, Name: name, By: by, At: at, Executed: true, OK: true}
	err = k.store.Tx(context.WithoutCancel(ctx), func(tx *sql.Tx) error { return RecordAudit(tx, e) })
	if err != nil {
		k.log.Error("call for staff not written to the audit log", "action", name, "err", err)
	}
}

// Alerts are the kiosk's alerts now: the devices' faults (Alerts over Devices), a citizen's
// call for staff (AlertHelpRequested) and a locked staff PIN entry (AlertStaffPINLockout, until
// the right PIN), these two warnings of DeviceKiosk, sorted by code. The telemetry agent and
// kioskd's /v1/status both list these.
func (k *Kiosk) Alerts() []Alert {
	out := Alerts(k.Devices())
	if since, ok := k.HelpPending(); ok {
		out = append(out, Alert{Code: AlertHelpRequested, Device: DeviceKiosk, Warning: true,
			Detail: "citizen asks for staff", Since: since})
	}
	if a, ok := k.staffAlert(); ok {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Alert) int { return strings.Compare(a.Code, b.Code) })
	return out
}
