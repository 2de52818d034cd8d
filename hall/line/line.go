// Package line is the hall controller's one queue: the numbering of every kiosk's tickets, the
// kiosks' leases of numbers, the counters' actions and the calling rule, and the estimates the
// kiosks, the displays and the citizens' phones show. Its state lives in the hall's ledger only
// (tables line_*), each action committed (synchronous=FULL) before it returns, so a restart, or
// a kill -9 at any instant, loses nothing that was answered.
//
// # Numbering
//
// One table (line_number) allocates every (day, category letter, number) once. Numbers run from
// 1 to MaxNumber (three digits: the printed code is always "A012"). Takes — numbers asked for by
// a kiosk while it is in touch — count up from 1; leases — numbers granted to a kiosk beforehand
// for when it is not — are granted from MaxNumber downwards. Each direction skips numbers
// already allocated, so the two never collide whatever order they come in; when they meet, the
// category is exhausted for the day (ErrExhausted). A number once allocated is never given again,
// even if it was never printed: such numbers are reported by Unused.
//
// The day is the local date in Config.Location; at local midnight numbering starts again at 1.
// A kiosk's lease covers today and tomorrow, so the first tickets after midnight need no halld.
//
// A take commits its ticket "unconfirmed" (not callable, not counted) before Take returns; the
// ticket joins the queue when the kiosk's ticket.issued event arrives (Issued). A lease ticket
// joins the queue only through Issued, with the code the kiosk printed.
//
// # Queue order
//
// Tickets wait in queue order: the time they were issued. A transferred ticket keeps its first
// issue time, so in its new category it waits ahead of the tickets issued after it. A no-show who
// returns within Rules.NoShowGrace is placed right after the next Rules.RequeueAfter tickets
// waiting in its category.
//
// # Calling rule
//
// Next at a window chooses among the waiting (confirmed) tickets of the window's categories:
//
//  1. a ticket that has waited longer than Rules.LongestWait goes first, the longest waiting
//     first, whatever its kind: nobody waits beyond that while others pass them;
//  2. otherwise a priority ticket (green channel: an appointment due now, an elder, a category
//     served with priority, staff's choice, an urgent matter) goes first, the first in queue
//     order — unless normal tickets wait and priority tickets already make up Rules.PriorityShare
//     or more of the window's last 10 calls today, so normal tickets are never starved;
//  3. otherwise the first normal ticket in queue order.
//
// The position shown to a citizen (ahead, ETA) applies the same rule to the ticket's category
// as if one window served it, starting from the category's last 10 calls: it is an estimate, as
// other categories sharing a window and the passing of time change the real order.
//
// # Estimates
//
// A category's average service time is the median of the day's last 10 service times (call or
// start to done) once there are 3, else the configured Category.AvgService. The estimated wait
// of a ticket is the number of tickets ahead times that average divided by the number of open
// (not paused) windows serving the category, at least 1.
package line

import (
	"citizenhome/telemetry/wire"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"citizenhome/hall/ledger"
)

// MaxNumber is the last number of a category on one day: codes keep three digits.
const MaxNumber = 999

// Reasons for a priority ticket. Others are accepted (a newer kiosk may know more), as lower
// case words.
const (
	ReasonAppointment = "appointment" // checked in for an appointment due now
	ReasonElder       = "elder"       // age at or above the hall's elder age
	ReasonCategory    = "category"    // the category is served with priority
	ReasonStaff       = "staff"       // given priority by staff
	ReasonUrgent      = "urgent"      // a matter marked 急办件 or 重点项目
)

// Defaults of Rules, used for each zero field.
const (
	DefaultPriorityShare = 0.5
	DefaultLongestWait   = 45 * time.Minute
	DefaultMaxRecalls    = 3
	DefaultNoShowGrace   = 30 * time.Minute
	DefaultRequeueAfter  = 3
	DefaultLeaseSize     = 10
)

const (
	maxField = 128 // matter, section, reasons, staff, kiosk and take ids, in bytes
	// recentCalls is how many of a window's calls the priority share looks at; recentServed how
	// many service times the average takes its median of, once there are minServed.
	recentCalls  = 10
	recentServed = 10
	minServed    = 3
	maxLeaseSize = 100
)

