package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/config"
)

const hallKeyUsage = `
the hall key (on the kiosk, as root; see docs/operator-guide.md):
  hall-key seal [--from FILE|-] [--to FILE]
                         seal the hall key into a systemd credential (systemd-creds, bound to the
                         TPM2 where there is one and to the machine's host key) at --to (default
                         ` + "/etc/citizenhome/hall.key.cred" + `), check that it opens to the same key, then
                         overwrite and remove the key file (--from, default privacy.key_file;
                         "-": the hall's key on stdin, nothing removed). Then restart the kiosk.
  takes -config FILE (default ` + defaultConfig + `)
`

// credsTool is systemd-creds, found on PATH.
const credsTool = "systemd-creds"

// credsTimeout bounds one systemd-creds run: a TPM2 answers in well under a second, a hung one
// must not hang the operator's shell.
const credsTimeout = 30 * time.Second

func runHallKey(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "seal" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs, asJSON := commandFlags("hall-key seal", stderr)
	cfgPath := fs.String("config", defaultConfig, "configuration file")
	from := fs.String("from", "", `the key file to seal (default privacy.key_file); "-" reads the key from stdin`)
	to := fs.String("to", civic.SealedKeyFile, "the sealed credential to write (the units' LoadCredentialEncrypted= path)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return 2
	}
	if len(pos) != 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	out := printer{w: stdout, json: *asJSON}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return out.result(err, "")
	}
	if *from == "" {
		*from = cfg.Privacy.KeyFile
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*credsTimeout)
	defer cancel()
	r, err := sealHallKey(ctx, *from, *to, stdin)
	if err != nil {
		return out.result(err, "")
	}
	if out.json {
		return out.emit(map[string]any{"ok": true, "sealed": r.to, "tpm2": r.tpm2, "already": r.already, "removed": r.removed})
	}
	switch {
	case r.already:
		fmt.Fprintf(stdout, "the hall key was already sealed in %s\n", r.to)
	case r.tpm2:
		fmt.Fprintf(stdout, "hall key sealed in %s, bound to this machine's TPM2 and host key\n", r.to)
	default:
		fmt.Fprintf(stdout, "hall key sealed in %s, bound to this machine's host key only (no usable TPM2): "+
			"it keeps the key from a copy of the kiosk's data, not from whoever has the system disk (docs/security.md)\n", r.to)
	}
	if r.removed != "" {
		fmt.Fprintf(stdout, "%s overwritten and removed\n", r.removed)
	}
	fmt.Fprintf(stdout, "restart the kiosk (systemctl restart kioskd, or kiosk): its unit loads the key with LoadCredentialEncrypted=%s:%s\n",
		civic.CredentialName, r.to)
	fmt.Fprintln(stdout, "keep the hall's copy of the key somewhere safe off this machine: a new TPM2 or a reinstalled system cannot open the credential")
	return 0
}

type sealResult struct {
	to      string
	tpm2    bool
	already bool   // to already held this key
	removed string // the key file overwritten and removed; "" for none
}

