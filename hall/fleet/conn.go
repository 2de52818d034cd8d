package fleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citizenhome/telemetry/link"
	"citizenhome/telemetry/wire"
)

// probeKiosk is the topic level of the marker a Conn publishes after subscribing: the broker
// sends the retained messages before it, so its arrival means they are all in. Staff may write
// it (citizenhome/v1/{hall}/+/cmd) and read it; no kiosk has this name's account.
const probeKiosk = "kioskctl-probe"

// Conn is a hall-side connection: it feeds a View with everything of a hall and sends
// commands. Create it with Dial.
type Conn struct {
	cl paho.Client
	// idPrefix starts every command id: the client id, so that a kiosk's audit and the
	// history tell halld's commands from kioskctl's.
	idPrefix string
	view     *View
	hall     string
	by       string
	log      *slog.Logger
	// AutoRebirth sends a rebirth command when the view asks for one (kioskctl watch and
	// status do).
	autoRebirth bool
	onUpdate    func(Update)
	key         ed25519.PrivateKey

	mu      sync.Mutex
	waiters map[string]chan wire.Reply
	probes  map[string]chan struct{}
}

// DialOptions tune Dial.
type DialOptions struct {
	// Hall to follow; "+" follows every hall the account may read.
	Hall string
	// By names the operator in every command's audit entry; default the username.
	By string
	// OnUpdate is called for every message applied, from paho's goroutine; it must not block.
	OnUpdate func(Update)
	// AutoRebirth sends a rebirth command to a kiosk when the view sees a sequence gap.
	AutoRebirth bool
	Log         *slog.Logger
	// CommandKey is the hall's command key (halld's command.key): every command is then
	// signed for its kiosk (wire.SignCommand), as kiosks with hall.command_key require. nil:
	// commands go unsigned, and such kiosks refuse them.
	CommandKey ed25519.PrivateKey
}

// Dial connects with s (a clean session: a tool keeps no state at the broker), subscribes to
// the hall and waits until the retained messages are in the view.
func Dial(ctx context.Context, s link.Settings, v *View, o DialOptions) (*Conn, error) {
	if o.Hall == "" {
		return nil, errors.New("fleet: no hall given")
	}
	if o.Hall != "+" && !wire.ValidName(o.Hall) {
		return nil, fmt.Errorf("fleet: hall id %q must match [a-z0-9][a-z0-9-]{0,31}", o.Hall)
	}
	if o.By == "" {
		o.By = s.Username
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if s.ClientID == "" {
		s.ClientID = "kioskctl-" + randHex(6)
	}
	c := &Conn{idPrefix: s.ClientID + "-", view: v, hall: o.Hall, by: o.By, log: o.Log, autoRebirth: o.AutoRebirth, onUpdate: o.OnUpdate,
		key: o.CommandKey, waiters: map[string]chan wire.Reply{}, probes: map[string]chan struct{}{}}
	opts, err := s.Options()
	if err != nil {
		return nil, err
	}
	opts.SetCleanSession(true).SetAutoReconnect(true).SetMaxReconnectInterval(5 * time.Second)
	opts.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { c.onMessage(m) })
	subscribed := make(chan paho.Token, 1)
	opts.SetOnConnectHandler(func(cl paho.Client) {
		// (Re)subscribe at every connection: a clean session forgets subscriptions.
		tok := cl.Subscribe(wire.HallFilter(o.Hall), 1, nil)
		select {
		case subscribed <- tok:
		default:
		}
	})
	c.cl = paho.NewClient(opts)
	if err := waitToken(ctx, c.cl.Connect()); err != nil {
		return nil, fmt.Errorf("fleet: connect to %s: %w", s.URL, err)
	}
	var sub paho.Token
	select {
	case sub = <-subscribed:
	case <-ctx.Done():
		c.cl.Disconnect(0)
		return nil, ctx.Err()
	}
	if err := waitToken(ctx, sub); err != nil {
		c.cl.Disconnect(0)
		return nil, fmt.Errorf("fleet: subscribe: %w", err)
	}
	for f, q := range sub.(*paho.SubscribeToken).Result() {
		if q > 2 {
			c.cl.Disconnect(0)
			return nil, fmt.Errorf("fleet: the broker refused the subscription to %s (check the account's ACL)", f)
		}
	}
	if o.Hall != "+" {
		if err := c.probe(ctx, o.Hall); err != nil {
			c.log.Warn("retained messages may be incomplete", "err", err)
		}
	}
	return c, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func waitToken(ctx context.Context, t paho.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// probe publishes a marker and waits for it: the retained messages came before it.
func (c *Conn) probe(ctx context.Context, hall string) error {
	id := randHex(8)
	ch := make(chan struct{})
	c.mu.Lock()
	c.probes[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.probes, id)
		c.mu.Unlock()
	}()
	topic := wire.Prefix + "/" + hall + "/" + probeKiosk + "/" + wire.KindCmd
	if err := waitToken(ctx, c.cl.Publish(topic, 1, false, `{"probe":"`+id+`"}`)); err != nil {
		return err
	}
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errors.New("the probe did not come back within 5 s")
	}
}

