// Package kiosk is the core of a citizen service kiosk: it composes the queue, the service
// catalog, the opening hours and the citizen session, and reaches the hardware only through the
// small interfaces declared here, so that it runs the same on real devices, on the simulators of
// the demo, and on the fakes of its tests.
//
// Both front ends use it: cmd/kiosk (the touch screen) and cmd/kioskd (no screen).
package kiosk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/hours"
	"citizenhome/kiosk/queue"
	"citizenhome/kiosk/session"
	"citizenhome/kiosk/store"
)

// Printer is what the kiosk needs of a ticket printer.
type Printer interface {
	// Print prints one document exactly once or returns an error saying it did not (or may not
	// have) completed; it never retries a partly sent job by itself.
	Print(ctx context.Context, doc escpos.Doc) error
	// Status asks the printer for its state; an error means it does not answer.
	Status(ctx context.Context) (escpos.Status, error)
}

// DefaultAvgService is the estimate per citizen for a queue category the configuration lacks.
const DefaultAvgService = 10 * time.Minute

// Options are what New needs besides the configuration.
type Options struct {
	Config  config.Config
	Store   *store.Store
	Catalog *catalog.Holder
	Printer Printer // nil: no printer configured
	Now     func() time.Time
	Log     *slog.Logger
	Version string
	Demo    bool // demo data and simulated devices: shown as such on screen and on tickets
}

// Kiosk is the core. Its methods are safe for concurrent use.
type Kiosk struct {
	cfg      config.Config
	store    *store.Store
	catalog  *catalog.Holder
	printer  Printer
	now      func() time.Time
	log      *slog.Logger
	version  string
	demo     bool
	started  time.Time
	sched    *hours.Schedule
	queue    *queue.Queue
	sessions *session.Manager

	staffMu sync.Mutex // one staff PIN checked at a time (staff.go); taken before mu

	mu      sync.Mutex
	devices map[string]Device
	subs    []func(Event)
	lock    lockState
	events  EventRecorder // the telemetry outbox (remote.go); nil without telemetry
	hall    HallNumbers   // halld's numbering (numbers.go); nil without a controller or telemetry
	answers HallAnswers   // halld's answers (answers.go); nil likewise
	voice   VoiceControl  // the spoken prompts' level (voice.go); nil: the kiosk runs silent

	help       helpState  // a citizen's call for staff (help.go)
	staffGuard staffGuard // wrong staff PINs and the lockout, as in the store (staff.go)

	cards    cardBoard    // the cards on the readers now (card.go)
	services hallServices // appointments, progress, ratings, complaints (appointment.go)
	payments paySetup     // one-card payments (pay.go)
}

// lockState is whether service is stopped (暂停服务), by the hall or by staff on site, and with
// what message: the kiosk's one lock, whoever locked it.
type lockState struct {
	on      bool
	message string // shown while on
	// fallback is the message of a lock without one, set remotely (hall.locked_message); ""
	// uses the configured one.
	fallback string
}

// New builds the core over an opened store, recovering tickets whose printing was interrupted
// by a crash (they are marked for reprint).
func New(ctx context.Context, o Options) (*Kiosk, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	loc, err := o.Config.Location()
	if err != nil {
		return nil, err
	}
	h := o.Config.Hours
	sched, err := hours.New(loc, h.Weekday, h.Weekend, h.Closed, h.Workdays)
	if err != nil {
		return nil, err
	}
	var cats []queue.Category
	seen := map[string]bool{}
	for _, c := range o.Config.Queue.Categories {
		cats = append(cats, queue.Category{Letter: c.Letter, AvgService: c.AvgService.Duration, Counters: c.Counters})
		seen[c.Letter] = true
	}
	// A catalog letter the configuration does not list still takes tickets: refusing citizens
	// over a missing estimate setting would be worse than a rough estimate.
	for _, l := range o.Catalog.Current().Categories() {
		if !seen[l] {
			o.Log.Warn("queue category used by the catalog is not configured; estimating 10 minutes per citizen, one window", "letter", l)
			cats = append(cats, queue.Category{Letter: l, AvgService: DefaultAvgService, Counters: 1})
		}
	}
	q, err := queue.New(o.Store, cats, loc, o.Now)
	if err != nil {
		return nil, err
	}
	if n, err := q.Recover(ctx); err != nil {
		return nil, fmt.Errorf("recovering tickets: %w", err)
	} else if n > 0 {
		o.Log.Warn("tickets interrupted by a restart are marked for reprint", "count", n)
	}
	// A lockout earned before a restart holds after it: a guesser gains nothing by pulling the plug.
	guard, err := loadStaffGuard(ctx, o.Store.DB())
	if err != nil {
		return nil, err
	}
	k := &Kiosk{
		cfg: o.Config, store: o.Store, catalog: o.Catalog, printer: o.Printer, now: o.Now,
		log: o.Log, version: o.Version, demo: o.Demo, started: o.Now(), sched: sched, queue: q,
		sessions: session.NewManager(o.Config.Kiosk.IdleTimeout.Duration, o.Config.Kiosk.IdleWarning.Duration, o.Now),
		devices:  map[string]Device{}, staffGuard: guard,
	}
	k.sessions.SetTimeouts(Timeouts(o.Config))
	k.sessions.Subscribe(func(e session.Event) { k.emit(Event{Kind: EventSession, Session: e}) })
	k.devices[DevicePrinter] = Device{State: StateAbsent, Since: o.Now()}
	if o.Printer != nil {
		// Ask once now, so that the first screen already shows whether tickets can be printed.
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := o.Printer.Status(sctx)
		cancel()
		k.devices[DevicePrinter] = Device{State: PrinterState(st, err), Detail: errDetail(err), Since: o.Now()}
	}
	// The watchers report only changes from here on: the printer's first state is logged now.
	logDevice(k.log, DevicePrinter, Device{}, k.devices[DevicePrinter], false)
	return k, nil
}

