package localapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveReal serves s the way kioskd does (HTTPServer on Listener) on a real loopback port.
func serveReal(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := s.HTTPServer()
	go srv.Serve(s.Listener(ln))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// rawGet sends a keep-alive GET on c and reads its answer's status line and headers.
func rawGet(t *testing.T, c net.Conn, br *bufio.Reader, path, auth string) (string, error) {
	t.Helper()
	req := "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	if auth != "" {
		req += "Authorization: Bearer " + auth + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Status, nil
}

// A client that never finishes its headers (slowloris) is disconnected after ReadHeaderTimeout.
func TestHeaderNeverFinishedIsClosed(t *testing.T) {
	addr := serveReal(t, New(&fakeCore{}, token, WithLimits(Limits{ReadHeaderTimeout: 300 * time.Millisecond})))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection was still open after 5 s")
	}
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Errorf("closed after %v, before the header timeout", took)
	}
}

// A request's headers are capped: 431 above MaxHeaderBytes (and Go's 4 KiB of slack).
func TestHeaderTooLarge(t *testing.T) {
	addr := serveReal(t, New(&fakeCore{}, token, WithLimits(Limits{MaxHeaderBytes: 4 << 10})))
	req, _ := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 16<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("16 KiB of headers: %d", resp.StatusCode)
	}
	if l := DefaultLimits.MaxHeaderBytes; l > 64<<10 {
		t.Errorf("default MaxHeaderBytes %d", l)
	}
}

// Beyond MaxConns the next connection is not served until one of them closes.
func TestConnectionCap(t *testing.T) {
	addr := serveReal(t, New(&fakeCore{}, token, WithLimits(Limits{MaxConns: 2})))
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if st, err := rawGet(t, c, bufio.NewReader(c), "/healthz", ""); err != nil || st != "200 OK" {
			t.Fatalf("connection %d: %q %v", len(held), st, err)
		}
		held = append(held, c) // kept alive, idle
	}
	third, err := net.Dial("tcp", addr) // the kernel's backlog takes it; kioskd does not
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	br := bufio.NewReader(third)
	third.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if st, err := rawGet(t, third, br, "/healthz", ""); err == nil {
		t.Fatalf("the third connection was served (%s) while two were open", st)
	}
	// The request is written; when a held connection closes, it is answered.
	held[0].Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the third connection was not served after one closed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("third: %d", resp.StatusCode)
	}
}

func openStream(t *testing.T, addr string) (*http.Response, error) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return (&http.Client{Transport: &http.Transport{}}).Do(req)
}

// Beyond MaxStreams an event stream is refused 503 too-many-streams, at once; when one closes,
// a new one is served.
func TestStreamCap(t *testing.T) {
	addr := serveReal(t, New(&cardCore{}, token, WithLimits(Limits{MaxStreams: 2})))
	var open []*http.Response
	for range 2 {
		resp, err := openStream(t, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("stream %d: %d", len(open), resp.StatusCode)
		}
		(&sseReader{t: t, r: bufio.NewReader(resp.Body)}).next()
		open = append(open, resp)
	}
	resp, err := openStream(t, addr)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	err = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || err != nil || m.Error.Code != "too-many-streams" ||
		!strings.Contains(m.Error.Message, "2 event streams") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third stream: %d %+v %v", resp.StatusCode, m, err)
	}
	open[0].Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := openStream(t, addr)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stream served after one closed: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The server's read and write timeouts bound requests and answers, not an event stream: it
// keeps going past both.
func TestStreamOutlivesTimeouts(t *testing.T) {
	old := keepAliveEvery
	keepAliveEvery = 50 * time.Millisecond
	defer func() { keepAliveEvery = old }()
	addr := serveReal(t, New(&cardCore{}, token, WithLimits(Limits{ReadTimeout: 200 * time.Millisecond, WriteTimeout: 300 * time.Millisecond})))
	resp, err := openStream(t, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	start := time.Now()
	for time.Since(start) < time.Second {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream ended after %v: %v", time.Since(start), err)
		}
		_ = line
	}
}

// DNS rebinding: a page of another name, pointed at 127.0.0.1, gets nothing, not even /healthz;
// a POST from another origin's page is refused before it prints anything.
func TestHostAndOriginChecked(t *testing.T) {
	core := &fakeCore{}
	addr := serveReal(t, New(core, token))
	_, port, _ := net.SplitHostPort(addr)
	call := func(method, path, host, origin string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(`{"category": "A"}`))
		req.Host = host
		req.Header.Set("Authorization", "Bearer "+token)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m.Error.Code
	}
	for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1.nip.io:" + port, "10.0.0.5:" + port, "localhost.evil.example"} {
		for _, path := range []string{"/healthz", "/v1/status"} {
			if code, ec := call("GET", path, host, ""); code != http.StatusMisdirectedRequest || ec != "wrong-host" {
				t.Errorf("GET %s Host %s: %d %s", path, host, code, ec)
			}
		}
	}
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "[::1]:" + port, "127.0.0.1"} {
		if code, _ := call("GET", "/v1/status", host, ""); code != 200 {
			t.Errorf("GET Host %s: %d", host, code)
		}
	}
	for _, origin := range []string{"http://evil.example", "null", "http://127.0.0.1:1", "https://127.0.0.1:" + port} {
		if code, ec := call("POST", "/v1/tickets", "127.0.0.1:"+port, origin); code != http.StatusForbidden || ec != "cross-origin" {
			t.Errorf("POST Origin %s: %d %s", origin, code, ec)
		}
	}
	if len(core.got) != 0 {
		t.Fatalf("a cross-origin POST took a ticket: %v", core.got)
	}
	if code, _ := call("POST", "/v1/tickets", "127.0.0.1:"+port, "http://127.0.0.1:"+port); code != http.StatusCreated {
		t.Errorf("same-origin POST: %d", code)
	}
	if code, _ := call("POST", "/v1/tickets", "127.0.0.1:"+port, ""); code != http.StatusCreated || len(core.got) != 2 {
		t.Errorf("POST without Origin (a program, not a page): %d %v", code, core.got)
	}
	// A cross-origin GET of a page is harmless (no CORS: the page cannot read the answer).
	if code, _ := call("GET", "/v1/status", "127.0.0.1:"+port, "http://evil.example"); code != 200 {
		t.Errorf("GET with a foreign Origin: %d", code)
	}
}

// Over the unix socket, which no browser opens, any Host is served.
func TestUnixSocketAnyHost(t *testing.T) {
	dir, err := os.MkdirTemp("", "api")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	s := New(&fakeCore{}, token)
	srv := s.HTTPServer()
	go srv.Serve(s.Listener(ln))
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	resp, err := c.Get("http://kioskd/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("unix socket, Host kioskd: %d", resp.StatusCode)
	}
}
