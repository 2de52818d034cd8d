package localapi

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/netutil"
)

// Limits bound what clients may hold of the API's server, so that a stuck or hostile local
// program cannot take it from the window's application: a request that never finishes its
// headers, connections or event streams opened by the thousand.
type Limits struct {
	// ReadHeaderTimeout is how long a request's line and headers may take to arrive (slowloris).
	ReadHeaderTimeout time.Duration
	// ReadTimeout is how long a whole request, body included, may take to arrive. It does not
	// end an event stream: net/http lifts it once a request's body is read.
	ReadTimeout time.Duration
	// WriteTimeout is how long an answer may take, from the end of the request's headers, the
	// handler's work included (a ticket waits for the hall's number and the printer). It does not
	// end an event stream either: each of its frames sets a write deadline of its own
	// (streamWriteTimeout), in place of the server's.
	WriteTimeout time.Duration
	// IdleTimeout closes a kept-alive connection this long without a request.
	IdleTimeout time.Duration
	// MaxHeaderBytes caps a request's line and headers (the server answers 431 above it).
	MaxHeaderBytes int
	// MaxConns is how many connections are served at once; the next waits in the kernel's
	// backlog until one closes (it is not refused: a client's connect simply takes longer).
	MaxConns int
	// MaxStreams is how many GET /v1/events streams are open at once; the next is answered 503
	// too-many-streams (with Retry-After) rather than kept waiting.
	MaxStreams int
}

// DefaultLimits are kioskd's. A window PC has one application and a few scripts: 32
// connections and 8 streams leave room for them and for a program that leaks connections. Do
// not modify it: WithLimits sets a server's own.
var DefaultLimits = Limits{
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      60 * time.Second,
	IdleTimeout:       60 * time.Second,
	MaxHeaderBytes:    16 << 10,
	MaxConns:          32,
	MaxStreams:        8,
}

// WithLimits sets the server's limits (default DefaultLimits); a zero field takes the default's.
func WithLimits(l Limits) Option { return func(o *options) { o.limits = l } }

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	pick := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&l.ReadHeaderTimeout, d.ReadHeaderTimeout)
	pick(&l.ReadTimeout, d.ReadTimeout)
	pick(&l.WriteTimeout, d.WriteTimeout)
	pick(&l.IdleTimeout, d.IdleTimeout)
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if l.MaxConns <= 0 {
		l.MaxConns = d.MaxConns
	}
	if l.MaxStreams <= 0 {
		l.MaxStreams = d.MaxStreams
	}
	return l
}

// HTTPServer returns the http.Server that serves the API with its limits (WithLimits). Serve it
// on Listener(ln), which caps the connections.
func (s *Server) HTTPServer() *http.Server {
	l := s.limits
	return &http.Server{Handler: s, ReadHeaderTimeout: l.ReadHeaderTimeout, ReadTimeout: l.ReadTimeout,
		WriteTimeout: l.WriteTimeout, IdleTimeout: l.IdleTimeout, MaxHeaderBytes: l.MaxHeaderBytes}
}

// Listener wraps ln so that at most Limits.MaxConns connections are open at once: the next
// one is accepted when one of them closes.
func (s *Server) Listener(ln net.Listener) net.Listener {
	return netutil.LimitListener(ln, s.limits.MaxConns)
}

// allowedHost says whether a request may be served for the Host it names. A browser visiting
// a page of the attacker's name, which the attacker's DNS then points at 127.0.0.1 (DNS
// rebinding), would send that name: only this machine's names are served, so the page's
// requests, reaching kioskd by address, are refused. The API listens on loopback or a unix
// socket only (config's api.listen), so its own address is one of them. A request over the unix
// socket, which no browser opens, is served whatever its Host (curl's default is "localhost",
// other clients send what they like); so is one with no Host at all (HTTP/1.0, never a
// browser's).
func allowedHost(r *http.Request) bool {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && a.Network() == "unix" {
		return true
	}
	if r.Host == "" {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// crossOrigin says whether a state-changing request comes from another origin's page: it
// carries an Origin header (browsers send one with every POST) that is not this server's. A
// client that is no browser sends none and is not concerned.
func crossOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return false
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme != "http" || u.Path != "" || u.User != nil {
		return true // "null" (a sandboxed page, a file) included
	}
	return !strings.EqualFold(u.Host, r.Host)
}
