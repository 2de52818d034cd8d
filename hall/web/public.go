package web

import (
	"errors"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"citizenhome/hall/access"
)

// limiter is a token bucket per client address.
type limiter struct {
	rate  float64 // tokens a second
	burst float64
	now   func() time.Time
	mu    sync.Mutex
	b     map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxBuckets bounds the limiter's memory; when full, the buckets that have refilled (they
// limit nothing) are dropped.
const maxBuckets = 20000

func newLimiter(l RateLimit, now func() time.Time) *limiter {
	return &limiter{rate: float64(l.PerMinute) / 60, burst: float64(l.Burst), now: now, b: map[string]*bucket{}}
}

// allow takes a token for addr; when none is left it returns how long until one is.
func (l *limiter) allow(addr string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.b[addr]
	if b == nil {
		if len(l.b) >= maxBuckets {
			for k, o := range l.b {
				if o.tokens+now.Sub(o.at).Seconds()*l.rate >= l.burst {
					delete(l.b, k)
				}
			}
			for k := range l.b { // still full (a spray from many addresses): drop any
				if len(l.b) < maxBuckets {
					break
				}
				delete(l.b, k)
			}
		}
		b = &bucket{tokens: l.burst, at: now}
		l.b[addr] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// limitKey is what the public limit counts by: an IPv4 address, or an IPv6 address's /64 (one
// host's share of addresses).
func limitKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() || a.Is4In6() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// limited answers 429 when r's address has used its share of the public routes.
func (s *Server) limited(w http.ResponseWriter, r *http.Request, page bool) bool {
	ok, wait := s.public.allow(limitKey(s.clientIP(r)))
	if ok {
		return false
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	if page {
		s.pages.render(w, http.StatusTooManyRequests, "message", messagePage{
			Title: "请稍后再试", Subtitle: "Too many requests", Hall: s.o.HallName, Refresh: max(secs, 5),
			Text: "刷新太频繁，页面将自动重试。", Sub: "This page retries by itself in a moment."})
		return true
	}
	writeError(w, http.StatusTooManyRequests, "rate-limited", "too many requests from your address; retry in "+strconv.Itoa(secs)+" s")
	return true
}

// lookupOf is r's {lookup} in its normal form (upper case); ok false when it cannot be one.
func lookupOf(r *http.Request) (string, bool) {
	l := r.PathValue("lookup")
	return strings.ToUpper(l), lookupRE.MatchString(l)
}

// publicTicket serves GET /v1/public/tickets/{lookup}: {"code", "state", "waiting_ahead",
// "eta_s", "window"}; 404 for an unknown or past lookup code; 429 over the rate limit.
func (s *Server) publicTicket(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	if s.limited(w, r, false) {
		return
	}
	lookup, ok := lookupOf(r)
	if !ok {
		writeError(w, http.StatusNotFound, "not-found", "no ticket with that code today")
		return
	}
	p, err := s.o.Queue.Public(r.Context(), lookup)
	if errors.Is(err, ErrNotFound) {
		writeError(w, http.StatusNotFound, "not-found", "no ticket with that code today")
		return
	}
	if err != nil {
		s.queueFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, publicOut(p))
}

// ticketPage serves GET /t/{lookup}, the page a phone opens from the ticket's QR code.
func (s *Server) ticketPage(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	if s.limited(w, r, true) {
		return
	}
	lookup, ok := lookupOf(r)
	var p Public
	var err error
	if ok {
		p, err = s.o.Queue.Public(r.Context(), lookup)
	}
	if !ok || errors.Is(err, ErrNotFound) {
		s.pages.render(w, http.StatusNotFound, "message", messagePage{
			Title: "找不到这张号票", Subtitle: "Ticket not found", Hall: s.o.HallName,
			Text: "号票只在取号当天有效。请核对号票上的二维码。", Sub: "A ticket is valid on the day it was taken only."})
		return
	}
	if err != nil {
		s.log.Error("public ticket failed", "err", err)
		s.pages.render(w, http.StatusInternalServerError, "message", messagePage{
			Title: "暂时无法查询", Subtitle: "Not available right now", Hall: s.o.HallName, Refresh: 30,
			Text: "请稍后再试，或留意大厅叫号屏。", Sub: "Please try again later, or watch the hall's display."})
		return
	}
	s.pages.render(w, http.StatusOK, "ticket", ticketPageData(s.o.HallName, p, s.o.Now().In(s.o.Location)))
}

// login serves POST /login (form: name, password, next): a session cookie and a redirect to
// next (a path of this server only; without one, to the role's page: landing); the login
// page again with a message on failure, 429 while throttled. A cross-site form post is refused (Origin).
func (s *Server) login(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	if o := r.Header.Get("Origin"); o != "" && o != "null" && !sameOrigin(o, r) {
		writeError(w, http.StatusForbidden, "cross-origin", "a login from another site is refused")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "bad-form", "the login form could not be read")
		return
	}
	name, pw, next := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password"), safeNext(r.PostFormValue("next"))
	sess, err := s.o.Access.Login(r.Context(), name, pw, limitKey(s.clientIP(r)))
	if err != nil {
		var ae *access.Error
		status, msg := http.StatusUnauthorized, "账号或密码不正确 · Wrong account or password"
		switch {
		case errors.Is(err, access.ErrThrottled) && errors.As(err, &ae):
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
			msg = "失败次数过多，请 " + strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))) + " 秒后再试 · Too many failed logins; wait and retry"
		case errors.Is(err, access.ErrDisabled): // told only after the right password
			status, msg = http.StatusForbidden, "此账号已停用，请联系大厅管理员 · This account is disabled; ask the hall's administrator"
		case errors.Is(err, access.ErrBadLogin):
		default:
			s.log.Error("login failed", "err", err)
			status, msg = http.StatusInternalServerError, "登录暂时不可用 · Login is not available right now"
		}
		// Not the name typed: it may be a password typed into the wrong box. The audit names
		// the account when there is one.
		s.log.Warn("login refused", "remote", s.clientIP(r), "status", status)
		s.pages.render(w, status, "login", loginData{Hall: s.o.HallName, Next: next, Name: name, Error: msg})
		return
	}
	s.log.Info("login", "account", sess.Account, "role", sess.Role, "remote", s.clientIP(r))
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: sess.ID, Path: "/", Expires: sess.Expires,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || s.o.SecureCookie})
	if next == "" {
		next = landing(sess.Role)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout serves POST /logout (the session's CSRF token required): ends the session, clears the
// cookie, and sends the browser to /login.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if c, err := r.Cookie(cookieName); err == nil {
		ctx := access.WithActor(r.Context(), access.Actor{Who: p.Name, Role: p.Role, Addr: s.clientIP(r)})
		if err := s.o.Access.Logout(ctx, c.Value); err != nil {
			s.log.Error("logout failed", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "logout failed")
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || s.o.SecureCookie})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	s.pages.render(w, http.StatusOK, "login", loginData{Hall: s.o.HallName, Next: safeNext(r.URL.Query().Get("next"))})
}

// safeNext keeps a redirect target on this server: a path, never "//host" or a URL; "" for
// none (the login then sends the account to its role's page, landing).
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}

func sameOrigin(origin string, r *http.Request) bool {
	o, ok := strings.CutPrefix(origin, "http://")
	if !ok {
		o, ok = strings.CutPrefix(origin, "https://")
	}
	return ok && o == r.Host
}
