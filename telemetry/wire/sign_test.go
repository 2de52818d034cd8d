package wire

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func testKey(t testing.TB, seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

var signKiosk = Kiosk{Hall: "kf", Kiosk: "k01"}

func sampleCommand() Command {
	return Command{ID: "halld-1", Name: CmdLock, Args: json.RawMessage(`{"message": "<停> & 暂停"}`),
		Expires: time.Date(2026, 12, 7, 18, 0, 0, 500_000_000, time.FixedZone("CST", 8*3600)), By: "crew"}
}

// The encoding is fixed: a change here breaks every kiosk in the field that checks signatures.
func TestSignedBytesFixed(t *testing.T) {
	c := Command{ID: "i", Name: "n", By: "b", Args: json.RawMessage(`{}`), Expires: time.Unix(1, 2)}
	got := hex.EncodeToString(SignedBytes(Kiosk{Hall: "h", Kiosk: "k"}, c))
	want := hex.EncodeToString([]byte("citizenhome/v1 command\x00")) +
		"0000000168" + "000000016b" + "0000000169" + "000000016e" + "0000000162" + "000000027b7d" + "000000003b9aca02"
	if got != want {
		t.Errorf("SignedBytes:\n got %s\nwant %s", got, want)
	}
	// Fields are length-prefixed: moving a byte from one field to the next changes the bytes.
	a := SignedBytes(Kiosk{Hall: "ab", Kiosk: "c"}, c)
	b := SignedBytes(Kiosk{Hall: "a", Kiosk: "bc"}, c)
	if bytes.Equal(a, b) {
		t.Error("field boundaries are not in the signed bytes")
	}
}

// A command signed and marshalled by encoding/json, as halld and kioskctl send it, verifies
// after ParseCommand on the kiosk, whatever characters its args hold.
func TestSignThroughTheWire(t *testing.T) {
	pub, priv := testKey(t, 1)
	c, err := SignCommand(priv, signKiosk, sampleCommand())
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCommand(payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyCommand(pub, signKiosk, got); err != nil {
		t.Fatalf("%v\npayload %s", err, payload)
	}
	// expires written another way (UTC, no fraction lost) is the same instant.
	var raw map[string]any
	_ = json.Unmarshal(payload, &raw)
	raw["expires"] = got.Expires.UTC().Format(time.RFC3339Nano)
	again, _ := json.Marshal(raw)
	if c2, err := ParseCommand(again); err != nil || VerifyCommand(pub, signKiosk, c2) != nil {
		t.Errorf("the same instant spelled in UTC does not verify: %v", err)
	}
}

// Bytes on the wire that no Go encoder wrote (spaces in args): the kiosk checks what it read.
func TestVerifyRawArgs(t *testing.T) {
	pub, priv := testKey(t, 2)
	c := Command{ID: "x1", Name: CmdReprint, Args: json.RawMessage(`{ "ticket" : "A012" }`), By: "ops",
		Expires: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	sig := ed25519.Sign(priv, SignedBytes(signKiosk, c))
	payload := `{"id":"x1","name":"reprint","args":{ "ticket" : "A012" },"by":"ops","expires":"2026-12-07T18:00:00+08:00","sig":"` +
		sigPrefix + encodeB64(sig) + `"}`
	got, err := ParseCommand([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyCommand(pub, signKiosk, got); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyRefusals(t *testing.T) {
	pub, priv := testKey(t, 3)
	otherPub, otherPriv := testKey(t, 4)
	signed, err := SignCommand(priv, signKiosk, sampleCommand())
	if err != nil {
		t.Fatal(err)
	}
	code := func(err error) string {
		var ce *CommandError
		if errors.As(err, &ce) {
			return ce.Code
		}
		return ""
	}
	tamper := map[string]func(c *Command, k *Kiosk){
		"args":          func(c *Command, _ *Kiosk) { c.Args = json.RawMessage(`{"message":"<停> & 暂停!"}`) },
		"args removed":  func(c *Command, _ *Kiosk) { c.Args = nil },
		"name":          func(c *Command, _ *Kiosk) { c.Name = CmdReset },
		"id":            func(c *Command, _ *Kiosk) { c.ID = "halld-2" },
		"by":            func(c *Command, _ *Kiosk) { c.By = "someone" },
		"expires":       func(c *Command, _ *Kiosk) { c.Expires = c.Expires.Add(time.Millisecond) },
		"another kiosk": func(_ *Command, k *Kiosk) { k.Kiosk = "k02" },
		"another hall":  func(_ *Command, k *Kiosk) { k.Hall = "zz" },
		"sig bit":       func(c *Command, _ *Kiosk) { c.Sig = flipLast(c.Sig) },
		"sig not b64":   func(c *Command, _ *Kiosk) { c.Sig = sigPrefix + strings.Repeat("!", 88) },
		"sig other alg": func(c *Command, _ *Kiosk) { c.Sig = "rsa:" + strings.TrimPrefix(c.Sig, sigPrefix) },
	}
	for name, f := range tamper {
		c, k := signed, signKiosk
		f(&c, &k)
		if got := code(VerifyCommand(pub, k, c)); got != RefuseBadSignature {
			t.Errorf("%s: code %q, want %s", name, got, RefuseBadSignature)
		}
	}
	unsigned := signed
	unsigned.Sig = ""
	if got := code(VerifyCommand(pub, signKiosk, unsigned)); got != RefuseUnsigned {
		t.Errorf("unsigned: %q", got)
	}
	if got := code(VerifyCommand(otherPub, signKiosk, signed)); got != RefuseBadSignature {
		t.Errorf("checked with another key: %q", got)
	}
	byOther, _ := SignCommand(otherPriv, signKiosk, sampleCommand())
	if got := code(VerifyCommand(pub, signKiosk, byOther)); got != RefuseBadSignature {
		t.Errorf("signed with another key: %q", got)
	}
	if err := VerifyCommand(pub, signKiosk, signed); err != nil {
		t.Errorf("the untouched command: %v", err)
	}
	var ce *CommandError
	if err := VerifyCommand(pub, signKiosk, unsigned); !errors.Is(err, &CommandError{Code: RefuseUnsigned}) || !errors.As(err, &ce) || ce.ID != signed.ID {
		t.Errorf("errors.Is does not match the code, or the refusal lost the id to answer: %v", err)
	}
}

func TestCheckExpiry(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   time.Duration
		code string
	}{
		{-time.Second, RefuseExpired},
		{0, ""},
		{time.Minute, ""},
		{MaxCommandLife, ""},
		{MaxCommandLife + time.Second, RefuseBadExpiry},
		{365 * 24 * time.Hour, RefuseBadExpiry},
	} {
		err := CheckExpiry(Command{ID: "x", Expires: now.Add(c.in)}, now)
		var ce *CommandError
		got := ""
		if errors.As(err, &ce) {
			got = ce.Code
		}
		if got != c.code {
			t.Errorf("expires now%+v: %q, want %q (%v)", c.in, got, c.code, err)
		}
	}
}

func TestCommandKeyForm(t *testing.T) {
	pub, _ := testKey(t, 5)
	s := FormatCommandKey(pub)
	if !strings.HasPrefix(s, "ed25519:") || len(s) != len("ed25519:")+44 {
		t.Fatalf("FormatCommandKey: %q", s)
	}
	got, err := ParseCommandKey(" " + s + "\n")
	if err != nil || !got.Equal(pub) {
		t.Fatalf("ParseCommandKey(%q): %v", s, err)
	}
	for _, bad := range []string{"", "ed25519:", strings.TrimSuffix(s, "="), s + "AAAA", "ED25519:" + s[8:],
		"ed25519:" + strings.Repeat("*", 44), "ed25519:" + encodeB64(make([]byte, 31)) + "=="} {
		if _, err := ParseCommandKey(bad); !errors.Is(err, ErrKey) {
			t.Errorf("ParseCommandKey(%q): %v", bad, err)
		}
	}
}

// ParseCommand keeps sig as a string only.
func TestParseCommandSig(t *testing.T) {
	base := `{"id":"a","name":"lock","by":"x","expires":"2026-12-07T18:00:00+08:00"`
	for _, c := range []struct {
		tail string
		ok   bool
	}{
		{`}`, true},
		{`,"sig":null}`, true},
		{`,"sig":"ed25519:xx"}`, true}, // its form is VerifyCommand's
		{`,"sig":12}`, false},
		{`,"sig":{"a":1}}`, false},
		{`,"sig":"` + strings.Repeat("a", 200) + `"}`, false},
	} {
		_, err := ParseCommand([]byte(base + c.tail))
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.tail, err)
		}
	}
}

func FuzzParseSignature(f *testing.F) {
	_, priv := testKey(f, 6)
	c, _ := SignCommand(priv, signKiosk, sampleCommand())
	f.Add(c.Sig)
	f.Add("ed25519:")
	f.Add("ed25519:" + strings.Repeat("A", 86) + "==")
	f.Add("ed25519:" + strings.Repeat("/", 88))
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseSignature(s)
		if err != nil {
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("error %v does not match ErrSignature", err)
			}
			return
		}
		if len(b) != ed25519.SignatureSize {
			t.Fatalf("%d bytes", len(b))
		}
		// Only the one canonical spelling of those bytes is accepted.
		if sigPrefix+encodeB64(b) != s {
			t.Fatalf("accepted a non-canonical spelling %q", s)
		}
	})
}

