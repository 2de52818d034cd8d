package soak

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The real kioskd, built by the test with the probe file added (testdata/probe.go), run on a
// configuration the test writes, driven over its local API on a unix socket.

const apiToken = "soak0123456789abcdef0123456789abcd"

// daemonConfig is what differs between runs in kioskd's configuration.
type daemonConfig struct {
	TimeZone  string
	Printer   string // device paths
	IDReader  string
	MQTTURL   string
	MQTTUser  string
	MQTTPass  string
	CardRdr   string // PC/SC reader names
	UIDReader string
}

type daemon struct {
	t       *testing.T
	dir     string
	store   string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	api     *client
	probe   *http.Client
}

// repoRoot is the module's root: this package is cmd/kioskd/soak.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// buildKioskd builds cmd/kioskd with testdata/probe.go added to its package (go build -overlay).
func buildKioskd(t *testing.T, dir string) string {
	t.Helper()
	root := repoRoot(t)
	probe, err := filepath.Abs(filepath.Join("testdata", "probe.go"))
	if err != nil {
		t.Fatal(err)
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {
		filepath.Join(root, "cmd", "kioskd", "zz_soak_probe.go"): probe,
	}})
	if err != nil {
		t.Fatal(err)
	}
	ov := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(ov, overlay, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "kioskd")
	cmd := exec.Command("go", "build", "-overlay", ov, "-o", bin, "./cmd/kioskd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build kioskd: %v\n%s", err, out)
	}
	return bin
}

// startKioskd builds and starts kioskd on c and waits until its API answers.
func startKioskd(t *testing.T, c daemonConfig) *daemon {
	t.Helper()
	dir := t.TempDir()
	bin := buildKioskd(t, dir)
	d := &daemon{t: t, dir: dir, store: filepath.Join(dir, "kiosk.db"), logPath: filepath.Join(dir, "kioskd.log"), exited: make(chan struct{})}
	sock := filepath.Join(dir, "api.sock")
	probe := filepath.Join(dir, "probe.sock")
	tokenFile := filepath.Join(dir, "api.token")
	creds := filepath.Join(dir, "mqtt.creds")
	for path, text := range map[string]string{tokenFile: apiToken + "\n", creds: c.MQTTUser + "\n" + c.MQTTPass + "\n"} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := fmt.Sprintf(`[hall]
id = "soak"
name = "浸泡测试大厅"
name_en = "Soak Test Hall"
time_zone = %q

[kiosk]
id = "k1"
store = %q

[hours]
weekday = ["00:00-23:59"]
weekend = ["00:00-23:59"]

[devices]
printer = %q
printer_baud = 115200
printer_paper = "80mm"
id_reader = %q
id_reader_baud = 115200
card_reader = %q
uid_reader = %q

[mqtt]
enabled = true
url = %q
credentials_file = %q

[api]
listen = "unix:%s"
token_file = %q

[privacy]
key_file = %q
`, c.TimeZone, d.store, c.Printer, c.IDReader, c.CardRdr, c.UIDReader, c.MQTTURL, creds, sock, tokenFile, filepath.Join(dir, "hall.key"))
	cfgPath := filepath.Join(dir, "kiosk.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(d.logPath)
	if err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(bin, "-config", cfgPath)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.Env = append(os.Environ(), "CITIZENHOME_SOAK_PROBE="+probe)
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.waitErr = d.cmd.Wait()
		logf.Close()
		close(d.exited)
	}()
	t.Cleanup(func() {
		if d.running() {
			_ = d.cmd.Process.Kill()
			<-d.exited
		}
	})
	d.api = newClient(sock)
	d.probe = &http.Client{Timeout: 10 * time.Second, Transport: unixTransport(probe)}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if !d.running() {
			t.Fatalf("kioskd exited at start: %v\n%s", d.waitErr, d.logTail(50))
		}
		if code, _, err := d.api.do(context.Background(), "GET", "/healthz", ""); err == nil && code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kioskd's API did not answer within 60s\n%s", d.logTail(50))
		}
		time.Sleep(50 * time.Millisecond) // polling the daemon's start, bounded by the deadline
	}
	return d
}

