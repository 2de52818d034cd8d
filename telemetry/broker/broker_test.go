package broker_test

import (
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citizenhome/telemetry/broker"
	"citizenhome/telemetry/mqtttest"
)

// startEmbedded runs the embedded broker with the same password file and ACL as the Mosquitto
// tests (mosquitto_passwd, packaging/mosquitto/citizenhome-acl).
func startEmbedded(t *testing.T, e mqtttest.Env) (*broker.Broker, mqtttest.Env) {
	t.Helper()
	passwd, acl, err := mqtttest.WriteBrokerFiles(t.TempDir(), e)
	if err != nil {
		mqtttest.Missing(t, err.Error())
	}
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", PasswordFile: passwd, ACLFile: acl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	e.URL = b.URL()
	return b, e
}

func TestSecurityMosquitto(t *testing.T) {
	env := mqtttest.Shared(t)
	// This package's kiosk ids on the shared broker: k40-k49.
	env.Kiosks = []string{"k40", "k41"}
	mqtttest.SecuritySuite(t, env)
}

// The shipped configuration (packaging/mosquitto/citizenhome.conf, its identity binding
// included) on a private Mosquitto: the shared broker's configuration is scripts/testenv.sh's.
func TestSecurityMosquittoShipped(t *testing.T) {
	m := mqtttest.StartMosquitto(t, mqtttest.NewEnv("shipped", "k1", "k2"))
	mqtttest.SecuritySuite(t, m.Env)
}

func TestSecurityEmbedded(t *testing.T) {
	_, env := startEmbedded(t, mqtttest.NewEnv("emb", "k1", "k2"))
	mqtttest.SecuritySuite(t, env)
}

// A kiosk account connects with its own client id only, so that one kiosk's credentials cannot
// take another kiosk's session over (the suite checks Mosquitto and this broker alike).
func TestEmbeddedKioskClientID(t *testing.T) {
	_, env := startEmbedded(t, mqtttest.NewEnv("emb", "k1", "k2"))
	s := env.Kiosk("k1")
	s.ClientID = env.KioskUser("k2")
	opts, _ := s.Options()
	c := paho.NewClient(opts)
	if tok := c.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
		c.Disconnect(0)
		t.Error("kiosk k1's account connected as kiosk k2")
	}
	s.ClientID = env.KioskUser("k1")
	opts, _ = s.Options()
	c = paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("kiosk k1 with its own client id: %v", tok.Error())
	}
	c.Disconnect(0)
}

// Accounts given in code (the kiosk's own, the demo's) work with the contract's rules.
func TestEmbeddedAccounts(t *testing.T) {
	e := mqtttest.NewEnv("demo", "k1", "k2")
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", Accounts: []broker.Account{
		{Username: e.KioskUser("k1"), Password: e.KioskPassword, Rules: broker.KioskRules("demo", "k1")},
		{Username: e.KioskUser("k2"), Password: e.KioskPassword, Rules: broker.KioskRules("demo", "k2")},
		{Username: e.StaffUser, Password: e.StaffPassword, Rules: broker.StaffRules("demo")},
		{Username: e.ControllerUser, Password: e.ControllerPassword, Rules: broker.ControllerRules("demo")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	e.URL = b.URL()
	mqtttest.SecuritySuite(t, e)
}

func TestEmbeddedLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:1883", ":1883"} {
		if _, err := broker.Start(broker.Config{Listen: addr}); !errors.Is(err, broker.ErrNotLoopback) {
			t.Errorf("Start(%q) = %v, want ErrNotLoopback", addr, err)
		}
	}
}

// The Go rules (accounts given in code) are the shell generator's, rule for rule.
func TestRulesMatchGenerator(t *testing.T) {
	gen := filepath.Join(mqtttest.RepoRoot(), "packaging", "mosquitto", "citizenhome-acl")
	out, err := exec.Command(gen, "-c", "ctl", "-s", "ops", "h1", "k01").Output()
	if err != nil {
		t.Fatal(err)
	}
	acl, err := broker.ParseACL(out)
	if err != nil {
		t.Fatal(err)
	}
	key := func(rs []broker.Rule) []string {
		var s []string
		for _, r := range rs {
			s = append(s, strings.Join([]string{string(rune('0' + r.Access)), r.Topic}, " "))
		}
		slices.Sort(s)
		return s
	}
	for user, want := range map[string][]broker.Rule{
		"kiosk-h1-k01": broker.KioskRules("h1", "k01"), "ops": broker.StaffRules("h1"), "ctl": broker.ControllerRules("h1"),
	} {
		if g, w := key(acl.Users[user]), key(want); !slices.Equal(g, w) {
			t.Errorf("%s: generator %v, Go %v", user, g, w)
		}
	}
	if _, err := exec.Command(gen, "h1", "controller").Output(); err == nil {
		t.Error("the generator accepted a kiosk called controller")
	}
	if _, err := exec.Command(gen, "H1", "k01").Output(); err == nil {
		t.Error("the generator accepted a bad hall id")
	}
}

