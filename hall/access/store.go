package access

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"citizenhome/hall/ledger"
)

// Defaults of Options.
const (
	// DefaultIterations is PBKDF2-SHA256's work factor for new passwords (OWASP's 2023 advice).
	DefaultIterations = 600_000
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
	Iterations int              // PBKDF2 iterations for new passwords (tests lower it)
	SessionTTL time.Duration    // a session's life from its login
	Throttle   ThrottleOptions  // failed-login limits
	Now        func() time.Time // the clock
}

// Store keeps tokens, accounts and sessions in the ledger. Safe for concurrent use.
type Store struct {
	db       *ledger.DB
	iter     int
	ttl      time.Duration
	now      func() time.Time
	throttle *throttle
	dummy    account // what a login for an unknown account checks against (same cost)
}

type account struct {
	salt, hash []byte
	iter       int
}

// Open returns the store over db, which must hold Migrations.
func Open(db *ledger.DB, o Options) *Store {
	if o.Iterations <= 0 {
		o.Iterations = DefaultIterations
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Store{db: db, iter: o.Iterations, ttl: o.SessionTTL, now: o.Now, throttle: newThrottle(o.Throttle, o.Now)}
	s.dummy = account{salt: random(16), iter: o.Iterations}
	s.dummy.hash = derive("no such account", s.dummy.salt, s.dummy.iter)
	return s
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather)
	return b
}

func randomString() string { return base64.RawURLEncoding.EncodeToString(random(32)) }

func derive(password string, salt []byte, iter int) []byte {
	k, err := pbkdf2.Key(sha256.New, password, salt, iter, 32)
	if err != nil { // only for FIPS-only modes and absurd parameters
		panic(err)
	}
	return k
}

// TokenInfo describes a token; the token itself is shown once, by CreateToken.
type TokenInfo struct {
	Name    string
	Role    Role
	Created time.Time
}

// CreateToken makes a token called name with role and returns it: the only time it is seen,
// since only its hash is kept. Errors: ErrInvalid (name), ErrExists.
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
		return err
	})
	if err != nil {
		return "", wrapDB(err)
	}
	return tok, nil
}

// RevokeToken deletes the token called name; requests with it are refused from now on.
// Errors: ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	return wrapDB(s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM access_token WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errorf(ErrNotFound, "no token called %q", name)
		}
		return nil
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
	Name    string
	Role    Role
	Created time.Time
}

func checkPassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPassword || len(pw) > 1024 {
		return errorf(ErrInvalid, "a password has %d to 1024 characters", MinPassword)
	}
	return nil
}

// AddAccount creates the account name with role and password. Errors: ErrInvalid (name, role,
// or a password shorter than MinPassword), ErrExists.
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
	salt := random(16)
	hash := derive(password, salt, s.iter)
	return wrapDB(s.db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM access_account WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errorf(ErrExists, "an account called %q exists", name)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO access_account (name, role, salt, hash, iterations, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			name, string(role), salt, hash, s.iter, s.now().Unix())
		return err
	}))
}

// SetPassword replaces name's password and ends its sessions. Errors: ErrInvalid, ErrNotFound.
func (s *Store) SetPassword(ctx context.Context, name, password string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	salt := random(16)
	hash := derive(password, salt, s.iter)
	return wrapDB(s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE access_account SET salt = ?, hash = ?, iterations = ? WHERE name = ?`, salt, hash, s.iter, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errorf(ErrNotFound, "no account called %q", name)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM access_session WHERE account = ?`, name)
		return err
	}))
}

// RemoveAccount deletes the account name and its sessions. Errors: ErrNotFound.
func (s *Store) RemoveAccount(ctx context.Context, name string) error {
	return wrapDB(s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_session WHERE account = ?`, name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM access_account WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errorf(ErrNotFound, "no account called %q", name)
		}
		return nil
	}))
}

// Accounts lists every account by name.
func (s *Store) Accounts(ctx context.Context) ([]AccountInfo, error) {
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT name, role, created_at FROM access_account ORDER BY name`)
	if err != nil {
		return nil, wrapDB(err)
	}
	defer rows.Close()
	var out []AccountInfo
	for rows.Next() {
		var a AccountInfo
		var created int64
		if err := rows.Scan(&a.Name, &a.Role, &created); err != nil {
			return nil, wrapDB(err)
		}
		a.Created = time.Unix(created, 0)
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

// Login checks name's password, from the address addr (the client's IP, for throttling), and
// opens a session. Errors: ErrThrottled (RetryAfter set) while the account or the address has
// failed too often, checked before the password so a throttled guess costs nothing;
// ErrBadLogin for an unknown account or a wrong password alike, in the same time (an unknown
// account is checked against a dummy hash).
func (s *Store) Login(ctx context.Context, name, password, addr string) (Session, error) {
	if wait := s.throttle.wait(name, addr); wait > 0 {
		return Session{}, &Error{Code: ErrThrottled.Code, RetryAfter: wait,
			Msg: fmt.Sprintf("too many failed logins; try again in %d s", int(wait.Seconds()+0.999))}
	}
	a := s.dummy
	var role Role
	known := false
	if len(name) <= 64 && len(password) <= 1024 {
		err := s.db.SQL().QueryRowContext(ctx, `SELECT role, salt, hash, iterations FROM access_account WHERE name = ?`, name).
			Scan(&role, &a.salt, &a.hash, &a.iter)
		switch {
		case err == nil && a.iter >= 1 && a.iter <= 100_000_000:
			known = true
		case err == nil: // a damaged row: refuse it like a wrong password, at the same cost
			a = s.dummy
		case !errors.Is(err, sql.ErrNoRows):
			return Session{}, wrapDB(err)
		}
	}
	ok := subtle.ConstantTimeCompare(derive(password, a.salt, a.iter), a.hash) == 1
	if !ok || !known {
		s.throttle.fail(name, addr)
		return Session{}, errorf(ErrBadLogin, "wrong account name or password")
	}
	s.throttle.succeed(name)
	now := s.now()
	sess := Session{ID: randomString(), CSRF: randomString(), Account: name, Role: role, Expires: now.Add(s.ttl)}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		// Expired sessions go at each login: there are few, and no timer is needed.
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_session WHERE expires_at <= ?`, now.Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO access_session (hash, account, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			digest(sess.ID), name, sess.CSRF, now.Unix(), sess.Expires.Unix())
		return err
	})
	if err != nil {
		return Session{}, wrapDB(err)
	}
	return sess, nil
}

// Session returns the principal of the session id (from its cookie), with its CSRF token; the
// account's current role applies, so a changed role takes effect at once. Errors:
// ErrUnauthorized for an unknown, ended or expired session.
func (s *Store) Session(ctx context.Context, id string) (Principal, error) {
	if id == "" || len(id) > 128 {
		return Principal{}, ErrUnauthorized
	}
	var p Principal
	var expires int64
	err := s.db.SQL().QueryRowContext(ctx, `SELECT a.name, a.role, s.csrf, s.expires_at
		FROM access_session s JOIN access_account a ON a.name = s.account WHERE s.hash = ?`, digest(id)).
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

// Logout ends the session id; ending an unknown session is no error (a second click).
func (s *Store) Logout(ctx context.Context, id string) error {
	return wrapDB(s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM access_session WHERE hash = ?`, digest(id))
		return err
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
