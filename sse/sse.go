// Package sse serves Server-Sent Events (the WHATWG HTML standard, section 9.2): a Hub that fans
// frames out to the open streams without letting a slow client hold the publisher up, and a
// Stream that writes one response's frames. halld's pages (hall/web) and kioskd's local API
// (internal/localapi) stream with it.
//
// It imports nothing of the module: the hall's side and the kiosk's, which may not import each
// other, share it.
package sse

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrFrame is returned for a frame that cannot be written: an event name with a line break in
// it, which would end the field early and turn the rest into fields of its own.
var ErrFrame = errors.New("sse: bad frame")

// Frame is one block of an event stream, written in this order and ended by a blank line:
//
//	retry: <Retry in milliseconds>   when Retry > 0
//	: <Comment>                      one line per line of Comment, when it is not ""
//	event: <Event>                   when Event is not ""
//	id: <ID>                         when ID > 0
//	data: <Data>                     one line per line of Data, when Event or Data is not empty
//
// A frame with Event "" and no Data is no event for the client: a keep-alive comment, or a
// reconnection delay.
type Frame struct {
	Retry   time.Duration
	Comment string
	Event   string
	ID      int64
	Data    []byte
}

// Append appends f's bytes to b. Errors: ErrFrame for an Event with a CR or LF in it. Line
// breaks in Comment and Data (CR, LF or CRLF) start a new comment or data line; a Retry under a
// millisecond is written as 0.
func (f Frame) Append(b []byte) ([]byte, error) {
	if strings.ContainsAny(f.Event, "\r\n") {
		return b, fmt.Errorf("%w: event name %q has a line break", ErrFrame, f.Event)
	}
	if f.Retry > 0 {
		b = append(b, "retry: "...)
		b = strconv.AppendInt(b, f.Retry.Milliseconds(), 10)
		b = append(b, '\n')
	}
	if f.Comment != "" {
		for _, l := range lines(f.Comment) {
			b = append(append(append(b, ": "...), l...), '\n')
		}
	}
	if f.Event != "" {
		b = append(append(append(b, "event: "...), f.Event...), '\n')
	}
	if f.ID > 0 {
		b = append(b, "id: "...)
		b = strconv.AppendInt(b, f.ID, 10)
		b = append(b, '\n')
	}
	if f.Event != "" || len(f.Data) > 0 {
		for _, l := range lines(string(f.Data)) {
			b = append(append(append(b, "data: "...), l...), '\n')
		}
	}
	return append(b, '\n'), nil
}

// lines splits s at CRLF, CR and LF: the stream's line ends.
func lines(s string) []string {
	return strings.Split(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"), "\n")
}

// Stream writes the frames of one response.
type Stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

// Start answers 200 with an event stream's headers (Content-Type text/event-stream, no caching,
// and X-Accel-Buffering: no, which keeps nginx from holding frames back) and returns the stream.
// Each Send may take writeTimeout at most (0: no limit): a client that stopped reading does not
// hold its handler for ever. Headers set on w before Start are kept.
func Start(w http.ResponseWriter, writeTimeout time.Duration) *Stream {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return &Stream{w: w, rc: http.NewResponseController(w), timeout: writeTimeout}
}

// Send writes f in one write and flushes it to the client. Errors: ErrFrame (nothing is
// written), the write's or the flush's (the client left, or did not read within the write
// timeout: the handler should return), http.ErrNotSupported when the ResponseWriter cannot
// flush. A writer without write deadlines is written to without one.
func (s *Stream) Send(f Frame) error {
	b, err := f.Append(nil)
	if err != nil {
		return err
	}
	if s.timeout > 0 {
		_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	}
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}

// Hub is the set of open streams of one kind: Publish hands a frame to each. Its methods are
// safe for concurrent use.
type Hub struct {
	buffer          int
	closeOnShutdown bool

	mu      sync.Mutex
	clients map[<-chan Frame]chan Frame
	servers map[*http.Server]bool // whose Shutdown ends the streams
	closed  bool
}

// Option tunes NewHub.
type Option func(*Hub)

// CloseOnShutdown has the shutdown of a server named to EndOnShutdown Close the hub (no stream
// starts after it, on any server) rather than only end the streams open then (EndAll).
func CloseOnShutdown() Option { return func(h *Hub) { h.closeOnShutdown = true } }

// NewHub returns a hub whose streams may each have buffer frames waiting (at least 1).
func NewHub(buffer int, opts ...Option) *Hub {
	h := &Hub{buffer: max(buffer, 1), clients: map[<-chan Frame]chan Frame{}, servers: map[*http.Server]bool{}}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Add registers a stream and returns the channel its frames come on. The channel is closed when
// the stream is to end: the stream fell behind (Publish), the hub ended its streams (EndAll,
// Close, a server's shutdown), or Remove. Add returns nil once the hub is closed.
func (h *Hub) Add() <-chan Frame {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	ch := make(chan Frame, h.buffer)
	h.clients[ch] = ch
	return ch
}

// Remove unregisters the stream of ch and closes ch; one already ended (or nil) is left alone.
func (h *Hub) Remove(ch <-chan Frame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop(ch)
}

// Publish hands f to every stream without blocking: a stream whose buffer is full has fallen
// behind and is ended (its channel closed, after the frames it holds), so that one slow client
// holds up neither the publisher nor the others. The streams share f's Data: it must not change
// after.
func (h *Hub) Publish(f Frame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for key, ch := range h.clients {
		select {
		case ch <- f:
		default:
			h.drop(key)
		}
	}
}

// EndAll ends every open stream; streams added after start as usual.
func (h *Hub) EndAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for key := range h.clients {
		h.drop(key)
	}
}

// Close ends every open stream, and Add returns nil after it. Closing twice does nothing more.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for key := range h.clients {
		h.drop(key)
	}
}

// Len is how many streams are open.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// EndOnShutdown has the http.Server that serves r end the hub's streams when it shuts down
// (EndAll, or Close with CloseOnShutdown): its Shutdown waits for the open handlers, and a stream
// would keep it waiting for ever. It registers once per server; a request served by no
// http.Server (an httptest.ResponseRecorder's) registers nothing.
func (h *Hub) EndOnShutdown(r *http.Request) {
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.servers[srv] {
		return
	}
	h.servers[srv] = true
	if h.closeOnShutdown {
		srv.RegisterOnShutdown(h.Close)
	} else {
		srv.RegisterOnShutdown(h.EndAll)
	}
}

// drop ends the stream of key, if open; h.mu is held.
func (h *Hub) drop(key <-chan Frame) {
	if ch, ok := h.clients[key]; ok {
		delete(h.clients, key)
		close(ch)
	}
}
