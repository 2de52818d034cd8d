package fleet

import (
	"context"
	"errors"
	"sync"
	"time"

	"citizenhome/telemetry/link"
	"citizenhome/telemetry/wire"
)

// ErrNotConnected is returned by Follower.Command before the first connection to the broker.
var ErrNotConnected = errors.New("fleet: not connected to the hall's broker yet")

// Follower is a View kept by a long-running program (halld): unlike Dial, Follow returns at
// once and keeps dialling in the background while the broker is down (a controller must start
// and serve its pages without it), and it tells watchers when the view changed. Once connected,
// paho reconnects by itself. Safe for concurrent use.
type Follower struct {
	view *View

	mu       sync.Mutex
	conn     *Conn
	watchers map[chan struct{}]struct{}
	closed   bool
	cancel   context.CancelFunc
	done     chan struct{}
}

// Follow starts following the hall o.Hall with s into v and returns at once. o.OnUpdate, when
// set, is called for every message applied (v already holds it), before the watchers are told;
// it must not block. Dial errors are logged (o.Log) and retried with a back-off from 1 s to
// 30 s until Close.
func Follow(s link.Settings, v *View, o DialOptions) *Follower {
	ctx, cancel := context.WithCancel(context.Background())
	f := &Follower{view: v, watchers: map[chan struct{}]struct{}{}, cancel: cancel, done: make(chan struct{})}
	inner := o.OnUpdate
	o.OnUpdate = func(u Update) {
		if inner != nil {
			inner(u)
		}
		f.changed()
	}
	go f.dial(ctx, s, o)
	return f
}

func (f *Follower) dial(ctx context.Context, s link.Settings, o DialOptions) {
	defer close(f.done)
	wait := time.Second
	for {
		dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		c, err := Dial(dctx, s, f.view, o)
		cancel()
		if err == nil {
			f.mu.Lock()
			if f.closed {
				f.mu.Unlock()
				c.Close()
				return
			}
			f.conn = c
			f.mu.Unlock()
			f.changed() // the retained picture is in
			return
		}
		if ctx.Err() != nil {
			return
		}
		if o.Log != nil {
			o.Log.Warn("fleet: the hall's broker does not answer; retrying", "err", err, "in", wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// changed tells every watcher, without blocking: a watcher that has not yet taken the last
// signal gets no second one, it reads the view once for both.
func (f *Follower) changed() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Kiosks returns every kiosk known, sorted by id (View.Kiosks).
func (f *Follower) Kiosks() []Kiosk { return f.view.Kiosks() }

// Kiosk returns one kiosk of the view.
func (f *Follower) Kiosk(id wire.Kiosk) (Kiosk, bool) { return f.view.Kiosk(id) }

// Watch returns a channel that receives a signal after the view changed (many changes may give
// one signal) and the function that ends the watch; after it, and after Close, the channel gets
// nothing more. It is never closed.
func (f *Follower) Watch() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	if !f.closed {
		f.watchers[ch] = struct{}{}
	}
	f.mu.Unlock()
	return ch, func() {
		f.mu.Lock()
		delete(f.watchers, ch)
		f.mu.Unlock()
	}
}

// Connected reports whether the first connection is made (paho reconnects after it).
func (f *Follower) Connected() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conn != nil
}

// Command is Conn.Command over the follower's connection; ErrNotConnected before the first.
func (f *Follower) Command(ctx context.Context, k wire.Kiosk, o Order) (wire.Reply, error) {
	f.mu.Lock()
	c := f.conn
	f.mu.Unlock()
	if c == nil {
		return wire.Reply{}, ErrNotConnected
	}
	return c.Command(ctx, k, o)
}

// Close stops dialling, disconnects and ends every watch. It waits for a dial under way.
func (f *Follower) Close() {
	f.mu.Lock()
	f.closed = true
	f.watchers = map[chan struct{}]struct{}{}
	f.mu.Unlock()
	f.cancel()
	<-f.done
	f.mu.Lock()
	c := f.conn
	f.conn = nil
	f.mu.Unlock()
	if c != nil {
		c.Close()
	}
}
