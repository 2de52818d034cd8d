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

// ErrNoHall is returned by the hall-service methods (CheckIn, Progress, Rate, Complain) before
// UseHall: the kiosk runs without appointments, lookups, ratings and complaints.
var ErrNoHall = errors.New("the hall services are not set up on this kiosk")

// UseHall sets up the hall services (appointments, progress lookup, 好差评, complaints) over the
// kiosk's store, catalog, opening hours, queue and clock, with the configured check-in window
// (appointments.early, appointments.late) and retention period (privacy.retention_days). key is
// the hall key (civic.LoadKey(cfg.Privacy.KeyFile)); src is the platform's data, nil for the local
// store fed by imports; sink receives the events in the transactions of their records, nil for
// the kiosk's EventRecorder (telemetry's outbox, looked up at each event since telemetry starts
// after the core; no recorder, no event). Calling it again replaces the services. Starting the daily purge is the caller's:
// go svc.PurgeEvery(ctx, 24*time.Hour, log).
func (k *Kiosk) UseHall(key *civic.Key, src civic.Source, sink civic.EventSink) (*civic.Service, error) {
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
	return svc, nil
}

// Hall returns the hall services, nil before UseHall.
func (k *Kiosk) Hall() *civic.Service {
	k.services.mu.Lock()
	defer k.services.mu.Unlock()
	return k.services.svc
}

func (k *Kiosk) hallService() (*civic.Service, error) {
	if svc := k.Hall(); svc != nil {
		return svc, nil
	}
	return nil, ErrNoHall
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
// Refusals, nothing issued: ErrNoHall; ErrLocked; *ClosedError; civic.ErrNoIdentity when no card
// was tapped; civic.ErrNoAppointment; a *civic.CheckInError (errors.Is civic.ErrTooEarly,
// ErrTooLate, ErrWrongDay, ErrCancelled, ErrAlreadyCheckedIn) whose NormalTicket says whether to
// offer TakeTicket for its Appointment.Matter instead; civic.ErrUnknownMatter when the booking's
// matter is not in the catalog in force; ErrNotOnWeekend; *PrinterError. A print failure after
// the commit is reported in Issued.PrintErr, as for TakeTicket.
func (k *Kiosk) CheckIn(ctx context.Context) (CheckIn, error) {
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
