package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/escpos/emulator/ptytest"
	"citizenhome/devices/idcard/samsim"
	samtty "citizenhome/devices/idcard/samsim/ptytest"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/mqtttest"
)

// The whole hall as separate processes: Mosquitto, halld and three kioskd with printer
// emulators on ptys, issuing tickets at once while halld is killed with SIGKILL (twice) and
// started again, the broker is killed and started again, a kiosk is killed and started again,
// and one kiosk is cut off from the broker for a minute. Afterwards every printed code is unique
// and halld lists every printed ticket.

const kioskToken = "hall0123456789abcdef0123456789abcdef"

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// proc is a daemon the test starts, kills and starts again.
type proc struct {
	t    testing.TB
	name string
	args []string
	log  *logBuf
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func startProc(t *testing.T, name string, args ...string) *proc { return startProcTB(t, name, args...) }

func startProcTB(t testing.TB, name string, args ...string) *proc {
	p := &proc{t: t, name: name, args: args, log: &logBuf{}}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *proc) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
}

func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *proc) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		p.cmd = nil
	}
}

func (p *proc) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		p.t.Errorf("%s did not stop on SIGTERM\n%s", p.name, p.log)
	}
	p.cmd = nil
}

// cutter is a TCP relay between one kiosk and the broker that can be cut: while cut, nothing
// passes either way and new connections hang, as behind a dead switch; when it heals, the
// connections held are dropped (their peers time out in a real partition) and new ones pass.
type cutter struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
	healed chan struct{}
}

func newCutter(t *testing.T, target string) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln, target: target, healed: make(chan struct{})}
	close(c.healed)
	go c.serve()
	t.Cleanup(func() { ln.Close(); c.drop() })
	return c
}

func (c *cutter) addr() string { return c.ln.Addr().String() }

func (c *cutter) serve() {
	for {
		in, err := c.ln.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		c.conns = append(c.conns, in)
		healed := c.healed
		c.mu.Unlock()
		go func() {
			<-healed // a connection made during the cut waits, then is dropped with the others
			c.mu.Lock()
			cut := c.cut
			c.mu.Unlock()
			if cut {
				return
			}
			out, err := net.Dial("tcp", c.target)
			if err != nil {
				in.Close()
				return
			}
			c.mu.Lock()
			c.conns = append(c.conns, out)
			c.mu.Unlock()
			go c.pipe(out, in)
			c.pipe(in, out)
		}()
	}
}