// Category is one queue letter.
type Category struct {
	Letter string // one capital letter A-Z
	Name   string // shown to people, e.g. "户籍"
	// AvgService is one window's time per citizen, for estimates until the day has minServed
	// service times. Zero gives no estimate (ETA 0) until then.
	AvgService time.Duration
}

// Window is one counter.
type Window struct {
	ID         string   // [A-Za-z0-9-]{1,16}, as in the hall API's routes
	Categories []string // the letters it serves, at least one
}

// Rules are the hall's calling rules. A zero field takes its Default.
type Rules struct {
	// PriorityShare (0..1]: while normal tickets wait, priority tickets are called first only
	// while they are less than this share of the window's last 10 calls.
	PriorityShare float64
	// LongestWait: a ticket waiting longer is called before any other, the oldest first.
	LongestWait time.Duration
	// MaxRecalls: how many times a called ticket may be announced again.
	MaxRecalls int
	// NoShowGrace: how long after its no-show a ticket may Return to the queue.
	NoShowGrace time.Duration
	// RequeueAfter: a returning no-show waits behind this many tickets of its category.
	RequeueAfter int
	// LeaseSize: how many unused numbers each kiosk holds per category per day (at most 100).
	LeaseSize int
}

// Config configures a Line.
type Config struct {
	Categories []Category
	Windows    []Window
	Rules      Rules
	Location   *time.Location   // the hall's zone for the day; nil: DefaultLocation()
	Now        func() time.Time // nil: time.Now
	// Log receives what the caller cannot be told by an error alone (a printed ticket whose
	// number was another's). nil: discarded.
	Log *slog.Logger
}

// DefaultLocation is Asia/Shanghai, or a fixed UTC+8 zone when the system has no time zone
// database (China has kept UTC+8 without daylight saving since 1991, so dates agree).
func DefaultLocation() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// State is where a ticket is in its life.
type State string

// Ticket states. The hall API shows Waiting to NoShow; Unconfirmed and Void are the numbering's.
const (
	Unconfirmed State = "unconfirmed" // number given to a take, the kiosk's ticket.issued not yet in
	Void        State = "void"        // a take its kiosk abandoned: never printed, reported unused
	Waiting     State = "waiting"
	Called      State = "called"
	Serving     State = "serving"
	Done        State = "done"
	NoShow      State = "no-show"
)

// Ticket is one queue ticket. It holds no personal data.
type Ticket struct {
	Code     string // as printed: "A012"; kept through a transfer
	Day      string // local date YYYY-MM-DD of the number
	Category string // the letter it waits in now (differs from Code's after a transfer)
	Number   int
	Priority bool
	Reason   string // priority reason; empty for a normal ticket
	Matter   string // the 办事指南 matter chosen at the kiosk, if any
	Section  string // the hall section (区), if any
	State    State
	Kiosk    string
	Lookup   string    // the QR code's lookup code; empty only after a lookup collision
	IssuedAt time.Time // when it was issued (a lease ticket: the kiosk's clock, at most now)
	CalledAt time.Time // the last call; zero while not called
	Window   string    // the window that called it; empty while not called
	Recalls  int       // recalls of the current call
	Served   time.Duration
	Lease    bool // the number came from its kiosk's lease
	// Conflict: a printed ticket whose number was not its kiosk's to print; it is queued all
	// the same (a printed ticket is never lost) and another ticket may carry the same code.
	Conflict bool
}

// Position is a waiting ticket's place: how many are called before it, and the estimated wait.
type Position struct {
	Ahead int
	ETA   time.Duration
}

// Line is the hall's queue. It keeps no state outside the ledger but its watchers, and is safe
// for concurrent use; one process should have one Line per ledger (Watch sees only its own).
type Line struct {
	db     *ledger.DB
	cats   map[string]Category
	order  []string // category letters as configured
	wins   map[string]Window
	worder []string
	rules  Rules
	loc    *time.Location
	now    func() time.Time
	log    *slog.Logger
	rand   io.Reader // lookup codes; tests replace it to force collisions

	// mu serialises writers so that Watch sees changes in commit order.
	mu  sync.Mutex
	hub hub
}

var reWindow = regexp.MustCompile(`^[A-Za-z0-9-]{1,16}$`)

