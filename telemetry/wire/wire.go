// Package wire is the telemetry contract between a kiosk and the hall side
// (../shared/spec/telemetry.md) as Go types: topic names, the JSON payloads, and the parsers that
// both sides use on bytes received from the broker.
//
// It depends on nothing but the standard library, so that the hall's tools (kioskctl, a
// controller) read the same definitions as the kiosk without linking the kiosk.
//
// Fields beyond the contract's are optional additions (the contract allows them, and every reader
// ignores unknown fields): boot and seq on alerts and events, the active alert codes and the lock
// message in a status, a code and a result in a reply.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Prefix is the first two levels of every topic.
const Prefix = "citizenhome/v1"

// ControllerID is the topic level the hall controller uses in place of a kiosk id; no kiosk may
// be called so.
const ControllerID = "controller"

// Topic kinds under a kiosk's root.
const (
	KindState  = "state"
	KindStatus = "status"
	KindAlert  = "alert" // alert/{code}
	KindEvent  = "event"
	KindReply  = "reply"
	KindCmd    = "cmd"
)

var reName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// reCode is an alert code: a topic level, lower case, up to 64 bytes.
var reCode = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// ValidName reports whether s may be a hall or kiosk id: [a-z0-9][a-z0-9-]{0,31}.
func ValidName(s string) bool { return reName.MatchString(s) }

// ValidCode reports whether s may be an alert code (a single topic level, [a-z0-9][a-z0-9-]{0,63}).
func ValidCode(s string) bool { return reCode.MatchString(s) }

// Kiosk names one kiosk of one hall.
type Kiosk struct {
	Hall  string `json:"hall"`
	Kiosk string `json:"kiosk"`
}

// Check returns an error unless both ids are valid and the kiosk is not called "controller".
func (k Kiosk) Check() error {
	if !ValidName(k.Hall) {
		return fmt.Errorf("wire: hall id %q must match [a-z0-9][a-z0-9-]{0,31}", k.Hall)
	}
	if !ValidName(k.Kiosk) {
		return fmt.Errorf("wire: kiosk id %q must match [a-z0-9][a-z0-9-]{0,31}", k.Kiosk)
	}
	if k.Kiosk == ControllerID {
		return fmt.Errorf("wire: kiosk id %q is reserved for the hall controller", k.Kiosk)
	}
	return nil
}

// String is "hall/kiosk".
func (k Kiosk) String() string { return k.Hall + "/" + k.Kiosk }

// Root is "citizenhome/v1/{hall}/{kiosk}".
func (k Kiosk) Root() string { return Prefix + "/" + k.Hall + "/" + k.Kiosk }

// Topic is the topic of kind (KindState, ...) under the root; for KindAlert pass the code too.
func (k Kiosk) Topic(kind string, code ...string) string {
	t := k.Root() + "/" + kind
	for _, c := range code {
		t += "/" + c
	}
	return t
}

// ClientID is "kiosk-{hall}-{kiosk}", the kiosk's one MQTT session.
func (k Kiosk) ClientID() string { return "kiosk-" + k.Hall + "-" + k.Kiosk }

// ControllerStateTopic is "citizenhome/v1/{hall}/controller/state".
func ControllerStateTopic(hall string) string {
	return Prefix + "/" + hall + "/" + ControllerID + "/state"
}

// HallFilter is the subscription for everything of a hall ("+" for every hall).
func HallFilter(hall string) string { return Prefix + "/" + hall + "/#" }

// Address is a parsed topic.
type Address struct {
	Kiosk
	Kind string // one of the Kind constants; KindState also for the controller's state
	Code string // the alert code for KindAlert
}

// Controller reports whether the topic is the hall controller's (its state).
func (a Address) Controller() bool { return a.Kiosk.Kiosk == ControllerID }

// ErrTopic is returned by ParseTopic for a topic outside the contract.
var ErrTopic = errors.New("wire: not a telemetry topic")

// ParseTopic splits a topic of the contract. Anything else (another prefix, a bad id, an unknown
// kind, extra levels) returns ErrTopic.
func ParseTopic(topic string) (Address, error) {
	parts := strings.Split(topic, "/")
	if len(parts) < 5 || parts[0]+"/"+parts[1] != Prefix {
		return Address{}, ErrTopic
	}
	a := Address{Kiosk: Kiosk{Hall: parts[2], Kiosk: parts[3]}, Kind: parts[4]}
	if !ValidName(a.Hall) || !ValidName(a.Kiosk.Kiosk) {
		return Address{}, ErrTopic
	}
	if a.Controller() {
		if len(parts) != 5 || a.Kind != KindState {
			return Address{}, ErrTopic
		}
		return a, nil
	}
	switch a.Kind {
	case KindState, KindStatus, KindEvent, KindReply, KindCmd:
		if len(parts) != 5 {
			return Address{}, ErrTopic
		}
	case KindAlert:
		if len(parts) != 6 || !ValidCode(parts[5]) {
			return Address{}, ErrTopic
		}
		a.Code = parts[5]
	default:
		return Address{}, ErrTopic
	}
	return a, nil
}

