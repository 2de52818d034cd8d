package seal

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadSecret reads the hall's secret from path, creating the file at first use: SecretSize
// random bytes written as 64 hex digits and a newline, mode 0600, in a directory created 0700 if
// missing. The file appears complete or not at all (written aside, then linked into place), so
// several processes starting together end up with one secret; created is true for the one call
// that made the file (a new secret is worth a line in the log: data sealed or hashed under
// another one no longer opens or matches).
//
// Errors match ErrKey when path is empty or the file exists but is unusable: not 64 hex digits,
// not a regular file, or readable or writable by group or others (a secret anyone can read
// protects nothing: chmod 600 it). An unusable file is never changed. I/O failures are returned
// as they are, naming the path.
func LoadSecret(path string) (secret []byte, created bool, err error) {
	if path == "" {
		return nil, false, errf(CodeKey, "no secret file named")
	}
	secret, err = readSecret(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return secret, false, err
	}
	err = createSecret(path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, false, err
	}
	created = err == nil
	secret, err = readSecret(path)
	return secret, created && err == nil, err
}

func readSecret(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("seal: key %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errf(CodeKey, "key %s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, errf(CodeKey, "key %s has mode %04o: it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, 256))
	if err != nil {
		return nil, fmt.Errorf("seal: key %s: %w", path, err)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(secret) != SecretSize {
		return nil, errf(CodeKey, "key %s must hold %d hex digits", path, 2*SecretSize)
	}
	return secret, nil
}

func createSecret(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("seal: key directory: %w", err)
	}
	secret := make([]byte, SecretSize)
	if _, err := io.ReadFull(rand.Reader, secret); err != nil {
		return fmt.Errorf("seal: random key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".hall-key-*")
	if err != nil {
		return fmt.Errorf("seal: create key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("seal: create key: %w", err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(secret) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("seal: create key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("seal: create key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("seal: create key: %w", err)
	}
	// Link, not rename: it fails when another process created the file first, and never
	// replaces a secret that data is already sealed under.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("seal: create key: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the new name survives a power cut
		d.Close()
	}
	return nil
}
