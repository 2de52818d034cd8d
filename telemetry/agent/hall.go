package agent

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citizenhome/kiosk"
	"citizenhome/telemetry/wire"
)

// The hall's one numbering (hall.controller = true; docs/telemetry.md): the agent is the core's
// kiosk.HallNumbers. It asks halld for each number (ticket/take → ticket/given), keeps the lease
// halld grants (lease, retained) in the store through the core, keeps halld's latest queue
// figures (controller/queue), and deletes an event from the outbox only when halld's ack names
// it; unacknowledged events are sent again when halld comes online and every ResendEvery while it
// is online. Without a controller none of this runs and nothing is subscribed to.

// DefaultResendEvery is how often, while halld is online, the events it has not acknowledged
// are sent again.
const DefaultResendEvery = 10 * time.Second

var (
	_ kiosk.HallNumbers = (*Agent)(nil)
	_ kiosk.HallAnswers = (*Agent)(nil)
)

// hallItem is a lease to merge or an ack to apply, handed from paho's router goroutine to
// hallLoop (store writes must not hold up the delivery of a given number).
type hallItem struct {
	lease *wire.Lease
	ids   []string
	ack   func() // the broker's acknowledgement of the message, once applied
}

// Take publishes take and waits for halld's answer with its id (kiosk.HallNumbers). It returns
// kiosk.ErrHallUnreachable at once, sending nothing, without a session or while halld's
// retained state is not online (offline, or not known yet in this session); ctx's error when no
// answer came before ctx ended; errLost when the session was lost after the take was sent.
func (a *Agent) Take(ctx context.Context, take wire.Take) (wire.Given, error) {
	if err := take.Check(); err != nil {
		return wire.Given{}, err
	}
	return request(ctx, a, wire.KindTake, take.ID, take, a.takes)
}

// Ask publishes ask and waits for halld's answer with its id (kiosk.HallAnswers), with Take's
// errors.
func (a *Agent) Ask(ctx context.Context, ask wire.Ask) (wire.Answer, error) {
	if err := ask.Check(); err != nil {
		return wire.Answer{}, err
	}
	return request(ctx, a, wire.KindAsk, ask.ID, ask, a.asks)
}

// request publishes v on the kiosk's kind topic and waits for the answer that onHallMessage
// puts in waiting under id.
func request[T any](ctx context.Context, a *Agent, kind, id string, v any, waiting map[string]chan T) (T, error) {
	var zero T
	c := a.current()
	if !a.ctl || c == nil || c.controller() != ctrlOnline {
		return zero, kiosk.ErrHallUnreachable
	}
	b, err := jsonMarshal(v)
	if err != nil {
		return zero, err
	}
	ch := make(chan T, 1)
	a.tmu.Lock()
	waiting[id] = ch
	a.tmu.Unlock()
	defer func() {
		a.tmu.Lock()
		delete(waiting, id)
		a.tmu.Unlock()
	}()
	tok := c.publish(a.id.Topic(kind), false, b)
	sent := tok.Done() // nil once the broker took it: the answer may still come
	for {
		select {
		case v := <-ch:
			return v, nil
		case <-ctx.Done():
			return zero, ctx.Err()
		case <-c.lost:
			return zero, errLost
		case <-sent:
			if err := tok.Error(); err != nil {
				return zero, fmt.Errorf("telemetry: %s not sent: %w", kind, err)
			}
			sent = nil
		}
	}
}

// answered hands an answer to the request waiting under id, if any: an answer after the kiosk
// gave up is dropped.
func answered[T any](a *Agent, waiting map[string]chan T, id string, v T) {
	a.tmu.Lock()
	ch := waiting[id]
	a.tmu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- v:
	default:
	}
}

// Queue returns halld's latest queue figures while halld is online in the current session
// (kiosk.HallNumbers); false otherwise.
func (a *Agent) Queue() (wire.QueueState, bool) {
	c := a.current()
	if !a.ctl || c == nil || c.controller() != ctrlOnline {
		return wire.QueueState{}, false
	}
	a.tmu.Lock()
	defer a.tmu.Unlock()
	return a.hallQ, a.hasQ
}

// Controller states seen in a session (conn.ctrl).
const (
	ctrlUnknown = 0
	ctrlOffline = 1
	ctrlOnline  = 2
)

func (c *conn) controller() int {
	c.ctrlMu.Lock()
	defer c.ctrlMu.Unlock()
	return c.ctrl
}

// hallTopics are the numbering's subscriptions of a kiosk with a controller.
func (a *Agent) hallTopics() map[string]byte {
	return map[string]byte{
		a.id.Topic(wire.KindGiven):  1,
		a.id.Topic(wire.KindLease):  1,
		a.id.Topic(wire.KindAck):    1,
		a.id.Topic(wire.KindAnswer): 1,
		wire.QueueTopic(a.id.Hall):  1,
	}
}

