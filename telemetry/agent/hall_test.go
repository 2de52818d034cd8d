package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/kiosktest"
	"citizenhome/kiosk/queue"
	"citizenhome/kiosk/store"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// fakeController is a tiny halld for these tests, on the controller's account of a private
// Mosquitto: it numbers takes from a counter per category (when answering), records events and
// acknowledges them (when acking), publishes leases and its state.
type fakeController struct {
	t    *testing.T
	env  mqtttest.Env
	cl   paho.Client
	answ atomic.Bool
	ack  atomic.Bool

	mu     sync.Mutex
	next   map[string]int
	takes  []wire.Take
	events []wire.Event
	// answer answers a kiosk's ask; nil leaves asks unanswered.
	answer func(wire.Ask) wire.Answer
}

func startController(t *testing.T, env mqtttest.Env) *fakeController {
	t.Helper()
	f := &fakeController{t: t, env: env, next: map[string]int{}}
	f.answ.Store(true)
	f.ack.Store(true)
	opts, err := env.Controller().Options()
	if err != nil {
		t.Fatal(err)
	}
	f.cl = paho.NewClient(opts)
	if tok := f.cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("controller connect: %v", tok.Error())
	}
	t.Cleanup(func() { f.cl.Disconnect(50) })
	h := "citizenhome/v1/" + env.Hall
	sub := f.cl.SubscribeMultiple(map[string]byte{wire.TakeFilter(env.Hall): 1, wire.EventFilter(env.Hall): 1, wire.AskFilter(env.Hall): 1}, f.onMessage)
	if !sub.WaitTimeout(10*time.Second) || sub.Error() != nil {
		t.Fatalf("controller subscribe: %v", sub.Error())
	}
	for topic, q := range sub.(*paho.SubscribeToken).Result() {
		if q > 2 {
			t.Fatalf("the broker refused the controller %s (%s)", topic, h)
		}
	}
	f.setOnline(true)
	return f
}

func (f *fakeController) publish(topic string, retained bool, v any) {
	b, _ := json.Marshal(v)
	if tok := f.cl.Publish(topic, 1, retained, b); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		f.t.Errorf("controller publish %s: %v", topic, tok.Error())
	}
}

func (f *fakeController) setOnline(on bool) {
	f.publish(wire.ControllerStateTopic(f.env.Hall), true, wire.ControllerState{Online: on, TS: time.Now()})
}

func (f *fakeController) lease(kioskID string, days map[string]map[string][]int) {
	f.publish(wire.Kiosk{Hall: f.env.Hall, Kiosk: kioskID}.Topic(wire.KindLease), true, wire.Lease{Days: days, TS: time.Now()})
}

// onMessage runs on paho's router: it publishes without waiting (a wait there would block the
// router that completes the token).
func (f *fakeController) onMessage(_ paho.Client, m paho.Message) {
	a, err := wire.ParseNumberingTopic(m.Topic())
	if err == nil && a.Kind == wire.KindAsk {
		ask, err := wire.ParseAsk(m.Payload())
		if err != nil {
			f.t.Errorf("the kiosk sent a malformed ask: %v", err)
			return
		}
		f.mu.Lock()
		answer := f.answer
		f.mu.Unlock()
		if answer != nil {
			ans := answer(ask)
			ans.ID, ans.TS = ask.ID, time.Now()
			b, _ := json.Marshal(ans)
			f.cl.Publish(a.Kiosk.Topic(wire.KindAnswer), 1, false, b)
		}
		return
	}
	if err == nil && a.Kind == wire.KindTake {
		tk, err := wire.ParseTake(m.Payload())
		if err != nil {
			f.t.Errorf("the kiosk sent a malformed take: %v", err)
			return
		}
		f.mu.Lock()
		f.takes = append(f.takes, tk)
		answer := f.answ.Load()
		var g wire.Given
		if answer {
			f.next[tk.Category]++
			n := f.next[tk.Category]
			g = wire.Given{ID: tk.ID, OK: true, Day: tk.Day, Code: wire.TicketCode(tk.Category, n), Number: n,
				Lookup: fmt.Sprintf("H%09d", n), Ahead: n - 1, ETAS: int64(60 * (n - 1)), TS: time.Now()}
		}
		f.mu.Unlock()
		if answer {
			b, _ := json.Marshal(g)
			f.cl.Publish(a.Kiosk.Topic(wire.KindGiven), 1, false, b)
		}
		return
	}
	t, err := wire.ParseTopic(m.Topic())
	if err != nil || t.Kind != wire.KindEvent {
		return
	}
	e, err := wire.ParseEvent(m.Payload())
	if err != nil {
		f.t.Errorf("the kiosk sent a malformed event: %v", err)
		return
	}
	if e.Type == wire.EventTicketIssued {
		if _, err := wire.ParseTicketIssued(e.Data); err != nil {
			f.t.Errorf("the kiosk sent a ticket.issued halld cannot read: %v (%s)", err, e.Data)
		}
	}
	f.mu.Lock()
	f.events = append(f.events, e)
	f.mu.Unlock()
	if f.ack.Load() {
		b, _ := json.Marshal(wire.Ack{IDs: []string{e.ID}})
		f.cl.Publish(t.Kiosk.Topic(wire.KindAck), 1, false, b)
	}
}

