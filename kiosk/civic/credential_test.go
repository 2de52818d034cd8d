package civic

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dirFiles lists what dir holds, recursively; nil for a missing dir.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

// Under systemd with the credential, the key comes from $CREDENTIALS_DIRECTORY: the key file is
// neither read nor created, and nothing is written anywhere.
func TestKeyFromCredential(t *testing.T) {
	secret := bytes.Repeat([]byte{0x3c}, KeySize)
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, CredentialName), []byte(hex.EncodeToString(secret)+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	data := t.TempDir()
	keyFile := filepath.Join(data, "hall.key")
	k, created, err := OpenKey(keyFile)
	if err != nil || created {
		t.Fatalf("OpenKey: %v created %v", err, created)
	}
	want, err := NewKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k.hash(kindID, "410204198001010016"), want.hash(kindID, "410204198001010016")) {
		t.Error("the credential's key is not the key it holds")
	}
	if got := dirFiles(t, data); len(got) != 1 {
		t.Errorf("written beside the store: %v", got)
	}
	if got := dirFiles(t, creds); len(got) != 2 {
		t.Errorf("written in the credentials directory: %v", got)
	}
	// A key file present as well is ignored: the credential is the key.
	if err := os.WriteFile(keyFile, []byte(strings.Repeat("ab", KeySize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k2, err := LoadKey(keyFile)
	if err != nil || !bytes.Equal(k2.hash(kindCard, "X"), want.hash(kindCard, "X")) {
		t.Errorf("with a key file beside: %v, or the file's key used", err)
	}
}

// Credentials passed without hall.key, or a damaged one: a clear ErrKey, and no key file made.
func TestKeyCredentialMissingOrBad(t *testing.T) {
	creds := t.TempDir()
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	keyFile := filepath.Join(t.TempDir(), "keys", "hall.key")
	_, _, err := OpenKey(keyFile)
	if !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), "none named hall.key") || !strings.Contains(err.Error(), "LoadCredentialEncrypted=hall.key:") {
		t.Errorf("missing credential: %v", err)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was made: %v", err)
	}
	const bad = "not-a-key-0123456789abcdef0123456789abcdef0123456789abcdef012345"
	if err := os.WriteFile(filepath.Join(creds, CredentialName), []byte(bad), 0o400); err != nil {
		t.Fatal(err)
	}
	_, _, err = OpenKey(keyFile)
	if !errors.Is(err, ErrKey) || strings.Contains(err.Error(), bad[:20]) {
		t.Errorf("damaged credential: %v", err)
	}
}

// Without credentials the key file works as before: created at the first start, read after.
func TestKeyFileWithoutCredentials(t *testing.T) {
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	keyFile := filepath.Join(t.TempDir(), "hall.key")
	k1, created, err := OpenKey(keyFile)
	if err != nil || !created {
		t.Fatalf("first start: %v created %v", err, created)
	}
	k2, created, err := OpenKey(keyFile)
	if err != nil || created || !bytes.Equal(k1.hash(kindID, "x"), k2.hash(kindID, "x")) {
		t.Fatalf("second start: %v created %v", err, created)
	}
}

// Once the key is sealed (SealedKeyFile exists) and its file removed, a start without the
// credential is refused instead of making a new key that matches nothing stored.
func TestSealedKeyNotRecreated(t *testing.T) {
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	sealed := filepath.Join(t.TempDir(), "hall.key.cred")
	if err := os.WriteFile(sealed, []byte("sealed"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := SealedKeyFile
	SealedKeyFile = sealed
	t.Cleanup(func() { SealedKeyFile = old })
	keyFile := filepath.Join(t.TempDir(), "hall.key")
	_, _, err := OpenKey(keyFile)
	if !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), "sealed in "+sealed) {
		t.Errorf("sealed, no credential: %v", err)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a new key file was made: %v", err)
	}
	// The demo's own key (OpenKeyFile) is not the hall's: it is still made.
	if _, created, err := OpenKeyFile(keyFile); err != nil || !created {
		t.Errorf("OpenKeyFile: %v %v", created, err)
	}
}

// BenchmarkHashID is the rate at which whoever holds the hall key and the store tries ID numbers
// against the stored hashes (docs/security.md: why the key must not sit beside the store).
func BenchmarkHashID(b *testing.B) {
	k, err := NewKey(bytes.Repeat([]byte{0x5a}, KeySize))
	if err != nil {
		b.Fatal(err)
	}
	id := []byte("410204198001010016")
	for i := 0; b.Loop(); i++ {
		id[14], id[15], id[16] = byte('0'+i%10), byte('0'+i/10%10), byte('0'+i/100%10)
		k.hash(kindID, string(id))
	}
}
