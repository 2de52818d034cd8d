package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/net/netutil"
)

// httpLimits bound what clients may hold of halld's HTTP server, so that a laptop on the
// hall's network cannot take it from the counters and the displays: requests that never finish
// their headers, connections or event streams opened by the thousand.
type httpLimits struct {
	// ReadHeader is how long a request's line and headers may take (slowloris); Read the whole
	// request, body included. net/http lifts the read deadline once a request's body is read,
	// so an event stream is not ended by them.
	ReadHeader, Read time.Duration
	// Write is how long an answer may take from the end of the request's headers, the handler's
	// work included (the monthly report and its CSV). An event stream is not ended by it: each of
	// its frames sets its own write deadline (sse.Stream, hall/web's streamWriteTimeout).
	Write time.Duration
	// Idle closes a kept-alive connection this long without a request.
	Idle time.Duration
	// MaxHeader caps a request's line and headers (431 above it).
	MaxHeader int
	// MaxConns is how many connections are served at once; the next waits in the kernel's
	// backlog until one closes.
	MaxConns int
	// MaxStreams is how many event streams (GET /v1/events, GET /console/events) are open at
	// once; the next is answered 503 too-many-streams, with Retry-After.
	MaxStreams int
}

// defaultHTTPLimits are halld's. Every counter page, rating pad, calling display and console
// tab holds one event stream and a few connections: a hall of 300 windows with a pad each, 30
// displays and the crew's tabs stays well under 1,024 streams and 4,096 connections.
var defaultHTTPLimits = httpLimits{
	ReadHeader: 10 * time.Second,
	Read:       60 * time.Second,
	Write:      2 * time.Minute,
	Idle:       2 * time.Minute,
	MaxHeader:  64 << 10,
	MaxConns:   4096,
	MaxStreams: 1024,
}

// streamPaths are hall/web's event streams (spec/hall-api.md, docs/hall-api.md).
var streamPaths = map[string]bool{"/v1/events": true, "/console/events": true}

// newHTTPServer is halld's http.Server over h with l's limits; serve it on l.listener(ln).
func newHTTPServer(h http.Handler, l httpLimits, log *slog.Logger) *http.Server {
	return &http.Server{Handler: &streamCap{next: h, max: int64(l.MaxStreams), log: log},
		ReadHeaderTimeout: l.ReadHeader, ReadTimeout: l.Read, WriteTimeout: l.Write, IdleTimeout: l.Idle,
		MaxHeaderBytes: l.MaxHeader, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
}

// listener caps ln at l.MaxConns connections at once.
func (l httpLimits) listener(ln net.Listener) net.Listener {
	return netutil.LimitListener(ln, l.MaxConns)
}

// streamCap lets at most max requests for the event streams run at once. It stands in front of
// hall/web's handler, so a refused request is refused before its credentials are looked at: a
// stream without them is answered 401 at once and gives its place back.
type streamCap struct {
	next    http.Handler
	max     int64
	open    atomic.Int64
	log     *slog.Logger
	lastLog atomic.Int64 // unix seconds of the last warning: one a minute at most
}

func (c *streamCap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !streamPaths[r.URL.Path] {
		c.next.ServeHTTP(w, r)
		return
	}
	if c.open.Add(1) > c.max {
		c.open.Add(-1)
		if now, last := time.Now().Unix(), c.lastLog.Load(); now-last >= 60 && c.lastLog.CompareAndSwap(last, now) {
			c.log.Warn("event stream refused: too many open", "max", c.max, "remote", r.RemoteAddr, "path", r.URL.Path)
		}
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Retry-After", "10")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "too-many-streams",
			"message": fmt.Sprintf("%d event streams are open, the most halld serves at once: close a page (or retry later)", c.max)}})
		return
	}
	defer c.open.Add(-1)
	c.next.ServeHTTP(w, r)
}
