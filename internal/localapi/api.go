// Package localapi is kioskd's local HTTP API (../shared/spec/local-api.md): what the staff's own
// applications at a service window, and scripts on a kiosk, use to reach the kiosk's devices.
//
// Every endpoint but /healthz needs the bearer token; a wrong or missing token is answered 401,
// counted, and logged (at most a line a minute, see WithLog). Bodies over 64 KiB are refused with
// 413. Errors are {"error": {"code": "...", "message": "..."}}. A request naming a Host other than
// this machine is refused 421 and a POST from another origin's page 403, before anything else
// (against DNS rebinding); the server's limits are Limits.
package localapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"citizenhome/internal/logging"
	"citizenhome/kiosk"
)

// MaxBody is the largest request body accepted.
const MaxBody = 64 << 10

// Core is what the API needs of the kiosk core (*kiosk.Kiosk), one small interface per
// endpoint. The self-test, a staff action, comes apart: WithSelfTest.
type Core interface {
	StatusSource
	Tickets
	CardSource
	EventSource
}

// Tickets is what POST /v1/tickets needs of the core.
type Tickets interface {
	TakeTicketInCategory(ctx context.Context, category string, priority bool) (kiosk.Issued, error)
}

// The kiosk core has every part of Core, and a staff handle the self-test.
var (
	_ Core       = (*kiosk.Kiosk)(nil)
	_ SelfTester = (*kiosk.StaffHandle)(nil)
)

// Server serves the API.
type Server struct {
	core         Core
	selfTest     SelfTester // nil: POST /v1/printer/selftest answers 501
	token        []byte
	unauthorized atomic.Int64 // requests refused for their token: the status's errors counter
	refused      *logging.Limited
	tel          atomic.Pointer[Telemetry]
	mux          *http.ServeMux
	limits       Limits
}

// Option tunes New.
type Option func(*options)

type options struct {
	log      *slog.Logger
	limit    logging.LimitOptions
	selfTest SelfTester
	limits   Limits
}

// WithLog logs requests refused for their token to log (default slog.Default()): a warning
// naming the remote address, the method and the endpoint (a path that is no endpoint is not
// repeated: it is the caller's text), never the token. A flood is written at most once a minute
// (logging.Limited), each line with "count", the refusals it stands for.
func WithLog(log *slog.Logger) Option { return func(o *options) { o.log = log } }

// WithSelfTest serves POST /v1/printer/selftest with st (kioskd: the core's staff handle for the
// API, kiosk.LocalAPI). Without it the endpoint answers 501 not-supported.
func WithSelfTest(st SelfTester) Option { return func(o *options) { o.selfTest = st } }

// withClock gives the refused-token log its clock and timer (logging.LimitOptions), for tests.
func withClock(now func() time.Time, afterFunc func(time.Duration, func())) Option {
	return func(o *options) { o.limit.Now, o.limit.AfterFunc = now, afterFunc }
}

// New returns the API over core, accepting token.
func New(core Core, token string, opts ...Option) *Server {
	o := options{log: slog.Default()}
	for _, f := range opts {
		f(&o)
	}
	s := &Server{core: core, selfTest: o.selfTest, token: []byte(token), mux: http.NewServeMux(), limits: o.limits.withDefaults(),
		refused: logging.NewLimited(o.log.With("component", "api"), slog.LevelWarn, "API request refused: wrong or missing token", o.limit)}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("GET /v1/status", s.auth(s.status))
	s.mux.Handle("POST /v1/tickets", s.auth(s.tickets))
	s.mux.Handle("POST /v1/printer/selftest", s.auth(s.selftest))
	s.mux.Handle("GET /v1/card", s.auth(s.card))
	s.mux.Handle("GET /v1/events", s.auth(newEvents(core, s.limits.MaxStreams).serve))
	return s
}

// FlushLog writes the refused-token log's pending summary now (see WithLog); call it when the
// server stops, or the refusals of its last minute are not logged.
func (s *Server) FlushLog() { s.refused.Flush() }

// ServeHTTP implements http.Handler. A body announced over MaxBody is refused (413) whatever
// the endpoint, before it is read; one that turns out longer than announced (chunked) is cut at
// MaxBody and refused by the endpoints that read bodies. A path that is no endpoint is 404 and
// a method an endpoint does not take 405 (with Allow), both as JSON errors, and both, but for
// /healthz, only for a caller with the token: the API does not tell strangers what it serves.
// Before all that: a Host that is not this machine is 421 wrong-host, and a POST whose Origin is
// another page's 403 cross-origin (allowedHost, crossOrigin), neither counted as a refused token.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !allowedHost(r) {
		writeError(w, http.StatusMisdirectedRequest, "wrong-host", "this API answers requests for this machine only (Host localhost, 127.0.0.1 or [::1])")
		return
	}
	if crossOrigin(r) {
		writeError(w, http.StatusForbidden, "cross-origin", "a request from another site's page is refused")
		return
	}
	if r.ContentLength > MaxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "too-large", fmt.Sprintf("request bodies are limited to %d bytes", MaxBody))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.unrouted(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// unrouted answers a request no endpoint takes: 405 when the path is an endpoint's, else 404.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	h := func(w http.ResponseWriter, r *http.Request) {
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, "method-not-allowed", r.Method+" "+r.URL.Path+" is not allowed (allowed: "+strings.Join(allow, ", ")+")")
			return
		}
		writeError(w, http.StatusNotFound, "not-found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	}
	if r.URL.Path == "/healthz" {
		h(w, r)
		return
	}
	s.auth(h).ServeHTTP(w, r)
}

