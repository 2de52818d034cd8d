package kiosk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/queue"
)

// hallServices holds the hall services once UseHall installed them (the Kiosk's services field).
type hallServices struct {
	mu  sync.Mutex
	svc *civic.Service
}

// ErrNoHall is the answer of the hall services (CheckIn, Progress, Rate, Complain) on a kiosk
// that runs without them (NoHall): no appointments, lookups, ratings and complaints.
var ErrNoHall = errors.New("the hall services are not set up on this kiosk")

// HallServices is the hall services (appointments, progress lookup, 好差评, complaints) on this
// kiosk, as UseHall set them up: what their screens use. Calling UseHall again replaces the
// services behind every HallServices already handed out. Its methods are safe for concurrent use.
type HallServices struct{ k *Kiosk }

// UseHall sets up the hall services (appointments, progress lookup, 好差评, complaints) over the
// kiosk's store, catalog, opening hours, queue and clock, with the configured check-in window
// (appointments.early, appointments.late) and retention period (privacy.retention_days). key is
// the hall key (civic.LoadKey(cfg.Privacy.KeyFile)); src is the platform's data, nil for the local
// store fed by imports; sink receives the events in the transactions of their records, nil for
// the kiosk's EventRecorder (telemetry's outbox, looked up at each event since telemetry starts
// after the core; no recorder, no event). Calling it again replaces the services; an error (no
// key) leaves those set up before. Starting the daily purge is the caller's:
// go h.Service().PurgeEvery(ctx, 24*time.Hour, log).
func (k *Kiosk) UseHall(key *civic.Key, src civic.Source, sink civic.EventSink) (*HallServices, error) {
	if sink == nil {
		sink = func(tx *sql.Tx, typ string, data any) error {
			if r := k.recorder(); r != nil {
				return r.RecordEvent(tx, typ, data)
			}
			return nil
		}
	}
	svc, err := civic.New(civic.Options{
		Store: k.store, Key: key, Catalog: k.catalog, Schedule: k.sched, Source: src, Queue: k.queue,
		Sink: sink, Now: k.now, Early: k.cfg.Appointments.Early.Duration, Late: k.cfg.Appointments.Late.Duration,
		RetentionDays: k.cfg.Privacy.RetentionDays,
	})
	if err != nil {
		return nil, err
	}
	k.services.mu.Lock()
	k.services.svc = svc
	k.services.mu.Unlock()
	return &HallServices{k: k}, nil
}

// Ready is nil: the hall services are set up. (NoHall.Ready says why they are not.)
func (h *HallServices) Ready() error { return nil }

// Service is the civic service behind, for what is not a citizen's: hall data imports and the
// retention purge.
func (h *HallServices) Service() *civic.Service {
	svc, _ := h.k.hallService()
	return svc
}

// hallService is the services UseHall set up; ErrNoHall before.
func (k *Kiosk) hallService() (*civic.Service, error) {
	k.services.mu.Lock()
	defer k.services.mu.Unlock()
	if k.services.svc == nil {
		return nil, ErrNoHall
	}
	return k.services.svc, nil
}

// NoHall stands in for HallServices on a kiosk that runs without them (no hall key could be
// read or made): handed to the screens in their place at wiring, it says why (Ready), and the
// four tiles show as unavailable. Its methods refuse, doing nothing, with Ready's error.
type NoHall struct {
	// Reason is why there are no hall services, for the log; nil says only ErrNoHall.
	Reason error
}

// Ready is ErrNoHall, with Reason when there is one.
func (n NoHall) Ready() error { return unavailable(ErrNoHall, n.Reason) }

// CheckIn refuses with Ready's error.
func (n NoHall) CheckIn(context.Context) (CheckIn, error) { return CheckIn{}, n.Ready() }

// Progress refuses with Ready's error.
func (n NoHall) Progress(context.Context, string) (civic.Progress, error) {
	return civic.Progress{}, n.Ready()
}

// Rate refuses with Ready's error.
func (n NoHall) Rate(context.Context, civic.Rating) (civic.Rated, error) {
	return civic.Rated{}, n.Ready()
}

// RatableTicket refuses with Ready's error.
func (n NoHall) RatableTicket(context.Context, string) (civic.Ratable, error) {
	return civic.Ratable{}, n.Ready()
}

// Complain refuses with Ready's error.
func (n NoHall) Complain(context.Context, civic.Complaint) (Complained, error) {
	return Complained{}, n.Ready()
}

// identity is the session's ID card and city card numbers; zero when neither was tapped.
func (k *Kiosk) identity() civic.Identity {
	var who civic.Identity
	if p := k.Person(); p != nil {
		who.IDNumber = p.Number
	}
	if c := k.CityCard(); c != nil {
		who.CityCard = c.CardNo
	}
	return who
}

// CheckIn is a booking checked in, with its priority ticket.
type CheckIn struct {
	Appointment civic.Appointment
	Issued      Issued // the ticket; PrintErr as for TakeTicket
}

// CheckIn checks the session's citizen in for their booking (预约签到), identified by the ID
// card, or the city card, tapped in this session, and gives a green-channel ticket
// (queue.ReasonAppointment) for the booking's matter. The check-in is committed in the same
// transaction as the ticket's number: both or neither. A booking is checked in once.
//
// Refusals, nothing issued: ErrLocked; *ClosedError; civic.ErrNoIdentity when no card was
// tapped; civic.ErrNoAppointment; a *civic.CheckInError (errors.Is civic.ErrTooEarly,
// ErrTooLate, ErrWrongDay, ErrCancelled, ErrAlreadyCheckedIn) whose NormalTicket says whether to
// offer TakeTicket for its Appointment.Matter instead; civic.ErrUnknownMatter when the booking's
// matter is not in the catalog in force; ErrNotOnWeekend; *PrinterError. A print failure after
// the commit is reported in Issued.PrintErr, as for TakeTicket.
func (h *HallServices) CheckIn(ctx context.Context) (CheckIn, error) {
	k := h.k
	svc, err := k.hallService()
	if err != nil {
		return CheckIn{}, err
	}
	st, err := k.serving()
	if err != nil {
		return CheckIn{}, err
	}
	who := k.identity()
	if who.IsZero() {
		return CheckIn{}, civic.ErrNoIdentity
	}
	k.sessions.Touch()
	a, err := svc.Due(ctx, who)
	if err != nil {
		return CheckIn{}, err
	}
	m := k.catalog.Current().Matter(a.Matter)
	if m == nil {
		return CheckIn{}, fmt.Errorf("%w: booking %s is for matter %q, which the catalog in force lacks", civic.ErrUnknownMatter, a.ID, a.Matter)
	}
	if st.Weekend && !m.Weekend {
		return CheckIn{}, ErrNotOnWeekend
	}
	req := queue.Request{Category: m.Queue, MatterID: m.ID, Section: m.Section, Priority: true, PriorityReason: queue.ReasonAppointment}
	is, err := k.issueWith(ctx, req, m, func(tx *sql.Tx, t queue.Ticket) error {
		return svc.RecordCheckIn(ctx, tx, a, t, m.Section)
	})
	if is.Ticket.ID == 0 {
		return CheckIn{}, err
	}
	a.CheckedIn, a.Ticket = is.Ticket.IssuedAt, is.Ticket.Code
	return CheckIn{Appointment: a, Issued: is}, err
}
