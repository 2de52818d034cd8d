// Package broker is the MQTT broker a one-machine hall runs inside the kiosk process
// (mqtt.embedded = true, and the demo): github.com/mochi-mqtt/server/v2 with the telemetry
// contract's security, reading the same password file and ACL as the Mosquitto of a larger hall
// (packaging/mosquitto).
//
// mochi's defaults would be unsafe here, and each is closed:
//   - its ACL check allows when no hook says otherwise: here every topic not granted by a rule
//     is denied (the ACL ends with deny-all, as Mosquitto's acl_file does);
//   - it does not check a will's topic against the ACL, so a client could have the broker
//     publish anywhere when it vanishes: a will the client may not publish itself is removed
//     at CONNECT;
//   - its example configuration admits every client: here anonymous clients are refused, and a
//     kiosk account may connect only with its own client id (kiosk-{hall}-{kiosk}), so one
//     kiosk's credentials cannot take over another kiosk's session;
//   - on a session takeover it publishes the old connection's will after the new session may
//     already have published its birth, leaving a stale "lost" retained: the old will is
//     dropped when the same client id connects again;
//   - it takes packets of any size (up to MQTT's 256 MiB) and any number of clients, and waits
//     for ever for a connection's CONNECT: here a packet over MaxPacketSize ends its connection,
//     a client past MaxClients is refused (CONNACK "server unavailable"), a connection has
//     ConnectTimeout to send its CONNECT, and at most twice MaxClients connections are open
//     (Config).
//
// It listens on loopback only: halls whose controller is on another machine use an external
// broker with TLS.
package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
	"golang.org/x/net/netutil"
)

// Account is an account given in code (the kiosk's own, the demo's hall account) rather than
// in the password file; Rules are its ACL.
type Account struct {
	Username string
	Password string
	Rules    []Rule
}

// Config configures the broker.
type Config struct {
	// Listen is a loopback host:port ("127.0.0.1:1883"; port 0 picks a free one).
	Listen string
	// PasswordFile and ACLFile are a Mosquitto password_file and acl_file; either may be empty.
	PasswordFile string
	ACLFile      string
	// Accounts are added to (and take precedence over) the password file's.
	Accounts []Account
	Log      *slog.Logger
	// MaxPacketSize is the largest MQTT packet accepted, in bytes (0: DefaultMaxPacketSize); a
	// larger one ends its connection before it is read.
	MaxPacketSize int
	// MaxClients is how many clients may be connected at once (0: DefaultMaxClients); the next
	// is refused with CONNACK "server unavailable" until one leaves. Clients that have not
	// authenticated do not count: they hold a connection (twice MaxClients at most, the next
	// waits) for ConnectTimeout at most.
	MaxClients int
	// ConnectTimeout is how long a new connection may take to send its CONNECT (0:
	// DefaultConnectTimeout): one that sends nothing is closed then, not held for ever.
	ConnectTimeout time.Duration
}

// Defaults of Config's limits. The contract's largest payload is a command's 64 KiB
// (wire.MaxPayloadLen), so 256 KiB leaves room for the topic and every MQTT 5 property while
// keeping a flood's memory in hand; a one-machine hall has a few kiosks, halld, and the staff's
// tools, far below 256 clients.
const (
	DefaultMaxPacketSize = 256 << 10
	DefaultMaxClients    = 256
)

// DefaultConnectTimeout is Config.ConnectTimeout's default, as long as a kiosk's own connect
// timeout (link.Settings).
const DefaultConnectTimeout = 10 * time.Second

// Broker is a running embedded broker.
type Broker struct {
	srv  *mqtt.Server
	addr string
	// closed counts the connections closed; Close reads it first (see Close).
	closed *atomic.Int64
}

// ErrNotLoopback is returned by Start for a listen address that is not on loopback.
var ErrNotLoopback = errors.New("broker: the embedded broker listens on loopback only; use an external broker with TLS for other hosts")

