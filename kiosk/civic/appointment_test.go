package civic

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"citizenhome/kiosk/queue"

	"citizenhome/telemetry/wire"
)

func TestDecide(t *testing.T) {
	early, late := 30*time.Minute, 15*time.Minute
	appt := func(id, start string) Appointment { return Appointment{ID: id, Matter: "zh-001", Start: at(start)} }
	cancelled := func(a Appointment) Appointment { a.Cancelled = true; return a }
	checked := func(a Appointment) Appointment {
		a.CheckedIn, a.Ticket = a.Start.Add(-10*time.Minute), "A001"
		return a
	}
	cases := []struct {
		name string
		now  string
		as   []Appointment
		want string // booking id for success
		code Code
		of   string // booking id the answer is about
	}{
		{"none", "2026-11-26 09:00", nil, "", CodeNoAppointment, ""},
		{"window opens", "2026-11-26 09:00", []Appointment{appt("YY1", "2026-11-26 09:30")}, "YY1", "", ""},
		{"window closes", "2026-11-26 09:45", []Appointment{appt("YY1", "2026-11-26 09:30")}, "YY1", "", ""},
		{"a second too early", "2026-11-26 08:59:59", []Appointment{appt("YY1", "2026-11-26 09:30")}, "", CodeTooEarly, "YY1"},
		{"a second too late", "2026-11-26 09:45:01", []Appointment{appt("YY1", "2026-11-26 09:30")}, "", CodeTooLate, "YY1"},
		{"the open one of two", "2026-11-26 14:00", []Appointment{appt("YY1", "2026-11-26 09:30"), appt("YY2", "2026-11-26 14:10")}, "YY2", "", ""},
		{"too early beats too late", "2026-11-26 11:00", []Appointment{appt("YY1", "2026-11-26 09:30"), appt("YY2", "2026-11-26 14:10")}, "", CodeTooEarly, "YY2"},
		{"checked in already", "2026-11-26 09:35", []Appointment{checked(appt("YY1", "2026-11-26 09:30"))}, "", CodeAlreadyCheckedIn, "YY1"},
		{"checked in, then late", "2026-11-26 16:00", []Appointment{checked(appt("YY1", "2026-11-26 09:30"))}, "", CodeAlreadyCheckedIn, "YY1"},
		{"cancelled", "2026-11-26 09:30", []Appointment{cancelled(appt("YY1", "2026-11-26 09:30"))}, "", CodeCancelled, "YY1"},
		{"next day", "2026-11-26 09:30", []Appointment{appt("YY1", "2026-11-27 09:30")}, "", CodeWrongDay, "YY1"},
		{"past day", "2026-11-26 09:30", []Appointment{appt("YY1", "2026-11-25 09:30")}, "", CodeWrongDay, "YY1"},
		{"next day rather than past", "2026-11-26 09:30", []Appointment{appt("YY0", "2026-11-24 09:30"), appt("YY1", "2026-11-28 09:30")}, "", CodeWrongDay, "YY1"},
		{"only cancelled elsewhere", "2026-11-26 09:30", []Appointment{cancelled(appt("YY1", "2026-11-27 09:30"))}, "", CodeNoAppointment, ""},
		// Day boundaries in the hall's zone, not UTC: 00:05 on the 27th in Shanghai is still
		// the 26th in UTC, and the booking is today.
		{"just after local midnight", "2026-11-27 00:05", []Appointment{appt("YY1", "2026-11-27 09:30")}, "", CodeTooEarly, "YY1"},
		{"just before local midnight", "2026-11-26 23:59:59", []Appointment{appt("YY1", "2026-11-27 09:30")}, "", CodeWrongDay, "YY1"},
		// A window may cross midnight.
		{"window across midnight", "2026-11-26 23:50", []Appointment{appt("YY1", "2026-11-27 00:10")}, "YY1", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := decide(c.as, at(c.now), early, late, shanghai)
			if c.code == "" {
				if err != nil || a.ID != c.want {
					t.Fatalf("got %s, %v; want %s", a.ID, err, c.want)
				}
				return
			}
			if !errors.Is(err, &Error{Code: c.code}) {
				t.Fatalf("err = %v, want %s", err, c.code)
			}
			var ce *CheckInError
			if c.of != "" {
				if !errors.As(err, &ce) || ce.Appointment.ID != c.of {
					t.Fatalf("answer about %+v, want %s", ce, c.of)
				}
				if !ce.Opens.Equal(ce.Appointment.Start.Add(-early)) || !ce.Closes.Equal(ce.Appointment.Start.Add(late)) {
					t.Errorf("window %s-%s", ce.Opens, ce.Closes)
				}
				wantNormal := c.code == CodeTooLate || c.code == CodeWrongDay || c.code == CodeCancelled
				if ce.NormalTicket() != wantNormal {
					t.Errorf("NormalTicket %v", ce.NormalTicket())
				}
				if ce.Error() == "" || !strings.Contains(ce.Error(), c.of) {
					t.Errorf("message %q", ce.Error())
				}
			}
		})
	}
}

