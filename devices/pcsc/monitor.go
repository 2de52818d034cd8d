package pcsc

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/ebfe/scard"
)

// EventKind says what a Monitor Event reports.
type EventKind uint8

// The events, in the order they happen for one reader: ServiceUp, ReaderAdded, CardInserted,
// CardRemoved, ReaderRemoved, ServiceDown.
const (
	// EventServiceUp: a connection to pcscd is established (at start, and after pcscd came
	// back). Reader and card events follow.
	EventServiceUp EventKind = iota + 1
	// EventServiceDown: pcscd is not running, or died; Err says how it showed. Every card and
	// reader was reported removed just before. Reported once until EventServiceUp.
	EventServiceDown
	// EventReaderAdded: a watched reader is listed (at start, plugged in, pcscd back).
	EventReaderAdded
	// EventReaderRemoved: the reader is no longer listed; its card, if any, was reported
	// removed just before.
	EventReaderRemoved
	// EventCardInserted: a card is in the reader; ATR is set. Err is set (ErrCard) when the
	// card is there but mute: its ATR could not be read and it cannot be connected to.
	EventCardInserted
	// EventCardRemoved: the card reported in the reader left it.
	EventCardRemoved
)

// String gives "service-up", "service-down", "reader-added", "reader-removed",
// "card-inserted", "card-removed", or "unknown".
func (k EventKind) String() string {
	switch k {
	case EventServiceUp:
		return "service-up"
	case EventServiceDown:
		return "service-down"
	case EventReaderAdded:
		return "reader-added"
	case EventReaderRemoved:
		return "reader-removed"
	case EventCardInserted:
		return "card-inserted"
	case EventCardRemoved:
		return "card-removed"
	}
	return "unknown"
}

// Event is one change a Monitor reports.
type Event struct {
	Kind   EventKind
	Reader string // reader events and card events
	ATR    []byte // EventCardInserted
	Err    error  // EventServiceDown; a mute card's EventCardInserted
	// Readers are, on EventServiceUp, the watched readers listed at that moment (each is
	// also reported by an EventReaderAdded right after), so that a caller can tell at once
	// whether a reader it needs is missing.
	Readers []string
	Time    time.Time
}

// Options configure a Monitor. The zero value watches every reader with the default pace.
type Options struct {
	// Readers are the readers to watch, by name. A name matches the reader listed with that
	// exact name, and the readers pcscd lists with its " NN MM" suffix added: "City card reader"
	// matches "City card reader 00 00" and "City card reader 00 01". Empty: every reader.
	Readers []string
	// RetryMin and RetryMax pace the attempts to reach pcscd while it is away, doubling from
	// one to the other (defaults 50 ms and 500 ms): a pcscd that comes back is found within
	// RetryMax.
	RetryMin, RetryMax time.Duration
	// Rescan is the longest wait before the reader list is read again while a watched reader
	// is missing, or every reader is watched (default 1 s). pcsc-lite 1.9 reports on
	// PnPNotification only the readers added or removed during a wait, not between two waits;
	// the rescan catches those. Once every watched reader is there, waits are unbounded.
	Rescan time.Duration
	// Now is the clock of the events' Time (default time.Now).
	Now func() time.Time
	// After paces the retries (default time.After).
	After func(time.Duration) <-chan time.Time
}

