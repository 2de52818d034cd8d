package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/settings"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func mustLoad(t *testing.T, path string) settings.Config {
	t.Helper()
	c, err := settings.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The operator's commands, run as an operator runs them: the built binary on a configuration.
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "halld")
	buildOne(t, bin, ".")
	cfg, _ := hallConfig(t, dir, "tcp://127.0.0.1:1", mqtttest.NewEnv("cli", "k1"), 10)
	run := func(stdin string, args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	if out, code := run("", "check-config", cfg); code != 0 || !strings.Contains(out, "6 categories, 1 windows") {
		t.Fatalf("check-config: %d %s", code, out)
	}
	bad := filepath.Join(dir, "bad.toml")
	writeFile(t, bad, "[rules]\nmax_recalls = \"three\"\n[[window]]\nid = \"9\"\ncategories = [\"Q\"]\n")
	out, code := run("", "check-config", bad)
	if code != 1 || !strings.Contains(out, "bad.toml:2") || !strings.Contains(out, "max_recalls") || !strings.Contains(out, "window") {
		t.Errorf("a bad file: exit %d, want 1 with every problem by line and key:\n%s", code, out)
	}

	out, code = run("", "token", "create", "--role", "counter", "--name", "window-3", "-config", cfg)
	tok := strings.TrimSpace(strings.Split(out, "\n")[0])
	if code != 0 || len(tok) < 20 {
		t.Fatalf("token create: %d %q", code, out)
	}
	if out, code = run("", "token", "create", "--role", "counter", "--name", "window-3", "-config", cfg); code == 0 {
		t.Errorf("a second token of one name was made: %s", out)
	}
	if out, code = run("", "token", "create", "--role", "boss", "--name", "x", "-config", cfg); code != 2 {
		t.Errorf("unknown role: exit %d, want 2 (usage)\n%s", code, out)
	}
	if out, _ = run("", "token", "list", "-config", cfg); !strings.Contains(out, "window-3\tcounter") || strings.Contains(out, tok) {
		t.Errorf("token list shows %q (want the name and role, never the token)", out)
	}
	if _, code = run("", "token", "revoke", "window-3", "-config", cfg); code != 0 {
		t.Error("revoke failed")
	}
	if out, _ = run("", "token", "list", "-config", cfg); strings.Contains(out, "window-3") {
		t.Errorf("revoked token still listed: %s", out)
	}

	if out, code = run("a long enough password\n", "user", "add", "wang", "--role", "counter", "-config", cfg); code != 0 {
		t.Fatalf("user add: %d %s", code, out)
	}
	if out, _ = run("", "user", "list", "-config", cfg); !strings.Contains(out, "wang\tcounter") {
		t.Errorf("user list: %q", out)
	}
	if out, code = run("", "user", "add", "li", "--role", "counter", "-config", cfg); code == 0 {
		t.Errorf("a user without a password was added: %s", out)
	}
	// The hall's command key: halld makes it at its first start; before, command-key says so
	// and makes nothing (a file made by root would be unreadable to halld).
	keyFile := filepath.Join(dir, "command.key")
	if out, code = run("", "command-key", "-config", cfg); code != 1 || !strings.Contains(out, "first start") || fileExists(keyFile) {
		t.Errorf("command-key before the first start: %d %s", code, out)
	}
	ckey, err := commandKey(mustLoad(t, cfg), true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("command key file: %v %v", fi, err)
	}
	out, code = run("", "command-key", "-config", cfg)
	pub, err := wire.ParseCommandKey(out)
	if code != 0 || err != nil || !pub.Equal(ckey.Public()) {
		t.Errorf("command-key: %d %q %v", code, out, err)
	}
	if out, code = run("", "frobnicate"); code != 2 || !strings.Contains(out, "usage") {
		t.Errorf("unknown command: %d %s", code, out)
	}

	// Passwords, disabling, and the audit of it all, checked in the ledger the commands wrote.
	login := func(pw string) error {
		t.Helper()
		c, err := settings.Load(cfg)
		if err != nil {
			t.Fatal(err)
		}
		db, err := openLedger(c.Store.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, err = access.Open(db, access.Options{}).Login(context.Background(), "wang", pw, "10.0.0.9")
		return err
	}
	if out, code = run("a new long password\n", "user", "passwd", "wang", "-config", cfg); code != 0 {
		t.Fatalf("user passwd: %d %s", code, out)
	}
	if err := login("a long enough password"); !errors.Is(err, access.ErrBadLogin) {
		t.Errorf("the old password after passwd: %v", err)
	}
	if err := login("a new long password"); err != nil {
		t.Errorf("the new password: %v", err)
	}
	if out, code = run("", "user", "passwd", "wang", "-config", cfg); code == 0 {
		t.Errorf("passwd without a password: %s", out)
	}
	if out, code = run("short\n", "user", "passwd", "wang", "-config", cfg); code != 1 || !strings.Contains(out, "password") {
		t.Errorf("passwd with a short password: %d %s", code, out)
	}
	if out, code = run("", "user", "disable", "wang", "-config", cfg); code != 0 {
		t.Fatalf("user disable: %d %s", code, out)
	}
	if out, _ = run("", "user", "list", "-config", cfg); !strings.Contains(out, "wang\tcounter\tdisabled 20") {
		t.Errorf("user list of a disabled account: %q", out)
	}
	if err := login("a new long password"); !errors.Is(err, access.ErrDisabled) {
		t.Errorf("login of a disabled account: %v", err)
	}
	if out, code = run("", "user", "enable", "wang", "-config", cfg); code != 0 {
		t.Fatalf("user enable: %d %s", code, out)
	}
	if out, _ = run("", "user", "list", "-config", cfg); !strings.Contains(out, "wang\tcounter\tenabled\n") {
		t.Errorf("user list of an enabled account: %q", out)
	}
	if err := login("a new long password"); err != nil {
		t.Errorf("login once enabled: %v", err)
	}
	if out, code = run("", "user", "disable", "nobody", "-config", cfg); code != 1 || !strings.Contains(out, "nobody") {
		t.Errorf("disable nobody: %d %s", code, out)
	}
	if out, code = run("", "user", "disable", "-config", cfg); code != 2 {
		t.Errorf("disable without a name: %d %s", code, out)
	}

	out, code = run("", "audit", "-config", cfg)
	if code != 0 {
		t.Fatalf("audit: %d %s", code, out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var got []string
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != 8 {
			t.Fatalf("audit line of %d fields: %q", len(f), l)
		}
		if _, err := time.Parse(time.RFC3339, f[0]); err != nil {
			t.Errorf("audit time %q: %v", f[0], err)
		}
		if f[3] != access.ActLogin && (!strings.HasPrefix(f[1], "cli:") || len(f[1]) < 5 || f[7] != "local") {
			t.Errorf("a command's entry not by the operator: %q", l)
		}
		got = append(got, f[3]+" "+f[4]+" "+f[6])
	}
	want := []string{ // newest first
		"login  ok", "account-enable wang ok", "login  disabled", "account-disable wang ok",
		"login  ok", "login  bad-login", "password-set wang ok", "account-add wang ok",
		"token-revoke window-3 ok", "token-create window-3 ok",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audit:\n%s\nwant (action target outcome)\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if out, _ = run("", "audit", "--limit", "1", "-config", cfg); strings.Count(out, "\n") != 1 || !strings.Contains(out, "\tlogin\t") {
		t.Errorf("audit --limit 1: %q", out)
	}
	tomorrow := time.Now().Add(48 * time.Hour).Format(time.DateOnly)
	if out, code = run("", "audit", "--since", tomorrow, "-config", cfg); code != 0 || out != "" {
		t.Errorf("audit --since %s: %d %q", tomorrow, code, out)
	}
	yesterday := time.Now().Add(-48 * time.Hour).Format(time.DateOnly)
	if out, code = run("", "audit", "--since", yesterday, "-config", cfg); code != 0 || strings.Count(out, "\n") != len(want) {
		t.Errorf("audit --since %s: %d %q", yesterday, code, out)
	}
	if out, code = run("", "audit", "--since", "yesterday", "-config", cfg); code != 2 {
		t.Errorf("audit --since yesterday: %d %s", code, out)
	}
}
