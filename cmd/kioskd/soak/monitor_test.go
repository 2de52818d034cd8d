package soak

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"citizenhome/kiosk"
	"citizenhome/telemetry/wire"
)

// monitor follows kioskd's device states by polling GET /v1/status: when a device the harness
// unplugged is seen down (detection time), and when one it plugged in again is working (recovery
// time, from the state's since: kioskd's own clock). Safe for concurrent use.
type monitor struct {
	api    *client
	find   *findings
	detect *timings
	back   *timings

	mu     sync.Mutex
	polled bool
	now    map[string]wire.Device
	outbox int64
	watch  map[string]*watch
}

// watch is one device's outage: unplugged at down, plugged in again at up (zero until then).
type watch struct {
	down, up  time.Time
	noticed   bool
	recovered bool
	expired   bool
}

func newMonitor(api *client, find *findings, detect, back *timings) *monitor {
	return &monitor{api: api, find: find, detect: detect, back: back, now: map[string]wire.Device{}, watch: map[string]*watch{}}
}

// run polls until ctx ends.
func (m *monitor) run(ctx context.Context) {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		code, body, err := m.api.do(ctx, "GET", "/v1/status", "")
		if ctx.Err() != nil {
			return
		}
		var st wire.Status
		switch {
		case err != nil:
			m.find.add("api", "GET /v1/status: %v", err)
		case code != 200:
			m.find.add("api", "GET /v1/status: %d %.200s", code, body)
		default:
			if err := json.Unmarshal(body, &st); err != nil {
				m.find.add("api", "GET /v1/status: %v", err)
			} else {
				m.take(st, time.Now())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (m *monitor) take(st wire.Status, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.polled = true
	m.outbox = st.Outbox
	for name, d := range st.Devices {
		m.now[name] = d
		w := m.watch[name]
		if w == nil {
			continue
		}
		ok := d.State == string(kiosk.StateOK)
		if !ok && !w.noticed && w.up.IsZero() {
			w.noticed = true
			// Down already before the outage (a device that never came back) counts as at once.
			m.detect.add(name, max(0, d.Since.Sub(w.down)))
		}
		if ok && !w.up.IsZero() && !w.recovered && !w.expired {
			w.recovered = true
			m.back.add(name, max(0, d.Since.Sub(w.up)))
		}
		if !w.up.IsZero() && !w.recovered && !w.expired && at.Sub(w.up) > RecoverBound {
			w.expired = true
			m.find.add("device-not-back", "%s plugged in again at %s is still %s (%q) after %v",
				name, w.up.Format("15:04:05.000"), d.State, d.Detail, RecoverBound)
		}
	}
}

// unplugged says the harness took device away at t.
func (m *monitor) unplugged(device string, t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.watch[device] = &watch{down: t}
}

// plugged says the harness brought device back at t: it must be working within RecoverBound.
func (m *monitor) plugged(device string, t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w := m.watch[device]; w != nil {
		w.up = t
		// An outage kioskd never saw has no recovery to time (the harness reports it).
		w.recovered = !w.noticed
	}
}

// noticed reports whether kioskd reported device down since it was unplugged.
func (m *monitor) noticed(device string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.watch[device]
	return w != nil && w.noticed
}

// settled reports whether device's last outage is over: it came back, or the wait for it
// expired (reported then).
func (m *monitor) settled(device string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.watch[device]
	return w == nil || w.recovered || w.expired
}

// states returns the device states last polled (nil before the first poll) and the outbox
// length the status gave.
func (m *monitor) states() (map[string]wire.Device, int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.polled {
		return nil, 0
	}
	out := make(map[string]wire.Device, len(m.now))
	for k, v := range m.now {
		out[k] = v
	}
	return out, m.outbox
}
