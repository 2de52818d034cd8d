// Package intake is the hall controller's end of the kiosks' MQTT messages: it gives ticket
// numbers (take → given), grants and publishes each kiosk's lease of numbers, takes in every
// kiosk event and acknowledges it once it is committed, publishes the hall's queue figures, and
// keeps the controller's retained state (online, and offline as its will).
//
// Everything a kiosk sends is handled by one worker goroutine, so that paho's network loop never
// waits on a disk commit and an event is acknowledged only after the commit that holds it. Takes
// and the kiosks' questions (ask → answer) go before events: a citizen is waiting on those,
// nobody on an event. Events keep their
// arrival order. An event is acknowledged (wire.Ack) only once halld has committed it: the kiosk
// keeps it in its outbox until then and sends it again, and a repeated id is acknowledged again
// without being applied twice. A broker restart that loses what it had accepted therefore loses
// nothing: the kiosks still hold it.
package intake

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citizenhome/hall/ledger"
	"citizenhome/hall/line"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/wire"
)

// Migrations are intake's tables in halld's ledger: every kiosk event halld has taken in, by id,
// but ticket.issued, whose record is the queue's ticket.
var Migrations = []ledger.Migration{{Name: "intake-1", SQL: `
CREATE TABLE intake_event (
	id TEXT PRIMARY KEY,
	kiosk TEXT NOT NULL,
	type TEXT NOT NULL,
	ts INTEGER NOT NULL,        -- the kiosk's time of the event, unix ns
	received INTEGER NOT NULL,  -- halld's, unix ns
	data TEXT NOT NULL          -- the event's data as sent (the contract keeps personal data out)
) STRICT;
CREATE INDEX intake_event_type ON intake_event (type, received);
`}}

// Queue is what intake needs of the hall's queue (*line.Line).
type Queue interface {
	Take(ctx context.Context, kiosk string, t line.Take) (line.Ticket, line.Position, error)
	Issued(ctx context.Context, kiosk string, ev line.Issued) error
	Lease(ctx context.Context, kiosk string) (map[string]map[string][]int, error)
	Snapshot(ctx context.Context) (line.Snapshot, error)
	// ServedBy answers a kiosk asking whether a ticket was served (ask.go).
	ServedBy(ctx context.Context, day, code string) (line.Service, error)
}

// Options configure Start.
type Options struct {
	Link  link.Settings // the controller's account; ClientID default "controller-{hall}"
	Hall  string
	Queue Queue
	DB    *ledger.DB // for intake's own table (Migrations)
	Log   *slog.Logger
	// Location is the hall's zone: leases are renewed just after its midnight.
	Location *time.Location
	Now      func() time.Time
	// ClockSkew is added to a take's deadline before the queue judges it late: a kiosk's clock a
	// little behind halld's must not make every take look expired. Default 2 s. A number given
	// after the kiosk gave up costs nothing but a gap: the kiosk names that take as abandoned in
	// its next ticket event, and the number is reported unused.
	ClockSkew time.Duration
	// Handlers take the events of their type after intake has recorded them (the ratings and
	// complaints that open work orders). A handler sees an event again when the kiosk sends it
	// again, so it must be idempotent by the event's id. An error wrapping ErrRetry leaves the
	// event unacknowledged (the kiosk sends it again, its ledger having failed, say); any other
	// error is logged and the event acknowledged: sending it again would not change the answer.
	Handlers map[string]Handler
	// Replies answers a kiosk asking about a complaint (ask.go); nil answers not-found.
	Replies Replies
}

// Handler takes one event of a kiosk; see Options.Handlers.
type Handler func(ctx context.Context, kiosk string, e wire.Event) error

// ErrRetry, wrapped by a handler's error, asks for the event again.
var ErrRetry = errors.New("intake: the event could not be taken now; the kiosk should send it again")

