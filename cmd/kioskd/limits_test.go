package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"citizenhome/internal/localapi"
)

// kioskd serves its API with localapi's limits, on TCP: a page of another name pointed at
// 127.0.0.1 gets nothing, the event streams and the connections are capped, and a request that
// never finishes its headers is dropped.
func TestKioskdServerLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d := startKioskdOn(t, filepath.Join(t.TempDir(), "no-printer"), addr)
	lim := localapi.DefaultLimits

	// DNS rebinding: the Host is the attacker's name.
	req, _ := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
	req.Host = "rebind.evil.example"
	resp, err := d.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("Host rebind.evil.example: %d", resp.StatusCode)
	}
	d.client.CloseIdleConnections() // below, the test's own connections are all there are

	// Event streams: MaxStreams, then 503.
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	dial := func() (net.Conn, *bufio.Reader) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		return c, bufio.NewReader(c)
	}
	get := func(c net.Conn, br *bufio.Reader, path string) (*http.Response, error) {
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: "+addr+"\r\nAuthorization: Bearer "+e2eToken+"\r\n\r\n")
		return http.ReadResponse(br, nil)
	}
	for i := range lim.MaxStreams + 1 {
		c, br := dial()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := get(c, br, "/v1/events")
		if err != nil {
			t.Fatalf("stream %d: %v\n%s", i, err, d.log)
		}
		if i < lim.MaxStreams && resp.StatusCode != 200 || i == lim.MaxStreams && resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("stream %d of at most %d: %d", i+1, lim.MaxStreams, resp.StatusCode)
		}
	}
	conns[len(conns)-1].Close() // the refused one
	conns = conns[:len(conns)-1]

	// Connections: fill up to MaxConns with idle kept-alive ones; the next is not served.
	for len(conns) < lim.MaxConns {
		c, br := dial()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := get(c, br, "/healthz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("connection %d: %v", len(conns), err)
		}
		io.Copy(io.Discard, resp.Body)
	}
	c, br := dial()
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if resp, err := get(c, br, "/healthz"); err == nil {
		t.Fatalf("connection %d served: %d", lim.MaxConns+1, resp.StatusCode)
	}
	conns[0].Close() // a stream's: its place goes to the waiting one
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("connection %d not served after one closed: %v", lim.MaxConns+1, err)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil

	// Slowloris: headers never finished, the connection is closed after ReadHeaderTimeout.
	s, _ := dial()
	start := time.Now()
	io.WriteString(s, "GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\nX-Slow: ")
	s.SetReadDeadline(time.Now().Add(lim.ReadHeaderTimeout + 3*time.Second))
	_, err = io.ReadAll(s)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("a request without the end of its headers was still open after %v", time.Since(start))
	}
	if took := time.Since(start); took < lim.ReadHeaderTimeout-time.Second {
		t.Errorf("closed after %v", took)
	}
}