func TestDueAndCheckInOnce(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	r.importJSON(t, obj{"appointments": []obj{
		{"id": "YY1", "id_number": idZhang, "matter": "zh-001", "start": "2026-11-26T09:20:00+08:00"},
		{"id": "YY2", "city_card": cardLi, "matter": "sb-001", "start": "2026-11-26T09:10:00+08:00"},
		{"id": "YY3", "id_number": idLi, "matter": "sb-001", "start": "2026-11-28T09:10:00+08:00"},
	}})
	if _, err := r.svc.Due(ctx, Identity{}); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("no identity: %v", err)
	}
	// Only the person's bookings: Li by ID card has YY3 (another day), by city card YY2.
	if _, err := r.svc.Due(ctx, Identity{IDNumber: idLi}); !errors.Is(err, ErrWrongDay) {
		t.Errorf("Li by ID: %v", err)
	}
	a, err := r.svc.Due(ctx, Identity{IDNumber: idLi, CityCard: cardLi})
	if err != nil || a.ID != "YY2" {
		t.Fatalf("Li by both cards: %+v %v", a, err)
	}
	if _, err := r.svc.Due(ctx, Identity{IDNumber: idn("41020419800101003")}); !errors.Is(err, ErrNoAppointment) {
		t.Errorf("a stranger: %v", err)
	}
	a, err = r.svc.Due(ctx, Identity{IDNumber: idZhang})
	if err != nil || a.ID != "YY1" || a.Matter != "zh-001" || !a.Start.Equal(at("2026-11-26 09:20")) {
		t.Fatalf("Zhang: %+v %v", a, err)
	}
	issue := func() (queue.Ticket, error) {
		return r.q.IssueWith(ctx, queue.Request{Category: "A", MatterID: "zh-001", Priority: true, PriorityReason: queue.ReasonAppointment},
			func(tx *sql.Tx, tk queue.Ticket) error { return r.svc.RecordCheckIn(ctx, tx, a, tk, "zh") })
	}
	tk, err := issue()
	if err != nil {
		t.Fatal(err)
	}
	// A second tap with the booking read before the first commit: refused in the transaction,
	// and its number is not used.
	_, err = issue()
	var ce *CheckInError
	if !errors.As(err, &ce) || ce.Code != CodeAlreadyCheckedIn || ce.Appointment.Ticket != tk.Code {
		t.Fatalf("second check-in: %v", err)
	}
	if n := count(t, r.st, "queue_ticket"); n != 1 {
		t.Errorf("%d tickets: the refused check-in used a number", n)
	}
	if _, err := r.svc.Due(ctx, Identity{IDNumber: idZhang}); !errors.Is(err, ErrAlreadyCheckedIn) {
		t.Errorf("Due after the check-in: %v", err)
	}
	as, err := r.svc.Appointments(ctx, Identity{IDNumber: idZhang})
	if err != nil || len(as) != 1 || as[0].Ticket != tk.Code || as[0].CheckedIn.IsZero() {
		t.Errorf("appointments %+v %v", as, err)
	}
	ev := r.sink.list()
	if len(ev) != 1 || ev[0].typ != wire.EventCheckedIn {
		t.Fatalf("events %+v", ev)
	}
	want := CheckInEvent{Appointment: "YY1", Matter: "zh-001", Section: "zh", Start: "2026-11-26T09:20:00+08:00",
		Ticket: tk.Code, Day: "2026-11-26", TS: "2026-11-26T09:00:00+08:00"}
	if ev[0].data != want {
		t.Errorf("event %+v, want %+v", ev[0].data, want)
	}
	// A check-in whose event cannot be recorded is not recorded either.
	r.sink.fail = errors.New("outbox full")
	a2, err := r.svc.Due(ctx, Identity{CityCard: cardLi})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.q.IssueWith(ctx, queue.Request{Category: "B", Priority: true, PriorityReason: queue.ReasonAppointment},
		func(tx *sql.Tx, tk queue.Ticket) error { return r.svc.RecordCheckIn(ctx, tx, a2, tk, "sb") })
	if err == nil || count(t, r.st, "hall_checkin") != 1 || count(t, r.st, "queue_ticket") != 1 {
		t.Errorf("failed event: err %v, %d check-ins", err, count(t, r.st, "hall_checkin"))
	}
}

// A Source that is down is reported as it said, and the check-in waits.
func TestSourceErrors(t *testing.T) {
	down := errf(CodeSource, "platform timeout")
	r := newRig(t, func(o *Options) { o.Source = fakeSource{err: down} })
	if _, err := r.svc.Due(context.Background(), Identity{IDNumber: idZhang}); !errors.Is(err, ErrSource) {
		t.Errorf("Due: %v", err)
	}
	if _, err := r.svc.Progress(context.Background(), Query{Who: Identity{IDNumber: idZhang}}); !errors.Is(err, ErrSource) {
		t.Errorf("Progress: %v", err)
	}
}

// fakeSource stands for the platform (a future HTTP adapter): it answers from lists.
type fakeSource struct {
	appts []Appointment
	apps  []Application
	err   error
}

func (f fakeSource) Appointments(context.Context, Identity, time.Time, time.Time) ([]Appointment, error) {
	return append([]Appointment(nil), f.appts...), f.err
}

func (f fakeSource) Applications(context.Context, Query) ([]Application, error) {
	return append([]Application(nil), f.apps...), f.err
}
