package kiosk

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"citizenhome/telemetry/wire"
)

// The audit log is the store's command_audit table: one log of who did what to the kiosk, from
// the hall's control room (its remote commands) or on site (staff mode). RecordAudit writes every
// row of it, whoever acts. A staff row has an id "staff-<16 hex digits>", a name from the
// Audit* constants, by_user the way the staff member proved who they are (StaffVia), the
// action's arguments as a JSON object, and reply '{}'; a hall command's row is its id, name,
// sender, arguments and the reply it got. A PIN is never written.

// StaffVia is how a staff member proved who they are; the audit log's by_user.
type StaffVia string

// The ways into staff mode.
const (
	StaffByPIN  StaffVia = "staff-pin"
	StaffByCard StaffVia = "staff-card"
)

// Staff actions, as the audit log names them (command_audit.name). They differ from the hall's
// command names (lock, reset, ...) so that the log tells on-site work from remote commands: an
// action the hall also has as a command is "staff-" and the command's name.
const (
	AuditStaffLogin       = "staff-login"
	AuditStaffLoginFailed = "staff-login-failed"
	AuditStaffLogout      = "staff-logout"
	AuditStaffLock        = "staff-lock"
	AuditStaffUnlock      = "staff-unlock"
	AuditStaffReset       = "staff-reset"
	AuditStaffReprint     = "staff-reprint"
	AuditStaffReceipt     = "staff-reprint-receipt"
	AuditStaffSelfTest    = "staff-selftest"
	AuditStaffPaper       = "staff-paper-replaced"
	AuditStaffQuit        = "staff-quit"
	AuditStaffReload      = "staff-reload-catalog"
	AuditStaffSetConfig   = "staff-set-config"
)

// ErrNotStaffCard is StaffLogin.Card's answer for a card that is not a configured staff card.
var ErrNotStaffCard = errors.New("not a staff card")

// AuditEntry is one row of the audit log: a hall command or a staff action.
type AuditEntry struct {
	ID       string
	Name     string    // a hall command (lock, reprint, ...) or a staff action (AuditStaffLock, ...)
	By       string    // the hall user, or a StaffVia
	Args     string    // a JSON object; "" is written as {}
	Received time.Time // when the command came in; zero: At (a staff action)
	At       time.Time // when it was done (or refused)
	Executed bool      // false: refused before it ran
	OK       bool      // it ran and succeeded
	Error    string    // why not, without personal data; "" when OK
	Reply    string    // the reply a hall command got (JSON); "" is written as {}
}

// Staff reports whether the entry is a staff action rather than a hall command.
func (e AuditEntry) Staff() bool {
	return e.By == string(StaffByPIN) || e.By == string(StaffByCard)
}

// RecordAudit writes e to the audit log inside tx: the one writer of the log, for staff actions
// (StaffHandle) and the hall's commands (telemetry/agent, which writes each command's row with
// its reply and the command.done event in one transaction, so that a command delivered again is
// answered from its row). e.ID must be unique: a second row with an id already written is an
// error (and the caller's transaction rolls back).
func RecordAudit(tx *sql.Tx, e AuditEntry) error {
	args, reply := e.Args, e.Reply
	if args == "" {
		args = "{}"
	}
	if reply == "" {
		reply = "{}"
	}
	received := e.Received
	if received.IsZero() {
		received = e.At
	}
	_, err := tx.Exec(`INSERT INTO command_audit (id, name, by_user, args, received_at, done_at, executed, ok, error, reply)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, e.Name, e.By, args, received.UnixNano(), e.At.UnixNano(),
		e.Executed, e.OK, e.Error, reply)
	return err
}

// AuditLog returns the last n rows of the audit log (hall commands and staff actions, whoever
// asks), newest first; n <= 0 returns none. Rows done at the same instant come in no particular
// order.
func (h *StaffHandle) AuditLog(ctx context.Context, n int) ([]AuditEntry, error) {
	if n <= 0 {
		return nil, nil
	}
	k := h.k
	rows, err := k.store.DB().QueryContext(ctx, `SELECT id, name, by_user, args, received_at, done_at, executed, ok, error, reply
		FROM command_audit ORDER BY done_at DESC, id DESC LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var received, at int64
		if err := rows.Scan(&e.ID, &e.Name, &e.By, &e.Args, &received, &at, &e.Executed, &e.OK, &e.Error, &e.Reply); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		e.Received = time.Unix(0, received).In(k.sched.Location())
		e.At = time.Unix(0, at).In(k.sched.Location())
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return out, nil
}

// audit writes one action of the handle's actor to the audit log when the actor is staff on
// site: executed, ok when failed is nil. A hall command's row is the agent's, written with its
// reply; the local API keeps no audit. A failure to write is logged, not returned: a full disk
// must not stop staff from locking the kiosk, and the action itself is done either way.
func (h *StaffHandle) audit(ctx context.Context, action string, args map[string]string, failed error) {
	if h.by.via == "" {
		return
	}
	if err := h.writeAudit(context.WithoutCancel(ctx), action, args, failed); err != nil {
		h.k.log.Error("staff action not written to the audit log", "action", action, "by", string(h.by.via), "err", err)
	}
}

// auditID is a new audit row's id: prefix, a dash and 64 random bits in hex.
func auditID(prefix string) (string, error) {
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return prefix + "-" + hex.EncodeToString(raw[:]), nil
}

func (h *StaffHandle) writeAudit(ctx context.Context, action string, args map[string]string, failed error) error {
	k, by := h.k, h.by.auditBy()
	id, err := auditID("staff")
	if err != nil {
		return err
	}
	e := AuditEntry{ID: id, Name: action, By: by, At: k.now(), Executed: true, OK: failed == nil}
	if len(args) > 0 {
		a, err := json.Marshal(args)
		if err != nil {
			return err
		}
		e.Args = string(a)
	}
	if failed != nil {
		e.Error = failed.Error()
	}
	return k.store.Tx(ctx, func(tx *sql.Tx) error {
		if err := RecordAudit(tx, e); err != nil || action != AuditStaffReset || failed != nil {
			return err
		}
		// The hall learns of a reset on site as of a remote one: the same event, by staff.
		if r := k.recorder(); r != nil {
			return r.RecordEvent(tx, wire.EventKioskReset, map[string]string{"audit": e.ID, "by": by})
		}
		return nil
	})
}
