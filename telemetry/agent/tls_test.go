package agent

import (
	"testing"
	"time"

	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// A kiosk reaches a broker on another host the way it must: TLS, the hall's CA, a client
// certificate and its password. Without the CA (the system's roots) it does not connect.
func TestTLSBroker(t *testing.T) {
	m := mqtttest.StartMosquittoTLS(t, mqtttest.NewEnv("tls", "k1"))
	root := "citizenhome/v1/tls/k1"
	rec := mqtttest.Record(t, m.Staff(), root+"/#", mqtttest.RecordOptions{})
	k, st := newKiosk(t, "tls", "k1", "", nil)
	a := newAgent(t, k, st, m.Kiosk("k1"), nil)
	startAgent(t, a)
	rec.Wait(t, 10*time.Second, "ready over TLS", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateReady, 0) })

	s := m.Kiosk("k1")
	s.CAFile = ""
	k2, st2 := newKiosk(t, "tls", "k1", "", nil)
	a2 := newAgent(t, k2, st2, s, nil)
	startAgent(t, a2)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if ok, _ := a2.Connected(); ok {
			t.Fatal("connected to a broker whose certificate the system's roots do not vouch for")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