func (f *fakeController) seenTakes() []wire.Take {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.takes)
}

// copies returns how many times the event id arrived, and its data (the last copy).
func (f *fakeController) copies(id string) (int, wire.TicketIssued) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	var ti wire.TicketIssued
	for _, e := range f.events {
		if e.ID == id {
			n++
			_ = json.Unmarshal(e.Data, &ti)
		}
	}
	return n, ti
}

func (f *fakeController) ticketEvents() []wire.TicketIssued {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []wire.TicketIssued
	seen := map[string]bool{}
	for _, e := range f.events {
		if e.Type == wire.EventTicketIssued && !seen[e.ID] {
			seen[e.ID] = true
			var ti wire.TicketIssued
			_ = json.Unmarshal(e.Data, &ti)
			out = append(out, ti)
		}
	}
	return out
}

// hallKiosk is a real core numbered by the hall (hall.controller = true), with a printer.
func hallKiosk(t testing.TB, hall, id string, deadline time.Duration) (*kiosk.Kiosk, *store.Store) {
	t.Helper()
	cfg := config.Default()
	cfg.Hall.ID, cfg.Kiosk.ID = hall, id
	cfg.Hall.Controller, cfg.MQTT.Enabled = true, true
	cfg.Hall.TakeDeadline = config.Duration{Duration: deadline}
	cfg.Hours.Weekday = []string{"00:00-23:59"}
	cfg.Hours.Weekend = []string{"00:00-23:59"}
	cfg.Kiosk.Store = filepath.Join(t.TempDir(), "kiosk.db")
	st, err := store.Open(cfg.Kiosk.Store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	k, err := kiosk.New(context.Background(), kiosk.Options{Config: cfg, Store: st,
		Catalog: catalog.NewHolder(catalog.Demo()), Printer: kiosktest.NewPrinter(kiosktest.Ready), Log: quietLog(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return k, st
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// anyMatter is a demo matter served every day, and its category.
func anyMatter(t *testing.T, k *kiosk.Kiosk) *catalog.Matter {
	t.Helper()
	for _, m := range k.Catalog().All() {
		if m.Weekend && m.Handling != catalog.Urgent {
			return m
		}
	}
	t.Fatal("no weekend matter in the demo catalog")
	return nil
}

type hallEnv struct {
	env  mqtttest.Env
	ctl  *fakeController
	k    *kiosk.Kiosk
	st   *store.Store
	a    *Agent
	m    *catalog.Matter
	day  string
	root string
}

func newHallEnv(t *testing.T, deadline, resend time.Duration) *hallEnv {
	t.Helper()
	env := mqtttest.StartMosquitto(t, mqtttest.NewEnv("hn", "k1", "k2")).Env
	ctl := startController(t, env)
	k, st := hallKiosk(t, env.Hall, "k1", deadline)
	a := newAgent(t, k, st, env.Kiosk("k1"), func(o *Options) { o.ResendEvery = resend })
	startAgent(t, a)
	h := &hallEnv{env: env, ctl: ctl, k: k, st: st, a: a, m: anyMatter(t, k),
		day: time.Now().In(queue.DefaultLocation()).Format(time.DateOnly), root: "citizenhome/v1/" + env.Hall + "/k1"}
	waitFor(t, 10*time.Second, "the kiosk to see halld online", func() bool {
		c := a.current()
		return c != nil && c.controller() == ctrlOnline
	})
	return h
}

func (h *hallEnv) outbox(t *testing.T) int64 {
	t.Helper()
	n, err := h.a.out.Len(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHallNumbersComeFromController(t *testing.T) {
	h := newHallEnv(t, 2*time.Second, time.Minute)
	ctx := context.Background()
	var codes []string
	for range 3 {
		is, err := h.k.TakeTicket(ctx, h.m.ID)
		if err != nil || is.PrintErr != nil {
			t.Fatal(err, is.PrintErr)
		}
		if is.Ticket.Source != queue.SourceGiven || !strings.HasPrefix(is.Ticket.LookupCode, "H00") {
			t.Errorf("ticket %+v", is.Ticket)
		}
		codes = append(codes, is.Ticket.Code)
	}
	if want := []string{h.m.Queue + "001", h.m.Queue + "002", h.m.Queue + "003"}; !slices.Equal(codes, want) {
		t.Errorf("codes %v, want halld's %v", codes, want)
	}
	takes := h.ctl.seenTakes()
	if len(takes) != 3 || takes[0].Category != h.m.Queue || takes[0].Day != h.day {
		t.Fatalf("takes %+v", takes)
	}
	// Each ticket's event reaches halld naming its take, is acknowledged, and leaves the outbox.
	waitFor(t, 10*time.Second, "three ticket events at halld", func() bool { return len(h.ctl.ticketEvents()) == 3 })
	for i, e := range h.ctl.ticketEvents() {
		if e.Take != takes[i].ID || e.Lease || e.Ticket != codes[i] || e.Lookup == "" {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	waitFor(t, 10*time.Second, "the acknowledged events to leave the outbox", func() bool { return h.outbox(t) == 0 })
}

func TestHallSilentLeaseWithinDeadline(t *testing.T) {
	const deadline = 300 * time.Millisecond
	h := newHallEnv(t, deadline, time.Minute)
	ctx := context.Background()
	h.ctl.answ.Store(false)
	h.ctl.lease("k1", map[string]map[string][]int{h.day: {h.m.Queue: {998, 999}}})
	waitFor(t, 10*time.Second, "the lease kept", func() bool {
		n, _ := h.k.LeaseLeft(ctx, h.m.Queue)
		return n == 2
	})
	start := time.Now()
	is, err := h.k.TakeTicket(ctx, h.m.ID)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if is.Ticket.Code != h.m.Queue+"999" || is.Ticket.Source != queue.SourceLease {
		t.Errorf("ticket %+v", is.Ticket)
	}
	if took < deadline || took > deadline+time.Second {
		t.Errorf("the lease ticket took %s; the deadline is %s", took, deadline)
	}
	takes := h.ctl.seenTakes()
	if len(takes) != 1 {
		t.Fatalf("takes %+v", takes)
	}
	waitFor(t, 10*time.Second, "the lease ticket's event", func() bool { return len(h.ctl.ticketEvents()) == 1 })
	if e := h.ctl.ticketEvents()[0]; !e.Lease || e.Number != 999 || !slices.Equal(e.Abandoned, []string{takes[0].ID}) {
		t.Errorf("event %+v", e)
	}
	// A lease again listing the used number does not make it usable again.
	h.ctl.lease("k1", map[string]map[string][]int{h.day: {h.m.Queue: {997, 998, 999}}})
	waitFor(t, 10*time.Second, "the second lease kept", func() bool {
		n, _ := h.k.LeaseLeft(ctx, h.m.Queue)
		return n == 2
	})
	// halld offline: the lease at once, no take sent.
	h.ctl.setOnline(false)
	waitFor(t, 10*time.Second, "the kiosk to see halld offline", func() bool { return h.a.current().controller() == ctrlOffline })
	start = time.Now()
	is, err = h.k.TakeTicket(ctx, h.m.ID)
	if err != nil || is.Ticket.Code != h.m.Queue+"998" {
		t.Fatal(is.Ticket, err)
	}
	if took := time.Since(start); took >= deadline {
		t.Errorf("with halld offline the ticket took %s", took)
	}
	if len(h.ctl.seenTakes()) != 1 {
		t.Error("a take was sent while halld was offline")
	}
	if _, ok := h.a.Queue(); ok {
		t.Error("queue figures while halld is offline")
	}
}

func TestHallOutboxKeepsUntilAcked(t *testing.T) {
	h := newHallEnv(t, 2*time.Second, 300*time.Millisecond)
	ctx := context.Background()
	h.ctl.ack.Store(false)
	is, err := h.k.TakeTicket(ctx, h.m.ID)
	if err != nil {
		t.Fatal(err)
	}
	es, err := h.a.out.Pending(ctx, 0, 10)
	if err != nil || len(es) != 1 || es[0].Type != wire.EventTicketIssued {
		t.Fatalf("outbox %+v %v", es, err)
	}
	id := es[0].ID
	// The broker has it (halld received it), yet it stays: only halld's ack deletes it, and it
	// is sent again every ResendEvery while halld is online.
	waitFor(t, 10*time.Second, "the event re-sent", func() bool { n, _ := h.ctl.copies(id); return n >= 3 })
	if n, ti := h.ctl.copies(id); ti.Ticket != is.Ticket.Code {
		t.Errorf("%d copies of %+v", n, ti)
	}
	if h.outbox(t) != 1 {
		t.Fatal("an event halld has not acknowledged left the outbox")
	}
	waitFor(t, 10*time.Second, "the status to count it", func() bool { return h.a.Snapshot(ctx).Outbox == 1 })
	h.ctl.ack.Store(true)
	waitFor(t, 10*time.Second, "halld's ack to delete it", func() bool { return h.outbox(t) == 0 })
	waitFor(t, 10*time.Second, "the status to count none", func() bool { return h.a.Snapshot(ctx).Outbox == 0 })
}

// Events halld missed are sent again as soon as it comes online, without waiting for the
// periodic re-send.
func TestHallResendWhenControllerComesOnline(t *testing.T) {
	h := newHallEnv(t, 300*time.Millisecond, time.Hour)
	ctx := context.Background()
	h.ctl.ack.Store(false)
	h.ctl.setOnline(false)
	waitFor(t, 10*time.Second, "halld offline", func() bool { return h.a.current().controller() == ctrlOffline })
	h.ctl.lease("k1", map[string]map[string][]int{h.day: {h.m.Queue: {999}}})
	waitFor(t, 10*time.Second, "the lease", func() bool { n, _ := h.k.LeaseLeft(ctx, h.m.Queue); return n == 1 })
	if _, err := h.k.TakeTicket(ctx, h.m.ID); err != nil {
		t.Fatal(err)
	}
	es, _ := h.a.out.Pending(ctx, 0, 10)
	if len(es) != 1 {
		t.Fatalf("outbox %+v", es)
	}
	waitFor(t, 10*time.Second, "the first copy", func() bool { n, _ := h.ctl.copies(es[0].ID); return n == 1 })
	h.ctl.ack.Store(true)
	h.ctl.setOnline(true)
	waitFor(t, 10*time.Second, "the copy sent on halld's return, and its ack", func() bool { return h.outbox(t) == 0 })
	if n, _ := h.ctl.copies(es[0].ID); n < 2 {
		t.Errorf("%d copies", n)
	}
}

// A kiosk's account cannot ask for numbers as another kiosk, nor answer itself.
func TestHallACLRefusesAnotherKiosksTake(t *testing.T) {
	env := mqtttest.StartMosquitto(t, mqtttest.NewEnv("hn", "k1", "k2")).Env
	ctl := startController(t, env)
	ctl.answ.Store(false)
	connect := func() paho.Client {
		opts, _ := env.Kiosk("k1").Options()
		c := paho.NewClient(opts)
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		return c
	}
	forged := wire.Take{ID: strings.Repeat("ab", 16), Day: "2026-12-07", Category: "A", Expires: time.Now().Add(time.Minute)}
	b, _ := json.Marshal(forged)
	// Mosquitto may drop the refused message or the connection: either way it must not arrive.
	c := connect()
	c.Publish(wire.Kiosk{Hall: env.Hall, Kiosk: "k2"}.Topic(wire.KindTake), 1, false, b).WaitTimeout(5 * time.Second)
	c.Disconnect(50)
	marker := forged
	marker.ID = strings.Repeat("cd", 16)
	mb, _ := json.Marshal(marker)
	c = connect()
	defer c.Disconnect(50)
	if tok := c.Publish(wire.Kiosk{Hall: env.Hall, Kiosk: "k1"}.Topic(wire.KindTake), 1, false, mb); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	waitFor(t, 10*time.Second, "the kiosk's own take at halld", func() bool {
		return slices.ContainsFunc(ctl.seenTakes(), func(tk wire.Take) bool { return tk.ID == marker.ID })
	})
	if slices.ContainsFunc(ctl.seenTakes(), func(tk wire.Take) bool { return tk.ID == forged.ID }) {
		t.Error("kiosk k1 asked for a number as kiosk k2")
	}
}

// Take refuses at once, sending nothing, when there is no session.
func TestHallTakeWithoutSession(t *testing.T) {
	k, st := hallKiosk(t, "hn", "k1", time.Second)
	a := newAgent(t, k, st, mqtttestSettings(), nil)
	start := time.Now()
	_, err := a.Take(context.Background(), wire.Take{ID: strings.Repeat("ab", 16), Day: "2026-12-07", Category: "A", Expires: time.Now().Add(time.Second)})
	if !errors.Is(err, kiosk.ErrHallUnreachable) || time.Since(start) > 100*time.Millisecond {
		t.Errorf("Take without a session: %v after %s", err, time.Since(start))
	}
	// The core, with no session, issues from the lease at once.
	if _, err := k.MergeLease(context.Background(), wire.Lease{Days: map[string]map[string][]int{
		time.Now().In(queue.DefaultLocation()).Format(time.DateOnly): {"D": {999}}}}); err != nil {
		t.Fatal(err)
	}
	m := k.Catalog().Matter("crj-004")
	is, err := k.TakeTicket(context.Background(), m.ID)
	if err != nil || is.Ticket.Code != "D999" || is.Ticket.PriorityReason != queue.ReasonUrgent {
		t.Errorf("ticket %+v %v", is.Ticket, err)
	}
}

// mqtttestSettings are settings of a broker that is not there (the agent is never started).
func mqtttestSettings() link.Settings {
	return link.Settings{URL: "tcp://127.0.0.1:9", Username: "kiosk-hn-k1", Password: "x"}
}

// TestHallAnswersARating: the core asks halld, through the agent and the broker, whether a
// ticket to be rated was served: a ticket still waiting is refused with the reason, a served one
// names its window, and a halld that stays silent refuses nothing (after the ask's deadline).
func TestHallAnswersARating(t *testing.T) {
	h := newHallEnv(t, 2*time.Second, time.Minute)
	ctx := context.Background()
	key, err := civic.NewKey([]byte(strings.Repeat("k", civic.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	hall, err := h.k.UseHall(key, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	is, err := h.k.TakeTicket(ctx, h.m.ID)
	if err != nil {
		t.Fatal(err)
	}
	code := is.Ticket.Code
	var served atomic.Bool
	h.ctl.mu.Lock()
	h.ctl.answer = func(a wire.Ask) wire.Answer {
		if a.Served == nil || a.Served.Ticket != code || a.Served.Day != h.day {
			return wire.Answer{Error: &wire.GivenError{Code: wire.AnswerNotFound, Message: "not asked that"}}
		}
		if !served.Load() {
			return wire.Answer{Served: &wire.Served{}}
		}
		return wire.Answer{Served: &wire.Served{Served: true, Window: "5", Ended: time.Now()}}
	}
	h.ctl.mu.Unlock()
	if _, err := hall.RatableTicket(ctx, code); !errors.Is(err, civic.ErrNotServed) {
		t.Fatalf("waiting ticket: %v", err)
	}
	served.Store(true)
	if rt, err := hall.RatableTicket(ctx, code); err != nil || rt.Window != "5" {
		t.Fatalf("served ticket: %+v %v", rt, err)
	}
	h.ctl.mu.Lock()
	h.ctl.answer = nil
	h.ctl.mu.Unlock()
	start := time.Now()
	if rt, err := hall.RatableTicket(ctx, code); err != nil || rt.Window != "" {
		t.Fatalf("silent halld: %+v %v", rt, err)
	}
	if d := time.Since(start); d < kiosk.AskDeadline {
		t.Errorf("gave up after %v, before the deadline", d)
	}
}
