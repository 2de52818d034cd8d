// Package web is halld's HTTP server (../shared/spec/hall-api.md and docs/hall-api.md): the
// queue and its tickets, the counters' actions, the event stream and the spoken announcements,
// the public ticket page, the fleet's API (/v1/fleet, /v1/alerts, a kiosk's history and
// commands), and pages of its own: /counter for the counter staff, /display for the hall's
// calling display, /rate/{window} for a counter's rating pad, /t/{lookup} for a citizen's phone,
// /c/{number} for a complaint's answer and /console for the maintenance crew.
// Every asset is embedded; the pages load nothing from elsewhere.
//
// Access (hall/access): a bearer token, a browser login session (cookie, with a CSRF token for
// every state-changing request), or on the display's routes the display key. No route but the
// public ones (/t/, /c, /c/, /v1/public/, /login, /assets/) answers without credentials: an unknown path
// or method is 404 or 405 only for a caller who has them; others get 401 (a browser asking for a
// page is sent to /login instead, whatever the path).
package web

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"

	"citizenhome/hall/access"
)

// Access is what the server needs of hall/access's *Store.
type Access interface {
	Bearer(ctx context.Context, token string) (access.Principal, error)
	Session(ctx context.Context, id string) (access.Principal, error)
	Login(ctx context.Context, name, password, addr string) (access.Session, error)
	Logout(ctx context.Context, id string) error
}

var _ Access = (*access.Store)(nil)

// RateLimit is a token bucket per client address: Burst requests at once, then PerMinute.
type RateLimit struct {
	PerMinute int
	Burst     int
}

// DefaultPublicRateLimit is the public routes' limit per address: a phone refreshing its page
// uses 4 a minute; a hall's Wi-Fi may put many phones behind one address.
var DefaultPublicRateLimit = RateLimit{PerMinute: 60, Burst: 30}

// Options configure New. Queue and Access are required.
type Options struct {
	Queue  Queue
	Voice  Announcer // nil: announcements answer 503 no-voice
	Access Access
	// HallName is shown on the display and the pages ("XX区政务服务中心").
	HallName string
	// DisplayKey is the calling displays' read-only key (config); "" admits no display.
	DisplayKey string
	// PublicRateLimit limits /t/, /c/ and /v1/public/ per address; zero: DefaultPublicRateLimit.
	PublicRateLimit RateLimit
	// SecureCookie marks the session cookie Secure although the request came in plain HTTP
	// (halld behind a TLS proxy). A request over TLS gets a Secure cookie anyway.
	SecureCookie bool
	// Location is the hall's time zone for the times the server writes into pages (the
	// displays' and counters' clocks are their browsers'); nil: time.Local.
	Location *time.Location
	// TrustedProxies are reverse proxies whose X-Forwarded-For names the client (see clientIP).
	TrustedProxies []netip.Prefix
	Log            *slog.Logger     // default slog.Default()
	Now            func() time.Time // default time.Now; the rate limit's clock

	// Fleet is the hall's kiosks for the console and the fleet's API; nil: those answer 503
	// no-fleet.
	Fleet Fleet
	// FleetHall is the hall's id in the telemetry (its topics); "": the Fleet's kiosks of any
	// hall, looked up by kiosk id alone.
	FleetHall string
	// History is the fleet's history; nil: /v1/alerts, a kiosk's history and the console's
	// history pages answer 503 no-history.
	History History
	// Auditor keeps the console's actions; nil: they are logged only.
	Auditor Auditor
	// Ratings keeps the counters' rating pads' ratings (/rate/{window}); nil: the pad's page
	// shows, and its offer and POST answer 503 no-ratings.
	Ratings Ratings
	// Channels are the alert notifications' channels (hall/notify) whose health the console
	// shows; nil: none configured, nothing shown.
	Channels Channels
	// Orders are the work orders of 差评 and complaints (hall/followup) for /console/orders and
	// /v1/orders, and the complaints' answers for /c/{number} and /v1/public/complaints/; nil:
	// those answer 503 no-orders.
	Orders Orders
	// Satisfaction is the citizens' ratings for the statistics; nil: their columns show "—".
	// The statistics themselves are the Queue's, when it has them (StatsSource).
	Satisfaction Satisfaction
}

// Server is the HTTP handler. Run must be running for the event stream to carry changes.
type Server struct {
	o       Options
	display access.DisplayKey
	mux     *http.ServeMux
	hub     *hub
	public  *limiter
	voice   *voiceCache
	pages   *pages
	log     *slog.Logger
	refused refusals
	// fleetHub feeds the console's streams; nil without a Fleet.
	fleetHub *fleetHub
	pads     *padNonces // the rating pads' offers
}

