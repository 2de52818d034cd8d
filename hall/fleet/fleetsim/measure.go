package fleetsim

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"citizenhome/hall/fleet"
	"citizenhome/telemetry/link"
)

// MeasureOptions configure Measure.
type MeasureOptions struct {
	View link.Settings // the account of the fleet view (staff)
	Sim  SimOptions
	For  time.Duration // the measured window, after every simulated kiosk has connected
	Log  *slog.Logger
}

// Report is what Measure found.
type Report struct {
	N         int           `json:"n"`
	Connected int64         `json:"connected"`
	Failed    int64         `json:"failed"`
	Window    time.Duration `json:"window_ns"`
	Published int64         `json:"published"` // statuses the broker acknowledged
	Received  int64         `json:"received"`  // statuses the view got, live
	Lost      int64         `json:"lost"`      // statuses acknowledged but never seen by the view
	Rate      float64       `json:"rate"`      // statuses per second into the view
	LagP50    time.Duration `json:"lag_p50_ns"`
	LagP99    time.Duration `json:"lag_p99_ns"`
	LagMax    time.Duration `json:"lag_max_ns"`
}

// MaxLag is the view lag Report.OK accepts.
const MaxLag = 2 * time.Second

// OK reports whether every kiosk connected, no status was lost and the view lagged under MaxLag.
func (r Report) OK() bool {
	return r.Failed == 0 && r.Connected == int64(r.N) && r.Lost == 0 && r.LagMax < MaxLag
}

func (r Report) String() string {
	verdict := "ok"
	if !r.OK() {
		verdict = "NOT OK"
	}
	return fmt.Sprintf("%d kiosks (%d connected, %d failed), %s: %d statuses published, %d received (%.0f/s), %d lost; view lag p50 %s, p99 %s, max %s: %s",
		r.N, r.Connected, r.Failed, r.Window.Round(time.Millisecond), r.Published, r.Received, r.Rate, r.Lost,
		r.LagP50.Round(time.Millisecond), r.LagP99.Round(time.Millisecond), r.LagMax.Round(time.Millisecond), verdict)
}

// Measure runs Simulate and a fleet view on the same broker: every status of every simulated
// kiosk must reach the view (none lost: each kiosk's seq arrives without a hole, up to the last
// one the broker acknowledged), and the lag from a status's ts to its arrival is measured.
func Measure(ctx context.Context, o MeasureOptions) (Report, error) {
	if o.Sim.Prefix == "" {
		o.Sim.Prefix = "sim"
	}
	r := Report{N: o.Sim.N}
	var (
		mu       sync.Mutex
		measure  atomic.Bool
		lags     []time.Duration
		lastSeen = map[string]int64{}
		lost     int64
		received int64
	)
	v := fleet.NewView()
	c, err := fleet.Dial(ctx, o.View, v, fleet.DialOptions{Hall: o.Sim.Hall, Log: o.Log, OnUpdate: func(u fleet.Update) {
		if u.Status == nil || u.Stale {
			return
		}
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		name := u.Addr.Kiosk.Kiosk
		if last, ok := lastSeen[name]; ok && u.Status.Seq > last+1 {
			lost += u.Status.Seq - last - 1
		}
		if u.Status.Seq > lastSeen[name] {
			lastSeen[name] = u.Status.Seq
		}
		if measure.Load() {
			received++
			lags = append(lags, now.Sub(u.Status.TS))
		}
	}})
	if err != nil {
		return r, err
	}
	defer c.Close()
	var stats SimStats
	stats.Last = make([]int64, o.Sim.N+1)
	sctx, stop := context.WithCancel(ctx)
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		Simulate(sctx, o.Sim, &stats, func() { close(ready) })
	}()
	select {
	case <-ready:
	case <-ctx.Done():
		stop()
		<-done
		return r, ctx.Err()
	}
	r.Connected, r.Failed = atomic.LoadInt64(&stats.Connected), atomic.LoadInt64(&stats.Failed)
	pub0 := atomic.LoadInt64(&stats.Published)
	mu.Lock()
	lost = 0 // losses while kiosks were still connecting are not the fleet's steady state
	mu.Unlock()
	measure.Store(true)
	start := time.Now()
	select {
	case <-time.After(o.For):
	case <-ctx.Done():
	}
	r.Window = time.Since(start)
	measure.Store(false)
	stop()
	<-done
	r.Published = atomic.LoadInt64(&stats.Published) - pub0
	// Every status the broker acknowledged must reach the view: wait for the last ones.
	deadline := time.Now().Add(5 * time.Second)
	var behind int64
	for {
		behind = 0
		mu.Lock()
		for i := 1; i <= o.Sim.N; i++ {
			want := atomic.LoadInt64(&stats.Last[i])
			if got := lastSeen[SimName(o.Sim.Prefix, i)]; got < want {
				behind += want - got
			}
		}
		mu.Unlock()
		if behind == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	r.Lost = lost + behind
	r.Received = received
	slices.Sort(lags)
	if n := len(lags); n > 0 {
		r.LagP50, r.LagP99, r.LagMax = lags[n/2], lags[min(n-1, n*99/100)], lags[n-1]
	}
	mu.Unlock()
	if r.Window > 0 {
		r.Rate = float64(r.Received) / r.Window.Seconds()
	}
	return r, nil
}
