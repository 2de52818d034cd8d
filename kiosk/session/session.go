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
}

// Manager owns the current session. It is safe for concurrent use; subscribers are called
// without the lock held, in the order events happen, from the goroutine that caused them.
type Manager struct {
	now     func() time.Time
	timeout time.Duration
	warning time.Duration

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
	return &Manager{now: now, timeout: timeout, warning: warning}
}

// SetTimeout changes the idle timeout and its warning from the next Tick on (the hall's
// set-config command). The caller validates them (warning below timeout, both positive).
func (m *Manager) SetTimeout(timeout, warning time.Duration) {
	m.mu.Lock()
	m.timeout, m.warning = timeout, warning
	m.mu.Unlock()
}

// Timeout returns the idle timeout and its warning in force.
func (m *Manager) Timeout() (timeout, warning time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.timeout, m.warning
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
func (m *Manager) Touch() string {
	m.mu.Lock()
	var evs []Event
	now := m.now()
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
	left := m.timeout - now.Sub(s.last)
	var evs []Event
	switch {
	case left <= 0:
		m.mu.Unlock()
		m.End(Idle)
		return 0
	case left <= m.warning && !s.warned:
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
