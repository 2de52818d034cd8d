package config

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The staff PIN is stored as "pbkdf2-sha256$<iterations>$<salt>$<key>" (base64, no padding) so a
// copied config file does not give the PIN away; kioskctl hash-pin writes one.
const pinScheme = "pbkdf2-sha256"

// The staff PIN's strength. A PIN has PINMinDigits to PINMaxDigits digits: a million PINs at
// least, against which the kiosk's growing lockout allows about two dozen guesses a day at the
// screen. A hash needs PINMinIterations PBKDF2-SHA256 iterations (HashPIN uses PINIterations),
// the floor having been 10,000 before issue 19 (such hashes are refused, with the fix named).
// This slows a search of every PIN from a copied configuration file (about 0.1 s a PIN on one
// CPU core at 200,000: a day or so for all 6-digit PINs) but does not stop it: a GPU tries
// them all in about a minute. A configuration file that left the kiosk means a new PIN.
const (
	PINMinDigits     = 6
	PINMaxDigits     = 12
	PINMinIterations = 100000
	PINIterations    = 200000
)

// ErrWeakPINHash is the error of a pin_hash made with fewer than PINMinIterations iterations
// (errors.Is-able); its text names the fix, kioskctl hash-pin.
var ErrWeakPINHash = errors.New("pin_hash is too weak")

// weakPINHashError is ErrWeakPINHash with the iterations found.
type weakPINHashError struct{ iter int }

func (e weakPINHashError) Error() string {
	return fmt.Sprintf("made with %d PBKDF2 iterations, fewer than the %d now required: make a new hash of a PIN of %d to %d digits with: kioskctl hash-pin",
		e.iter, PINMinIterations, PINMinDigits, PINMaxDigits)
}

func (e weakPINHashError) Is(target error) bool { return target == ErrWeakPINHash }

type pinHash struct {
	iter      int
	salt, key []byte
}

func parsePINHash(s string) (pinHash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 4 || parts[0] != pinScheme {
		return pinHash{}, errors.New("must look like pbkdf2-sha256$<iterations>$<salt>$<key> (make one with: kioskctl hash-pin)")
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 {
		return pinHash{}, fmt.Errorf("iterations must be a number of at least %d (make one with: kioskctl hash-pin)", PINMinIterations)
	}
	if iter < PINMinIterations {
		return pinHash{}, weakPINHashError{iter}
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	key, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) != 32 {
		return pinHash{}, errors.New("salt or key is not valid base64 of the right length")
	}
	return pinHash{iter, salt, key}, nil
}

// HashPIN returns the pin_hash value for pin, made with PINIterations iterations and a random salt.
// A PIN of other than PINMinDigits to PINMaxDigits digits is refused, with the reason.
func HashPIN(pin string) (string, error) {
	if err := checkPIN(pin); err != nil {
		return "", err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	iter := PINIterations
	key, err := pbkdf2.Key(sha256.New, pin, salt, iter, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%s$%d$%s$%s", pinScheme, iter, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

func checkPIN(pin string) error {
	if len(pin) < PINMinDigits || len(pin) > PINMaxDigits {
		return fmt.Errorf("a staff PIN has %d to %d digits", PINMinDigits, PINMaxDigits)
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return errors.New("a staff PIN has digits only")
		}
	}
	return nil
}

// CheckPIN reports whether pin matches the configured hash. With no hash configured, or a hash
// Parse refuses (too few iterations, say), no PIN is accepted; nor is a PIN of the wrong length.
// The comparison takes the same time for any wrong PIN of the right length.
func (s Staff) CheckPIN(pin string) bool {
	h, err := parsePINHash(s.PINHash)
	if err != nil || checkPIN(pin) != nil {
		return false
	}
	key, err := pbkdf2.Key(sha256.New, pin, h.salt, h.iter, 32)
	return err == nil && subtle.ConstantTimeCompare(key, h.key) == 1
}

// IsStaffCard reports whether uid (hex, any case) is a configured staff card.
func (s Staff) IsStaffCard(uid string) bool {
	uid = strings.ToUpper(uid)
	for _, c := range s.Cards {
		if subtle.ConstantTimeCompare([]byte(c), []byte(uid)) == 1 {
			return true
		}
	}
	return false
}
