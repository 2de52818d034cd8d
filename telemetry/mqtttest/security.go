package mqtttest

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citizenhome/telemetry/link"
)

// SecuritySuite checks a broker against the contract's security rules: anonymous and wrong
// passwords refused; a kiosk account admitted only under its own client id (so it cannot take
// another kiosk's session over); a kiosk publishes only under its own root, never to any cmd, reads only
// its own cmd; a will outside its root is never published; staff send commands but cannot pose
// as a kiosk. e needs two kiosks. The same suite runs against Mosquitto and the embedded broker.
//
// A forbidden message is shown not delivered by a marker the same account publishes right
// after on an allowed topic: the marker arrives, the forbidden message did not before it.
func SecuritySuite(t *testing.T, e Env) {
	if len(e.Kiosks) < 2 {
		t.Fatal("SecuritySuite needs two kiosks")
	}
	a, b := e.Kiosks[0], e.Kiosks[1]
	rootA := "citizenhome/v1/" + e.Hall + "/" + a
	rootB := "citizenhome/v1/" + e.Hall + "/" + b
	hallAll := "citizenhome/v1/" + e.Hall + "/#" // what the staff account may read

	t.Run("anonymous refused", func(t *testing.T) {
		s := e.Settings("", "", "")
		if err := tryConnect(s); err == nil {
			t.Error("an anonymous client was admitted")
		}
	})
	t.Run("wrong password refused", func(t *testing.T) {
		if err := tryConnect(e.Settings(e.KioskUser(a), e.KioskPassword+"x", e.KioskUser(a))); err == nil {
			t.Error("a wrong password was admitted")
		}
		if err := tryConnect(e.Settings("nobody", e.KioskPassword, "")); err == nil {
			t.Error("an unknown user was admitted")
		}
	})

	t.Run("kiosk a's credentials with kiosk b's client id are refused and b stays connected", func(t *testing.T) {
		// b connected without automatic reconnection: a takeover would show as a lost
		// connection, not be hidden by a reconnect.
		bs := e.Kiosk(b)
		opts, err := bs.Options()
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var lost error
		got := make(chan string, 16)
		opts.SetAutoReconnect(false).SetConnectRetry(false).SetCleanSession(true).
			SetConnectionLostHandler(func(_ paho.Client, err error) { mu.Lock(); lost = err; mu.Unlock() }).
			SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
		bc := paho.NewClient(opts)
		if tok := bc.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("kiosk b connect: %v", tok.Error())
		}
		defer bc.Disconnect(50)
		if tok := bc.Subscribe(rootB+"/cmd", 1, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("kiosk b subscribe: %v", tok.Error())
		}
		for _, id := range []string{e.KioskUser(b), "test-" + RandomHex(4)} {
			if err := tryConnect(e.Settings(e.KioskUser(a), e.KioskPassword, id)); err == nil {
				t.Errorf("kiosk %s's credentials were admitted with client id %s", a, id)
			}
		}
		// b's session is whole: a command sent now reaches it on the same connection.
		cmd := "cmd-after-attempt-" + RandomHex(6)
		publish(t, e.Staff(), rootB+"/cmd", cmd)
		deadline := time.After(5 * time.Second)
		for arrived := false; !arrived; {
			select {
			case p := <-got:
				arrived = p == cmd
			case <-deadline:
				t.Fatal("kiosk b did not receive a command after the attempt")
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if lost != nil || !bc.IsConnectionOpen() {
			t.Errorf("kiosk b lost its connection: %v", lost)
		}
	})

	t.Run("no account can undo the binding through the broker's control topic", func(t *testing.T) {
		// Mosquitto's dynamic-security plugin takes commands on $CONTROL/dynamic-security/v1
		// from whoever the ACL lets write there: nobody. (The embedded broker has no such
		// topic; the publishes are refused all the same.)
		for _, s := range []link.Settings{e.Kiosk(a), e.Staff(), e.Controller()} {
			for _, k := range []string{a, b} {
				publishMaybe(t, s, "$CONTROL/dynamic-security/v1",
					`{"commands":[{"command":"deleteClient","username":"`+e.KioskUser(k)+`"},`+
						`{"command":"modifyClient","username":"`+e.KioskUser(k)+`","clientid":"`+e.KioskUser(b)+`"}]}`)
			}
		}
		// publishMaybe waited for each acknowledgement: Mosquitto has handled each command
		// (or dropped it) before it answers.
		if err := tryConnect(e.Settings(e.KioskUser(a), e.KioskPassword, e.KioskUser(b))); err == nil {
			t.Error("after commands on the control topic, kiosk a's credentials were admitted as kiosk b")
		}
	})

	// forbidden publishes from kiosk a, each followed by a marker on a's own event topic
	cases := []struct {
		name  string
		topic string
	}{
		{"another kiosk's state", rootB + "/state"},
		{"another kiosk's status", rootB + "/status"},
		{"another kiosk's event", rootB + "/event"},
		{"another kiosk's cmd", rootB + "/cmd"},
		{"its own cmd", rootA + "/cmd"},
		{"the controller's state", "citizenhome/v1/" + e.Hall + "/controller/state"},
		// the hall's numbering: only halld answers, and a kiosk takes only for itself
		{"another kiosk's take", rootB + "/ticket/take"},
		{"its own given", rootA + "/ticket/given"},
		{"another kiosk's given", rootB + "/ticket/given"},
		{"its own lease", rootA + "/lease"},
		{"another kiosk's lease", rootB + "/lease"},
		{"its own ack", rootA + "/ack"},
		{"the controller's queue", "citizenhome/v1/" + e.Hall + "/controller/queue"},
		// the kiosks' questions: a kiosk asks only for itself, and only halld answers
		{"another kiosk's ask", rootB + "/ask"},
		{"its own answer", rootA + "/answer"},
		{"another kiosk's answer", rootB + "/answer"},
	}
	for _, c := range cases {
		t.Run("kiosk cannot publish to "+c.name, func(t *testing.T) {
			rec := Record(t, e.Staff(), hallAll, RecordOptions{})
			recB := Record(t, e.Kiosk(b), rootB+"/cmd", RecordOptions{})
			forbidden := "forbidden-" + RandomHex(6)
			publishMaybe(t, e.Settings(e.KioskUser(a), e.KioskPassword, e.KioskUser(a)), c.topic, forbidden)
			marker := "marker-" + RandomHex(6)
			publish(t, e.Settings(e.KioskUser(a), e.KioskPassword, e.KioskUser(a)), rootA+"/event", marker)
			rec.Wait(t, 5*time.Second, "the marker", func(ms []Msg) bool { return find(ms, marker) })
			if find(rec.Messages(), forbidden) || find(recB.Messages(), forbidden) {
				t.Errorf("a kiosk published to %s", c.topic)
			}
		})
	}

	t.Run("kiosk reads only its own cmd", func(t *testing.T) {
		// One connection (a kiosk account has one client id), several subscriptions.
		spy := Record(t, e.Kiosk(a), "citizenhome/#", RecordOptions{Extra: []string{rootB + "/cmd", rootB + "/#", rootA + "/cmd",
			rootB + "/ticket/given", rootB + "/lease", rootB + "/ack", rootB + "/ticket/take"}})
		recB := Record(t, e.Kiosk(b), rootB+"/cmd", RecordOptions{})
		secret := "cmd-for-b-" + RandomHex(6)
		publish(t, e.Staff(), rootB+"/cmd", secret)
		recB.Wait(t, 5*time.Second, "b's command at b", func(ms []Msg) bool { return find(ms, secret) })
		// b's own status, which a must not read either, then a's own cmd, which it may.
		publish(t, e.Kiosk(b), rootB+"/status", "status-of-b-"+secret)
		mine := "cmd-for-a-" + RandomHex(6)
		publish(t, e.Staff(), rootA+"/cmd", mine)
		spy.Wait(t, 5*time.Second, "a's own command", func(ms []Msg) bool { return find(ms, mine) })
		if find(spy.Messages(), secret) {
			t.Error("kiosk a read kiosk b's messages")
		}
	})

	t.Run("kiosk reads only its own numbering answers", func(t *testing.T) {
		spy := Record(t, e.Kiosk(a), rootA+"/ticket/given", RecordOptions{Extra: []string{rootA + "/lease", rootA + "/ack",
			rootA + "/answer", rootB + "/ticket/given", rootB + "/lease", rootB + "/ack", rootB + "/answer",
			"citizenhome/v1/" + e.Hall + "/+/ticket/take", "citizenhome/v1/" + e.Hall + "/+/ask"}})
		recB := Record(t, e.Kiosk(b), rootB+"/lease", RecordOptions{})
		secret := "for-b-" + RandomHex(6)
		for _, kind := range []string{"/ticket/given", "/ack", "/answer"} {
			publish(t, e.Controller(), rootB+kind, secret)
		}
		publish(t, e.Controller(), rootB+"/lease", secret)
		recB.Wait(t, 5*time.Second, "b's lease at b", func(ms []Msg) bool { return find(ms, secret) })
		publish(t, e.Kiosk(b), rootB+"/ticket/take", "take-of-b-"+secret)
		publish(t, e.Kiosk(b), rootB+"/ask", "ask-of-b-"+secret)
		mine := "for-a-" + RandomHex(6)
		publish(t, e.Controller(), rootA+"/ack", mine)
		spy.Wait(t, 5*time.Second, "a's own ack", func(ms []Msg) bool { return find(ms, mine) })
		if find(spy.Messages(), secret) {
			t.Error("kiosk a read kiosk b's numbering messages")
		}
	})

	t.Run("a will outside the kiosk's root is not published", func(t *testing.T) {
		rec := Record(t, e.Staff(), hallAll, RecordOptions{})
		will := "will-" + RandomHex(6)
		s := e.Settings(e.KioskUser(a), e.KioskPassword, e.KioskUser(a))
		opts, err := s.Options()
		if err != nil {
			t.Fatal(err)
		}
		opts.SetWill(rootB+"/state", `{"state":"lost","`+will+`":1}`, 1, true)
		var conn net.Conn
		opts.SetCustomOpenConnectionFn(func(u *url.URL, _ paho.ClientOptions) (net.Conn, error) {
			c, err := net.Dial("tcp", u.Host)
			conn = c
			return c, err
		})
		c := paho.NewClient(opts)
		if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("connect: %v", tok.Error())
		}
		conn.Close() // vanish without DISCONNECT: the broker would publish the will
		c.Disconnect(0)
		// Markers from kiosk b: reconnecting as a would take a's session over, which drops a
		// will for another reason. The broker publishes a will when it notices the loss; two
		// marker round trips give it the time.
		marker := "after-will-" + RandomHex(6)
		publish(t, e.Kiosk(b), rootB+"/event", marker)
		rec.Wait(t, 5*time.Second, "the marker", func(ms []Msg) bool { return find(ms, marker) })
		marker2 := "after-will-2-" + RandomHex(6)
		publish(t, e.Kiosk(b), rootB+"/event", marker2)
		rec.Wait(t, 5*time.Second, "the second marker", func(ms []Msg) bool { return find(ms, marker2) })
		if find(rec.Messages(), will) {
			t.Error("the broker published a will on another kiosk's topic")
		}
	})

	t.Run("staff send commands but cannot pose as a kiosk", func(t *testing.T) {
		rec := Record(t, e.Staff(), hallAll, RecordOptions{})
		recB := Record(t, e.Kiosk(b), rootB+"/cmd", RecordOptions{})
		forged := "forged-" + RandomHex(6)
		publishMaybe(t, e.Staff(), rootB+"/state", forged)
		cmd := "cmd-" + RandomHex(6)
		publish(t, e.Staff(), rootB+"/cmd", cmd)
		recB.Wait(t, 5*time.Second, "the command", func(ms []Msg) bool { return find(ms, cmd) })
		marker := "marker-" + RandomHex(6)
		publish(t, e.Kiosk(a), rootA+"/event", marker)
		rec.Wait(t, 5*time.Second, "the marker", func(ms []Msg) bool { return find(ms, marker) })
		if find(rec.Messages(), forged) {
			t.Error("a staff account published a kiosk's state")
		}
	})
}