// Lifecycle states (state.state).
const (
	StateInit         = "init"
	StateReady        = "ready"
	StateDegraded     = "degraded"
	StateLocked       = "locked"
	StateMaintenance  = "maintenance"
	StateDisconnected = "disconnected"
	StateLost         = "lost"
)

// ValidState reports whether s is one of the lifecycle states.
func ValidState(s string) bool {
	switch s {
	case StateInit, StateReady, StateDegraded, StateLocked, StateMaintenance, StateDisconnected, StateLost:
		return true
	}
	return false
}

// State is the retained lifecycle message, and the will (with StateLost).
type State struct {
	State   string    `json:"state"`
	Boot    int64     `json:"boot"`
	Since   time.Time `json:"since"`
	Version string    `json:"version"`
}

// Session values of a status.
const (
	SessionIdle  = "idle"
	SessionInUse = "in-use"
)

// Status is the full snapshot.
type Status struct {
	Boot     int64             `json:"boot"`
	Seq      int64             `json:"seq"`
	TS       time.Time         `json:"ts"`
	Version  string            `json:"version"`
	State    string            `json:"state"`
	Session  string            `json:"session"`
	UptimeS  int64             `json:"uptime_s"`
	Devices  map[string]Device `json:"devices"`
	Counters Counters          `json:"counters"`
	Outbox   int64             `json:"outbox"`
	// Alerts lists the codes of the alerts active now (an addition: it lets a reader that
	// missed an alert's clearing notice it at the next status).
	Alerts []string `json:"alerts"`
	// LockMessage is the message on the 暂停服务 screen while locked (an addition).
	LockMessage string `json:"lock_message,omitempty"`
}

// Device is one device in a status.
type Device struct {
	State  string    `json:"state"`
	Detail string    `json:"detail"`
	Since  time.Time `json:"since"`
}

// Counters count since local midnight.
type Counters struct {
	Tickets   int64 `json:"tickets"`
	Receipts  int64 `json:"receipts"`
	CardReads int64 `json:"card_reads"`
	Ratings   int64 `json:"ratings"`
	Errors    int64 `json:"errors"`
}

// Alert severities.
const (
	SeverityWarning = "warning"
	SeverityError   = "error"
)

// Alert is the retained payload of alert/{code} while the fault lasts; its end is an empty
// retained payload (which carries no seq).
type Alert struct {
	Severity string    `json:"severity"`
	Device   string    `json:"device"`
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	Since    time.Time `json:"since"`
	Boot     int64     `json:"boot"`
	Seq      int64     `json:"seq"`
}

