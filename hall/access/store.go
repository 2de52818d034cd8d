package access

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"citizenhome/hall/ledger"
)

// Defaults of Options.
const (
	// DefaultHashConcurrency is how many password hashes run at once: two of DefaultArgon2 hold
	// 128 MiB, whatever the number of logins waiting.
	DefaultHashConcurrency = 2
	// DefaultSessionTTL is how long a login lasts: a working day and then some, so a counter
	// logs in once a morning.
	DefaultSessionTTL = 12 * time.Hour
	// MinPassword is the shortest password an account may have.
	MinPassword = 8
	// TokenPrefix starts every token, so that secret scanners and people recognise one.
	TokenPrefix = "hall_"
)

// Options tune Open; zero values take the defaults.
type Options struct {
	// Argon2 is the cost of new password hashes; zero or invalid: DefaultArgon2 (tests lower it).
	// A stored hash of other parameters is rehashed at the account's next login.
	Argon2 Argon2
	// HashConcurrency bounds the password hashes computed at once (logins and password changes
	// wait their turn); 0: DefaultHashConcurrency.
	HashConcurrency int
	SessionTTL      time.Duration    // a session's life from its login
	Throttle        ThrottleOptions  // failed-login limits
	AuditRetention  time.Duration    // 0: DefaultAuditRetention; negative: kept for ever
	Now             func() time.Time // the clock
}

// Store keeps tokens, accounts, sessions and the audit in the ledger. Safe for concurrent use.
type Store struct {
	db             *ledger.DB
	hasher         *hasher
	ttl            time.Duration
	now            func() time.Time
	throttle       *throttle
	auditRetention time.Duration

	pruneMu sync.Mutex
	pruned  time.Time // the audit's last pruning by this store
}

// Open returns the store over db, which must hold Migrations.
func Open(db *ledger.DB, o Options) *Store {
	if !o.Argon2.valid() {
		o.Argon2 = DefaultArgon2
	}
	if o.HashConcurrency <= 0 {
		o.HashConcurrency = DefaultHashConcurrency
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.AuditRetention == 0 {
		o.AuditRetention = DefaultAuditRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{db: db, hasher: newHasher(o.Argon2, o.HashConcurrency), ttl: o.SessionTTL, now: o.Now,
		throttle: newThrottle(o.Throttle, o.Now), auditRetention: o.AuditRetention}
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather)
	return b
}

func randomString() string { return base64.RawURLEncoding.EncodeToString(random(32)) }

// TokenInfo describes a token; the token itself is shown once, by CreateToken.
type TokenInfo struct {
	Name    string
	Role    Role
	Created time.Time
}

// CreateToken makes a token called name with role and returns it: the only time it is seen,
// since only its hash is kept. Audited as ctx's Actor. Errors: ErrInvalid (name), ErrExists.
func (s *Store) CreateToken(ctx context.Context, name string, role Role) (string, error) {
	if err := checkName("token", name); err != nil {
		return "", err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return "", err
	}
	tok := TokenPrefix + randomString()
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM access_token WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errorf(ErrExists, "a token called %q exists (revoke it first)", name)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO access_token (name, role, hash, created_at) VALUES (?, ?, ?, ?)`,
			name, string(role), digest(tok), s.now().Unix())
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, s.entry(ctx, ActTokenCreate, name, "role "+string(role)))
	})
	if err != nil {
		return "", wrapDB(err)
	}
	return tok, nil
}

// RevokeToken deletes the token called name; requests with it are refused from now on.
// Audited as ctx's Actor. Errors: ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	return wrapDB(s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM access_token WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errorf(ErrNotFound, "no token called %q", name)
		}
		return s.audit(ctx, tx, s.entry(ctx, ActTokenRevoke, name, ""))
	}))
}

// Tokens lists every token by name.
func (s *Store) Tokens(ctx context.Context) ([]TokenInfo, error) {
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT name, role, created_at FROM access_token ORDER BY name`)
	if err != nil {
		return nil, wrapDB(err)
	}
	defer rows.Close()
	var out []TokenInfo
	for rows.Next() {
		var t TokenInfo
		var created int64
		if err := rows.Scan(&t.Name, &t.Role, &created); err != nil {
			return nil, wrapDB(err)
		}
		t.Created = time.Unix(created, 0)
		out = append(out, t)
	}
	return out, wrapDB(rows.Err())
}

