package access_test

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"citizenhome/hall/access"
	"citizenhome/hall/ledger"
	"citizenhome/hall/ledger/ledgertest"
)

// storedPHC is the PHC string of account name.
func storedPHC(t *testing.T, db *ledger.DB, name string) string {
	t.Helper()
	var phc string
	if err := db.SQL().QueryRow(`SELECT coalesce(phc, '') FROM access_account WHERE name = ?`, name).Scan(&phc); err != nil {
		t.Fatal(err)
	}
	return phc
}

// checkPHC verifies phc with x/crypto directly, not through the package: the string is the
// standard form another tool can read.
func checkPHC(t *testing.T, phc, password string, m, tm uint32, p uint8) {
	t.Helper()
	f := strings.Split(phc, "$")
	if len(f) != 6 || f[1] != "argon2id" || f[2] != "v=19" || f[3] != fmt.Sprintf("m=%d,t=%d,p=%d", m, tm, p) {
		t.Fatalf("stored %q, want $argon2id$v=19$m=%d,t=%d,p=%d$...", phc, m, tm, p)
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(f[4])
	key, err2 := base64.RawStdEncoding.DecodeString(f[5])
	if err1 != nil || err2 != nil || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("stored %q: salt %x (%v), key %x (%v)", phc, salt, err1, key, err2)
	}
	if want := argon2.IDKey([]byte(password), salt, tm, m, p, 32); string(want) != string(key) {
		t.Fatalf("stored %q is not argon2id of the password", phc)
	}
}

func TestArgon2idStored(t *testing.T) {
	s, db, _ := open(t)
	if err := s.AddAccount(ctx, "wang", access.Counter, "correct horse"); err != nil {
		t.Fatal(err)
	}
	first := storedPHC(t, db, "wang")
	checkPHC(t, first, "correct horse", 64, 1, 1)
	if err := s.SetPassword(ctx, "wang", "battery staple"); err != nil {
		t.Fatal(err)
	}
	second := storedPHC(t, db, "wang")
	checkPHC(t, second, "battery staple", 64, 1, 1)
	if strings.Split(first, "$")[4] == strings.Split(second, "$")[4] {
		t.Fatal("a new password kept the old salt")
	}
	if _, err := s.Login(ctx, "wang", "correct horse", "10.0.0.9"); !errors.Is(err, access.ErrBadLogin) {
		t.Fatalf("old password: %v", err)
	}
	if _, err := s.Login(ctx, "wang", "battery staple", "10.0.0.9"); err != nil {
		t.Fatalf("new password: %v", err)
	}

	// Zero options hash at RFC 9106's second recommended option.
	s2 := access.Open(db, access.Options{})
	if err := s2.AddAccount(ctx, "li", access.Crew, "correct horse"); err != nil {
		t.Fatal(err)
	}
	checkPHC(t, storedPHC(t, db, "li"), "correct horse", 64*1024, 3, 4)
}

