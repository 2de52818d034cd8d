package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"citizenhome/hall/access"
)

func urlEscape(s string) string { return url.QueryEscape(s) }

// queueFailed answers a queue error with its status; an error the queue did not classify is
// logged and answered 500 without its text (it may name the ledger's internals).
func (s *Server) queueFailed(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := statusOf(err)
	if status == http.StatusInternalServerError {
		s.log.Error("queue failed", "route", routeOf(s.mux, r), "err", err)
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeError(w, status, code, msg)
}

func (s *Server) queue(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	snap, err := s.o.Queue.Snapshot(r.Context())
	if err != nil {
		s.queueFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, snapshotOut(snap))
}

var ticketStates = map[string]bool{"waiting": true, "called": true, "serving": true, "done": true, "no-show": true}

func (s *Server) tickets(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	q := r.URL.Query()
	state, cat := q.Get("state"), strings.ToUpper(q.Get("category"))
	if state != "" && !ticketStates[state] {
		writeError(w, http.StatusBadRequest, "bad-state", "state is one of waiting, called, serving, done, no-show")
		return
	}
	if cat != "" && !categoryRE.MatchString(cat) {
		writeError(w, http.StatusBadRequest, "unknown-category", "no category "+strconv.Quote(cat))
		return
	}
	ts, err := s.o.Queue.Tickets(r.Context(), state, cat)
	if err != nil {
		s.queueFailed(w, r, err)
		return
	}
	out := make([]ticketJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, ticketOut(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tickets": out})
}

// ticketCode is the {code} of r in its normal form (upper case); ok false when it cannot be one.
func ticketCode(r *http.Request) (string, bool) {
	c := r.PathValue("code")
	return strings.ToUpper(c), codeRE.MatchString(c)
}

func (s *Server) ticket(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	code, ok := ticketCode(r)
	if !ok {
		writeError(w, http.StatusNotFound, "not-found", "no ticket "+strconv.Quote(r.PathValue("code")))
		return
	}
	t, err := s.o.Queue.Ticket(r.Context(), code)
	if err != nil {
		s.queueFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ticket": ticketOut(t)})
}

// ret serves POST /v1/tickets/{code}/return: a no-show back at the hall is queued again
// (within the grace) after the next few; 409 expired after it.
func (s *Server) ret(w http.ResponseWriter, r *http.Request, p access.Principal) {
	code, ok := ticketCode(r)
	if !ok {
		writeError(w, http.StatusNotFound, "not-found", "no ticket "+strconv.Quote(r.PathValue("code")))
		return
	}
	t, err := s.o.Queue.Return(r.Context(), code, p.Name)
	if err != nil {
		s.queueFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ticket": ticketOut(t)})
}

func (s *Server) unused(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	day := r.URL.Query().Get("day")
	if day != "" {
		if _, err := time.Parse(time.DateOnly, day); err != nil {
			writeError(w, http.StatusBadRequest, "bad-day", "day is a date, 2026-12-07")
			return
		}
	}
	us, err := s.o.Queue.Unused(r.Context(), day)
	if err != nil {
		s.queueFailed(w, r, err)
		return
	}
	out := make([]unusedJSON, 0, len(us))
	for _, u := range us {
		out = append(out, unusedJSON{Day: u.Day, Code: u.Code, Category: u.Category, Number: u.Number, Kiosk: u.Kiosk, Reason: u.Reason})
	}
	writeJSON(w, http.StatusOK, map[string]any{"unused": out})
}

// A window's action: its name in the route and what it does. do reads the body it needs (the
// actions without one ignore a body sent) and reports whether it has a ticket to answer with;
// a *bodyError is answered as it says.
type windowAction struct {
	name string
	do   func(s *Server, r *http.Request, window, staff string) (Ticket, bool, error)
}

var windowActions = []windowAction{
	{"next", func(s *Server, r *http.Request, win, staff string) (Ticket, bool, error) {
		t, err := s.o.Queue.Next(r.Context(), win, staff)
		return t, true, err
	}},
	{"call", func(s *Server, r *http.Request, win, staff string) (Ticket, bool, error) {
		var b callBody
		if err := decodeBody(r.Body, &b, false); err != nil {
			return Ticket{}, false, err
		}
		b.Code, b.Reason = strings.ToUpper(strings.TrimSpace(b.Code)), strings.TrimSpace(b.Reason)
		if !codeRE.MatchString(b.Code) {
			return Ticket{}, false, QueueError(ErrInvalid, "code: a ticket's code, A012, is required")
		}
		if b.Reason == "" || len(b.Reason) > 500 {
			return Ticket{}, false, QueueError(ErrInvalid, "reason: why this ticket is called out of order is required (at most 500 bytes)")
		}
		t, err := s.o.Queue.Call(r.Context(), win, staff, b.Code, b.Reason)
		return t, true, err
	}},
	{"recall", func(s *Server, r *http.Request, win, staff string) (Ticket, bool, error) {
		t, err := s.o.Queue.Recall(r.Context(), win, staff)
		return t, true, err
	}},
	{"start", func(s *Server, r *http.Request, win, staff string) (Ticket, bool, error) {
		t, err := s.o.Queue.Start(r.Context(), win, staff)
		return t, true, err
	}},
	{"done", func(s *Server, r *http.Request, win, staff string) (Ticket, bool, error) {
		t, err := s.o.Queue.Done(r.Context(), win, staff)
		return t, true, err
	}},
	{"no-show", func(s *Server, r *http.Request, win, staff string) (Ticket, bool, error) {
		t, err := s.o.Queue.NoShow(r.Context(), win, staff)
		return t, true, err
	}},
	{"transfer", func(s *Server, r *http.Request, win, staff string) (Ticket, bool, error) {
		var b transferBody
		if err := decodeBody(r.Body, &b, false); err != nil {
			return Ticket{}, false, err
		}
		b.Category = strings.ToUpper(strings.TrimSpace(b.Category))
		if !categoryRE.MatchString(b.Category) {
			return Ticket{}, false, QueueError(ErrUnknownCategory, "category: the category to wait in, B, is required")
		}
		t, err := s.o.Queue.Transfer(r.Context(), win, staff, b.Category)
		return t, true, err
	}},
	{"pause", func(s *Server, r *http.Request, win, staff string) (Ticket, bool, error) {
		var b pauseBody
		if err := decodeBody(r.Body, &b, true); err != nil {
			return Ticket{}, false, err
		}
		if len(b.Reason) > 500 {
			return Ticket{}, false, QueueError(ErrInvalid, "reason: at most 500 bytes")
		}
		return Ticket{}, false, s.o.Queue.Pause(r.Context(), win, staff, strings.TrimSpace(b.Reason))
	}},
	{"resume", func(s *Server, r *http.Request, win, staff string) (Ticket, bool, error) {
		return Ticket{}, false, s.o.Queue.Resume(r.Context(), win, staff)
	}},
}

// windowAction serves POST /v1/windows/{window}/{action}: 200 {"ticket"} for the actions on a
// ticket, 200 {"window", "state"} for pause and resume, 204 for next when nobody waits, and the
// queue's refusals (404 unknown-window, 409 nothing / recall-limit / state / paused, 400).
func (s *Server) windowAction(a windowAction) func(http.ResponseWriter, *http.Request, access.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p access.Principal) {
		win := r.PathValue("window")
		if !windowRE.MatchString(win) {
			writeError(w, http.StatusBadRequest, "bad-window", "a window id is 1 to 16 of A-Z a-z 0-9 -")
			return
		}
		t, hasTicket, err := a.do(s, r, win, p.Name)
		if be, ok := err.(*bodyError); ok {
			writeError(w, be.status, be.code, be.msg)
			return
		}
		if err != nil {
			s.queueFailed(w, r, err)
			return
		}
		s.hub.poke() // answer the next SSE change without waiting on the queue's own feed
		if !hasTicket {
			state := "open"
			if a.name == "pause" {
				state = "paused"
			}
			writeJSON(w, http.StatusOK, map[string]any{"window": win, "state": state})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ticket": ticketOut(t)})
	}
}