// Bearer returns whose token tok is. Errors: ErrUnauthorized for a token that is not (or no
// longer) valid. The lookup is by the token's hash, so its time says nothing of the token.
func (s *Store) Bearer(ctx context.Context, tok string) (Principal, error) {
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) > 128 {
		return Principal{}, ErrUnauthorized
	}
	var p Principal
	err := s.db.SQL().QueryRowContext(ctx, `SELECT name, role FROM access_token WHERE hash = ?`, digest(tok)).Scan(&p.Name, &p.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, ErrUnauthorized
	}
	if err != nil {
		return Principal{}, wrapDB(err)
	}
	p.Kind = ByToken
	return p, nil
}

// AccountInfo describes an account.
type AccountInfo struct {
	Name     string
	Role     Role
	Created  time.Time
	Disabled time.Time // when it was disabled; zero while it is enabled
}

func checkPassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPassword || len(pw) > 1024 {
		return errorf(ErrInvalid, "a password has %d to 1024 characters", MinPassword)
	}
	return nil
}

// newHash is password's argon2id hash; an error only when ctx ends while it waits its turn.
func (s *Store) newHash(ctx context.Context, password string) (string, error) {
	h, err := s.hasher.hash(ctx, password)
	if err != nil {
		return "", fmt.Errorf("access: %w", err)
	}
	return h, nil
}

