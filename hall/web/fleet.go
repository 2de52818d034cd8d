package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"citizenhome/hall/access"
	"citizenhome/hall/fleet"
	"citizenhome/hall/history"
	"citizenhome/telemetry/wire"
)

// Fleet is what the console needs of the hall's fleet: hall/fleet's *View for the kiosks, a
// change feed, and hall/fleet's *Conn for the commands (halld wires the three together).
type Fleet interface {
	// Kiosks returns every kiosk the view knows, sorted by hall and id.
	Kiosks() []fleet.Kiosk
	// Kiosk returns one kiosk; false when the view has never heard of it.
	Kiosk(id wire.Kiosk) (fleet.Kiosk, bool)
	// Watch returns a channel that receives (coalesced, never blocking the fleet) whenever a
	// kiosk changed, and the function that stops it. The console's live tiles follow it; a
	// closed channel ends Server.Run with an error.
	Watch() (<-chan struct{}, func())
	// Command sends the telemetry contract's command name with args (nil: none) to kiosk, with
	// by as its sender, and waits for the reply until ctx ends. It returns the reply and the
	// command's id (also when no reply came). Errors: fleet.ErrNoReply when no reply came in
	// time; *fleet.CommandError (with the reply) when the kiosk refused or failed it; anything
	// else when it could not be sent.
	Command(ctx context.Context, kiosk wire.Kiosk, name string, args json.RawMessage, by string) (wire.Reply, string, error)
}

// History is what the console reads of hall/history's *Store (see its methods for the rules).
type History interface {
	Timeline(ctx context.Context, kiosk string, from, to time.Time) ([]history.Change, error)
	Alerts(ctx context.Context, f history.AlertFilter) ([]history.Alert, error)
	Days(ctx context.Context, kiosk string, from, to string) ([]history.Day, error)
	Commands(ctx context.Context, kiosk string, limit int) ([]history.Command, error)
	Month(ctx context.Context, month time.Time) ([]history.Availability, error)
}

// Auditor keeps the console's actions (hall/access's *Store). An error is logged: the
// action it records has happened already.
type Auditor interface {
	Audit(ctx context.Context, e access.Entry) error
}

// CommandWait is the longest POST /v1/kiosks/{kiosk}/commands waits for the kiosk's reply.
const CommandWait = 15 * time.Second

// commandWait is CommandWait; tests shorten it.
var commandWait = CommandWait

// kioskOf finds the kiosk {kiosk} of r in the fleet. ok is false for a name that cannot be a
// kiosk's or one the fleet does not know.
func (s *Server) kioskOf(r *http.Request) (fleet.Kiosk, bool) {
	return s.findKiosk(r.PathValue("kiosk"))
}

func (s *Server) findKiosk(name string) (fleet.Kiosk, bool) {
	if !wire.ValidName(name) || name == wire.ControllerID {
		return fleet.Kiosk{}, false
	}
	if s.o.FleetHall != "" {
		return s.o.Fleet.Kiosk(wire.Kiosk{Hall: s.o.FleetHall, Kiosk: name})
	}
	for _, k := range s.o.Fleet.Kiosks() {
		if k.ID.Kiosk == name {
			return k, true
		}
	}
	return fleet.Kiosk{}, false
}

// The fleet's JSON (hall-api.md, "The fleet"). Times are RFC 3339 in the hall's zone.

type deviceJSON struct {
	State  string  `json:"state"`
	Since  *string `json:"since"`
	Detail string  `json:"detail,omitempty"`
}

type kioskAlertJSON struct {
	Code     string  `json:"code"`
	Severity string  `json:"severity"`
	Since    *string `json:"since"`
	Device   string  `json:"device,omitempty"`
	Message  string  `json:"message,omitempty"`
}

type kioskJSON struct {
	Kiosk       string                `json:"kiosk"`
	State       string                `json:"state"`
	Boot        int64                 `json:"boot"`
	Since       *string               `json:"since"`
	LastSeen    *string               `json:"last_seen"`
	Version     string                `json:"version,omitempty"`
	LockMessage string                `json:"lock_message,omitempty"`
	Devices     map[string]deviceJSON `json:"devices"`
	Alerts      []kioskAlertJSON      `json:"alerts"`
	Counters    *wire.Counters        `json:"counters"`
}

// stamp is optTime in the hall's zone.
func (s *Server) stamp(t time.Time) *string { return optTime(t.In(s.o.Location)) }