// Intake is a running connection. Stop it with Close.
type Intake struct {
	o     Options
	cl    paho.Client
	work  chan paho.Message // events and states, in arrival order
	takes chan paho.Message // takes and asks: served before anything else waiting
	kick  chan struct{}
	done  chan struct{}
	stop  context.CancelFunc

	mu     sync.Mutex
	kiosks map[string]bool // every kiosk seen, for leases
	acks   map[string][]string
	online bool
	taken  Counts
}

// Counts are what intake did since it started, for the status page and the tests.
type Counts struct {
	Takes, Given, StaleTakes, Events, Repeats, Rejected, Asks int64
}

// Start connects to the broker (retrying in the background until Close if it is down) and
// serves. It fails only on bad options.
func Start(ctx context.Context, o Options) (*Intake, error) {
	if !wire.ValidName(o.Hall) {
		return nil, fmt.Errorf("intake: hall id %q must match [a-z0-9][a-z0-9-]{0,31}", o.Hall)
	}
	if o.Queue == nil || o.DB == nil {
		return nil, errors.New("intake: no queue or no ledger")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.ClockSkew <= 0 {
		o.ClockSkew = 2 * time.Second
	}
	if o.Link.ClientID == "" {
		o.Link.ClientID = "controller-" + o.Hall
	}
	opts, err := o.Link.Options()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	in := &Intake{o: o, work: make(chan paho.Message, 4096), takes: make(chan paho.Message, 1024), kick: make(chan struct{}, 1),
		done: make(chan struct{}), stop: cancel, kiosks: map[string]bool{}, acks: map[string][]string{}}
	stateTopic := wire.ControllerStateTopic(o.Hall)
	offline, _ := json.Marshal(wire.ControllerState{Online: false, TS: wire.Stamp(o.Now(), o.Location)})
	// A persistent session: takes and events that arrive while halld restarts wait at the broker.
	opts.SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(2*time.Second).
		SetWill(stateTopic, string(offline), 1, true)
	opts.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
		if strings.HasSuffix(m.Topic(), "/"+wire.KindTake) || strings.HasSuffix(m.Topic(), "/"+wire.KindAsk) {
			in.takes <- m
			return
		}
		in.work <- m
	})
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) {
		in.setOnline(false)
		o.Log.Warn("hall broker connection lost", "err", err)
	})
	opts.SetOnConnectHandler(func(cl paho.Client) {
		// Subscriptions are kept by a persistent session, but not if the broker lost it.
		tok := cl.SubscribeMultiple(map[string]byte{
			wire.TakeFilter(o.Hall):                             1,
			wire.AskFilter(o.Hall):                              1,
			wire.EventFilter(o.Hall):                            1,
			wire.Prefix + "/" + o.Hall + "/+/" + wire.KindState: 1,
		}, nil)
		go func() {
			if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				o.Log.Error("subscription to the kiosks refused or timed out", "err", tok.Error())
				cl.Disconnect(100)
				return
			}
			on, _ := json.Marshal(wire.ControllerState{Online: true, TS: wire.Stamp(o.Now(), o.Location)})
			cl.Publish(stateTopic, 1, true, on)
			in.setOnline(true)
			o.Log.Info("connected to the hall broker", "url", o.Link.URL)
			in.kickAll()
		}()
	})
	in.cl = paho.NewClient(opts)
	in.cl.Connect() // retries in the background: halld serves its pages with the broker down
	go in.run(ctx)
	go in.publishQueue(ctx)
	go in.midnight(ctx)
	return in, nil
}

func (in *Intake) setOnline(v bool) {
	in.mu.Lock()
	in.online = v
	in.mu.Unlock()
}

// Online says whether halld is connected to the broker now.
func (in *Intake) Online() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.online
}

// Counts returns what intake did since Start.
func (in *Intake) Counts() Counts {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.taken
}

// QueueChanged asks for the hall's queue figures to be published again (at most once a second).
// It never blocks.
func (in *Intake) QueueChanged() {
	select {
	case in.kick <- struct{}{}:
	default:
	}
}