// Event is one business or device event from the kiosk's outbox. ID is stable across re-sends;
// Seq and Boot are those of the session that sent this copy.
type Event struct {
	ID   string          `json:"id"`
	Seq  int64           `json:"seq"`
	Boot int64           `json:"boot"`
	TS   time.Time       `json:"ts"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// Event types of the contract, declared here only: the core writes the business events to its
// outbox with these names (it may import this package, which links nothing of the module and no
// MQTT library), the agent adds the device and command events, and the hall reads them. Each
// comment names the Go type of the event's data. TestEventTypesAreTheContracts holds them to the
// list in spec/telemetry.md.
const (
	EventTicketIssued       = "ticket.issued"          // TicketIssued (kiosk.TicketEvent)
	EventTicketReprinted    = "ticket.reprinted"       // TicketIssued (kiosk.TicketEvent)
	EventCheckedIn          = "appointment.checked-in" // civic.CheckInEvent
	EventRating             = "rating.submitted"       // civic.RatingEvent
	EventComplaint          = "complaint.submitted"    // civic.ComplaintEvent
	EventPaymentCompleted   = "payment.completed"      // payment.Event
	EventPaymentRecovered   = "payment.recovered"      // payment.Event
	EventDeviceFault        = "device.fault"           // agent: device, state, previous, detail
	EventDeviceRecovered    = "device.recovered"       // agent: as device.fault
	EventCommandDone        = "command.done"           // agent: command, name, by, ok, error
	EventKioskReset         = "kiosk.reset"            // kiosk: audit (the row's id), by
	EventTelemetryTestEvent = "telemetry.test"         // benchmarks and tests only
)

// Command names.
const (
	CmdReset         = "reset"
	CmdLock          = "lock"
	CmdUnlock        = "unlock"
	CmdReprint       = "reprint"
	CmdReloadCatalog = "reload-catalog"
	CmdRebirth       = "rebirth"
	CmdSelftest      = "selftest"
	CmdSetConfig     = "set-config"
)

// Command is a request from the hall side.
type Command struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	Args    json.RawMessage `json:"args,omitempty"`
	Expires time.Time       `json:"expires"`
	By      string          `json:"by"`
	// Sig is the hall's signature, "ed25519:<base64>" (an addition: see SignCommand); empty
	// when unsigned.
	Sig string `json:"sig,omitempty"`
}

// Reply is the kiosk's one answer to a command.
type Reply struct {
	ID    string `json:"id"`
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	// Code classifies a refusal (one of the Refusal constants); empty when OK (an addition).
	Code   string          `json:"code,omitempty"`
	TS     time.Time       `json:"ts"`
	Result json.RawMessage `json:"result,omitempty"`
}

// Refusal codes in Reply.Code.
const (
	RefuseMalformed = "malformed"       // not a command object, or a required field missing
	RefuseExpired   = "expired"         // expires is in the past
	RefuseUnknown   = "unknown-command" // no such name
	RefuseBadArgs   = "bad-args"        // the arguments do not fit the command
	RefuseBusy      = "busy"            // a citizen's transaction did not end within the wait
	RefuseFailed    = "failed"          // executed, and it failed (printer out of paper...)
	RefuseNotFound  = "not-found"       // a ticket or key that does not exist
)

// ControllerState is the hall controller's retained state.
type ControllerState struct {
	Online bool      `json:"online"`
	TS     time.Time `json:"ts"`
}

// Limits on command fields, in bytes.
const (
	MaxIDLen      = 128
	MaxByLen      = 128
	MaxArgsLen    = 16 << 10
	MaxPayloadLen = 64 << 10
)

// CommandError is a command that cannot be accepted; Code is one of the Refusal constants. ID is
// the command's id when it could be read (so that the refusal can still be answered).
type CommandError struct {
	Code string
	ID   string
	Msg  string
}

func (e *CommandError) Error() string { return e.Code + ": " + e.Msg }

// Is matches another *CommandError with the same Code (errors.Is(err, &CommandError{Code: RefuseExpired})).
func (e *CommandError) Is(target error) bool {
	t, ok := target.(*CommandError)
	return ok && t.Code == e.Code
}

func printable(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

// ParseCommand decodes and checks a command payload: a JSON object with a non-empty id and name
// and by (printable, at most 128 bytes), expires as RFC 3339, args absent, null or an object,
// sig absent, null or a string (its form and truth are VerifyCommand's).
// It does not check the name against the known commands nor the expiry against a clock: the
// kiosk refuses those with their own codes. Errors are *CommandError with RefuseMalformed and,
// when the id could be read, that id.
func ParseCommand(b []byte) (Command, error) {
	if len(b) > MaxPayloadLen {
		return Command{}, &CommandError{Code: RefuseMalformed, Msg: fmt.Sprintf("payload of %d bytes is over %d", len(b), MaxPayloadLen)}
	}
	// Fields one at a time, so that a bad expires still yields the id to answer.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return Command{}, &CommandError{Code: RefuseMalformed, Msg: "payload is not a JSON object"}
	}
	var c Command
	str := func(key string, max int) (string, error) {
		v, ok := raw[key]
		if !ok {
			return "", fmt.Errorf("%s is missing", key)
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("%s is not a string", key)
		}
		if s == "" || len(s) > max || !printable(s) {
			return "", fmt.Errorf("%s must be 1 to %d printable bytes", key, max)
		}
		return s, nil
	}
	id, err := str("id", MaxIDLen)
	if err != nil {
		return Command{}, &CommandError{Code: RefuseMalformed, Msg: err.Error()}
	}
	c.ID = id
	bad := func(err error) (Command, error) {
		return Command{}, &CommandError{Code: RefuseMalformed, ID: id, Msg: err.Error()}
	}
	if c.Name, err = str("name", 64); err != nil {
		return bad(err)
	}
	if c.By, err = str("by", MaxByLen); err != nil {
		return bad(err)
	}
	exp, err := str("expires", 64)
	if err != nil {
		return bad(err)
	}
	if c.Expires, err = time.Parse(time.RFC3339, exp); err != nil {
		return bad(fmt.Errorf("expires %q is not an RFC 3339 time", exp))
	}
	if a, ok := raw["args"]; ok && string(a) != "null" {
		if len(a) > MaxArgsLen {
			return bad(fmt.Errorf("args over %d bytes", MaxArgsLen))
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(a, &obj); err != nil {
			return bad(errors.New("args is not a JSON object"))
		}
		c.Args = a
	}
	if v, ok := raw["sig"]; ok && string(v) != "null" {
		// Only its form here: whether it verifies is VerifyCommand's, with the kiosk's key.
		if err := json.Unmarshal(v, &c.Sig); err != nil || len(c.Sig) > 128 {
			return bad(errors.New("sig is not a string of at most 128 bytes"))
		}
	}
	return c, nil
}

// Stamp is t in loc cut to milliseconds: the times put on the wire.
func Stamp(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.Local
	}
	return t.In(loc).Truncate(time.Millisecond)
}

// Decode unmarshals a payload received from the broker into v, refusing payloads over
// MaxPayloadLen and anything but a JSON object.
func Decode(b []byte, v any) error {
	if len(b) > MaxPayloadLen {
		return fmt.Errorf("wire: payload of %d bytes is over %d", len(b), MaxPayloadLen)
	}
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return errors.New("wire: payload is not a JSON object")
	}
	return json.Unmarshal(t, v)
}