// Config returns the configuration the kiosk runs with.
func (k *Kiosk) Config() config.Config { return k.cfg }

// Demo reports whether this is the demo (simulated devices, demo catalog).
func (k *Kiosk) Demo() bool { return k.demo }

// Version is the software version shown on the staff screen and printed on self-test pages.
func (k *Kiosk) Version() string { return k.version }

// Sessions gives access to the citizen session (touches, idle timeout, personal data).
func (k *Kiosk) Sessions() *session.Manager { return k.sessions }

// Catalog returns the service catalog in force.
func (k *Kiosk) Catalog() *catalog.Catalog { return k.catalog.Current() }

// Now is the kiosk's clock.
func (k *Kiosk) Now() time.Time { return k.now() }

// Started is when the core was built (New), on its clock: the start of the status's uptime.
func (k *Kiosk) Started() time.Time { return k.started }

// Uptime is how long the core has run, on its clock; never negative (a clock set back gives 0).
func (k *Kiosk) Uptime() time.Duration { return max(k.now().Sub(k.started), 0) }

// Subscribe registers fn for every later event (session, device and lock changes). fn is called
// from the goroutine that caused the event and must not block; a UI hands it to its own loop.
func (k *Kiosk) Subscribe(fn func(Event)) {
	k.mu.Lock()
	k.subs = append(k.subs, fn)
	k.mu.Unlock()
}

func (k *Kiosk) emit(e Event) {
	k.mu.Lock()
	subs := make([]func(Event), len(k.subs))
	copy(subs, k.subs)
	k.mu.Unlock()
	for _, fn := range subs {
		fn(e)
	}
}

// lockWith stops service (暂停服务) with message, or the default message when it is empty, and
// returns the message shown. The session in progress, if any, ends and its data is wiped.
func (k *Kiosk) lockWith(message string) string {
	k.mu.Lock()
	if message == "" {
		message = k.lock.fallback
	}
	if message == "" {
		message = k.cfg.Hall.LockedMessage
	}
	k.lock.on, k.lock.message = true, message
	k.mu.Unlock()
	k.sessions.End(session.Locked)
	k.emit(Event{Kind: EventLock, Locked: true, Message: message})
	return message
}

// unlock resumes service; an event only when the kiosk was locked.
func (k *Kiosk) unlock() {
	k.mu.Lock()
	was := k.lock.on
	k.lock.on, k.lock.message = false, ""
	k.mu.Unlock()
	if was {
		k.emit(Event{Kind: EventLock})
	}
}

// Locked reports whether service is stopped (by the hall or by staff: StaffHandle.Lock), with
// the message to show; false and "" while the kiosk serves.
func (k *Kiosk) Locked() (bool, string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lock.on, k.lock.message
}

// Error codes of the core, matched with errors.Is. The UI maps each to a screen that says what to
// do next.
var (
	ErrClosed          = errors.New("the hall is closed now")
	ErrNotOnWeekend    = errors.New("this matter is not served at weekends")
	ErrUnknownMatter   = errors.New("no such matter in the catalog")
	ErrUnknownCategory = errors.New("no matter in the catalog uses this queue category now")
	ErrLocked          = errors.New("the kiosk is locked by the hall")
	ErrNoPrinter       = errors.New("the ticket printer cannot print now")
)

// ClosedError is ErrClosed with the opening-hours status (reason, next opening).
type ClosedError struct{ Status hours.Status }

func (e *ClosedError) Error() string {
	if e.Status.Next.IsZero() {
		return fmt.Sprintf("the hall is closed (%s)", e.Status.Reason)
	}
	return fmt.Sprintf("the hall is closed (%s); it opens at %s", e.Status.Reason, e.Status.Next.Format("2006-01-02 15:04"))
}

// Is makes errors.Is(err, ErrClosed) true.
func (e *ClosedError) Is(target error) bool { return target == ErrClosed }

// PrinterError is ErrNoPrinter with the printer's state.
type PrinterError struct {
	State DeviceState
	Err   error // the driver's error, when there was one
}

func (e *PrinterError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("printer %s: %v", e.State, e.Err)
	}
	return fmt.Sprintf("printer %s", e.State)
}

// Is makes errors.Is(err, ErrNoPrinter) true.
func (e *PrinterError) Is(target error) bool { return target == ErrNoPrinter }

// Unwrap gives the driver's error.
func (e *PrinterError) Unwrap() error { return e.Err }

// Timeouts are the session idle timeouts cfg configures (kiosk.idle_timeout and its reading and
// elder variants, staff.idle_timeout, kiosk.idle_warning).
func Timeouts(cfg config.Config) session.Timeouts {
	return session.Timeouts{
		Other: cfg.Kiosk.IdleTimeout.Duration, Reading: cfg.Kiosk.IdleReading.Duration,
		Elder: cfg.Kiosk.IdleElder.Duration, Staff: cfg.Staff.IdleTimeout.Duration,
		Warning: cfg.Kiosk.IdleWarning.Duration,
	}
}