func find(ms []Msg, s string) bool {
	for _, m := range ms {
		if bytes.Contains(m.Payload, []byte(s)) {
			return true
		}
	}
	return false
}

func tryConnect(s link.Settings) error {
	opts, err := s.Options()
	if err != nil {
		return err
	}
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(5 * time.Second) {
		return context.DeadlineExceeded
	}
	if tok.Error() == nil {
		c.Disconnect(0)
	}
	return tok.Error()
}

// Connect connects with s or fails the test; the client is disconnected at its end.
func Connect(t testing.TB, s link.Settings) paho.Client {
	t.Helper()
	c := connect(t, s)
	t.Cleanup(func() { c.Disconnect(50) })
	return c
}

func connect(t testing.TB, s link.Settings) paho.Client {
	t.Helper()
	opts, err := s.Options()
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", s.Username, tok.Error())
	}
	return c
}

// publish publishes and waits for the broker's acknowledgement.
func publish(t *testing.T, s link.Settings, topic, payload string) {
	t.Helper()
	if s.ClientID == "" || s.ClientID == s.Username {
		s.ClientID = s.Username
	}
	c := connect(t, s)
	defer c.Disconnect(50)
	if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// publishMaybe publishes a message the broker may refuse: Mosquitto acknowledges and drops it,
// mochi disconnects the client. Either is fine; delivery is what is checked.
func publishMaybe(t *testing.T, s link.Settings, topic, payload string) {
	t.Helper()
	c := connect(t, s)
	defer c.Disconnect(50)
	c.Publish(topic, 1, false, payload).WaitTimeout(2 * time.Second)
}