func (s *Server) kioskOut(k fleet.Kiosk) kioskJSON {
	out := kioskJSON{Kiosk: k.ID.Kiosk, State: k.State, Boot: k.Boot, LastSeen: s.stamp(k.LastSeen),
		Devices: map[string]deviceJSON{}, Alerts: []kioskAlertJSON{}}
	// The state message's since is the state's only when the state is the message's (a status
	// of a newer session says no since).
	if k.StateMsg.State == k.State && k.StateMsg.Boot == k.Boot {
		out.Since = s.stamp(k.StateMsg.Since)
	}
	if st := k.Status; st != nil {
		for name, d := range st.Devices {
			out.Devices[name] = deviceJSON{State: d.State, Since: s.stamp(d.Since), Detail: d.Detail}
		}
		c := st.Counters
		out.Counters = &c
		out.Version, out.LockMessage = st.Version, st.LockMessage
	}
	if out.Version == "" {
		out.Version = k.StateMsg.Version
	}
	for _, code := range k.ActiveAlerts() {
		a := k.Alerts[code]
		out.Alerts = append(out.Alerts, kioskAlertJSON{Code: code, Severity: a.Severity, Since: s.stamp(a.Since),
			Device: a.Device, Message: a.Message})
	}
	return out
}

// noFleet answers the fleet's routes when halld has no fleet (no broker configured).
func (s *Server) noFleet(w http.ResponseWriter) bool {
	if s.o.Fleet != nil {
		return false
	}
	writeError(w, http.StatusServiceUnavailable, "no-fleet", "halld follows no fleet (no MQTT broker configured)")
	return true
}

func (s *Server) noHistory(w http.ResponseWriter) bool {
	if s.o.History != nil {
		return false
	}
	writeError(w, http.StatusServiceUnavailable, "no-history", "halld keeps no fleet history")
	return true
}

// fleetAPI serves GET /v1/fleet: every kiosk as the view has it.
func (s *Server) fleetAPI(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	if s.noFleet(w) {
		return
	}
	ks := s.o.Fleet.Kiosks()
	out := make([]kioskJSON, 0, len(ks))
	for _, k := range ks {
		if s.o.FleetHall != "" && k.ID.Hall != s.o.FleetHall {
			continue
		}
		out = append(out, s.kioskOut(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"kiosks": out})
}

type alertJSON struct {
	ID       int64   `json:"id"`
	Kiosk    string  `json:"kiosk"`
	Code     string  `json:"code"`
	Severity string  `json:"severity"`
	Device   string  `json:"device,omitempty"`
	Message  string  `json:"message,omitempty"`
	Started  string  `json:"started"`
	Ended    *string `json:"ended"`
}

func (s *Server) alertOut(a history.Alert) alertJSON {
	out := alertJSON{ID: a.ID, Kiosk: a.Kiosk, Code: a.Code, Severity: a.Severity, Device: a.Device, Message: a.Message,
		Started: *s.stamp(a.Started)}
	if a.Ended != nil {
		out.Ended = s.stamp(*a.Ended)
	}
	return out
}

// historyFailed answers an error of the history store (500, logged; its text may name the
// ledger's internals).
func (s *Server) historyFailed(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return // the client left
	}
	s.log.Error("fleet history failed", "route", routeOf(s.mux, r), "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "the fleet's history could not be read")
}

// alertsAPI serves GET /v1/alerts (filters: parseAlertQuery), newest first.
func (s *Server) alertsAPI(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	if s.noHistory(w) {
		return
	}
	f, err := parseAlertQuery(r.URL.Query(), s.o.Location)
	if err != nil {
		var qe *queryError
		errors.As(err, &qe)
		writeError(w, http.StatusBadRequest, qe.code, qe.msg)
		return
	}
	as, err := s.o.History.Alerts(r.Context(), f)
	if err != nil {
		s.historyFailed(w, r, err)
		return
	}
	out := make([]alertJSON, 0, len(as))
	for _, a := range as {
		out = append(out, s.alertOut(a))
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out})
}

type changeJSON struct {
	At     string `json:"at"`
	Device string `json:"device,omitempty"`
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}