// bearer is the token of an Authorization header; the scheme's name is case-insensitive (RFC
// 9110 section 11.1).
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimLeft(tok, " "), true
}

func (s *Server) auth(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok || subtle.ConstantTimeCompare([]byte(got), s.token) != 1 {
			s.unauthorized.Add(1)
			if t := s.telemetry(); t != nil {
				t.CountError()
			}
			s.logRefused(r, ok)
			w.Header().Set("WWW-Authenticate", `Bearer realm="kioskd"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "a valid bearer token is required")
			return
		}
		h(w, r)
	})
}

// logRefused logs a request refused for its token; hadToken says whether it carried one.
func (s *Server) logRefused(r *http.Request, hadToken bool) {
	remote := r.RemoteAddr
	if remote == "" || remote == "@" {
		remote = "unix socket" // a unix socket's peer has no address
	}
	endpoint := "unknown"
	if _, pattern := s.mux.Handler(r); pattern != "" {
		endpoint = pattern
	}
	reason := "no token"
	if hadToken {
		reason = "wrong token"
	}
	s.refused.Log("remote", remote, "endpoint", endpoint, "reason", reason)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	state := s.coreState()
	if t := s.telemetry(); t != nil {
		state = t.State()
	}
	writeJSON(w, http.StatusOK, map[string]string{"state": state})
}

type ticketRequest struct {
	Category string `json:"category"`
	Priority bool   `json:"priority"`
}

func (s *Server) tickets(w http.ResponseWriter, r *http.Request) {
	var req ticketRequest
	if !readJSON(w, r, &req) {
		return
	}
	is, err := s.core.TakeTicketInCategory(r.Context(), req.Category, req.Priority)
	var pe *kiosk.PrinterError
	switch {
	case err == nil:
	case errors.Is(err, kiosk.ErrClosed):
		writeError(w, http.StatusConflict, "closed", err.Error())
		return
	case errors.Is(err, kiosk.ErrLocked):
		writeError(w, http.StatusConflict, "locked", err.Error())
		return
	case errors.As(err, &pe):
		writeError(w, http.StatusServiceUnavailable, "printer-"+string(pe.State), err.Error())
		return
	case errors.Is(err, kiosk.ErrUnknownCategory):
		writeError(w, http.StatusBadRequest, "bad-category", err.Error())
		return
	case errors.Is(err, kiosk.ErrNoNumber):
		writeError(w, http.StatusServiceUnavailable, "no-number", err.Error())
		return
	default:
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	out := map[string]any{
		"ticket":           is.Ticket.Code,
		"waiting":          is.Ticket.WaitingAhead,
		"priority":         is.Ticket.Priority,
		"issued_at":        is.Ticket.IssuedAt.Format(time.RFC3339),
		"estimated_wait_s": int(is.Ticket.EstimatedWait.Seconds()),
		"lookup":           is.Ticket.LookupCode,
		"printed":          is.PrintErr == nil,
	}
	if is.PrintErr != nil {
		out["print_error"] = is.PrintErr.Error()
	}
	writeJSON(w, http.StatusCreated, out)
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "too-large", fmt.Sprintf("request bodies are limited to %d bytes", MaxBody))
			return false
		}
		writeError(w, http.StatusBadRequest, "bad-request", "the body is not the expected JSON: "+err.Error())
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "bad-request", "the body must hold one JSON object")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, errCode, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]string{"code": errCode, "message": msg}})
}

// LoadToken reads the bearer token from path, creating it (mode 0600, 32 random bytes in hex)
// when it does not exist. A token file readable by others, or writable by anyone but its owner,
// is refused: anyone who can read it can read citizens' ID cards through the API. Mode 0640 is
// taken: the packages give the file to the group citizenhome-api, whose members are the window
// applications' users (docs/operator-guide.md); a new file is still created 0600, for the owner.
func LoadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return "", err
		}
		tok := hex.EncodeToString(raw)
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return "", err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", err
		}
		if _, err := f.WriteString(tok + "\n"); err != nil {
			f.Close()
			return "", err
		}
		return tok, f.Close()
	}
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if fi.Mode().Perm()&0o037 != 0 {
		return "", fmt.Errorf("%s: token file has mode %04o: it must be readable by its owner only (chmod 600), or by its owner and group (chmod 640)", path, fi.Mode().Perm())
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 16 {
		return "", fmt.Errorf("%s: token too short (at least 16 characters)", path)
	}
	return tok, nil
}
