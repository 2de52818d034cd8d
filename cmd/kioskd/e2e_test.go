package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/escpos/emulator/ptytest"
)

// The real kioskd binary, started on a temporary configuration whose printer is a pty served by
// the printer emulator, driven over its HTTP API like a window application would.

const e2eToken = "e2e0123456789abcdef0123456789abcdef"

// lockedBuffer collects kioskd's log for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type daemon struct {
	t      *testing.T
	client *http.Client
	log    *lockedBuffer
	dir    string
	base   string // http://kioskd on the unix socket; http://ADDR over TCP, whose Host kioskd checks
}

// call sends method path with body (may be ""), with the token when auth, and decodes the JSON
// answer.
func (d *daemon) call(method, path, body string, auth bool) (int, map[string]any) {
	d.t.Helper()
	req, err := http.NewRequest(method, d.base+path, strings.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+e2eToken)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.client.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v\nkioskd log:\n%s", method, path, err, d.log)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		d.t.Fatalf("%s %s: %d, body not JSON: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, m
}

func errorCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, log fmt.Stringer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s\nkioskd log:\n%s", what, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startKioskd(t *testing.T, printer string) *daemon { return startKioskdOn(t, printer, "") }

// startKioskdOn starts kioskd with its API on listen (a loopback host:port), or on a unix
// socket in its directory when listen is "".
func startKioskdOn(t *testing.T, printer, listen string) *daemon {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "kioskd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sock := filepath.Join(dir, "api.sock")
	network, addr := "unix", sock
	if listen == "" {
		listen = "unix:" + sock
	} else {
		network, addr = "tcp", listen
	}
	tokenFile := filepath.Join(dir, "api.token")
	if err := os.WriteFile(tokenFile, []byte(e2eToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`[hall]
id = "e2e"
name = "端到端测试大厅"
name_en = "End-to-end Hall"

[kiosk]
id = "kiosk-e2e"
store = %q

[hours]
weekday = ["00:00-23:59"]
weekend = ["00:00-23:59"]

[devices]
printer = %q
printer_baud = 115200
printer_paper = "80mm"

[api]
listen = %q
token_file = %q

[privacy]
key_file = %q
`, filepath.Join(dir, "kiosk.db"), printer, listen, tokenFile, filepath.Join(dir, "hall.key"))
	cfgPath := filepath.Join(dir, "kiosk.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	log := &lockedBuffer{}
	cmd := exec.Command(bin, "-config", cfgPath)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("kioskd exited with %v after SIGTERM\n%s", err, log)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("kioskd did not stop on SIGTERM\n%s", log)
		}
	})

	base := "http://kioskd"
	if network == "tcp" {
		base = "http://" + addr
	}
	d := &daemon{t: t, log: log, dir: dir, base: base, client: &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}},
	}}
	waitFor(t, "kioskd to answer /healthz", log, func() bool {
		select {
		case err := <-exited:
			t.Fatalf("kioskd exited: %v\n%s", err, log)
		default:
		}
		resp, err := d.client.Get(d.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return d
}

func TestKioskdEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	if sh, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		if now := time.Now().In(sh); now.Hour() == 23 && now.Minute() >= 58 {
			t.Skip("the test configuration's hours (00:00-23:59) end in a minute")
		}
	}
	emu, err := emulator.New(emulator.Config{Paper: escpos.Paper80, SkipPNG: true, Baud: 115200})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	line := ptytest.Start(t, emu)
	d := startKioskd(t, line.Path)

	// No token, no ticket.
	if code, m := d.call("POST", "/v1/tickets", `{"category":"A"}`, false); code != 401 || errorCode(m) != "unauthorized" {
		t.Fatalf("without token: %d %v", code, m)
	}

	code, m := d.call("POST", "/v1/tickets", `{"category":"A"}`, true)
	number, _ := m["ticket"].(string)
	if code != 201 || !strings.HasPrefix(number, "A") || m["printed"] != true {
		t.Fatalf("POST /v1/tickets: %d %v\n%s", code, m, d.log)
	}
	var ticket emulator.Ticket
	waitFor(t, "the printer to cut ticket "+number, d.log, func() bool {
		for _, tk := range emu.Tickets() {
			if slices.Contains(tk.Lines, number) {
				ticket = tk
				return true
			}
		}
		return false
	})
	if len(ticket.QR) != 1 || !strings.Contains(strings.Join(ticket.Lines, "\n"), "端到端测试大厅") {
		t.Errorf("ticket %v: %q", ticket, ticket.Lines)
	}

	// The status snapshot (telemetry is off here: from the core) counts the ticket.
	code, m = d.call("GET", "/v1/status", "", true)
	if cn, _ := m["counters"].(map[string]any); code != 200 || m["state"] != "ready" || cn["tickets"] != 1.0 {
		t.Errorf("GET /v1/status after one ticket: %d %v", code, m)
	}
	if _, err := os.Stat(filepath.Join(d.dir, "hall.key")); err != nil {
		t.Errorf("the hall key was not created at first start: %v", err)
	}

	before := len(emu.Tickets())
	if code, m := d.call("POST", "/v1/printer/selftest", "", false); code != 401 {
		t.Fatalf("self-test without token: %d %v", code, m)
	}
	code, m = d.call("POST", "/v1/printer/selftest", "", true)
	if code != 200 || m["state"] != "ok" {
		t.Fatalf("POST /v1/printer/selftest: %d %v\n%s", code, m, d.log)
	}
	waitFor(t, "the self-test page", d.log, func() bool { return len(emu.Tickets()) == before+1 })
	page := strings.Join(emu.Tickets()[before].Lines, "\n")
	for _, w := range []string{"打印机自检页", "kiosk-e2e", "正常 (ok)", "dev"} {
		if !strings.Contains(page, w) {
			t.Errorf("self-test page lacks %q:\n%s", w, page)
		}
	}

	// Out of paper: both refuse before a byte of a job is sent, with the state in the code.
	emu.SetCondition(emulator.PaperOut)
	jobBytes := emu.Stats().JobBytes()
	if code, m := d.call("POST", "/v1/printer/selftest", "", true); code != 503 || errorCode(m) != "printer-paper-out" {
		t.Errorf("self-test out of paper: %d %v", code, m)
	}
	if code, m := d.call("POST", "/v1/tickets", `{"category":"A"}`, true); code != 503 || errorCode(m) != "printer-paper-out" {
		t.Errorf("ticket out of paper: %d %v", code, m)
	}
	if got := emu.Stats().JobBytes(); got != jobBytes {
		t.Errorf("%d job bytes sent to a printer without paper", got-jobBytes)
	}
	if _, m := d.call("GET", "/healthz", "", false); m["state"] != "degraded" {
		t.Errorf("healthz out of paper: %v", m)
	}
	// A new roll: only kioskd's idle status poll can notice it.
	emu.SetCondition(emulator.Ready)
	waitFor(t, "the idle poll to see the new roll", d.log, func() bool {
		_, m := d.call("GET", "/healthz", "", false)
		return m["state"] == "ready"
	})
}
