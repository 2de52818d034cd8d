package kiosk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/devices/idcard"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/queue"
	"citizenhome/telemetry/wire"
)

// withCheckDigit completes 17 digits of an ID number (GB 11643). It panics on anything but 17
// digits: it only makes the package's fixed test numbers.
func withCheckDigit(base17 string) string {
	c, err := idcard.CheckDigit(base17)
	if err != nil || len(base17) != 17 {
		panic(fmt.Sprintf("withCheckDigit(%q): %v", base17, err))
	}
	return base17 + string(c)
}

var (
	idWang   = withCheckDigit("41020419850301001")
	cardZhao = "3104000087654321"
)

type recorded struct {
	mu     sync.Mutex
	types  []string
	failOn string
}

func (r *recorded) sink(tx *sql.Tx, typ string, _ any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if typ == r.failOn {
		return errors.New("outbox refused")
	}
	r.types = append(r.types, typ)
	return nil
}

func (r *recorded) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.types...)
}

// hallRig is the core rig with hall services and two bookings today: Wang (ID card) at 09:10 for
// zh-001, Zhao (city card) at 10:00 for sb-001.
func hallRig(t *testing.T) (*rigT, *civic.Service, *recorded) {
	t.Helper()
	r := newRig(t, nil)
	key, err := civic.NewKey([]byte(strings.Repeat("k", civic.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorded{}
	h, err := r.k.UseHall(key, nil, rec.sink)
	if err != nil {
		t.Fatal(err)
	}
	svc := h.Service()
	if svc == nil || h.Ready() != nil {
		t.Fatalf("UseHall gave no service: %v", h.Ready())
	}
	r.hall = h
	data := `{"appointments": [
	  {"id": "YY1", "id_number": "` + idWang + `", "matter": "zh-001", "start": "2026-11-26T09:10:00+08:00"},
	  {"id": "YY2", "city_card": "` + cardZhao + `", "matter": "sb-001", "start": "2026-11-26T10:00:00+08:00"}],
	 "applications": [{"id": "SL1", "id_number": "` + idWang + `", "matter": "sb-003", "status": "办理中",
	  "accepted": "2026-11-20", "updated": "2026-11-24T16:00:00+08:00"}]}`
	if _, err := svc.Import(context.Background(), strings.NewReader(data), civic.JSON); err != nil {
		t.Fatal(err)
	}
	return r, svc, rec
}

// Without UseHall the kiosk has no hall services: what stands in for them refuses every call.
func TestHallServicesNeedUseHall(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	no := NoHall{Reason: errors.New("hall key unreadable")}
	if err := no.Ready(); !errors.Is(err, ErrNoHall) || !strings.Contains(err.Error(), "hall key unreadable") {
		t.Errorf("Ready: %v", err)
	}
	if _, err := no.CheckIn(ctx); !errors.Is(err, ErrNoHall) {
		t.Errorf("CheckIn: %v", err)
	}
	if _, err := no.Progress(ctx, "K7Q2M9XAB1"); !errors.Is(err, ErrNoHall) {
		t.Errorf("Progress: %v", err)
	}
	if _, err := no.Rate(ctx, civic.Rating{Overall: 5}); !errors.Is(err, ErrNoHall) {
		t.Errorf("Rate: %v", err)
	}
	if _, err := no.RatableTicket(ctx, "A001"); !errors.Is(err, ErrNoHall) {
		t.Errorf("RatableTicket: %v", err)
	}
	if _, err := no.Complain(ctx, civic.Complaint{Category: civic.CategoryOther, Text: "x"}); !errors.Is(err, ErrNoHall) {
		t.Errorf("Complain: %v", err)
	}
	if _, err := r.k.UseHall(nil, nil, nil); err == nil {
		t.Error("UseHall without a key")
	}
}

func TestCheckIn(t *testing.T) {
	r, _, rec := hallRig(t)
	ctx := context.Background()
	if _, err := r.hall.CheckIn(ctx); !errors.Is(err, civic.ErrNoIdentity) {
		t.Fatalf("no card tapped: %v", err)
	}
	r.k.SetPerson(&Person{Name: "王五", Number: idWang, Birth: time.Date(1985, 3, 1, 0, 0, 0, 0, shanghai)})
	ci, err := r.hall.CheckIn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tk := ci.Issued.Ticket
	if !tk.Priority || tk.PriorityReason != queue.ReasonAppointment || tk.MatterID != "zh-001" || tk.Category != "A" || tk.Code != "A001" {
		t.Errorf("ticket %+v", tk)
	}
	if ci.Appointment.ID != "YY1" || ci.Appointment.Ticket != "A001" || ci.Issued.PrintErr != nil || r.p.Printed() != 1 {
		t.Errorf("check-in %+v, %d prints", ci, r.p.Printed())
	}
	if got := rec.list(); len(got) != 1 || got[0] != wire.EventCheckedIn {
		t.Errorf("events %v", got)
	}
	if printed, _ := r.k.queue.ByID(ctx, tk.ID); printed.Print != queue.Printed {
		t.Errorf("print state %s", printed.Print)
	}
	// One check-in per booking.
	_, err = r.hall.CheckIn(ctx)
	var ce *civic.CheckInError
	if !errors.As(err, &ce) || ce.Code != civic.CodeAlreadyCheckedIn || ce.Appointment.Ticket != "A001" || ce.NormalTicket() {
		t.Errorf("second check-in: %v", err)
	}
	if c, _ := r.k.queue.CountToday(ctx); c.Issued != 1 {
		t.Errorf("%d tickets issued", c.Issued)
	}
}

// Late: a typed answer and a normal ticket for the same matter instead.
func TestCheckInLateOffersNormalTicket(t *testing.T) {
	r, _, _ := hallRig(t)
	ctx := context.Background()
	r.clock.Set(at("2026-11-26", "10:16"))
	r.k.SetCityCard(&CityCard{CardNo: cardZhao})
	_, err := r.hall.CheckIn(ctx)
	var ce *civic.CheckInError
	if !errors.As(err, &ce) || !errors.Is(err, civic.ErrTooLate) || !ce.NormalTicket() || ce.Appointment.Matter != "sb-001" {
		t.Fatalf("late: %v", err)
	}
	if !ce.Closes.Equal(at("2026-11-26", "10:15")) {
		t.Errorf("window closed at %s", ce.Closes)
	}
	is, err := r.k.TakeTicket(ctx, ce.Appointment.Matter)
	if err != nil || is.Ticket.Priority {
		t.Errorf("normal ticket: %+v %v", is.Ticket, err)
	}
	// The next day the booking is on the wrong day.
	r.clock.Set(at("2026-11-27", "10:00"))
	r.k.SetCityCard(&CityCard{CardNo: cardZhao})
	if _, err := r.hall.CheckIn(ctx); !errors.Is(err, civic.ErrWrongDay) {
		t.Errorf("next day: %v", err)
	}
}

// Nothing is committed when the check-in cannot be: the hall closed, the printer out, the event
// refused.
func TestCheckInRefusalsCommitNothing(t *testing.T) {
	r, _, rec := hallRig(t)
	ctx := context.Background()
	r.k.SetPerson(&Person{Number: idWang})
	r.clock.Set(at("2026-11-26", "12:10")) // lunch break
	if _, err := r.hall.CheckIn(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("lunch break: %v", err)
	}
	r.clock.Set(at("2026-11-26", "09:00"))
	r.p.Set(outStatus, nil, nil)
	if _, err := r.hall.CheckIn(ctx); !errors.Is(err, ErrNoPrinter) {
		t.Errorf("paper out: %v", err)
	}
	r.p.Set(okStatus, nil, nil)
	rec.failOn = wire.EventCheckedIn
	if _, err := r.hall.CheckIn(ctx); err == nil {
		t.Error("check-in with a refused event went through")
	}
	if c, _ := r.k.queue.CountToday(ctx); c.Issued != 0 {
		t.Errorf("%d numbers used by refused check-ins", c.Issued)
	}
	rec.failOn = ""
	hallCmd(r.k).Lock(ctx, "")
	if _, err := r.hall.CheckIn(ctx); !errors.Is(err, ErrLocked) {
		t.Errorf("locked: %v", err)
	}
	hallCmd(r.k).Unlock(ctx)
	r.k.SetPerson(&Person{Number: idWang})
	if ci, err := r.hall.CheckIn(ctx); err != nil || ci.Issued.Ticket.Code != "A001" {
		t.Errorf("after the refusals the booking is still there: %+v %v", ci, err)
	}
	// A print failure after the commit: checked in, ticket marked for reprint.
	r.clock.Set(at("2026-11-26", "09:50"))
	r.k.SetCityCard(&CityCard{CardNo: cardZhao})
	r.p.Set(okStatus, nil, errors.New("jam"))
	ci, err := r.hall.CheckIn(ctx)
	if err != nil || ci.Issued.PrintErr == nil {
		t.Fatalf("print failure: %+v %v", ci, err)
	}
	if tk, _ := r.k.queue.ByID(ctx, ci.Issued.Ticket.ID); tk.Print != queue.Reprint {
		t.Errorf("print state %s", tk.Print)
	}
}

func TestProgressRateComplainAtTheKiosk(t *testing.T) {
	r, _, rec := hallRig(t)
	ctx := context.Background()
	if _, err := r.hall.Progress(ctx, ""); !errors.Is(err, civic.ErrNoIdentity) {
		t.Errorf("no card: %v", err)
	}
	r.k.SetPerson(&Person{Number: idWang})
	p, err := r.hall.Progress(ctx, "")
	if err != nil || len(p.Applications) != 1 || p.Applications[0].Promised.Date == "" {
		t.Fatalf("by ID card: %+v %v", p, err)
	}
	// Ratings and complaints work after hours too.
	r.clock.Set(at("2026-11-26", "19:00"))
	is, err := r.k.TakeTicketInCategory(ctx, "A", false)
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("closed hall: %+v %v", is, err)
	}
	if _, err := r.hall.Rate(ctx, civic.Rating{Overall: civic.VeryDissatisfied}); !errors.Is(err, civic.ErrInvalid) {
		t.Errorf("bad rating without reasons: %v", err)
	}
	if _, err := r.hall.Rate(ctx, civic.Rating{Overall: civic.Satisfied}); err != nil {
		t.Errorf("rating: %v", err)
	}
	if _, err := r.hall.RatableTicket(ctx, "A999"); !errors.Is(err, civic.ErrNotFound) {
		t.Errorf("rating an unknown ticket number: %v", err)
	}
	before := r.p.Printed()
	c, err := r.hall.Complain(ctx, civic.Complaint{Category: civic.CategoryProcess, Text: "材料清单与窗口要求不一致", Phone: "13800138000"})
	if err != nil || c.PrintErr != nil || !strings.HasPrefix(c.Number, "TS20261126") {
		t.Fatalf("complaint: %+v %v", c, err)
	}
	if r.p.Printed() != before+1 {
		t.Error("no slip printed")
	}
	if got := rec.list(); len(got) != 2 || got[0] != wire.EventRating || got[1] != wire.EventComplaint {
		t.Errorf("events %v", got)
	}
	// The slip's number finds the complaint; the citizen's own lookup lists it.
	p, err = r.hall.Progress(ctx, "citizenhome:lookup:"+c.Number)
	if err != nil || len(p.Complaints) != 1 || p.Complaints[0].State != civic.ComplaintSubmitted {
		t.Errorf("by number: %+v %v", p, err)
	}
	if p, _ := r.hall.Progress(ctx, ""); len(p.Complaints) != 1 {
		t.Errorf("own complaints: %+v", p.Complaints)
	}
	// Paper out: the complaint is filed all the same.
	r.p.Set(outStatus, nil, nil)
	c2, err := r.hall.Complain(ctx, civic.Complaint{Category: civic.CategoryFacility, Text: "自助机打印不出"})
	if err != nil || !errors.Is(c2.PrintErr, ErrNoPrinter) || c2.Number == "" {
		t.Errorf("complaint without paper: %+v %v", c2, err)
	}
	hallCmd(r.k).Lock(ctx, "")
	for name, err := range map[string]error{
		"progress": func() error { _, err := r.hall.Progress(ctx, c.Number); return err }(),
		"rate":     func() error { _, err := r.hall.Rate(ctx, civic.Rating{Overall: 5}); return err }(),
		"ratable":  func() error { _, err := r.hall.RatableTicket(ctx, "A001"); return err }(),
		"complain": func() error {
			_, err := r.hall.Complain(ctx, civic.Complaint{Category: civic.CategoryOther, Text: "x"})
			return err
		}(),
	} {
		if !errors.Is(err, ErrLocked) {
			t.Errorf("%s while locked: %v", name, err)
		}
	}
}
