package localapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"citizenhome/kiosk"
)

// EventSource is what GET /v1/events needs of the core: its device events and card events (a
// core that sends none leaves the stream with its keep-alive comments only).
type EventSource interface {
	Subscribe(fn func(kiosk.Event))
	SubscribeCards(fn func(kiosk.CardEvent))
}

// KeepAlive is how often the event stream sends a comment line when nothing happens, so that
// proxies and clients keep it open.
const KeepAlive = 15 * time.Second

// keepAliveEvery is KeepAlive; tests shorten it.
var keepAliveEvery = KeepAlive

// streamBuffer is how many events may wait for a slow client; one that falls further behind is
// disconnected (it reconnects and reads GET /v1/card) rather than holding the kiosk up.
const streamBuffer = 64

// streamWriteTimeout bounds one write to a client that stopped reading.
const streamWriteTimeout = 10 * time.Second

type sse struct {
	name string // card.inserted, card.removed, device.changed
	data []byte // JSON object
}

// events fans the core's events out to the SSE clients. It subscribes to the core once, when
// the server is built (kiosk.Subscribe has no unsubscribe).
type events struct {
	mu      sync.Mutex
	clients map[chan sse]struct{}
	servers map[*http.Server]bool // whose Shutdown ends the streams
}

func newEvents(src EventSource) *events {
	h := &events{clients: map[chan sse]struct{}{}, servers: map[*http.Server]bool{}}
	src.SubscribeCards(func(e kiosk.CardEvent) {
		m := map[string]any{"kind": e.Kind, "reader": e.Reader, "time": e.Time.Format(time.RFC3339)}
		name := "card.removed"
		if e.Inserted {
			name = "card.inserted"
			if len(e.UID) > 0 {
				m["uid"] = fmt.Sprintf("%X", e.UID)
			}
			m["read_failed"] = e.Failed
		}
		h.publish(name, m)
	})
	src.Subscribe(func(e kiosk.Event) {
		if e.Kind != kiosk.EventDevice {
			return
		}
		h.publish("device.changed", map[string]any{
			"device": e.Device, "state": e.State.State, "detail": e.State.Detail,
			"since": e.State.Since.Format(time.RFC3339),
		})
	})
	return h
}

// publish hands an event to every client without blocking: the core calls it from device
// goroutines.
func (h *events) publish(name string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.clients {
		select {
		case ch <- sse{name: name, data: data}:
		default:
			delete(h.clients, ch)
			close(ch)
		}
	}
}

func (h *events) add() chan sse {
	ch := make(chan sse, streamBuffer)
	h.mu.Lock()
	h.clients[ch] = struct{}{}
	h.mu.Unlock()
	return ch
}

func (h *events) remove(ch chan sse) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[ch]; ok {
		delete(h.clients, ch)
		close(ch)
	}
}

// closeAll ends every stream (the server shuts down: Shutdown would wait for them for ever).
func (h *events) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.clients {
		delete(h.clients, ch)
		close(ch)
	}
}

// endOnShutdown has srv's Shutdown end the streams, once per server.
func (h *events) endOnShutdown(r *http.Request) {
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.servers[srv] {
		h.servers[srv] = true
		srv.RegisterOnShutdown(h.closeAll)
	}
}

// clientCount is for tests.
func (h *events) clientCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// serve serves GET /v1/events: Server-Sent Events until the client leaves (or the request's
// context ends, or the http.Server shuts down). Each event is "event: NAME" and one
// "data:" line holding a JSON object:
//
//	card.inserted   {"kind", "reader", "uid" (when the card gives one), "read_failed", "time"}
//	card.removed    {"kind", "reader", "time"}
//	device.changed  {"device", "state", "detail", "since"}
//
// The card's data are not in the stream: GET /v1/card gives them. A comment line comes every
// KeepAlive when nothing else does.
func (h *events) serve(w http.ResponseWriter, r *http.Request) {
	h.endOnShutdown(r)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	ch := h.add()
	defer h.remove(ch)
	w.WriteHeader(http.StatusOK)
	write := func(s string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := fmt.Fprint(w, s); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(": citizenhome kioskd events\n\n") {
		return
	}
	tick := time.NewTicker(keepAliveEvery)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case e, ok := <-ch:
			if !ok {
				return // fell behind
			}
			if !write("event: " + e.name + "\ndata: " + string(e.data) + "\n\n") {
				return
			}
			tick.Reset(keepAliveEvery)
		case <-tick.C:
			if !write(": keep-alive\n\n") {
				return
			}
		}
	}
}
