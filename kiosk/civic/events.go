package civic

import "database/sql"

// EventSink records one event for the hall inside tx, the transaction that writes the record the
// event describes, so the two commit or roll back together (the telemetry outbox). typ is one of
// the contract's names (wire.EventCheckedIn, EventRating, EventComplaint), data its type below, a
// JSON object without personal data. An error rolls the transaction back: the check-in, rating or
// complaint is then not recorded either.
type EventSink func(tx *sql.Tx, typ string, data any) error

// CheckInEvent is the data of appointment.checked-in. It names the booking by the platform's
// booking number (so the hall can mark it attended) and never the person.
type CheckInEvent struct {
	Appointment string `json:"appointment"` // the platform's booking number
	Matter      string `json:"matter"`      // catalog matter id
	Section     string `json:"section,omitempty"`
	Start       string `json:"start"`  // booked time, RFC 3339 in the hall's zone
	Ticket      string `json:"ticket"` // the priority ticket given, "A012"
	Day         string `json:"day"`    // the ticket's local date
	TS          string `json:"ts"`     // check-in time, RFC 3339
}

// RatingEvent is the data of rating.submitted: the levels (1 非常不满意 .. 5 非常满意; a dimension
// not rated is left out), the reason codes, and the ticket, section and window it is about when it
// is linked to a ticket. No personal data, no free text.
type RatingEvent struct {
	Rating     int64    `json:"rating"` // the kiosk's rating id
	Overall    int      `json:"overall"`
	Efficiency int      `json:"efficiency,omitempty"`
	Skill      int      `json:"skill,omitempty"`
	Attitude   int      `json:"attitude,omitempty"`
	Reasons    []string `json:"reasons,omitempty"`
	Ticket     string   `json:"ticket,omitempty"` // "A012"
	Day        string   `json:"day"`              // local date of the rating
	Section    string   `json:"section,omitempty"`
	Window     string   `json:"window,omitempty"`
	Matter     string   `json:"matter,omitempty"`
	TS         string   `json:"ts"` // RFC 3339
}

// ComplaintEvent is the data of complaint.submitted: the number, the category and the time only.
// The text and the phone number may hold personal data and stay on the kiosk, sealed; the hall's
// complaint office reads them with Service.ExportComplaints.
type ComplaintEvent struct {
	Number   string `json:"number"`
	Category string `json:"category"`
	TS       string `json:"ts"` // RFC 3339
}