// A ledger of before access-2 holds PBKDF2 hashes: its accounts log in after the upgrade of
// halld, and each is rehashed with argon2id at its first login.
func TestPBKDF2Upgrade(t *testing.T) {
	old := ledgertest.Open(t, access.Migrations[:1])
	salt := []byte("0123456789abcdef")
	key, err := pbkdf2.Key(sha256.New, "correct horse", salt, 1000, 32)
	if err != nil {
		t.Fatal(err)
	}
	// Written as access-1's AddAccount wrote it, with a session open.
	if _, err := old.SQL().Exec(`INSERT INTO access_account (name, role, salt, hash, iterations, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		"zhao", "admin", salt, key, 1000, time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC).Unix()); err != nil {
		t.Fatal(err)
	}
	path := old.Path()
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := ledger.Open(path, access.Migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &clock{t: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)}
	s := access.Open(db, access.Options{Argon2: testArgon2, Now: c.Now})

	if acc, err := s.Accounts(ctx); err != nil || len(acc) != 1 || acc[0].Name != "zhao" || !acc[0].Disabled.IsZero() {
		t.Fatalf("Accounts after the migration: %+v, %v", acc, err)
	}
	if _, err := s.Login(ctx, "zhao", "correct horsE", "10.0.0.9"); !errors.Is(err, access.ErrBadLogin) {
		t.Fatalf("wrong password: %v", err)
	}
	if phc := storedPHC(t, db, "zhao"); phc != "" {
		t.Fatalf("a failed login rehashed: %q", phc)
	}
	sess, err := s.Login(ctx, "zhao", "correct horse", "10.0.0.9")
	if err != nil {
		t.Fatalf("PBKDF2 account: %v", err)
	}
	if p, err := s.Session(ctx, sess.ID); err != nil || p.Name != "zhao" || p.Role != access.Admin {
		t.Fatalf("Session = %+v, %v", p, err)
	}
	checkPHC(t, storedPHC(t, db, "zhao"), "correct horse", 64, 1, 1)
	var oldSalt, oldHash []byte
	var iter int
	if err := db.SQL().QueryRow(`SELECT salt, hash, iterations FROM access_account`).Scan(&oldSalt, &oldHash, &iter); err != nil {
		t.Fatal(err)
	}
	if len(oldSalt)+len(oldHash)+iter != 0 {
		t.Fatalf("the PBKDF2 hash is still stored: %x %x %d", oldSalt, oldHash, iter)
	}
	log, err := s.AuditLog(ctx, time.Time{}, 1)
	if err != nil || len(log) != 1 || log[0].Outcome != access.OutcomeOK || log[0].Detail != "password rehashed (argon2id)" {
		t.Fatalf("audit of the upgrade: %+v, %v", log, err)
	}
	// Now argon2id: the next login checks it and rehashes nothing.
	before := storedPHC(t, db, "zhao")
	if _, err := s.Login(ctx, "zhao", "correct horse", "10.0.0.9"); err != nil {
		t.Fatal(err)
	}
	if storedPHC(t, db, "zhao") != before {
		t.Fatal("rehashed again at the same parameters")
	}
	if log, _ := s.AuditLog(ctx, time.Time{}, 1); log[0].Detail != "" {
		t.Fatalf("second login's audit: %+v", log[0])
	}

	// A store of other argon2id parameters (halld's defaults raised) rehashes at the next login.
	raised := access.Argon2{Time: 2, Memory: 128, Threads: 2}
	s2 := access.Open(db, access.Options{Argon2: raised, Now: c.Now})
	if _, err := s2.Login(ctx, "zhao", "correct horse", "10.0.0.9"); err != nil {
		t.Fatal(err)
	}
	checkPHC(t, storedPHC(t, db, "zhao"), "correct horse", 128, 2, 2)
}

func TestDisableAccount(t *testing.T) {
	s, _, c := open(t)
	for _, n := range []string{"li", "wang"} {
		if err := s.AddAccount(ctx, n, access.Crew, "correct horse"); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := s.Login(ctx, "li", "correct horse", "10.0.0.1")
	b, _ := s.Login(ctx, "li", "correct horse", "10.0.0.2")
	other, _ := s.Login(ctx, "wang", "correct horse", "10.0.0.3")
	c.Add(time.Minute)
	if err := s.DisableAccount(ctx, "li"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.ID, b.ID} {
		if _, err := s.Session(ctx, id); !errors.Is(err, access.ErrUnauthorized) {
			t.Fatalf("a session of the disabled account: %v", err)
		}
	}
	if _, err := s.Session(ctx, other.ID); err != nil {
		t.Fatalf("another account's session: %v", err)
	}
	acc, err := s.Accounts(ctx)
	if err != nil || len(acc) != 2 || !acc[0].Disabled.Equal(c.Now()) || !acc[1].Disabled.IsZero() {
		t.Fatalf("Accounts = %+v, %v", acc, err)
	}
	// A wrong password learns nothing: a plain bad login.
	if _, err := s.Login(ctx, "li", "wrong horse", "10.0.0.1"); !errors.Is(err, access.ErrBadLogin) || errors.Is(err, access.ErrDisabled) {
		t.Fatalf("wrong password of a disabled account: %v", err)
	}
	// The right one is told, and is still a refused login for callers that know only ErrBadLogin.
	_, err = s.Login(ctx, "li", "correct horse", "10.0.0.1")
	if !errors.Is(err, access.ErrDisabled) || !errors.Is(err, access.ErrBadLogin) || !strings.Contains(err.Error(), "disabled") {
		t.Fatalf("right password of a disabled account: %v", err)
	}
	if errors.Is(access.ErrBadLogin, access.ErrDisabled) {
		t.Fatal("a bad login reads as a disabled account")
	}
	if err := s.DisableAccount(ctx, "li"); err != nil {
		t.Fatalf("disabling twice: %v", err)
	}
	if err := s.EnableAccount(ctx, "li"); err != nil {
		t.Fatal(err)
	}
	if err := s.EnableAccount(ctx, "li"); err != nil {
		t.Fatalf("enabling twice: %v", err)
	}
	sess, err := s.Login(ctx, "li", "correct horse", "10.0.0.1")
	if err != nil {
		t.Fatalf("enabled again, with its old password: %v", err)
	}
	if _, err := s.Session(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, a.ID); !errors.Is(err, access.ErrUnauthorized) {
		t.Fatalf("a session ended by the disabling came back: %v", err)
	}
	if acc, _ := s.Accounts(ctx); !acc[0].Disabled.IsZero() {
		t.Fatalf("enabled account listed as disabled: %+v", acc[0])
	}
	for _, f := range []func(string) error{
		func(n string) error { return s.DisableAccount(ctx, n) },
		func(n string) error { return s.EnableAccount(ctx, n) },
	} {
		if err := f("nobody"); !errors.Is(err, access.ErrNotFound) {
			t.Fatalf("nobody: %v", err)
		}
	}
}

// A password change ends every session of that account, and only of that account.
func TestSetPasswordEndsSessions(t *testing.T) {
	s, _, _ := open(t)
	for _, n := range []string{"li", "wang"} {
		if err := s.AddAccount(ctx, n, access.Counter, "correct horse"); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := s.Login(ctx, "li", "correct horse", "10.0.0.1")
	b, _ := s.Login(ctx, "li", "correct horse", "10.0.0.2")
	other, _ := s.Login(ctx, "wang", "correct horse", "10.0.0.3")
	if err := s.SetPassword(ctx, "li", "battery staple"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.ID, b.ID} {
		if _, err := s.Session(ctx, id); !errors.Is(err, access.ErrUnauthorized) {
			t.Fatalf("a session after its password changed: %v", err)
		}
	}
	if _, err := s.Session(ctx, other.ID); err != nil {
		t.Fatalf("another account's session: %v", err)
	}
	if log, _ := s.AuditLog(ctx, time.Time{}, 1); log[0].Action != access.ActPassword || log[0].Detail != "2 sessions ended" {
		t.Fatalf("audit: %+v", log[0])
	}
}

type row struct {
	who, role, action, target, detail, outcome, addr string
}

func rows(log []access.Entry) []row {
	var out []row
	for _, e := range log {
		out = append(out, row{e.Who, string(e.Role), e.Action, e.Target, e.Detail, e.Outcome, e.Addr})
	}
	return out
}

func TestAudit(t *testing.T) {
	s, _, c := open(t)
	start := c.Now()
	cli := access.WithActor(ctx, access.Actor{Who: "cli:root", Addr: "local"})
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		c.Add(time.Second)
	}
	_, err := s.CreateToken(cli, "window-3", access.Counter)
	step("create token", err)
	if _, err := s.CreateToken(cli, "window-3", access.Counter); !errors.Is(err, access.ErrExists) {
		t.Fatalf("second token: %v", err) // refused: not audited (nothing happened)
	}
	step("revoke token", s.RevokeToken(cli, "window-3"))
	step("add", s.AddAccount(cli, "li", access.Crew, "correct horse"))
	step("passwd", s.SetPassword(cli, "li", "battery staple"))
	// A password typed into the name box, and a wrong password for a real account.
	if _, err := s.Login(ctx, "battery staple", "li", "10.0.0.7"); !errors.Is(err, access.ErrBadLogin) {
		t.Fatal(err)
	}
	c.Add(time.Second)
	if _, err := s.Login(ctx, "li", "correct horse", "10.0.0.7"); !errors.Is(err, access.ErrBadLogin) {
		t.Fatal(err)
	}
	c.Add(time.Second)
	sess, err := s.Login(ctx, "li", "battery staple", "10.0.0.7")
	step("login", err)
	web := access.WithActor(ctx, access.Actor{Who: "li", Role: access.Crew, Addr: "10.0.0.7"})
	step("console", s.Audit(web, access.Entry{Who: "li", Role: access.Crew, Action: "kiosk-lock", Target: "k3",
		Detail: "暂停服务", Outcome: access.OutcomeOK, Addr: "10.0.0.7"}))
	step("logout", s.Logout(web, sess.ID))
	step("second logout", s.Logout(web, sess.ID)) // no session: not audited
	step("disable", s.DisableAccount(cli, "li"))
	if _, err := s.Login(ctx, "li", "battery staple", "10.0.0.7"); !errors.Is(err, access.ErrDisabled) {
		t.Fatal(err)
	}
	c.Add(time.Second)
	step("enable", s.EnableAccount(cli, "li"))
	step("remove", s.RemoveAccount(ctx, "li")) // no actor

	log, err := s.AuditLog(ctx, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []row{ // newest first
		{access.SystemName, "", access.ActAccountRemove, "li", "0 sessions ended", "ok", ""},
		{"cli:root", "", access.ActEnable, "li", "", "ok", "local"},
		{"li", "crew", access.ActLogin, "", "", "disabled", "10.0.0.7"},
		{"cli:root", "", access.ActDisable, "li", "0 sessions ended", "ok", "local"},
		{"li", "crew", access.ActLogout, "", "", "ok", "10.0.0.7"},
		{"li", "crew", "kiosk-lock", "k3", "暂停服务", "ok", "10.0.0.7"},
		{"li", "crew", access.ActLogin, "", "", "ok", "10.0.0.7"},
		{"li", "crew", access.ActLogin, "", "", "bad-login", "10.0.0.7"},
		{access.UnknownName, "", access.ActLogin, "", "", "bad-login", "10.0.0.7"},
		{"cli:root", "", access.ActPassword, "li", "0 sessions ended", "ok", "local"},
		{"cli:root", "", access.ActAccountAdd, "li", "role crew", "ok", "local"},
		{"cli:root", "", access.ActTokenRevoke, "window-3", "", "ok", "local"},
		{"cli:root", "", access.ActTokenCreate, "window-3", "role counter", "ok", "local"},
	}
	got := rows(log)
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v\nwant       %+v", i, got[i], want[i])
		}
	}
	for i, e := range log {
		if i > 0 && e.At.After(log[i-1].At) {
			t.Errorf("entry %d at %v is newer than the one before it", i, e.At)
		}
		for _, pw := range []string{"correct horse", "battery staple"} {
			if strings.Contains(fmt.Sprintf("%+v", e), pw) {
				t.Errorf("a password in the audit: %+v", e)
			}
		}
	}
	if !log[len(log)-1].At.Equal(start) {
		t.Errorf("first entry at %v, want %v", log[len(log)-1].At, start)
	}

	// since and limit.
	recent, err := s.AuditLog(ctx, start.Add(10*time.Second), 0)
	if err != nil || len(recent) != 4 || recent[3].Action != access.ActDisable {
		t.Fatalf("since: %+v, %v", rows(recent), err)
	}
	two, err := s.AuditLog(ctx, start, 2)
	if err != nil || len(two) != 2 || rows(two)[0] != want[0] || rows(two)[1] != want[1] {
		t.Fatalf("limit: %+v, %v", rows(two), err)
	}

	if err := s.Audit(ctx, access.Entry{Who: "li"}); !errors.Is(err, access.ErrInvalid) {
		t.Fatalf("no action: %v", err)
	}
	long := strings.Repeat("长", 1000) // 3000 bytes
	if err := s.Audit(ctx, access.Entry{Action: "note", Detail: long, Target: long}); err != nil {
		t.Fatal(err)
	}
	e, _ := s.AuditLog(ctx, time.Time{}, 1)
	if len(e[0].Detail) > 1024 || len(e[0].Target) > 128 || !strings.HasSuffix(e[0].Detail, "长…") || !strings.HasSuffix(e[0].Target, "长…") {
		t.Fatalf("long values stored as %d and %d bytes: %q", len(e[0].Detail), len(e[0].Target), e[0].Target)
	}
}

// The failure that starts a lockout says so; refusals while locked are not written (they cost
// the sender nothing, so they could fill the ledger).
func TestAuditLockout(t *testing.T) {
	s, _, _ := open(t)
	if err := s.AddAccount(ctx, "li", access.Counter, "correct horse"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := s.Login(ctx, "li", "guess", "10.0.0.1"); !errors.Is(err, access.ErrBadLogin) {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := s.Login(ctx, "li", "guess", "10.0.0.1"); !errors.Is(err, access.ErrThrottled) {
			t.Fatal(err)
		}
	}
	log, err := s.AuditLog(ctx, time.Time{}, 0)
	if err != nil || len(log) != 6 { // account-add and five failures
		t.Fatalf("%d entries, %v: %+v", len(log), err, rows(log))
	}
	if log[0].Detail != "locked out for 1m0s" || log[1].Detail != "" || log[0].Outcome != "bad-login" {
		t.Fatalf("lockout: %+v", rows(log[:2]))
	}
}

func TestAuditRetention(t *testing.T) {
	db := ledgertest.Open(t, access.Migrations)
	c := &clock{t: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)}
	s := access.Open(db, access.Options{Argon2: testArgon2, Now: c.Now, AuditRetention: 48 * time.Hour})
	forever := access.Open(db, access.Options{Argon2: testArgon2, Now: c.Now, AuditRetention: -1})
	note := func(s *access.Store, what string) {
		t.Helper()
		if err := s.Audit(ctx, access.Entry{Action: "note", Detail: what}); err != nil {
			t.Fatal(err)
		}
	}
	details := func() (out []string) {
		log, err := s.AuditLog(ctx, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range log {
			out = append(out, e.Detail)
		}
		return out
	}
	note(s, "first")
	c.Add(47 * time.Hour)
	note(forever, "kept store") // a store with no retention prunes nothing
	c.Add(2 * time.Hour)
	note(forever, "kept store again")
	if got := fmt.Sprint(details()); got != "[kept store again kept store first]" {
		t.Fatalf("without retention: %s", got)
	}
	note(s, "second") // 49 h on: the first is older than 48 h
	if got := fmt.Sprint(details()); got != "[second kept store again kept store]" {
		t.Fatalf("after the retention: %s", got)
	}
}

// Logins at once wait for their turn at the hasher and all succeed (run with -race).
func TestConcurrentLogins(t *testing.T) {
	db := ledgertest.Open(t, access.Migrations)
	s := access.Open(db, access.Options{Argon2: testArgon2, HashConcurrency: 1})
	for i := range 4 {
		if err := s.AddAccount(ctx, fmt.Sprint("w", i), access.Counter, "correct horse"); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			_, err := s.Login(ctx, fmt.Sprint("w", i%4), "correct horse", fmt.Sprint("10.0.0.", i))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if log, err := s.AuditLog(ctx, time.Time{}, 0); err != nil || len(log) != 20 {
		t.Fatalf("%d entries, %v", len(log), err)
	}
}

// BenchmarkLogin measures a login at halld's parameters (DefaultArgon2): a right password, and
// an unknown account, which must cost the same (it is checked against a dummy hash).
//
//	go test -run '^$' -bench Login -benchtime 20x ./hall/access/
func BenchmarkLogin(b *testing.B) {
	db := ledgertest.Open(b, access.Migrations)
	s := access.Open(db, access.Options{Throttle: access.ThrottleOptions{PerAccount: 1 << 30, PerAddress: 1 << 30}})
	if err := s.AddAccount(ctx, "wang", access.Counter, "correct horse"); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ bench, name, pw string }{
		{"right", "wang", "correct horse"},
		{"wrong", "wang", "wrong horse"},
		{"unknown", "nobody", "correct horse"},
	} {
		b.Run(c.bench, func(b *testing.B) {
			for b.Loop() {
				_, err := s.Login(ctx, c.name, c.pw, "10.0.0.1")
				if (err == nil) != (c.bench == "right") {
					b.Fatal(err)
				}
			}
		})
	}
}