// ValidWindow reports whether s may be a window id: [A-Za-z0-9-]{1,16}.
func ValidWindow(s string) bool { return reWindow.MatchString(s) }

// Open returns the hall's line over db, whose migrations must include Migrations. It checks the
// configuration (ErrConfig: no categories, a letter not A-Z or repeated, a window id not
// [A-Za-z0-9-]{1,16} or repeated, a window without categories or with an unknown one, a negative
// duration or count, a share above 1, a lease over 100) and that the tables exist.
func Open(ctx context.Context, db *ledger.DB, cfg Config) (*Line, error) {
	if db == nil {
		return nil, errf(CodeConfig, "no ledger")
	}
	l := &Line{db: db, cats: map[string]Category{}, wins: map[string]Window{},
		loc: cfg.Location, now: cfg.Now, log: cfg.Log, rand: rand.Reader}
	if len(cfg.Categories) == 0 {
		return nil, errf(CodeConfig, "no categories")
	}
	for _, c := range cfg.Categories {
		if !wire.ValidLetter(c.Letter) {
			return nil, errf(CodeConfig, "category letter %q must be one capital letter A-Z", c.Letter)
		}
		if _, dup := l.cats[c.Letter]; dup {
			return nil, errf(CodeConfig, "category %s configured twice", c.Letter)
		}
		if c.AvgService < 0 {
			return nil, errf(CodeConfig, "category %s: negative service time", c.Letter)
		}
		l.cats[c.Letter] = c
		l.order = append(l.order, c.Letter)
	}
	for _, w := range cfg.Windows {
		if !ValidWindow(w.ID) {
			return nil, errf(CodeConfig, "window id %q is not [A-Za-z0-9-]{1,16}", w.ID)
		}
		if _, dup := l.wins[w.ID]; dup {
			return nil, errf(CodeConfig, "window %s configured twice", w.ID)
		}
		if len(w.Categories) == 0 {
			return nil, errf(CodeConfig, "window %s serves no category", w.ID)
		}
		for _, c := range w.Categories {
			if _, ok := l.cats[c]; !ok {
				return nil, errf(CodeConfig, "window %s serves category %q, which is not configured", w.ID, c)
			}
		}
		w.Categories = append([]string(nil), w.Categories...)
		l.wins[w.ID] = w
		l.worder = append(l.worder, w.ID)
	}
	r := cfg.Rules
	if r.PriorityShare < 0 || r.PriorityShare > 1 || r.LongestWait < 0 || r.MaxRecalls < 0 ||
		r.NoShowGrace < 0 || r.RequeueAfter < 0 || r.LeaseSize < 0 || r.LeaseSize > maxLeaseSize {
		return nil, errf(CodeConfig, "rules out of range: share 0..1, durations and counts not negative, lease at most %d", maxLeaseSize)
	}
	if r.PriorityShare == 0 {
		r.PriorityShare = DefaultPriorityShare
	}
	if r.LongestWait == 0 {
		r.LongestWait = DefaultLongestWait
	}
	if r.MaxRecalls == 0 {
		r.MaxRecalls = DefaultMaxRecalls
	}
	if r.NoShowGrace == 0 {
		r.NoShowGrace = DefaultNoShowGrace
	}
	if r.RequeueAfter == 0 {
		r.RequeueAfter = DefaultRequeueAfter
	}
	if r.LeaseSize == 0 {
		r.LeaseSize = DefaultLeaseSize
	}
	l.rules = r
	if l.loc == nil {
		l.loc = DefaultLocation()
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM line_ticket LIMIT 1)`).Scan(&n); err != nil {
		return nil, fmt.Errorf("line: the ledger lacks line.Migrations: %w", err)
	}
	return l, nil
}

// Rules returns the rules in force, defaults filled in.
func (l *Line) Rules() Rules { return l.rules }

// Today returns the local date numbers are given under now, YYYY-MM-DD.
func (l *Line) Today() string { return l.day(l.now()) }

func (l *Line) day(t time.Time) string { return t.In(l.loc).Format(time.DateOnly) }

// tomorrow is the local date after day; noon avoids any daylight-saving edge.
func (l *Line) tomorrow(day string) string {
	t, _ := time.ParseInLocation(time.DateOnly, day, l.loc)
	return time.Date(t.Year(), t.Month(), t.Day()+1, 12, 0, 0, 0, l.loc).Format(time.DateOnly)
}

func (l *Line) category(letter string) (Category, error) {
	c, ok := l.cats[letter]
	if !ok {
		return Category{}, errf(CodeUnknownCategory, "category %q is not configured", letter)
	}
	return c, nil
}

func (l *Line) window(id string) (Window, error) {
	w, ok := l.wins[id]
	if !ok {
		return Window{}, errf(CodeUnknownWindow, "window %q is not configured", id)
	}
	return w, nil
}

// TicketCode is the printed form of a number: the letter and three digits (four above 999, which
// only a kiosk numbering without halld can print).
func TicketCode(letter string, n int) string { return wire.TicketCode(letter, n) }

// ParseCode reads a ticket code as staff or a route may give it ("A012", "a12", " A012 ") and
// returns the letter, the number (1..9999) and the normal form ("A012"). Errors: ErrInvalid.
func ParseCode(s string) (letter string, n int, code string, err error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) < 2 || len(s) > 5 || !wire.ValidLetter(s[:1]) {
		return "", 0, "", errf(CodeInvalid, "ticket code %q is not a letter and a number", s)
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return "", 0, "", errf(CodeInvalid, "ticket code %q is not a letter and a number", s)
		}
	}
	n, err = strconv.Atoi(s[1:])
	if err != nil || n < 1 || n > 9999 {
		return "", 0, "", errf(CodeInvalid, "ticket code %q is not a letter and a number", s)
	}
	return s[:1], n, TicketCode(s[:1], n), nil
}

// checkText refuses what cannot be stored as a short line of text.
func checkText(name, s string, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return errf(CodeInvalid, "%s is required", name)
	}
	if len(s) > maxField {
		return errf(CodeInvalid, "%s longer than %d bytes", name, maxField)
	}
	if !utf8.ValidString(s) {
		return errf(CodeInvalid, "%s is not valid UTF-8", name)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return errf(CodeInvalid, "%s contains control characters", name)
	}
	return nil
}

// cleanText is checkText for what was already printed: bad text is dropped, not refused.
func cleanText(s string) string {
	if checkText("", s, false) != nil {
		return ""
	}
	return s
}

func checkPriority(priority bool, reason string) error {
	if priority && !wire.ValidReason(reason) {
		return errf(CodeInvalid, "priority reason %q is not a lower-case word (appointment, elder, category, staff, urgent)", reason)
	}
	if !priority && reason != "" {
		return errf(CodeInvalid, "priority reason %q without priority", reason)
	}
	return nil
}

func (l *Line) newLookup(ctx context.Context, tx *sql.Tx) (string, error) {
	// 50 random bits: a collision is unlikely for years, but must not fail a ticket. The write
	// lock is held, so checking then inserting is race-free.
	for range 5 {
		b := make([]byte, wire.LookupLen)
		if _, err := io.ReadFull(l.rand, b); err != nil {
			return "", fmt.Errorf("line: random: %w", err)
		}
		for i := range b {
			b[i] = wire.LookupAlphabet[b[i]&31]
		}
		taken, err := lookupTaken(ctx, tx, string(b))
		if err != nil {
			return "", err
		}
		if !taken {
			return string(b), nil
		}
	}
	return "", errors.New("line: no free lookup code after 5 draws (broken random source?)")
}

func lookupTaken(ctx context.Context, tx *sql.Tx, s string) (bool, error) {
	var taken bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM line_ticket WHERE lookup = ?)`, s).Scan(&taken)
	if err != nil {
		return false, fmt.Errorf("line: lookup code: %w", err)
	}
	return taken, nil
}

// write runs fn in one durable transaction under the writers' lock and, once committed,
// publishes what fn reports changed.
func (l *Line) write(ctx context.Context, fn func(tx *sql.Tx, now time.Time) (Change, error)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ch Change
	err := l.db.Tx(ctx, func(tx *sql.Tx) error {
		// Read the clock under the write lock so numbers, calls and times grow together.
		now := time.Unix(0, l.now().UnixNano()).In(l.loc)
		var err error
		ch, err = fn(tx, now)
		return err
	})
	if err != nil {
		return err
	}
	if ch.Call != nil || ch.Queue {
		l.hub.publish(ch)
	}
	return nil
}
