package citizenhome_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
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
	"citizenhome/telemetry/broker"
	"citizenhome/telemetry/link"
)

// The product's binaries built for another architecture (arm64, for the 信创 machines) run on
// this machine under qemu-user, from configurations as an installer writes them, against devices
// emulated natively: halld with its embedded broker, kioskd numbering a ticket through it and
// printing it on an ESC/POS printer emulator behind a real pty, kioskctl checking the kiosk
// through kioskd's API and reading the hall over MQTT, and the kiosk app printing its version.
// scripts/test-arm64.sh (make test-arm64) sets:
//
//	CITIZENHOME_FOREIGN_BIN      the directory of the foreign kiosk, kioskd, kioskctl and halld
//	CITIZENHOME_FOREIGN_RUN      the emulator's command line before the binary ("" with binfmt_misc)
//	CITIZENHOME_FOREIGN_VERSION  the version stamped into them
//	CITIZENHOME_FOREIGN_CLIPS    halld's packaged announcement clips (optional)
//	CITIZENHOME_FOREIGN_OUT      where the printed ticket's picture goes (optional)
//
// Without CITIZENHOME_FOREIGN_BIN the test is skipped: make test does not run it.
func TestForeignBinaries(t *testing.T) {
	binDir := os.Getenv("CITIZENHOME_FOREIGN_BIN")
	if binDir == "" {
		t.Skip("CITIZENHOME_FOREIGN_BIN unset: make test-arm64 runs this test")
	}
	if sh, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		if now := time.Now().In(sh); now.Hour() == 23 && now.Minute() >= 55 {
			t.Skip("the test configuration's hours (00:00-23:59) end in minutes")
		}
	}
	f := &foreign{t: t, bin: binDir, run: strings.Fields(os.Getenv("CITIZENHOME_FOREIGN_RUN")), dir: t.TempDir()}
	version := os.Getenv("CITIZENHOME_FOREIGN_VERSION")
	if version == "" {
		t.Fatal("CITIZENHOME_FOREIGN_VERSION unset")
	}
	// Under emulation each start and request is many times slower than native: generous
	// deadlines, every wait a poll.
	const slow = 3 * time.Minute

	// The kiosk app (Fyne, cgo OpenGL and X11): loads with its libraries and starts.
	if out := f.output("kiosk", "-version"); out != version {
		t.Errorf("kiosk -version printed %q, want %q", out, version)
	}
	if out := f.output("kioskctl", "version"); out != version {
		t.Errorf("kioskctl version printed %q, want %q", out, version)
	}

	// The hall: halld with the broker inside it, its kiosk's and staff's accounts.
	const hall, kioskID = "arm", "k1"
	ctlUser, staffUser, kioskUser := "ctl-"+hall, "ops-"+hall, "kiosk-"+hall+"-"+kioskID
	ctlPass, staffPass, kioskPass := secret(t), secret(t), secret(t)
	ctlCreds, staffCreds, kioskCreds := f.path("halld-mqtt.credentials"), f.path("staff.credentials"), f.path("kiosk-mqtt.credentials")
	for _, c := range []struct{ path, user, pass string }{{ctlCreds, ctlUser, ctlPass}, {staffCreds, staffUser, staffPass}, {kioskCreds, kioskUser, kioskPass}} {
		if err := link.WriteCredentials(c.path, c.user, c.pass); err != nil {
			t.Fatal(err)
		}
	}
	salt := func() []byte { b := make([]byte, 12); rand.Read(b); return b }
	f.write("broker.passwd", fmt.Sprintf("%s:%s\n%s:%s\n", staffUser, broker.HashPassword(staffPass, salt()), kioskUser, broker.HashPassword(kioskPass, salt())))
	acl, err := exec.Command("packaging/mosquitto/citizenhome-acl", "-c", ctlUser, "-s", staffUser, hall, kioskID).Output()
	if err != nil {
		t.Fatalf("citizenhome-acl: %v", err)
	}
	f.write("broker.acl", string(acl))
	httpAddr, mqttAddr := freeAddr(t), freeAddr(t)
	f.write("halld.toml", fmt.Sprintf(`[hall]
id = %q
name = "架构测试大厅"
public_url = "http://%s"

[store]
path = %q

[http]
listen = %q
display_key = "arm64-display-key-0123456789"

[mqtt]
url = "tcp://%s"
embedded = true
credentials_file = %q
password_file = %q
acl_file = %q
command_key_file = %q

[voice]
clips_dir = ""
cache_dir = %q

[followup]
key_file = %q

[[category]]
letter = "A"
name = "综合"
avg_service = "5m"

[[window]]
id = "1"
categories = ["A"]
`, hall, httpAddr, f.path("halld.db"), httpAddr, mqttAddr, ctlCreds, f.path("broker.passwd"), f.path("broker.acl"),
		f.path("command.key"), os.Getenv("CITIZENHOME_FOREIGN_CLIPS"), f.path("halld-hall.key")))
	// An admin token, made as an operator makes one: halld's CLI opens the store (SQLite).
	token := f.output("halld", "token", "create", "--role", "admin", "--name", "arm64", "-config", f.path("halld.toml"))
	if len(token) < 20 || strings.ContainsAny(token, " \n") {
		t.Fatalf("halld token create printed %q, want one token", token)
	}
	halld := f.start("halld", "-config", f.path("halld.toml"))
	hallTickets := func() (map[string]string, error) {
		var body struct {
			Tickets []struct{ Code, Kiosk string } `json:"tickets"`
		}
		code, err := getJSON("http://"+httpAddr+"/v1/tickets", token, &body)
		if err != nil || code != http.StatusOK {
			return nil, fmt.Errorf("GET /v1/tickets: %d %v", code, err)
		}
		out := map[string]string{}
		for _, tk := range body.Tickets {
			out[tk.Code] = tk.Kiosk
		}
		return out, nil
	}
	poll(t, slow, "halld to serve its HTTP API", halld, func() bool { _, err := hallTickets(); return err == nil })
	if code, _ := getJSON("http://"+httpAddr+"/v1/tickets", "", nil); code != http.StatusUnauthorized {
		t.Errorf("halld: GET /v1/tickets without a token answered %d, want 401", code)
	}
	if !strings.Contains(halld.log.String(), version) {
		t.Errorf("halld's log does not name the version %s:\n%s", version, halld.log)
	}

	// The kiosk daemon, numbering through the hall, its printer an emulator on a pty.
	emu, err := emulator.New(emulator.Config{Paper: escpos.Paper80, Baud: 115200})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	line := ptytest.Start(t, emu)
	apiAddr := freeAddr(t)
	const apiToken = "arm64arm64arm64arm64arm64arm64arm64arm64arm64arm64arm64arm64arm6"
	f.write("api.token", apiToken+"\n")
	f.write("kiosk.toml", fmt.Sprintf(`[hall]
id = %q
name = "架构测试大厅"
controller = true

[kiosk]
id = %q
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

[mqtt]
enabled = true
url = "tcp://%s"
credentials_file = %q
`, hall, kioskID, f.path("kiosk.db"), line.Path, apiAddr, f.path("api.token"), f.path("hall.key"), mqttAddr, kioskCreds))
	if out := f.output("kioskctl", "check-config", f.path("kiosk.toml")); !strings.Contains(out, "ok") {
		t.Errorf("kioskctl check-config: %q", out)
	}
	kioskd := f.start("kioskd", "-config", f.path("kiosk.toml"))
	api := "http://" + apiAddr
	poll(t, slow, "kioskd to answer /healthz", kioskd, func() bool {
		code, _ := getJSON(api+"/healthz", "", nil)
		return code == http.StatusOK
	})
	poll(t, slow, "kioskd to be ready (connected to the hall)", kioskd, func() bool {
		var st struct{ State string }
		code, err := getJSON(api+"/v1/status", apiToken, &st)
		return err == nil && code == http.StatusOK && st.State == "ready"
	})
	// A ticket: numbered by the hall (a lease or a given number), printed, counted by the hall.
	var number string
	poll(t, slow, "kioskd to issue a printed ticket", kioskd, func() bool {
		var m struct {
			Ticket  string
			Printed bool
		}
		code, err := postJSON(api+"/v1/tickets", apiToken, `{"category":"A"}`, &m)
		if err != nil || code != http.StatusCreated {
			t.Logf("POST /v1/tickets: %d %v", code, err)
			return false
		}
		if !m.Printed || !strings.HasPrefix(m.Ticket, "A") {
			t.Fatalf("POST /v1/tickets: %+v\n%s", m, kioskd.log)
		}
		number = m.Ticket
		return true
	})
	var ticket emulator.Ticket
	poll(t, slow, "the printer to cut ticket "+number, kioskd, func() bool {
		for _, tk := range emu.Tickets() {
			if slices.Contains(tk.Lines, number) {
				ticket = tk
				return true
			}
		}
		return false
	})
	if len(ticket.QR) != 1 || !strings.Contains(strings.Join(ticket.Lines, "\n"), "架构测试大厅") {
		t.Errorf("ticket %s: lines %q, %d QR codes", number, ticket.Lines, len(ticket.QR))
	}
	if out := os.Getenv("CITIZENHOME_FOREIGN_OUT"); out != "" && ticket.PNG != nil {
		if err := os.WriteFile(filepath.Join(out, "ticket-"+number+".png"), ticket.PNG, 0o644); err != nil {
			t.Error(err)
		}
	}
	poll(t, slow, "halld to list ticket "+number, halld, func() bool {
		tk, err := hallTickets()
		return err == nil && tk[number] == kioskID
	})

	// kioskctl on the kiosk: the doctor finds kioskd through its API (/healthz, /v1/status) and
	// its broker connection; the fleet view reads the hall over MQTT.
	var doc struct {
		Checks []struct{ Name, Status, Message string }
	}
	out, _ := f.cmd("kioskctl", "doctor", "-config", f.path("kiosk.toml"), "--timeout", "60s", "--json").Output()
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("kioskctl doctor --json: %v: %s", err, out)
	}
	for _, name := range []string{"config", "printer", "broker", "store"} {
		i := slices.IndexFunc(doc.Checks, func(c struct{ Name, Status, Message string }) bool { return c.Name == name })
		if i < 0 || doc.Checks[i].Status != "ok" {
			t.Errorf("kioskctl doctor: check %s not ok: %s", name, out)
		}
	}
	fleet, err := f.cmd("kioskctl", "status", "--url", "tcp://"+mqttAddr, "--credentials", staffCreds, "--hall", hall, "--json").Output()
	if err != nil || !bytes.Contains(fleet, []byte(`"`+kioskID+`"`)) {
		t.Errorf("kioskctl status: %v: %s", err, fleet)
	}

	kioskd.stop()
	halld.stop()
}

