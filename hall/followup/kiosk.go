package followup

import (
	"context"
	"encoding/json"
	"time"

	"citizenhome/telemetry/wire"
)

// complaintEvent is a complaint.submitted event's data as the kiosk writes it (docs/hall-data.md):
// the slip's number, the category and the time only; the text and the phone stay sealed on the
// kiosk.
type complaintEvent struct {
	Number   string `json:"number"`
	Category string `json:"category"`
	TS       string `json:"ts"`
}

// FromKiosk opens the work order of a kiosk's complaint.submitted event (受理, due in working
// days from the complaint's time). The same slip number again returns its order. Errors: an
// *Error with CodeInvalid for another event type or data that is not a complaint (sending it
// again would not change that); a ledger failure as it is (worth another try).
func (s *Store) FromKiosk(ctx context.Context, kiosk string, e wire.Event) (Order, error) {
	if e.Type != wire.EventComplaint {
		return Order{}, errf(CodeInvalid, "event %s is not a complaint", e.Type)
	}
	var c complaintEvent
	if err := json.Unmarshal(e.Data, &c); err != nil {
		return Order{}, errf(CodeInvalid, "complaint event %s: not a complaint's data", e.ID)
	}
	at, err := time.Parse(time.RFC3339, c.TS)
	if err != nil {
		at = e.TS // the event's own time, which the contract requires
	}
	return s.OpenComplaint(ctx, ComplaintRef{Number: c.Number, Category: c.Category, At: at})
}