// kickAll, after a (re)connection: every known kiosk gets its lease again, the figures go out.
func (in *Intake) kickAll() {
	in.mu.Lock()
	ks := make([]string, 0, len(in.kiosks))
	for k := range in.kiosks {
		ks = append(ks, k)
	}
	in.mu.Unlock()
	for _, k := range ks {
		in.grant(context.Background(), k)
	}
	in.QueueChanged()
}

// Close publishes the planned offline state, disconnects and stops the worker.
func (in *Intake) Close() error {
	off, _ := json.Marshal(wire.ControllerState{Online: false, TS: wire.Stamp(in.o.Now(), in.o.Location)})
	if in.cl.IsConnectionOpen() {
		in.cl.Publish(wire.ControllerStateTopic(in.o.Hall), 1, true, off).WaitTimeout(2 * time.Second)
	}
	in.cl.Disconnect(250)
	in.stop()
	<-in.done
	return nil
}

func (in *Intake) run(ctx context.Context) {
	defer close(in.done)
	for {
		// A citizen waits on a take; nobody waits on an event (its kiosk has printed already),
		// so a take never queues behind the commits of events that arrived before it.
		select {
		case m := <-in.takes:
			in.handle(ctx, m)
			continue
		default:
		}
		select {
		case <-ctx.Done():
			return
		case m := <-in.takes:
			in.handle(ctx, m)
		case m := <-in.work:
			in.handle(ctx, m)
			if len(in.work) == 0 {
				in.flushAcks()
			}
		}
	}
}

func (in *Intake) handle(ctx context.Context, m paho.Message) {
	if a, err := wire.ParseNumberingTopic(m.Topic()); err == nil {
		switch a.Kind {
		case wire.KindTake:
			in.take(ctx, a.Kiosk.Kiosk, m.Payload())
		case wire.KindAsk:
			in.ask(ctx, a.Kiosk.Kiosk, m.Payload())
		}
		return
	}
	a, err := wire.ParseTopic(m.Topic())
	if err != nil || a.Controller() {
		return
	}
	k := a.Kiosk.Kiosk
	switch a.Kind {
	case wire.KindEvent:
		in.event(ctx, k, m.Payload())
	case wire.KindState:
		if len(m.Payload()) == 0 {
			return
		}
		in.mu.Lock()
		known := in.kiosks[k]
		in.kiosks[k] = true
		in.mu.Unlock()
		var s wire.State
		if json.Unmarshal(m.Payload(), &s) == nil && (!known || s.State == wire.StateInit) {
			in.grant(ctx, k)
		}
	}
}

func (in *Intake) count(f func(*Counts)) {
	in.mu.Lock()
	f(&in.taken)
	in.mu.Unlock()
}

func (in *Intake) take(ctx context.Context, kiosk string, b []byte) {
	t, err := wire.ParseTake(b)
	if err != nil {
		in.count(func(c *Counts) { c.Rejected++ })
		in.o.Log.Warn("take refused", "kiosk", kiosk, "err", err)
		return
	}
	in.count(func(c *Counts) { c.Takes++ })
	g := wire.Given{ID: t.ID, TS: wire.Stamp(in.o.Now(), in.o.Location)}
	tk, pos, err := in.o.Queue.Take(ctx, kiosk, line.Take{ID: t.ID, Category: t.Category,
		Priority: t.Priority, Reason: t.Reason, Matter: t.Matter, Section: t.Section,
		Day: t.Day, Expires: t.Expires.Add(in.o.ClockSkew)})
	var le *line.Error
	switch {
	case errors.Is(err, line.ErrExpired):
		// The kiosk has moved on to its lease (or to its own day): an answer would be ignored.
		in.count(func(c *Counts) { c.StaleTakes++ })
		in.o.Log.Info("late take not answered", "kiosk", kiosk, "id", t.ID, "err", err)
		return
	case errors.As(err, &le):
		g.Error = &wire.GivenError{Code: string(le.Code), Message: le.Error()}
		in.o.Log.Warn("take refused", "kiosk", kiosk, "category", t.Category, "err", err)
	case err != nil:
		// The ledger failed: no answer, the kiosk falls back to its lease within its deadline.
		in.o.Log.Error("take not served", "kiosk", kiosk, "err", err)
		return
	default:
		g.OK, g.Day, g.Code, g.Number, g.Lookup = true, tk.Day, tk.Code, tk.Number, tk.Lookup
		g.Ahead, g.ETAS = pos.Ahead, int64(pos.ETA/time.Second)
		in.count(func(c *Counts) { c.Given++ })
	}
	in.publish(wire.Kiosk{Hall: in.o.Hall, Kiosk: kiosk}.Topic(wire.KindGiven), false, g)
	in.QueueChanged()
}

