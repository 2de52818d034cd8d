// Package session keeps the one citizen session a kiosk has at a time: it starts at the first
// touch or card tap, ends when the citizen finishes, when the hall resets the kiosk, or after a
// period without a touch (with a warning first), and ending it drops every piece of personal data
// it held.
//
// Personal data lives only here, for the length of a session: whoever needs the citizen's identity
// asks the session for it, so that ending the session is enough to forget it everywhere.
package session

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"time"
)

// EndReason says why a session ended.
type EndReason string

// Reasons a session ends.
const (
	Finished EndReason = "finished" // the citizen pressed 完成 / went home
	Idle     EndReason = "idle"     // no touch for the idle timeout
	Reset    EndReason = "reset"    // the hall or staff reset the kiosk
	Locked   EndReason = "locked"   // the hall locked the kiosk
	CardLeft EndReason = "card-left"
	// ReaderLost: a reader the session's personal data were read from stopped answering (its
	// device vanished, pcscd went away, the reader was unplugged). What it read can no longer
	// be vouched for, so it goes, whether or not the kiosk keeps a card's data after the card
	// left.
	ReaderLost EndReason = "reader-lost"
)

// EventKind is what happened to the session.
type EventKind int

// Session events, delivered to subscribers in order.
const (
	Started   EventKind = iota + 1
	Warning             // the idle timeout is near; Event.Remaining says how near
	Continued           // a touch after a warning: the session goes on
	Ended
)

// Event is delivered to subscribers. It carries no personal data.
type Event struct {
	Kind      EventKind
	ID        string        // session id (random, not linked to the person)
	Remaining time.Duration // for Warning
	Reason    EndReason     // for Ended
}

// Personal is a piece of personal data held by a session (an identity read from an ID card, a
// city card's data). Wipe must overwrite what it can (byte slices) and drop the rest.
type Personal interface{ Wipe() }

// Session is the citizen session in progress. Its exported fields are set once at start.
type Session struct {
	ID      string
	Started time.Time

	last     time.Time
	warned   bool
	busy     int
	personal map[string]Personal
	elder    bool // elder mode (large text) is on: the citizen gets Timeouts.Elder
	offered  bool // elder mode was offered in this session (ElderOffer)
}

// Screen is the kind of screen on display, which decides how long a citizen may stay on it
// without touching it (Timeouts).
type Screen int

// Screen kinds.
const (
	ScreenOther   Screen = iota // any screen: Timeouts.Other
	ScreenReading               // a screen to read (guide detail, progress): Timeouts.Reading
	ScreenStaff                 // staff mode: Timeouts.Staff, whatever else holds
)

// Timeouts are the idle timeouts by screen kind and mode, and the warning before each. The
// longest that applies wins: elder mode on a reading screen gets max(Reading, Elder). Staff mode
// gets Staff, whatever the text size (staff are not citizens reading slowly), or Other if that
// is longer.
type Timeouts struct {
	Other   time.Duration // every screen not named below
	Reading time.Duration // ScreenReading
	Elder   time.Duration // any citizen screen in elder mode
	Staff   time.Duration // ScreenStaff
	Warning time.Duration // how long before the end the Warning event comes
}

// For is the idle timeout on screen s, in elder mode or not. A zero Reading, Elder or Staff
// (or one shorter than Other) gives Other.
func (t Timeouts) For(s Screen, elder bool) time.Duration {
	if s == ScreenStaff {
		// Never shorter than a citizen's, even after the hall raised Other (set-config).
		return max(t.Staff, t.Other)
	}
	d := t.Other
	if s == ScreenReading {
		d = max(d, t.Reading)
	}
	if elder {
		d = max(d, t.Elder)
	}
	return d
}

// Manager owns the current session. It is safe for concurrent use; subscribers are called
// without the lock held, in the order events happen, from the goroutine that caused them.
type Manager struct {
	now      func() time.Time
	timeouts Timeouts
	screen   Screen

	mu   sync.Mutex
	cur  *Session
	subs []func(Event)
}

// NewManager returns a manager whose sessions end after timeout without a touch, with a Warning
// event warning before that. now is the clock (time.Now in production).
func NewManager(timeout, warning time.Duration, now func() time.Time) *Manager {
	if now == nil {
		now = time.Now
	}
	return &Manager{now: now, timeouts: Timeouts{Other: timeout, Warning: warning}}
}

// SetTimeout changes the idle timeout of ordinary screens (Timeouts.Other) and the warning from
// the next Tick on (the hall's set-config command). The caller validates them (warning below
// timeout, both positive). The other timeouts stay.
func (m *Manager) SetTimeout(timeout, warning time.Duration) {
	m.mu.Lock()
	m.timeouts.Other, m.timeouts.Warning = timeout, warning
	m.mu.Unlock()
}

// SetTimeouts sets every idle timeout from the next Tick on. The caller validates them (each
// above the warning).
func (m *Manager) SetTimeouts(t Timeouts) {
	m.mu.Lock()
	m.timeouts = t
	m.mu.Unlock()
}

// Timeout returns the idle timeout of ordinary screens and the warning in force.
func (m *Manager) Timeout() (timeout, warning time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.timeouts.Other, m.timeouts.Warning
}

// Timeouts returns every idle timeout in force.
func (m *Manager) Timeouts() Timeouts {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.timeouts
}

// SetScreen says what kind of screen is on display; the idle timeout follows it from the next
// Tick on, counted from the last touch. It is the screen's, not the session's: it holds across
// sessions until the next SetScreen.
func (m *Manager) SetScreen(s Screen) {
	m.mu.Lock()
	m.screen = s
	m.mu.Unlock()
}

