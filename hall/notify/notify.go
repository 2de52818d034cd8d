// Package notify makes a kiosk's alert reach a person: an alert of the hall's history (a device
// fault, a citizen's call for staff, the synthetic kiosk-lost) open longer than a configured
// delay is posted to webhooks (a 企业微信 group robot, a 钉钉 robot, or a plain JSON receiver)
// as one "opened" message, and, when it ends, one "ended" message.
//
// The rules, in the order they apply:
//
//   - Delay. An alert is notified once it has been open for its severity's delay (Delays). Unless
//     Options.OutsideHours, the delay counts opening hours only: an alert raised at night and
//     still open in the morning is notified that delay after the hall opens; one that ends
//     before its delay has run is never notified, and neither is its end.
//   - Hours. Unless Options.OutsideHours, nothing is sent while the hall is closed: a message
//     due (or a retry falling due) at night waits for the next opening. An "ended" message waits
//     too, even if its "opened" was sent: the person who read the opening will read the ending
//     in the morning, when someone can act on it, and the message says when the alert ended.
//   - Once. Each (alert, phase, channel) is a row of the ledger: created when the message is
//     due, marked sent after the receiver's success answer (2xx, and errcode 0 for the robots),
//     so a restart sends nothing twice and resumes a pending retry at its persisted time. A
//     crash between the receiver's answer and the commit can repeat one message: at most once
//     is not possible over HTTP without the receiver's help, and a person prefers a duplicate to
//     a missing alert.
//   - Ended follows opened. An "ended" message is sent only after the same channel's "opened"
//     was delivered; if the alert ends while its opening is still being retried, the opening is
//     still delivered (the fault did last past its delay) and the end follows it.
//   - Retries. A failed delivery is retried with exponential back-off (MinBackoff doubling to
//     MaxBackoff, with jitter) for as long as it takes. A permanent refusal (an invalid robot
//     key, a 4xx other than 408/429, a refused signature) is not retried: the row is marked
//     failed and the channel's Health shows why; when the channel's URL or secret changes in the
//     configuration, its failed rows are tried again on the next start.
//
// Messages are in Chinese: the hall, the kiosk, the alert's code and a readable name, the
// device, since when and for how long, and a link to the console's kiosk page. An alert carries
// no personal data (the telemetry contract has none) and this package adds none.
//
// The plain JSON channel posts (Content-Type application/json):
//
//	{"event": "opened"|"ended", "hall": "h1", "kiosk": "k3",
//	 "alert": {"id", "kiosk", "code", "severity", "device", "message", "started", "ended"},
//	 "name": "出票机缺纸", "duration_s": 300, "text": "…the message in Chinese…",
//	 "url": "https://console/console/kiosks/k3", "sent_at": "2026-12-07T10:05:00+08:00"}
//
// and takes any 2xx answer as delivered.
package notify

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"citizenhome/hall/history"
	"citizenhome/hall/hours"
	"citizenhome/hall/ledger"
)

// Alerts is where the notifier learns of alerts; *history.Store satisfies it. Alerts must return
// the open alerts for a filter with Open set, and for a filter of Kiosk, Code, Since and Until
// the alerts started before Until and open at or after Since (history.AlertFilter's meaning).
type Alerts interface {
	Alerts(ctx context.Context, f history.AlertFilter) ([]history.Alert, error)
}

// Kind is a webhook's format.
type Kind string

// The webhook formats.
const (
	WeCom    Kind = "wecom"    // 企业微信 group robot: qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…
	DingTalk Kind = "dingtalk" // 钉钉 custom robot: oapi.dingtalk.com/robot/send?access_token=…
	JSON     Kind = "json"     // our own schema (package documentation)
)

// Severities of history.Alert, in rising order.
const (
	SeverityWarning = "warning"
	SeverityError   = "error"
)

// Channel is one webhook.
type Channel struct {
	// Name identifies the channel's rows in the ledger and in Health; "" takes the Kind, so two
	// channels of one kind need names. Renaming a channel makes it a new one (it re-notifies the
	// alerts open past their delay).
	Name string
	Kind Kind
	URL  string // http or https
	// Secret signs a DingTalk robot's requests (its "加签" secret, SEC…); "" when the robot
	// uses keywords or an IP allowlist instead. Other kinds ignore it.
	Secret string
	// MinSeverity is the lowest severity sent: "" or "warning" for every alert, "error" for
	// errors (and kiosk-lost) only.
	MinSeverity string
	// Text sends the robots' plain text message instead of markdown (some clients, 企业微信's
	// WeChat plug-in, do not render markdown). JSON ignores it.
	Text bool
}

