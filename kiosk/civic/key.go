package civic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"citizenhome/mask"
)

// KeySize is the length of the hall key in bytes; the file holds it as 64 hex digits.
const KeySize = 32

// Key is the per-hall secret (privacy.key_file). Identifiers are stored only as HMAC-SHA256
// under a key derived from it, and complaint texts and phone numbers are sealed with AES-256-GCM
// under another derived key, so the database alone reveals no ID number, card number or phone.
//
// A Key never prints: String, GoString and LogValue say "hall key (redacted)". It is safe for
// concurrent use.
type Key struct {
	ident []byte      // HMAC key for identifiers
	aead  cipher.AEAD // complaint texts and phones
}

// Labels separating the derived keys (HKDF-SHA256 info): changing one makes every stored hash or
// sealed field unreadable, so they are fixed forever.
const (
	infoIdent = "citizenhome hall identifier v1"
	infoSeal  = "citizenhome hall seal v1"
)

// NewKey derives the working keys from secret, which must be KeySize bytes (else ErrKey).
func NewKey(secret []byte) (*Key, error) {
	if len(secret) != KeySize {
		return nil, errf(CodeKey, "the hall key must be %d bytes, have %d", KeySize, len(secret))
	}
	ident, err := hkdf.Key(sha256.New, secret, nil, infoIdent, 32)
	if err != nil {
		return nil, fmt.Errorf("hall: derive key: %w", err)
	}
	sealKey, err := hkdf.Key(sha256.New, secret, nil, infoSeal, 32)
	if err != nil {
		return nil, fmt.Errorf("hall: derive key: %w", err)
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("hall: derive key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("hall: derive key: %w", err)
	}
	return &Key{ident: ident, aead: aead}, nil
}

// LoadKey reads the hall key from path, creating it at first use: 32 random bytes written as 64
// hex digits and a newline, mode 0600, in a directory created 0700 if missing. The file appears
// complete or not at all (written aside, then linked into place), so two processes starting
// together end up with the same key.
//
// Errors match ErrKey when the file exists but is unusable: not 64 hex digits, or readable or
// writable by group or others (chmod 600 it: a key anyone can read protects nothing). I/O
// failures are returned as they are, naming the path.
func LoadKey(path string) (*Key, error) {
	k, _, err := OpenKey(path)
	return k, err
}

// OpenKey is LoadKey that also says whether this call created the key file: a new hall key is
// worth a line in the log (stored hashes made under another key no longer match). created is
// false when another process created the file first.
func OpenKey(path string) (k *Key, created bool, err error) {
	if path == "" {
		return nil, false, errf(CodeKey, "no key file configured (privacy.key_file)")
	}
	k, err = readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	err = createKey(path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, false, err
	}
	created = err == nil
	k, err = readKey(path)
	return k, created && err == nil, err
}

func readKey(path string) (*Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("hall: key %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errf(CodeKey, "key %s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, errf(CodeKey, "key %s has mode %04o: it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, 256))
	if err != nil {
		return nil, fmt.Errorf("hall: key %s: %w", path, err)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(secret) != KeySize {
		return nil, errf(CodeKey, "key %s must hold %d hex digits", path, 2*KeySize)
	}
	return NewKey(secret)
}

func createKey(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("hall: key directory: %w", err)
	}
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("hall: random key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".hall-key-*")
	if err != nil {
		return fmt.Errorf("hall: create key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("hall: create key: %w", err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(secret) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("hall: create key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("hall: create key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("hall: create key: %w", err)
	}
	// Link, not rename: it fails when another process created the key first, and never
	// replaces a key that data is already sealed under.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("hall: create key: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the new name survives a power cut
		d.Close()
	}
	return nil
}

// String is redacted.
func (k *Key) String() string { return "hall key (redacted)" }

// Format prints String for every verb: %d or %x would otherwise print the key's bytes.
func (k *Key) Format(f fmt.State, verb rune) { mask.Format(f, verb, k.String()) }

// LogValue is redacted.
func (k *Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Kinds of identifier, hashed apart so that an ID number and a card number that happen to be the
// same string never match each other.
const (
	kindID   = "id"
	kindCard = "card"
)

// hash is the keyed hash stored instead of an identifier; value must already be normalised.
func (k *Key) hash(kind, value string) []byte {
	m := hmac.New(sha256.New, k.ident)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// seal encrypts plain, bound to label (the record and field it belongs to), so that a sealed
// value copied to another record does not open there. The result is nonce || ciphertext.
func (k *Key) seal(plain, label string) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("hall: random nonce: %w", err)
	}
	return k.aead.Seal(nonce, nonce, []byte(plain), []byte(label)), nil
}

// open reverses seal; an error means another key, another label, or damage.
func (k *Key) open(sealed []byte, label string) (string, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n+k.aead.Overhead() {
		return "", errf(CodeKey, "sealed field too short")
	}
	b, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(label))
	if err != nil {
		return "", errf(CodeKey, "sealed field does not open with this hall key")
	}
	return string(b), nil
}
