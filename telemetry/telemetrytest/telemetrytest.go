// Package telemetrytest starts real kiosks with telemetry against a test broker, for the tests
// of what reads the fleet (hall/fleet, cmd/kioskctl). Each kiosk is a real core over its own
// store with the demo catalog, open at all hours, and a started agent.
package telemetrytest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/store"
	"citizenhome/telemetry/agent"
	"citizenhome/telemetry/mqtttest"
)

// StartKiosk starts kiosk id of env's hall reporting version, after clearing what the broker
// retains of an earlier test's kiosk of that id. The agent is closed (a planned shutdown) and
// the store closed when the test ends. It does not wait for the kiosk's birth.
func StartKiosk(t testing.TB, env mqtttest.Env, id, version string) (*kiosk.Kiosk, *store.Store, *agent.Agent) {
	t.Helper()
	return StartKioskWith(t, env, id, version, nil)
}

// StartKioskWith is StartKiosk with the agent's options changed by mod (nil: none), for
// instance a hall's command key.
func StartKioskWith(t testing.TB, env mqtttest.Env, id, version string, mod func(*agent.Options)) (*kiosk.Kiosk, *store.Store, *agent.Agent) {
	t.Helper()
	mqtttest.ClearRetained(t, env, id)
	cfg := config.Default()
	cfg.Hall.ID, cfg.Kiosk.ID = env.Hall, id
	cfg.Hours.Weekday, cfg.Hours.Weekend = []string{"00:00-23:59"}, []string{"00:00-23:59"}
	st, err := store.Open(filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	k, err := kiosk.New(context.Background(), kiosk.Options{Config: cfg, Store: st, Catalog: catalog.NewHolder(catalog.Demo()), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	o := agent.Options{Kiosk: k, Store: st, Link: env.Kiosk(id), Log: log, Version: version}
	if mod != nil {
		mod(&o)
	}
	a, err := agent.New(o)
	if err != nil {
		t.Fatal(err)
	}
	a.Start(context.Background())
	t.Cleanup(func() { a.Close() })
	return k, st, a
}
