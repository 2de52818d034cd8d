// Package access is who may use halld's HTTP API (../shared/spec/hall-api.md, Access): bearer
// tokens for counter software and scripts, accounts with a password for browsers, the browser
// sessions those logins open (each with its CSRF token), the calling displays' key, and the
// roles that decide what each of them may do.
//
// Secrets are never stored as given: a token and a session id are kept as their SHA-256 (both
// are 256-bit random strings, so a fast hash suffices and a stolen ledger opens nothing), a
// password as argon2id with a salt of its own (hash.go; ledgers of before access-2 hold
// PBKDF2-SHA256 hashes, still checked and replaced at the account's next login). Sessions live
// in the ledger, not in memory, so that a restart of halld (an upgrade, the watchdog) does not
// log every counter out in the middle of a working day.
//
// Every change to accounts and tokens, and every login and logout, is written to the audit
// (audit.go) in the transaction of the change itself.
package access

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"time"

	"citizenhome/hall/ledger"
)

// Role is what an account or token is for.
type Role string

// The roles of the spec.
const (
	Counter Role = "counter" // counter staff and counter software: queue reads and /v1/windows/*
	Crew    Role = "crew"    // the maintenance crew: queue and fleet reads, kiosk commands
	Admin   Role = "admin"   // the hall's administrator: everything
)

// ParseRole returns the role named s; ErrInvalid for any other string.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Counter, Crew, Admin:
		return r, nil
	}
	return "", errorf(ErrInvalid, "unknown role %q (counter, crew or admin)", s)
}

// Right is one kind of use of the API; Principal.May decides it.
type Right int

// The rights the routes ask for.
const (
	// Display: the display page, the event stream, /v1/calls and the announcements' audio.
	Display Right = iota
	// ReadQueue: the queue, tickets and unused numbers.
	ReadQueue
	// Operate: the counters' actions, /v1/windows/* and a ticket's return.
	Operate
	// Administer: accounts and tokens.
	Administer
	// ReadFleet: the crew's console: the fleet, its history, alerts and reports.
	ReadFleet
	// Command: commands to kiosks (lock, unlock, reset, reprint, self-test, rebirth).
	Command
)

// Kind says how a principal proved who it is.
type Kind int

// The kinds of credential.
const (
	ByToken   Kind = iota + 1 // Authorization: Bearer
	BySession                 // a browser's login session cookie
	ByDisplay                 // the display key
)

// Principal is who makes a request.
type Principal struct {
	Name string // the account or token's name; "display" for the display key
	Role Role   // "" for the display key
	Kind Kind
	// CSRF is the token a state-changing request of this session must carry (BySession only).
	CSRF string
}

// May reports whether p may use right. The display key may use Display only; counter staff
// every right but Administer and the fleet's; the crew may read the queue (Display, ReadQueue),
// read the fleet and command kiosks, but not operate a window; an admin may do everything.
func (p Principal) May(r Right) bool {
	if p.Kind == ByDisplay {
		return r == Display
	}
	switch p.Role {
	case Admin:
		return true
	case Counter:
		return r == Display || r == ReadQueue || r == Operate
	case Crew:
		return r == Display || r == ReadQueue || r == ReadFleet || r == Command
	}
	return false
}

// Error is every error of the package; errors.Is matches it against the sentinels below by code.
type Error struct {
	Code string // kebab-case, used as the HTTP error code
	Msg  string
	// RetryAfter is how long a throttled login must wait (ErrThrottled only).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return "access: " + e.Code
	}
	return "access: " + e.Msg
}

// Is matches any *Error with the same code; a disabled account's refusal is a bad login too.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && (t.Code == e.Code || e.Code == ErrDisabled.Code && t.Code == ErrBadLogin.Code)
}

// Sentinels for errors.Is.
var (
	ErrUnauthorized = &Error{Code: "unauthorized"}   // no, unknown, revoked or expired credential
	ErrBadLogin     = &Error{Code: "bad-login"}      // wrong account name or password (never says which)
	ErrThrottled    = &Error{Code: "throttled"}      // too many failed logins for the account or address
	ErrExists       = &Error{Code: "exists"}         // a token or account of that name exists
	ErrNotFound     = &Error{Code: "not-found"}      // no token or account of that name
	ErrInvalid      = &Error{Code: "invalid"}        // a malformed name, role or password
	ErrCSRF         = &Error{Code: "csrf"}           // a session's state-changing request without its CSRF token
	ErrNoDisplayKey = &Error{Code: "no-display-key"} // the display key is not configured
	// ErrDisabled: the right password for a disabled account. errors.Is(err, ErrBadLogin) holds
	// too, so a caller that knows only ErrBadLogin refuses the login like a wrong password.
	ErrDisabled = &Error{Code: "disabled"}
)

