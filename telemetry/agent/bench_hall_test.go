package agent

import (
	"context"
	"slices"
	"testing"
	"time"

	"citizenhome/hall/intake"
	"citizenhome/hall/ledger/ledgertest"
	"citizenhome/hall/line"
	"citizenhome/kiosk"
	"citizenhome/telemetry/mqtttest"
)

// BenchmarkConfirmToHallNumber: a citizen's 确认取号 (Kiosk.TakeTicket on a real core with this
// agent) to the hall's number committed in the kiosk's store (the core's ticket event, before
// printing), with the hall controller's real queue and intake (hall/line, hall/intake, in this
// process) on a private Mosquitto. The floor, measured in the same run on the same broker and
// disk: one request and reply through the broker plus one fsync. The path itself has two
// fsyncs on top of it (halld's number, then the kiosk's ticket with its event).
func BenchmarkConfirmToHallNumber(b *testing.B) {
	m := mqtttest.StartMosquitto(b, mqtttest.NewEnv("hb", "k1", "k2"))
	env := m.Env
	db := ledgertest.Open(b, line.Migrations, intake.Migrations)
	q, err := line.Open(context.Background(), db, line.Config{Categories: []line.Category{
		{Letter: "A"}, {Letter: "B"}, {Letter: "C"}, {Letter: "D"}, {Letter: "E"}, {Letter: "F"}},
		Windows: []line.Window{{ID: "1", Categories: []string{"A", "B", "C", "D", "E", "F"}}}})
	if err != nil {
		b.Fatal(err)
	}
	in, err := intake.Start(context.Background(), intake.Options{Link: env.Settings(env.ControllerUser, env.ControllerPassword, ""),
		Hall: env.Hall, Queue: q, DB: db, Log: quietLog(), Location: line.DefaultLocation()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { in.Close() })
	k, st := hallKiosk(b, env.Hall, "k1", 2*time.Second)
	a := newAgent(b, k, st, env.Kiosk("k1"), nil)
	startAgent(b, a)
	deadline := time.Now().Add(10 * time.Second)
	for c := a.current(); c == nil || c.controller() != ctrlOnline; c = a.current() {
		if time.Now().After(deadline) {
			b.Fatal("the kiosk never saw halld online")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rtt, fsync := mqtttest.RequestReplyFloor(b, env, "k2", 200), mqtttest.FsyncFloor(b, b.TempDir(), 200)
	var matters []string
	for _, mt := range k.Catalog().All() {
		if mt.Weekend {
			matters = append(matters, mt.ID)
		}
	}
	var start time.Time
	lat := make([]time.Duration, 0, b.N)
	k.Subscribe(func(e kiosk.Event) {
		if e.Kind == kiosk.EventTicket {
			lat = append(lat, time.Since(start))
		}
	})
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start = time.Now()
		is, err := k.TakeTicket(ctx, matters[i%len(matters)])
		if err != nil {
			b.Fatal(err)
		}
		if is.Ticket.Number >= 900 {
			b.Fatalf("ticket %s came from the lease: halld did not answer in time", is.Ticket.Code)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	floor := rtt + fsync
	p50, p99 := lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(rtt.Microseconds())/1000, "floor-rtt-ms")
	b.ReportMetric(float64(fsync.Microseconds())/1000, "floor-fsync-ms")
	b.ReportMetric(float64(p50)/float64(floor), "p50/floor")
	b.ReportMetric(float64(p99)/float64(floor), "p99/floor")
}