// sealHallKey seals the key read from from ("-": in) into the credential to, checks that it
// opens to the same key, then overwrites and removes the key file from. A to that already holds
// the same key is kept (running the command again finishes an interrupted run); one holding
// another key is refused, since replacing the hall key makes every stored hash useless.
func sealHallKey(ctx context.Context, from, to string, in io.Reader) (sealResult, error) {
	r := sealResult{to: to}
	var text []byte
	var err error
	if from == "-" {
		text, err = io.ReadAll(io.LimitReader(in, 4096))
	} else {
		text, err = os.ReadFile(from)
		if errors.Is(err, os.ErrNotExist) {
			if _, serr := os.Stat(to); serr == nil {
				return r, fmt.Errorf("no key file at %s, and %s exists: the key is probably sealed already (kioskctl doctor says)", from, to)
			}
			return r, fmt.Errorf("no key file at %s: start the kiosk once to make one, or give the hall's key with --from -", from)
		}
	}
	if err != nil {
		return r, err
	}
	defer clear(text)
	if _, err := civic.ParseKey(text); err != nil {
		return r, fmt.Errorf("%s: %w", from, err)
	}
	// Sealed exactly as the key file holds it: what the kiosk reads from the credential.
	norm := append(bytes.ToLower(bytes.TrimSpace(text)), '\n')
	defer clear(norm)
	if _, err := exec.LookPath(credsTool); err != nil {
		return r, fmt.Errorf("%s is not installed (Debian package systemd, version 250 or later): %w", credsTool, err)
	}
	if _, err := os.Stat(to); err == nil {
		have, err := decryptCredential(ctx, to)
		if err != nil {
			return r, fmt.Errorf("%s exists but does not open here (%w): move it away first if it is stale", to, err)
		}
		same := bytes.Equal(bytes.TrimSpace(have), bytes.TrimSpace(norm))
		clear(have)
		if !same {
			return r, fmt.Errorf("%s holds another hall key: move it away first if that is what you mean (a new key makes the stored hashes useless)", to)
		}
		r.already = true
	} else {
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return r, err
		}
		tmp := to + ".new"
		os.Remove(tmp)
		if err := runCreds(ctx, bytes.NewReader(norm), nil, "encrypt", "--with-key=auto", "--name="+civic.CredentialName, "-", tmp); err != nil {
			os.Remove(tmp)
			return r, err
		}
		if err := os.Chmod(tmp, 0o600); err != nil {
			os.Remove(tmp)
			return r, err
		}
		have, err := decryptCredential(ctx, tmp)
		same := err == nil && bytes.Equal(have, norm)
		clear(have)
		if !same {
			os.Remove(tmp)
			return r, fmt.Errorf("the sealed key does not open to the same key (%v): nothing changed", err)
		}
		if err := os.Rename(tmp, to); err != nil {
			os.Remove(tmp)
			return r, err
		}
		syncDir(filepath.Dir(to))
	}
	r.tpm2 = runCreds(ctx, nil, nil, "has-tpm2", "--quiet") == nil
	if from != "-" {
		if err := wipe(from); err != nil {
			return r, fmt.Errorf("sealed in %s, but removing %s failed: %w (remove it by hand)", to, from, err)
		}
		r.removed = from
	}
	return r, nil
}

// decryptCredential opens a sealed hall key with systemd-creds (root only: the host key is
// root's alone).
func decryptCredential(ctx context.Context, path string) ([]byte, error) {
	var out bytes.Buffer
	if err := runCreds(ctx, nil, &out, "decrypt", "--name="+civic.CredentialName, path, "-"); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// runCreds runs systemd-creds with args; its error message (never a secret) comes with the error.
func runCreds(ctx context.Context, stdin io.Reader, stdout io.Writer, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, credsTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, credsTool, args...)
	cmd.Stdin = stdin
	cmd.Stdout = stdout
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			return fmt.Errorf("%s %s: %w", credsTool, args[0], err)
		}
		return fmt.Errorf("%s %s: %w: %s", credsTool, args[0], err, msg)
	}
	return nil
}

// wipe overwrites path with zeros, flushes it, removes it and flushes its directory. On flash
// storage and journalling file systems the old blocks may survive elsewhere: the overwrite only
// stops the plain reading of the file's blocks (docs/security.md).
func wipe(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil {
		_, err = f.Write(make([]byte, fi.Size()))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// hallKeyFor gives the hall key to the commands that read or write the kiosk's hall data: the
// credential when run under systemd with it, else the key file, else the sealed key opened with
// systemd-creds (as root). It never creates a key: one made by kioskctl (often run as root)
// would be unreadable for the kiosk. No key anywhere is an error wrapping os.ErrNotExist.
func hallKeyFor(cfg config.Config) (*civic.Key, error) {
	if os.Getenv("CREDENTIALS_DIRECTORY") != "" {
		return civic.LoadKey(cfg.Privacy.KeyFile)
	}
	if _, err := os.Stat(cfg.Privacy.KeyFile); err == nil {
		return civic.LoadKey(cfg.Privacy.KeyFile)
	}
	if _, err := os.Stat(civic.SealedKeyFile); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), credsTimeout)
		defer cancel()
		text, err := decryptCredential(ctx, civic.SealedKeyFile)
		if err != nil {
			if os.Geteuid() != 0 {
				return nil, fmt.Errorf("the hall key is sealed in %s and only root opens it: run this as root (%w)", civic.SealedKeyFile, err)
			}
			return nil, fmt.Errorf("the hall key sealed in %s does not open: %w", civic.SealedKeyFile, err)
		}
		defer clear(text)
		return civic.ParseKey(text)
	}
	return nil, fmt.Errorf("no hall key at %s (privacy.key_file) nor sealed in %s: %w", cfg.Privacy.KeyFile, civic.SealedKeyFile, os.ErrNotExist)
}