func (in *Intake) event(ctx context.Context, kiosk string, b []byte) {
	e, err := wire.ParseEvent(b)
	if err != nil {
		// Not even an id to acknowledge: the kiosk's outbox will send it again, and it will be
		// refused again; the log says why.
		in.count(func(c *Counts) { c.Rejected++ })
		in.o.Log.Warn("event refused", "kiosk", kiosk, "err", err)
		return
	}
	if e.Type == wire.EventTicketIssued {
		// The queue's ticket row is the record, and Issued is idempotent: one commit per
		// event, so that a take arriving meanwhile waits behind one fsync, not two.
		if err := in.issued(ctx, kiosk, e); err != nil {
			var le *line.Error
			if !errors.Is(err, wire.ErrMalformed) && !errors.As(err, &le) {
				in.o.Log.Error("ticket event not applied; the kiosk will send it again", "kiosk", kiosk, "id", e.ID, "err", err)
				return
			}
			// Acknowledged all the same: sending it again would not change the answer (a
			// conflict is queued anyway, and logged by the queue).
			in.o.Log.Error("ticket event refused", "kiosk", kiosk, "id", e.ID, "err", err)
		}
		in.count(func(c *Counts) { c.Events++ })
		in.ack(kiosk, e.ID)
		return
	}
	var added int64
	err = in.o.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO intake_event (id, kiosk, type, ts, received, data)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			e.ID, kiosk, e.Type, e.TS.UnixNano(), in.o.Now().UnixNano(), string(e.Data))
		if err != nil {
			return err
		}
		added, err = res.RowsAffected()
		return err
	})
	if err != nil {
		in.o.Log.Error("event not recorded; the kiosk will send it again", "kiosk", kiosk, "id", e.ID, "err", err)
		return
	}
	if added == 0 {
		in.count(func(c *Counts) { c.Repeats++ })
	}
	if h := in.o.Handlers[e.Type]; h != nil {
		if err := h(ctx, kiosk, e); errors.Is(err, ErrRetry) {
			in.o.Log.Error("event not taken; the kiosk will send it again", "kiosk", kiosk, "id", e.ID, "type", e.Type, "err", err)
			return
		} else if err != nil {
			in.o.Log.Warn("event refused", "kiosk", kiosk, "id", e.ID, "type", e.Type, "err", err)
		}
	}
	in.count(func(c *Counts) { c.Events++ })
	in.ack(kiosk, e.ID)
}

// issued applies a ticket.issued event to the queue; a lease ticket's kiosk gets its lease
// topped up.
func (in *Intake) issued(ctx context.Context, kiosk string, e wire.Event) error {
	ti, err := wire.ParseTicketIssued(e.Data)
	if err != nil {
		return err
	}
	err = in.o.Queue.Issued(ctx, kiosk, line.Issued{
		Code: ti.Ticket, Day: ti.Day, Priority: ti.Priority, Reason: ti.PriorityReason, Matter: ti.Matter, Section: ti.Section,
		Take: ti.Take, Lease: ti.Lease, Lookup: ti.Lookup, IssuedAt: ti.IssuedAt, Abandoned: ti.Abandoned,
	})
	if err != nil {
		return err
	}
	if ti.Lease {
		in.grant(ctx, kiosk)
	}
	in.QueueChanged()
	return nil
}

