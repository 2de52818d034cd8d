package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"citizenhome/hall/access"
	"citizenhome/sse"
)

// KeepAlive is how often an idle event stream gets a comment line, so proxies keep it open.
const KeepAlive = 15 * time.Second

// QueueEvery is the most often an event stream gets an `event: queue` (the spec: once a second).
const QueueEvery = time.Second

// keepAliveEvery and queueEvery are the constants; tests shorten them.
var (
	keepAliveEvery = KeepAlive
	queueEvery     = QueueEvery
)

// streamBuffer is how many events may wait for a slow client; one further behind is dropped
// (it reconnects with Last-Event-ID and gets the calls it missed).
const streamBuffer = 256

// streamWriteTimeout bounds one write to a stream's client that stopped reading.
const streamWriteTimeout = 10 * time.Second

// recentCalls is how many calls the hub keeps for GET /v1/calls without after=.
const recentCalls = 64

// callsPage is how many calls one read of the queue takes.
const callsPage = 200

// hub turns the queue's changes into events for every stream: each new call once, in order of
// id, and the queue's snapshot when it changed, at most once per queueEvery.
type hub struct {
	q   Queue
	log *slog.Logger

	wake chan struct{} // poke: something may have changed
	// The streams' frames: "call" with the call's id, "queue". Closed when run ends or the
	// http.Server shuts down: a stream asked for then is refused.
	streams *sse.Hub

	mu      sync.Mutex
	recent  []Call // the latest calls, oldest first
	last    int64  // the highest call id seen
	started bool
	lastQ   []byte // the last queue body sent
}

func newHub(q Queue, log *slog.Logger) *hub {
	return &hub{q: q, log: log, wake: make(chan struct{}, 1), streams: sse.NewHub(streamBuffer, sse.CloseOnShutdown())}
}

// poke makes run look at the queue now.
func (h *hub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *hub) run(ctx context.Context) error {
	changes, stop := h.q.Watch()
	defer stop()
	defer h.streams.Close()
	// The calls so far: only their ids matter (no stream replays them unasked).
	for {
		cs, err := h.q.Calls(ctx, h.lastID(), callsPage)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("web: reading the calls: %w", err)
		}
		h.remember(cs)
		if len(cs) < callsPage {
			break
		}
	}
	h.mu.Lock()
	h.started = true
	h.mu.Unlock()
	var lastQueue time.Time
	dirty := true
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-changes:
			if !ok {
				return fmt.Errorf("web: the queue's change feed ended")
			}
			h.newCalls(ctx)
			dirty = true
		case <-h.wake:
			h.newCalls(ctx)
			dirty = true
		case <-timer.C:
		}
		if !dirty {
			continue
		}
		if wait := queueEvery - time.Since(lastQueue); wait > 0 {
			timer.Reset(wait)
			continue
		}
		h.sendQueue(ctx)
		lastQueue, dirty = time.Now(), false
	}
}

func (h *hub) lastID() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// remember records cs (in id order) as seen and returns those not seen before.
func (h *hub) remember(cs []Call) []Call {
	h.mu.Lock()
	defer h.mu.Unlock()
	var fresh []Call
	for _, c := range cs {
		if c.ID <= h.last {
			continue
		}
		h.last = c.ID
		fresh = append(fresh, c)
		h.recent = append(h.recent, c)
	}
	if n := len(h.recent) - recentCalls; n > 0 {
		h.recent = append([]Call(nil), h.recent[n:]...)
	}
	return fresh
}

// newCalls sends every call after the last one seen, in order.
func (h *hub) newCalls(ctx context.Context) {
	for {
		cs, err := h.q.Calls(ctx, h.lastID(), callsPage)
		if err != nil {
			h.log.Error("reading new calls failed", "err", err)
			return
		}
		for _, c := range h.remember(cs) {
			data, _ := json.Marshal(callOut(c))
			h.streams.Publish(sse.Frame{Event: "call", ID: c.ID, Data: data})
		}
		if len(cs) < callsPage {
			return
		}
	}
}

func (h *hub) sendQueue(ctx context.Context) {
	snap, err := h.q.Snapshot(ctx)
	if err != nil {
		h.log.Error("reading the queue failed", "err", err)
		return
	}
	data, _ := json.Marshal(snapshotOut(snap))
	h.mu.Lock()
	same := string(data) == string(h.lastQ)
	h.lastQ = data
	h.mu.Unlock()
	if !same {
		h.streams.Publish(sse.Frame{Event: "queue", Data: data})
	}
}

// recentCalls is the remembered calls, oldest first, and whether the hub has read the queue's
// calls yet.
func (h *hub) recentCalls() ([]Call, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Call(nil), h.recent...), h.started
}

