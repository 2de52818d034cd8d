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
	if err != nil || iter < 10000 {
		return pinHash{}, errors.New("iterations must be a number of at least 10000")
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	key, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) != 32 {
		return pinHash{}, errors.New("salt or key is not valid base64 of the right length")
	}
	return pinHash{iter, salt, key}, nil
}

// HashPIN returns the pin_hash value for pin. PINs are 4 to 12 digits.
func HashPIN(pin string) (string, error) {
	if err := checkPIN(pin); err != nil {
		return "", err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	const iter = 200000
	key, err := pbkdf2.Key(sha256.New, pin, salt, iter, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%s$%d$%s$%s", pinScheme, iter, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

func checkPIN(pin string) error {
	if len(pin) < 4 || len(pin) > 12 {
		return errors.New("a staff PIN has 4 to 12 digits")
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return errors.New("a staff PIN has digits only")
		}
	}
	return nil
}

// CheckPIN reports whether pin matches the configured hash. With no hash configured no PIN is
// accepted (staff then use their card). The comparison takes the same time for any wrong PIN.
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
