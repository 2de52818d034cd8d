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
)

// Every staff action is written to the audit log, the store's command_audit table that also
// holds the hall's remote commands: the hall reviews one log of who did what to the kiosk,
// whether from the control room or on site. A staff row has an id "staff-<16 hex digits>", a
// name from the Audit* constants, by_user the way the staff member proved who they are
// (StaffVia), the action's arguments as a JSON object, and reply '{}'. A PIN is never written.

// StaffVia is how a staff member proved who they are; the audit log's by_user.
type StaffVia string

// The ways into staff mode.
const (
	StaffByPIN  StaffVia = "staff-pin"
	StaffByCard StaffVia = "staff-card"
)

// Staff actions, as the audit log names them (command_audit.name). They differ from the hall's
// command names (lock, reset, ...) so that the log tells on-site work from remote commands.
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
)

// ErrNotStaffCard is StaffCardLogin's answer for a card that is not a configured staff card.
var ErrNotStaffCard = errors.New("not a staff card")

// AuditEntry is one row of the audit log: a hall command or a staff action.
type AuditEntry struct {
	ID       string
	Name     string // a hall command (lock, reprint, ...) or a staff action (AuditStaffLock, ...)
	By       string // the hall user, or a StaffVia
	Args     string // a JSON object
	At       time.Time
	Executed bool   // false: refused before it ran
	OK       bool   // it ran and succeeded
	Error    string // why not, without personal data; "" when OK
}

// Staff reports whether the entry is a staff action rather than a hall command.
func (e AuditEntry) Staff() bool {
	return e.By == string(StaffByPIN) || e.By == string(StaffByCard)
}

// StaffCardLogin lets a staff member in by their card: uid is the card's UID in hex (any case,
// PresentCard.UIDHex). A configured staff card is written to the audit log as a login by
// StaffByCard and returns nil; any other card returns ErrNotStaffCard and is not logged (every
// citizen's tap would be a row otherwise). A staff card works while PIN entry is locked out:
// the lockout stops guessing, and a card cannot be guessed at the screen.
func (k *Kiosk) StaffCardLogin(uid string) error {
	if uid == "" || !k.StaffCard(uid) {
		return ErrNotStaffCard
	}
	k.staffAudit(context.Background(), StaffByCard, AuditStaffLogin, nil, nil)
	return nil
}

// StaffLogout records that staff left staff mode (back to the citizens' screens, or timed out).
func (k *Kiosk) StaffLogout(ctx context.Context, by StaffVia) {
	k.staffAudit(ctx, by, AuditStaffLogout, nil, nil)
}

// StaffQuit records that staff are quitting the program; the caller then quits.
func (k *Kiosk) StaffQuit(ctx context.Context, by StaffVia) {
	k.staffAudit(ctx, by, AuditStaffQuit, nil, nil)
}

// AuditLog returns the last n rows of the audit log (hall commands and staff actions), newest
// first; n <= 0 returns none. Rows done at the same instant come in no particular order.
func (k *Kiosk) AuditLog(ctx context.Context, n int) ([]AuditEntry, error) {
	if n <= 0 {
		return nil, nil
	}
	rows, err := k.store.DB().QueryContext(ctx, `SELECT id, name, by_user, args, done_at, executed, ok, error
		FROM command_audit ORDER BY done_at DESC, id DESC LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.Name, &e.By, &e.Args, &at, &e.Executed, &e.OK, &e.Error); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		e.At = time.Unix(0, at).In(k.sched.Location())
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return out, nil
}

// staffAudit writes one staff action to the audit log: executed, ok when failed is nil. A
// failure to write is logged, not returned: a full disk must not stop staff from locking the
// kiosk, and the action itself is done either way.
func (k *Kiosk) staffAudit(ctx context.Context, by StaffVia, action string, args map[string]string, failed error) {
	if err := k.writeStaffAudit(context.WithoutCancel(ctx), by, action, args, failed); err != nil {
		k.log.Error("staff action not written to the audit log", "action", action, "by", string(by), "err", err)
	}
}

func (k *Kiosk) writeStaffAudit(ctx context.Context, by StaffVia, action string, args map[string]string, failed error) error {
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return err
	}
	a := []byte("{}")
	if len(args) > 0 {
		var err error
		if a, err = json.Marshal(args); err != nil {
			return err
		}
	}
	ok, msg := 1, ""
	if failed != nil {
		ok, msg = 0, failed.Error()
	}
	at := k.now().UnixNano()
	id := "staff-" + hex.EncodeToString(raw[:])
	return k.store.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO command_audit (id, name, by_user, args, received_at, done_at, executed, ok, error, reply)
			VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, '{}')`, id, action, string(by), string(a), at, at, ok, msg)
		if err != nil || action != AuditStaffReset || failed != nil {
			return err
		}
		// The hall learns of a reset on site as of a remote one: the same event, by staff.
		if r := k.recorder(); r != nil {
			return r.RecordEvent(tx, "kiosk.reset", map[string]string{"audit": id, "by": string(by)})
		}
		return nil
	})
}
