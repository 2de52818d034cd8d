package civic

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"citizenhome/kiosk/queue"

	"citizenhome/telemetry/wire"
)

// Appointment is a booking (预约) on the hall's platform. It holds no personal data: the person
// it belongs to is known only to the Source.
type Appointment struct {
	ID        string    // the platform's booking number
	Matter    string    // catalog matter id
	Start     time.Time // the booked time
	Cancelled bool      // cancelled on the platform
	// CheckedIn is when this kiosk checked the booking in (zero when it has not), and Ticket the
	// priority ticket it gave ("A012").
	CheckedIn time.Time
	Ticket    string
}

// How far around today Due looks for bookings, to tell "wrong day" from "no booking".
const (
	lookBack  = 7 * 24 * time.Hour
	lookAhead = 92 * 24 * time.Hour
)

// Appointments returns who's bookings from a week before now to three months after, oldest
// first, with this kiosk's check-ins filled in. A city card finds the bookings made with it and
// those of its holder (card_holders). Errors: ErrNoIdentity for a zero who; ErrCardNotLinked for
// a city card alone, linked to no holder, that finds no booking; the Source's errors.
func (s *Service) Appointments(ctx context.Context, who Identity) ([]Appointment, error) {
	if who.IsZero() {
		return nil, errf(CodeNoIdentity, "no ID card or city card")
	}
	now := s.now()
	as, err := s.src.Appointments(ctx, who, now.Add(-lookBack), now.Add(lookAhead))
	if err != nil {
		return nil, err
	}
	if len(as) == 0 && cardOnly(who) {
		if linked, err := s.CardLinked(ctx, who); err != nil {
			return nil, err
		} else if !linked {
			return nil, errf(CodeCardNotLinked, "the city card is linked to no holder and has no booking")
		}
	}
	loc := s.Location()
	for i := range as {
		as[i].Start = as[i].Start.In(loc)
		var at sql.NullInt64
		err := s.st.DB().QueryRowContext(ctx, `SELECT ticket, at FROM hall_checkin WHERE appointment_id = ?`, as[i].ID).
			Scan(&as[i].Ticket, &at)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("hall: check-ins: %w", err)
		}
		if at.Valid {
			as[i].CheckedIn = time.Unix(0, at.Int64).In(loc)
		}
	}
	slices.SortStableFunc(as, func(a, b Appointment) int { return a.Start.Compare(b.Start) })
	return as, nil
}

// Due returns the booking of who to check in now: a booking not cancelled and not yet checked in
// whose window [Start-Early, Start+Late] holds the present. Otherwise it explains, most useful
// answer first, with a *CheckInError: a booking later today (CodeTooEarly, with the time its
// window opens), one checked in already (CodeAlreadyCheckedIn), one missed today (CodeTooLate),
// one cancelled today (CodeCancelled), one on another day (CodeWrongDay: the next one, else the
// last). With no booking at all it returns ErrNoAppointment. "Today" is the hall's local date.
func (s *Service) Due(ctx context.Context, who Identity) (Appointment, error) {
	as, err := s.Appointments(ctx, who)
	if err != nil {
		return Appointment{}, err
	}
	return decide(as, s.now(), s.early, s.late, s.Location())
}

// decide is Due's choice over as, sorted by Start.
func decide(as []Appointment, now time.Time, early, late time.Duration, loc *time.Location) (Appointment, error) {
	window := func(a Appointment) (time.Time, time.Time) { return a.Start.Add(-early), a.Start.Add(late) }
	answer := func(c Code, a Appointment) error {
		o, cl := window(a)
		return &CheckInError{Code: c, Appointment: a, Opens: o, Closes: cl}
	}
	var done *Appointment
	for i, a := range as {
		o, c := window(a)
		if a.Cancelled || now.Before(o) || now.After(c) {
			continue
		}
		if a.CheckedIn.IsZero() {
			return a, nil
		}
		done = &as[i]
	}
	if done != nil {
		return Appointment{}, answer(CodeAlreadyCheckedIn, *done)
	}
	today := now.In(loc).Format(time.DateOnly)
	var upcoming, checked, missed, cancelled *Appointment
	for i, a := range as {
		if a.Start.In(loc).Format(time.DateOnly) != today {
			continue
		}
		o, _ := window(a)
		switch {
		case a.Cancelled:
			cancelled = &as[i]
		case !a.CheckedIn.IsZero():
			checked = &as[i]
		case now.Before(o):
			if upcoming == nil {
				upcoming = &as[i] // the earliest
			}
		default:
			missed = &as[i] // the latest
		}
	}
	for _, c := range []struct {
		a    *Appointment
		code Code
	}{{upcoming, CodeTooEarly}, {checked, CodeAlreadyCheckedIn}, {missed, CodeTooLate}, {cancelled, CodeCancelled}} {
		if c.a != nil {
			return Appointment{}, answer(c.code, *c.a)
		}
	}
	var next, last *Appointment
	for i, a := range as {
		if a.Cancelled || !a.CheckedIn.IsZero() {
			continue
		}
		if a.Start.After(now) {
			if next == nil {
				next = &as[i]
			}
		} else {
			last = &as[i]
		}
	}
	if next != nil {
		return Appointment{}, answer(CodeWrongDay, *next)
	}
	if last != nil {
		return Appointment{}, answer(CodeWrongDay, *last)
	}
	return Appointment{}, errf(CodeNoAppointment, "no booking found")
}

// RecordCheckIn records that booking a was checked in with ticket t, and sends
// appointment.checked-in. Call it inside the ticket's issuing transaction (queue.IssueWith) so that
// the ticket and the check-in commit together: when a was checked in already (by a concurrent
// tap), it returns a *CheckInError with CodeAlreadyCheckedIn and the ticket is not issued either.
// section is the hall section of the booking's matter, for the event.
func (s *Service) RecordCheckIn(ctx context.Context, tx *sql.Tx, a Appointment, t queue.Ticket, section string) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO hall_checkin (appointment_id, ticket_id, ticket, at)
		VALUES (?, ?, ?, ?) ON CONFLICT (appointment_id) DO NOTHING`, a.ID, t.ID, t.Code, t.IssuedAt.UnixNano())
	if err != nil {
		return fmt.Errorf("hall: check-in: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("hall: check-in: %w", err)
	} else if n == 0 {
		var at int64
		if err := tx.QueryRowContext(ctx, `SELECT ticket, at FROM hall_checkin WHERE appointment_id = ?`, a.ID).Scan(&a.Ticket, &at); err != nil {
			return fmt.Errorf("hall: check-in: %w", err)
		}
		a.CheckedIn = time.Unix(0, at).In(s.Location())
		return &CheckInError{Code: CodeAlreadyCheckedIn, Appointment: a, Opens: a.Start.Add(-s.early), Closes: a.Start.Add(s.late)}
	}
	loc := s.Location()
	return s.emit(tx, wire.EventCheckedIn, CheckInEvent{
		Appointment: a.ID, Matter: a.Matter, Section: section, Start: a.Start.In(loc).Format(time.RFC3339),
		Ticket: t.Code, Day: t.Day, TS: t.IssuedAt.In(loc).Format(time.RFC3339),
	})
}
