package localapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"citizenhome/kiosk"
	"citizenhome/sse"
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

// events fans the core's events out to the SSE clients. It subscribes to the core once, when
// the server is built (kiosk.Subscribe has no unsubscribe).
type events struct {
	// The streams' frames: card.inserted, card.removed, device.changed, each a JSON object. A
	// server's Shutdown ends the streams open then.
	streams *sse.Hub
	// open counts the streams being served, up to max (Limits.MaxStreams).
	open atomic.Int64
	max  int64
}

func newEvents(src EventSource, maxStreams int) *events {
	h := &events{streams: sse.NewHub(streamBuffer), max: int64(maxStreams)}
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
	h.streams.Publish(sse.Frame{Event: name, Data: data})
}

func (h *events) add() <-chan sse.Frame { return h.streams.Add() }

func (h *events) remove(ch <-chan sse.Frame) { h.streams.Remove(ch) }

// clientCount is for tests.
func (h *events) clientCount() int { return h.streams.Len() }

// serve serves GET /v1/events: Server-Sent Events until the client leaves (or the request's
// context ends, or the http.Server shuts down). Each event is "event: NAME" and one
// "data:" line holding a JSON object:
//
//	card.inserted   {"kind", "reader", "uid" (when the card gives one), "read_failed", "time"}
//	card.removed    {"kind", "reader", "time"}
//	device.changed  {"device", "state", "detail", "since"}
//
// The card's data are not in the stream: GET /v1/card gives them. A comment line comes every
// KeepAlive when nothing else does. Beyond the server's MaxStreams open streams a request is
// answered 503 too-many-streams, with Retry-After.
func (h *events) serve(w http.ResponseWriter, r *http.Request) {
	if h.open.Add(1) > h.max {
		h.open.Add(-1)
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "too-many-streams",
			fmt.Sprintf("%d event streams are open, the most this API serves at once: close one (or retry later)", h.max))
		return
	}
	defer h.open.Add(-1)
	// The server's ReadTimeout and WriteTimeout (Limits) do not end a stream: net/http lifts the
	// read deadline once a request's body is read, and each frame sets its own write deadline
	// (sse.Stream, streamWriteTimeout) in place of the server's.
	h.streams.EndOnShutdown(r)
	ch := h.add()
	defer h.remove(ch)
	st := sse.Start(w, streamWriteTimeout)
	write := func(f sse.Frame) bool { return st.Send(f) == nil }
	if !write(sse.Frame{Comment: "citizenhome kioskd events"}) {
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
			if !write(e) {
				return
			}
			tick.Reset(keepAliveEvery)
		case <-tick.C:
			if !write(sse.Frame{Comment: "keep-alive"}) {
				return
			}
		}
	}
}
