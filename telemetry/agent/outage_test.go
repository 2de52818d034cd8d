package agent

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"citizenhome/kiosk/store"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// eventNs returns the n of every distinct test event in order of first arrival (repeats, sent
// again after an outage, are dropped by id as a receiver must), and checks that seq grows
// within each boot.
func eventNs(t *testing.T, ms []mqtttest.Msg, root string) []int {
	t.Helper()
	seen := map[string]bool{}
	lastSeq := map[int64]int64{}
	var ns []int
	for _, e := range events(ms, root) {
		if e.Seq <= lastSeq[e.Boot] {
			t.Errorf("boot %d: seq %d after %d", e.Boot, e.Seq, lastSeq[e.Boot])
		}
		lastSeq[e.Boot] = e.Seq
		if seen[e.ID] || e.Type != wire.EventTelemetryTestEvent {
			continue
		}
		seen[e.ID] = true
		var d struct{ N int }
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		ns = append(ns, d.N)
	}
	return ns
}

// inOrder reports whether ns is exactly 0..n-1.
func inOrder(ns []int, n int) bool {
	if len(ns) != n {
		return false
	}
	for i, v := range ns {
		if v != i {
			return false
		}
	}
	return true
}

// The broker dies (SIGKILL) while 1,000 events are produced and comes back 30 s later: every
// event arrives, in order, none missing.
func TestBrokerOutageLosesNoEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("the 30 s broker outage")
	}
	const total, killAt = 1000, 300
	m := mqtttest.StartMosquitto(t, mqtttest.NewEnv("outage", "k1"))
	root := "citizenhome/v1/outage/k1"
	subscribed := time.Now()
	rec := mqtttest.Record(t, m.Staff(), root+"/event", mqtttest.RecordOptions{Durable: true, ClientID: "outage-recorder"})
	k, st := newKiosk(t, "outage", "k1", "", nil)
	a := newAgent(t, k, st, m.Kiosk("k1"), nil)
	startAgent(t, a)
	// The recorder's session must be in the broker's persistence file before the kill (it
	// is saved every second), or the restarted broker would not queue for it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		fi, err := os.Stat(filepath.Join(m.Dir, "mosquitto.db"))
		if err == nil && fi.ModTime().After(subscribed.Add(100*time.Millisecond)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the broker never saved its persistence file")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var killed time.Time
	for i := range total {
		if err := a.Outbox().Add(context.Background(), wire.EventTelemetryTestEvent, map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
		if i == killAt {
			m.Kill()
			killed = time.Now()
			t.Logf("broker killed after event %d; %d received so far", i, len(eventNs(t, rec.Messages(), root)))
		}
		time.Sleep(2 * time.Millisecond) // the producer's pace: the outage hits mid-stream
	}
	if n, _ := a.Outbox().Len(context.Background()); n < total-killAt-1 {
		t.Errorf("outbox holds %d events during the outage, want at least %d", n, total-killAt-1)
	}
	time.Sleep(time.Until(killed.Add(30 * time.Second))) // the outage the issue asks for
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	ms := rec.Wait(t, 30*time.Second, "all 1,000 events", func(ms []mqtttest.Msg) bool { return len(eventNs(t, ms, root)) >= total })
	ns := eventNs(t, ms, root)
	if !inOrder(ns, total) {
		t.Errorf("events out of order or missing: %d distinct, first %v", len(ns), ns[:min(20, len(ns))])
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		n, _ := a.Outbox().Len(context.Background())
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox still holds %d events after they all arrived", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The kiosk process dies (SIGKILL) mid-stream; after its restart the outbox sends the rest.
func TestKioskKilledMidStream(t *testing.T) {
	const total = 5000
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	rec := mqtttest.Record(t, env.Staff(), root+"/event", mqtttest.RecordOptions{})
	path := filepath.Join(t.TempDir(), "k.db")
	c := startChild(t, childSpec{Hall: env.Hall, Kiosk: id, Store: path, Link: env.Kiosk(id), Count: total, Batch: true})
	rec.Wait(t, 20*time.Second, "200 events", func(ms []mqtttest.Msg) bool { return len(eventNs(t, ms, root)) >= 200 })
	c.kill()
	// Mid-stream: the dead kiosk's outbox still holds events.
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	backlog, err := NewOutbox(st, nil).Len(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The kill may have cut the production short too: every event committed must arrive, and
	// the newest committed is the newest still in the outbox.
	var newest int
	if err := st.DB().QueryRow(`SELECT coalesce(max(json_extract(data, '$.n')), -1) FROM telemetry_outbox`).Scan(&newest); err != nil {
		t.Fatal(err)
	}
	st.Close()
	got := len(eventNs(t, rec.Messages(), root))
	t.Logf("killed with %d events in the outbox (newest n=%d), %d received", backlog, newest, got)
	if backlog == 0 {
		t.Fatalf("not mid-stream: the outbox was empty at the kill (%d received)", got)
	}
	c2 := startChild(t, childSpec{Hall: env.Hall, Kiosk: id, Store: path, Link: env.Kiosk(id)})
	ms := rec.Wait(t, 30*time.Second, "every committed event", func(ms []mqtttest.Msg) bool { return len(eventNs(t, ms, root)) > newest })
	if ns := eventNs(t, ms, root); !inOrder(ns, newest+1) {
		t.Errorf("events out of order or missing after the restart: %d distinct, want %d; first %v", len(ns), newest+1, ns[:min(20, len(ns))])
	}
	c2.term(t)
}
