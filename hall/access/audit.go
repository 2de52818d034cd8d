package access

import (
	"context"
	"database/sql"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultAuditRetention is how long an audit entry is kept. China's Cybersecurity Law (art.
// 21) asks for at least six months of such logs; two years is four times that and longer than
// the fleet history's 400 days, so every command in the history still has its who. A hall's
// console writes a few hundred entries a day, a few MB a year: the bound is not for normal use
// but so the ledger cannot grow for ever.
const DefaultAuditRetention = 2 * 365 * 24 * time.Hour

// The actions access audits itself. The web console adds its own (kiosk commands) with Audit.
const (
	ActLogin         = "login"
	ActLogout        = "logout"
	ActAccountAdd    = "account-add"
	ActAccountRemove = "account-remove"
	ActPassword      = "password-set"
	ActDisable       = "account-disable"
	ActEnable        = "account-enable"
	ActTokenCreate   = "token-create"
	ActTokenRevoke   = "token-revoke"
)

// OutcomeOK is the outcome of an action that did what was asked; a refused one has its error's
// code ("bad-login", "disabled").
const OutcomeOK = "ok"

// UnknownName is who a failed login with an unknown account name is recorded as: what was typed
// in the name box is not kept, since it is often a password typed in the wrong box.
const UnknownName = "(unknown)"

// SystemName is who an audited change of this package is recorded as when its context carries
// no Actor.
const SystemName = "(system)"

// Entry is one line of the audit: who did what in the console or with halld's commands. No
// field may hold personal data of citizens or a secret: a kiosk's id, an account's name, an
// error code.
type Entry struct {
	At      time.Time // zero: now (Audit)
	Who     string    // account or token name, UnknownName, or "cli:LOGIN" for halld's commands
	Role    Role      // Who's role then ("" for the command line)
	Action  string    // Act* or the console's own (e.g. "kiosk-lock")
	Target  string    // what it was done to: an account, a token, a kiosk
	Detail  string    // a few words more (a lock's message, the lockout a failure started)
	Outcome string    // OutcomeOK or an error code
	Addr    string    // the client's address; "local" for the command line
}

// Field bounds: a longer value is cut (marked "…") rather than refused, so that an audit entry
// is never lost to a long detail.
const (
	maxAuditField  = 128
	maxAuditDetail = 1024
)

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

type actorKey struct{}

// Actor is who performs the changes the store audits by itself (accounts, passwords, tokens,
// logouts): the console puts the signed-in principal and the client's address in the request's
// context, halld's commands the operator's login.
type Actor struct {
	Who  string
	Role Role
	Addr string
}

// WithActor returns ctx carrying a, for the store's audited methods.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

func actorOf(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	if a.Who == "" {
		a.Who = SystemName
	}
	return a
}

// entry is the audit entry of an action by ctx's actor.
func (s *Store) entry(ctx context.Context, action, target, detail string) Entry {
	a := actorOf(ctx)
	return Entry{Who: a.Who, Role: a.Role, Addr: a.Addr, Action: action, Target: target, Detail: detail, Outcome: OutcomeOK}
}

// Audit records e. At defaults to now; Action is required (ErrInvalid); values beyond 128 bytes
// (Detail: 1024) are cut. Entries older than the retention are deleted here, once a day, in the
// same transaction.
func (s *Store) Audit(ctx context.Context, e Entry) error {
	if strings.TrimSpace(e.Action) == "" {
		return errorf(ErrInvalid, "an audit entry needs an action")
	}
	return wrapDB(s.db.Tx(ctx, func(tx *sql.Tx) error { return s.audit(ctx, tx, e) }))
}

// audit writes e in tx, the transaction of the change it records: both happen or neither.
func (s *Store) audit(ctx context.Context, tx *sql.Tx, e Entry) error {
	now := s.now()
	if e.At.IsZero() {
		e.At = now
	}
	if s.auditRetention > 0 && s.pruneDue(now) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_audit WHERE at < ?`, now.Add(-s.auditRetention).UnixMilli()); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO access_audit (at, who, role, action, target, detail, outcome, addr)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.At.UnixMilli(),
		clip(e.Who, maxAuditField), clip(string(e.Role), maxAuditField), clip(e.Action, maxAuditField),
		clip(e.Target, maxAuditField), clip(e.Detail, maxAuditDetail), clip(e.Outcome, maxAuditField), clip(e.Addr, maxAuditField))
	return err
}

// pruneDue reports whether a day has passed since the last pruning (or none was done yet by
// this store), and if so counts it as done: a failed transaction leaves it for the next day.
func (s *Store) pruneDue(now time.Time) bool {
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	if !s.pruned.IsZero() && now.Sub(s.pruned) < 24*time.Hour {
		return false
	}
	s.pruned = now
	return true
}

// AuditLog returns the entries at or after since (zero: all), newest first (entries of one
// millisecond in reverse order of writing), at most limit of them (limit <= 0: no limit).
func (s *Store) AuditLog(ctx context.Context, since time.Time, limit int) ([]Entry, error) {
	var from int64 // zero time: from the Unix epoch, before any entry
	if !since.IsZero() {
		from = since.UnixMilli()
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT at, who, role, action, target, detail, outcome, addr
		FROM access_audit WHERE at >= ? ORDER BY at DESC, id DESC LIMIT ?`, from, limit)
	if err != nil {
		return nil, wrapDB(err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at int64
		if err := rows.Scan(&at, &e.Who, &e.Role, &e.Action, &e.Target, &e.Detail, &e.Outcome, &e.Addr); err != nil {
			return nil, wrapDB(err)
		}
		e.At = time.UnixMilli(at)
		out = append(out, e)
	}
	return out, wrapDB(rows.Err())
}
