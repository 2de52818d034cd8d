// Package fleetsim loads a broker and a fleet view for measurement: Simulate runs many kiosks,
// each a real MQTT session that publishes a status a second, and Measure follows them with a
// fleet.View and reports what the view received, lost, and how late (kioskctl fleet simulate).
package fleetsim

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"citizenhome/telemetry/link"
	"citizenhome/telemetry/wire"
)

// SimOptions configure Simulate.
type SimOptions struct {
	// Link is the broker and TLS settings; Username, Password and ClientID are per kiosk.
	Link link.Settings
	Hall string
	// N kiosks named {Prefix}{i} (Prefix "sim", i from 1, five digits: sim00001), each with the
	// account kiosk-{hall}-{name} and Password.
	N        int
	Prefix   string
	Password string
	// Every is the status interval (default 1 s); the first status of each kiosk is at a random
	// offset within it, so the load is spread.
	Every time.Duration
	// Connecting is how many kiosks connect at once (default 100).
	Connecting int
	// EventEvery, when set, has each kiosk also publish an event (telemetry.test, QoS 1, not
	// retained) this often: the business events a hall's kiosks send between statuses.
	EventEvery time.Duration
	// ChangeEvery, when set, has each kiosk flip its printer between ok and paper-low this often
	// (the first at a random offset) and publish a status at once, as a real kiosk does on a
	// device change; OnChange (when set) is told of each just before it is sent, so that a
	// subscriber that gets it before the sender's acknowledgement still finds it known.
	ChangeEvery time.Duration
	OnChange    func(kiosk, printer string, at time.Time)
}

// SimStats count what the simulated kiosks did.
type SimStats struct {
	Connected   int64 // kiosks connected
	Failed      int64 // connections refused or failed
	Published   int64 // statuses acknowledged by the broker
	PublishErrs int64
	// Last, when not nil (length N+1), gets each kiosk's newest acknowledged status seq.
	Last []int64
}

// SimName is the kiosk id of simulated kiosk i.
func SimName(prefix string, i int) string { return fmt.Sprintf("%s%05d", prefix, i) }

// Simulate runs N kiosks, each a real MQTT session with its own client id, will and birth,
// publishing a full status every Every, until ctx ends; it then disconnects them (planned) and
// returns the counts. ready is called (when not nil) once every kiosk has tried to connect.
func Simulate(ctx context.Context, o SimOptions, stats *SimStats, ready func()) {
	if o.Prefix == "" {
		o.Prefix = "sim"
	}
	if o.Every <= 0 {
		o.Every = time.Second
	}
	if o.Connecting <= 0 {
		o.Connecting = 100
	}
	sem := make(chan struct{}, o.Connecting)
	var wg, connecting sync.WaitGroup
	for i := 1; i <= o.N; i++ {
		wg.Add(1)
		connecting.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			simKiosk(ctx, o, i, stats, func() { <-sem; connecting.Done() })
		}(i)
		if ctx.Err() != nil {
			break
		}
	}
	connecting.Wait()
	if ready != nil {
		ready()
	}
	wg.Wait()
}