// Delays is how long an alert must stay open before it is notified, per severity; kiosk-lost
// has its own (a kiosk that reboots is lost for a minute without anyone's help).
type Delays struct {
	Warning time.Duration // default DefaultWarningDelay
	Error   time.Duration // default DefaultErrorDelay; any severity other than "warning"
	Lost    time.Duration // history.KioskLost; default DefaultLostDelay
}

// Defaults of Options.
const (
	DefaultWarningDelay = 5 * time.Minute
	DefaultErrorDelay   = time.Minute
	DefaultLostDelay    = time.Minute
	DefaultPoll         = time.Second
	DefaultTimeout      = 10 * time.Second
	DefaultMinBackoff   = 5 * time.Second
	DefaultMaxBackoff   = 10 * time.Minute
	// KioskPath is the console's kiosk page under ConsoleURL, {kiosk} replaced.
	KioskPath = "/console/kiosks/{kiosk}"
	// OrderPath is the console's work-order page under ConsoleURL's origin, {order} replaced,
	// the link of an overdue order's alert (hall/followup: Kiosk "", ID the order's id negated).
	OrderPath = "/console/orders/{order}"
	// keep is how long the rows of a finished alert stay in the ledger.
	keep = 30 * 24 * time.Hour
)

// Options configure New. Zero values take the defaults.
type Options struct {
	Hall     string // the hall's id, in every message
	Channels []Channel
	Delays   Delays
	// NoDelay makes every delay zero (a zero Delays field takes its default).
	NoDelay bool
	// OutsideHours sends at any time, and counts the delays in wall time.
	OutsideHours bool
	Hours        hours.Week // opening hours; zero: hours.Default(time.Local)
	// ConsoleURL is the console's base URL as a person's phone reaches it
	// ("https://halld.hall.example:8443"); the kiosk's page is ConsoleURL+KioskPath, or, when
	// ConsoleURL holds "{kiosk}", ConsoleURL itself with it replaced. "": no link.
	ConsoleURL string
	Poll       time.Duration // how often Run looks at the alerts and due messages
	Timeout    time.Duration // one request's limit
	MinBackoff time.Duration // the first retry's wait
	MaxBackoff time.Duration // the longest wait between retries
	Client     *http.Client  // nil: a client with Timeout
	Now        func() time.Time
	// Jitter spreads a retry's wait so that channels failing together do not retry together;
	// nil: ±20 % at random. Tests make it the identity.
	Jitter func(time.Duration) time.Duration
	Log    *slog.Logger
}

