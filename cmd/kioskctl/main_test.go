package main

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
)

func runCtl(args []string, stdin string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(good, []byte("[hall]\nid = \"kf\"\n"), 0o644)
	os.WriteFile(bad, []byte("[hall]\nid = \"kf\"\nidd = 1\n"), 0o644)
	if code, out, _ := runCtl([]string{"check-config", good}, ""); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("good: %d %q", code, out)
	}
	code, out, _ := runCtl([]string{"check-config", bad}, "")
	if code != 1 || !strings.Contains(out, bad+":3: hall.idd: unknown key") {
		t.Errorf("bad: %d %q", code, out)
	}
	code, out, _ = runCtl([]string{"check-config", "--json", bad}, "")
	var m map[string]any
	if code != 1 || json.Unmarshal([]byte(out), &m) != nil || m["ok"] != false {
		t.Errorf("bad --json: %d %q", code, out)
	}
}

func TestCheckCatalog(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.json")
	os.WriteFile(p, catalog.DemoJSON(), 0o644)
	if code, out, _ := runCtl([]string{"check-catalog", p}, ""); code != 0 || !strings.Contains(out, "matters") {
		t.Errorf("demo catalog: %d %q", code, out)
	}
	os.WriteFile(p, []byte(`{"version":"1"}`), 0o644)
	if code, _, _ := runCtl([]string{"check-catalog", p}, ""); code != 1 {
		t.Errorf("bad catalog accepted: %d", code)
	}
}

func TestHashPIN(t *testing.T) {
	code, out, _ := runCtl([]string{"hash-pin"}, "246810\n")
	if code != 0 {
		t.Fatalf("%d %q", code, out)
	}
	s := config.Staff{PINHash: strings.TrimSpace(out)}
	if !s.CheckPIN("246810") || s.CheckPIN("246811") {
		t.Error("hash does not check")
	}
	if code, _, _ := runCtl([]string{"hash-pin"}, "12ab\n"); code != 1 {
		t.Error("bad PIN hashed")
	}
}

func TestUsage(t *testing.T) {
	if code, _, errOut := runCtl(nil, ""); code != 2 || !strings.Contains(errOut, "usage") {
		t.Errorf("no args: %d", code)
	}
	if code, _, _ := runCtl([]string{"frobnicate"}, ""); code != 2 {
		t.Errorf("unknown command: %d", code)
	}
}