// kioskHistoryAPI serves GET /v1/kiosks/{kiosk}/history?since=&until= (default: the last 24
// hours): the states in force at since, then every change, oldest first. A kiosk the fleet does
// not know and the history has nothing of is 404.
func (s *Server) kioskHistoryAPI(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	if s.noHistory(w) {
		return
	}
	name := r.PathValue("kiosk")
	if !wire.ValidName(name) {
		writeError(w, http.StatusNotFound, "unknown-kiosk", "no kiosk "+quote(name))
		return
	}
	now := s.o.Now()
	from, to, err := parseRange(r.URL.Query(), s.o.Location, now.Add(-24*time.Hour), now)
	if err != nil {
		var qe *queryError
		errors.As(err, &qe)
		writeError(w, http.StatusBadRequest, qe.code, qe.msg)
		return
	}
	cs, err := s.o.History.Timeline(r.Context(), name, from, to)
	if err != nil {
		s.historyFailed(w, r, err)
		return
	}
	if len(cs) == 0 && (s.o.Fleet == nil || !s.known(name)) {
		writeError(w, http.StatusNotFound, "unknown-kiosk", "no kiosk "+quote(name))
		return
	}
	out := make([]changeJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, changeJSON{At: *s.stamp(c.At), Device: c.Device, State: c.State, Detail: c.Detail})
	}
	// An addition to the spec: the commands sent in the range, with their replies and senders.
	cmds, err := s.o.History.Commands(r.Context(), name, history.DefaultLimit)
	if err != nil {
		s.historyFailed(w, r, err)
		return
	}
	sent := make([]history.Command, 0, len(cmds))
	for _, c := range slices.Backward(cmds) { // oldest first, as the changes
		if c.Sent.Before(from) || !c.Sent.Before(to) {
			continue
		}
		c.Sent = c.Sent.In(s.o.Location)
		if c.Replied != nil {
			at := c.Replied.In(s.o.Location)
			c.Replied = &at
		}
		sent = append(sent, c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"kiosk": name, "since": s.stamp(from), "until": s.stamp(to), "changes": out, "commands": sent})
}

func (s *Server) known(name string) bool {
	_, ok := s.findKiosk(name)
	return ok
}

// consoleCommands are the commands the console sends, with the arguments each takes. The
// kiosk's own set is larger (reload-catalog, set-config): those stay kioskctl's.
var consoleCommands = map[string][]string{
	wire.CmdLock:     {"message", "force"},
	wire.CmdUnlock:   {},
	wire.CmdReset:    {"force"},
	wire.CmdReprint:  {"ticket", "force"},
	wire.CmdSelftest: {"force"},
	wire.CmdRebirth:  {},
}

// consoleCommandOrder is the order of the kiosk page's buttons.
var consoleCommandOrder = []string{wire.CmdLock, wire.CmdUnlock, wire.CmdReset, wire.CmdReprint, wire.CmdSelftest, wire.CmdRebirth}

// MaxLockMessage is the longest lock message, in characters (the kiosk's 暂停服务 screen).
const MaxLockMessage = 200

// commandBody is POST /v1/kiosks/{kiosk}/commands's body.
type commandBody struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

// checkCommand validates a console command and returns its arguments in normal form (nil for
// none): a *bodyError "unknown-command" for a name the console does not send, "bad-args" for
// arguments that are not an object, name an argument the command does not take, or have a
// wrong value (message: text of at most MaxLockMessage characters without control characters;
// ticket: a ticket's code, A012, required for reprint; force: true or false).
func checkCommand(name string, raw json.RawMessage) (json.RawMessage, error) {
	allowed, ok := consoleCommands[name]
	if !ok {
		return nil, &bodyError{400, "unknown-command", "name is one of " + strings.Join(consoleCommandOrder, ", ")}
	}
	bad := func(msg string) error { return &bodyError{400, "bad-args", msg} }
	args := map[string]json.RawMessage{}
	if t := strings.TrimSpace(string(raw)); t != "" && t != "null" {
		if t[0] != '{' || json.Unmarshal(raw, &args) != nil {
			return nil, bad("args must be a JSON object")
		}
	}
	out := map[string]any{}
	for k, v := range args {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, bad(name + " takes no args")
			}
			return nil, bad(name + " takes args " + strings.Join(allowed, ", ") + " only, not " + quote(k))
		}
		switch k {
		case "message":
			var m string
			if json.Unmarshal(v, &m) != nil {
				return nil, bad("args.message must be a string")
			}
			m = strings.TrimSpace(m)
			if utf8.RuneCountInString(m) > MaxLockMessage || strings.IndexFunc(m, unicode.IsControl) >= 0 {
				return nil, bad("args.message is at most 200 characters, without control characters")
			}
			if m != "" {
				out[k] = m
			}
		case "ticket":
			var c string
			if json.Unmarshal(v, &c) != nil || !codeRE.MatchString(strings.TrimSpace(c)) {
				return nil, bad("args.ticket must be a ticket's code, like A012")
			}
			out[k] = strings.ToUpper(strings.TrimSpace(c))
		case "force":
			var f bool
			if json.Unmarshal(v, &f) != nil {
				return nil, bad("args.force must be true or false")
			}
			if f {
				out[k] = true
			}
		}
	}
	if name == wire.CmdReprint && out["ticket"] == nil {
		return nil, bad("reprint needs args.ticket, the ticket's code (A012)")
	}
	if len(out) == 0 {
		return nil, nil
	}
	b, _ := json.Marshal(out)
	return b, nil
}

