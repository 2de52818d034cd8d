// Package agent reports a kiosk to the hall over MQTT and takes the hall's commands, as the
// contract ../shared/spec/telemetry.md says (its Go types are in telemetry/wire): the kiosk's end
// of the contract, as hall/fleet is the hall's.
//
// An Agent owns one MQTT session at a time, with a client of its own for each: before every
// CONNECT it increments the durable boot counter and registers the will (state "lost" with that
// boot), so a will can always be told from the birth of a later session. After CONNECT it
// publishes its birth (state init, status, alerts, then the real state), then sends the events
// of the outbox in order, keeping each in the store until the broker has acknowledged it in the
// session it was sent in: whatever is not acknowledged when a session ends is sent again in the
// next one (receivers drop repeats by event id). Status snapshots follow every change, at most
// one a second, and the heartbeat. Commands are handled one at a time, answered exactly once and
// written to the audit table (see command.go).
package agent

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citizenhome/kiosk"
	"citizenhome/kiosk/store"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/wire"
)

// Defaults of Options.
const (
	DefaultHeartbeat = 60 * time.Second
	DefaultMaxDefer  = 60 * time.Second
	DefaultWindow    = 256
	DefaultRetryMin  = 500 * time.Millisecond
	DefaultRetryMax  = 30 * time.Second
	// StatusEvery is the shortest interval between two status snapshots caused by changes.
	StatusEvery = time.Second
)

// Options configure an Agent.
type Options struct {
	Kiosk *kiosk.Kiosk // required
	Store *store.Store // required: the kiosk's store (outbox, boot counter, audit)
	// Link says how to reach the broker; its ClientID is replaced by the contract's.
	Link      link.Settings
	Heartbeat time.Duration // a full status at least this often; 0: DefaultHeartbeat
	Version   string
	Log       *slog.Logger
	// Now is the agent's clock (timestamps, the local day of the counters); nil: the kiosk's.
	Now func() time.Time
	// MaxDefer is how long a command waits for a citizen's transaction to end; 0: 60 s.
	MaxDefer time.Duration
	// Window is how many events may await the broker's acknowledgement at once; 0: 256.
	Window int
	// RetryMin and RetryMax bound the pause between connection attempts (doubling).
	RetryMin, RetryMax time.Duration
	// ResendEvery is how often, with a hall controller (hall.controller), the events it has not
	// acknowledged are sent again while it is online; 0: DefaultResendEvery.
	ResendEvery time.Duration
	// CommandKey is the hall's public key (hall.command_key): when set, a command runs only
	// with a good signature of the hall for this kiosk (wire.VerifyCommand); unsigned or badly
	// signed commands are refused with their code. nil: commands are not asked for one.
	CommandKey ed25519.PublicKey
}

// Agent is a kiosk's telemetry. Create it with New, run it with Run (or Start).
type Agent struct {
	o   Options
	k   *kiosk.Kiosk
	st  *store.Store
	id  wire.Kiosk
	loc *time.Location
	out *Outbox
	log *slog.Logger
	now func() time.Time

	changed chan struct{} // coalesced: something the status shows changed
	rebirth chan struct{} // coalesced: publish the birth again
	cmds    chan inbound

	mu       sync.Mutex
	devs     map[string]kiosk.Device // last seen, for fault and recovery events
	devq     []devEvent
	devWake  chan struct{}
	maint    bool
	cur      *conn
	connWait chan struct{} // closed when cur is set; replaced when it is cleared

	// Daily counters (counter.go): increments not yet in the store, the local day seen last, the
	// purge due ("" none) and whether the writer goroutine runs. cmu (taken before mu) orders a
	// flush against Snapshot's read.
	cmu         sync.Mutex
	pending     map[counterKey]int64
	day         string
	purgeBefore string
	flushing    bool
	flushTaken  func() // tests: called by a flush between taking the pending counts and writing them; a.cmu held

	runCancel context.CancelFunc
	runDone   chan struct{}

	// The hall's numbering (hall.go), with hall.controller only. tmu guards what follows it.
	ctl      bool
	tmu      sync.Mutex
	takes    map[string]chan wire.Given  // takes waiting for halld's answer, by id
	asks     map[string]chan wire.Answer // asks waiting for halld's answer, by id
	hallQ    wire.QueueState             // halld's latest queue figures
	hasQ     bool
	hallq    []hallItem // leases and acks for hallLoop
	hallWake chan struct{}
}

