package agent

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// fill writes n test events in transactions of 500.
func fill(b *testing.B, a *Agent, n int) {
	b.Helper()
	for i := 0; i < n; i += 500 {
		err := a.st.Tx(context.Background(), func(tx *sql.Tx) error {
			for j := i; j < min(i+500, n); j++ {
				if err := a.Outbox().RecordEvent(tx, wire.EventTelemetryTestEvent, map[string]int{"n": j}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func drained(b *testing.B, a *Agent, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n, err := a.Outbox().Len(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d events still in the outbox after %s", n, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// Events per second from the outbox to a Mosquitto on loopback, acknowledged and deleted, while
// they are being produced (500 per transaction).
func BenchmarkEventsToMosquitto(b *testing.B) {
	m := mqtttest.StartMosquitto(b, mqtttest.NewEnv("bench", "k1"))
	k, st := newKiosk(b, "bench", "k1", "", nil)
	a := newAgent(b, k, st, m.Kiosk("k1"), nil)
	startAgent(b, a)
	deadline := time.Now().Add(10 * time.Second)
	for ok, _ := a.Connected(); !ok; ok, _ = a.Connected() {
		if time.Now().After(deadline) {
			b.Fatal("not connected")
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.ResetTimer()
	start := time.Now()
	fill(b, a, b.N)
	drained(b, a, time.Minute)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// How fast a backlog left by an outage drains: b.N events wait in the outbox, then the broker
// is reachable (the agent starts): the time to an empty outbox, connection and birth included.
func BenchmarkOutboxDrain(b *testing.B) {
	m := mqtttest.StartMosquitto(b, mqtttest.NewEnv("bench", "k1"))
	k, st := newKiosk(b, "bench", "k1", "", nil)
	a := newAgent(b, k, st, m.Kiosk("k1"), nil)
	fill(b, a, b.N)
	b.ResetTimer()
	start := time.Now()
	startAgent(b, a)
	drained(b, a, 2*time.Minute)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
