package localapi

import (
	"context"
	"net/http"
	"time"

	"citizenhome/kiosk"
	"citizenhome/kiosk/queue"
	"citizenhome/telemetry/wire"
)

// Telemetry is what /healthz and /v1/status need of the telemetry agent (agent.Agent, telemetry/agent):
// the lifecycle state and the status snapshot it publishes, and a counter for requests refused
// for their token (the status's "errors" counter).
type Telemetry interface {
	State() string
	Snapshot(ctx context.Context) wire.Status
	CountError()
}

// StatusSource is what /healthz and /v1/status need of the core without telemetry: the devices,
// the lock, and the figures of the status (its clock, version, uptime and today's tickets).
type StatusSource interface {
	Devices() map[string]kiosk.Device
	// Alerts are the devices' faults and the kiosk's own alerts (a call for staff).
	Alerts() []kiosk.Alert
	Locked() (bool, string)
	Now() time.Time
	Version() string
	Uptime() time.Duration
	TicketCounts(ctx context.Context) (queue.Counts, error)
}

// UseTelemetry makes /healthz and /v1/status answer what the hall sees over MQTT. Without it
// (telemetry off) they answer from the core alone: the state from the lock and the devices, and a
// status with the devices, the alerts (Kiosk.Alerts, as telemetry lists them), the lock
// message, the uptime, today's tickets and the requests refused for their token since the start
// (errors), boot and seq 0.
func (s *Server) UseTelemetry(t Telemetry) { s.tel.Store(&t) }

func (s *Server) telemetry() Telemetry {
	if p := s.tel.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	if t := s.telemetry(); t != nil {
		writeJSON(w, http.StatusOK, t.Snapshot(r.Context()))
		return
	}
	st := wire.Status{State: s.coreState(), Session: wire.SessionIdle, Devices: map[string]wire.Device{}, Alerts: []string{}}
	if locked, msg := s.core.Locked(); locked {
		st.LockMessage = msg
	}
	// The contract's three devices are always named, as the telemetry agent's status does.
	for _, name := range []string{kiosk.DevicePrinter, kiosk.DeviceIDReader, kiosk.DeviceCardReader} {
		st.Devices[name] = wire.Device{State: string(kiosk.StateAbsent)}
	}
	devs := s.core.Devices()
	for name, d := range devs {
		st.Devices[name] = wire.Device{State: string(d.State), Detail: d.Detail, Since: d.Since}
	}
	for _, al := range s.core.Alerts() {
		if wire.ValidCode(al.Code) { // as the telemetry agent publishes them
			st.Alerts = append(st.Alerts, al.Code)
		}
	}
	st.TS, st.Version = s.core.Now(), s.core.Version()
	st.UptimeS = int64(s.core.Uptime() / time.Second)
	if n, err := s.core.TicketCounts(r.Context()); err == nil {
		st.Counters.Tickets = int64(n.Issued)
	}
	st.Counters.Errors = s.unauthorized.Load()
	writeJSON(w, http.StatusOK, st)
}

// coreState is the lifecycle state as the telemetry agent would derive it, for a kiosk without
// telemetry.
func (s *Server) coreState() string {
	if locked, _ := s.core.Locked(); locked {
		return wire.StateLocked
	}
	if kiosk.Degraded(s.core.Devices()) {
		return wire.StateDegraded
	}
	return wire.StateReady
}