// The example ACL shipped in packaging is what the generator writes.
func TestACLExampleUpToDate(t *testing.T) {
	dir := filepath.Join(mqtttest.RepoRoot(), "packaging", "mosquitto")
	want, err := exec.Command(filepath.Join(dir, "citizenhome-acl"), "-c", "ctl-kf", "-s", "ops-kf", "kf", "k01", "k02").Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "citizenhome.acl.example"))
	if err != nil {
		t.Fatal(err)
	}
	// The first line (the generator's comment) is replaced by the instructions.
	cut := func(b []byte) string { s := string(b); return s[strings.Index(s, "\n# The hall controller"):] }
	if cut(got) != cut(want) {
		t.Errorf("citizenhome.acl.example differs from citizenhome-acl's output:\n%s", want)
	}
	if _, err := broker.ParseACL(got); err != nil {
		t.Error(err)
	}
}

// A kiosk that reconnects (same client id) while the broker still holds its old connection:
// the old connection's will must not be published after the new birth. A kiosk that just
// vanishes still gets its will published.
func TestEmbeddedTakeoverDropsWill(t *testing.T) {
	_, env := startEmbedded(t, mqtttest.NewEnv("emb", "k1", "k2"))
	root := "citizenhome/v1/emb/k1"
	rec := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	withWill := func(boot string) (paho.Client, *net.Conn) {
		opts, _ := env.Kiosk("k1").Options()
		opts.SetWill(root+"/state", `{"state":"lost","boot":`+boot+`}`, 1, true)
		var conn net.Conn
		opts.SetCustomOpenConnectionFn(func(u *url.URL, _ paho.ClientOptions) (net.Conn, error) {
			c, err := net.Dial("tcp", u.Host)
			conn = c
			return c, err
		})
		c := paho.NewClient(opts)
		if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		return c, &conn
	}
	withWill("1")
	c2, conn2 := withWill("2") // takes the session over
	for i, marker := range []string{`{"marker":1}`, `{"marker":2}`} {
		if tok := c2.Publish(root+"/event", 1, false, marker); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		rec.Wait(t, 5*time.Second, "marker", func(ms []mqtttest.Msg) bool { return len(ms) > i })
	}
	for _, m := range rec.Messages() {
		if strings.Contains(string(m.Payload), `"boot":1`) {
			t.Errorf("the taken-over connection's will was published: %s", m.Payload)
		}
	}
	(*conn2).Close() // vanishes without DISCONNECT: its will goes out
	rec.Wait(t, 5*time.Second, "the live connection's will", func(ms []mqtttest.Msg) bool {
		for _, m := range ms {
			if strings.Contains(string(m.Payload), `"boot":2`) {
				return true
			}
		}
		return false
	})
}

// A kiosk that reconnects at once with its own client id (a quick restart, a reconnect after a
// refused publish) keeps what it subscribes to on the new connection. mochi tears the old
// connection down after it has read its end, deleting the client id's subscriptions and entry;
// done after the new connection registered, that deleted the new one's, which then silently
// received nothing.
func TestEmbeddedQuickReconnectKeepsSubscriptions(t *testing.T) {
	_, env := startEmbedded(t, mqtttest.NewEnv("emb", "k1", "k2"))
	cmd := "citizenhome/v1/emb/k1/cmd"
	staff := mqtttest.Connect(t, env.Staff())
	for i := range 60 {
		opts, _ := env.Kiosk("k1").Options()
		old := paho.NewClient(opts)
		if tok := old.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		switch i % 3 {
		case 0:
			old.Disconnect(0) // sends DISCONNECT and returns: the broker tears down after
		case 1:
			// A publish the kiosk may not make: mochi ends the connection.
			old.Publish("citizenhome/v1/emb/k2/cmd", 1, false, "x").WaitTimeout(100 * time.Millisecond)
		case 2:
			// Still connected: the new connection takes the session over.
			defer old.Disconnect(0)
		}
		got := make(chan string, 4)
		opts, _ = env.Kiosk("k1").Options()
		c := paho.NewClient(opts)
		if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		if tok := c.Subscribe(cmd, 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		want := "cmd-" + mqtttest.RandomHex(4)
		if tok := staff.Publish(cmd, 1, false, want); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		select {
		case m := <-got:
			if m != want {
				t.Fatalf("round %d: got %q, want %q", i, m, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: the reconnected kiosk received nothing on its cmd topic", i)
		}
		c.Disconnect(0)
	}
}

// The example binding file shipped in packaging is what the generator writes, and binds every
// kiosk account to its own client id and nothing else.
func TestBindExampleUpToDate(t *testing.T) {
	dir := filepath.Join(mqtttest.RepoRoot(), "packaging", "mosquitto")
	want, err := exec.Command(filepath.Join(dir, "citizenhome-acl"), "-b", "kf", "k01", "k02").Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "citizenhome.bind.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("citizenhome.bind.example.json differs from citizenhome-acl -b's output:\n%s", want)
	}
	var f struct {
		DefaultACLAccess map[string]bool
		Clients          []struct{ Username, ClientID string }
		Roles            []any
	}
	if err := json.Unmarshal(got, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.DefaultACLAccess) != 4 || len(f.Roles) != 0 || len(f.Clients) != 2 {
		t.Errorf("the plugin must grant nothing and bind the two kiosks: %s", got)
	}
	for k, v := range f.DefaultACLAccess {
		if v {
			t.Errorf("defaultACLAccess.%s is true: the plugin would grant what the ACL denies", k)
		}
	}
	for _, c := range f.Clients {
		if c.Username != c.ClientID || !strings.HasPrefix(c.Username, "kiosk-kf-") {
			t.Errorf("client %+v not bound to its own client id", c)
		}
	}
}
