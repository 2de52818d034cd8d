package notify_test

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citizenhome/hall/fleet"
	"citizenhome/hall/history"
	"citizenhome/hall/ledger/ledgertest"
	"citizenhome/hall/notify"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// kiosk is a kiosk's MQTT session as the contract has it (will, birth, retained alerts), whose
// connection the test can cut as a kill -9 would.
type kiosk struct {
	t    *testing.T
	k    wire.Kiosk
	cl   paho.Client
	conn net.Conn
	boot int64
	seq  int64
	devs map[string]wire.Device
}

func startKiosk(t *testing.T, m *mqtttest.Mosquitto, id string, boot int64) *kiosk {
	t.Helper()
	k := &kiosk{t: t, k: wire.Kiosk{Hall: m.Hall, Kiosk: id}, boot: boot,
		devs: map[string]wire.Device{"printer": {State: "ok"}, "id-reader": {State: "ok"}, "card-reader": {State: "ok"}}}
	o, err := m.Kiosk(id).Options()
	if err != nil {
		t.Fatal(err)
	}
	will, _ := json.Marshal(wire.State{State: wire.StateLost, Boot: boot, Since: time.Now(), Version: "1.0.0"})
	o.SetWill(k.k.Topic("state"), string(will), 1, true)
	var mu sync.Mutex
	o.SetCustomOpenConnectionFn(func(u *url.URL, _ paho.ClientOptions) (net.Conn, error) {
		c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
		mu.Lock()
		k.conn = c
		mu.Unlock()
		return c, err
	})
	k.cl = paho.NewClient(o)
	if tok := k.cl.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("kiosk %s: connect: %v", id, tok.Error())
	}
	t.Cleanup(func() { k.cl.Disconnect(0) })
	k.pub("state", true, wire.State{State: wire.StateReady, Boot: boot, Since: time.Now(), Version: "1.0.0"})
	k.status()
	return k
}

func (k *kiosk) pub(kind string, retained bool, v any, code ...string) {
	k.t.Helper()
	var b []byte
	if v != nil {
		b, _ = json.Marshal(v)
	}
	if tok := k.cl.Publish(k.k.Topic(kind, code...), 1, retained, b); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		k.t.Fatalf("publish %s: %v", kind, tok.Error())
	}
}

func (k *kiosk) status() {
	k.seq++
	state, alerts := wire.StateReady, []string{}
	for name, d := range k.devs {
		if d.State != "ok" {
			state = wire.StateDegraded
			alerts = append(alerts, name+"-"+d.State)
		}
	}
	k.pub("status", true, wire.Status{Boot: k.boot, Seq: k.seq, TS: time.Now(), Version: "1.0.0", State: state,
		Session: wire.SessionIdle, Devices: k.devs, Alerts: alerts})
}

// fault raises (state != "ok") or clears a device's alert as the kiosk's agent does.
func (k *kiosk) fault(device, state string) {
	code := device + "-" + state
	if state == "ok" {
		code = device + "-" + k.devs[device].State
		k.devs[device] = wire.Device{State: "ok", Since: time.Now()}
		k.pub("alert", true, nil, code)
	} else {
		k.devs[device] = wire.Device{State: state, Since: time.Now()}
		k.seq++
		k.pub("alert", true, wire.Alert{Severity: wire.SeverityError, Device: device, Code: code,
			Message: device + ": " + state, Since: time.Now(), Boot: k.boot, Seq: k.seq}, code)
	}
	k.status()
}

// kill cuts the connection without a DISCONNECT: the broker publishes the will.
func (k *kiosk) kill() { k.conn.Close() }

// TestFromTheBroker follows real kiosks through a real Mosquitto, the fleet view and the
// history into the notifier: a printer out of paper and a kiosk killed each notify once when
// they start and once when they end.
func TestFromTheBroker(t *testing.T) {
	m := mqtttest.StartMosquitto(t, mqtttest.NewEnv("nt", "k1", "k2"))
	db := ledgertest.Open(t, history.Migrations, notify.Migrations)
	h, err := history.Open(db, history.Options{Location: cst})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() { h.Run(ctx) })
	v := fleet.NewView()
	f := fleet.Follow(m.Controller(), v, fleet.DialOptions{Hall: "nt", By: "halld", OnUpdate: func(u fleet.Update) {
		k, _ := v.Kiosk(u.Addr.Kiosk)
		h.Record(u, k)
	}})
	t.Cleanup(f.Close)
	r := newReceiver(t, "", &clock{})
	n, err := notify.New(db, h, notify.Options{Hall: "nt", NoDelay: true, OutsideHours: true, Poll: 20 * time.Millisecond,
		Channels: []notify.Channel{{Kind: notify.JSON, URL: r.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { n.Run(ctx) })

	// seen returns "event code" of each delivery.
	seen := func() []string {
		var out []string
		for _, q := range r.requests() {
			out = append(out, q.Body["event"].(string)+" "+q.Body["alert"].(map[string]any)["code"].(string))
		}
		return out
	}
	waitFor := func(what string, want ...string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := seen()
			if len(got) >= len(want) {
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("deliveries %q, want %q", got, want)
					}
				}
				if len(got) > len(want) {
					t.Fatalf("deliveries %q, want %q", got, want)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s: deliveries %q, want %q", what, got, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	k1 := startKiosk(t, m, "k1", 1)
	startKiosk(t, m, "k2", 1)
	k1.fault("printer", "paper-out")
	waitFor("paper out", "opened printer-paper-out")
	k1.fault("printer", "ok")
	waitFor("paper back", "opened printer-paper-out", "ended printer-paper-out")
	k1.kill()
	waitFor("k1 lost", "opened printer-paper-out", "ended printer-paper-out", "opened kiosk-lost")
	startKiosk(t, m, "k1", 2)
	waitFor("k1 back", "opened printer-paper-out", "ended printer-paper-out", "opened kiosk-lost", "ended kiosk-lost")

	// Every message is recorded as sent once; none is left to send again. The notifier marks a
	// message sent after the receiver answered, so the last mark may come a moment after the
	// receiver counted it.
	var sent, other int
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FILTER (WHERE state = 'sent'), COUNT(*) FILTER (WHERE state <> 'sent') FROM notify_delivery`).Scan(&sent, &other); err != nil {
			t.Fatal(err)
		}
		if sent == 4 && other == 0 {
			break
		}
		if sent > 4 || time.Now().After(deadline) {
			t.Fatalf("ledger: %d sent, %d other; want 4 and 0", sent, other)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, q := range r.requests() {
		if q.Body["kiosk"] != "k1" {
			t.Fatalf("a delivery for %v", q.Body["kiosk"])
		}
	}
}