func (o *Options) setDefaults() {
	if o.RetryMin <= 0 {
		o.RetryMin = 50 * time.Millisecond
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(500*time.Millisecond, o.RetryMin)
	}
	if o.Rescan <= 0 {
		o.Rescan = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
}

// Monitor watches PC/SC readers for cards and survives pcscd restarts: when pcscd dies (a wait
// fails with SCARD_F_COMM_ERROR, a command with SCARD_E_NO_SERVICE; the context's IsValid
// still says true), it releases the dead contexts, establishes new ones with back-off, and
// finds the readers and cards again.
//
// It keeps two contexts to pcscd: one that waits in SCardGetStatusChange, and one for the
// cards, because pcsc-lite serialises the calls of a context and a waiting context would hold
// every command up.
type Monitor struct {
	o   Options
	sys system

	mu      sync.Mutex
	gen     *generation // nil while pcscd is away
	readers map[string]*reader
	running bool
}

type reader struct {
	name    string
	state   scard.StateFlag // the last event state without CHANGED: the next CurrentState
	present bool
	atr     []byte
	counter uint16 // pcsc-lite's card event counter (upper 16 bits of the state)
}

// NewMonitor returns a Monitor; nothing happens until Run.
func NewMonitor(o Options) *Monitor {
	o.setDefaults()
	return &Monitor{o: o, sys: libpcsclite{}, readers: map[string]*reader{}}
}

// suffix is what pcscd appends to a reader's configured name: reader and slot numbers.
var suffix = regexp.MustCompile(`^ [0-9A-F]{2} [0-9A-F]{2}$`)

// MatchReader reports whether the listed reader is the one configured as name: the same name,
// or the name with pcscd's " NN MM" suffix.
func MatchReader(name, reader string) bool {
	if name == "" {
		return false
	}
	if reader == name {
		return true
	}
	return len(reader) > len(name) && reader[:len(name)] == name && suffix.MatchString(reader[len(name):])
}

func (m *Monitor) watched(reader string) bool {
	if len(m.o.Readers) == 0 {
		return true
	}
	for _, n := range m.o.Readers {
		if MatchReader(n, reader) {
			return true
		}
	}
	return false
}

// ErrRunning: Run was called while another Run of the same Monitor is going.
var ErrRunning = errors.New("pcsc: monitor already running")

// Run watches until ctx ends and calls fn, on Run's goroutine, for each Event. fn may take its
// time (read the card): changes meanwhile are reported when it returns, and a card taken away
// and put back meanwhile is reported removed and inserted again (pcsc-lite's event counter
// tells). Run returns ctx.Err(), or ErrRunning.
func (m *Monitor) Run(ctx context.Context, fn func(Event)) error {
	m.mu.Lock()
	if m.running {
		m.mu.Unlock()
		return ErrRunning
	}
	m.running = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.running = false
		m.mu.Unlock()
	}()
	if fn == nil {
		fn = func(Event) {}
	}
	emit := func(e Event) {
		e.Time = m.o.Now()
		fn(e)
	}
	backoff := m.o.RetryMin
	down := false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		g, w, err := m.establish()
		if err != nil {
			if !down {
				emit(Event{Kind: EventServiceDown, Err: err})
				down = true
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-m.o.After(backoff):
			}
			backoff = min(backoff*2, m.o.RetryMax)
			continue
		}
		backoff, down = m.o.RetryMin, false
		m.mu.Lock()
		m.gen = g
		m.mu.Unlock()
		up := Event{Kind: EventServiceUp}
		if listed, err := w.ListReaders(); err == nil {
			for _, n := range listed {
				if m.watched(n) {
					up.Readers = append(up.Readers, n)
				}
			}
			slices.Sort(up.Readers)
		}
		emit(up)
		err = m.watch(ctx, w, emit)
		m.mu.Lock()
		m.gen = nil
		m.mu.Unlock()
		_ = w.Release()
		g.release()
		m.dropAll(emit)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !errors.Is(err, ErrNoService) {
			// A call blocked in libpcsclite when pcscd dies does not always say so (seen here:
			// "Access denied" from GetStatusChange): ask the daemon itself whether it is there.
			if g2, w2, perr := m.establish(); perr != nil {
				err = perr
			} else {
				_ = w2.Release()
				g2.release()
			}
		}
		emit(Event{Kind: EventServiceDown, Err: err})
		down = true
	}
}

// establish opens the two contexts.
func (m *Monitor) establish() (*generation, pcscContext, error) {
	w, err := m.sys.establish()
	if err != nil {
		return nil, nil, wrap("establish", "", err)
	}
	io, err := m.sys.establish()
	if err != nil {
		_ = w.Release()
		return nil, nil, wrap("establish", "", err)
	}
	return &generation{ctx: io}, w, nil
}

// dropAll reports every card and reader gone (pcscd went away or Run ends).
func (m *Monitor) dropAll(emit func(Event)) {
	m.mu.Lock()
	names := m.names()
	m.mu.Unlock()
	for _, n := range names {
		m.drop(n, emit)
	}
}

