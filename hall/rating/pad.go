package rating

import (
	"context"
	"errors"
	"fmt"
	"time"

	"citizenhome/hall/line"
)

// PadRating is what the counter's rating pad sends.
type PadRating struct {
	// Overall is 1..5; the dimensions 1..5 or 0 when not rated (the pad asks for them on a 差评).
	Overall, Efficiency, Skill, Attitude int
	Reasons                              []string
	// Day and Ticket name the ticket the pad was offered (Awaiting); both "" for the window's
	// last finished one, whatever it is.
	Day, Ticket string
	// Phone is the citizen's number for a return call on a 差评: digits, 7 to 15 of them, or
	// "". It goes to the work order only, and is dropped for a rating that is not a 差评.
	Phone string
}

// Offer is a ticket the pad may have rated now: the window's last finished one, within the
// grace, not rated yet. Its code is for the server only: the pad shows nothing of the ticket.
type Offer struct {
	Day, Ticket string
	Until       time.Time // the end of the grace
}

// Awaiting returns what a rating at window's pad would rate now. Errors: ErrNoTicket (nothing
// finished at the window today or yesterday, or line.ErrUnknownWindow wrapped for a window
// not configured), ErrExpired (the last ended more than the grace ago), ErrRated (it has its
// rating), or the ledger's and the queue's failures.
func (s *Store) Awaiting(ctx context.Context, window string) (Offer, error) {
	o, _, err := s.awaiting(ctx, window)
	return o, err
}

// awaiting is Awaiting with the service of the ticket offered, for FromPad.
func (s *Store) awaiting(ctx context.Context, window string) (Offer, line.Service, error) {
	code, day, sv, err := s.served.LastDone(ctx, window)
	if err != nil {
		if errors.Is(err, line.ErrNotFound) || errors.Is(err, line.ErrUnknownWindow) {
			return Offer{}, sv, errf(CodeNoTicket, "nothing finished at window %s (%v)", window, err)
		}
		return Offer{}, sv, fmt.Errorf("rating: the last ticket of window %s: %w", window, err)
	}
	until := sv.Ended.Add(s.grace)
	if !s.now().Before(until) {
		return Offer{}, sv, errf(CodeExpired, "window %s's last ticket ended at %s, more than %s ago", window, sv.Ended.Format(time.TimeOnly), s.grace)
	}
	var rated bool
	if err := s.db.SQL().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM rating WHERE day = ? AND ticket = ? AND status = 'served')`,
		day, code).Scan(&rated); err != nil {
		return Offer{}, sv, fmt.Errorf("rating: %w", err)
	}
	if rated {
		return Offer{}, sv, errf(CodeRated, "window %s's last ticket has its rating already", window)
	}
	return Offer{Day: day, Ticket: code, Until: until}, sv, nil
}

// validPhone: a mobile (11 digits), a landline with its area code; the work order's own rule
// (hall/followup: 7 to 15 digits), so that no number the pad took is refused by the order and
// lost.
func validPhone(p string) bool {
	if len(p) < 7 || len(p) > 15 {
		return false
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// FromPad records the rating given at window's pad for the window's last finished ticket (see
// Awaiting), and opens the work order of a 差评 with in.Phone. Nothing is kept of a refused pad
// rating: the pad is told at once (unlike a kiosk's, which arrives later).
//
// Errors: ErrInvalid (levels, reasons, a phone that is not 7-15 digits), ErrNoTicket (nothing to
// rate, or in names a ticket that is no longer the window's last: another citizen was served
// since), ErrExpired, ErrRated; failures of the ledger and the queue; a failure to open the
// work order, returned with the rating, which is kept (OpenMissing opens it later, without the
// phone).
func (s *Store) FromPad(ctx context.Context, window string, in PadRating) (Rating, error) {
	lv := levels{in.Overall, in.Efficiency, in.Skill, in.Attitude, in.Reasons}
	if err := lv.check(); err != nil {
		return Rating{}, err
	}
	if in.Phone != "" && !validPhone(in.Phone) {
		return Rating{}, errf(CodeInvalid, "the phone number must be 7 to 15 digits")
	}
	o, sv, err := s.awaiting(ctx, window)
	if err != nil {
		return Rating{}, err
	}
	if (in.Ticket != "" || in.Day != "") && (in.Ticket != o.Ticket || in.Day != o.Day) {
		return Rating{}, errf(CodeNoTicket, "the ticket offered at window %s is no longer its last", window)
	}
	r := Rating{Source: SourcePad, Day: o.Day, Ticket: o.Ticket, Window: sv.Window, Staff: sv.Staff, Section: sv.Section,
		Overall: lv.Overall, Efficiency: lv.Efficiency, Skill: lv.Skill, Attitude: lv.Attitude, Reasons: lv.Reasons,
		At: s.now().In(s.loc), Status: StatusServed}
	if _, err := s.insert(ctx, &r, false); err != nil {
		return Rating{}, err
	}
	phone := in.Phone
	if !r.Bad() {
		phone = ""
	}
	if err := s.openOrder(ctx, &r, phone); err != nil {
		return r, err
	}
	return r, nil
}