func FuzzParseCommandKey(f *testing.F) {
	pub, _ := testKey(f, 7)
	f.Add(FormatCommandKey(pub))
	f.Add("ed25519:")
	f.Add(" ed25519:" + strings.Repeat("A", 43) + "=")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseCommandKey(s)
		if err != nil {
			if !errors.Is(err, ErrKey) {
				t.Fatalf("error %v does not match ErrKey", err)
			}
			return
		}
		if FormatCommandKey(k) != strings.TrimSpace(s) {
			t.Fatalf("accepted a non-canonical spelling %q", s)
		}
	})
}

// Whatever arrives, parsing and checking a command never panics, and only the signed bytes
// verify.
func FuzzVerifyCommand(f *testing.F) {
	pub, priv := testKey(f, 8)
	c, _ := SignCommand(priv, signKiosk, sampleCommand())
	good, _ := json.Marshal(c)
	f.Add(good)
	f.Add([]byte(`{"id":"a","name":"lock","by":"x","expires":"2026-12-07T18:00:00+08:00","sig":"ed25519:"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cmd, err := ParseCommand(b)
		if err != nil {
			return
		}
		if VerifyCommand(pub, signKiosk, cmd) == nil && !bytes.Equal(SignedBytes(signKiosk, cmd), SignedBytes(signKiosk, c)) {
			t.Fatalf("a command other than the signed one verified: %s", b)
		}
	})
}

func flipLast(sig string) string {
	b, _ := ParseSignature(sig)
	b[len(b)-1] ^= 1
	return sigPrefix + encodeB64(b)
}

func encodeB64(b []byte) string {
	return FormatCommandKey(b)[len(keyPrefix):]
}

// What checking a command's signature costs a kiosk: parse and verify.
func BenchmarkVerifyCommand(b *testing.B) {
	pub, priv := testKey(b, 9)
	c, _ := SignCommand(priv, signKiosk, sampleCommand())
	payload, _ := json.Marshal(c)
	b.ReportAllocs()
	for b.Loop() {
		cmd, err := ParseCommand(payload)
		if err != nil || VerifyCommand(pub, signKiosk, cmd) != nil {
			b.Fatal(err)
		}
	}
}
