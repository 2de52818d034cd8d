// Package history is the fleet's memory in halld's ledger: every kiosk's lifecycle and device
// states over time, its alerts with start and end, its daily counters and every command sent to
// it with its reply and sender, all learnt from the telemetry stream (hall/fleet's Updates), so
// that commands sent by kioskctl are kept as well as the console's. It keeps no personal data:
// the telemetry contract carries none. Rows older than the retention are pruned.
//
// A kiosk lost (its will, or halld's own finding) is kept as the synthetic alert KioskLost, so
// the alert log, the notifications and the reports treat it as every other fault.
package history

import (
	"encoding/json"
	"time"
)

// KioskLost is the code of the synthetic alert open while a kiosk's state is lost.
const KioskLost = "kiosk-lost"

// DefaultRetention is how long rows are kept: a year and a month, so that a month is always
// comparable with the same month a year before.
const DefaultRetention = 400 * 24 * time.Hour

// Change is one step of a kiosk's timeline: its lifecycle state (Device "") or one device's
// state from At on.
type Change struct {
	Kiosk  string    `json:"kiosk"`
	At     time.Time `json:"at"`
	Device string    `json:"device,omitempty"` // "" for the lifecycle state
	State  string    `json:"state"`
	Detail string    `json:"detail,omitempty"`
}

// Alert is one fault of a kiosk from its start to its end.
type Alert struct {
	ID       int64      `json:"id"`
	Kiosk    string     `json:"kiosk"`
	Code     string     `json:"code"`
	Severity string     `json:"severity"`
	Device   string     `json:"device,omitempty"`
	Message  string     `json:"message,omitempty"`
	Started  time.Time  `json:"started"`
	Ended    *time.Time `json:"ended"` // nil while open
}

// AlertFilter selects alerts; zero fields select everything.
type AlertFilter struct {
	Kiosk    string
	Code     string
	Severity string
	Since    time.Time // alerts open at or after Since (started before but still open, or ended after)
	Until    time.Time // alerts started before Until
	Open     bool      // open alerts only
	Limit    int       // at most this many, newest first; 0: DefaultLimit
}

// DefaultLimit bounds a list when the caller gives no limit.
const DefaultLimit = 500

// Day is one kiosk's counters of one day (the hall's local date, "2006-01-02"), as its last
// status of that day reported them.
type Day struct {
	Kiosk     string `json:"kiosk"`
	Date      string `json:"date"`
	Tickets   int64  `json:"tickets"`
	Receipts  int64  `json:"receipts"`
	CardReads int64  `json:"card_reads"`
	Ratings   int64  `json:"ratings"`
	Errors    int64  `json:"errors"`
}

// Command is one command seen on the broker and its reply.
type Command struct {
	ID      string          `json:"id"`
	Kiosk   string          `json:"kiosk"`
	Name    string          `json:"name"`
	Args    json.RawMessage `json:"args,omitempty"`
	By      string          `json:"by"`
	Sent    time.Time       `json:"sent"`
	Replied *time.Time      `json:"replied"` // nil: no reply (yet)
	OK      bool            `json:"ok"`
	Error   string          `json:"error,omitempty"`
}

// Availability is one kiosk's month against the hall's opening hours.
type Availability struct {
	Kiosk   string        `json:"kiosk"`
	Open    time.Duration `json:"-"` // the hall's opening hours in the month (so far)
	Ready   time.Duration `json:"-"` // of which the kiosk was ready
	NoPaper time.Duration `json:"-"` // of which its printer was out of paper
	Tickets int64         `json:"tickets"`
	Errors  int64         `json:"errors"`
}

// Share is the part of the opening hours the kiosk was ready, 0..1; 0 when there were none.
func (a Availability) Share() float64 {
	if a.Open <= 0 {
		return 0
	}
	return float64(a.Ready) / float64(a.Open)
}