// AddAccount creates the account name with role and password, enabled. Audited as ctx's
// Actor. Errors: ErrInvalid (name, role, or a password shorter than MinPassword), ErrExists.
func (s *Store) AddAccount(ctx context.Context, name string, role Role, password string) error {
	if err := checkName("account", name); err != nil {
		return err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	phc, err := s.newHash(ctx, password)
	if err != nil {
		return err
	}
	return wrapDB(s.db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM access_account WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errorf(ErrExists, "an account called %q exists", name)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO access_account (name, role, salt, hash, iterations, phc, created_at)
			VALUES (?, ?, x'', x'', 0, ?, ?)`, name, string(role), phc, s.now().Unix())
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, s.entry(ctx, ActAccountAdd, name, "role "+string(role)))
	}))
}

// endSessions deletes name's sessions in tx and says how many there were, for the audit.
func endSessions(ctx context.Context, tx *sql.Tx, name string) (string, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM access_session WHERE account = ?`, name)
	if err != nil {
		return "", err
	}
	n, _ := res.RowsAffected()
	if n == 1 {
		return "1 session ended", nil
	}
	return fmt.Sprintf("%d sessions ended", n), nil
}

// SetPassword replaces name's password (argon2id, whatever the old hash was) and ends every
// session of the account: whoever knew the old password is out. A disabled account stays
// disabled. Audited as ctx's Actor. Errors: ErrInvalid, ErrNotFound.
func (s *Store) SetPassword(ctx context.Context, name, password string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	phc, err := s.newHash(ctx, password)
	if err != nil {
		return err
	}
	return wrapDB(s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE access_account SET phc = ?, salt = x'', hash = x'', iterations = 0 WHERE name = ?`, phc, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errorf(ErrNotFound, "no account called %q", name)
		}
		ended, err := endSessions(ctx, tx, name)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, s.entry(ctx, ActPassword, name, ended))
	}))
}

// DisableAccount stops name from logging in and ends its sessions at once; its password and
// role are kept for EnableAccount. Disabling a disabled account changes nothing and is no
// error (nor audited). Audited as ctx's Actor. Errors: ErrNotFound.
func (s *Store) DisableAccount(ctx context.Context, name string) error {
	return s.setDisabled(ctx, name, true)
}

// EnableAccount lets a disabled account log in again with its old password. Enabling an
// enabled account changes nothing and is no error (nor audited). Audited as ctx's Actor.
// Errors: ErrNotFound.
func (s *Store) EnableAccount(ctx context.Context, name string) error {
	return s.setDisabled(ctx, name, false)
}

func (s *Store) setDisabled(ctx context.Context, name string, disable bool) error {
	return wrapDB(s.db.Tx(ctx, func(tx *sql.Tx) error {
		var at sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT disabled_at FROM access_account WHERE name = ?`, name).Scan(&at)
		if errors.Is(err, sql.ErrNoRows) {
			return errorf(ErrNotFound, "no account called %q", name)
		}
		if err != nil || at.Valid == disable {
			return err
		}
		if !disable {
			if _, err := tx.ExecContext(ctx, `UPDATE access_account SET disabled_at = NULL WHERE name = ?`, name); err != nil {
				return err
			}
			return s.audit(ctx, tx, s.entry(ctx, ActEnable, name, ""))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE access_account SET disabled_at = ? WHERE name = ?`, s.now().Unix(), name); err != nil {
			return err
		}
		ended, err := endSessions(ctx, tx, name)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, s.entry(ctx, ActDisable, name, ended))
	}))
}

// RemoveAccount deletes the account name and its sessions; its audit entries stay. Audited as
// ctx's Actor. Errors: ErrNotFound.
func (s *Store) RemoveAccount(ctx context.Context, name string) error {
	return wrapDB(s.db.Tx(ctx, func(tx *sql.Tx) error {
		ended, err := endSessions(ctx, tx, name)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM access_account WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errorf(ErrNotFound, "no account called %q", name)
		}
		return s.audit(ctx, tx, s.entry(ctx, ActAccountRemove, name, ended))
	}))
}

// Accounts lists every account by name.
func (s *Store) Accounts(ctx context.Context) ([]AccountInfo, error) {
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT name, role, created_at, disabled_at FROM access_account ORDER BY name`)
	if err != nil {
		return nil, wrapDB(err)
	}
	defer rows.Close()
	var out []AccountInfo
	for rows.Next() {
		var a AccountInfo
		var created int64
		var disabled sql.NullInt64
		if err := rows.Scan(&a.Name, &a.Role, &created, &disabled); err != nil {
			return nil, wrapDB(err)
		}
		a.Created = time.Unix(created, 0)
		if disabled.Valid {
			a.Disabled = time.Unix(disabled.Int64, 0)
		}
		out = append(out, a)
	}
	return out, wrapDB(rows.Err())
}

// Session is an open browser login. ID goes into the cookie and is shown nowhere else.
type Session struct {
	ID      string
	CSRF    string
	Account string
	Role    Role
	Expires time.Time
}

// Login checks name's password, from the address addr (the client's IP, for throttling and
// the audit), and opens a session. Errors: ErrThrottled (RetryAfter set) while the account or
// the address has failed too often, checked before the password so a throttled guess costs
// nothing (and is not audited: a flood of them must not fill the ledger; the failure that
// started the lockout is); ErrBadLogin for an unknown account or a wrong password alike, in the
// same time (an unknown account is checked against a dummy hash of the same cost);
// ErrDisabled, only after the right password, for a disabled account. A PBKDF2 hash (a ledger
// of before access-2) or one of other argon2id parameters is replaced by a new hash of the
// password in the transaction that opens the session. Every outcome but ErrThrottled is
// audited, an unknown name as UnknownName.
func (s *Store) Login(ctx context.Context, name, password, addr string) (Session, error) {
	if wait := s.throttle.wait(name, addr); wait > 0 {
		return Session{}, &Error{Code: ErrThrottled.Code, RetryAfter: wait,
			Msg: fmt.Sprintf("too many failed logins; try again in %d s", int(wait.Seconds()+0.999))}
	}
	var (
		st       stored
		role     Role
		phc      sql.NullString
		disabled sql.NullInt64
		known    bool
	)
	if len(name) <= 64 && len(password) <= 1024 {
		err := s.db.SQL().QueryRowContext(ctx, `SELECT role, salt, hash, iterations, phc, disabled_at FROM access_account WHERE name = ?`, name).
			Scan(&role, &st.salt, &st.hash, &st.iter, &phc, &disabled)
		switch {
		case err == nil:
			known = true
			st.phc = phc.String
		case !errors.Is(err, sql.ErrNoRows):
			return Session{}, wrapDB(err)
		}
	}
	// An unknown account is checked against stored{}: the dummy at the current cost.
	ok, upgrade, err := s.hasher.verify(ctx, st, password)
	if err != nil {
		return Session{}, fmt.Errorf("access: %w", err)
	}
	e := Entry{Who: UnknownName, Action: ActLogin, Addr: addr, Outcome: OutcomeOK}
	if known {
		e.Who, e.Role = name, role
	}
	if !ok || !known {
		if lock := s.throttle.fail(name, addr); lock > 0 {
			e.Detail = "locked out for " + lock.String()
		}
		e.Outcome = ErrBadLogin.Code
		if err := s.Audit(ctx, e); err != nil {
			return Session{}, err
		}
		return Session{}, errorf(ErrBadLogin, "wrong account name or password")
	}
	if disabled.Valid {
		// The password was right: saying so tells its owner why, and nobody else learns it.
		e.Outcome = ErrDisabled.Code
		if err := s.Audit(ctx, e); err != nil {
			return Session{}, err
		}
		return Session{}, errorf(ErrDisabled, "the account %q is disabled", name)
	}
	s.throttle.succeed(name)
	var rehash string
	if upgrade {
		// A failure here costs only the upgrade, not the login: it is tried again next time.
		rehash, _ = s.hasher.hash(ctx, password)
	}
	now := s.now()
	sess := Session{ID: randomString(), CSRF: randomString(), Account: name, Role: role, Expires: now.Add(s.ttl)}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		// Expired sessions go at each login: there are few, and no timer is needed.
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_session WHERE expires_at <= ?`, now.Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO access_session (hash, account, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			digest(sess.ID), name, sess.CSRF, now.Unix(), sess.Expires.Unix())
		if err != nil {
			return err
		}
		if rehash != "" {
			// Only the hash just checked is replaced: a password set meanwhile stays.
			res, err := tx.ExecContext(ctx, `UPDATE access_account SET phc = ?, salt = x'', hash = x'', iterations = 0
				WHERE name = ? AND coalesce(phc, '') = ? AND hash = ?`, rehash, name, st.phc, st.hash)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				e.Detail = "password rehashed (argon2id)"
			}
		}
		return s.audit(ctx, tx, e)
	})
	if err != nil {
		return Session{}, wrapDB(err)
	}
	return sess, nil
}

// Session returns the principal of the session id (from its cookie), with its CSRF token; the
// account's current role applies, so a changed role takes effect at once. Errors:
// ErrUnauthorized for an unknown, ended or expired session, or one of a disabled account.
func (s *Store) Session(ctx context.Context, id string) (Principal, error) {
	if id == "" || len(id) > 128 {
		return Principal{}, ErrUnauthorized
	}
	var p Principal
	var expires int64
	err := s.db.SQL().QueryRowContext(ctx, `SELECT a.name, a.role, s.csrf, s.expires_at
		FROM access_session s JOIN access_account a ON a.name = s.account
		WHERE s.hash = ? AND a.disabled_at IS NULL`, digest(id)).
		Scan(&p.Name, &p.Role, &p.CSRF, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, ErrUnauthorized
	}
	if err != nil {
		return Principal{}, wrapDB(err)
	}
	if !s.now().Before(time.Unix(expires, 0)) {
		return Principal{}, ErrUnauthorized
	}
	p.Kind = BySession
	return p, nil
}

// Logout ends the session id, audited as its account from ctx's Actor's address; ending an
// unknown session is no error (a second click) and is not audited.
func (s *Store) Logout(ctx context.Context, id string) error {
	return wrapDB(s.db.Tx(ctx, func(tx *sql.Tx) error {
		e := s.entry(ctx, ActLogout, "", "")
		err := tx.QueryRowContext(ctx, `SELECT a.name, a.role FROM access_session s JOIN access_account a ON a.name = s.account
			WHERE s.hash = ?`, digest(id)).Scan(&e.Who, &e.Role)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_session WHERE hash = ?`, digest(id)); err != nil {
			return err
		}
		return s.audit(ctx, tx, e)
	}))
}

// CheckCSRF reports whether got is p's CSRF token (constant time). Errors: ErrCSRF. A
// principal that is not a browser session needs none: its credential is not sent by a browser
// on its own.
func CheckCSRF(p Principal, got string) error {
	if p.Kind != BySession {
		return nil
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRF)) != 1 {
		return errorf(ErrCSRF, "this request needs the page's CSRF token (reload the page)")
	}
	return nil
}

// wrapDB leaves the package's errors as they are and marks others as the ledger's.
func wrapDB(err error) error {
	var e *Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("access: ledger: %w", err)
}