func (d *daemon) running() bool {
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and returns kioskd's exit error (nil for a clean exit), or an error when it
// does not stop within 30 s (it is then killed).
func (d *daemon) stop() error {
	if !d.running() {
		return fmt.Errorf("kioskd had already exited: %v", d.waitErr)
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
		return d.waitErr
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
		return errors.New("kioskd did not stop within 30s of SIGTERM")
	}
}

// log returns kioskd's whole log so far.
func (d *daemon) log() string {
	b, _ := os.ReadFile(d.logPath)
	return string(b)
}

// logTail returns the last n lines of kioskd's log.
func (d *daemon) logTail(n int) string {
	lines := strings.Split(strings.TrimRight(d.log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "kioskd log (last lines):\n" + strings.Join(lines, "\n")
}

// procSample is one reading of kioskd's process figures.
type procSample struct {
	At         time.Time
	RSSKiB     int64 // VmRSS
	Threads    int64
	FDs        int64
	Goroutines int64  // from the probe; -1 when it did not answer
	HeapInuse  uint64 // from the probe
}

// sample reads /proc/PID/status and /proc/PID/fd, and the probe.
func (d *daemon) sample(ctx context.Context) (procSample, error) {
	s := procSample{At: time.Now(), Goroutines: -1}
	pid := d.cmd.Process.Pid
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		switch k {
		case "VmRSS":
			s.RSSKiB = n
		case "Threads":
			s.Threads = n
		}
	}
	f.Close()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, err
	}
	s.FDs = int64(len(fds))
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://probe/probe", nil)
	resp, err := d.probe.Do(req)
	if err != nil {
		return s, fmt.Errorf("probe: %w", err)
	}
	defer resp.Body.Close()
	var p struct {
		Goroutines int64  `json:"goroutines"`
		HeapInuse  uint64 `json:"heap_inuse"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return s, fmt.Errorf("probe: %w", err)
	}
	s.Goroutines, s.HeapInuse = p.Goroutines, p.HeapInuse
	return s, nil
}

// goroutineDump returns kioskd's goroutine stacks (from the probe), for a failure message.
func (d *daemon) goroutineDump() string {
	resp, err := d.probe.Get("http://probe/goroutines")
	if err != nil {
		return "probe: " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func unixTransport(sock string) *http.Transport {
	return &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}
}

// client calls kioskd's local API. Safe for concurrent use.
type client struct{ http *http.Client }

func newClient(sock string) *client {
	return &client{http: &http.Client{Timeout: 60 * time.Second, Transport: unixTransport(sock)}}
}

// do sends method path with body ("" for none) and the token, and returns the status and body.
func (c *client) do(ctx context.Context, method, path, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://kioskd"+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+apiToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// events follows GET /v1/events, calling fn with each event's name and data and its arrival
// time, until ctx ends. It reconnects when the stream ends, calling gap first: events may have
// been missed.
func (c *client) events(ctx context.Context, fn func(name string, data []byte, at time.Time), gap func()) {
	first := true
	for ctx.Err() == nil {
		if !first {
			gap()
		}
		first = false
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://kioskd/v1/events", nil)
		req.Header.Set("Authorization", "Bearer "+apiToken)
		// The stream lasts for ever: not bounded by the client's timeout.
		resp, err := (&http.Client{Transport: c.http.Transport}).Do(req)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond): // reconnect pace
			}
			continue
		}
		r := bufio.NewReader(resp.Body)
		name := ""
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				break
			}
			line = bytes.TrimSpace(line)
			switch {
			case bytes.HasPrefix(line, []byte("event: ")):
				name = string(line[len("event: "):])
			case bytes.HasPrefix(line, []byte("data: ")):
				fn(name, line[len("data: "):], time.Now())
			}
		}
		resp.Body.Close()
	}
}
