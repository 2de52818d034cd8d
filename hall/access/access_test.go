package access_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/ledger"
	"citizenhome/hall/ledger/ledgertest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func open(t *testing.T) (*access.Store, *ledger.DB, *clock) {
	t.Helper()
	db := ledgertest.Open(t, access.Migrations)
	c := &clock{t: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)}
	return access.Open(db, access.Options{Argon2: testArgon2, Now: c.Now}), db, c
}

// testArgon2 is a cheap argon2id for tests: 64 KiB, one pass.
var testArgon2 = access.Argon2{Time: 1, Memory: 64, Threads: 1}

var ctx = context.Background()

func TestTokens(t *testing.T) {
	s, db, _ := open(t)
	tok, err := s.CreateToken(ctx, "counter-3", access.Counter)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, access.TokenPrefix) || len(tok) < 40 {
		t.Fatalf("token %q", tok)
	}
	p, err := s.Bearer(ctx, tok)
	if err != nil || p.Name != "counter-3" || p.Role != access.Counter || p.Kind != access.ByToken {
		t.Fatalf("Bearer = %+v, %v", p, err)
	}
	// The ledger holds no token, only its hash.
	var raw []byte
	if err := db.SQL().QueryRow(`SELECT hash FROM access_token`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(tok)) || len(raw) != 32 {
		t.Fatalf("stored %x", raw)
	}
	if _, err := s.CreateToken(ctx, "counter-3", access.Admin); !errors.Is(err, access.ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	for _, bad := range []string{"", "a b", "-x", strings.Repeat("x", 65), "名字"} {
		if _, err := s.CreateToken(ctx, bad, access.Counter); !errors.Is(err, access.ErrInvalid) {
			t.Errorf("name %q: %v", bad, err)
		}
	}
	if _, err := s.CreateToken(ctx, "x", "root"); !errors.Is(err, access.ErrInvalid) {
		t.Errorf("role root: %v", err)
	}
	for _, bad := range []string{"", tok + "x", "hall_" + strings.Repeat("A", 43), "Bearer " + tok} {
		if _, err := s.Bearer(ctx, bad); !errors.Is(err, access.ErrUnauthorized) {
			t.Errorf("Bearer(%q) = %v", bad, err)
		}
	}
	list, err := s.Tokens(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "counter-3" || list[0].Role != access.Counter {
		t.Fatalf("Tokens = %+v, %v", list, err)
	}
	if err := s.RevokeToken(ctx, "counter-3"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Bearer(ctx, tok); !errors.Is(err, access.ErrUnauthorized) {
		t.Fatalf("revoked token: %v", err)
	}
	if err := s.RevokeToken(ctx, "counter-3"); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
}

func TestLoginSessionLogout(t *testing.T) {
	s, db, c := open(t)
	if err := s.AddAccount(ctx, "wang", access.Counter, "short"); !errors.Is(err, access.ErrInvalid) {
		t.Fatalf("short password: %v", err)
	}
	if err := s.AddAccount(ctx, "wang", access.Counter, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAccount(ctx, "wang", access.Admin, "another one"); !errors.Is(err, access.ErrExists) {
		t.Fatalf("second add: %v", err)
	}
	var salt, hash []byte
	var iter int
	var phc string
	if err := db.SQL().QueryRow(`SELECT salt, hash, iterations, phc FROM access_account`).Scan(&salt, &hash, &iter, &phc); err != nil {
		t.Fatal(err)
	}
	// An argon2id hash with its own 16-byte salt and a 32-byte key (checked against x/crypto in
	// TestArgon2idStored); the PBKDF2 columns of access-1 are left empty.
	f := strings.Split(phc, "$")
	if len(f) != 6 || f[1] != "argon2id" || f[3] != "m=64,t=1,p=1" || len(f[4]) != 22 || len(f[5]) != 43 ||
		len(salt) != 0 || len(hash) != 0 || iter != 0 || strings.Contains(phc, "correct") {
		t.Fatalf("stored phc %q salt %x hash %x iter %d", phc, salt, hash, iter)
	}
	if _, err := s.Login(ctx, "wang", "wrong horse", "10.0.0.9"); !errors.Is(err, access.ErrBadLogin) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := s.Login(ctx, "nobody", "correct horse", "10.0.0.9"); !errors.Is(err, access.ErrBadLogin) {
		t.Fatalf("unknown account: %v", err)
	}
	sess, err := s.Login(ctx, "wang", "correct horse", "10.0.0.9")
	if err != nil {
		t.Fatal(err)
	}
	if sess.ID == "" || sess.CSRF == "" || sess.ID == sess.CSRF || !sess.Expires.Equal(c.Now().Add(access.DefaultSessionTTL)) {
		t.Fatalf("session %+v", sess)
	}
	p, err := s.Session(ctx, sess.ID)
	if err != nil || p.Name != "wang" || p.Role != access.Counter || p.Kind != access.BySession || p.CSRF != sess.CSRF {
		t.Fatalf("Session = %+v, %v", p, err)
	}
	var n int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM access_session WHERE hash = ?`, sess.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("session id stored as given (%d, %v)", n, err)
	}
	if err := access.CheckCSRF(p, ""); !errors.Is(err, access.ErrCSRF) {
		t.Fatalf("no CSRF: %v", err)
	}
	if err := access.CheckCSRF(p, sess.CSRF+"x"); !errors.Is(err, access.ErrCSRF) {
		t.Fatalf("wrong CSRF: %v", err)
	}
	if err := access.CheckCSRF(p, sess.CSRF); err != nil {
		t.Fatalf("right CSRF: %v", err)
	}
	if err := access.CheckCSRF(access.Principal{Kind: access.ByToken}, ""); err != nil {
		t.Fatalf("token needs no CSRF: %v", err)
	}
	if err := s.Logout(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, sess.ID); !errors.Is(err, access.ErrUnauthorized) {
		t.Fatalf("after logout: %v", err)
	}

	// Expiry, and a password change ends the sessions.
	sess, err = s.Login(ctx, "wang", "correct horse", "10.0.0.9")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(access.DefaultSessionTTL - time.Second)
	if _, err := s.Session(ctx, sess.ID); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	c.Add(time.Second)
	if _, err := s.Session(ctx, sess.ID); !errors.Is(err, access.ErrUnauthorized) {
		t.Fatalf("at expiry: %v", err)
	}
	sess, _ = s.Login(ctx, "wang", "correct horse", "10.0.0.9")
	if err := s.SetPassword(ctx, "wang", "battery staple"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, sess.ID); !errors.Is(err, access.ErrUnauthorized) {
		t.Fatalf("after password change: %v", err)
	}
	if _, err := s.Login(ctx, "wang", "battery staple", "10.0.0.9"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword(ctx, "nobody", "battery staple"); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("password of nobody: %v", err)
	}
	if acc, err := s.Accounts(ctx); err != nil || len(acc) != 1 || acc[0].Name != "wang" || acc[0].Role != access.Counter {
		t.Fatalf("Accounts = %v, %v", acc, err)
	}
	if err := s.RemoveAccount(ctx, "wang"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveAccount(ctx, "wang"); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
	if acc, err := s.Accounts(ctx); err != nil || len(acc) != 0 {
		t.Fatalf("Accounts = %v, %v", acc, err)
	}
}

func TestLoginThrottle(t *testing.T) {
	s, _, c := open(t)
	if err := s.AddAccount(ctx, "li", access.Counter, "correct horse"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := s.Login(ctx, "li", "guess", "10.0.0.1"); !errors.Is(err, access.ErrBadLogin) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	// Locked: even the right password is refused, and says how long to wait.
	_, err := s.Login(ctx, "li", "correct horse", "10.0.0.2")
	var e *access.Error
	if !errors.Is(err, access.ErrThrottled) || !errors.As(err, &e) || e.RetryAfter != time.Minute {
		t.Fatalf("locked account: %v", err)
	}
	c.Add(time.Minute)
	if _, err := s.Login(ctx, "li", "guess", "10.0.0.2"); !errors.Is(err, access.ErrBadLogin) {
		t.Fatalf("after lockout: %v", err)
	}
	// The sixth failure in a row doubles the lockout.
	if _, err := s.Login(ctx, "li", "correct horse", "10.0.0.2"); !errors.As(err, &e) || e.RetryAfter != 2*time.Minute {
		t.Fatalf("doubled lockout: %v", err)
	}
	c.Add(2 * time.Minute)
	if _, err := s.Login(ctx, "li", "correct horse", "10.0.0.2"); err != nil {
		t.Fatalf("after the lockout the right password works: %v", err)
	}

	// One address spraying over many accounts is stopped by the address limit.
	for i := range 20 {
		if _, err := s.Login(ctx, "user"+string(rune('a'+i)), "guess", "192.0.2.7"); !errors.Is(err, access.ErrBadLogin) {
			t.Fatalf("spray %d: %v", i, err)
		}
	}
	if _, err := s.Login(ctx, "li", "correct horse", "192.0.2.7"); !errors.Is(err, access.ErrThrottled) {
		t.Fatalf("sprayer's address: %v", err)
	}
	if _, err := s.Login(ctx, "li", "correct horse", "192.0.2.8"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	c.Add(15 * time.Minute)
	if _, err := s.Login(ctx, "li", "correct horse", "192.0.2.7"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestRights(t *testing.T) {
	rights := []access.Right{access.Display, access.ReadQueue, access.Operate, access.Administer, access.ReadFleet, access.Command}
	cases := []struct {
		p    access.Principal
		want []bool
	}{
		{access.Principal{Kind: access.ByDisplay}, []bool{true, false, false, false, false, false}},
		{access.Principal{Kind: access.ByToken, Role: access.Crew}, []bool{true, true, false, false, true, true}},
		{access.Principal{Kind: access.BySession, Role: access.Counter}, []bool{true, true, true, false, false, false}},
		{access.Principal{Kind: access.ByToken, Role: access.Admin}, []bool{true, true, true, true, true, true}},
		{access.Principal{Kind: access.ByToken, Role: "other"}, []bool{false, false, false, false, false, false}},
		{access.Principal{}, []bool{false, false, false, false, false, false}},
	}
	for _, c := range cases {
		for i, r := range rights {
			if got := c.p.May(r); got != c.want[i] {
				t.Errorf("%+v May(%d) = %v", c.p, r, got)
			}
		}
	}
}

func TestDisplayKey(t *testing.T) {
	none, err := access.NewDisplayKey("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := none.Check(""); !errors.Is(err, access.ErrNoDisplayKey) {
		t.Fatalf("no key configured: %v", err)
	}
	if _, err := access.NewDisplayKey("short"); !errors.Is(err, access.ErrInvalid) {
		t.Fatalf("short key: %v", err)
	}
	k, err := access.NewDisplayKey("tv-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := k.Check("tv-key-0123456789"); err != nil || p.Kind != access.ByDisplay || p.May(access.ReadQueue) {
		t.Fatalf("right key: %+v %v", p, err)
	}
	for _, bad := range []string{"", "tv-key-012345678", "tv-key-0123456789x"} {
		if _, err := k.Check(bad); !errors.Is(err, access.ErrUnauthorized) {
			t.Errorf("key %q: %v", bad, err)
		}
	}
}

// A login outlives a restart of halld (the ledger reopened by a new store), so the watchdog or
// an upgrade does not log the counters out.
func TestSessionSurvivesRestart(t *testing.T) {
	s, db, c := open(t)
	if err := s.AddAccount(ctx, "zhao", access.Admin, "correct horse"); err != nil {
		t.Fatal(err)
	}
	sess, err := s.Login(ctx, "zhao", "correct horse", "10.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.CreateToken(ctx, "script", access.Crew)
	if err != nil {
		t.Fatal(err)
	}
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := ledger.Open(path, access.Migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	s2 := access.Open(db2, access.Options{Argon2: testArgon2, Now: c.Now})
	if p, err := s2.Session(ctx, sess.ID); err != nil || p.Name != "zhao" || p.CSRF != sess.CSRF {
		t.Fatalf("session after restart: %+v %v", p, err)
	}
	if p, err := s2.Bearer(ctx, tok); err != nil || p.Role != access.Crew {
		t.Fatalf("token after restart: %+v %v", p, err)
	}
}
