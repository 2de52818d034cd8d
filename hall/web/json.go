package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// MaxBody is the largest request body accepted.
const MaxBody = 16 << 10

// The contract's JSON shapes (hall-api.md). Absent values are null, as the spec shows them.

type ticketJSON struct {
	Code     string  `json:"code"`
	Category string  `json:"category"`
	Priority bool    `json:"priority"`
	Reason   *string `json:"reason"`
	State    string  `json:"state"`
	Kiosk    string  `json:"kiosk"`
	IssuedAt string  `json:"issued_at"`
	CalledAt *string `json:"called_at"`
	Window   *string `json:"window"`
	Recalls  int     `json:"recalls"`
	ServedS  *int64  `json:"served_s"`
	Lookup   string  `json:"lookup"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Format(time.RFC3339)
	return &s
}

func ticketOut(t Ticket) ticketJSON {
	out := ticketJSON{Code: t.Code, Category: t.Category, Priority: t.Priority, Reason: optString(t.Reason),
		State: t.State, Kiosk: t.Kiosk, IssuedAt: t.IssuedAt.Format(time.RFC3339), CalledAt: optTime(t.CalledAt),
		Window: optString(t.Window), Recalls: t.Recalls, Lookup: t.Lookup}
	if t.State == "done" {
		s := int64(t.Served.Round(time.Second) / time.Second)
		out.ServedS = &s
	}
	return out
}

type categoryJSON struct {
	Letter          string  `json:"letter"`
	Name            string  `json:"name,omitempty"`
	Waiting         int     `json:"waiting"`
	WaitingPriority int     `json:"waiting_priority"`
	LastCalled      *string `json:"last_called"`
	AvgServiceS     int64   `json:"avg_service_s"`
	ETANextS        int64   `json:"eta_next_s"`
}

type windowJSON struct {
	Window     string   `json:"window"`
	State      string   `json:"state"`
	Serving    *string  `json:"serving"`
	Categories []string `json:"categories"`
	Staff      *string  `json:"staff"`
}

type snapshotJSON struct {
	Day        string         `json:"day"`
	Categories []categoryJSON `json:"categories"`
	Windows    []windowJSON   `json:"windows"`
}

func secs(d time.Duration) int64 { return int64(d.Round(time.Second) / time.Second) }

func snapshotOut(s Snapshot) snapshotJSON {
	out := snapshotJSON{Day: s.Day, Categories: []categoryJSON{}, Windows: []windowJSON{}}
	for _, c := range s.Categories {
		out.Categories = append(out.Categories, categoryJSON{Letter: c.Letter, Name: c.Name, Waiting: c.Waiting,
			WaitingPriority: c.WaitingPriority, LastCalled: optString(c.LastCalled),
			AvgServiceS: secs(c.AvgService), ETANextS: secs(c.ETANext)})
	}
	for _, w := range s.Windows {
		cats := w.Categories
		if cats == nil {
			cats = []string{}
		}
		out.Windows = append(out.Windows, windowJSON{Window: w.Window, State: w.State, Serving: optString(w.Serving),
			Categories: cats, Staff: optString(w.Staff)})
	}
	return out
}

type callJSON struct {
	ID       int64  `json:"id"`
	Code     string `json:"code"`
	Window   string `json:"window"`
	At       string `json:"at"`
	Recall   bool   `json:"recall"`
	Announce string `json:"announce"`
}

func callOut(c Call) callJSON {
	return callJSON{ID: c.ID, Code: c.Code, Window: c.Window, At: c.At.Format(time.RFC3339), Recall: c.Recall,
		Announce: fmt.Sprintf("/v1/announcements/%d.wav", c.ID)}
}

type publicJSON struct {
	Code         string  `json:"code"`
	State        string  `json:"state"`
	WaitingAhead int     `json:"waiting_ahead"`
	ETAS         int64   `json:"eta_s"`
	Window       *string `json:"window"`
}

func publicOut(p Public) publicJSON {
	return publicJSON{Code: p.Code, State: p.State, WaitingAhead: p.Ahead, ETAS: secs(p.ETA), Window: optString(p.Window)}
}

type unusedJSON struct {
	Day      string `json:"day"`
	Code     string `json:"code"`
	Category string `json:"category"`
	Number   int    `json:"number"`
	Kiosk    string `json:"kiosk"`
	Reason   string `json:"reason"`
}

// The request bodies. Unknown fields are ignored (the spec: every reader ignores them).

type callBody struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

type transferBody struct {
	Category string `json:"category"`
}

type pauseBody struct {
	Reason string `json:"reason"`
}

// bodyError is why a request body was refused: its HTTP status and error code.
type bodyError struct {
	status int
	code   string
	msg    string
}

func (e *bodyError) Error() string { return e.msg }

// decodeBody reads one JSON object from r into v. Unknown fields are ignored; anything that is
// not exactly one JSON object (empty, malformed, an array, a wrong type, trailing data) is a
// *bodyError "bad-json", a body over MaxBody "too-large". With optional, an empty body leaves v
// as it is.
func decodeBody(r io.Reader, v any, optional bool) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return badJSON(err)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		if optional {
			return nil
		}
		return &bodyError{400, "bad-json", "the body is empty: a JSON object is expected"}
	}
	if b[0] != '{' {
		return &bodyError{400, "bad-json", "the body must be a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return badJSON(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &bodyError{400, "bad-json", "the body must hold one JSON object and nothing after it"}
	}
	return nil
}

func badJSON(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &bodyError{413, "too-large", fmt.Sprintf("request bodies are limited to %d bytes", MaxBody)}
	}
	msg := err.Error()
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		msg = "the body ends early"
	}
	msg = strings.TrimPrefix(msg, "json: ")
	return &bodyError{400, "bad-json", "the body is not the expected JSON: " + msg}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, errCode, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]string{"code": errCode, "message": msg}})
}