// SetElder records that the citizen turned elder mode on or off in the session in progress (it
// touches the session, starting one if needed). Ending the session turns it off.
func (m *Manager) SetElder(on bool) {
	m.Touch()
	m.mu.Lock()
	if m.cur != nil {
		m.cur.elder = on
	}
	m.mu.Unlock()
}

// Elder reports whether elder mode is on in the session in progress; false without one.
func (m *Manager) Elder() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur != nil && m.cur.elder
}

// OfferElder reports whether elder mode should be offered now: true once per session, when
// there is a session, elder mode is off and it was not offered yet (the offer is then recorded).
// Whether the citizen is old enough is the caller's to decide before asking.
func (m *Manager) OfferElder() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil || m.cur.elder || m.cur.offered {
		return false
	}
	m.cur.offered = true
	return true
}

// Left returns the time left before the session in progress ends for want of a touch, at the
// current time, without applying the idle rules (Tick does); ok is false without a session. A
// session in a transaction has its whole timeout left.
func (m *Manager) Left() (left time.Duration, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.cur
	if s == nil {
		return 0, false
	}
	timeout := m.timeouts.For(m.screen, s.elder)
	if s.busy > 0 {
		return timeout, true
	}
	return max(0, timeout-m.now().Sub(s.last)), true
}

// Activity postpones the idle end of the session in progress, as Touch does, but never starts a
// session: for what shows someone is there only when someone already is (a card left on a reader).
func (m *Manager) Activity() {
	m.touch(false)
}

// Subscribe registers fn for every later event. Subscribe before starting sessions.
func (m *Manager) Subscribe(fn func(Event)) {
	m.mu.Lock()
	m.subs = append(m.subs, fn)
	m.mu.Unlock()
}

func (m *Manager) emit(evs []Event) {
	m.mu.Lock()
	subs := slices.Clone(m.subs)
	m.mu.Unlock()
	for _, e := range evs {
		for _, fn := range subs {
			fn(e)
		}
	}
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Touch records activity: it starts a session if there is none and postpones the idle timeout.
// A touch during the warning continues the session. It returns the session id.
func (m *Manager) Touch() string { return m.touch(true) }

// touch is Touch; without a session it starts one only when start is set (and returns "").
func (m *Manager) touch(start bool) string {
	m.mu.Lock()
	var evs []Event
	now := m.now()
	if m.cur == nil && !start {
		m.mu.Unlock()
		return ""
	}
	if m.cur == nil {
		m.cur = &Session{ID: newID(), Started: now, personal: map[string]Personal{}}
		evs = append(evs, Event{Kind: Started, ID: m.cur.ID})
	} else if m.cur.warned {
		m.cur.warned = false
		evs = append(evs, Event{Kind: Continued, ID: m.cur.ID})
	}
	m.cur.last = now
	id := m.cur.ID
	m.mu.Unlock()
	m.emit(evs)
	return id
}

// Active reports whether a session is in progress, and its id.
func (m *Manager) Active() (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil {
		return "", false
	}
	return m.cur.ID, true
}

// Put stores a piece of personal data under key in the current session (starting one if needed,
// as a card tap starts a session). A value already under key is wiped first.
func (m *Manager) Put(key string, p Personal) {
	m.Touch()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil { // ended between Touch and here: do not keep the data
		p.Wipe()
		return
	}
	if old := m.cur.personal[key]; old != nil {
		old.Wipe()
	}
	m.cur.personal[key] = p
}

// Get returns the personal data under key in the current session, or nil.
func (m *Manager) Get(key string) Personal {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil {
		return nil
	}
	return m.cur.personal[key]
}

// Begin marks the start of a transaction (printing, a payment) that the idle timeout and hall
// commands must not cut; call the returned func when it ends. Without a session it starts one.
func (m *Manager) Begin() (done func()) {
	m.Touch()
	m.mu.Lock()
	s := m.cur
	s.busy++
	m.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			s.busy--
			if m.cur == s {
				s.last = m.now()
			}
			m.mu.Unlock()
		})
	}
}

// InTransaction reports whether a transaction is in progress (see Begin).
func (m *Manager) InTransaction() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur != nil && m.cur.busy > 0
}

// End ends the current session, if any, wiping its personal data. It is not refused during a
// transaction: callers that must wait (hall commands) check InTransaction first.
func (m *Manager) End(reason EndReason) {
	m.mu.Lock()
	s := m.cur
	m.cur = nil
	m.mu.Unlock()
	if s == nil {
		return
	}
	for k, p := range s.personal {
		p.Wipe()
		delete(s.personal, k)
	}
	m.emit([]Event{{Kind: Ended, ID: s.ID, Reason: reason}})
}

// Tick applies the idle rules at the current time: a Warning when the last touch is older than
// timeout-warning, the end when it is older than timeout. Call it a few times a second (Run does).
// A session in a transaction never times out. It returns the time left before the idle end
// (0 when there is no session).
func (m *Manager) Tick() time.Duration {
	m.mu.Lock()
	s := m.cur
	if s == nil {
		m.mu.Unlock()
		return 0
	}
	now := m.now()
	if s.busy > 0 {
		s.last = now
	}
	left := m.timeouts.For(m.screen, s.elder) - now.Sub(s.last)
	var evs []Event
	switch {
	case left <= 0:
		m.mu.Unlock()
		m.End(Idle)
		return 0
	case left <= m.timeouts.Warning && !s.warned:
		s.warned = true
		evs = append(evs, Event{Kind: Warning, ID: s.ID, Remaining: left})
	}
	m.mu.Unlock()
	m.emit(evs)
	return left
}

// Run calls Tick every interval until stop is closed.
func (m *Manager) Run(stop <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			m.Tick()
		}
	}
}
