package sse_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"citizenhome/sse"
)

func TestFrameFormat(t *testing.T) {
	for _, c := range []struct {
		name string
		f    sse.Frame
		want string
	}{
		{"keep-alive", sse.Frame{Comment: "keep-alive"}, ": keep-alive\n\n"},
		{"retry and comment", sse.Frame{Retry: 2 * time.Second, Comment: "halld events"}, "retry: 2000\n: halld events\n\n"},
		{"event", sse.Frame{Event: "queue", Data: []byte(`{"a":1}`)}, "event: queue\ndata: {\"a\":1}\n\n"},
		{"event with id", sse.Frame{Event: "call", ID: 42, Data: []byte(`{}`)}, "event: call\nid: 42\ndata: {}\n\n"},
		{"no id at 0", sse.Frame{Event: "call", ID: 0, Data: []byte(`x`)}, "event: call\ndata: x\n\n"},
		{"event without data", sse.Frame{Event: "ping"}, "event: ping\ndata: \n\n"},
		{"data alone", sse.Frame{Data: []byte("x")}, "data: x\n\n"},
		{"lines of data", sse.Frame{Event: "m", Data: []byte("a\nb\r\nc\rd")}, "event: m\ndata: a\ndata: b\ndata: c\ndata: d\n\n"},
		{"lines of comment", sse.Frame{Comment: "one\ntwo"}, ": one\n: two\n\n"},
		{"empty", sse.Frame{}, "\n"},
	} {
		got, err := c.f.Append([]byte("<"))
		if err != nil || string(got) != "<"+c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, "<"+c.want)
		}
	}
	for _, name := range []string{"a\nb", "a\rb"} {
		if b, err := (sse.Frame{Event: name, Data: []byte("x")}).Append(nil); !errors.Is(err, sse.ErrFrame) || len(b) != 0 {
			t.Errorf("event %q: %q, %v; want ErrFrame and nothing", name, b, err)
		}
	}
}

func TestStartAndSend(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("X-Mine", "kept")
	st := sse.Start(rec, time.Second)
	if err := st.Send(sse.Frame{Event: "e", ID: 7, Data: []byte("d")}); err != nil {
		t.Fatal(err)
	}
	if err := st.Send(sse.Frame{Event: "bad\n", Data: []byte("d")}); !errors.Is(err, sse.ErrFrame) {
		t.Errorf("bad frame: %v", err)
	}
	h := rec.Result().Header
	if rec.Code != 200 || h.Get("Content-Type") != "text/event-stream; charset=utf-8" || h.Get("Cache-Control") != "no-store" ||
		h.Get("X-Accel-Buffering") != "no" || h.Get("X-Mine") != "kept" {
		t.Errorf("%d %v", rec.Code, h)
	}
	if got := rec.Body.String(); got != "event: e\nid: 7\ndata: d\n\n" {
		t.Errorf("body %q", got)
	}
	if !rec.Flushed {
		t.Error("not flushed")
	}
}

// collect reads ch until it is closed or n frames came.
func collect(t *testing.T, ch <-chan sse.Frame, n int) []string {
	t.Helper()
	var got []string
	timeout := time.After(5 * time.Second)
	for len(got) < n {
		select {
		case f, ok := <-ch:
			if !ok {
				return got
			}
			got = append(got, string(f.Data))
		case <-timeout:
			t.Fatalf("after %v: no more frames", got)
		}
	}
	return got
}

func TestFanOut(t *testing.T) {
	h := sse.NewHub(8)
	chs := []<-chan sse.Frame{h.Add(), h.Add(), h.Add()}
	if h.Len() != 3 {
		t.Fatalf("Len %d", h.Len())
	}
	for _, d := range []string{"1", "2", "3"} {
		h.Publish(sse.Frame{Event: "n", Data: []byte(d)})
	}
	for i, ch := range chs {
		if got := strings.Join(collect(t, ch, 3), ","); got != "1,2,3" {
			t.Errorf("stream %d: %s", i, got)
		}
	}
	h.Remove(chs[1])
	h.Remove(chs[1]) // twice: nothing more
	if _, ok := <-chs[1]; ok || h.Len() != 2 {
		t.Errorf("removed stream open, or Len %d", h.Len())
	}
	h.Publish(sse.Frame{Data: []byte("4")})
	if got := collect(t, chs[0], 1); len(got) != 1 || got[0] != "4" {
		t.Errorf("after a Remove: %v", got)
	}
}

