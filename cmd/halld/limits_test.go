package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/line"
	"citizenhome/hall/settings"
	"citizenhome/hall/web"
)

// webHall is halld's real HTTP side (hall/web over the demo hall's queue) served as serve
// serves it: newHTTPServer on l.listener, on a loopback port.
type webHall struct {
	addr, key string
	q         *line.Line
}

func startWebHall(t *testing.T, l httpLimits) webHall {
	t.Helper()
	cfg, err := settings.Demo(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	loc, err := cfg.Location()
	if err != nil {
		t.Fatal(err)
	}
	db, err := openLedger(cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := line.Open(ctx, db, lineConfig(cfg, loc, log))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Options{Queue: web.LineQueue(q), Access: access.Open(db, access.Options{}),
		HallName: cfg.Hall.Name, DisplayKey: cfg.HTTP.DisplayKey, Location: loc, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Run(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := newHTTPServer(srv, l, log)
	go hs.Serve(l.listener(ln))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = hs.Shutdown(sctx)
	})
	return webHall{addr: ln.Addr().String(), key: cfg.HTTP.DisplayKey, q: q}
}

func limitsWith(f func(*httpLimits)) httpLimits {
	l := defaultHTTPLimits
	f(&l)
	return l
}

// A client that never finishes its headers (slowloris) is disconnected after ReadHeader.
func TestHTTPLimitsHeaderNeverFinished(t *testing.T) {
	h := startWebHall(t, limitsWith(func(l *httpLimits) { l.ReadHeader = 300 * time.Millisecond }))
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	io.WriteString(c, "GET /v1/queue HTTP/1.1\r\nHost: hall\r\nX-Slow: ")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the connection was still open after 5 s")
	}
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Errorf("closed after %v", took)
	}
	if defaultHTTPLimits.ReadHeader <= 0 || defaultHTTPLimits.ReadHeader > 30*time.Second ||
		defaultHTTPLimits.MaxHeader <= 0 || defaultHTTPLimits.MaxHeader > 1<<20 {
		t.Errorf("defaults: %+v", defaultHTTPLimits)
	}
}

// Beyond MaxConns the next connection is not served until one of them closes.
func TestHTTPLimitsConnectionCap(t *testing.T) {
	h := startWebHall(t, limitsWith(func(l *httpLimits) { l.MaxConns = 2 }))
	get := func(c net.Conn, br *bufio.Reader) (*http.Response, error) {
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: hall\r\n\r\n")
		return http.ReadResponse(br, nil)
	}
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := get(c, bufio.NewReader(c))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		held = append(held, c)
	}
	third, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	br := bufio.NewReader(third)
	third.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if resp, err := get(third, br); err == nil {
		t.Fatalf("the third connection was served (%d) while two were open", resp.StatusCode)
	}
	held[0].Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := http.ReadResponse(br, nil); err != nil {
		t.Fatalf("the third connection was not served after one closed: %v", err)
	}
}

func (h webHall) stream(t *testing.T, path string) *http.Response {
	t.Helper()
	resp, err := (&http.Client{Transport: &http.Transport{}}).Get("http://" + h.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// Beyond MaxStreams an event stream, the displays' or the console's, is refused 503 at once;
// when one closes, a new one is served.
func TestHTTPLimitsStreamCap(t *testing.T) {
	h := startWebHall(t, limitsWith(func(l *httpLimits) { l.MaxStreams = 2 }))
	events := "/v1/events?key=" + h.key
	var open []*http.Response
	for range 2 {
		resp := h.stream(t, events)
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("stream %d: %d", len(open)+1, resp.StatusCode)
		}
		bufio.NewReader(resp.Body).ReadString('\n')
		open = append(open, resp)
	}
	for _, path := range []string{events, "/console/events"} {
		resp := h.stream(t, path)
		var m struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		err := json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || err != nil || m.Error.Code != "too-many-streams" ||
			!strings.Contains(m.Error.Message, "2 event streams") || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s as the third stream: %d %+v %v", path, resp.StatusCode, m, err)
		}
	}
	// Other routes are not concerned.
	if resp := h.stream(t, "/v1/queue?key="+h.key); resp.StatusCode == http.StatusServiceUnavailable {
		t.Errorf("GET /v1/queue with the streams full: %d", resp.StatusCode)
	} else {
		resp.Body.Close()
	}
	open[0].Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := h.stream(t, events)
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

// The server's read and write timeouts do not end an event stream: a ticket taken after both
// have passed still reaches the display's stream.
func TestHTTPLimitsStreamOutlivesTimeouts(t *testing.T) {
	h := startWebHall(t, limitsWith(func(l *httpLimits) { l.Read, l.Write = 200*time.Millisecond, 300*time.Millisecond }))
	resp := h.stream(t, "/v1/events?key="+h.key)
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	read := func() string {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream ended: %v", err)
		}
		return line
	}
	for !strings.HasPrefix(read(), "event: queue") { // the first snapshot
	}
	time.Sleep(600 * time.Millisecond) // past both timeouts: what is tested is that they do not apply
	ctx := context.Background()
	tk, _, err := h.q.Take(ctx, "k1", line.Take{ID: "take-1", Category: "A"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.q.Issued(ctx, "k1", line.Issued{Take: "take-1", Code: tk.Code, Day: tk.Day, Lookup: tk.Lookup}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !strings.HasPrefix(read(), "event: queue") {
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no queue event on the stream after the timeouts passed")
	}
}
