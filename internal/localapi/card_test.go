package localapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/idcard/samsim"
	"citizenhome/kiosk"
)

// cardCore is fakeCore with the card presence and the subscriptions of the real core.
type cardCore struct {
	fakeCore
	mu       sync.Mutex
	cards    []kiosk.PresentCard
	subs     []func(kiosk.Event)
	cardSubs []func(kiosk.CardEvent)
}

func (c *cardCore) Cards() []kiosk.PresentCard {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]kiosk.PresentCard(nil), c.cards...)
}

func (c *cardCore) Subscribe(fn func(kiosk.Event)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs = append(c.subs, fn)
}

func (c *cardCore) SubscribeCards(fn func(kiosk.CardEvent)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cardSubs = append(c.cardSubs, fn)
}

func (c *cardCore) emit(e kiosk.Event) {
	c.mu.Lock()
	subs := append([]func(kiosk.Event){}, c.subs...)
	c.mu.Unlock()
	for _, fn := range subs {
		fn(e)
	}
}

func (c *cardCore) emitCard(e kiosk.CardEvent) {
	c.mu.Lock()
	subs := append([]func(kiosk.CardEvent){}, c.cardSubs...)
	c.mu.Unlock()
	for _, fn := range subs {
		fn(e)
	}
}

var since = time.Date(2026, 11, 26, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))

func sampleCity(t *testing.T) *citycard.Info {
	t.Helper()
	card, err := cardsim.New(cardsim.Sample())
	if err != nil {
		t.Fatal(err)
	}
	info, err := citycard.Read(card)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestCardAuthAndAbsence(t *testing.T) {
	c := &cardCore{}
	s := New(c, token)
	for _, path := range []string{"/v1/card", "/v1/events"} {
		if w, m := do(t, s, "GET", path, "Bearer nope", ""); w.Code != 401 || errCode(m) != "unauthorized" {
			t.Errorf("%s with a bad token: %d %v", path, w.Code, m)
		}
	}
	if s.unauthorized.Load() != 2 {
		t.Errorf("refusals counted: %d", s.unauthorized.Load())
	}
	if w, m := do(t, s, "GET", "/v1/card", "Bearer "+token, ""); w.Code != 404 || errCode(m) != "no-card" {
		t.Errorf("no card: %d %v", w.Code, m)
	}
	// A core that does not know cards.
	if w, m := do(t, New(&fakeCore{}, token), "GET", "/v1/card", "Bearer "+token, ""); w.Code != 404 || errCode(m) != "no-card" {
		t.Errorf("no card source: %d %v", w.Code, m)
	}
}

func TestCardCity(t *testing.T) {
	c := &cardCore{cards: []kiosk.PresentCard{{Kind: kiosk.CardCity, Reader: "City card reader 00 00", City: sampleCity(t), Since: since}}}
	w, _ := do(t, New(c, token), "GET", "/v1/card", "Bearer "+token, "")
	if w.Code != 200 || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	want := `{"kind":"city-card","reader":"City card reader 00 00","city":{"card_no":"3104000012345678",` +
		`"issuer":"4750000000000000","app":"A00000000386980701","balance_fen":12345,"valid_from":"2020-01-01",` +
		`"valid_to":"2030-12-31","records":[` +
		`{"serial":12,"amount_fen":200,"type":"purchase","terminal":"475000000101","time":"2026-11-20T08:31:05+08:00"},` +
		`{"serial":11,"amount_fen":5000,"type":"load","terminal":"475000009901","time":"2026-11-18T17:02:44+08:00"},` +
		`{"serial":10,"amount_fen":150,"type":"compound-purchase","terminal":"475000000233","time":"2026-11-15T07:45:10+08:00"}]},` +
		`"since":"2026-11-26T09:30:00+08:00"}`
	if got := strings.TrimSpace(w.Body.String()); got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
}

// An ID card seen by its UID on a PC/SC reader and read through the SAM reader is one object.
func TestCardIDMerged(t *testing.T) {
	p, _ := samsim.Sample("adult")
	id, err := p.Identity()
	if err != nil {
		t.Fatal(err)
	}
	id.Photo = nil
	c := &cardCore{cards: []kiosk.PresentCard{
		{Kind: kiosk.CardID, Reader: "ID card reader 00 00", UID: []byte{0x5A, 0x3C, 0x0F, 0x1E, 0x2D, 0x4B, 0x69, 0x78}},
		{Kind: kiosk.CardID, Reader: kiosk.DeviceIDReader, ID: id},
	}}
	_, m := do(t, New(c, token), "GET", "/v1/card", "Bearer "+token, "")
	if m["kind"] != "id-card" || m["reader"] != "ID card reader 00 00" || m["uid"] != "5A3C0F1E2D4B6978" {
		t.Fatalf("%v", m)
	}
	got, _ := json.Marshal(m["id"])
	want := `{"address":"河南省开封市顺河回族区东大街12号","authority":"开封市公安局顺河分局","birth":"1991-05-20",` +
		`"name":"王志强","nation":"回","number":"410203199105200138","sex":"男","type":"resident",` +
		`"valid_from":"2019-06-15","valid_to":"` + id.ValidTo.String() + `"}`
	if string(got) != want {
		t.Errorf("id\n got %s\nwant %s", got, want)
	}
	if _, ok := m["city"]; ok {
		t.Error("an ID card with a city object")
	}
}

func TestCardReadError(t *testing.T) {
	c := &cardCore{cards: []kiosk.PresentCard{{Kind: kiosk.CardUnknown, Reader: "r", Err: errors.New("citycard: status word 6F00: no precise diagnosis")}}}
	_, m := do(t, New(c, token), "GET", "/v1/card", "Bearer "+token, "")
	re, _ := m["read_error"].(map[string]any)
	if m["kind"] != "unknown" || re["code"] != "read-failed" || !strings.Contains(re["message"].(string), "6F00") {
		t.Errorf("%v", m)
	}
	if _, ok := m["error"]; ok {
		t.Error("a card object must not look like an error answer")
	}
}

// sseReader reads events from a stream.
type sseReader struct {
	t *testing.T
	r *bufio.Reader
}

// next returns the next event or comment block: "event NAME DATA" or ": comment".
func (s *sseReader) next() string {
	s.t.Helper()
	var name, data string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if name != "" {
				return "event " + name + " " + data
			}
		case strings.HasPrefix(line, ":"):
			return line
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		default:
			s.t.Fatalf("unexpected line %q", line)
		}
	}
}