func (c *Conn) onMessage(m paho.Message) {
	a, err := wire.ParseTopic(m.Topic())
	if err == nil && a.Kiosk.Kiosk == probeKiosk && a.Kind == wire.KindCmd {
		var p struct{ Probe string }
		if json.Unmarshal(m.Payload(), &p) == nil {
			c.mu.Lock()
			if ch, ok := c.probes[p.Probe]; ok {
				close(ch)
				delete(c.probes, p.Probe)
			}
			c.mu.Unlock()
		}
		return
	}
	u, err := c.view.Apply(m.Topic(), m.Payload(), m.Retained())
	if err != nil {
		return
	}
	if u.Reply != nil {
		c.mu.Lock()
		ch, ok := c.waiters[u.Reply.ID]
		c.mu.Unlock()
		if ok {
			select {
			case ch <- *u.Reply:
			default:
			}
		}
	}
	if u.Rebirth && c.autoRebirth {
		go func(k wire.Kiosk) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := c.Command(ctx, k, Order{Name: wire.CmdRebirth}); err != nil {
				c.log.Warn("rebirth not answered", "kiosk", k, "err", err)
			}
		}(u.Addr.Kiosk)
	}
	if c.onUpdate != nil {
		c.onUpdate(u)
	}
}

// ErrNoReply is returned by Command when no reply came in time.
var ErrNoReply = errors.New("fleet: no reply from the kiosk in time")

// CommandError is a command the kiosk refused or failed to carry out.
type CommandError struct{ Reply wire.Reply }

func (e *CommandError) Error() string {
	return fmt.Sprintf("%s: %s", e.Reply.Code, e.Reply.Error)
}

// Order is one command to send.
type Order struct {
	Name string
	Args any // marshalled to JSON; nil: no arguments
	// By names the operator in the command's audit entry; "" takes DialOptions.By. halld sends
	// every console user's commands over its one connection, each with the user's name.
	By string
}

// Command sends a command to a kiosk and waits for its reply until ctx ends (its deadline, at
// most a day ahead, is also the command's expiry, so a kiosk that gets it later does not run
// it), signed when the Conn has the hall's command key. A reply with
// ok=false is returned with a *CommandError; no reply in time is ErrNoReply. The returned
// reply's ID is the command's id in every case, so a caller can point at it in the history even
// when the kiosk did not answer.
func (c *Conn) Command(ctx context.Context, k wire.Kiosk, o Order) (wire.Reply, error) {
	if err := k.Check(); err != nil {
		return wire.Reply{}, err
	}
	expires, ok := ctx.Deadline()
	if !ok {
		expires = time.Now().Add(time.Minute)
	}
	// Kiosks refuse an expiry further ahead (wire.MaxCommandLife); a minute's margin for
	// clocks that differ.
	if most := time.Now().Add(wire.MaxCommandLife - time.Minute); expires.After(most) {
		expires = most
	}
	by := o.By
	if by == "" {
		by = c.by
	}
	cmd := wire.Command{ID: c.idPrefix + randHex(12), Name: o.Name, Expires: expires.Truncate(time.Second).Add(time.Second), By: by}
	if o.Args != nil {
		b, err := json.Marshal(o.Args)
		if err != nil {
			return wire.Reply{ID: cmd.ID}, err
		}
		cmd.Args = b
	}
	if c.key != nil {
		signed, err := wire.SignCommand(c.key, k, cmd)
		if err != nil {
			return wire.Reply{ID: cmd.ID}, err
		}
		cmd = signed
	}
	payload, _ := json.Marshal(cmd)
	ch := make(chan wire.Reply, 1)
	c.mu.Lock()
	c.waiters[cmd.ID] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiters, cmd.ID)
		c.mu.Unlock()
	}()
	if err := waitToken(ctx, c.cl.Publish(k.Topic(wire.KindCmd), 1, false, payload)); err != nil {
		return wire.Reply{ID: cmd.ID}, fmt.Errorf("fleet: send %s to %s: %w", o.Name, k, err)
	}
	select {
	case r := <-ch:
		if !r.OK {
			return r, &CommandError{Reply: r}
		}
		return r, nil
	case <-ctx.Done():
		return wire.Reply{ID: cmd.ID}, ErrNoReply
	}
}

// Close disconnects.
func (c *Conn) Close() { c.cl.Disconnect(250) }