// refusals logs requests refused for bad credentials at most once a minute, with how many
// there were: a scan or a forgotten script must not flood the journal.
type refusals struct {
	mu    sync.Mutex
	last  time.Time
	count int
}

func (f *refusals) log(l *slog.Logger, remote, route string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count++
	if now := time.Now(); now.Sub(f.last) >= time.Minute {
		l.Warn("request refused: bad credentials", "remote", remote, "route", route, "count", f.count)
		f.last, f.count = now, 0
	}
}

//go:embed assets
var assetFS embed.FS

// New returns the server. Errors: a display key that access.NewDisplayKey refuses, or a
// missing Queue or Access.
func New(o Options) (*Server, error) {
	if o.Queue == nil || o.Access == nil {
		return nil, errors.New("web: Options.Queue and Options.Access are required")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.PublicRateLimit.PerMinute <= 0 {
		o.PublicRateLimit = DefaultPublicRateLimit
	}
	if o.PublicRateLimit.Burst <= 0 {
		o.PublicRateLimit.Burst = 1
	}
	dk, err := access.NewDisplayKey(o.DisplayKey)
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, display: dk, mux: http.NewServeMux(), log: o.Log.With("component", "web"),
		public: newLimiter(o.PublicRateLimit, o.Now), voice: newVoiceCache(o.Voice)}
	s.hub = newHub(o.Queue, s.log)
	s.pages = newPages()
	s.pads = newPadNonces()
	if o.Fleet != nil {
		s.fleetHub = newFleetHub(s)
	}
	s.routes()
	return s, nil
}

// Run feeds the event stream from the queue's changes, and the console's from the fleet's,
// until ctx ends (then it returns nil), and ends the open streams when it returns; the streams
// also end when the http.Server that serves them shuts down. Errors: the queue's calls could
// not be read at the start, or its change feed or the fleet's closed (the other is stopped
// then too).
func (s *Server) Run(ctx context.Context) error {
	if s.fleetHub == nil {
		return s.hub.run(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fleetDone := make(chan error, 1)
	go func() {
		err := s.fleetHub.run(ctx)
		cancel()
		fleetDone <- err
	}()
	err := s.hub.run(ctx)
	cancel()
	if ferr := <-fleetDone; err == nil {
		err = ferr
	}
	return err
}

// right is what a route needs: a public route needs nothing.
type right int

const (
	public right = iota
	display
	readQueue
	operate
	session   // any logged-in browser session (logout)
	readFleet // the console and the fleet's reads
	command   // commands to kiosks
)

func (s *Server) routes() {
	h := func(pattern string, need right, fn func(http.ResponseWriter, *http.Request, access.Principal)) {
		s.mux.Handle(pattern, s.guard(need, fn))
	}
	h("GET /v1/queue", readQueue, s.queue)
	h("GET /v1/tickets", readQueue, s.tickets)
	h("GET /v1/tickets/{code}", readQueue, s.ticket)
	h("POST /v1/tickets/{code}/return", operate, s.ret)
	h("GET /v1/numbers/unused", readQueue, s.unused)
	for _, a := range windowActions {
		h("POST /v1/windows/{window}/"+a.name, operate, s.windowAction(a))
	}
	h("GET /v1/events", display, s.events)
	h("GET /v1/calls", display, s.calls)
	h("GET /v1/announcements/{file}", display, s.announcement)
	h("GET /v1/public/tickets/{lookup}", public, s.publicTicket)
	h("GET /t/{lookup}", public, s.ticketPage)
	// A complaint's answer, by its slip's number (complaint.go).
	h("GET /v1/public/complaints/{number}", public, s.publicComplaint)
	h("GET /c/{number}", public, s.complaintPage)
	h("GET /c", public, s.complaintForm)
	h("GET /c/{$}", public, func(w http.ResponseWriter, r *http.Request, _ access.Principal) {
		http.Redirect(w, r, "/c", http.StatusSeeOther)
	})
	h("GET /login", public, s.loginPage)
	h("POST /login", public, s.login)
	h("POST /logout", session, s.logout)
	h("GET /counter", operate, s.counterPage)
	h("GET /display", display, s.displayPage)
	h("GET /rate/{window}", display, s.ratePage)
	h("GET /rate/{window}/offer", display, s.rateOffer)
	h("POST /rate/{window}", display, s.rateSubmit)
	h("GET /{$}", readQueue, func(w http.ResponseWriter, r *http.Request, p access.Principal) {
		http.Redirect(w, r, landing(p.Role), http.StatusSeeOther)
	})
	h("GET /v1/fleet", readFleet, s.fleetAPI)
	h("GET /v1/alerts", readFleet, s.alertsAPI)
	h("GET /v1/kiosks/{kiosk}/history", readFleet, s.kioskHistoryAPI)
	h("POST /v1/kiosks/{kiosk}/commands", command, s.commandAPI)
	h("GET /console", readFleet, s.consolePage)
	h("GET /console/events", readFleet, s.consoleEvents)
	h("GET /console/kiosks/{kiosk}", readFleet, s.consoleKiosk)
	h("GET /console/kiosks/{kiosk}/confirm", command, s.consoleConfirm)
	h("POST /console/kiosks/{kiosk}/commands", command, s.consoleCommand)
	h("GET /console/alerts", readFleet, s.consoleAlerts)
	h("GET /console/report", readFleet, s.consoleReport)
	h("GET /console/report.csv", readFleet, s.consoleReportCSV)
	// The work orders: the list and the figures for the crew and admins, an order for them and
	// its manager; moves and the phone for whom hall/followup allows (orders.go).
	h("GET /v1/orders", readFleet, s.ordersAPI)
	h("GET /v1/orders/{id}", readQueue, s.orderAPI)
	h("POST /v1/orders/{id}/moves", readQueue, s.moveAPI)
	h("GET /console/orders", readFleet, s.consoleOrders)
	h("GET /console/orders/report", readFleet, s.consoleOrdersReport)
	h("GET /console/orders/report.csv", readFleet, s.consoleOrdersReportCSV)
	h("GET /console/orders/{id}", readQueue, s.consoleOrder)
	h("POST /console/orders/{id}/moves", readQueue, s.consoleMove)
	h("POST /console/orders/{id}/phone", readQueue, s.consolePhone)
	h("GET /v1/stats", readFleet, s.statsAPI)
	h("GET /console/stats", readFleet, s.consoleStats)
	h("GET /console/stats.csv", readFleet, s.consoleStatsCSV)
	assets, _ := fs.Sub(assetFS, "assets")
	files := http.FileServerFS(assets)
	s.mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") { // files only, no listing
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})))
}