type devEvent struct {
	typ  string
	data deviceEvent
}

type deviceEvent struct {
	Device   string `json:"device"`
	State    string `json:"state"`
	Previous string `json:"previous"`
	Detail   string `json:"detail,omitempty"`
}

// New prepares an agent: it installs the outbox as the kiosk's event recorder (so events are
// recorded from now on, connected or not), applies the settings the hall changed remotely, and
// subscribes to the kiosk's events. It does not connect: see Run.
func New(o Options) (*Agent, error) {
	if o.Kiosk == nil || o.Store == nil {
		return nil, errors.New("telemetry: Options.Kiosk and Options.Store are required")
	}
	cfg := o.Kiosk.Config()
	id := wire.Kiosk{Hall: cfg.Hall.ID, Kiosk: cfg.Kiosk.ID}
	if err := id.Check(); err != nil {
		return nil, err
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.MaxDefer <= 0 {
		o.MaxDefer = DefaultMaxDefer
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.RetryMin <= 0 {
		o.RetryMin = DefaultRetryMin
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(DefaultRetryMax, o.RetryMin)
	}
	if o.ResendEvery <= 0 {
		o.ResendEvery = DefaultResendEvery
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = o.Kiosk.Now
	}
	if o.Version == "" {
		o.Version = o.Kiosk.Version()
	}
	o.Link.ClientID = id.ClientID()
	if err := o.Link.Check(); err != nil {
		return nil, err
	}
	loc, err := cfg.Location()
	if err != nil {
		return nil, err
	}
	a := &Agent{
		o: o, k: o.Kiosk, st: o.Store, id: id, loc: loc, log: o.Log.With("component", "telemetry"),
		now:     o.Now,
		out:     NewOutbox(o.Store, o.Now),
		changed: make(chan struct{}, 1), rebirth: make(chan struct{}, 1), cmds: make(chan inbound, 64),
		devs: o.Kiosk.Devices(), devWake: make(chan struct{}, 1), connWait: make(chan struct{}),
		pending: map[counterKey]int64{},
		ctl:     cfg.Hall.Controller, takes: map[string]chan wire.Given{}, asks: map[string]chan wire.Answer{}, hallWake: make(chan struct{}, 1),
	}
	if err := a.applyStoredSettings(context.Background()); err != nil {
		return nil, err
	}
	a.k.SetEventRecorder(a.out)
	if a.ctl {
		// The core asks halld for its numbers and its answers through the agent
		// (kiosk.HallNumbers, kiosk.HallAnswers).
		a.k.SetHallNumbers(a)
		a.k.SetHallAnswers(a)
	}
	a.k.Subscribe(a.onKioskEvent)
	return a, nil
}

// Outbox is the agent's outbox (events can be added to it directly).
func (a *Agent) Outbox() *Outbox { return a.out }

// Kiosk is the contract's name of this kiosk.
func (a *Agent) Kiosk() wire.Kiosk { return a.id }

// SetMaintenance marks hall staff working on site (state maintenance) or not.
func (a *Agent) SetMaintenance(on bool) {
	a.mu.Lock()
	a.maint = on
	a.mu.Unlock()
	a.kick()
}

// Rebirth asks for the birth (state, status, alerts) to be published again.
func (a *Agent) Rebirth() {
	select {
	case a.rebirth <- struct{}{}:
	default:
	}
}

func (a *Agent) kick() {
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// Connected reports whether a session is up, and its boot.
func (a *Agent) Connected() (bool, int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur == nil {
		return false, 0
	}
	return true, a.cur.boot
}

// State is the lifecycle state the kiosk would report now ("ready", "locked", ...); the local
// API's /healthz shows it.
func (a *Agent) State() string { return a.lifecycle() }

func (a *Agent) lifecycle() string {
	a.mu.Lock()
	maint := a.maint
	a.mu.Unlock()
	if maint {
		return wire.StateMaintenance
	}
	if locked, _ := a.k.Locked(); locked {
		return wire.StateLocked
	}
	if kiosk.Degraded(a.k.Devices()) {
		return wire.StateDegraded
	}
	return wire.StateReady
}

func (a *Agent) onKioskEvent(e kiosk.Event) {
	switch e.Kind {
	case kiosk.EventCard:
		if e.CardErr == nil {
			a.mu.Lock()
			a.count(counterCardReads)
			a.mu.Unlock()
		}
	case kiosk.EventDevice:
		a.mu.Lock()
		old, ok := a.devs[e.Device]
		a.devs[e.Device] = e.State
		prev := kiosk.StateAbsent
		if ok {
			prev = old.State
		}
		fault := func(s kiosk.DeviceState) bool { return s != kiosk.StateOK && s != kiosk.StateAbsent }
		ev := deviceEvent{Device: e.Device, State: string(e.State.State), Previous: string(prev), Detail: e.State.Detail}
		switch {
		case fault(e.State.State) && e.State.State != prev:
			a.count(counterErrors)
			a.devq = append(a.devq, devEvent{wire.EventDeviceFault, ev})
		case !fault(e.State.State) && fault(prev):
			a.devq = append(a.devq, devEvent{wire.EventDeviceRecovered, ev})
		}
		a.mu.Unlock()
		select {
		case a.devWake <- struct{}{}:
		default:
		}
	}
	a.kick()
}

// CountError adds one to today's errors counter, for faults seen outside the core, such as a
// request to the local API with a wrong token. It never blocks on the store: the count is kept
// in memory (and shown) at once and written to the store's daily counters soon after, so it
// survives a restart the same local day; a failed write is retried at the next count.
func (a *Agent) CountError() {
	a.mu.Lock()
	a.count(counterErrors)
	a.mu.Unlock()
}

// deviceLoop writes device fault and recovery events to the outbox. The kiosk calls its
// subscribers synchronously and they must not block, so the store write happens here.
func (a *Agent) deviceLoop(ctx context.Context) {
	for {
		a.mu.Lock()
		q := a.devq
		a.devq = nil
		a.mu.Unlock()
		for _, e := range q {
			if err := a.out.Add(context.WithoutCancel(ctx), e.typ, e.data); err != nil {
				a.log.Error("device event not recorded", "type", e.typ, "device", e.data.Device, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-a.devWake:
		}
	}
}

// Start runs the agent in the background until Close.
func (a *Agent) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	a.runCancel = cancel
	a.runDone = make(chan struct{})
	go func() {
		defer close(a.runDone)
		_ = a.Run(ctx)
	}()
}

// Close ends a Start-ed agent with a planned shutdown: state "disconnected", then DISCONNECT
// (the broker then drops the will). It waits at most a few seconds for the broker.
func (a *Agent) Close() error {
	if a.runCancel == nil {
		return nil
	}
	a.runCancel()
	select {
	case <-a.runDone:
	case <-time.After(10 * time.Second):
		return errors.New("telemetry: shutdown timed out")
	}
	return nil
}

// Run connects, keeps the connection, and reconnects (with a new boot each time) until ctx
// ends; it then publishes the planned shutdown and disconnects. It returns nil then.
func (a *Agent) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.commandLoop(ctx) }()
	go func() { defer wg.Done(); a.deviceLoop(ctx) }()
	if a.ctl {
		wg.Add(1)
		go func() { defer wg.Done(); a.hallLoop(ctx) }()
	}
	defer func() {
		wg.Wait()
		// A planned shutdown does not wait for the counter writer: write what is pending now.
		if err := a.flushCounters(context.Background()); err != nil {
			a.log.Warn("daily counters not stored at shutdown", "err", err)
		}
	}()
	pause := a.o.RetryMin
	for ctx.Err() == nil {
		c, err := a.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			a.log.Warn("broker not reachable; retrying", "url", a.o.Link.URL, "in", pause, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
			pause = min(pause*2, a.o.RetryMax)
			continue
		}
		pause = a.o.RetryMin
		a.serve(ctx, c)
	}
	return nil
}

// conn is one MQTT session: its own paho client, will and boot.
type conn struct {
	a    *Agent
	cl   paho.Client
	boot int64

	mu  sync.Mutex // orders seq assignment and the wire
	seq int64

	lostOnce sync.Once
	lost     chan struct{}
	lostErr  error
	born     chan struct{}
	ctrlMu   sync.Mutex
	ctrl     int // controller state seen in this session: ctrlUnknown, ctrlOffline, ctrlOnline

	// With a hall controller: signalled when it comes online (re-send what it did not
	// acknowledge), and the newest outbox seq the send loop has published.
	online chan struct{}
	sent   sentMark

	// reporter state (touched by the reporter goroutine only)
	state      string
	stateSince time.Time
	alerts     map[string]bool
	lastStatus time.Time
}

func (c *conn) fail(err error) {
	c.lostOnce.Do(func() {
		c.lostErr = err
		close(c.lost)
	})
}

func (c *conn) isLost() bool {
	select {
	case <-c.lost:
		return true
	default:
		return false
	}
}

// publish sends a message without a seq (state, reply, an alert's clearing).
func (c *conn) publish(topic string, retained bool, payload []byte) paho.Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cl.Publish(topic, 1, retained, payload)
}

// publishSeq gives the message the session's next seq and sends it, so that seq order is wire
// order.
func (c *conn) publishSeq(topic string, retained bool, build func(seq int64) ([]byte, error)) (paho.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := build(c.seq + 1)
	if err != nil {
		return nil, err
	}
	c.seq++
	return c.cl.Publish(topic, 1, retained, b), nil
}

// acked waits for tok and reports whether it proves the broker has the message: completed
// without error in a session that has not been lost meanwhile. A token that completes after the
// session was lost proves nothing; its message is sent again in the next session.
func (c *conn) acked(ctx context.Context, tok paho.Token, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-tok.Done():
	case <-c.lost:
		return errLost
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errors.New("telemetry: no acknowledgement from the broker")
	}
	if err := tok.Error(); err != nil {
		return err
	}
	if c.isLost() {
		return errLost
	}
	return nil
}

