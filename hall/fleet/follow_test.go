package fleet_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"citizenhome/hall/fleet"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// forwarder listens on a port and, once opened, forwards every connection to target: the
// hall's broker "coming up" at an address a follower is already dialling.
type forwarder struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	open   bool
}

func newForwarder(t *testing.T, target string) *forwarder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			open := f.open
			f.mu.Unlock()
			if !open {
				c.Close() // the broker is "down": the connection is refused at once
				continue
			}
			go func() {
				defer c.Close()
				b, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer b.Close()
				go io.Copy(b, c)
				io.Copy(c, b)
			}()
		}
	}()
	return f
}

func (f *forwarder) setOpen() { f.mu.Lock(); f.open = true; f.mu.Unlock() }

// A follower starts while the broker is down (halld must serve its pages then), refuses
// commands without blocking, then connects by itself once the broker answers, tells its
// watchers, and carries a command with the order's sender.
func TestFollowerWaitsForTheBroker(t *testing.T) {
	env := mqtttest.Shared(t)
	u, err := url.Parse(env.URL)
	if err != nil || u.Scheme != "tcp" {
		t.Skipf("the shared broker %s is not plain tcp", env.URL)
	}
	fw := newForwarder(t, u.Host)
	s := env.Controller()
	s.URL = "tcp://" + fw.ln.Addr().String()
	f := fleet.Follow(s, fleet.NewView(), fleet.DialOptions{Hall: env.Hall, By: "halld"})
	defer f.Close()
	changes, unwatch := f.Watch()
	defer unwatch()

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_, err = f.Command(ctx, wire.Kiosk{Hall: env.Hall, Kiosk: "k21"}, fleet.Order{Name: wire.CmdUnlock})
	cancel()
	if !errors.Is(err, fleet.ErrNotConnected) || f.Connected() {
		t.Fatalf("command while the broker is down: %v (connected %v), want ErrNotConnected at once", err, f.Connected())
	}

	k, _, _ := startKiosk(t, env, "k21")
	id := wire.Kiosk{Hall: env.Hall, Kiosk: "k21"}
	fw.setOpen()
	deadline := time.After(15 * time.Second)
	for {
		// Connected once Dial has seen the retained picture; the view fills during it.
		if kk, ok := f.Kiosk(id); ok && kk.State == wire.StateReady && f.Connected() {
			break
		}
		select {
		case <-changes:
		case <-deadline:
			t.Fatalf("the follower did not connect and see k21 ready (connected %v)", f.Connected())
		}
	}
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := f.Command(ctx, id, fleet.Order{Name: wire.CmdLock, Args: map[string]string{"message": "检修"}, By: "crew-wang"})
	if err != nil || !r.OK {
		t.Fatalf("lock through the follower: %+v %v", r, err)
	}
	if locked, msg := k.Locked(); !locked || msg != "检修" {
		t.Errorf("kiosk after lock: %v %q", locked, msg)
	}
	// The lock's state change reaches the watcher.
	deadline = time.After(10 * time.Second)
	for {
		if kk, _ := f.Kiosk(id); kk.State == wire.StateLocked {
			break
		}
		select {
		case <-changes:
		case <-deadline:
			t.Fatal("no locked state seen by the watcher")
		}
	}
	f.Close()
	if _, err := f.Command(context.Background(), id, fleet.Order{Name: wire.CmdUnlock}); !errors.Is(err, fleet.ErrNotConnected) {
		t.Errorf("command after Close: %v", err)
	}
}