func errorf(kind *Error, format string, args ...any) *Error {
	return &Error{Code: kind.Code, Msg: fmt.Sprintf(format, args...)}
}

// ValidName reports whether s may name an account or a token (hall/settings checks the
// managers it names with it).
func ValidName(s string) bool { return nameRE.MatchString(s) }

// nameRE is what an account or token name may be: it appears in logs and audits.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func checkName(kind, name string) error {
	if !nameRE.MatchString(name) {
		return errorf(ErrInvalid, "%s name %q: 1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit", kind, name)
	}
	return nil
}

// Migrations are the package's tables in the ledger (cmd/halld opens them with the others).
var Migrations = []ledger.Migration{{Name: "access-1", SQL: `
CREATE TABLE access_token (
	name       TEXT PRIMARY KEY,
	role       TEXT NOT NULL,
	hash       BLOB NOT NULL UNIQUE,   -- SHA-256 of the token
	created_at INTEGER NOT NULL        -- Unix seconds
);
CREATE TABLE access_account (
	name       TEXT PRIMARY KEY,
	role       TEXT NOT NULL,
	salt       BLOB NOT NULL,
	hash       BLOB NOT NULL,          -- PBKDF2-SHA256(password, salt, iterations)
	iterations INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE access_session (
	hash       BLOB PRIMARY KEY,       -- SHA-256 of the session id
	account    TEXT NOT NULL REFERENCES access_account(name) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX access_session_expiry ON access_session(expires_at);
`}, {Name: "access-2", SQL: `
-- Passwords in argon2id. A row of access-1 keeps its PBKDF2 columns (phc NULL) until its next
-- login rewrites it; a row with phc holds an empty salt and hash and 0 iterations there, so a
-- stolen ledger holds no weaker hash of a password that has been upgraded.
ALTER TABLE access_account ADD COLUMN phc TEXT;              -- $argon2id$v=19$m=..,t=..,p=..$salt$hash
ALTER TABLE access_account ADD COLUMN disabled_at INTEGER;   -- Unix seconds; NULL: enabled
-- Who did what in the console; no reference to access_account, since an entry outlives the
-- account it names.
CREATE TABLE access_audit (
	id      INTEGER PRIMARY KEY,   -- order of writing, for entries of one millisecond
	at      INTEGER NOT NULL,      -- Unix milliseconds
	who     TEXT NOT NULL,
	role    TEXT NOT NULL,
	action  TEXT NOT NULL,
	target  TEXT NOT NULL,
	detail  TEXT NOT NULL,
	outcome TEXT NOT NULL,
	addr    TEXT NOT NULL
);
CREATE INDEX access_audit_at ON access_audit(at);
`}}

func digest(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// DisplayKey checks the calling displays' key. The zero value (no key configured) accepts none.
type DisplayKey struct{ sum []byte }

// NewDisplayKey returns a check for key; an empty key accepts nothing (ErrNoDisplayKey on use).
// A key shorter than 16 characters is refused (ErrInvalid): it is in a URL on a TV in a public
// hall, and guessing it would let anyone drive what the hall hears.
func NewDisplayKey(key string) (DisplayKey, error) {
	if key == "" {
		return DisplayKey{}, nil
	}
	if len(key) < 16 {
		return DisplayKey{}, errorf(ErrInvalid, "the display key must have at least 16 characters")
	}
	return DisplayKey{sum: digest(key)}, nil
}

// Check returns the display's principal when key is the configured one, in constant time (the
// digests are compared, so not even the key's length leaks). Errors: ErrNoDisplayKey when none
// is configured, ErrUnauthorized for any other key.
func (d DisplayKey) Check(key string) (Principal, error) {
	if d.sum == nil {
		return Principal{}, ErrNoDisplayKey
	}
	if subtle.ConstantTimeCompare(digest(key), d.sum) != 1 {
		return Principal{}, ErrUnauthorized
	}
	return Principal{Name: "display", Kind: ByDisplay}, nil
}

// IsUnauthorized reports whether err means the caller has no valid credential (as opposed to a
// failure of the ledger).
func IsUnauthorized(err error) bool {
	return errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrNoDisplayKey)
}