var errLost = errors.New("telemetry: session lost")

func (a *Agent) stamp(t time.Time) time.Time { return wire.Stamp(t, a.loc) }

func (a *Agent) connect(ctx context.Context) (*conn, error) {
	boot, err := NextBoot(ctx, a.st)
	if err != nil {
		return nil, err
	}
	opts, err := a.o.Link.Options()
	if err != nil {
		return nil, err
	}
	c := &conn{a: a, boot: boot, lost: make(chan struct{}), born: make(chan struct{}), alerts: map[string]bool{},
		online: make(chan struct{}, 1)}
	will, _ := jsonMarshal(wire.State{State: wire.StateLost, Boot: boot, Since: a.stamp(a.now()), Version: a.o.Version})
	opts.SetBinaryWill(a.id.Topic(wire.KindState), will, 1, true)
	// A persistent session keeps the hall's commands while the kiosk is away; a fresh client
	// per session means paho never replays a stale store into a new session.
	opts.SetCleanSession(false).SetAutoAckDisabled(true)
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) { c.fail(err) })
	// Every message goes through the default handler: the broker may deliver queued commands
	// before Subscribe returns, and paho drops messages that no handler takes.
	opts.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { a.onMessage(c, m) })
	c.cl = paho.NewClient(opts)
	tok := c.cl.Connect()
	if err := wait(ctx, tok, a.o.Link.ConnectTimeout+5*time.Second); err != nil {
		c.cl.Disconnect(0)
		return nil, fmt.Errorf("connect (boot %d): %w", boot, err)
	}
	topics := map[string]byte{
		a.id.Topic(wire.KindCmd):             1,
		wire.ControllerStateTopic(a.id.Hall): 1,
	}
	if a.ctl {
		maps.Copy(topics, a.hallTopics())
	}
	sub := c.cl.SubscribeMultiple(topics, nil)
	if err := wait(ctx, sub, 10*time.Second); err != nil {
		c.cl.Disconnect(0)
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	for topic, q := range sub.(*paho.SubscribeToken).Result() {
		if q > 2 {
			c.cl.Disconnect(0)
			return nil, fmt.Errorf("subscribe %s refused by the broker (check its ACL)", topic)
		}
	}
	a.log.Info("connected to the broker", "url", a.o.Link.URL, "boot", boot)
	return c, nil
}

