package agent

import (
	"context"
	"fmt"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citizenhome/telemetry/wire"
)

// ackTimeout is how long an event may wait for the broker's acknowledgement before the session
// is given up as broken (keepalive would notice too, later).
const ackTimeout = 30 * time.Second

type flight struct {
	seq int64 // outbox seq
	tok paho.Token
	at  time.Time
}

// send publishes the outbox in order for one session, up to Window events awaiting their
// acknowledgement at once, and deletes events from the store once acknowledged (in batches:
// every delete is a durable commit). It starts after the birth. Whatever is not acknowledged
// when the session ends stays in the outbox and is sent first in the next session.
//
// With a hall controller the broker's acknowledgement only paces the sending: an event leaves
// the outbox when halld's ack names it (hallLoop), and resend sends it again meanwhile.
func (a *Agent) send(ctx context.Context, c *conn) {
	select {
	case <-c.born:
	case <-ctx.Done():
		return
	case <-c.lost:
		return
	}
	var (
		q          []flight
		last       int64 // newest outbox seq published in this session
		acked      int64 // newest outbox seq acknowledged and not yet deleted
		pendingDel int
		lastDel    = time.Now()
		more       = true // the outbox may hold events after last
	)
	flush := func() {
		if acked == 0 {
			return
		}
		if a.ctl {
			acked, pendingDel, lastDel = 0, 0, time.Now()
			return
		}
		if err := a.out.Delete(context.WithoutCancel(ctx), acked); err != nil {
			// Kept: they go again in the next session, and receivers drop the repeats.
			a.log.Warn("acknowledged events not deleted from the outbox", "err", err)
			return
		}
		acked, pendingDel, lastDel = 0, 0, time.Now()
		a.kick() // the status's outbox count changed
	}
	defer flush()
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	for {
		if more && len(q) < a.o.Window {
			es, err := a.out.Pending(ctx, last, a.o.Window-len(q))
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				a.log.Error("outbox not readable", "err", err)
			}
			more = len(es) == a.o.Window-len(q)
			for _, e := range es {
				ev := wire.Event{ID: e.ID, Boot: c.boot, TS: a.stamp(e.TS), Type: e.Type, Data: e.Data}
				tok, err := c.publishSeq(a.id.Topic(wire.KindEvent), false, func(seq int64) ([]byte, error) {
					ev.Seq = seq
					return jsonMarshal(ev)
				})
				if err != nil {
					a.log.Error("event not encodable; dropped", "id", e.ID, "type", e.Type, "err", err)
					continue
				}
				q = append(q, flight{seq: e.Seq, tok: tok, at: time.Now()})
				last = e.Seq
				c.sent.Store(last)
			}
		}
		if acked != 0 && (len(q) == 0 || pendingDel >= 128 || time.Since(lastDel) >= 100*time.Millisecond) {
			flush()
		}
		var wake <-chan struct{}
		if len(q) < a.o.Window {
			wake = a.out.Wake()
		}
		if len(q) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-c.lost:
				return
			case <-wake:
				more = true
			case <-poll.C:
				more = true
			}
			continue
		}
		head := q[0]
		timeout := time.NewTimer(max(ackTimeout-time.Since(head.at), 0))
		var flushC <-chan time.Time
		if acked != 0 {
			flushC = time.After(100 * time.Millisecond)
		}
		select {
		case <-ctx.Done():
			timeout.Stop()
			return
		case <-c.lost:
			timeout.Stop()
			return
		case <-timeout.C:
			c.fail(errNoAck)
			return
		case <-wake:
			more = true
		case <-flushC:
		case <-head.tok.Done():
			// Pop every acknowledged event at the head; acknowledgements come in order.
			for len(q) > 0 {
				select {
				case <-q[0].tok.Done():
				default:
					goto popped
				}
				if err := q[0].tok.Error(); err != nil || c.isLost() {
					timeout.Stop()
					if err == nil {
						err = errLost
					}
					c.fail(err)
					return
				}
				acked = q[0].seq
				pendingDel++
				q = q[1:]
			}
		popped:
		}
		timeout.Stop()
	}
}

var errNoAck = fmt.Errorf("telemetry: no acknowledgement from the broker within %s", ackTimeout)
