package seal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Values sealed by kiosk/civic's own code before this package existed (secret 32 × 0x5a): the
// complaints of kiosks in service must still open after the move.
var legacy = []struct{ hex, plain, label string }{
	{"5b79b31715f458d82eed59e2769f88faad9e10d2d71e64dde1a159ff134b1c32bcd31747c1c33c", "13800138000", "complaint:TS1:phone"},
	{"031927a72e1904e04af618101cb136ab106b0df0355c7ceac347d191ac882880e8055bb934ac9454129fe0912621825d12c55d4fcdb12f04c35ff69f099b77065010f5d5013b", "窗口办事员态度差，等了很久。", "complaint:TS1:text"},
}

func legacyKey(t *testing.T) *Key {
	t.Helper()
	k, err := NewKey(bytes.Repeat([]byte{0x5a}, SecretSize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestOpensValuesSealedBeforeTheMove(t *testing.T) {
	k := legacyKey(t)
	for _, l := range legacy {
		b, err := hex.DecodeString(l.hex)
		if err != nil {
			t.Fatal(err)
		}
		got, err := k.Open(b, l.label)
		if err != nil || got != l.plain {
			t.Errorf("%s: %q, %v; want %q", l.label, got, err, l.plain)
		}
	}
}

func TestSealBindsToLabelAndKey(t *testing.T) {
	k := legacyKey(t)
	s, err := k.Seal("13800138000", "order:1:phone")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s, []byte("13800138000")) {
		t.Fatal("the sealed value holds the plain text")
	}
	again, _ := k.Seal("13800138000", "order:1:phone")
	if bytes.Equal(s, again) {
		t.Error("one value sealed twice gives the same bytes: equal phones could be told apart")
	}
	if got, err := k.Open(s, "order:1:phone"); err != nil || got != "13800138000" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := k.Open(s, "order:2:phone"); !errors.Is(err, ErrSealed) {
		t.Errorf("opened under another label: %v", err)
	}
	other, _ := NewKey(bytes.Repeat([]byte{1}, SecretSize))
	if _, err := other.Open(s, "order:1:phone"); !errors.Is(err, ErrSealed) {
		t.Errorf("opened under another key: %v", err)
	}
	if _, err := k.Open(s[:5], "order:1:phone"); !errors.Is(err, ErrSealed) {
		t.Errorf("opened a truncated value: %v", err)
	}
	flipped := bytes.Clone(s)
	flipped[len(flipped)-1] ^= 1
	if _, err := k.Open(flipped, "order:1:phone"); !errors.Is(err, ErrSealed) {
		t.Errorf("opened an altered value: %v", err)
	}
	if _, err := k.Open(s, "order:1:phone"); errors.Is(err, ErrKey) {
		t.Error("ErrSealed and ErrKey are not told apart")
	}
	for _, n := range []int{0, 16, 33} {
		if _, err := NewKey(make([]byte, n)); !errors.Is(err, ErrKey) {
			t.Errorf("%d-byte secret: %v", n, err)
		}
	}
	empty, err := k.Seal("", "x")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.Open(empty, "x"); err != nil || got != "" {
		t.Errorf("empty value: %q %v", got, err)
	}
}

func TestKeyNeverPrints(t *testing.T) {
	k := legacyKey(t)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("k", "key", k)
	outs := []string{logged.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		outs = append(outs, fmt.Sprintf(verb, k), fmt.Sprintf(verb, struct{ K *Key }{k}))
	}
	for _, o := range outs {
		if !strings.Contains(o, "redacted") || strings.Contains(o, "aead") || strings.Contains(o, "0x") {
			t.Errorf("key printed as %q", o)
		}
	}
}

func TestLoadSecretCreatesOnceAndChecks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "hall.key")
	secrets := make([][]byte, 6)
	var created atomic.Int32
	var wg sync.WaitGroup
	for i := range secrets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, c, err := LoadSecret(path)
			if err != nil {
				t.Error(err)
			}
			if c {
				created.Add(1)
			}
			secrets[i] = s
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if created.Load() != 1 {
		t.Errorf("%d callers created the secret, want 1", created.Load())
	}
	for _, s := range secrets[1:] {
		if !bytes.Equal(s, secrets[0]) || len(s) != SecretSize {
			t.Fatal("two different secrets were created")
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %04o, want 0700", di.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if string(b) != hex.EncodeToString(secrets[0])+"\n" {
		t.Errorf("file %q: want 64 hex digits and a newline", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "sub", ".hall-key-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	again, c, err := LoadSecret(path)
	if err != nil || c || !bytes.Equal(again, secrets[0]) {
		t.Fatalf("reloading: created %v, %v, same %v", c, err, bytes.Equal(again, secrets[0]))
	}

	bad := filepath.Join(dir, "bad.key")
	for name, f := range map[string]struct {
		data string
		mode os.FileMode
	}{
		"group-readable": {strings.Repeat("ab", SecretSize) + "\n", 0o640},
		"short":          {"abcd\n", 0o600},
		"not hex":        {strings.Repeat("zz", SecretSize), 0o600},
	} {
		os.Remove(bad)
		if err := os.WriteFile(bad, []byte(f.data), f.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(bad, f.mode)
		if _, _, err := LoadSecret(bad); !errors.Is(err, ErrKey) {
			t.Errorf("%s: err = %v, want ErrKey", name, err)
		}
		if got, _ := os.ReadFile(bad); string(got) != f.data {
			t.Errorf("%s: the bad file was changed", name)
		}
	}
	if _, _, err := LoadSecret(dir); !errors.Is(err, ErrKey) {
		t.Errorf("a directory: %v", err)
	}
	if _, _, err := LoadSecret(""); !errors.Is(err, ErrKey) {
		t.Errorf("empty path: %v", err)
	}
}