func wait(ctx context.Context, tok paho.Token, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errors.New("timed out")
	}
}

func (a *Agent) setConn(c *conn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cur = c
	if c != nil {
		close(a.connWait)
	} else {
		a.connWait = make(chan struct{})
	}
}

// current returns the session up now, or nil.
func (a *Agent) current() *conn {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur
}

// serve runs one session until it is lost or ctx ends (then with the planned shutdown).
func (a *Agent) serve(ctx context.Context, c *conn) {
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.report(sctx, c) }()
	go func() { defer wg.Done(); a.send(sctx, c) }()
	if a.ctl {
		wg.Add(1)
		go func() { defer wg.Done(); a.resend(sctx, c) }()
	}
	a.setConn(c)
	select {
	case <-c.lost:
	case <-ctx.Done():
	}
	a.setConn(nil)
	cancel()
	wg.Wait()
	if !c.isLost() {
		// Planned: the hall sees "disconnected", and DISCONNECT makes the broker drop the will.
		b, _ := jsonMarshal(wire.State{State: wire.StateDisconnected, Boot: c.boot, Since: a.stamp(a.now()), Version: a.o.Version})
		if err := c.acked(context.Background(), c.publish(a.id.Topic(wire.KindState), true, b), 3*time.Second); err != nil {
			a.log.Warn("planned shutdown not acknowledged by the broker", "err", err)
		}
		c.cl.Disconnect(500)
		a.log.Info("disconnected from the broker (planned)", "boot", c.boot)
		return
	}
	a.log.Warn("connection to the broker lost", "boot", c.boot, "err", c.lostErr)
	c.cl.Disconnect(0)
}