// Start starts the broker and returns once it listens.
func Start(c Config) (*Broker, error) {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return nil, fmt.Errorf("broker: listen address %q: %w", c.Listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, ErrNotLoopback
	}
	h := &auth{acl: &ACL{Users: map[string][]Rule{}}, pw: Passwords{}, plain: map[string]string{}}
	if c.PasswordFile != "" {
		b, err := readFile(c.PasswordFile)
		if err != nil {
			return nil, err
		}
		if h.pw, err = ParsePasswords(b); err != nil {
			return nil, fmt.Errorf("broker: %s: %w", c.PasswordFile, err)
		}
	}
	if c.ACLFile != "" {
		b, err := readFile(c.ACLFile)
		if err != nil {
			return nil, err
		}
		if h.acl, err = ParseACL(b); err != nil {
			return nil, fmt.Errorf("broker: %s: %w", c.ACLFile, err)
		}
	}
	for _, a := range c.Accounts {
		if a.Username == "" || a.Password == "" {
			return nil, errors.New("broker: an account needs a username and a password")
		}
		h.plain[a.Username] = a.Password
		h.acl.Users[a.Username] = a.Rules
	}
	log := c.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	// mochi logs every connection at Info: keep warnings and errors only.
	log = slog.New(minLevel{slog.LevelWarn, log.Handler()}).With("component", "broker")
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = uint32(DefaultMaxPacketSize)
	if c.MaxPacketSize > 0 {
		caps.MaximumPacketSize = uint32(c.MaxPacketSize)
	}
	maxClients := DefaultMaxClients
	if c.MaxClients > 0 {
		maxClients = c.MaxClients
	}
	caps.MaximumClients = int64(maxClients)
	srv := mqtt.New(&mqtt.Options{InlineClient: false, Logger: log, Capabilities: caps})
	h.srv = srv
	if err := srv.AddHook(h, nil); err != nil {
		return nil, err
	}
	// The listener binds here, so that Start can report a busy port and the port 0 picked.
	tcp, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return nil, fmt.Errorf("broker: listen on %s: %w", c.Listen, err)
	}
	ct := DefaultConnectTimeout
	if c.ConnectTimeout > 0 {
		ct = c.ConnectTimeout
	}
	closed := new(atomic.Int64)
	ln := listeners.NewNet("tcp", netutil.LimitListener(connectDeadline{tcp, ct, closed}, 2*maxClients))
	if err := srv.AddListener(ln); err != nil {
		_ = tcp.Close()
		return nil, fmt.Errorf("broker: listen on %s: %w", c.Listen, err)
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return nil, err
	}
	return &Broker{srv: srv, addr: ln.Address(), closed: closed}, nil
}

// connectDeadline gives each connection timeout for its CONNECT; mochi replaces the deadline
// with the client's keep-alive once the CONNECT is read.
type connectDeadline struct {
	net.Listener
	timeout time.Duration
	closed  *atomic.Int64
}

func (l connectDeadline) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(l.timeout))
	return &countedConn{Conn: c, closed: l.closed}, nil
}

// countedConn counts its Close in closed, once.
type countedConn struct {
	net.Conn
	closed *atomic.Int64
	once   sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.closed.Add(1) })
	return c.Conn.Close()
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("broker: %s: %w", path, err)
	}
	return b, nil
}

// Addr is the address it listens on (with the port picked for port 0).
func (b *Broker) Addr() string { return b.addr }

// URL is "tcp://" + Addr.
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Close stops the broker, disconnecting every client.
func (b *Broker) Close() error {
	// mochi's Close writes what a connection's goroutine read when it was accepted, with nothing
	// ordering the two when that connection has ended (one that never sent CONNECT, say): the
	// race detector says so. Reading the count its Close added orders them.
	_ = b.closed.Load()
	return b.srv.Close()
}

// auth is the mochi hook: authentication, the ACL, wills.
type auth struct {
	mqtt.HookBase
	srv   *mqtt.Server
	acl   *ACL
	pw    Passwords
	plain map[string]string
	// takenOver holds the *mqtt.Client connections being replaced by their own client id.
	takenOver sync.Map
}

func (h *auth) ID() string { return "citizenhome-auth" }

func (h *auth) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnSessionEstablish,
		mqtt.OnWill, mqtt.OnDisconnect}, []byte{b})
}

func (h *auth) checkPassword(user, pass string) bool {
	if p, ok := h.plain[user]; ok {
		return len(p) == len(pass) && p == pass
	}
	return h.pw.Check(user, pass)
}

// OnConnectAuthenticate refuses anonymous clients and wrong passwords, a kiosk account on a
// client id other than its own, and removes a will the client could not publish itself.
func (h *auth) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	user := string(cl.Properties.Username)
	if user == "" || !h.checkPassword(user, string(pk.Connect.Password)) {
		return false
	}
	if strings.HasPrefix(user, "kiosk-") && cl.ID != user {
		return false
	}
	if atomic.LoadUint32(&cl.Properties.Will.Flag) == 1 && !h.acl.Allowed(user, cl.ID, cl.Properties.Will.TopicName, true) {
		h.Log.Warn("will on a topic the client may not publish to: removed", "client", cl.ID, "topic", cl.Properties.Will.TopicName)
		cl.Properties.Will = mqtt.Will{}
	}
	return true
}

// OnACLCheck denies everything no rule grants.
func (h *auth) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	return h.acl.Allowed(string(cl.Properties.Username), cl.ID, topic, write)
}