// A client that does not read is ended once its buffer is full; the others get every frame and
// Publish never waits.
func TestSlowClientDropped(t *testing.T) {
	h := sse.NewHub(2)
	slow, fast := h.Add(), h.Add()
	done := make(chan string)
	go func() { // reads the fast client's frames as they come (until its channel closes)
		var got []byte
		for f := range fast {
			got = append(got, f.Data...)
			if len(got) == 5 {
				break
			}
		}
		done <- string(got)
	}()
	for i := range 5 {
		h.Publish(sse.Frame{Data: []byte{'a' + byte(i)}})
		// The fast client keeps up: wait until it took the frame.
		for deadline := time.Now().Add(5 * time.Second); len(fast) > 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the fast client does not read")
			}
		}
	}
	if got := <-done; got != "abcde" {
		t.Errorf("fast client: %q", got)
	}
	// The slow one keeps what it had room for, then its channel is closed.
	if got := strings.Join(collect(t, slow, 10), ""); got != "ab" {
		t.Errorf("slow client: %q", got)
	}
	if h.Len() != 1 {
		t.Errorf("Len %d after the drop", h.Len())
	}
	h.Remove(slow) // already ended: no double close
}

func TestEndAllAndClose(t *testing.T) {
	h := sse.NewHub(0) // taken as 1
	ch := h.Add()
	h.Publish(sse.Frame{Data: []byte("x")})
	h.EndAll()
	if got := collect(t, ch, 5); len(got) != 1 || h.Len() != 0 {
		t.Errorf("EndAll: %v, Len %d", got, h.Len())
	}
	ch = h.Add()
	if ch == nil {
		t.Fatal("Add after EndAll: nil")
	}
	h.Close()
	if _, ok := <-ch; ok {
		t.Error("Close left a stream open")
	}
	if h.Add() != nil || h.Len() != 0 {
		t.Error("Add after Close")
	}
	h.Close()
	h.Remove(nil)
}

// serve runs a real http.Server whose /events streams h's frames, as halld and kioskd do.
func serve(t *testing.T, h *sse.Hub, writeTimeout time.Duration) (*http.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.EndOnShutdown(r)
		ch := h.Add()
		if ch == nil {
			http.Error(w, "stopping", http.StatusServiceUnavailable)
			return
		}
		defer h.Remove(ch)
		st := sse.Start(w, writeTimeout)
		if st.Send(sse.Frame{Comment: "hello"}) != nil {
			return
		}
		for {
			select {
			case <-r.Context().Done():
				return
			case f, ok := <-ch:
				if !ok || st.Send(f) != nil {
					return
				}
			}
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return srv, "http://" + ln.Addr().String() + "/events"
}

func open(t *testing.T, url string) (*http.Response, *bufio.Reader) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	if l, err := br.ReadString('\n'); err != nil || l != ": hello\n" {
		t.Fatalf("first line %q, %v", l, err)
	}
	return resp, br
}

// Shutdown ends the open streams, on every connection, instead of waiting for them; with
// CloseOnShutdown no stream starts after.
func TestShutdownEndsStreams(t *testing.T) {
	for _, closes := range []bool{false, true} {
		var opts []sse.Option
		if closes {
			opts = append(opts, sse.CloseOnShutdown())
		}
		h := sse.NewHub(4, opts...)
		srv, url := serve(t, h, time.Second)
		_, a := open(t, url)
		_, b := open(t, url)
		h.Publish(sse.Frame{Event: "e", Data: []byte("1")})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatalf("closes=%v: Shutdown with streams open: %v", closes, err)
		}
		cancel()
		for _, br := range []*bufio.Reader{a, b} {
			rest, err := io.ReadAll(br)
			if err != nil || string(rest) != "\nevent: e\ndata: 1\n\n" {
				t.Errorf("closes=%v: stream's end %q, %v", closes, rest, err)
			}
		}
		if got := h.Add() == nil; got != closes {
			t.Errorf("closes=%v: Add after the shutdown gives nil: %v", closes, got)
		}
	}
}

// A client that stops reading does not hold its handler: a Send fails within the write timeout.
func TestWriteTimeout(t *testing.T) {
	sent := make(chan error, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := sse.Start(w, 100*time.Millisecond)
		big := sse.Frame{Event: "big", Data: []byte(strings.Repeat("x", 64<<10))}
		for {
			if err := st.Send(big); err != nil {
				sent <- err
				return
			}
		}
	}))
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close() // never read
	select {
	case err := <-sent:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("Send: %v, want a timeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send still blocked on a client that does not read")
	}
}