// Error is every error of the package; errors.Is matches it against the sentinels by code.
type Error struct {
	Code    string // kebab-case
	Channel string // the channel concerned, if any
	Msg     string
	// Status and Errcode are the receiver's answer, when it gave one (0: none).
	Status, Errcode int
	Err             error // the cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("notify: ")
	if e.Channel != "" {
		b.WriteString(e.Channel + ": ")
	}
	if e.Msg != "" {
		b.WriteString(e.Msg)
	} else {
		b.WriteString(e.Code)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Is matches any *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func (e *Error) Unwrap() error { return e.Err }

// Sentinels for errors.Is.
var (
	ErrConfig    = &Error{Code: "config"}    // New: unusable options
	ErrSource    = &Error{Code: "source"}    // the alerts could not be read
	ErrLedger    = &Error{Code: "ledger"}    // the ledger could not be read or written
	ErrTemporary = &Error{Code: "temporary"} // a delivery failed and will be retried
	ErrRefused   = &Error{Code: "refused"}   // a delivery was refused for good (a bad key, a 404)
)

// Health is one channel's state for the console.
type Health struct {
	Channel     string    `json:"channel"`
	Kind        Kind      `json:"kind"`
	Pending     int       `json:"pending"` // messages waiting (due or in back-off)
	Failed      int       `json:"failed"`  // messages refused for good, kept for the record
	LastSent    time.Time `json:"last_sent"`
	LastError   string    `json:"last_error,omitempty"` // "" after a success
	LastErrorAt time.Time `json:"last_error_at"`
}

// Notifier watches the alerts and delivers their messages. Safe for concurrent use.
type Notifier struct {
	db    *ledger.DB
	src   Alerts
	o     Options
	chans []channel

	mu      sync.Mutex
	health  map[string]*Health
	matured map[int64]bool // alerts whose delay has run (it never un-runs)
	pruned  time.Time
}

type channel struct {
	Channel
	target string // a fingerprint of URL and secret: a failed row is retried when it changes
}

// New checks o and returns a notifier over db (which must hold Migrations) and src. Errors:
// ErrConfig for an unknown kind, a bad URL or severity, a duplicate channel name, a negative
// duration; ErrLedger when the failed rows of a changed channel could not be reset.
func New(db *ledger.DB, src Alerts, o Options) (*Notifier, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Hours.IsZero() {
		o.Hours = hours.Default(time.Local)
	}
	if o.NoDelay {
		o.Delays = Delays{}
	} else {
		o.Delays.Warning = orDefault(o.Delays.Warning, DefaultWarningDelay)
		o.Delays.Error = orDefault(o.Delays.Error, DefaultErrorDelay)
		o.Delays.Lost = orDefault(o.Delays.Lost, DefaultLostDelay)
	}
	o.Poll = orDefault(o.Poll, DefaultPoll)
	o.Timeout = orDefault(o.Timeout, DefaultTimeout)
	o.MinBackoff = orDefault(o.MinBackoff, DefaultMinBackoff)
	o.MaxBackoff = orDefault(o.MaxBackoff, DefaultMaxBackoff)
	for _, d := range []time.Duration{o.Delays.Warning, o.Delays.Error, o.Delays.Lost, o.Poll, o.Timeout, o.MinBackoff, o.MaxBackoff} {
		if d < 0 {
			return nil, &Error{Code: ErrConfig.Code, Msg: fmt.Sprintf("negative duration %v", d)}
		}
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	if o.Jitter == nil {
		o.Jitter = func(d time.Duration) time.Duration {
			return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
		}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.ConsoleURL != "" {
		if u, err := url.Parse(o.ConsoleURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &Error{Code: ErrConfig.Code, Msg: fmt.Sprintf("console URL %q: want http(s)://host[:port]", o.ConsoleURL)}
		}
	}
	n := &Notifier{db: db, src: src, o: o, health: map[string]*Health{}, matured: map[int64]bool{}}
	for i, c := range o.Channels {
		if c.Name == "" {
			c.Name = string(c.Kind)
		}
		bad := func(format string, args ...any) error {
			return &Error{Code: ErrConfig.Code, Channel: c.Name, Msg: fmt.Sprintf("channel %d: ", i+1) + fmt.Sprintf(format, args...)}
		}
		switch c.Kind {
		case WeCom, DingTalk, JSON:
		default:
			return nil, bad("unknown kind %q (wecom, dingtalk or json)", c.Kind)
		}
		if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, bad("URL: want http(s)://host/…")
		}
		switch c.MinSeverity {
		case "", SeverityWarning, SeverityError:
		default:
			return nil, bad("min severity %q (warning or error)", c.MinSeverity)
		}
		if _, dup := n.health[c.Name]; dup {
			return nil, bad("a second channel named %q", c.Name)
		}
		sum := sha256.Sum256([]byte(string(c.Kind) + "\x00" + c.URL + "\x00" + c.Secret))
		n.chans = append(n.chans, channel{Channel: c, target: hex.EncodeToString(sum[:8])})
		n.health[c.Name] = &Health{Channel: c.Name, Kind: c.Kind}
	}
	if err := n.resetChanged(context.Background()); err != nil {
		return nil, err
	}
	return n, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Run polls the alerts every Poll and delivers each channel's due messages in a goroutine of
// its own (a receiver that times out delays no other), until ctx ends; it then returns nil.
// Failures to read the alerts or to deliver are logged and show in Health; Run goes on.
func (n *Notifier) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for i := range n.chans {
		c := n.chans[i]
		wg.Go(func() { n.loop(ctx, func() { n.deliver(ctx, c) }) })
	}
	n.loop(ctx, func() {
		if err := n.poll(ctx); err != nil && ctx.Err() == nil {
			n.o.Log.Warn("notify: poll", "err", err)
		}
	})
	wg.Wait()
	return nil
}

func (n *Notifier) loop(ctx context.Context, f func()) {
	t := time.NewTicker(n.o.Poll)
	defer t.Stop()
	for {
		f()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Step does one round of Run synchronously: it polls the alerts, then delivers every channel's
// due messages (the channels in parallel). It returns the poll's error (ErrSource, ErrLedger);
// delivery failures are in Health. For tests and tools; Run is the service.
func (n *Notifier) Step(ctx context.Context) error {
	err := n.poll(ctx)
	var wg sync.WaitGroup
	for _, c := range n.chans {
		wg.Go(func() { n.deliver(ctx, c) })
	}
	wg.Wait()
	return err
}

// Health returns every configured channel's state, in the configuration's order. Pending and
// Failed are as of the channel's last delivery round (Run: at most Poll ago).
func (n *Notifier) Health() []Health {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Health, 0, len(n.chans))
	for _, c := range n.chans {
		out = append(out, *n.health[c.Name])
	}
	return out
}

// delay is how long a must be open before it is notified.
func (n *Notifier) delay(a history.Alert) time.Duration {
	switch {
	case a.Code == history.KioskLost:
		return n.o.Delays.Lost
	case a.Severity == SeverityWarning:
		return n.o.Delays.Warning
	}
	return n.o.Delays.Error
}

// wants reports whether channel c takes alerts of severity sev.
func (c channel) wants(a history.Alert) bool {
	return c.MinSeverity != SeverityError || a.Severity != SeverityWarning
}

// due reports whether a's delay has run at now.
func (n *Notifier) due(a history.Alert, now time.Time) bool {
	if n.matured[a.ID] {
		return true
	}
	var open time.Duration
	if n.o.OutsideHours {
		open = now.Sub(a.Started)
	} else {
		open = n.o.Hours.Within(a.Started, now)
	}
	if open < n.delay(a) {
		return false
	}
	n.matured[a.ID] = true
	return true
}

// maxOpen bounds one poll's open alerts: far above a hall's kiosks times their devices.
const maxOpen = 100_000

// poll turns the alerts into rows: an "opened" row per channel for each open alert past its
// delay, an "ended" row for each alert with an "opened" row that is no longer open.
func (n *Notifier) poll(ctx context.Context) error {
	now := n.o.Now()
	open, err := n.src.Alerts(ctx, history.AlertFilter{Open: true, Limit: maxOpen})
	if err != nil {
		return &Error{Code: ErrSource.Code, Msg: "reading the open alerts", Err: err}
	}
	tracked, err := n.tracked(ctx)
	if err != nil {
		return err
	}
	isOpen := map[int64]bool{}
	var rows []row
	n.mu.Lock()
	for _, a := range open {
		isOpen[a.ID] = true
		if !n.due(a, now) {
			continue
		}
		for _, c := range n.chans {
			if _, known := tracked[key{a.ID, c.Name}]; c.wants(a) && !known {
				rows = append(rows, row{alert: a, phase: opened, channel: c.Name, target: c.target})
			}
		}
	}
	// Forget the maturity of alerts no longer open, so that the map does not grow for ever.
	for id := range n.matured {
		if !isOpen[id] {
			delete(n.matured, id)
		}
	}
	n.mu.Unlock()
	// With as many open alerts as the limit, one missing from the list may only be cut off.
	if len(open) < maxOpen {
		ended := map[int64]history.Alert{}
		for k, t := range tracked {
			// A channel removed from the configuration gets no end: nothing would send it.
			if isOpen[k.id] || n.health[k.channel] == nil {
				continue
			}
			a, ok := ended[k.id]
			if !ok {
				if a, err = n.ending(ctx, t.alert, now); err != nil {
					return err
				}
				ended[k.id] = a
			}
			rows = append(rows, row{alert: a, phase: endedPhase, channel: k.channel, target: t.target})
		}
	}
	if err := n.insert(ctx, rows, now); err != nil {
		return err
	}
	if now.Sub(n.pruned) > time.Hour {
		if err := n.prune(ctx, now); err != nil {
			return err
		}
		n.pruned = now
	}
	return nil
}

// ending returns a, no longer open, with its end as the history knows it; an alert the history
// no longer has (pruned, or a ledger restored from an older backup) ends now.
func (n *Notifier) ending(ctx context.Context, a history.Alert, now time.Time) (history.Alert, error) {
	got, err := n.src.Alerts(ctx, history.AlertFilter{Kiosk: a.Kiosk, Code: a.Code, Since: a.Started, Until: a.Started.Add(time.Nanosecond)})
	if err != nil {
		return a, &Error{Code: ErrSource.Code, Msg: fmt.Sprintf("reading alert %d", a.ID), Err: err}
	}
	for _, g := range got {
		if g.ID == a.ID && g.Ended != nil {
			return g, nil
		}
	}
	a.Ended = &now
	return a, nil
}

// deliver sends c's due messages, oldest first, and stops at the first temporary failure: a
// receiver that is down is not hammered with the whole backlog at every round.
func (n *Notifier) deliver(ctx context.Context, c channel) {
	defer n.count(ctx, c)
	now := n.o.Now()
	if !n.o.OutsideHours && !n.o.Hours.Open(now) {
		return
	}
	due, err := n.dueRows(ctx, c.Name, now)
	if err != nil {
		n.failed(c, err, now)
		return
	}
	for _, r := range due {
		if ctx.Err() != nil {
			return
		}
		if r.phase == endedPhase {
			st, next, err := n.openedState(ctx, r.alert.ID, c.Name)
			if err != nil {
				n.failed(c, err, now)
				return
			}
			switch st {
			case sent:
			case failed:
				n.finish(ctx, c, r, failed, "its opening was not delivered", now)
				continue
			default: // opened still pending: wait for it
				n.setNext(ctx, r, next)
				continue
			}
		}
		err := n.send(ctx, c, r.phase, r.alert, now)
		if err != nil && ctx.Err() != nil {
			return // stopping: the message stays due as it was, not charged a failed attempt
		}
		// What the receiver answered is recorded even if ctx ends now: a success not recorded
		// would be sent again after the restart.
		wctx := context.WithoutCancel(ctx)
		switch {
		case err == nil:
			n.finish(wctx, c, r, sent, "", now)
			n.mu.Lock()
			h := n.health[c.Name]
			h.LastSent, h.LastError = now, ""
			n.mu.Unlock()
		case errors.Is(err, ErrRefused):
			n.o.Log.Error("notify: message refused, not retried", "channel", c.Name, "alert", r.alert.ID, "phase", r.phase, "err", err)
			n.finish(wctx, c, r, failed, err.Error(), now)
			n.failed(c, err, now)
		default:
			wait := n.backoff(r.attempts + 1)
			n.o.Log.Warn("notify: delivery failed, will retry", "channel", c.Name, "alert", r.alert.ID, "phase", r.phase, "in", wait.Round(time.Second), "err", err)
			n.retry(wctx, c, r, err.Error(), now, now.Add(wait))
			n.failed(c, err, now)
			return
		}
	}
}

// backoff is the wait before attempt+1, after attempt failures.
func (n *Notifier) backoff(attempt int) time.Duration {
	d := n.o.MinBackoff
	for i := 1; i < attempt && d < n.o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, n.o.MaxBackoff)
	return n.o.Jitter(d)
}

func (n *Notifier) failed(c channel, err error, now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	h := n.health[c.Name]
	h.LastError, h.LastErrorAt = err.Error(), now
}

// count refreshes c's pending and failed counts in Health.
func (n *Notifier) count(ctx context.Context, c channel) {
	rows, err := n.db.SQL().QueryContext(ctx, `SELECT state, COUNT(*) FROM notify_delivery WHERE channel = ? GROUP BY state`, c.Name)
	if err != nil {
		return
	}
	defer rows.Close()
	var pending, failedN int
	for rows.Next() {
		var st string
		var k int
		if rows.Scan(&st, &k) != nil {
			return
		}
		switch st {
		case pendingState:
			pending = k
		case failed:
			failedN = k
		}
	}
	if rows.Err() != nil {
		return
	}
	n.mu.Lock()
	h := n.health[c.Name]
	h.Pending, h.Failed = pending, failedN
	n.mu.Unlock()
}

// ledgerErr wraps a database error.
func ledgerErr(what string, err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return &Error{Code: ErrLedger.Code, Msg: what, Err: err}
}

// Merge is one alert source of several (the fleet's history and the work orders' deadlines, in
// halld): each filter is asked of every source and the answers are joined, newest first, cut to
// the filter's limit. The sources' alert ids must not collide (hall/followup's are negative). An
// error of any source is the merge's error: the notifier tries again at its next poll.
func Merge(srcs ...Alerts) Alerts { return merged(srcs) }

type merged []Alerts

func (m merged) Alerts(ctx context.Context, f history.AlertFilter) ([]history.Alert, error) {
	var out []history.Alert
	for _, s := range m {
		as, err := s.Alerts(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, as...)
	}
	slices.SortStableFunc(out, func(a, b history.Alert) int { return b.Started.Compare(a.Started) })
	limit := f.Limit
	if limit <= 0 {
		limit = history.DefaultLimit
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
