package kiosk

import (
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk/session"
)

// Device names, as in the telemetry contract's status snapshot.
const (
	DevicePrinter    = "printer"
	DeviceIDReader   = "id-reader"
	DeviceCardReader = "card-reader"
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
	for _, d := range devs {
		if d.State != StateAbsent && !d.State.Usable() {
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
func (k *Kiosk) SetDevice(name string, state DeviceState, detail string) {
	k.mu.Lock()
	old, ok := k.devices[name]
	if ok && old.State == state && old.Detail == detail {
		k.mu.Unlock()
		return
	}
	d := Device{State: state, Detail: detail, Since: k.now()}
	k.devices[name] = d
	k.mu.Unlock()
	k.emit(Event{Kind: EventDevice, Device: name, State: d})
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
