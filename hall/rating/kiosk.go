package rating

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"citizenhome/telemetry/wire"
)

// kioskRating is the data of rating.submitted as docs/hall-data.md documents it (the kiosk's
// civic.RatingEvent, which the hall may not import). The kiosk's section and window are not
// read: the queue says who served the ticket.
type kioskRating struct {
	Overall    int      `json:"overall"`
	Efficiency int      `json:"efficiency"`
	Skill      int      `json:"skill"`
	Attitude   int      `json:"attitude"`
	Reasons    []string `json:"reasons"`
	Ticket     string   `json:"ticket"`
	Day        string   `json:"day"`
	TS         string   `json:"ts"`
}

// FromKiosk records the rating.submitted event e of kiosk, tied through the queue to the window,
// staff and section that served its ticket, and opens the work order of a 差评.
//
// Idempotent by (kiosk, e.ID): a re-sent event returns the rating recorded the first time, with
// the same error, and opens the order if the first attempt could not.
//
// The rating is kept (and returned with its ID) in every case but ErrInvalid, and then:
//   - a ticket not finished at a window yet: Refused, ErrNotServed;
//   - a ticket unknown that day (or malformed): Refused, ErrUnknownTicket;
//   - a ticket rated already (at the pad, or by another event): Refused, ErrRated;
//   - no ticket: Unattached, nil.
//
// Errors: ErrInvalid (another event type, data that is not the documented JSON, a level out of
// range, a bad reason, a 差评 without reasons, no day or time); a failure of the ledger or the
// queue (not kept: the kiosk sends the event again); a failure to open the work order (the
// rating is kept and returned; the order is opened on the next try).
func (s *Store) FromKiosk(ctx context.Context, kiosk string, e wire.Event) (Rating, error) {
	if e.Type != wire.EventRating {
		return Rating{}, errf(CodeInvalid, "event %s is not %s", e.Type, wire.EventRating)
	}
	if kiosk == "" || e.ID == "" || len(kiosk) > 64 || len(e.ID) > 64 {
		return Rating{}, errf(CodeInvalid, "an event needs its kiosk and id")
	}
	var d kioskRating
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return Rating{}, errf(CodeInvalid, "rating data: %v", err)
	}
	lv := levels{d.Overall, d.Efficiency, d.Skill, d.Attitude, d.Reasons}
	if err := lv.check(); err != nil {
		return Rating{}, err
	}
	at := e.TS
	if t, err := time.Parse(time.RFC3339, d.TS); err == nil {
		at = t
	}
	if at.IsZero() {
		return Rating{}, errf(CodeInvalid, "rating without a time")
	}
	day := d.Day
	if day == "" {
		day = at.In(s.loc).Format(time.DateOnly)
	}
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return Rating{}, errf(CodeInvalid, "day %q is not YYYY-MM-DD", day)
	}
	r := Rating{Source: SourceKiosk, Kiosk: kiosk, EventID: e.ID, Day: day, Ticket: strings.ToUpper(strings.TrimSpace(d.Ticket)),
		Overall: lv.Overall, Efficiency: lv.Efficiency, Skill: lv.Skill, Attitude: lv.Attitude, Reasons: lv.Reasons, At: at.In(s.loc)}
	if len(r.Ticket) > 8 {
		return Rating{}, errf(CodeInvalid, "ticket %q is not a ticket code", d.Ticket)
	}
	if r.Ticket == "" {
		r.Status = StatusUnattached
	} else {
		sv, err := s.served.ServedBy(ctx, day, r.Ticket)
		if err == nil {
			r.Status, r.Window, r.Staff, r.Section = StatusServed, sv.Window, sv.Staff, sv.Section
		} else if code, err := asLine(err, r.Ticket, day); code != "" {
			r.Status, r.Refusal = StatusRefused, code
		} else {
			return Rating{}, err
		}
	}
	found, err := s.insert(ctx, &r, true)
	if err != nil {
		return Rating{}, err
	}
	if !found && r.Status == StatusRefused {
		// Codes and ids only: what a manager needs to find the event, nothing of the citizen.
		s.log.Info("kiosk rating refused", "kiosk", kiosk, "event", e.ID, "ticket", r.Ticket, "day", r.Day, "reason", string(r.Refusal))
	}
	if err := s.openOrder(ctx, &r, ""); err != nil {
		return r, err
	}
	return r, refusal(r)
}