func TestEventsStream(t *testing.T) {
	old := keepAliveEvery
	keepAliveEvery = 100 * time.Millisecond
	defer func() { keepAliveEvery = old }()
	c := &cardCore{}
	srv := httptest.NewServer(New(c, token))
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := &sseReader{t: t, r: bufio.NewReader(resp.Body)}
	if got := r.next(); !strings.HasPrefix(got, ":") {
		t.Fatalf("first: %q", got)
	}
	at := since
	c.emitCard(kiosk.CardEvent{Inserted: true, Kind: kiosk.CardCity, Reader: "City card reader 00 00", Time: at})
	c.emitCard(kiosk.CardEvent{Inserted: true, Kind: kiosk.CardID, Reader: "ID card reader 00 00", UID: []byte{1, 2, 3, 4, 5, 6, 7, 0xAB}, Failed: true, Time: at})
	c.emitCard(kiosk.CardEvent{Kind: kiosk.CardCity, Reader: "City card reader 00 00", Time: at})
	c.emit(kiosk.Event{Kind: kiosk.EventDevice, Device: kiosk.DeviceCardReader, State: kiosk.Device{State: kiosk.StateOffline, Detail: "pcscd not running", Since: at}})
	c.emit(kiosk.Event{Kind: kiosk.EventTicket, Ticket: "A001"}) // not in the stream
	want := []string{
		`event card.inserted {"kind":"city-card","read_failed":false,"reader":"City card reader 00 00","time":"2026-11-26T09:30:00+08:00"}`,
		`event card.inserted {"kind":"id-card","read_failed":true,"reader":"ID card reader 00 00","time":"2026-11-26T09:30:00+08:00","uid":"01020304050607AB"}`,
		`event card.removed {"kind":"city-card","reader":"City card reader 00 00","time":"2026-11-26T09:30:00+08:00"}`,
		`event device.changed {"detail":"pcscd not running","device":"card-reader","since":"2026-11-26T09:30:00+08:00","state":"offline"}`,
	}
	for i, w := range want {
		if got := r.next(); got != w {
			t.Errorf("event %d:\n got %s\nwant %s", i, got, w)
		}
	}
	// Nothing happens: a keep-alive comment.
	if got := r.next(); got != ": keep-alive" {
		t.Errorf("after a quiet spell: %q", got)
	}
}

// Shutdown ends the streams instead of waiting for them.
func TestEventsEndOnShutdown(t *testing.T) {
	srv := httptest.NewUnstartedServer(New(&cardCore{}, token))
	srv.Start()
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := &sseReader{t: t, r: bufio.NewReader(resp.Body)}
	r.next()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a stream open: %v", err)
	}
}

// A client that does not keep up is dropped instead of holding the core up.
func TestEventsSlowClientDropped(t *testing.T) {
	c := &cardCore{}
	h := newEvents(c, DefaultLimits.MaxStreams)
	ch := h.add()
	for range streamBuffer + 1 {
		c.emitCard(kiosk.CardEvent{Kind: kiosk.CardCity, Reader: "r"})
	}
	n := 0
	for range ch {
		n++
	}
	if n != streamBuffer || h.clientCount() != 0 {
		t.Errorf("%d events buffered, %d clients left", n, h.clientCount())
	}
	h.remove(ch) // already gone: no double close
}
