package civic

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"

	"citizenhome/mask"
	"citizenhome/seal"
)

// KeySize is the length of the hall key in bytes; the file holds it as 64 hex digits.
const KeySize = seal.SecretSize

// Key is the per-hall secret (privacy.key_file). Identifiers are stored only as HMAC-SHA256
// under a key derived from it, and complaint texts and phone numbers are sealed (package seal)
// under another derived key, so the database alone reveals no ID number, card number or phone.
//
// A Key never prints: String, GoString and LogValue say "hall key (redacted)". It is safe for
// concurrent use.
type Key struct {
	ident []byte    // HMAC key for identifiers
	box   *seal.Key // complaint texts and phones
}

// The label of the identifiers' derived key (HKDF-SHA256 info); the sealing key's is seal.Info.
// Changing one makes every stored hash or sealed field unreadable, so they are fixed forever.
const infoIdent = "citizenhome hall identifier v1"

// NewKey derives the working keys from secret, which must be KeySize bytes (else ErrKey).
func NewKey(secret []byte) (*Key, error) {
	if len(secret) != KeySize {
		return nil, errf(CodeKey, "the hall key must be %d bytes, have %d", KeySize, len(secret))
	}
	ident, err := hkdf.Key(sha256.New, secret, nil, infoIdent, 32)
	if err != nil {
		return nil, fmt.Errorf("hall: derive key: %w", err)
	}
	box, err := seal.NewKey(secret)
	if err != nil {
		return nil, fromSeal(err)
	}
	return &Key{ident: ident, box: box}, nil
}

// LoadKey reads the hall key from path, creating it at first use (seal.LoadSecret: 32 random
// bytes written as 64 hex digits and a newline, mode 0600, in a directory created 0700 if
// missing; several processes starting together end up with the same key).
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
	secret, created, err := seal.LoadSecret(path)
	if err != nil {
		return nil, false, fromSeal(err)
	}
	k, err = NewKey(secret)
	return k, created && err == nil, err
}

// fromSeal gives seal's errors about the key or a sealed value this package's code, so that
// callers keep matching ErrKey; other errors (I/O) pass as they are.
func fromSeal(err error) error {
	var se *seal.Error
	if errors.As(err, &se) {
		return &Error{Code: CodeKey, Msg: se.Msg}
	}
	return err
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
// value copied to another record does not open there.
func (k *Key) seal(plain, label string) ([]byte, error) {
	b, err := k.box.Seal(plain, label)
	return b, fromSeal(err)
}

// replyLabel binds a sealed answer of the hall to its complaint.
func replyLabel(number string) string { return "complaint:" + number + ":reply" }

// sealReply seals the hall's answer to complaint number, or gives NULL for no answer.
func (k *Key) sealReply(number, reply string) (any, error) {
	if reply == "" {
		return nil, nil
	}
	b, err := k.seal(reply, replyLabel(number))
	if err != nil {
		return nil, err
	}
	return b, nil
}

// open reverses seal; ErrKey means another key, another label, or damage.
func (k *Key) open(sealed []byte, label string) (string, error) {
	s, err := k.box.Open(sealed, label)
	return s, fromSeal(err)
}