// foreign runs the binaries of another architecture.
type foreign struct {
	t   *testing.T
	bin string   // their directory
	run []string // the emulator's command line, or none
	dir string   // the configurations' and stores' directory
}

func (f *foreign) path(name string) string { return filepath.Join(f.dir, name) }

func (f *foreign) write(name, text string) {
	f.t.Helper()
	if err := os.WriteFile(f.path(name), []byte(text), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// cmd is the binary name with args, under the emulator.
func (f *foreign) cmd(name string, args ...string) *exec.Cmd {
	argv := append(slices.Clone(f.run), filepath.Join(f.bin, name))
	argv = append(argv, args...)
	c := exec.Command(argv[0], argv[1:]...)
	c.Dir = f.dir
	return c
}

// output runs the binary to its end and returns its standard output, trimmed; a failure fails
// the test.
func (f *foreign) output(name string, args ...string) string {
	f.t.Helper()
	c := f.cmd(name, args...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	t0 := time.Now()
	out, err := c.Output()
	if err != nil {
		f.t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	f.t.Logf("%s %s: %s", name, strings.Join(args, " "), time.Since(t0).Round(time.Millisecond))
	return strings.TrimSpace(string(out))
}

type proc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	log    *lockedLog
	exited chan struct{}
	err    error
	once   sync.Once
}

// start starts a server; the test's end stops it (SIGTERM) if stop was not called.
func (f *foreign) start(name string, args ...string) *proc {
	f.t.Helper()
	p := &proc{t: f.t, name: name, cmd: f.cmd(name, args...), log: &lockedLog{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	f.t.Cleanup(p.stop)
	return p
}

// stop ends the server with SIGTERM, as systemd does, and fails the test if it does not exit
// cleanly within a minute.
func (p *proc) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
			if p.err != nil {
				p.t.Errorf("%s exited with %v after SIGTERM\n%s", p.name, p.err, p.log)
			}
		case <-time.After(time.Minute):
			_ = p.cmd.Process.Kill()
			<-p.exited
			p.t.Errorf("%s did not stop on SIGTERM within a minute\n%s", p.name, p.log)
		}
	})
}

// poll calls cond every 100 ms until it holds; it fails the test at the deadline, or when p exits.
func poll(t *testing.T, d time.Duration, what string, p *proc, cond func() bool) {
	t.Helper()
	t0 := time.Now()
	for !cond() {
		select {
		case <-p.exited:
			t.Fatalf("%s exited (%v) while waiting for %s\n%s", p.name, p.err, what, p.log)
		default:
		}
		if time.Since(t0) > d {
			t.Fatalf("timed out after %s waiting for %s\n%s", d, what, p.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%s: %s", what, time.Since(t0).Round(time.Millisecond))
}

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func secret(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var apiClient = &http.Client{Timeout: 30 * time.Second}

// getJSON is GET url with the bearer token (none when ""), its body decoded into v (when not nil).
func getJSON(url, token string, v any) (int, error) {
	return doJSON("GET", url, token, "", v)
}

func postJSON(url, token, body string, v any) (int, error) {
	return doJSON("POST", url, token, body, v)
}

func doJSON(method, url, token, body string, v any) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || v == nil || resp.StatusCode >= 300 {
		return resp.StatusCode, err
	}
	return resp.StatusCode, json.Unmarshal(b, v)
}