// simKiosk is one simulated kiosk: a plain MQTT 3.1.1 session written with paho's packet codec
// rather than a full paho client, so that thousands fit in one process on a small machine and
// the broker and the view, not the simulator, are what is measured. Each has its own client id,
// account, will and birth, publishes a retained status every Every at QoS 1 and reads the
// acknowledgements.
func simKiosk(ctx context.Context, o SimOptions, i int, stats *SimStats, connected func()) {
	id := wire.Kiosk{Hall: o.Hall, Kiosk: SimName(o.Prefix, i)}
	fail := func() {
		atomic.AddInt64(&stats.Failed, 1)
		connected()
	}
	nc, err := simDial(ctx, o.Link)
	if err != nil {
		fail()
		return
	}
	defer nc.Close()
	boot := time.Now().Unix()
	will, _ := json.Marshal(wire.State{State: wire.StateLost, Boot: boot, Since: time.Now(), Version: "sim"})
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion, cp.CleanSession, cp.Keepalive = "MQTT", 4, true, 120
	cp.ClientIdentifier = id.ClientID()
	cp.UsernameFlag, cp.Username = true, id.ClientID()
	cp.PasswordFlag, cp.Password = true, []byte(o.Password)
	cp.WillFlag, cp.WillQos, cp.WillRetain, cp.WillTopic, cp.WillMessage = true, 1, true, id.Topic(wire.KindState), will
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	if err := cp.Write(nc); err != nil {
		fail()
		return
	}
	ack, err := packets.ReadPacket(nc)
	if ca, ok := ack.(*packets.ConnackPacket); err != nil || !ok || ca.ReturnCode != 0 {
		fail()
		return
	}
	_ = nc.SetDeadline(time.Time{})
	atomic.AddInt64(&stats.Connected, 1)
	connected()

	var mu sync.Mutex // the writer: status ticks and the goodbye
	pending := map[uint16]int64{}
	var nextID uint16
	publish := func(topic string, payload []byte, seq int64, retain bool) error {
		mu.Lock()
		defer mu.Unlock()
		nextID++
		if nextID == 0 {
			nextID = 1
		}
		pp := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
		pp.Qos, pp.Retain, pp.TopicName, pp.Payload, pp.MessageID = 1, retain, topic, payload, nextID
		pending[nextID] = seq
		_ = nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		return pp.Write(nc)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			p, err := packets.ReadPacket(nc)
			if err != nil {
				return
			}
			if pa, ok := p.(*packets.PubackPacket); ok {
				mu.Lock()
				seq, ok := pending[pa.MessageID]
				delete(pending, pa.MessageID)
				mu.Unlock()
				if !ok || seq == 0 {
					continue
				}
				atomic.AddInt64(&stats.Published, 1)
				if i < len(stats.Last) {
					for {
						old := atomic.LoadInt64(&stats.Last[i])
						if seq <= old || atomic.CompareAndSwapInt64(&stats.Last[i], old, seq) {
							break
						}
					}
				}
			}
		}
	}()
	defer func() {
		b, _ := json.Marshal(wire.State{State: wire.StateDisconnected, Boot: boot, Since: time.Now(), Version: "sim"})
		_ = publish(id.Topic(wire.KindState), b, 0, true)
		mu.Lock()
		_ = packets.NewControlPacket(packets.Disconnect).Write(nc)
		mu.Unlock()
		nc.Close()
		<-readDone
	}()
	st, _ := json.Marshal(wire.State{State: wire.StateReady, Boot: boot, Since: time.Now(), Version: "sim"})
	if err := publish(id.Topic(wire.KindState), st, 0, true); err != nil {
		atomic.AddInt64(&stats.PublishErrs, 1)
		return
	}
	status := wire.Status{Boot: boot, Version: "sim", State: wire.StateReady, Session: wire.SessionIdle,
		Devices: map[string]wire.Device{"printer": {State: "ok"}, "id-reader": {State: "ok"}, "card-reader": {State: "ok"}},
		Alerts:  []string{}}
	start := time.Now()
	// Spread the kiosks over the interval.
	t := time.NewTimer(time.Duration(i%1000) * o.Every / 1000)
	defer t.Stop()
	var events, flips <-chan time.Time // nil: that load is off, its case never fires
	if o.EventEvery > 0 {
		et := time.NewTicker(o.EventEvery)
		defer et.Stop()
		events = et.C
	}
	var flip *time.Timer
	if o.ChangeEvery > 0 {
		// Spread too, and apart from the statuses, so a change is seldom a status's neighbour.
		flip = time.NewTimer(time.Duration((i*7919)%1000) * o.ChangeEvery / 1000)
		defer flip.Stop()
		flips = flip.C
	}
	var seq int64
	sendStatus := func() error {
		seq++
		now := time.Now()
		status.Seq, status.TS, status.UptimeS = seq, now, int64(now.Sub(start)/time.Second)
		b, _ := json.Marshal(status)
		return publish(id.Topic(wire.KindStatus), b, seq, true)
	}
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-readDone:
			atomic.AddInt64(&stats.PublishErrs, 1)
			return
		case <-t.C:
			t.Reset(o.Every)
			err = sendStatus()
		case now := <-events:
			seq++
			b, _ := json.Marshal(wire.Event{ID: fmt.Sprintf("%s-%d-%d", id.Kiosk, boot, seq), Seq: seq, Boot: boot, TS: now,
				Type: wire.EventTelemetryTestEvent, Data: json.RawMessage(`{}`)})
			err = publish(id.Topic(wire.KindEvent), b, seq, false)
		case <-flips:
			flip.Reset(o.ChangeEvery)
			p := status.Devices["printer"]
			p.State = map[string]string{"ok": "paper-low", "paper-low": "ok"}[p.State]
			p.Since = time.Now()
			status.Devices["printer"] = p
			if o.OnChange != nil {
				o.OnChange(id.Kiosk, p.State, p.Since)
			}
			err = sendStatus()
		}
		if err != nil {
			atomic.AddInt64(&stats.PublishErrs, 1)
			return
		}
	}
}

func simDial(ctx context.Context, s link.Settings) (net.Conn, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(s.URL)
	d := &net.Dialer{Timeout: 30 * time.Second}
	tc, err := s.TLSConfig()
	if err != nil {
		return nil, err
	}
	if tc != nil {
		return (&tls.Dialer{NetDialer: d, Config: tc}).DialContext(ctx, "tcp", u.Host)
	}
	return d.DialContext(ctx, "tcp", u.Host)
}
