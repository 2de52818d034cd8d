package civic

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"citizenhome/mask"
	"citizenhome/seal"
)

// KeySize is the length of the hall key in bytes; the file holds it as 64 hex digits.
const KeySize = seal.SecretSize

// Key is the per-hall secret (privacy.key_file, or the systemd credential CredentialName).
// Identifiers are stored only as HMAC-SHA256 under a key derived from it, and complaint texts,
// phone numbers and the hall's answers are sealed (package seal) under another derived key, so
// the database without the key reveals no phone or text. ID numbers have little entropy (a
// region, a birth date and a few digits): whoever holds the key as well finds them from their
// hashes by trying them all, so the key must not travel with the database (docs/security.md).
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

// CredentialName is the name of the systemd credential that holds the hall key (the units'
// LoadCredentialEncrypted=hall.key:/etc/citizenhome/hall.key.cred): the same 64 hex digits as
// the key file, sealed by systemd-creds to the machine's TPM2 and host key.
const CredentialName = "hall.key"

// SealedKeyFile is where `kioskctl hall-key seal` puts the sealed key, and the units load it
// from. While it exists, OpenKey never creates a key file: a kiosk started without the
// credential would otherwise make a new key and lose every stored hash. A variable for tests.
var SealedKeyFile = "/etc/citizenhome/hall.key.cred"

// LoadKey is OpenKey without the created flag.
func LoadKey(path string) (*Key, error) {
	k, _, err := OpenKey(path)
	return k, err
}

// OpenKey gives the hall key from where it is kept:
//
//   - when $CREDENTIALS_DIRECTORY is set (systemd passes the unit's credentials there), from its
//     credential CredentialName, and from nowhere else: path is ignored, nothing is created or
//     written. A missing credential is an ErrKey error naming the unit line to add;
//   - otherwise from the key file at path, created at first use (OpenKeyFile), except while
//     SealedKeyFile exists: the key was sealed and the file removed on purpose, so a missing
//     file is then an ErrKey error rather than a new key.
//
// created says whether this call created the key file: a new hall key is worth a line in the log
// (stored hashes made under another key no longer match).
func OpenKey(path string) (k *Key, created bool, err error) {
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		k, err := CredentialKey(dir)
		return k, false, err
	}
	if path != "" && SealedKeyFile != "" {
		if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat(SealedKeyFile); err == nil {
				return nil, false, errf(CodeKey, "the hall key is sealed in %s, but this process was not given it as the systemd credential %s "+
					"(the unit needs LoadCredentialEncrypted=%s:%s); no new key made in %s", SealedKeyFile, CredentialName, CredentialName, SealedKeyFile, path)
			}
		}
	}
	return OpenKeyFile(path)
}

// OpenKeyFile reads the hall key from the file at path, creating it at first use
// (seal.LoadSecret: 32 random bytes written as 64 hex digits and a newline, mode 0600, in a
// directory created 0700 if missing; several processes starting together end up with the same
// key). It ignores credentials: the demo keeps its own key beside its store.
//
// Errors match ErrKey when the file exists but is unusable: not 64 hex digits, or readable or
// writable by group or others (chmod 600 it: a key anyone can read protects nothing). I/O
// failures are returned as they are, naming the path.
func OpenKeyFile(path string) (k *Key, created bool, err error) {
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

// CredentialKey reads the hall key from the systemd credential CredentialName in dir (the
// value of $CREDENTIALS_DIRECTORY). It never writes. Errors match ErrKey when the credential is
// missing or is not 64 hex digits; other read failures are returned as they are.
func CredentialKey(dir string) (*Key, error) {
	b, err := os.ReadFile(filepath.Join(dir, CredentialName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errf(CodeKey, "systemd passes credentials ($CREDENTIALS_DIRECTORY) but none named %s: add LoadCredentialEncrypted=%s:%s to the unit "+
			"(kioskctl hall-key seal makes the file); the key file is not read when credentials are passed", CredentialName, CredentialName, SealedKeyFile)
	}
	if err != nil {
		return nil, fmt.Errorf("hall key credential: %w", err)
	}
	defer clear(b)
	return ParseKey(b)
}

// ParseKey gives the key of a key file's content: 64 hex digits, surrounding white space
// allowed. Errors match ErrKey and never quote the content.
func ParseKey(text []byte) (*Key, error) {
	t := bytes.TrimSpace(text)
	if len(t) != 2*KeySize {
		return nil, errf(CodeKey, "the hall key must be %d hex digits, have %d characters", 2*KeySize, len(t))
	}
	secret := make([]byte, KeySize)
	defer clear(secret)
	if _, err := hex.Decode(secret, t); err != nil {
		return nil, errf(CodeKey, "the hall key must be %d hex digits", 2*KeySize)
	}
	return NewKey(secret)
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
