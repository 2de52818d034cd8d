package intake_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citizenhome/hall/intake"
	"citizenhome/hall/ledger/ledgertest"
	"citizenhome/hall/line"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// kiosk is a bare MQTT client with a kiosk's account, speaking the numbering by hand.
type kiosk struct {
	t   *testing.T
	id  wire.Kiosk
	cl  paho.Client
	mu  sync.Mutex
	got map[string][][]byte // topic kind -> payloads
}

func newKiosk(t *testing.T, m *mqtttest.Mosquitto, id string) *kiosk {
	k := &kiosk{t: t, id: wire.Kiosk{Hall: m.Hall, Kiosk: id}, got: map[string][][]byte{}}
	opts, err := m.Kiosk(id).Options()
	if err != nil {
		t.Fatal(err)
	}
	opts.SetDefaultPublishHandler(func(_ paho.Client, msg paho.Message) {
		kind := strings.TrimPrefix(msg.Topic(), k.id.Root()+"/")
		if msg.Topic() == wire.ControllerStateTopic(m.Hall) {
			kind = "controller"
		} else if msg.Topic() == wire.QueueTopic(m.Hall) {
			kind = "queue"
		}
		k.mu.Lock()
		k.got[kind] = append(k.got[kind], msg.Payload())
		k.mu.Unlock()
	})
	k.cl = paho.NewClient(opts)
	if tok := k.cl.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("kiosk connect: %v", tok.Error())
	}
	tok := k.cl.SubscribeMultiple(map[string]byte{
		k.id.Topic(wire.KindGiven): 1, k.id.Topic(wire.KindLease): 1, k.id.Topic(wire.KindAck): 1,
		wire.ControllerStateTopic(m.Hall): 1, wire.QueueTopic(m.Hall): 1,
	}, nil)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("kiosk subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { k.cl.Disconnect(0) })
	return k
}

func (k *kiosk) publish(kind string, retained bool, v any) {
	b, _ := json.Marshal(v)
	if tok := k.cl.Publish(k.id.Topic(kind), 1, retained, b); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		k.t.Fatalf("publish %s: %v", kind, tok.Error())
	}
}

// wait polls for a message of kind that cond accepts, and returns it.
func (k *kiosk) wait(kind string, cond func([]byte) bool) []byte {
	k.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		k.mu.Lock()
		for _, b := range k.got[kind] {
			if cond(b) {
				k.mu.Unlock()
				return b
			}
		}
		k.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	k.t.Fatalf("no %s message as expected; got %q", kind, k.got[kind])
	return nil
}

func hexID(n int) string { return fmt.Sprintf("%032x", n) }