// ServeHTTP implements http.Handler. A body announced over MaxBody is refused (413) before it
// is read, one that turns out longer is cut there and refused by the route that reads it. Every
// answer carries nosniff, DENY framing and no-referrer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	// The display's key and a ticket's lookup code are in URLs: no page passes them on.
	hd.Set("Referrer-Policy", "no-referrer")
	if r.ContentLength > MaxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "too-large", "request bodies are limited to 16384 bytes")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.unrouted(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// unrouted answers what no route takes: 405 when another method would be taken, else 404, both
// only to a caller with credentials (to others, 401: what halld serves is nobody else's
// business).
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	s.guard(display, func(w http.ResponseWriter, r *http.Request, _ access.Principal) {
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, "method-not-allowed", r.Method+" "+r.URL.Path+" is not allowed (allowed: "+strings.Join(allow, ", ")+")")
			return
		}
		writeError(w, http.StatusNotFound, "not-found", "no such route: "+r.Method+" "+r.URL.Path)
	}).ServeHTTP(w, r)
}

// The session cookie and the CSRF header.
const (
	cookieName = "halld_session"
	csrfHeader = "X-CSRF-Token"
	csrfField  = "csrf"
)

// principal finds who makes r: a bearer token first (a wrong one is not passed over for a
// cookie), then the session cookie, then the display key in the query (?key=). ok is false
// when r carries no credential at all.
func (s *Server) principal(r *http.Request) (p access.Principal, ok bool, err error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, found := strings.Cut(h, " ")
		if !found || !strings.EqualFold(scheme, "Bearer") {
			return p, true, access.ErrUnauthorized
		}
		p, err = s.o.Access.Bearer(r.Context(), strings.TrimSpace(tok))
		return p, true, err
	}
	if c, cerr := r.Cookie(cookieName); cerr == nil && c.Value != "" {
		p, err = s.o.Access.Session(r.Context(), c.Value)
		if err == nil || !access.IsUnauthorized(err) || !r.URL.Query().Has("key") {
			return p, true, err
		}
		// An old cookie on the display's browser: the key in the URL may still admit it.
	}
	if r.URL.Query().Has("key") {
		p, err = s.display.Check(r.URL.Query().Get("key"))
		return p, true, err
	}
	return p, false, access.ErrUnauthorized
}