func (in *Intake) ack(kiosk, id string) {
	in.mu.Lock()
	in.acks[kiosk] = append(in.acks[kiosk], id)
	n := len(in.acks[kiosk])
	in.mu.Unlock()
	if n >= 256 {
		in.flushAcks()
	}
}

func (in *Intake) flushAcks() {
	in.mu.Lock()
	acks := in.acks
	in.acks = map[string][]string{}
	in.mu.Unlock()
	for k, ids := range acks {
		in.publish(wire.Kiosk{Hall: in.o.Hall, Kiosk: k}.Topic(wire.KindAck), false, wire.Ack{IDs: ids})
	}
}

// grant tops up a kiosk's lease and publishes it, retained.
func (in *Intake) grant(ctx context.Context, kiosk string) {
	in.mu.Lock()
	in.kiosks[kiosk] = true
	in.mu.Unlock()
	days, err := in.o.Queue.Lease(ctx, kiosk)
	if err != nil {
		in.o.Log.Error("lease not granted", "kiosk", kiosk, "err", err)
		return
	}
	in.publish(wire.Kiosk{Hall: in.o.Hall, Kiosk: kiosk}.Topic(wire.KindLease), true,
		wire.Lease{Days: days, TS: wire.Stamp(in.o.Now(), in.o.Location)})
}

// publish sends v without waiting: QoS 1 with paho's in-flight store; a message that cannot go
// out (the broker down) is covered by the protocol (the kiosk falls back to its lease, sends
// its events again, and the lease is published again at the next connection).
func (in *Intake) publish(topic string, retained bool, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		in.o.Log.Error("message not encodable", "topic", topic, "err", err)
		return
	}
	in.cl.Publish(topic, 1, retained, b)
}

// queueRefresh is how often the hall's figures are published when nothing changes: kiosks
// take figures older than two minutes for stale and fall back on their own.
const queueRefresh = 30 * time.Second

// publishQueue sends the hall's figures, retained, at most once a second, and every
// queueRefresh while the hall is quiet.
func (in *Intake) publishQueue(ctx context.Context) {
	var last time.Time
	refresh := time.NewTicker(queueRefresh)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-in.kick:
		case <-refresh.C:
			if !in.Online() {
				continue
			}
		}
		if wait := time.Second - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		last = time.Now()
		s, err := in.o.Queue.Snapshot(ctx)
		if err != nil {
			in.o.Log.Error("queue figures not readable", "err", err)
			continue
		}
		in.publish(wire.QueueTopic(in.o.Hall), true, queueState(s, wire.Stamp(in.o.Now(), in.o.Location)))
	}
}

// queueState is the hall's queue figures as the kiosks read them.
func queueState(s line.Snapshot, ts time.Time) wire.QueueState {
	q := wire.QueueState{Day: s.Day, TS: ts, Categories: []wire.QueueCategory{}}
	for _, c := range s.Categories {
		q.Categories = append(q.Categories, wire.QueueCategory{Letter: c.Letter, Waiting: c.Waiting,
			WaitingPriority: c.WaitingPriority, LastCalled: c.LastCalled,
			AvgServiceS: int64(c.AvgService / time.Second), ETANextS: int64(c.ETANext / time.Second)})
	}
	return q
}

// midnight grants every kiosk the new day's lease (and the day after's) just after the hall's
// midnight, and publishes the new day's figures; every ten minutes too, in case a grant failed.
func (in *Intake) midnight(ctx context.Context) {
	for {
		now := in.o.Now().In(in.o.Location)
		y, m, d := now.Date()
		next := time.Date(y, m, d+1, 0, 0, 1, 0, in.o.Location)
		wait := min(next.Sub(now), 10*time.Minute)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if in.Online() {
			in.kickAll()
		}
	}
}
