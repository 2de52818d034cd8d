package fleetsim_test

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"citizenhome/hall/fleet/fleetsim"
	"citizenhome/telemetry/mqtttest"
)

// Fleet fan-in: N simulated kiosks (real MQTT sessions, a status a second each) into one
// Mosquitto while a fleet view follows them. Reports the view's lag and lost statuses.
// CITIZENHOME_FANIN_N sets N (default 1000), CITIZENHOME_FANIN_FOR the window (default 10s).
func BenchmarkFleetFanIn(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("CITIZENHOME_FANIN_N")); err == nil && v > 0 {
		n = v
	}
	window := 10 * time.Second
	if v, err := time.ParseDuration(os.Getenv("CITIZENHOME_FANIN_FOR")); err == nil && v > 0 {
		window = v
	}
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < uint64(2*n+256) {
		l.Cur = min(uint64(2*n+256), l.Max)
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fleetsim.SimName("sim", i+1)
	}
	m := mqtttest.StartMosquitto(b, mqtttest.NewEnv("fanin", ids...))
	for range b.N {
		rep, err := fleetsim.Measure(context.Background(), fleetsim.MeasureOptions{
			View: m.Staff(),
			Sim:  fleetsim.SimOptions{Link: m.Staff(), Hall: "fanin", N: n, Password: m.KioskPassword},
			For:  window,
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Log(rep)
		b.ReportMetric(float64(n), "kiosks")
		b.ReportMetric(rep.Rate, "statuses/s")
		b.ReportMetric(float64(rep.Lost), "lost")
		b.ReportMetric(float64(rep.LagP99.Milliseconds()), "lag-p99-ms")
		b.ReportMetric(float64(rep.LagMax.Milliseconds()), "lag-max-ms")
	}
}
