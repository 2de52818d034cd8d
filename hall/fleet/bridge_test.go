package fleet_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citizenhome/hall/fleet"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// A city: each hall's Mosquitto bridges its kiosks' telemetry out to one city broker (in
// production a clustered EMQX; here a second Mosquitto), where a city-level subscriber sees
// every hall. docs/scale.md describes the layout; packaging/mosquitto/citizenhome-bridge.conf.example
// is the production form of bridgeConf.

// city is a city broker and the halls bridged to it.
type city struct {
	broker   *mqtttest.Mosquitto
	viewPass string
	halls    map[string]*mqtttest.Mosquitto
}

// bridgedTopics are what a hall sends to the city: its kiosks' (and its controller's) state,
// their statuses, alerts, events and command replies. Nothing comes in: commands are the
// hall's (halld checks the sender's role, asks for a confirmation and audits them), and a city
// account that could command every kiosk of a city is a target not worth offering.
var bridgedTopics = []string{"+/state", "+/status", "+/alert/+", "+/event", "+/reply"}

// bridgeConf is a hall broker's bridge to the city at port, as the account bridge-{hall}.
func bridgeConf(hall string, port int, pass string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
connection bridge-%[1]s
address 127.0.0.1:%[2]d
bridge_protocol_version mqttv311
remote_clientid bridge-%[1]s
remote_username bridge-%[1]s
remote_password %[3]s
# Clean remote session: at every reconnection the hall sends its retained states again, so a
# city broker that lost them (a crash, a new cluster node) is whole again at once.
cleansession true
# ...but the local subscription stays: what the kiosks publish while the city is away is
# queued in the hall broker and delivered at the reconnection.
local_cleansession false
keepalive_interval 5
restart_timeout 1 2
notifications true
notification_topic citizenhome/bridge/%[1]s
`, hall, port, pass)
	for _, t := range bridgedTopics {
		fmt.Fprintf(&b, "topic citizenhome/v1/%s/%s out 1\n", hall, t)
	}
	return b.String()
}

// startCity starts a city broker and one bridged hall broker per hall, each with kiosks k1, k2.
func startCity(t *testing.T, halls ...string) *city {
	t.Helper()
	c := &city{viewPass: mqtttest.RandomHex(12), halls: map[string]*mqtttest.Mosquitto{}}
	users := map[string]string{"city-view": c.viewPass}
	var acl strings.Builder
	// The city's reader sees every hall and the bridges' notices; nothing else.
	acl.WriteString("user city-view\ntopic read citizenhome/v1/#\ntopic read citizenhome/bridge/+\n")
	pass := map[string]string{}
	for _, h := range halls {
		pass[h] = mqtttest.RandomHex(12)
		users["bridge-"+h] = pass[h]
		// A hall's bridge writes its own hall's subtree only: a hall cannot speak for another.
		fmt.Fprintf(&acl, "\nuser bridge-%[1]s\ntopic write citizenhome/v1/%[1]s/#\ntopic write citizenhome/bridge/%[1]s\n", h)
	}
	c.broker = mqtttest.StartMosquittoWith(t, mqtttest.NewEnv("city", "probe"), mqtttest.BrokerOptions{Users: users, ACL: acl.String()})
	for _, h := range halls {
		c.halls[h] = mqtttest.StartMosquittoWith(t, mqtttest.NewEnv(h, "k1", "k2"),
			mqtttest.BrokerOptions{Conf: bridgeConf(h, c.broker.Port, pass[h])})
	}
	return c
}

// record subscribes on the city broker as the city's reader.
func (c *city) record(t *testing.T, o mqtttest.RecordOptions) *mqtttest.Recorder {
	o.Extra = append(o.Extra, "citizenhome/bridge/+")
	return mqtttest.Record(t, c.broker.Settings("city-view", c.viewPass, ""), "citizenhome/v1/#", o)
}

// birth publishes what a kiosk publishes at its start, retained, with the kiosk's own account
// on its hall's broker: state, status and its alerts.
func birth(t *testing.T, m *mqtttest.Mosquitto, kiosk, state string, alerts ...string) {
	t.Helper()
	cl := mqtttest.Connect(t, m.Kiosk(kiosk))
	k := wire.Kiosk{Hall: m.Hall, Kiosk: kiosk}
	now := time.Now().Round(time.Second)
	devs := map[string]wire.Device{"printer": {State: "ok", Since: now}, "id-reader": {State: "ok", Since: now}, "card-reader": {State: "ok", Since: now}}
	var seq int64
	pub := func(topic string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if tok := cl.Publish(topic, 1, true, b); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", topic, tok.Error())
		}
	}
	pub(k.Topic("state"), wire.State{State: state, Boot: 1, Since: now, Version: "1.0.0"})
	for _, code := range alerts {
		seq++
		var dev, st string
		for d := range devs {
			if strings.HasPrefix(code, d+"-") {
				dev, st = d, strings.TrimPrefix(code, d+"-")
			}
		}
		devs[dev] = wire.Device{State: st, Since: now}
		pub(k.Topic("alert", code), wire.Alert{Severity: "error", Device: dev, Code: code, Message: dev + ": " + st, Since: now, Boot: 1, Seq: seq})
	}
	seq++
	pub(k.Topic("status"), wire.Status{Boot: 1, Seq: seq, TS: now, Version: "1.0.0", State: state, Session: "idle",
		Devices: devs, Alerts: alerts})
	cl.Disconnect(50)
}

// cityView applies the retained messages of ms to a fleet view, as a city dashboard would.
func cityView(t *testing.T, ms []mqtttest.Msg) *fleet.View {
	t.Helper()
	v := fleet.NewView()
	for _, m := range ms {
		if !strings.HasPrefix(m.Topic, wire.Prefix+"/") {
			continue
		}
		if _, err := v.Apply(m.Topic, m.Payload, m.Retained); err != nil {
			t.Fatalf("city view: %s: %v", m.Topic, err)
		}
	}
	return v
}

func has(ms []mqtttest.Msg, topic string, retained bool, payload string) bool {
	return slices.ContainsFunc(ms, func(m mqtttest.Msg) bool {
		return m.Topic == topic && (!retained || m.Retained) && strings.Contains(string(m.Payload), payload)
	})
}

func TestBridgeCityView(t *testing.T) {
	c := startCity(t, "h1", "h2")
	early := c.record(t, mqtttest.RecordOptions{Durable: true, ClientID: "city-view-early"})
	birth(t, c.halls["h1"], "k1", "ready")
	birth(t, c.halls["h1"], "k2", "ready")
	birth(t, c.halls["h2"], "k1", "ready")
	birth(t, c.halls["h2"], "k2", "degraded", "printer-paper-out")
	kiosks := []string{"h1/k1", "h1/k2", "h2/k1", "h2/k2"}
	allIn := func(ms []mqtttest.Msg) bool {
		for _, k := range kiosks {
			if !has(ms, "citizenhome/v1/"+k+"/status", false, `"seq"`) {
				return false
			}
		}
		return has(ms, "citizenhome/v1/h2/k2/alert/printer-paper-out", false, "paper-out")
	}
	early.Wait(t, 10*time.Second, "every hall's kiosks at the city", allIn)

	// A subscriber that comes later gets the retained states from the city broker.
	late := c.record(t, mqtttest.RecordOptions{})
	ms := late.Wait(t, 10*time.Second, "the retained states at a late subscriber", func(ms []mqtttest.Msg) bool {
		for _, k := range kiosks {
			if !has(ms, "citizenhome/v1/"+k+"/state", true, `"state"`) || !has(ms, "citizenhome/v1/"+k+"/status", true, `"seq"`) {
				return false
			}
		}
		return has(ms, "citizenhome/v1/h2/k2/alert/printer-paper-out", true, "paper-out") &&
			has(ms, "citizenhome/bridge/h1", true, "1") && has(ms, "citizenhome/bridge/h2", true, "1")
	})
	v := cityView(t, ms)
	want := map[string]string{"h1/k1": "ready", "h1/k2": "ready", "h2/k1": "ready", "h2/k2": "degraded"}
	got := map[string]string{}
	for _, k := range v.Kiosks() {
		got[k.ID.String()] = k.State
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("city view %v, want %v", got, want)
	}
	if k, _ := v.Kiosk(wire.Kiosk{Hall: "h2", Kiosk: "k2"}); !slices.Equal(k.ActiveAlerts(), []string{"printer-paper-out"}) {
		t.Fatalf("h2/k2 alerts at the city: %v", k.ActiveAlerts())
	}

	// The city broker crashes. What the hall's kiosks publish meanwhile is queued by the hall
	// broker and reaches the city once the bridge is back.
	c.broker.Kill()
	h1 := c.halls["h1"]
	birth(t, h1, "k1", "degraded", "id-reader-offline")
	kc := mqtttest.Connect(t, h1.Kiosk("k2"))
	k2 := wire.Kiosk{Hall: "h1", Kiosk: "k2"}
	for i := 1; i <= 20; i++ {
		b, _ := json.Marshal(wire.Event{ID: fmt.Sprintf("outage-%d", i), Seq: int64(100 + i), Boot: 1, TS: time.Now(), Type: "ticket.issued", Data: json.RawMessage(`{}`)})
		if tok := kc.Publish(k2.Topic("event"), 1, false, b); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("event during the outage: %v", tok.Error())
		}
	}
	if err := c.broker.Restart(); err != nil {
		t.Fatal(err)
	}
	early.Wait(t, 20*time.Second, "the outage's events and state change after the reconnection", func(ms []mqtttest.Msg) bool {
		for i := 1; i <= 20; i++ {
			if !has(ms, k2.Topic("event"), false, fmt.Sprintf(`"outage-%d"`, i)) {
				return false
			}
		}
		return has(ms, "citizenhome/v1/h1/k1/state", false, "degraded") && has(ms, "citizenhome/v1/h1/k1/alert/id-reader-offline", false, "offline")
	})
	// Whatever the city's own persistence kept, every hall's state is there again: a bridge
	// sends its hall's retained states at each reconnection. (A subscriber that came before a
	// hall's bridge was back gets them live, without the retain flag: that is MQTT's rule.)
	after := c.record(t, mqtttest.RecordOptions{})
	ms = after.Wait(t, 10*time.Second, "every state after the city's restart", func(ms []mqtttest.Msg) bool {
		return has(ms, "citizenhome/v1/h1/k1/state", false, "degraded") && has(ms, "citizenhome/v1/h2/k2/state", false, "degraded") &&
			has(ms, "citizenhome/v1/h1/k2/state", false, "ready") && has(ms, "citizenhome/v1/h2/k1/state", false, "ready")
	})
	if n := len(cityView(t, ms).Kiosks()); n != 4 {
		t.Fatalf("city view after the restart: %d kiosks, want 4", n)
	}

	// A hall whose broker dies shows at the city: the bridge's will.
	c.halls["h2"].Kill()
	after.Wait(t, 20*time.Second, "h2's bridge down at the city", func(ms []mqtttest.Msg) bool {
		return has(ms, "citizenhome/bridge/h2", false, "0")
	})
}

// TestBridgeLatency measures one kiosk's events from its hall broker to a subscriber of the
// city broker, against a subscriber of the hall broker itself. Figures in docs/scale.md.
func TestBridgeLatency(t *testing.T) {
	const n = 1000
	c := startCity(t, "h1")
	h1 := c.halls["h1"]
	k1 := wire.Kiosk{Hall: "h1", Kiosk: "k1"}
	cityRec := c.record(t, mqtttest.RecordOptions{})
	hallRec := mqtttest.Record(t, h1.Staff(), k1.Topic("event"), mqtttest.RecordOptions{})
	// The bridge is up when its notice is at the city.
	cityRec.Wait(t, 10*time.Second, "the bridge", func(ms []mqtttest.Msg) bool { return has(ms, "citizenhome/bridge/h1", false, "1") })

	kc := mqtttest.Connect(t, h1.Kiosk("k1"))
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var toks []paho.Token
	tick := time.NewTicker(2 * time.Millisecond) // 500 events a second: a busy hall's whole fleet
	defer tick.Stop()
	for i := range n {
		<-tick.C
		id := fmt.Sprintf("lat-%04d", i)
		b, _ := json.Marshal(wire.Event{ID: id, Seq: int64(i + 1), Boot: 1, TS: time.Now(), Type: "bench", Data: json.RawMessage(`{}`)})
		mu.Lock()
		sent[id] = time.Now()
		mu.Unlock()
		toks = append(toks, kc.Publish(k1.Topic("event"), 1, false, b))
	}
	for _, tok := range toks {
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	lat := func(r *mqtttest.Recorder, where string) []time.Duration {
		ms := r.Wait(t, 20*time.Second, "every event "+where, func(ms []mqtttest.Msg) bool {
			k := 0
			for _, m := range ms {
				if m.Topic == k1.Topic("event") {
					k++
				}
			}
			return k >= n
		})
		var out []time.Duration
		seen := map[string]bool{}
		for _, m := range ms {
			var e wire.Event
			if m.Topic != k1.Topic("event") || json.Unmarshal(m.Payload, &e) != nil || seen[e.ID] {
				continue
			}
			seen[e.ID] = true
			out = append(out, m.At.Sub(sent[e.ID]))
		}
		if len(out) != n {
			t.Fatalf("%s: %d distinct events, want %d", where, len(out), n)
		}
		slices.Sort(out)
		return out
	}
	pct := func(d []time.Duration, p float64) time.Duration { return d[min(len(d)-1, int(float64(len(d))*p))] }
	hall, cityL := lat(hallRec, "at the hall"), lat(cityRec, "at the city")
	t.Logf("%d events at 500/s, QoS 1: hall broker p50 %v p99 %v max %v; through the bridge to the city p50 %v p99 %v max %v",
		n, pct(hall, 0.5), pct(hall, 0.99), hall[n-1], pct(cityL, 0.5), pct(cityL, 0.99), cityL[n-1])
	// The city view is for people: a second is plenty, and a bridge that takes longer on one
	// machine is broken, not slow.
	if p := pct(cityL, 0.99); p > time.Second {
		t.Fatalf("p99 hall to city %v, want under 1 s", p)
	}
}
