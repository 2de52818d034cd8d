package line

import (
	"encoding/json"
	"time"
)

// The JSON forms below are the hall API's (../shared/spec/hall-api.md), so that GET /v1/queue,
// the tickets' routes, the public page and the kiosks' retained queue state (its categories)
// are written in one place. Durations are whole seconds; what is not there yet is null.

// MarshalJSON writes the GET /v1/queue body.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	cats, wins := s.Categories, s.Windows
	if cats == nil {
		cats = []CategoryState{}
	}
	if wins == nil {
		wins = []WindowState{}
	}
	return json.Marshal(struct {
		Day        string          `json:"day"`
		Categories []CategoryState `json:"categories"`
		Windows    []WindowState   `json:"windows"`
	}{s.Day, cats, wins})
}

// MarshalJSON writes one category of GET /v1/queue (and of the kiosks' queue state).
func (c CategoryState) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Letter          string  `json:"letter"`
		Name            string  `json:"name,omitempty"`
		Waiting         int     `json:"waiting"`
		WaitingPriority int     `json:"waiting_priority"`
		LastCalled      *string `json:"last_called"`
		AvgServiceS     int64   `json:"avg_service_s"`
		ETANextS        int64   `json:"eta_next_s"`
	}{c.Letter, c.Name, c.Waiting, c.WaitingPriority, orNull(c.LastCalled), seconds(c.AvgService), seconds(c.ETANext)})
}

// MarshalJSON writes one window of GET /v1/queue.
func (w WindowState) MarshalJSON() ([]byte, error) {
	cats := w.Categories
	if cats == nil {
		cats = []string{}
	}
	return json.Marshal(struct {
		Window     string   `json:"window"`
		State      string   `json:"state"`
		Serving    *string  `json:"serving"`
		Categories []string `json:"categories"`
		Staff      *string  `json:"staff"`
	}{w.Window, w.State, orNull(w.Serving), cats, orNull(w.Staff)})
}

// MarshalJSON writes the hall API's ticket, with matter, section, day, lease and conflict as
// optional additions.
func (t Ticket) MarshalJSON() ([]byte, error) {
	var called *time.Time
	if !t.CalledAt.IsZero() {
		called = &t.CalledAt
	}
	var served *int64
	if t.State == Done {
		s := seconds(t.Served)
		served = &s
	}
	return json.Marshal(struct {
		Code     string     `json:"code"`
		Category string     `json:"category"`
		Priority bool       `json:"priority"`
		Reason   *string    `json:"reason"`
		State    State      `json:"state"`
		Kiosk    string     `json:"kiosk"`
		IssuedAt time.Time  `json:"issued_at"`
		CalledAt *time.Time `json:"called_at"`
		Window   *string    `json:"window"`
		Recalls  int        `json:"recalls"`
		ServedS  *int64     `json:"served_s"`
		Lookup   string     `json:"lookup"`
		Day      string     `json:"day"`
		Matter   string     `json:"matter,omitempty"`
		Section  string     `json:"section,omitempty"`
		Lease    bool       `json:"lease,omitempty"`
		Conflict bool       `json:"conflict,omitempty"`
	}{t.Code, t.Category, t.Priority, orNull(t.Reason), t.State, t.Kiosk, t.IssuedAt, called,
		orNull(t.Window), t.Recalls, served, t.Lookup, t.Day, t.Matter, t.Section, t.Lease, t.Conflict})
}

// MarshalJSON writes GET /v1/public/tickets/{lookup}.
func (p Public) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Code         string  `json:"code"`
		State        State   `json:"state"`
		WaitingAhead int     `json:"waiting_ahead"`
		ETAS         int64   `json:"eta_s"`
		Window       *string `json:"window"`
	}{p.Code, p.State, p.Ahead, seconds(p.ETA), orNull(p.Window)})
}

func seconds(d time.Duration) int64 { return int64(d.Round(time.Second) / time.Second) }

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
