package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/escpos/emulator/ptytest"
	"citizenhome/internal/logging/journaltest"
)

// kioskd under a real journald, its stderr connected as systemd connects a service's: a crew
// reading `journalctl -u kioskd -p warning` finds the printer going offline, running out of
// paper and a refused token, once each, and nothing of the routine; without -p it also finds
// the start, the printer back, and the stop with its reason. No line carries a token.
func TestKioskdJournal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	j := journaltest.Start(t)
	emu, err := emulator.New(emulator.Config{Paper: escpos.Paper80, SkipPNG: true, Baud: 115200})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	line := ptytest.Start(t, emu)

	dir := t.TempDir()
	bin := filepath.Join(dir, "kioskd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sock := filepath.Join(dir, "api.sock")
	tokenFile := filepath.Join(dir, "api.token")
	if err := os.WriteFile(tokenFile, []byte(e2eToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "kiosk.toml")
	cfg := fmt.Sprintf(`[hall]
id = "e2e"
name = "日志测试大厅"

[kiosk]
id = "kiosk-journal"
store = %q

[hours]
weekday = ["00:00-23:59"]
weekend = ["00:00-23:59"]

[devices]
printer = %q
printer_baud = 115200

[api]
listen = "unix:%s"
token_file = %q

[privacy]
key_file = %q
`, filepath.Join(dir, "kiosk.db"), line.Path, sock, tokenFile, filepath.Join(dir, "hall.key"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	stream, env := j.Stream(t, "kioskd")
	out := &lockedBuffer{}
	cmd := exec.Command(bin, "-config", cfgPath)
	cmd.Env = append(os.Environ(), env)
	cmd.Stdout, cmd.Stderr = out, stream
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stream.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	// What the failures show: the journal's lines (kioskd's stderr is the journal).
	journalText := lazy(func() string {
		var b strings.Builder
		for _, e := range j.Entries(t, "SYSLOG_IDENTIFIER=kioskd") {
			fmt.Fprintf(&b, "<%s> %s\n", e.Field("PRIORITY"), e.Field("MESSAGE"))
		}
		return b.String()
	})
	d := &daemon{t: t, log: out, dir: dir, base: "http://kioskd", client: &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}},
	}}
	printerState := func() string {
		_, m := d.call("GET", "/v1/status", "", true)
		devs, _ := m["devices"].(map[string]any)
		p, _ := devs["printer"].(map[string]any)
		s, _ := p["state"].(string)
		return s
	}
	waitFor(t, "kioskd to answer", journalText, func() bool {
		select {
		case err := <-exited:
			t.Fatalf("kioskd exited: %v\n%s", err, journalText)
		default:
		}
		resp, err := d.client.Get("http://kioskd/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	waitFor(t, "the printer ok", journalText, func() bool { return printerState() == "ok" })

	// Refused tokens: the first logged at once, the rest of the minute summed up later.
	req, _ := http.NewRequest("GET", "http://kioskd/v1/card", nil)
	req.Header.Set("Authorization", "Bearer not-the-token-SECRET42")
	for range 3 {
		resp, err := d.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	// The printer is unplugged and plugged in again, then runs out of paper and gets a roll.
	line.Vanish()
	waitFor(t, "the printer offline", journalText, func() bool { return printerState() == "offline" })
	line.Return()
	waitFor(t, "the printer back", journalText, func() bool { return printerState() == "ok" })
	emu.SetCondition(emulator.PaperOut)
	waitFor(t, "the printer out of paper", journalText, func() bool { return printerState() == "paper-out" })
	emu.SetCondition(emulator.Ready)
	waitFor(t, "the new roll", journalText, func() bool { return printerState() == "ok" })

	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("kioskd after SIGTERM: %v\n%s", err, journalText)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("kioskd did not stop on SIGTERM\n%s", journalText)
	}

	has := func(es []journaltest.Entry, parts ...string) int {
		n := 0
		for _, e := range es {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(e.Field("MESSAGE"), p)
			}
			if ok {
				n++
			}
		}
		return n
	}
	all := j.WaitFor(t, 10*time.Second, func(es []journaltest.Entry) bool { return has(es, `msg="kioskd stopped"`) == 1 },
		"SYSLOG_IDENTIFIER=kioskd")
	warn := j.Entries(t, "SYSLOG_IDENTIFIER=kioskd", "-p", "warning")
	if testing.Verbose() {
		t.Logf("the journal:\n%s", journalText)
	}
	for _, w := range []struct {
		parts []string
		n     int
	}{
		{[]string{`msg="device offline"`, "device=printer", "was=ok", "detail="}, 1},
		{[]string{`msg="printer out of paper"`, "device=printer"}, 1},
		{[]string{`msg="API request refused: wrong or missing token"`, `endpoint="GET /v1/card"`, "count=1"}, 1},
		// The other two, within the same minute, summed up when kioskd stops.
		{[]string{`msg="API request refused: wrong or missing token"`, `endpoint="GET /v1/card"`, "count=2"}, 1},
		{[]string{`msg="hall key created"`}, 1},
	} {
		if got := has(warn, w.parts...); got != w.n {
			t.Errorf("journalctl -p warning: %d lines with %q, want %d\n%s", got, w.parts, w.n, journalText)
		}
	}
	for _, e := range warn {
		if p := e.Field("PRIORITY"); p != "3" && p != "4" {
			t.Errorf("-p warning gave priority %s: %q", p, e.Field("MESSAGE"))
		}
	}
	for _, w := range []struct {
		parts []string
		prio  string
	}{
		{[]string{`msg="kioskd starting"`, "version=dev", "config=" + cfgPath}, "6"},
		{[]string{`msg="kioskd serving"`}, "6"},
		{[]string{`msg="device back"`, "device=printer", "was=offline"}, "6"},
		{[]string{`msg="device back"`, "device=printer", "was=paper-out"}, "6"},
		{[]string{`msg="kioskd stopping"`, `reason="terminated signal received"`}, "6"},
		{[]string{`msg="kioskd stopped"`, `reason="terminated signal received"`}, "6"},
	} {
		found := false
		for _, e := range all {
			if has([]journaltest.Entry{e}, w.parts...) == 1 {
				found = true
				if e.Field("PRIORITY") != w.prio {
					t.Errorf("%q at priority %s, want %s", e.Field("MESSAGE"), e.Field("PRIORITY"), w.prio)
				}
			}
		}
		if !found {
			t.Errorf("no line with %q\n%s", w.parts, journalText)
		}
	}
	for _, e := range all {
		m := e.Field("MESSAGE")
		if strings.HasPrefix(m, "<") || strings.Contains(m, "time=") || strings.Contains(m, "SECRET42") || strings.Contains(m, e2eToken) {
			t.Errorf("line with a priority prefix left, a time of its own, or a token: %q", m)
		}
	}
}

// lazy is a Stringer computed when printed: the journal as it is when a wait fails.
type lazy func() string

func (l lazy) String() string { return l() }