// drop reports a reader gone, its card first.
func (m *Monitor) drop(name string, emit func(Event)) {
	m.mu.Lock()
	r := m.readers[name]
	delete(m.readers, name)
	m.mu.Unlock()
	if r == nil {
		return
	}
	if r.present {
		emit(Event{Kind: EventCardRemoved, Reader: name})
	}
	emit(Event{Kind: EventReaderRemoved, Reader: name})
}

// names lists the known readers, sorted. m.mu is held.
func (m *Monitor) names() []string {
	out := make([]string, 0, len(m.readers))
	for n := range m.readers {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// spinLimit is how many wake-ups in a row that changed nothing are tolerated before a pause:
// a guard against a reader (or a pcscd) whose state never settles.
const spinLimit = 100

// watch waits for changes on w until ctx ends or pcscd is lost (the error is returned).
func (m *Monitor) watch(ctx context.Context, w pcscContext, emit func(Event)) error {
	pnp := scard.ReaderState{Reader: PnPNotification, CurrentState: scard.StateUnaware}
	relist := true
	idle := 0
	for {
		if relist {
			n, err := m.relist(w, emit)
			if err != nil {
				return err
			}
			// The reader count pcsc-lite compares is that of the list just read: a reader
			// added or removed since then makes the next wait return at once.
			pnp.CurrentState = scard.StateFlag(n) << 16
			relist = false
		}
		m.mu.Lock()
		names := m.names()
		states := make([]scard.ReaderState, 0, 1+len(names))
		states = append(states, pnp)
		for _, n := range names {
			r := m.readers[n]
			states = append(states, scard.ReaderState{Reader: n, CurrentState: r.state})
		}
		timeout := time.Duration(-1) // unbounded
		if m.missing() {
			timeout = m.o.Rescan
		}
		m.mu.Unlock()

		if err := ctx.Err(); err != nil {
			return err
		}
		// SCardCancel only stops a wait in progress: one that lands just before the wait
		// starts is lost, so it is repeated until the wait has returned.
		waiting := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			for {
				_ = w.Cancel()
				select {
				case <-waiting:
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		})
		start := time.Now()
		err := w.GetStatusChange(states, timeout)
		close(waiting)
		stop()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch code := codeOf(err); {
		case err == nil:
		case code == ErrTimeout:
			relist = true
			continue
		case code == ErrNoReader:
			// A reader vanished between the listing and the wait.
			relist = true
			continue
		case code == ErrCancelled:
			continue
		default:
			return wrap("wait", "", err)
		}
		changed := false
		if states[0].EventState&scard.StateChanged != 0 {
			relist, changed = true, true
		}
		// Keep the reader count pcsc-lite puts in the upper bits: the next wait then blocks.
		pnp.CurrentState = states[0].EventState &^ scard.StateChanged
		for _, st := range states[1:] {
			if m.update(st, emit) {
				changed = true
			}
			if st.EventState&(scard.StateUnknown|scard.StateIgnore) != 0 {
				relist = true
			}
		}
		if changed || time.Since(start) > time.Millisecond {
			idle = 0
			continue
		}
		if idle++; idle >= spinLimit {
			idle = 0
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-m.o.After(m.o.RetryMin):
			}
		}
	}
}

// missing reports whether the wait must be bounded: every reader is watched (new ones must be
// found), or a watched reader is not listed. m.mu is held.
func (m *Monitor) missing() bool {
	if len(m.o.Readers) == 0 {
		return true
	}
	for _, n := range m.o.Readers {
		found := false
		for name := range m.readers {
			if MatchReader(n, name) {
				found = true
				break
			}
		}
		if !found {
			return true
		}
	}
	return false
}

// relist reads the reader list and reports the readers added and removed. It returns how
// many readers pcscd listed, watched or not.
func (m *Monitor) relist(w pcscContext, emit func(Event)) (int, error) {
	listed, err := w.ListReaders()
	if err != nil && codeOf(err) != ErrNoReader { // SCARD_E_NO_READERS_AVAILABLE: none
		return 0, wrap("list", "", err)
	}
	m.mu.Lock()
	var gone []string
	for _, n := range m.names() {
		if !slices.Contains(listed, n) {
			gone = append(gone, n)
		}
	}
	m.mu.Unlock()
	for _, n := range gone {
		m.drop(n, emit)
	}
	slices.Sort(listed)
	for _, n := range listed {
		if n == "" || !m.watched(n) {
			continue
		}
		m.mu.Lock()
		_, known := m.readers[n]
		if !known {
			m.readers[n] = &reader{name: n, state: scard.StateUnaware}
		}
		m.mu.Unlock()
		if !known {
			emit(Event{Kind: EventReaderAdded, Reader: n})
		}
	}
	return len(listed), nil
}

// update applies one reader's new state and reports what it means; true if it reported.
func (m *Monitor) update(st scard.ReaderState, emit func(Event)) bool {
	ev := st.EventState
	if ev&scard.StateChanged == 0 {
		return false
	}
	m.mu.Lock()
	r := m.readers[st.Reader]
	if r == nil {
		m.mu.Unlock()
		return false
	}
	r.state = ev &^ scard.StateChanged
	present := ev&scard.StatePresent != 0 && ev&(scard.StateUnknown|scard.StateUnavailable) == 0
	counter := uint16(ev >> 16)
	was, again := r.present, r.present && present && counter != r.counter
	r.present, r.counter = present, counter
	if present {
		r.atr = append([]byte(nil), st.Atr...)
	} else {
		r.atr = nil
	}
	atr := append([]byte(nil), r.atr...)
	m.mu.Unlock()

	inserted := Event{Kind: EventCardInserted, Reader: st.Reader, ATR: atr}
	if ev&scard.StateMute != 0 {
		inserted.Err = &Error{Op: "wait", Reader: st.Reader, Code: ErrCard, Err: errMute}
	}
	switch {
	case present && !was:
		emit(inserted)
	case !present && was:
		emit(Event{Kind: EventCardRemoved, Reader: st.Reader})
	case again:
		// Taken away and put back (or another card) while the caller was busy.
		emit(Event{Kind: EventCardRemoved, Reader: st.Reader})
		emit(inserted)
	default:
		return false
	}
	return true
}

var errMute = errors.New("card is mute (no answer to reset)")

// Connect connects to the card in a watched reader (shared mode, T=0 or T=1), typically from
// fn on EventCardInserted, or from any other goroutine. Errors: ErrNoService while pcscd is
// away, ErrNoReader for a reader not listed (or not watched), ErrNoCard when no card is known
// to be there, and what SCardConnect says.
func (m *Monitor) Connect(reader string) (*Card, error) {
	m.mu.Lock()
	g, r := m.gen, m.readers[reader]
	var atr []byte
	present := false
	if r != nil {
		atr, present = append([]byte(nil), r.atr...), r.present
	}
	m.mu.Unlock()
	switch {
	case g == nil:
		return nil, &Error{Op: "connect", Reader: reader, Code: ErrNoService}
	case r == nil:
		return nil, &Error{Op: "connect", Reader: reader, Code: ErrNoReader}
	case !present:
		return nil, &Error{Op: "connect", Reader: reader, Code: ErrNoCard}
	}
	return g.connect(reader, atr)
}

// Readers lists the watched readers listed now, sorted; nil while pcscd is away.
func (m *Monitor) Readers() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gen == nil {
		return nil
	}
	return m.names()
}

// ListReaders lists the readers pcscd knows now, with a context of its own: for diagnostics.
// No reader is an empty list, not an error; pcscd away is ErrNoService.
func ListReaders() ([]string, error) { return listReaders(libpcsclite{}) }

func listReaders(sys system) ([]string, error) {
	c, err := sys.establish()
	if err != nil {
		return nil, wrap("establish", "", err)
	}
	defer c.Release()
	names, err := c.ListReaders()
	if err != nil {
		if codeOf(err) == ErrNoReader {
			return []string{}, nil
		}
		return nil, wrap("list", "", err)
	}
	return names, nil
}