// check-config lists every problem of the file, each on its line with its key, then how many;
// --json gives them as a list.
func TestCheckConfigListsEveryProblem(t *testing.T) {
	p := filepath.Join(t.TempDir(), "kiosk.toml")
	os.WriteFile(p, []byte(`[hall]
id = "kf"
colour = "red"
[kiosk]
id = "k01"
idle_timeout = "sixty"
[[queue.category]]
letter = "A"
[[queue.category]]
letter = "C"
counters = "3"
`), 0o644)
	code, out, _ := runCtl([]string{"check-config", p}, "")
	want := p + `:3: hall.colour: unknown key (every key of [hall] is in /usr/share/doc/citizenhome-common/kiosk.example.toml)
` + p + `:6: kiosk.idle_timeout: "sixty" is not a duration (write it like "60s" or "5m")
` + p + `:11: queue.category[1].counters (letter "C"): expected a whole number like 3, got the text "3" (remove the quotes)
` + p + `: 3 problems (every key is explained in /usr/share/doc/citizenhome-common/kiosk.example.toml)
`
	if code != 1 || out != want {
		t.Errorf("exit %d, got\n%s\nwant\n%s", code, out, want)
	}
	code, out, _ = runCtl([]string{"check-config", "--json", p}, "")
	var m struct {
		OK       bool `json:"ok"`
		Problems []struct {
			File, Key, Where, Message string
			Line                      int
		} `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil || code != 1 || m.OK || len(m.Problems) != 3 ||
		m.Problems[2].Line != 11 || m.Problems[2].Key != "queue.category[1].counters" || m.Problems[2].Where != `letter "C"` || m.Problems[2].File != p {
		t.Errorf("--json: %d %s %+v", code, out, m)
	}
}

// A file that loads with the example's placeholder ids: ok (exit 0), and a warning line each.
func TestCheckConfigWarnsOfPlaceholders(t *testing.T) {
	p := filepath.Join(t.TempDir(), "kiosk.toml")
	os.WriteFile(p, []byte("[hall]\nid = \"hall\"\n"), 0o644)
	code, out, _ := runCtl([]string{"check-config", p}, "")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || lines[0] != "configuration ok" ||
		!strings.HasPrefix(lines[1], "warning: "+p+`:2: hall.id: "hall" is the example's placeholder`) ||
		!strings.HasPrefix(lines[2], "warning: "+p+`: kiosk.id: not set, so the default "kiosk-01", the example's placeholder`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = runCtl([]string{"check-config", "--json", p}, "")
	var m struct {
		OK       bool              `json:"ok"`
		Warnings []json.RawMessage `json:"warnings"`
	}
	if json.Unmarshal([]byte(out), &m) != nil || code != 0 || !m.OK || len(m.Warnings) != 2 {
		t.Errorf("--json: %d %s", code, out)
	}
	// A missing file: said so, exit 1.
	if code, out, _ := runCtl([]string{"check-config", p + ".gone"}, ""); code != 1 || !strings.Contains(out, "no such file") {
		t.Errorf("missing: %d %q", code, out)
	}
}

// check-config and doctor say why a broker URL is refused and what to do: clear text only to
// this machine, TLS only with the hall's CA. The fleet commands hold their --url to the same rule.
func TestBrokerURLClearTextRefused(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ table, key, words string }{
		{"url = \"tcp://10.0.0.5:1883\"\n", "mqtt.url", "tcp:// sends the password and every message in clear, so it may reach this machine only (127.0.0.1, [::1], localhost); for a broker on another machine use ssl://, with mqtt.ca_file naming the hall's CA certificate"},
		{"url = \"ssl://broker.hall:8883\"\n", "mqtt.ca_file", "ssl://broker.hall:8883 needs the hall's CA certificate file"},
	}
	for i, c := range cases {
		p := filepath.Join(dir, fmt.Sprintf("kiosk%d.toml", i))
		os.WriteFile(p, []byte("[hall]\nid = \"kf\"\n[kiosk]\nid = \"k01\"\n[mqtt]\nenabled = true\ncredentials_file = \"/c\"\n"+c.table), 0o644)
		code, out, _ := runCtl([]string{"check-config", p}, "")
		if code != 1 || !strings.Contains(out, c.key+": ") || !strings.Contains(out, c.words) {
			t.Errorf("check-config %s: exit %d\n%s", c.table, code, out)
		}
		code, out, _ = runCtl([]string{"doctor", "--json", "-config", p}, "")
		var d doctorOut
		if err := json.Unmarshal([]byte(out), &d); err != nil || code != 1 || len(d.Checks) == 0 ||
			d.Checks[0].Name != "config" || d.Checks[0].Status != checkFail || !strings.Contains(d.Checks[0].Message, c.words) {
			t.Errorf("doctor %s: exit %d %s", c.table, code, out)
		}
	}
	// A loopback broker and TLS with the CA are fine.
	for i, table := range []string{"url = \"tcp://[::1]:1883\"\n", "url = \"tcp://localhost:1883\"\n", "url = \"ssl://broker.hall:8883\"\nca_file = \"/etc/citizenhome/hall-ca.pem\"\n"} {
		p := filepath.Join(dir, fmt.Sprintf("ok%d.toml", i))
		os.WriteFile(p, []byte("[hall]\nid = \"kf\"\n[kiosk]\nid = \"k01\"\n[mqtt]\nenabled = true\ncredentials_file = \"/c\"\n"+table), 0o644)
		if code, out, _ := runCtl([]string{"check-config", p}, ""); code != 0 {
			t.Errorf("check-config %s: exit %d %s", table, code, out)
		}
	}
	// The fleet commands refuse before dialling: 192.0.2.1 (TEST-NET) would otherwise be tried.
	for _, c := range []struct{ args, words []string }{
		{[]string{"--url", "tcp://192.0.2.1:1883"}, []string{"in clear", "ssl://HOST:8883 with --ca FILE"}},
		{[]string{"--url", "ssl://192.0.2.1:8883"}, []string{"CA certificate", "--ca"}},
	} {
		args := append([]string{"status", "--hall", "kf", "--user", "ops", "--password", "pw", "--timeout", "2s"}, c.args...)
		code, out, errs := runCtl(args, "")
		for _, w := range c.words {
			if code != 1 || !strings.Contains(out+errs, w) {
				t.Errorf("%v: exit %d, %q %q, want %q", c.args, code, out, errs, w)
			}
		}
	}
}

// TestHashPINRefusesShort: a staff PIN under 6 digits is refused, saying why.
func TestHashPINRefusesShort(t *testing.T) {
	code, out, errOut := runCtl([]string{"hash-pin"}, "13579\n")
	if code != 1 || strings.Contains(out+errOut, "pbkdf2") || !strings.Contains(out+errOut, "6 to 12 digits") {
		t.Errorf("5-digit PIN: exit %d, out %q, err %q", code, out, errOut)
	}
}

// TestCheckConfigStaffPIN: a configuration whose pin_hash was made under the old floor (10,000
// PBKDF2 iterations) is refused, naming the key, its line and the fix; staff cards without a PIN
// are a warning (they open nothing alone).
func TestCheckConfigStaffPIN(t *testing.T) {
	salt := []byte("0123456789abcdef")
	key, err := pbkdf2.Key(sha256.New, "246810", salt, 10000, 32)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawStdEncoding
	old := "pbkdf2-sha256$10000$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key)
	dir := t.TempDir()
	p := filepath.Join(dir, "kiosk.toml")
	os.WriteFile(p, []byte("[hall]\nid = \"kf\"\n[kiosk]\nid = \"kf-01\"\n[staff]\npin_hash = \""+old+"\"\n"), 0o644)
	code, out, _ := runCtl([]string{"check-config", p}, "")
	if code != 1 || !strings.Contains(out, p+":6: staff.pin_hash: made with 10000 PBKDF2 iterations") ||
		!strings.Contains(out, "kioskctl hash-pin") {
		t.Errorf("old hash: %d %q", code, out)
	}
	// The fix named works: a hash of kioskctl hash-pin passes.
	code, h, _ := runCtl([]string{"hash-pin"}, "246810\n")
	if code != 0 {
		t.Fatal(code)
	}
	os.WriteFile(p, []byte("[hall]\nid = \"kf\"\n[kiosk]\nid = \"kf-01\"\n[staff]\npin_hash = \""+strings.TrimSpace(h)+"\"\n"), 0o644)
	if code, out, _ := runCtl([]string{"check-config", p}, ""); code != 0 {
		t.Errorf("new hash: %d %q", code, out)
	}
	os.WriteFile(p, []byte("[hall]\nid = \"kf\"\n[kiosk]\nid = \"kf-01\"\n[staff]\ncards = [\"04A1B2C3\"]\n"), 0o644)
	if code, out, _ := runCtl([]string{"check-config", p}, ""); code != 0 || !strings.Contains(out, "staff.cards") ||
		!strings.Contains(out, "kioskctl hash-pin") {
		t.Errorf("cards without a PIN: %d %q", code, out)
	}
}