// commandResult is how a command ended, for the API's answer, the console's page and the audit.
type commandResult struct {
	ID      string
	Sent    bool       // false: it could not be sent (SendErr)
	Replied bool       // a reply came in time
	Reply   wire.Reply // when Replied
	SendErr error
}

func (c commandResult) outcome() string {
	switch {
	case !c.Sent:
		return "send-failed"
	case !c.Replied:
		return "no-reply"
	case c.Reply.OK:
		return "ok"
	}
	return "refused: " + c.Reply.Code
}

// sendCommand sends a checked command to k for p, waits at most commandWait, and audits it.
func (s *Server) sendCommand(r *http.Request, p access.Principal, k fleet.Kiosk, name string, args json.RawMessage) commandResult {
	ctx, cancel := context.WithTimeout(r.Context(), commandWait)
	defer cancel()
	rep, id, err := s.o.Fleet.Command(ctx, k.ID, name, args, p.Name)
	res := commandResult{ID: id, Sent: true, Replied: true, Reply: rep}
	var ce *fleet.CommandError
	switch {
	case err == nil:
	case errors.As(err, &ce):
		res.Reply = ce.Reply
	case errors.Is(err, fleet.ErrNoReply) || errors.Is(err, context.DeadlineExceeded):
		res.Replied = false
	default:
		res.Sent, res.Replied, res.SendErr = false, false, err
	}
	if res.ID == "" {
		res.ID = rep.ID
	}
	detail := name
	if len(args) > 0 {
		detail += " " + string(args)
	}
	e := access.Entry{At: s.o.Now(), Who: p.Name, Role: p.Role, Action: "kiosk-command", Target: k.ID.Kiosk,
		Detail: detail, Outcome: res.outcome(), Addr: s.clientIP(r)}
	s.log.Info("kiosk command", "kiosk", k.ID.Kiosk, "command", name, "id", res.ID, "outcome", e.Outcome)
	if res.SendErr != nil {
		s.log.Error("sending a kiosk command failed", "kiosk", k.ID.Kiosk, "command", name, "err", res.SendErr)
	}
	s.audit(r, e)
	return res
}

// audit keeps a console action through the Auditor (without one it is only logged by its
// caller). What it records has happened: its row is written even if the client has left.
func (s *Server) audit(r *http.Request, e access.Entry) {
	if s.o.Auditor == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	if err := s.o.Auditor.Audit(ctx, e); err != nil {
		s.log.Error("auditing a console action failed", "action", e.Action, "target", e.Target, "outcome", e.Outcome, "err", err)
	}
}

type commandReplyJSON struct {
	ID     string          `json:"id"`
	OK     bool            `json:"ok"`
	Error  *string         `json:"error"`
	Code   string          `json:"code,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
}

// commandAPI serves POST /v1/kiosks/{kiosk}/commands: 200 {"id", "ok", "error"} with the
// kiosk's reply (ok false and the kiosk's error and code when it refused), 504 no-reply after
// CommandWait, 502 send-failed when the broker could not take it, 404 unknown-kiosk, 400
// unknown-command / bad-args / bad-json.
func (s *Server) commandAPI(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if s.noFleet(w) {
		return
	}
	k, ok := s.kioskOf(r)
	if !ok {
		writeError(w, http.StatusNotFound, "unknown-kiosk", "no kiosk "+quote(r.PathValue("kiosk"))+" in the fleet")
		return
	}
	var b commandBody
	if err := decodeBody(r.Body, &b, false); err != nil {
		be := err.(*bodyError)
		writeError(w, be.status, be.code, be.msg)
		return
	}
	args, err := checkCommand(b.Name, b.Args)
	if err != nil {
		be := err.(*bodyError)
		writeError(w, be.status, be.code, be.msg)
		return
	}
	res := s.sendCommand(r, p, k, b.Name, args)
	switch {
	case !res.Sent:
		writeError(w, http.StatusBadGateway, "send-failed", "the command could not be sent to the broker")
	case !res.Replied:
		writeJSON(w, http.StatusGatewayTimeout, map[string]any{"id": res.ID, "error": map[string]string{"code": "no-reply",
			"message": "kiosk " + k.ID.Kiosk + " did not reply within " + commandWait.String()}})
	default:
		out := commandReplyJSON{ID: res.ID, OK: res.Reply.OK, Code: res.Reply.Code, Result: res.Reply.Result}
		if !res.Reply.OK {
			e := res.Reply.Error
			out.Error = &e
		}
		writeJSON(w, http.StatusOK, out)
	}
}