// pipe copies while not cut; during a cut the bytes read are held back, never delivered.
func (c *cutter) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			c.mu.Lock()
			cut := c.cut
			c.mu.Unlock()
			if cut {
				continue
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				src.Close()
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (c *cutter) setCut(on bool) {
	c.mu.Lock()
	c.cut = on
	if on {
		c.healed = make(chan struct{})
	} else {
		close(c.healed)
	}
	c.mu.Unlock()
	if !on {
		c.drop()
	}
}

func (c *cutter) drop() {
	c.mu.Lock()
	cs := c.conns
	c.conns = nil
	c.mu.Unlock()
	for _, x := range cs {
		x.Close()
	}
}

func buildBinaries(t *testing.T, dir string) (halld, kioskd string) {
	t.Helper()
	halld, kioskd = filepath.Join(dir, "halld"), filepath.Join(dir, "kioskd")
	buildOne(t, halld, ".")
	buildOne(t, kioskd, "../kioskd")
	return halld, kioskd
}

func buildOne(tb testing.TB, bin, pkg string) {
	tb.Helper()
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writeFile(t testing.TB, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// hallConfig writes halld's configuration and returns its path and HTTP address.
func hallConfig(t testing.TB, dir, mqttURL string, env mqtttest.Env, leaseSize int) (string, string) {
	creds := filepath.Join(dir, "halld-mqtt.credentials")
	if err := link.WriteCredentials(creds, env.ControllerUser, env.ControllerPassword); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`[hall]
id = %q
name = "端到端测试大厅"
public_url = "http://%s"

[store]
path = %q

[http]
listen = %q
display_key = "e2e-display-key-0123456789"

[mqtt]
url = %q
credentials_file = %q
command_key_file = %q

[voice]
clips_dir = ""
cache_dir = %q

[rules]
lease_size = %d

[followup]
key_file = %q

[[category]]
letter = "A"
name = "综合"
avg_service = "5m"

[[category]]
letter = "B"
name = "社保"
avg_service = "5m"

[[category]]
letter = "C"
name = "医保"
avg_service = "5m"

[[category]]
letter = "D"
name = "出入境"
avg_service = "5m"

[[category]]
letter = "E"
name = "市场监管"
avg_service = "5m"

[[category]]
letter = "F"
name = "不动产"
avg_service = "5m"

[[window]]
id = "1"
categories = ["A", "B", "C", "D", "E", "F"]
`, env.Hall, addr, filepath.Join(dir, "halld.db"), addr, mqttURL, creds, filepath.Join(dir, "command.key"), filepath.Join(dir, "clips"), leaseSize,
		filepath.Join(dir, "hall.key"))
	path := filepath.Join(dir, "halld.toml")
	writeFile(t, path, cfg)
	return path, addr
}

type kioskProc struct {
	*proc
	id     string
	client *http.Client
	// The kiosk's devices, for faults: its printer's emulator on a pty and its ID card reader's
	// SAM simulator on another.
	printer *ptytest.Line
	idLine  *samtty.Line
}

func startKiosk(t testing.TB, bin, dir, id, hall, mqttURL string, env mqtttest.Env) *kioskProc {
	kdir := filepath.Join(dir, id)
	os.MkdirAll(kdir, 0o700)
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	line := ptytest.Start(t, emu)
	idLine := samtty.Start(t, samsim.New())
	creds := filepath.Join(kdir, "mqtt.credentials")
	if err := link.WriteCredentials(creds, env.KioskUser(id), env.KioskPassword); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(kdir, "api.token")
	writeFile(t, tokenFile, kioskToken+"\n")
	sock := filepath.Join(kdir, "api.sock")
	cfg := fmt.Sprintf(`[hall]
id = %q
name = "端到端测试大厅"
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
id_reader = %q

[api]
listen = "unix:%s"
token_file = %q

[privacy]
key_file = %q

[mqtt]
enabled = true
url = %q
credentials_file = %q
`, hall, id, filepath.Join(kdir, "kiosk.db"), line.Path, idLine.Path, sock, tokenFile, filepath.Join(kdir, "hall.key"), mqttURL, creds)
	cfgPath := filepath.Join(kdir, "kiosk.toml")
	writeFile(t, cfgPath, cfg)
	k := &kioskProc{proc: startProcTB(t, "kioskd "+id, bin, "-config", cfgPath), id: id, printer: line, idLine: idLine, client: &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}},
	}}
	waitUntil(t, 30*time.Second, "kioskd "+id+" to answer", k.log, func() bool {
		resp, err := k.client.Get("http://kioskd/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return k
}

func (k *kioskProc) get(path string, v any) error {
	req, _ := http.NewRequest("GET", "http://kioskd"+path, nil)
	req.Header.Set("Authorization", "Bearer "+kioskToken)
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// take asks for a ticket; it returns the code when one was printed.
func (k *kioskProc) take(category string) (code string, printed bool, status int, err error) {
	req, _ := http.NewRequest("POST", "http://kioskd/v1/tickets", strings.NewReader(`{"category":"`+category+`"}`))
	req.Header.Set("Authorization", "Bearer "+kioskToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return "", false, 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m struct {
		Ticket  string `json:"ticket"`
		Printed bool   `json:"printed"`
	}
	json.Unmarshal(body, &m)
	if resp.StatusCode != 201 {
		return "", false, resp.StatusCode, fmt.Errorf("%d %s", resp.StatusCode, body)
	}
	return m.Ticket, m.Printed, 201, nil
}

func waitUntil(t testing.TB, d time.Duration, what string, log fmt.Stringer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s\n%s", d, what, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hallTickets is GET /v1/tickets with an admin token.
func hallTickets(addr, token string) (map[string]string, error) {
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/tickets", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Tickets []struct {
			Code  string `json:"code"`
			Kiosk string `json:"kiosk"`
		} `json:"tickets"`
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET /v1/tickets: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, t := range body.Tickets {
		out[t.Code] = t.Kiosk
	}
	return out, nil
}

func TestHallUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole hall under faults takes about two minutes")
	}
	cut := 60 * time.Second
	if d, err := time.ParseDuration(os.Getenv("HALL_E2E_CUT")); err == nil {
		cut = d
	}
	dir := t.TempDir()
	halldBin, kioskdBin := buildBinaries(t, dir)
	env := mqtttest.NewEnv("e2e", "k1", "k2", "k3")
	m := mqtttest.StartMosquitto(t, env)
	cfgPath, httpAddr := hallConfig(t, dir, m.URL, env, 40)
	// An admin token for the checks, made with the command an operator uses.
	out, err := exec.Command(halldBin, "token", "create", "--role", "admin", "--name", "e2e", "-config", cfgPath).Output()
	if err != nil {
		t.Fatalf("halld token create: %v", err)
	}
	token := strings.TrimSpace(string(out))
	hall := startProc(t, "halld", halldBin, "-config", cfgPath)
	waitUntil(t, 30*time.Second, "halld to serve", hall.log, func() bool {
		_, err := hallTickets(httpAddr, token)
		return err == nil
	})
	relay := newCutter(t, fmt.Sprintf("127.0.0.1:%d", m.Port))
	kiosks := []*kioskProc{
		startKiosk(t, kioskdBin, dir, "k1", env.Hall, m.URL, env),
		startKiosk(t, kioskdBin, dir, "k2", env.Hall, m.URL, env),
		startKiosk(t, kioskdBin, dir, "k3", env.Hall, "tcp://"+relay.addr(), env),
	}
	// Each kiosk has its lease before the faults begin.
	for _, k := range kiosks {
		waitUntil(t, 30*time.Second, k.id+" to be connected", k.log, func() bool {
			var st struct {
				State string `json:"state"`
			}
			return k.get("/v1/status", &st) == nil && st.State == "ready"
		})
	}
	time.Sleep(2 * time.Second) // leases are published at each kiosk's birth; see the checks below

	type printed struct{ code, kiosk string }
	var (
		mu      sync.Mutex
		got     []printed
		refused = map[string]int{}
	)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i, k := range kiosks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cats := []string{"A", "B"}
			for n := 0; ctx.Err() == nil; n++ {
				code, ok, _, err := k.take(cats[(n+i)%2])
				mu.Lock()
				if err != nil {
					refused[k.id]++
				} else if ok {
					got = append(got, printed{code, k.id})
				}
				mu.Unlock()
				select {
				case <-ctx.Done():
				case <-time.After(time.Second): // a kiosk as busy as a whole busy hall
				}
			}
		}()
	}
	begin := time.Now()
	at := func(d time.Duration) { time.Sleep(time.Until(begin.Add(d))) }
	at(3 * time.Second)
	relay.setCut(true) // k3 alone, for a minute
	t.Logf("k3 cut off at %s", time.Since(begin).Round(time.Millisecond))
	at(8 * time.Second)
	hall.kill()
	t.Logf("halld killed at %s", time.Since(begin).Round(time.Millisecond))
	at(14 * time.Second)
	hall.start()
	at(24 * time.Second)
	m.Kill()
	t.Logf("broker killed at %s", time.Since(begin).Round(time.Millisecond))
	at(29 * time.Second)
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	at(36 * time.Second)
	hall.kill() // a second time, with the broker just back
	at(38 * time.Second)
	hall.start()
	at(44 * time.Second)
	kiosks[1].kill() // a kiosk too, mid-ticket or not
	t.Logf("k2 killed at %s", time.Since(begin).Round(time.Millisecond))
	at(47 * time.Second)
	kiosks[1].start()
	at(3*time.Second + cut)
	relay.setCut(false)
	t.Logf("k3 back at %s", time.Since(begin).Round(time.Millisecond))
	at(3*time.Second + cut + 5*time.Second)
	stop()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	byCode := map[string]string{}
	perKiosk := map[string]int{}
	leased := map[string]int{}
	normal := regexp.MustCompile(`^[A-Z][0-9]{3}$`)
	for _, p := range got {
		if !normal.MatchString(p.code) {
			t.Errorf("code %q is not in the normal form (A012)", p.code)
		}
		if n, _ := strconv.Atoi(p.code[1:]); n >= 900 {
			leased[p.kiosk]++
		}
		if other, dup := byCode[p.code]; dup {
			t.Errorf("code %s printed twice: by %s and by %s", p.code, other, p.kiosk)
		}
		byCode[p.code] = p.kiosk
		perKiosk[p.kiosk]++
	}
	t.Logf("printed %d tickets (%v), from leases %v, refused %v", len(got), perKiosk, leased, refused)
	// The faults must have been felt: the kiosk cut off printed from its lease, and so did the
	// others while halld was down.
	if leased["k3"] < 10 || leased["k1"]+leased["k2"] == 0 {
		t.Errorf("lease tickets %v: the faults did not send the kiosks to their leases", leased)
	}
	for _, k := range kiosks {
		if perKiosk[k.id] < 20 {
			t.Errorf("%s printed only %d tickets: the hall did not keep it working\n%s", k.id, perKiosk[k.id], k.log)
		}
	}
	// Every printed ticket reaches halld once each kiosk's outbox drains to it.
	var listed map[string]string
	waitUntil(t, 90*time.Second, "halld to list every printed ticket", hall.log, func() bool {
		l, err := hallTickets(httpAddr, token)
		if err != nil {
			return false
		}
		listed = l
		for code := range byCode {
			if _, ok := listed[code]; !ok {
				return false
			}
		}
		return true
	})
	var missing, wrong []string
	for code, k := range byCode {
		if listed[code] == "" {
			missing = append(missing, code)
		} else if listed[code] != k {
			wrong = append(wrong, code+" "+k+"≠"+listed[code])
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 || len(wrong) > 0 {
		t.Errorf("halld misses %v, names the wrong kiosk for %v", missing, wrong)
	}
	for _, k := range kiosks {
		var st struct {
			Outbox int `json:"outbox"`
		}
		if err := k.get("/v1/status", &st); err == nil && st.Outbox != 0 {
			t.Errorf("%s still holds %d events halld has not acknowledged", k.id, st.Outbox)
		}
	}
}
