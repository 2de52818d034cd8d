package access

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// The reference implementation's test vectors (phc-winner-argon2, src/test.c): a hash written
// by another implementation is read and checked, and ours is written the same way.
var referencePHC = []string{
	"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
	"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
}

func TestPHCReference(t *testing.T) {
	h := newHasher(Argon2{Time: 1, Memory: 64, Threads: 1}, 1)
	for _, ref := range referencePHC {
		p, ok := parsePHC(ref)
		if !ok || string(p.salt) != "somesalt" || p.p.Time != 2 || p.p.Threads != 1 {
			t.Fatalf("parsePHC(%q) = %+v, %v", ref, p, ok)
		}
		if got := p.String(); got != ref {
			t.Errorf("written back as %q", got)
		}
		ok, upgrade, err := h.verify(context.Background(), stored{phc: ref}, "password")
		if !ok || !upgrade || err != nil {
			t.Errorf("verify(password) = %v, %v, %v; want a match to upgrade (other parameters)", ok, upgrade, err)
		}
		if ok, _, _ := h.verify(context.Background(), stored{phc: ref}, "passwore"); ok {
			t.Errorf("verify(passwore) matched %q", ref)
		}
	}
}

func TestPHCMalformed(t *testing.T) {
	good := referencePHC[0]
	bad := []string{
		"",
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=256,t=2,p=1", "t=2,m=256,p=1", 1),
		strings.Replace(good, "m=256,t=2,p=1", "m=256,t=2", 1),
		strings.Replace(good, "m=256", "m=0256", 1),
		strings.Replace(good, "m=256", "m=4", 1),          // below 8 KiB per lane
		strings.Replace(good, "m=256", "m=4194304", 1),    // 4 GiB: beyond the bound
		strings.Replace(good, "t=2", "t=0", 1),            // no pass
		strings.Replace(good, "t=2", "t=1000", 1),         // beyond the bound
		strings.Replace(good, "p=1", "p=0", 1),            // no lane
		strings.Replace(good, "p=1", "p=256", 1),          // not a uint8
		strings.Replace(good, "c29tZXNhbHQ", "c29tZQ", 1), // 5-byte salt
		strings.Replace(good, "c29tZXNhbHQ", "c29tZXNhbHQ=", 1),
		strings.Replace(good, "$nf65", "$!f65", 1),
		good + "$",
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$AAAA", // 3-byte hash
	}
	h := newHasher(Argon2{Time: 1, Memory: 64, Threads: 1}, 1)
	for _, s := range bad {
		if p, ok := parsePHC(s); ok {
			t.Errorf("parsePHC(%q) accepted: %+v", s, p)
		}
		// A damaged row is a wrong password, never a panic or a match.
		if ok, up, err := h.verify(context.Background(), stored{phc: s}, "password"); ok || up || err != nil {
			t.Errorf("verify of %q = %v, %v, %v", s, ok, up, err)
		}
	}
	// A damaged access-1 row too.
	for _, s := range []stored{{iter: 0, hash: []byte{1}}, {iter: maxPBKDF2Iter + 1, hash: []byte{1}}, {iter: 1000}} {
		if ok, _, err := h.verify(context.Background(), s, "password"); ok || err != nil {
			t.Errorf("verify of %+v = %v, %v", s, ok, err)
		}
	}
}

// A login waits for its turn at the hasher, and gives up when its request ends.
func TestHasherBounded(t *testing.T) {
	h := newHasher(Argon2{Time: 1, Memory: 64, Threads: 1}, 1)
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := h.verify(ctx, stored{}, "password"); !errors.Is(err, context.Canceled) {
		t.Fatalf("verify while the only turn is taken: %v", err)
	}
	if _, err := h.hash(ctx, "password"); !errors.Is(err, context.Canceled) {
		t.Fatalf("hash while the only turn is taken: %v", err)
	}
	h.release()
	if _, err := h.hash(context.Background(), "password"); err != nil {
		t.Fatalf("after release: %v", err)
	}
}
