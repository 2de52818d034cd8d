package broker_test

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citizenhome/telemetry/broker"
	"citizenhome/telemetry/mqtttest"
)

// startLimited runs the embedded broker as startEmbedded does, with limits.
func startLimited(t *testing.T, e mqtttest.Env, limits func(*broker.Config)) mqtttest.Env {
	t.Helper()
	passwd, acl, err := mqtttest.WriteBrokerFiles(t.TempDir(), e)
	if err != nil {
		mqtttest.Missing(t, err.Error())
	}
	c := broker.Config{Listen: "127.0.0.1:0", PasswordFile: passwd, ACLFile: acl}
	limits(&c)
	b, err := broker.Start(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	e.URL = b.URL()
	return e
}

// A packet over the maximum ends its sender's connection and reaches nobody; one under it is
// delivered. The default maximum is the one tested.
func TestEmbeddedPacketTooLarge(t *testing.T) {
	_, env := startEmbedded(t, mqtttest.NewEnv("emb", "k1"))
	topic := "citizenhome/v1/emb/k1/event"
	rec := mqtttest.Record(t, env.Staff(), topic, mqtttest.RecordOptions{})
	lost := make(chan error, 1)
	opts, _ := env.Kiosk("k1").Options()
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) { lost <- err })
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(0)
	fits := strings.Repeat("a", broker.DefaultMaxPacketSize-len(topic)-64)
	if tok := c.Publish(topic, 1, false, fits); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("a packet under the maximum: %v", tok.Error())
	}
	rec.Wait(t, 5*time.Second, "the packet under the maximum", func(ms []mqtttest.Msg) bool { return len(ms) == 1 })
	c.Publish(topic, 1, false, strings.Repeat("b", broker.DefaultMaxPacketSize))
	select {
	case <-lost:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection that sent a packet over the maximum is still open")
	}
	for _, m := range rec.Messages() {
		if strings.HasPrefix(string(m.Payload), "b") {
			t.Fatal("the packet over the maximum was delivered")
		}
	}
	if n := len(rec.Messages()); n != 1 {
		t.Errorf("%d messages delivered, want the one under the maximum", n)
	}
}

// Past MaxClients a client is refused at CONNECT; when one leaves, the next gets in.
func TestEmbeddedClientCap(t *testing.T) {
	env := startLimited(t, mqtttest.NewEnv("emb", "k1"), func(c *broker.Config) { c.MaxClients = 3 })
	connect := func(id string) (paho.Client, error) {
		s := env.Staff()
		s.ClientID = id
		opts, _ := s.Options()
		c := paho.NewClient(opts)
		tok := c.Connect()
		if !tok.WaitTimeout(5 * time.Second) {
			return nil, errors.New("no CONNACK")
		}
		return c, tok.Error()
	}
	var in []paho.Client
	for _, id := range []string{"staff-1", "staff-2", "staff-3"} {
		c, err := connect(id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		defer c.Disconnect(0)
		in = append(in, c)
	}
	c, err := connect("staff-4")
	if err == nil {
		c.Disconnect(0)
		t.Fatal("a fourth client connected to a broker of three")
	}
	if !strings.Contains(strings.ToLower(err.Error()), "unavailable") {
		t.Errorf("the fourth client's refusal: %v", err)
	}
	in[0].Disconnect(100)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := connect("staff-5")
		if err == nil {
			c.Disconnect(0)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no client got in after one left: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A connection that never sends its CONNECT is closed after ConnectTimeout.
func TestEmbeddedConnectTimeout(t *testing.T) {
	env := startLimited(t, mqtttest.NewEnv("emb", "k1"), func(c *broker.Config) { c.ConnectTimeout = 300 * time.Millisecond })
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.URL, "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("a connection without CONNECT still open after 5 s")
	}
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Errorf("closed after %v", took)
	}
}