// events serves GET /v1/events: Server-Sent Events until the client leaves or Run ends.
//
//	event: queue  the /v1/queue body: first at once, then whenever it changed, at most once a second
//	event: call   {"id", "code", "window", "at", "recall", "announce"}, with "id:" the call's id
//
// A client that reconnects with Last-Event-ID (browsers do) first gets the calls after that id.
func (s *Server) events(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	s.hub.streams.EndOnShutdown(r)
	ch := s.hub.streams.Add()
	if ch == nil {
		writeError(w, http.StatusServiceUnavailable, "stopping", "halld is stopping")
		return
	}
	defer s.hub.streams.Remove(ch)
	st := sse.Start(w, streamWriteTimeout)
	write := func(f sse.Frame) bool { return st.Send(f) == nil }
	if !write(sse.Frame{Retry: 2 * time.Second, Comment: "halld events"}) {
		return
	}
	snap, err := s.o.Queue.Snapshot(r.Context())
	if err != nil {
		s.log.Error("reading the queue failed", "err", err)
		return
	}
	data, _ := json.Marshal(snapshotOut(snap))
	if !write(sse.Frame{Event: "queue", Data: data}) {
		return
	}
	var replayed int64
	if last, err := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64); err == nil && last >= 0 {
		for {
			cs, err := s.o.Queue.Calls(r.Context(), last, callsPage)
			if err != nil {
				s.log.Error("reading calls failed", "err", err)
				return
			}
			for _, c := range cs {
				d, _ := json.Marshal(callOut(c))
				if !write(sse.Frame{Event: "call", ID: c.ID, Data: d}) {
					return
				}
				last, replayed = c.ID, c.ID
			}
			if len(cs) < callsPage {
				break
			}
		}
	}
	tick := time.NewTicker(keepAliveEvery)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case e, ok := <-ch:
			if !ok {
				return
			}
			if e.ID > 0 && e.ID <= replayed {
				continue // sent by the replay already
			}
			if !write(e) {
				return
			}
		case <-tick.C:
			if !write(sse.Frame{Comment: "keep-alive"}) {
				return
			}
		}
	}
}

// calls serves GET /v1/calls: with after=ID the calls after that id, oldest first (limit=N, at
// most 500, default 100), for a display catching up after a reconnect; without after, the
// latest calls (up to limit), oldest first, for a display that starts.
func (s *Server) calls(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeError(w, http.StatusBadRequest, "bad-limit", "limit is 1 to 500")
			return
		}
		limit = n
	}
	var cs []Call
	if v := q.Get("after"); v != "" {
		after, err := strconv.ParseInt(v, 10, 64)
		if err != nil || after < 0 {
			writeError(w, http.StatusBadRequest, "bad-after", "after is a call's id, 0 or more")
			return
		}
		cs, err = s.o.Queue.Calls(r.Context(), after, limit)
		if err != nil {
			s.queueFailed(w, r, err)
			return
		}
	} else {
		recent, ok := s.hub.recentCalls()
		if !ok {
			writeError(w, http.StatusServiceUnavailable, "starting", "halld is starting; try again in a moment")
			return
		}
		cs = recent[max(0, len(recent)-limit):]
	}
	out := make([]callJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, callOut(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": out})
}

// voiceCache keeps the latest announcements: every display fetches each call once, and a hall
// may have several displays.
type voiceCache struct {
	v     Announcer
	mu    sync.Mutex
	byID  map[int64][]byte
	order []int64
}

const voiceCacheSize = 32

func newVoiceCache(v Announcer) *voiceCache { return &voiceCache{v: v, byID: map[int64][]byte{}} }

func (c *voiceCache) get(call Call) ([]byte, error) {
	c.mu.Lock()
	if b, ok := c.byID[call.ID]; ok {
		c.mu.Unlock()
		return b, nil
	}
	c.mu.Unlock()
	b, err := c.v.Announce(call.Code, call.Window)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byID[call.ID]; !ok {
		c.byID[call.ID] = b
		c.order = append(c.order, call.ID)
		if len(c.order) > voiceCacheSize {
			delete(c.byID, c.order[0])
			c.order = c.order[1:]
		}
	}
	return b, nil
}

// announcement serves GET /v1/announcements/{id}.wav: the call's spoken announcement.
func (s *Server) announcement(w http.ResponseWriter, r *http.Request, _ access.Principal) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".wav")
	id, err := strconv.ParseInt(name, 10, 64)
	if !ok || err != nil || id < 1 {
		writeError(w, http.StatusNotFound, "not-found", "no such announcement")
		return
	}
	if s.o.Voice == nil {
		writeError(w, http.StatusServiceUnavailable, "no-voice", "halld has no announcement voice configured")
		return
	}
	cs, err := s.o.Queue.Calls(r.Context(), id-1, 1)
	if err != nil {
		s.queueFailed(w, r, err)
		return
	}
	if len(cs) == 0 || cs[0].ID != id {
		writeError(w, http.StatusNotFound, "not-found", "no call "+name)
		return
	}
	wav, err := s.voice.get(cs[0])
	if err != nil {
		s.log.Error("making an announcement failed", "call", id, "err", err)
		writeError(w, http.StatusInternalServerError, "voice-failed", "the announcement could not be made")
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Length", strconv.Itoa(len(wav)))
	// A call's announcement never changes.
	w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(wav)
}
