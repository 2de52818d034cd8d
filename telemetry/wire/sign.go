package wire

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Signed commands (an addition to the contract, docs/telemetry.md "Signed commands"): the hall
// signs a command with Ed25519 and puts the signature in the optional field "sig"; a kiosk
// configured with the hall's public key refuses commands without a good one. The signature
// covers SignedBytes, a byte encoding fixed here, never the JSON as re-marshalled: two
// encoders may write the same command differently, and the kiosk checks the bytes it reads.

// Refusal codes of signed commands and of the expiry's bound.
const (
	RefuseUnsigned     = "unsigned"      // the kiosk requires a signature and the command has none
	RefuseBadSignature = "bad-signature" // a signature that is malformed or does not verify
	RefuseBadExpiry    = "bad-expiry"    // expires further ahead than MaxCommandLife
)

// MaxCommandLife is how far ahead a command's expires may be: a command captured from the broker
// can be replayed to its kiosk (under a fresh id) only until it expires, so its life is bounded
// whether signed or not.
const MaxCommandLife = 24 * time.Hour

// Prefixes of the text forms of a key and a signature.
const (
	keyPrefix = "ed25519:"
	sigPrefix = "ed25519:"
)

// signDomain starts SignedBytes: a signature made for anything else (another message type, a
// later version of this encoding) never verifies as a command of this one.
const signDomain = "citizenhome/v1 command\x00"

// ErrKey is matched by every error of ParseCommandKey.
var ErrKey = errors.New("wire: bad command key")

// ErrSignature is matched by every error of ParseSignature.
var ErrSignature = errors.New("wire: bad command signature")

// FormatCommandKey writes a public key as "ed25519:" and its 32 bytes in standard base64 (the
// form of kiosk.toml's hall.command_key and of `halld command-key`).
func FormatCommandKey(pub ed25519.PublicKey) string {
	return keyPrefix + base64.StdEncoding.EncodeToString(pub)
}

// ParseCommandKey reads FormatCommandKey's form; spaces around it are allowed. Anything else (another
// algorithm, padding missing, a key of another length) is an error matching ErrKey.
func ParseCommandKey(s string) (ed25519.PublicKey, error) {
	b, err := decodeTagged(strings.TrimSpace(s), keyPrefix, ed25519.PublicKeySize)
	if err != nil {
		return nil, fmt.Errorf("%w: %v (want ed25519:<base64 of %d bytes>, as `halld command-key` prints it)", ErrKey, err, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// ParseSignature reads a command's "sig": "ed25519:" and 64 bytes in standard base64, nothing
// around it. Anything else is an error matching ErrSignature.
func ParseSignature(s string) ([]byte, error) {
	b, err := decodeTagged(s, sigPrefix, ed25519.SignatureSize)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return b, nil
}

func decodeTagged(s, prefix string, size int) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return nil, fmt.Errorf("does not start with %q", prefix)
	}
	if len(rest) != base64.StdEncoding.EncodedLen(size) {
		return nil, fmt.Errorf("%d characters of base64, want %d", len(rest), base64.StdEncoding.EncodedLen(size))
	}
	b, err := base64.StdEncoding.Strict().DecodeString(rest)
	if err != nil || len(b) != size {
		return nil, errors.New("not base64 of the right length")
	}
	return b, nil
}

// SignedBytes is what a command's signature covers, for kiosk k:
//
//	"citizenhome/v1 command" 0x00
//	then hall, kiosk, id, name, by, args: each a 4-byte big-endian length and its bytes
//	then expires: 8 bytes, big-endian, nanoseconds since 1970-01-01 UTC (two's complement)
//
// args are the bytes of the payload's args value as received (none when it is absent or
// null): the sender signs the bytes it sends (SignCommand), the kiosk checks the bytes it
// reads. expires is the instant, so any RFC 3339 spelling of it verifies. hall and kiosk bind
// the command to one kiosk: a command signed for another kiosk, or another hall's kiosk of the
// same name, does not verify.
func SignedBytes(k Kiosk, c Command) []byte {
	n := len(signDomain) + 8
	fields := []string{k.Hall, k.Kiosk, c.ID, c.Name, c.By, string(c.Args)}
	for _, f := range fields {
		n += 4 + len(f)
	}
	b := make([]byte, 0, n)
	b = append(b, signDomain...)
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return binary.BigEndian.AppendUint64(b, uint64(c.Expires.UnixNano()))
}

// SignCommand returns c signed for kiosk k with the hall's key. c.Args is first written as
// json.Marshal writes it inside the payload (compact, HTML characters escaped), so that the
// bytes signed are the bytes sent when the command is marshalled with encoding/json; a sender
// that writes its payload otherwise must sign what it writes. null args become none.
func SignCommand(priv ed25519.PrivateKey, k Kiosk, c Command) (Command, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return Command{}, errors.New("wire: sign: not an Ed25519 private key")
	}
	if len(c.Args) > 0 {
		a, err := json.Marshal(c.Args)
		if err != nil {
			return Command{}, fmt.Errorf("wire: sign: args: %w", err)
		}
		c.Args = a
		if string(a) == "null" {
			c.Args = nil
		}
	}
	c.Sig = sigPrefix + base64.StdEncoding.EncodeToString(ed25519.Sign(priv, SignedBytes(k, c)))
	return c, nil
}

// VerifyCommand checks c's signature for kiosk k against the hall's public key. A command
// without one is refused with RefuseUnsigned, a malformed or wrong one with RefuseBadSignature
// (errors are *CommandError carrying c.ID). It does not look at expires: see CheckExpiry.
func VerifyCommand(pub ed25519.PublicKey, k Kiosk, c Command) error {
	if c.Sig == "" {
		return &CommandError{Code: RefuseUnsigned, ID: c.ID, Msg: "this kiosk accepts only commands signed by the hall (hall.command_key)"}
	}
	sig, err := ParseSignature(c.Sig)
	if err != nil {
		return &CommandError{Code: RefuseBadSignature, ID: c.ID, Msg: err.Error()}
	}
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, SignedBytes(k, c), sig) {
		return &CommandError{Code: RefuseBadSignature, ID: c.ID, Msg: "the signature does not verify with the hall's key (hall.command_key): altered, made for another kiosk, or signed with another key"}
	}
	return nil
}

// CheckExpiry refuses a command whose expires has passed at now (RefuseExpired) or lies more
// than MaxCommandLife after now (RefuseBadExpiry). Errors are *CommandError carrying c.ID.
func CheckExpiry(c Command, now time.Time) error {
	if now.After(c.Expires) {
		return &CommandError{Code: RefuseExpired, ID: c.ID, Msg: fmt.Sprintf("expired at %s (now %s)", c.Expires.Format(time.RFC3339), now.Format(time.RFC3339))}
	}
	if c.Expires.Sub(now) > MaxCommandLife {
		return &CommandError{Code: RefuseBadExpiry, ID: c.ID, Msg: fmt.Sprintf("expires %s is more than %s ahead (now %s)", c.Expires.Format(time.RFC3339), MaxCommandLife, now.Format(time.RFC3339))}
	}
	return nil
}