// onMessage takes every message the broker delivers (paho's router goroutine).
func (a *Agent) onMessage(c *conn, m paho.Message) {
	switch m.Topic() {
	case a.id.Topic(wire.KindCmd):
		select {
		case a.cmds <- inbound{payload: m.Payload(), ack: m.Ack, received: a.now()}:
		case <-c.lost:
		}
	case wire.ControllerStateTopic(a.id.Hall):
		m.Ack()
		var s wire.ControllerState
		if len(m.Payload()) == 0 || wire.Decode(m.Payload(), &s) != nil {
			return
		}
		now := ctrlOffline
		if s.Online {
			now = ctrlOnline
		}
		c.ctrlMu.Lock()
		was := c.ctrl
		c.ctrl = now
		c.ctrlMu.Unlock()
		if a.ctl && now == ctrlOnline && was != ctrlOnline {
			select {
			case c.online <- struct{}{}:
			default:
			}
		}
		// A change to online: from offline, or from nothing known when the message is live (a
		// controller starting for the first time, or after clearing its state). The retained
		// copy the broker hands over at SUBSCRIBE is no change: the birth follows anyway.
		if now == 2 && (was == 1 || was == 0 && !m.Retained()) {
			a.log.Info("hall controller back online: publishing the birth again")
			a.Rebirth()
		}
	default:
		if a.ctl && a.onHallMessage(m) {
			return
		}
		m.Ack()
	}
}
