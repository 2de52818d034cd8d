package kiosk

import (
	"log/slog"
	"slices"
	"strings"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk/session"
)

// Device names, as in the telemetry contract's status snapshot.
const (
	DevicePrinter    = "printer"
	DeviceIDReader   = "id-reader"
	DeviceCardReader = "card-reader"
	// DeviceSpeaker is the voice's audio device, on a kiosk with voice.enabled: without it the
	// kiosk serves as before, silently, so its fault is a warning and does not degrade the kiosk.
	DeviceSpeaker = "speaker"
)

// DeviceState is a device's state, as in the telemetry contract.
type DeviceState string

// Device states. Absent means not configured; offline means configured but not answering.
const (
	StateOK        DeviceState = "ok"
	StatePaperLow  DeviceState = "paper-low"
	StatePaperOut  DeviceState = "paper-out"
	StateCoverOpen DeviceState = "cover-open"
	StateError     DeviceState = "error"
	StateOffline   DeviceState = "offline"
	StateAbsent    DeviceState = "absent"
)

// Usable reports whether a device in this state can do its job (paper-low still prints).
func (s DeviceState) Usable() bool { return s == StateOK || s == StatePaperLow }

// Degraded reports whether a device the kiosk has is not usable now (one not configured, absent,
// does not count): the kiosk then serves with less, which the hall sees as state "degraded".
func Degraded(devs map[string]Device) bool {
	for name, d := range devs {
		if name != DeviceSpeaker && d.State != StateAbsent && !d.State.Usable() {
			return true
		}
	}
	return false
}

// Device is one device's state and since when.
type Device struct {
	State  DeviceState
	Detail string // for staff and the hall; never personal data
	Since  time.Time
}

// EventKind says what an Event is about.
type EventKind int

// Event kinds.
const (
	EventSession EventKind = iota + 1 // a session started, was warned, continued or ended
	EventDevice                       // a device changed state
	EventLock                         // the kiosk was locked or unlocked
	EventTicket                       // a ticket was issued (or its printing failed)
	EventCard                         // a card was read into the session, or could not be read
	EventAlert                        // the kiosk's own alerts changed: a call for staff raised or ended (help.go)
)

// Event tells subscribers (the UI, telemetry) that something changed. It never carries personal
// data.
type Event struct {
	Kind    EventKind
	Session session.Event // EventSession
	Device  string        // EventDevice
	State   Device        // EventDevice
	Locked  bool          // EventLock
	Message string        // EventLock: the message to show
	Ticket  string        // EventTicket: the ticket code
	Card    string        // EventCard: "id-card" or "city-card"
	CardErr error         // EventCard: why the card could not be read (nil when it was)
}

// Devices returns a snapshot of every device's state.
func (k *Kiosk) Devices() map[string]Device {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]Device, len(k.devices))
	for n, d := range k.devices {
		out[n] = d
	}
	return out
}

// SetDevice records a device's state; a change is published as an EventDevice. Device watchers
// (the printer poller, the card reader loops) call it.
//
// A change of state is logged, once: a fault reported again at every poll is one line, and so is
// one whose detail changes from poll to poll (the detail is updated, and published, but Since
// stays when the state began). Faults (offline, error, paper out, cover open) and paper low are
// warnings, a device back to ok is info; each line names the device, its state, the state before
// and the detail (the reason), which never holds personal data.
func (k *Kiosk) SetDevice(name string, state DeviceState, detail string) {
	k.mu.Lock()
	old, ok := k.devices[name]
	if ok && old.State == state && old.Detail == detail {
		k.mu.Unlock()
		return
	}
	d := Device{State: state, Detail: detail, Since: k.now()}
	if ok && old.State == state {
		d.Since = old.Since
	}
	k.devices[name] = d
	k.mu.Unlock()
	if !ok || old.State != state {
		logDevice(k.log, name, old, d, ok)
	}
	k.emit(Event{Kind: EventDevice, Device: name, State: d})
}

// logDevice writes the line of a device's change of state from was (known: there was a state
// before) to now.
func logDevice(log *slog.Logger, name string, was, now Device, known bool) {
	args := []any{"device", name, "state", string(now.State)}
	if known {
		args = append(args, "was", string(was.State))
	}
	if now.Detail != "" {
		args = append(args, "detail", now.Detail)
	}
	switch now.State {
	case StateOK:
		if known && was.State != StateAbsent {
			log.Info("device back", args...)
		} else {
			log.Info("device ok", args...)
		}
	case StateAbsent:
		log.Info("device not configured", args...)
	case StatePaperLow:
		log.Warn("printer paper low", args...)
	case StatePaperOut:
		log.Warn("printer out of paper", args...)
	case StateCoverOpen:
		log.Warn("printer cover open", args...)
	case StateOffline:
		log.Warn("device offline", args...)
	default:
		log.Warn("device error", args...)
	}
}

// Alert is a device fault while it lasts, as the hall sees it (telemetry's alert/{code}, the
// status's "alerts"): one per device whose state is neither ok nor absent.
type Alert struct {
	// Code is "{device}-{state}": "printer-offline", "printer-paper-out", "id-reader-offline",
	// "payment-error".
	Code   string
	Device string
	State  DeviceState
	// Warning is set for a fault the device still works with (paper low); the rest are errors.
	Warning bool
	Detail  string
	Since   time.Time
}

// Alerts derives the alerts from devs (Devices()), sorted by code; none (nil) when every device
// is ok or absent. Both the telemetry agent and kioskd's status without telemetry list these, so
// the two cannot disagree.
func Alerts(devs map[string]Device) []Alert {
	var out []Alert
	for name, d := range devs {
		if d.State == StateOK || d.State == StateAbsent {
			continue
		}
		out = append(out, Alert{Code: name + "-" + string(d.State), Device: name, State: d.State,
			Warning: d.State == StatePaperLow || name == DeviceSpeaker, Detail: d.Detail, Since: d.Since})
	}
	slices.SortFunc(out, func(a, b Alert) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// PrinterState maps a printer status reply to the telemetry contract's device state. No answer
// at all is offline.
func PrinterState(st escpos.Status, err error) DeviceState {
	if err != nil {
		return StateOffline
	}
	switch st.State() {
	case escpos.StateOK:
		return StateOK
	case escpos.StatePaperLow:
		return StatePaperLow
	case escpos.StatePaperOut:
		return StatePaperOut
	case escpos.StateCoverOpen:
		return StateCoverOpen
	case escpos.StateOffline:
		return StateOffline
	}
	return StateError
}
