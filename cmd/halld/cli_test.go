package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"citizenhome/telemetry/mqtttest"
)

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
	if out, code = run("", "frobnicate"); code != 2 || !strings.Contains(out, "usage") {
		t.Errorf("unknown command: %d %s", code, out)
	}
}
