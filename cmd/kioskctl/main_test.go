package main

import (
	"bytes"
	"encoding/json"
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
