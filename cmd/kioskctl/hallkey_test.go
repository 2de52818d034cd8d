package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/config"
)

// credsEnv makes the real systemd-creds usable by the test without touching the machine: the
// host key lives in the test's directory ($SYSTEMD_CREDENTIAL_SECRET). Skips without
// systemd-creds or root (the host key is root's).
func credsEnv(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(credsTool); err != nil {
		t.Skip("systemd-creds not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("systemd-creds needs root for its host key")
	}
	t.Setenv("SYSTEMD_CREDENTIAL_SECRET", filepath.Join(t.TempDir(), "credential.secret"))
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	sealed := filepath.Join(t.TempDir(), "etc", "hall.key.cred")
	old := civic.SealedKeyFile
	civic.SealedKeyFile = sealed
	t.Cleanup(func() { civic.SealedKeyFile = old })
}

// idHash is what the kiosk stores for a card number under key: equal hashes, equal keys.
func idHash(t *testing.T, key *civic.Key) string {
	t.Helper()
	return string(key.CardHash("3104000012345678"))
}

// hall-key seal moves the key into a credential that opens to the same key, removes the file,
// and the kiosk (given the credential by systemd) and kioskctl (as root) read it from there.
func TestHallKeySeal(t *testing.T) {
	credsEnv(t)
	s := newSetup(t)
	p := s.write(t)
	before, err := civic.LoadKey(s.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := os.ReadFile(s.keyPath)
	hexKey := strings.TrimSpace(string(plain))

	code, out, errs := runCtl([]string{"hall-key", "seal", "-config", p}, "")
	if code != 0 {
		t.Fatalf("seal: %d %q %q", code, out, errs)
	}
	if !strings.Contains(out, "sealed in "+civic.SealedKeyFile) || !strings.Contains(out, s.keyPath+" overwritten and removed") || strings.Contains(out+errs, hexKey) {
		t.Errorf("seal says:\n%s", out)
	}
	if _, err := os.Stat(s.keyPath); !os.IsNotExist(err) {
		t.Errorf("the key file is still there: %v", err)
	}
	cred, err := os.ReadFile(civic.SealedKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(civic.SealedKeyFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("credential mode %v", fi.Mode())
	}
	if bytes.Contains(cred, []byte(hexKey)) || bytes.Contains(cred, []byte(hexKey[:16])) {
		t.Error("the credential holds the key in clear")
	}

	// What systemd hands the unit (LoadCredentialEncrypted=hall.key:...) is the same key.
	ctx := context.Background()
	opened, err := decryptCredential(ctx, civic.SealedKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, civic.CredentialName), opened, 0o400); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	fromCred, err := civic.LoadKey(s.keyPath)
	if err != nil || idHash(t, fromCred) != idHash(t, before) {
		t.Fatalf("the kiosk's key from the credential: %v, or another key", err)
	}
	if _, err := os.Stat(s.keyPath); !os.IsNotExist(err) {
		t.Errorf("the kiosk made a key file again: %v", err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	// Without the credential passed, the kiosk refuses to make a new key.
	if _, err := civic.LoadKey(s.keyPath); err == nil || !strings.Contains(err.Error(), "sealed in") {
		t.Errorf("a start without the credential: %v", err)
	}
	// kioskctl, as root, opens the sealed key for the hall data commands.
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := hallKeyFor(cfg); err != nil || idHash(t, k) != idHash(t, before) {
		t.Errorf("kioskctl's key: %v", err)
	}
	code, out, errs = runCtl([]string{"complaints", "--json", "-config", p}, "")
	if code != 0 {
		t.Errorf("complaints with the sealed key: %d %q %q", code, out, errs)
	}
	// The doctor sees it sealed.
	withProbes(t, nil)
	if _, d := runDoctorJSON(t, p); d.check(t, "hall-key").Status != checkOK || !strings.Contains(d.check(t, "hall-key").Message, "sealed in") {
		t.Errorf("doctor's hall-key: %+v", d.check(t, "hall-key"))
	}

	// Again: nothing to do. With another key: refused, the credential untouched.
	code, out, errs = runCtl([]string{"hall-key", "seal", "-config", p, "--from", "-"}, hexKey+"\n")
	if code != 0 || !strings.Contains(out, "already sealed") {
		t.Errorf("seal again: %d %q %q", code, out, errs)
	}
	code, out, _ = runCtl([]string{"hall-key", "seal", "-config", p, "--from", "-"}, strings.Repeat("0f", civic.KeySize)+"\n")
	if code == 0 || !strings.Contains(out, "another hall key") {
		t.Errorf("seal another key: %d %q", code, out)
	}
	if now, _ := os.ReadFile(civic.SealedKeyFile); !bytes.Equal(now, cred) {
		t.Error("the credential changed")
	}
}

// A key file that is not a key is refused before anything is sealed or removed, and its content
// is not quoted.
func TestHallKeySealRefusesBadKey(t *testing.T) {
	credsEnv(t)
	s := newSetup(t)
	p := s.write(t)
	const bad = "this-is-not-a-hall-key-but-it-is-secret-anyway-0123456789abcdef\n"
	if err := os.WriteFile(s.keyPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCtl([]string{"hall-key", "seal", "-config", p}, "")
	if code == 0 || strings.Contains(out+errs, "secret-anyway") {
		t.Errorf("bad key: %d %q %q", code, out, errs)
	}
	if _, err := os.Stat(civic.SealedKeyFile); !os.IsNotExist(err) {
		t.Errorf("a credential was written: %v", err)
	}
	if b, _ := os.ReadFile(s.keyPath); string(b) != bad {
		t.Error("the key file was changed")
	}
}