// OnSessionEstablish marks a connection about to be taken over by the same client id (it runs
// before mochi disconnects the old one): the client is evidently alive, and the old will would
// land after its new birth. OnWill then drops that will.
//
// It also ends the old connection itself and waits for mochi to finish tearing it down. mochi
// removes an ending clean session by its client id (subscriptions and registry entry), not by
// connection: when that teardown ran after the new connection registered, it removed the new
// one's, and the kiosk then received nothing, its commands included, until it reconnected.
func (h *auth) OnSessionEstablish(cl *mqtt.Client, pk packets.Packet) {
	old, ok := h.srv.Clients.Get(cl.ID)
	if !ok || old == cl {
		return
	}
	h.takenOver.Store(old, true)
	if !endsWithConnection(old) {
		return // a persistent session: mochi hands it over and never removes it on its own
	}
	if !old.Closed() {
		_ = h.srv.DisconnectClient(old, packets.ErrSessionTakenOver)
	}
	deadline := time.Now().Add(teardownWait)
	for {
		cur, ok := h.srv.Clients.Get(cl.ID)
		if !ok || cur != old {
			return
		}
		if time.Now().After(deadline) {
			// mochi's own takeover follows, as it would have without this wait.
			h.Log.Warn("old connection of a client id not torn down in time", "client", cl.ID)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// teardownWait bounds how long a connection waits for its client id's old connection to end:
// the teardown is a few map operations, so only a stalled broker reaches it.
const teardownWait = 2 * time.Second

// endsWithConnection reports whether mochi drops cl's session when its connection ends (a
// clean session; MQTT 5: no session expiry), as it decides in attachClient.
func endsWithConnection(cl *mqtt.Client) bool {
	if cl.Properties.ProtocolVersion == 5 {
		return cl.Properties.Props.SessionExpiryInterval == 0
	}
	return cl.Properties.Clean
}

// droppedWill is where a dropped will goes: no client may subscribe to a $ topic here, and it is
// not retained. (mochi publishes whatever OnWill returns; it cannot be cancelled.)
var droppedWill = mqtt.Will{TopicName: "$citizenhome/dropped-will"}

// OnWill drops the will of a connection taken over by its own client id.
func (h *auth) OnWill(cl *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	if _, ok := h.takenOver.LoadAndDelete(cl); ok {
		return droppedWill, nil
	}
	return will, nil
}

// OnDisconnect forgets a taken-over connection that had no will to drop.
func (h *auth) OnDisconnect(cl *mqtt.Client, err error, expire bool) { h.takenOver.Delete(cl) }

// KioskRules are the contract's rules for a kiosk account (as packaging/mosquitto/citizenhome-acl
// writes them): publish under its own root, read its own cmd and the controller's state; and,
// for the hall's numbering, publish its own ticket/take and read its own ticket/given, lease and
// ack and the controller's queue; for its questions, publish its own ask and read its own answer.
func KioskRules(hall, kiosk string) []Rule {
	root := "citizenhome/v1/" + hall + "/" + kiosk + "/"
	ctl := "citizenhome/v1/" + hall + "/controller/"
	return []Rule{
		{Access: Write, Topic: root + "state"}, {Access: Write, Topic: root + "status"},
		{Access: Write, Topic: root + "alert/+"}, {Access: Write, Topic: root + "event"},
		{Access: Write, Topic: root + "reply"}, {Access: Write, Topic: root + "ticket/take"},
		{Access: Write, Topic: root + "ask"},
		{Access: Read, Topic: root + "cmd"}, {Access: Read, Topic: root + "ticket/given"},
		{Access: Read, Topic: root + "lease"}, {Access: Read, Topic: root + "ack"},
		{Access: Read, Topic: root + "answer"},
		{Access: Read, Topic: ctl + "state"}, {Access: Read, Topic: ctl + "queue"},
	}
}

// StaffRules are a staff account's: read the hall, send commands.
func StaffRules(hall string) []Rule {
	return []Rule{
		{Access: Read, Topic: "citizenhome/v1/" + hall + "/#"},
		{Access: Write, Topic: "citizenhome/v1/" + hall + "/+/cmd"},
	}
}

// ControllerRules are the hall controller's: staff's, its own state and queue, and the answers
// of the numbering and the questions to every kiosk (given numbers, leases, acks, answers).
func ControllerRules(hall string) []Rule {
	h := "citizenhome/v1/" + hall + "/"
	return append(StaffRules(hall),
		Rule{Access: Write, Topic: h + "controller/state"}, Rule{Access: Write, Topic: h + "controller/queue"},
		Rule{Access: Write, Topic: h + "+/ticket/given"}, Rule{Access: Write, Topic: h + "+/lease"},
		Rule{Access: Write, Topic: h + "+/ack"}, Rule{Access: Write, Topic: h + "+/answer"})
}

// minLevel drops records below its level.
type minLevel struct {
	min slog.Level
	slog.Handler
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{m.min, m.Handler.WithAttrs(as)}
}

func (m minLevel) WithGroup(g string) slog.Handler { return minLevel{m.min, m.Handler.WithGroup(g)} }