// onHallMessage takes a numbering message; false when the topic is not one.
func (a *Agent) onHallMessage(m paho.Message) bool {
	switch m.Topic() {
	case a.id.Topic(wire.KindGiven):
		m.Ack()
		g, err := wire.ParseGiven(m.Payload())
		if err != nil {
			a.log.Warn("malformed number from the hall controller; ignored", "err", err)
			return true
		}
		answered(a, a.takes, g.ID, g) // after the kiosk gave up, the take is abandoned
	case a.id.Topic(wire.KindAnswer):
		m.Ack()
		ans, err := wire.ParseAnswer(m.Payload())
		if err != nil {
			a.log.Warn("malformed answer from the hall controller; ignored", "err", err)
			return true
		}
		answered(a, a.asks, ans.ID, ans)
	case a.id.Topic(wire.KindLease):
		if len(m.Payload()) == 0 {
			m.Ack() // a cleared retained lease grants nothing and takes nothing back
			return true
		}
		l, err := wire.ParseLease(m.Payload())
		if err != nil {
			m.Ack()
			a.log.Warn("malformed lease from the hall controller; ignored", "err", err)
			return true
		}
		a.queueHall(hallItem{lease: &l, ack: m.Ack})
	case a.id.Topic(wire.KindAck):
		ack, err := wire.ParseAck(m.Payload())
		if err != nil {
			m.Ack()
			a.log.Warn("malformed ack from the hall controller; ignored", "err", err)
			return true
		}
		a.queueHall(hallItem{ids: ack.IDs, ack: m.Ack})
	case wire.QueueTopic(a.id.Hall):
		m.Ack()
		if len(m.Payload()) == 0 {
			return true
		}
		q, err := wire.ParseQueueState(m.Payload())
		if err != nil {
			a.log.Warn("malformed queue figures from the hall controller; ignored", "err", err)
			return true
		}
		a.tmu.Lock()
		if !a.hasQ || !q.TS.Before(a.hallQ.TS) {
			a.hallQ, a.hasQ = q, true
		}
		a.tmu.Unlock()
	default:
		return false
	}
	return true
}

func (a *Agent) queueHall(it hallItem) {
	a.tmu.Lock()
	a.hallq = append(a.hallq, it)
	a.tmu.Unlock()
	select {
	case a.hallWake <- struct{}{}:
	default:
	}
}

// hallLoop merges leases and applies acks in the order they came, each acknowledged to the
// broker only once written: a kiosk killed meanwhile gets the message again.
func (a *Agent) hallLoop(ctx context.Context) {
	for {
		a.tmu.Lock()
		q := a.hallq
		a.hallq = nil
		a.tmu.Unlock()
		for _, it := range q {
			wctx := context.WithoutCancel(ctx)
			var err error
			switch {
			case it.lease != nil:
				var n int
				if n, err = a.k.MergeLease(wctx, *it.lease); err == nil && n > 0 {
					a.log.Info("lease from the hall controller kept", "new_numbers", n)
				}
			default:
				var n int64
				if n, err = a.out.Ack(wctx, it.ids); err == nil && n > 0 {
					a.kick() // the status's outbox count changed
				}
			}
			if err != nil {
				// Not acknowledged to the broker: it delivers the message again in the next
				// session (and a lease is retained anyway).
				a.log.Error("hall controller message not stored", "lease", it.lease != nil, "err", err)
				continue
			}
			it.ack()
		}
		select {
		case <-ctx.Done():
			return
		case <-a.hallWake:
		}
	}
}

// resend sends again, for one session, the events halld has not acknowledged: at once when halld
// comes online, then every ResendEvery while it is online, at most Window events a round, oldest
// first. A round re-sends only events the session sent before the previous round (or, when
// halld has just come online, before now): an event just sent is still on its way to halld.
func (a *Agent) resend(ctx context.Context, c *conn) {
	select {
	case <-c.born:
	case <-ctx.Done():
		return
	case <-c.lost:
		return
	}
	tick := time.NewTicker(a.o.ResendEvery)
	defer tick.Stop()
	var mark int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.lost:
			return
		case <-c.online:
			a.resendRound(ctx, c, c.sent.Load())
			mark = c.sent.Load()
		case <-tick.C:
			if c.controller() == ctrlOnline {
				a.resendRound(ctx, c, mark)
			}
			mark = c.sent.Load()
		}
	}
}

func (a *Agent) resendRound(ctx context.Context, c *conn, upto int64) {
	if upto == 0 {
		return
	}
	es, err := a.out.Pending(ctx, 0, a.o.Window)
	if err != nil {
		a.log.Warn("outbox not readable for a re-send", "err", err)
		return
	}
	var last paho.Token
	n := 0
	for _, e := range es {
		if e.Seq > upto {
			break
		}
		ev := wire.Event{ID: e.ID, Boot: c.boot, TS: a.stamp(e.TS), Type: e.Type, Data: e.Data}
		tok, err := c.publishSeq(a.id.Topic(wire.KindEvent), false, func(seq int64) ([]byte, error) {
			ev.Seq = seq
			return jsonMarshal(ev)
		})
		if err != nil {
			continue
		}
		last, n = tok, n+1
	}
	if last == nil {
		return
	}
	a.log.Info("events not acknowledged by the hall controller sent again", "count", n)
	// Wait for the broker before the next round, so rounds never pile up in paho.
	if err := c.acked(ctx, last, ackTimeout); err != nil && !errors.Is(err, errLost) && ctx.Err() == nil {
		c.fail(err)
	}
}

// sentMark is the newest outbox seq a session's send loop has published.
type sentMark = atomic.Int64
