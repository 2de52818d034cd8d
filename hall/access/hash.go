package access

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2 is the cost of argon2id for new passwords.
type Argon2 struct {
	Time    uint32 // passes over the memory
	Memory  uint32 // KiB
	Threads uint8  // lanes (the parallelism p, part of the hash: changing it changes the result)
}

// DefaultArgon2 is RFC 9106's second recommended option (section 4: t=3, p=4, m=64 MiB), the
// one for machines without the 2 GiB the first asks for. Measured on a 2-core Xeon VM (Go
// 1.26, x/crypto's SSE4.1 code): 75 ms a hash, the same with p=2 (two cores are busy either
// way), against 94 ms for the PBKDF2-SHA256 at 600,000 iterations it replaces; a whole login
// 86 ms (BenchmarkLogin), an unknown account's the same. A hall PC (a
// 4-core Celeron or N100) is at most a few times slower: a login stays well under half a
// second, while an offline guess costs 64 MiB of memory bandwidth, which is what GPUs lack.
// p=4 keeps the RFC's value so a four-core hall PC spreads the passes over its cores.
var DefaultArgon2 = Argon2{Time: 3, Memory: 64 * 1024, Threads: 4}

// Bounds of a stored hash's parameters: a damaged or hostile row must not make a login take
// gigabytes or minutes. They are generous: ten times the default and more.
const (
	maxArgonTime   = 64
	maxArgonMemory = 1 << 20 // KiB: 1 GiB
	maxPBKDF2Iter  = 100_000_000
	hashLen        = 32
	saltLen        = 16
)

func (a Argon2) valid() bool {
	return a.Time >= 1 && a.Time <= maxArgonTime && a.Threads >= 1 &&
		a.Memory >= 8*uint32(a.Threads) && a.Memory <= maxArgonMemory
}

// b64 is the PHC string format's base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

// phc is an argon2id hash in the PHC string format, as argon2's reference implementation
// writes it: $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>.
type phc struct {
	p          Argon2
	salt, hash []byte
}

func (h phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.p.Memory, h.p.Time, h.p.Threads,
		b64.EncodeToString(h.salt), b64.EncodeToString(h.hash))
}

// parsePHC reads s strictly: argon2id only, version 19, the parameters in the order m, t, p,
// within the bounds above, a salt of 8 to 64 bytes and a hash of 16 to 64.
func parsePHC(s string) (phc, bool) {
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, false
	}
	var h phc
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return phc{}, false
	}
	for i, key := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(kv[i], key)
		if !ok {
			return phc{}, false
		}
		bits := 32
		if key == "p=" {
			bits = 8
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil || (len(v) > 1 && v[0] == '0') {
			return phc{}, false
		}
		switch key {
		case "m=":
			h.p.Memory = uint32(n)
		case "t=":
			h.p.Time = uint32(n)
		default:
			h.p.Threads = uint8(n)
		}
	}
	var err error
	if h.salt, err = b64.DecodeString(f[4]); err != nil || len(h.salt) < 8 || len(h.salt) > 64 {
		return phc{}, false
	}
	if h.hash, err = b64.DecodeString(f[5]); err != nil || len(h.hash) < 16 || len(h.hash) > 64 {
		return phc{}, false
	}
	return h, h.p.valid()
}

// hasher computes password hashes, at most a few at once: each argon2id hash holds its Memory
// for its duration, so a burst of logins (a morning's counters, or a spray of guesses from many
// addresses) queues here instead of taking halld's memory.
type hasher struct {
	p   Argon2
	sem chan struct{}
}

func newHasher(p Argon2, concurrent int) *hasher {
	return &hasher{p: p, sem: make(chan struct{}, concurrent)}
}

// acquire waits for a turn; ctx's end stops the wait (a client that left).
func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *hasher) release() { <-h.sem }

// hash returns password's new argon2id hash with a salt of its own, in PHC form.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	salt := random(saltLen)
	return phc{p: h.p, salt: salt, hash: argon2.IDKey([]byte(password), salt, h.p.Time, h.p.Memory, h.p.Threads, hashLen)}.String(), nil
}

// stored is an account's password hash as the ledger holds it: a PHC string (access-2 on), or
// the PBKDF2-SHA256 salt, hash and iterations of access-1 when phc is empty.
type stored struct {
	phc        string
	salt, hash []byte
	iter       int
}

// verify reports whether password matches s, in constant time over the derived key. A hash
// that cannot be read (a damaged row) is checked against a dummy at the current cost and never
// matches, so it costs what a wrong password costs. upgrade is true when s is not argon2id at
// the hasher's parameters: the caller rehashes after a successful login.
func (h *hasher) verify(ctx context.Context, s stored, password string) (ok, upgrade bool, err error) {
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	if s.phc != "" {
		if p, good := parsePHC(s.phc); good {
			k := argon2.IDKey([]byte(password), p.salt, p.p.Time, p.p.Memory, p.p.Threads, uint32(len(p.hash)))
			return subtle.ConstantTimeCompare(k, p.hash) == 1, p.p != h.p, nil
		}
	} else if s.iter >= 1 && s.iter <= maxPBKDF2Iter && len(s.hash) > 0 {
		k, err := pbkdf2.Key(sha256.New, password, s.salt, s.iter, len(s.hash))
		if err == nil {
			return subtle.ConstantTimeCompare(k, s.hash) == 1, true, nil
		}
	}
	// Unknown account or damaged row: the same work as a real check, and no match.
	k := argon2.IDKey([]byte(password), random(saltLen), h.p.Time, h.p.Memory, h.p.Threads, hashLen)
	subtle.ConstantTimeCompare(k, random(hashLen))
	return false, false, nil
}
