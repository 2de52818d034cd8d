// Package seal keeps short personal data (a phone number, a complaint's text) unreadable at
// rest: AES-256-GCM under a key derived by HKDF-SHA256 from the hall's secret, each value bound
// to a label naming the record and field it belongs to, so that a sealed value copied to another
// record does not open there. The kiosk's records (kiosk/civic) and the hall's work orders
// (hall/followup) seal the same way with it, under the same secret file.
//
// The derivation (HKDF-SHA256, no salt, info Info) and the format (nonce || ciphertext || tag,
// the label as additional data) are fixed forever: values sealed by any earlier version still
// open.
//
// A leaf: the standard library only, nothing of the module.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
)

// SecretSize is the length of the hall's secret in bytes (SecretFile holds it as 64 hex digits).
const SecretSize = 32

// Info is the HKDF label of the sealing key. Other keys derived from the same secret (the
// kiosk's identifier hashes) use other labels, so no two uses share a key. Changing it makes
// every sealed value unreadable.
const Info = "citizenhome hall seal v1"

// Code names a kind of error; the values are stable.
type Code string

// Error codes.
const (
	CodeKey    Code = "bad-key"    // a secret of the wrong size, or an unusable secret file
	CodeSealed Code = "not-opened" // a sealed value that does not open: another key or label, or damage
)

// Error is every error of the package about its input (I/O failures come wrapped as they are).
// errors.Is(err, ErrKey) and errors.Is(err, ErrSealed) match on Code alone.
type Error struct {
	Code Code
	Msg  string // detail without any secret or plain text; empty in the sentinels
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return "seal: " + string(e.Code)
	}
	return "seal: " + e.Msg
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrKey    = &Error{Code: CodeKey}
	ErrSealed = &Error{Code: CodeSealed}
)

func errf(c Code, format string, args ...any) error {
	return &Error{Code: c, Msg: fmt.Sprintf(format, args...)}
}

// Key seals and opens values. It never prints: String, Format and LogValue say
// "seal key (redacted)". Safe for concurrent use.
type Key struct {
	aead cipher.AEAD
}

// NewKey derives the sealing key from secret, which must be SecretSize bytes (else ErrKey).
// secret is not kept.
func NewKey(secret []byte) (*Key, error) {
	if len(secret) != SecretSize {
		return nil, errf(CodeKey, "the secret must be %d bytes, have %d", SecretSize, len(secret))
	}
	k, err := hkdf.Key(sha256.New, secret, nil, Info, 32)
	if err != nil {
		return nil, fmt.Errorf("seal: derive key: %w", err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("seal: derive key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: derive key: %w", err)
	}
	return &Key{aead: aead}, nil
}

// Seal encrypts plain bound to label: the result opens only with the same key and label. Each
// call draws a new random nonce, so sealing one value twice gives two different results (equal
// values cannot be told from the sealed bytes). The only error is a failing random source.
func (k *Key) Seal(plain, label string) ([]byte, error) {
	n := k.aead.NonceSize()
	nonce := make([]byte, n, n+len(plain)+k.aead.Overhead())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, fmt.Errorf("seal: random nonce: %w", err)
	}
	return k.aead.Seal(nonce, nonce, []byte(plain), []byte(label)), nil
}

// Open reverses Seal. ErrSealed when sealed was made under another key or label, was cut
// short or altered: GCM cannot tell these apart, and no partial plain text is ever returned.
func (k *Key) Open(sealed []byte, label string) (string, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n+k.aead.Overhead() {
		return "", errf(CodeSealed, "sealed value too short")
	}
	b, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(label))
	if err != nil {
		return "", errf(CodeSealed, "sealed value does not open with this key and label")
	}
	return string(b), nil
}

const redacted = "seal key (redacted)"

// String is redacted.
func (k *Key) String() string { return redacted }

// GoString is redacted: %#v would otherwise print the cipher's key schedule.
func (k *Key) GoString() string { return redacted }

// Format prints the redacted text for every verb: %x or %d would otherwise print the key.
func (k *Key) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// LogValue is redacted.
func (k *Key) LogValue() slog.Value { return slog.StringValue(redacted) }