// guard admits the requests that may use need and hands fn their principal. Refusals: 401 (no
// or a bad credential; a browser's page request without any is sent to /login), 403 (a role
// without the right, or a session's POST without its CSRF token), 500 (the ledger failed).
func (s *Server) guard(need right, fn func(http.ResponseWriter, *http.Request, access.Principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if need == public {
			fn(w, r, access.Principal{})
			return
		}
		p, had, err := s.principal(r)
		if err != nil {
			if !access.IsUnauthorized(err) {
				s.log.Error("checking credentials failed", "err", err)
				writeError(w, http.StatusInternalServerError, "internal", "checking credentials failed")
				return
			}
			page := r.Method == http.MethodGet && wantsHTML(r)
			keyed := r.URL.Query().Has("key")
			if page && !keyed && r.Header.Get("Authorization") == "" {
				// A browser without a session, or with an ended one: to the login.
				http.Redirect(w, r, "/login?next="+urlEscape(r.URL.Path), http.StatusSeeOther)
				return
			}
			if had {
				s.refused.log(s.log, s.clientIP(r), routeOf(s.mux, r))
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="halld"`)
			if page && keyed {
				s.pages.render(w, http.StatusUnauthorized, "message", messagePage{Hall: s.o.HallName, Refresh: 60,
					Title: "显示屏密钥无效", Subtitle: "The display key is not valid",
					Text: "请核对地址中的 key= 与 halld 配置中的显示屏密钥。", Sub: "Check key= in the address against the display key in halld's configuration."})
				return
			}
			writeError(w, http.StatusUnauthorized, "unauthorized", "credentials are required: a bearer token, a login, or on the display's routes the display key")
			return
		}
		ok := false
		switch need {
		case display:
			ok = p.May(access.Display)
		case readQueue:
			ok = p.May(access.ReadQueue)
		case operate:
			ok = p.May(access.Operate)
		case session:
			ok = p.Kind == access.BySession
		case readFleet:
			ok = p.May(access.ReadFleet)
		case command:
			ok = p.May(access.Command)
		}
		if !ok {
			if r.Method == http.MethodGet && wantsHTML(r) {
				s.pages.render(w, http.StatusForbidden, "message", messagePage{Hall: s.o.HallName,
					Title: "无权使用此页面", Subtitle: "Your role may not use this page",
					Text: "请用有此权限的账号登录。", Sub: "Log in with an account that may (counter staff: the counter page).",
					Link: "/", LinkText: "返回我的首页 · My start page"})
				return
			}
			writeError(w, http.StatusForbidden, "forbidden", "your role may not use "+r.Method+" "+r.URL.Path)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			got := r.Header.Get(csrfHeader)
			if got == "" && isForm(r) {
				got = r.PostFormValue(csrfField)
			}
			if err := access.CheckCSRF(p, got); err != nil {
				writeError(w, http.StatusForbidden, "csrf", err.Error())
				return
			}
		}
		fn(w, r, p)
	})
}

// landing is where a role's browser goes after its login (and from /): the crew and the admin
// to the console, counter staff to the counter page.
func landing(r access.Role) string {
	if r == access.Crew || r == access.Admin {
		return "/console"
	}
	return "/counter"
}

func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

func isForm(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
}

// routeOf names r's route for a log line (never the caller's own path text).
func routeOf(mux *http.ServeMux, r *http.Request) string {
	if _, p := mux.Handler(r); p != "" {
		return p
	}
	return "unknown"
}

// clientIP is the address the rate limits and login throttling count: the request's peer,
// or, when the peer is one of Options.TrustedProxies, the last address of X-Forwarded-For that
// is not itself a trusted proxy. Anyone can send X-Forwarded-For, so it is believed only from
// a proxy the configuration names, and only for the hops that proxy added.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !s.trusted(host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host // a garbled header: count the proxy itself, never a made-up name
		}
		if !s.trusted(a.String()) {
			return a.Unmap().String()
		}
	}
	return host
}

func (s *Server) trusted(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	for _, p := range s.o.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

var (
	windowRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,16}$`)
	codeRE   = regexp.MustCompile(`^[A-Za-z]{1,2}[0-9]{1,4}$`)
	lookupRE = regexp.MustCompile(`^[0-9A-Za-z]{6,16}$`)
	// categoryRE is a category's letter (or two).
	categoryRE = regexp.MustCompile(`^[A-Z]{1,2}$`)
)