func TestNumberingOverMosquitto(t *testing.T) {
	env := mqtttest.NewEnv("ih", "k1", "k2")
	m := mqtttest.StartMosquitto(t, env)
	db := ledgertest.Open(t, line.Migrations, intake.Migrations)
	loc := line.DefaultLocation()
	q, err := line.Open(context.Background(), db, line.Config{
		Categories: []line.Category{{Letter: "A", Name: "综合", AvgService: 5 * time.Minute}, {Letter: "B", Name: "社保"}},
		Windows:    []line.Window{{ID: "1", Categories: []string{"A", "B"}}},
		Rules:      line.Rules{LeaseSize: 3}, Location: loc,
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in, err := intake.Start(context.Background(), intake.Options{
		Link: m.Settings(env.ControllerUser, env.ControllerPassword, ""), Hall: "ih",
		Queue: q, DB: db, Log: log, Location: loc,
	})
	if err != nil {
		t.Fatal(err)
	}
	k := newKiosk(t, m, "k1")
	k.wait("controller", func(b []byte) bool { return strings.Contains(string(b), `"online":true`) })

	// A kiosk that says it is born gets its lease: numbers from the top of the range, today's
	// and tomorrow's.
	k.publish(wire.KindState, true, wire.State{State: wire.StateInit, Boot: 1, Since: time.Now()})
	today := time.Now().In(loc).Format(time.DateOnly)
	var lease wire.Lease
	k.wait(wire.KindLease, func(b []byte) bool {
		l, err := wire.ParseLease(b)
		lease = l
		return err == nil && len(l.Days[today]["A"]) == 3
	})
	if got := lease.Days[today]["A"]; got[0] < 997 || len(lease.Days) != 2 {
		t.Fatalf("lease %v: want three numbers from 999 down, for two days", lease.Days)
	}

	// take → given: the first normal number of the day.
	take := wire.Take{ID: hexID(1), Day: today, Category: "A", Expires: time.Now().Add(5 * time.Second)}
	k.publish(wire.KindTake, false, take)
	var given wire.Given
	k.wait(wire.KindGiven, func(b []byte) bool {
		g, err := wire.ParseGiven(b)
		given = g
		return err == nil && g.ID == take.ID
	})
	if !given.OK || given.Code != "A001" || len(given.Lookup) != 10 {
		t.Fatalf("given %+v", given)
	}
	// Not callable before the kiosk says it printed it.
	if _, err := q.Ticket(context.Background(), "A001"); !errors.Is(err, line.ErrNotFound) {
		t.Fatalf("A001 before its ticket event: %v, want not found (unconfirmed)", err)
	}

	// The ticket event confirms it; its id is acknowledged, and again when sent twice.
	issued := func(id string, ti wire.TicketIssued) {
		data, _ := json.Marshal(ti)
		k.publish(wire.KindEvent, false, wire.Event{ID: id, Seq: 1, Boot: 1, TS: time.Now(), Type: wire.EventTicketIssued, Data: data})
	}
	ev := wire.TicketIssued{Ticket: "A001", Day: today, Category: "A", Take: take.ID, Number: 1, Lookup: given.Lookup, IssuedAt: time.Now()}
	issued(hexID(100), ev)
	acked := func(id string) {
		k.wait(wire.KindAck, func(b []byte) bool { a, err := wire.ParseAck(b); return err == nil && contains(a.IDs, id) })
	}
	acked(hexID(100))
	if tk, _ := q.Ticket(context.Background(), "A001"); tk.State != line.Waiting || tk.Kiosk != "k1" {
		t.Fatalf("A001 after its event: %+v", tk)
	}
	k.mu.Lock()
	k.got[wire.KindAck] = nil
	k.mu.Unlock()
	issued(hexID(100), ev)
	acked(hexID(100))
	if ts, _ := q.Tickets(context.Background(), "", "A"); len(ts) != 1 {
		t.Errorf("the event sent twice gave %d tickets", len(ts))
	}
	// Any other event is kept once, whatever the repeats, and acknowledged each time.
	rating := wire.Event{ID: hexID(102), Seq: 2, Boot: 1, TS: time.Now(), Type: wire.EventRating, Data: json.RawMessage(`{"level":5}`)}
	k.publish(wire.KindEvent, false, rating)
	acked(hexID(102))
	k.mu.Lock()
	k.got[wire.KindAck] = nil
	k.mu.Unlock()
	k.publish(wire.KindEvent, false, rating)
	acked(hexID(102))
	if n := in.Counts().Repeats; n != 1 {
		t.Errorf("repeats %d, want 1", n)
	}

	// A lease ticket printed while halld was away joins the queue with its printed code, and
	// the kiosk's lease is topped up without that number.
	n := lease.Days[today]["A"][0]
	code := wire.TicketCode("A", n)
	issued(hexID(101), wire.TicketIssued{Ticket: code, Day: today, Category: "A", Lease: true, Number: n,
		Lookup: "7K3M9Q2D1C", IssuedAt: time.Now(), Abandoned: []string{hexID(2)}})
	acked(hexID(101))
	if tk, err := q.Ticket(context.Background(), code); err != nil || tk.State != line.Waiting || !tk.Lease {
		t.Fatalf("lease ticket %s: %+v %v", code, tk, err)
	}
	k.wait(wire.KindLease, func(b []byte) bool {
		l, err := wire.ParseLease(b)
		return err == nil && len(l.Days[today]["A"]) == 3 && !contains(intsToStrings(l.Days[today]["A"]), fmt.Sprint(n))
	})

	// The hall's figures reach the kiosks, retained.
	k.wait("queue", func(b []byte) bool {
		s, err := wire.ParseQueueState(b)
		c, _ := s.Category("A")
		return err == nil && c.Waiting == 2
	})

	// Garbage is refused, counted, and changes nothing.
	k.cl.Publish(k.id.Topic(wire.KindTake), 1, false, []byte(`{"id":"x"`)).Wait()
	k.cl.Publish(k.id.Topic(wire.KindEvent), 1, false, []byte(`not json`)).Wait()
	deadline := time.Now().Add(5 * time.Second)
	for in.Counts().Rejected < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if c := in.Counts(); c.Rejected != 2 || c.Given != 1 {
		t.Errorf("counts %+v, want 2 rejected and 1 given", c)
	}

	// A planned stop leaves "offline" retained for the kiosks.
	in.Close()
	k.wait("controller", func(b []byte) bool { return strings.Contains(string(b), `"online":false`) })
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func intsToStrings(ns []int) []string {
	var out []string
	for _, n := range ns {
		out = append(out, fmt.Sprint(n))
	}
	return out
}

// A handler takes its events after intake recorded them: ErrRetry leaves one unacknowledged (the
// kiosk sends it again, and the handler sees it again); another error is acknowledged all the
// same; an event of another type never reaches it.
func TestHandlers(t *testing.T) {
	env := mqtttest.NewEnv("ihh", "k1")
	m := mqtttest.StartMosquitto(t, env)
	db := ledgertest.Open(t, line.Migrations, intake.Migrations)
	loc := line.DefaultLocation()
	q, err := line.Open(context.Background(), db, line.Config{
		Categories: []line.Category{{Letter: "A", Name: "综合"}}, Windows: []line.Window{{ID: "1", Categories: []string{"A"}}},
		Location: loc,
	})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen []string
		fail = 1 // the first delivery fails with ErrRetry
	)
	in, err := intake.Start(context.Background(), intake.Options{
		Link: m.Settings(env.ControllerUser, env.ControllerPassword, ""), Hall: "ihh",
		Queue: q, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Location: loc,
		Handlers: map[string]intake.Handler{wire.EventComplaint: func(_ context.Context, kiosk string, e wire.Event) error {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, kiosk+" "+e.ID)
			if e.ID == hexID(301) {
				return errors.New("not a complaint this hall takes") // refused for good: acknowledged
			}
			if fail > 0 {
				fail--
				return fmt.Errorf("ledger busy: %w", intake.ErrRetry)
			}
			return nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	k := newKiosk(t, m, "k1")
	k.wait("controller", func(b []byte) bool { return strings.Contains(string(b), `"online":true`) })
	acked := func(id string) bool {
		k.mu.Lock()
		defer k.mu.Unlock()
		for _, b := range k.got[wire.KindAck] {
			if a, err := wire.ParseAck(b); err == nil && contains(a.IDs, id) {
				return true
			}
		}
		return false
	}
	complaint := wire.Event{ID: hexID(300), Seq: 1, Boot: 1, TS: time.Now(), Type: wire.EventComplaint,
		Data: json.RawMessage(`{"number":"TS20261207K7Q2M9","category":"attitude","ts":"2026-12-07T10:05:00+08:00"}`)}
	k.publish(wire.KindEvent, false, complaint)
	// Not acknowledged: the kiosk's outbox sends it again, as it does after a while.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the handler never saw the complaint")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Another event after it is acknowledged: intake takes a kiosk's events in order, so the
	// complaint's acknowledgement, had there been one, would have come first.
	other := wire.Event{ID: hexID(302), Seq: 2, Boot: 1, TS: time.Now(), Type: wire.EventCheckedIn, Data: json.RawMessage(`{}`)}
	k.publish(wire.KindEvent, false, other)
	k.wait(wire.KindAck, func(b []byte) bool { a, err := wire.ParseAck(b); return err == nil && contains(a.IDs, hexID(302)) })
	if acked(hexID(300)) {
		t.Fatal("a complaint the handler asked to see again was acknowledged")
	}
	k.publish(wire.KindEvent, false, complaint)
	k.wait(wire.KindAck, func(b []byte) bool { a, err := wire.ParseAck(b); return err == nil && contains(a.IDs, hexID(300)) })
	refused := wire.Event{ID: hexID(301), Seq: 3, Boot: 1, TS: time.Now(), Type: wire.EventComplaint, Data: json.RawMessage(`{}`)}
	k.publish(wire.KindEvent, false, refused)
	k.wait(wire.KindAck, func(b []byte) bool { a, err := wire.ParseAck(b); return err == nil && contains(a.IDs, hexID(301)) })
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, ",") != "k1 "+hexID(300)+",k1 "+hexID(300)+",k1 "+hexID(301) {
		t.Errorf("the handler saw %v", seen)
	}
}
