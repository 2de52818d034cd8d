package soak

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/escpos/emulator/ptytest"
	"citizenhome/devices/idcard"
	"citizenhome/devices/idcard/samsim"
	samtty "citizenhome/devices/idcard/samsim/ptytest"
	"citizenhome/devices/pcsc/pcsctest"
	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// Bounds and paces of the soak. The bounds are what the test holds kioskd to; the paces are how
// often the harness acts.
const (
	// DefaultDuration is the fault phase without SOAK_DURATION: the short run of `make test`.
	DefaultDuration = 60 * time.Second
	// StaleBound: a card's data may be answered this long after the card left its reader or
	// the reader went down, never later. kioskd's SAM poll needs two missed finds (about
	// 0.7 s) to call a card gone; pcscd notices a card taken away within about 0.4 s.
	StaleBound = 3 * time.Second
	// RecoverBound: a device plugged in again must be working within this. Issue 13 asks for
	// 2 s; the soak fails past 5 s so that a loaded test machine does not fail it, and reports
	// the times to compare with 2 s.
	RecoverBound = 5 * time.Second
	// noticeCap: an outage lasts until kioskd reports the device down (so that each outage is
	// one kioskd has to recover from), but no longer than this.
	noticeCap = 10 * time.Second
	// Goroutines and open files of kioskd, all devices up and no card, at the end against the
	// same at the start: the growth allowed.
	goroutineSlack = 8
	fdSlack        = 4

	pollEvery            = 100 * time.Millisecond // GET /v1/card and GET /v1/status
	faultMin, faultMax   = 1500 * time.Millisecond, 4 * time.Second
	outageMin, outageMax = time.Second, 4 * time.Second
	ticketMin, ticketMax = 500 * time.Millisecond, 2500 * time.Millisecond
	settleTimeout        = 60 * time.Second
)

func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak test runs kioskd for SOAK_DURATION")
	}
	dur := DefaultDuration
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		var err error
		if dur, err = time.ParseDuration(v); err != nil || dur <= 0 {
			t.Fatalf("SOAK_DURATION=%q: want a duration like 60s or 1h", v)
		}
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SOAK_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("SOAK_SEED=%q: want an unsigned integer", v)
		}
	}
	t.Logf("soak for %v, seed %d (SOAK_SEED=%d replays the random choices)", dur, seed, seed)

	env := pcsctest.Open(t)
	broker := mqtttest.StartMosquitto(t, mqtttest.NewEnv("soak", "k1"))
	paper := &paper{}
	// The emulator remembers only its last tickets: every cut is taken as it comes.
	emu, err := emulator.New(emulator.Config{Paper: escpos.Paper80, SkipPNG: true, Baud: 115200, Keep: 1, OnTicket: paper.cut})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	printer := ptytest.Start(t, emu)
	sim := samsim.New()
	sam := samtty.Start(t, sim)
	root := wire.Kiosk{Hall: "soak", Kiosk: "k1"}.Root()
	recAt := time.Now()
	rec := mqtttest.Record(t, broker.Staff(), root+"/#", mqtttest.RecordOptions{Durable: true, ClientID: "soak-recorder"})
	d := startKioskd(t, daemonConfig{
		TimeZone: hallZone(time.Now()), Printer: printer.Path, IDReader: sam.Path,
		MQTTURL: broker.URL, MQTTUser: broker.KioskUser("k1"), MQTTPass: broker.KioskPassword,
		CardRdr: pcsctest.CityReader, UIDReader: pcsctest.IDReader,
	})

	s := &soak{
		t: t, seed: seed, dur: dur, d: d, env: env, broker: broker, rec: rec, recAt: recAt, root: root,
		paper: paper, printer: printer, sam: sam, sim: sim,
		rng: rand.New(rand.NewPCG(seed, 1)), or: newOracle(StaleBound), find: newFindings(t),
		tickets: map[string]ticket{}, keys: map[string]bool{},
	}
	s.mon = newMonitor(d.api, s.find, &s.detect, &s.recovery)
	s.run()
}

// hallZone picks a fixed-offset time zone in which now is about noon, so that a run of up to
// eleven hours neither meets the hours' closing minute (23:59) nor changes the tickets' day.
func hallZone(now time.Time) string {
	u := now.UTC()
	m := u.Hour()*60 + u.Minute()
	best, bestDist := 0, 1<<30
	for h := -12; h <= 14; h++ {
		local := ((m+h*60)%1440 + 1440) % 1440
		if dist := max(local-720, 720-local); dist < bestDist {
			best, bestDist = h, dist
		}
	}
	switch {
	case best > 0:
		return fmt.Sprintf("Etc/GMT-%d", best) // the IANA names' sign is inverted
	case best < 0:
		return fmt.Sprintf("Etc/GMT+%d", -best)
	}
	return "Etc/UTC"
}

// ticket is an answer of POST /v1/tickets that issued a ticket.
type ticket struct {
	printed  bool
	printErr string
	at       time.Time
}

// outage is a device the harness can take away and bring back.
type outage struct {
	name     string // fault kind
	device   string // the kioskd device that must notice, "" for the broker
	down     bool
	downAt   time.Time
	returnAt time.Time
	vanish   func()
	back     func()
}

type soak struct {
	t       *testing.T
	seed    uint64
	dur     time.Duration
	d       *daemon
	env     *pcsctest.Env
	broker  *mqtttest.Mosquitto
	rec     *mqtttest.Recorder
	recAt   time.Time
	root    string
	paper   *paper
	printer *ptytest.Line
	sam     *samtty.Line
	sim     *samsim.Sim

	rng  *rand.Rand // the fault loop's; the ticket taker has its own
	or   *oracle
	mon  *monitor
	find *findings

	faults           counter
	detect, recovery timings
	outages          []*outage
	pcscdUp          bool
	brokerBack       time.Time   // when the broker last came back
	restarts         []time.Time // broker restarts (the call), for the reconnection times

	mu        sync.Mutex
	tickets   map[string]ticket // by number
	asked     counter           // POST /v1/tickets outcomes
	printErrs counter           // the print_error of tickets issued but not printed
	samples   []procSample
	keys      map[string]bool // every card number, ID number and UID placed: never in a log
	names     []string        // the names of the people placed
	baseline  procSample
}

func (s *soak) run() {
	t := s.t
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	start := time.Now()
	s.or.lineUp(srcSAM, start)
	s.or.lineUp(srcUID, start)
	s.or.lineUp(srcCity, start)
	s.pcscdUp = true
	s.brokerBack = start
	var gaps counter
	for _, fn := range []func(){
		func() { s.mon.run(ctx) },
		func() { s.watchCards(ctx) },
		func() { s.sample(ctx) },
		func() {
			s.d.api.events(ctx, func(name string, data []byte, at time.Time) {
				var e struct{ Reader string }
				if strings.HasPrefix(name, "card.") && json.Unmarshal(data, &e) == nil {
					s.or.event(name, e.Reader, at)
				}
			}, func() {
				gaps.inc("reconnects")
				s.or.gap()
			})
		},
	} {
		wg.Add(1)
		go func() { defer wg.Done(); fn() }()
	}
	s.setOutages()
	s.warmUp()

	t.Logf("faults from now for %v", s.dur)
	faultStart := time.Now()
	end := faultStart.Add(s.dur)
	tctx, stopTickets := context.WithCancel(ctx)
	var twg sync.WaitGroup
	twg.Add(1)
	go func() { defer twg.Done(); s.takeTickets(tctx, rand.New(rand.NewPCG(s.seed, 2))) }()
	tick := time.NewTicker(pollEvery)
	next := time.Now().Add(s.between(faultMin, faultMax))
	for now := time.Now(); now.Before(end); now = time.Now() {
		s.returns(false)
		if !now.Before(next) {
			s.fault()
			next = time.Now().Add(s.between(faultMin, faultMax))
		}
		if !s.d.running() {
			t.Fatalf("kioskd exited during the soak: %v\n%s", s.d.waitErr, s.d.logTail(80))
		}
		<-tick.C
	}
	tick.Stop()
	stopTickets()
	twg.Wait()
	faultEnd := time.Now()

	s.settle()
	s.checkTickets()
	delivery := s.checkEvents()
	s.checkOutbox()
	mem := s.checkProcess()
	s.checkPrivacy()
	cancel()
	wg.Wait()
	if err := s.d.stop(); err != nil {
		s.find.add("shutdown", "kioskd on SIGTERM: %v", err)
	}
	s.report(faultEnd.Sub(faultStart), delivery, mem, gaps.get("reconnects"))
	// kioskd's journal of the run (it holds no personal data: checkPrivacy), kept beside the
	// report, or when the soak found something.
	keep := ""
	if r := os.Getenv("SOAK_REPORT"); r != "" {
		keep = filepath.Join(filepath.Dir(r), "soak-kioskd.log")
	} else if s.find.summary() != "" {
		keep = filepath.Join(os.TempDir(), fmt.Sprintf("kioskd-soak-%d.log", s.seed))
	}
	if keep != "" {
		if err := os.WriteFile(keep, []byte(s.d.log()), 0o644); err != nil {
			t.Errorf("keeping kioskd's log: %v", err)
		} else {
			t.Logf("kioskd's log is in %s", keep)
		}
	}
	if sum := s.find.summary(); sum != "" {
		t.Errorf("the soak found (seed %d):\n%s\n%s", s.seed, sum, s.d.logTail(60))
	}
}

// between is a random duration in [lo, hi).
func (s *soak) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)))
}

func (s *soak) setOutages() {
	t := s.t
	s.outages = []*outage{
		{name: "sam-unplug", device: kiosk.DeviceIDReader,
			vanish: func() {
				s.sam.Vanish()
				s.or.lineDown(srcSAM, time.Now())
			},
			back: func() {
				at := time.Now()
				s.sam.Return()
				s.or.lineUp(srcSAM, at)
				s.mon.plugged(kiosk.DeviceIDReader, at)
			}},
		{name: "printer-unplug", device: kiosk.DevicePrinter,
			vanish: func() { s.printer.Vanish() },
			back: func() {
				at := time.Now()
				s.printer.Return()
				s.mon.plugged(kiosk.DevicePrinter, at)
			}},
		{name: "pcscd-kill", device: kiosk.DeviceCardReader,
			vanish: func() {
				s.env.Kill(t)
				now := time.Now()
				s.or.lineDown(srcUID, now)
				s.or.lineDown(srcCity, now)
				s.pcscdUp = false
			},
			back: func() {
				at := time.Now()
				s.env.Start(t)
				s.or.lineUp(srcUID, at)
				s.or.lineUp(srcCity, at)
				s.pcscdUp = true
				s.mon.plugged(kiosk.DeviceCardReader, at)
			}},
		{name: "broker-restart",
			vanish: func() {
				// A crash (nothing saved beyond the last second's autosave) or a clean stop.
				if s.rng.IntN(2) == 0 {
					s.faults.inc("broker-kill")
					s.broker.Kill()
				} else {
					s.faults.inc("broker-stop")
					s.broker.Stop()
				}
			},
			back: func() {
				at := time.Now()
				if err := s.broker.Restart(); err != nil {
					t.Fatal(err)
				}
				s.restarts = append(s.restarts, at)
				s.brokerBack = time.Now()
			}},
	}
}

// kioskBack reports whether kioskd has published a status since the broker's last restart.
func (s *soak) kioskBack() bool {
	if len(s.restarts) == 0 {
		return true
	}
	last := s.restarts[len(s.restarts)-1]
	ms := s.rec.Messages()
	for i := len(ms) - 1; i >= 0; i-- {
		var st wire.Status
		if ms[i].Topic == s.root+"/"+wire.KindStatus && json.Unmarshal(ms[i].Payload, &st) == nil && !st.TS.Before(last) {
			return true
		}
		if ms[i].At.Before(last) {
			return false // older messages were received before the restart
		}
	}
	return false
}

// fault injects one random fault.
func (s *soak) fault() {
	type choice struct {
		weight int
		do     func()
	}
	var cs []choice
	for _, o := range s.outages {
		if o.down || (o.device != "" && !s.mon.settled(o.device)) {
			continue
		}
		if o.device == "" && (!s.rec.Client.IsConnectionOpen() || time.Since(s.brokerBack) < 2*time.Second || !s.kioskBack()) {
			// A broker killed while the recorder is away, or before its last autosave,
			// loses what it held for the recorder: a loss of the test's broker, not kioskd's.
			// And each restart is to be one kioskd reconnects after.
			continue
		}
		cs = append(cs, choice{1, func() {
			if o.name != "broker-restart" {
				s.faults.inc(o.name)
			}
			o.down = true
			o.downAt = time.Now()
			if o.device != "" {
				s.mon.unplugged(o.device, o.downAt)
			}
			o.vanish()
			o.returnAt = time.Now().Add(s.between(outageMin, outageMax))
		}})
	}
	cs = append(cs, choice{2, s.toggleSAMCard}, choice{2, s.toggleCityCard}, choice{2, s.toggleUIDCard})
	total := 0
	for _, c := range cs {
		total += c.weight
	}
	n := s.rng.IntN(total)
	for _, c := range cs {
		if n < c.weight {
			c.do()
			return
		}
		n -= c.weight
	}
}

// returns brings back the devices whose outage is over: its time has come and kioskd noticed
// it (or noticeCap passed). With all, every device that is away comes back now.
func (s *soak) returns(all bool) {
	now := time.Now()
	for _, o := range s.outages {
		if !o.down {
			continue
		}
		if !all {
			if now.Before(o.returnAt) {
				continue
			}
			if o.device != "" && !s.mon.noticed(o.device) {
				if now.Sub(o.downAt) < noticeCap {
					continue
				}
				s.find.add("outage-unnoticed", "%s: kioskd still reported %s up %v after it was unplugged", o.name, o.device, noticeCap)
			}
		}
		o.back()
		o.down = false
	}
}

// person returns someone to put on a reader: a resident of the samples with an ID number of
// their own (a valid one, so that every placement is a different card), or one of the other
// samples.
func (s *soak) person() samsim.Person {
	all := samsim.Samples()
	p := all[s.rng.IntN(len(all))]
	if p.Type == "resident" {
		// Same region and birth date; a new sequence number of the same parity (the sex).
		seq := s.rng.IntN(500)*2 + int(p.Number[16]-'0')%2
		first := p.Number[:14] + fmt.Sprintf("%03d", seq)
		c, err := idcard.CheckDigit(first)
		if err != nil {
			s.t.Fatal(err)
		}
		p.Number = first + string(c)
	}
	s.mu.Lock()
	s.keys[p.Number] = true
	s.names = append(s.names, p.Name)
	s.mu.Unlock()
	return p
}

func (s *soak) toggleSAMCard() {
	if s.or.onReader(srcSAM) {
		s.faults.inc("sam-card-off")
		s.sim.Remove()
		s.or.remove(srcSAM, time.Now())
		return
	}
	s.faults.inc("sam-card-on")
	p := s.person()
	at := time.Now()
	if err := s.sim.PlacePerson(p); err != nil {
		s.t.Fatal(err)
	}
	s.or.place(srcSAM, p.Number, at)
}

func (s *soak) toggleCityCard() {
	if s.or.onReader(srcCity) {
		s.faults.inc("city-card-off")
		if err := s.env.CitySlot.Remove(); err != nil {
			s.t.Fatal(err)
		}
		s.or.remove(srcCity, time.Now())
		return
	}
	if !s.pcscdUp {
		return // nothing to tap a card on: vpcd is pcscd's
	}
	cfg := cardsim.Sample()
	cfg.CardNo = fmt.Sprintf("3104%012d", s.rng.Int64N(1e12))
	card, err := cardsim.New(cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.keys[cfg.CardNo] = true
	s.mu.Unlock()
	at := time.Now()
	if err := s.env.CitySlot.Insert(card); err != nil {
		s.find.add("harness", "city card not inserted: %v", err)
		return
	}
	s.faults.inc("city-card-on")
	s.or.place(srcCity, cfg.CardNo, at)
}

func (s *soak) toggleUIDCard() {
	if s.or.onReader(srcUID) {
		s.faults.inc("uid-card-off")
		if err := s.env.IDSlot.Remove(); err != nil {
			s.t.Fatal(err)
		}
		s.or.remove(srcUID, time.Now())
		return
	}
	if !s.pcscdUp {
		return
	}
	uid := make([]byte, 8)
	for i := range uid {
		uid[i] = byte(s.rng.UintN(256))
	}
	key := fmt.Sprintf("%X", uid)
	s.mu.Lock()
	s.keys[key] = true
	s.mu.Unlock()
	at := time.Now()
	if err := s.env.IDSlot.Insert(samsim.NewIDCard(uid)); err != nil {
		s.find.add("harness", "ID card not inserted: %v", err)
		return
	}
	s.faults.inc("uid-card-on")
	s.or.place(srcUID, key, at)
}

// watchCards checks GET /v1/card all along, and that kioskd forgets each card in time.
func (s *soak) watchCards(ctx context.Context) {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		sent := time.Now()
		code, body, err := s.d.api.do(ctx, "GET", "/v1/card", "")
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.find.add("api", "GET /v1/card: %v", err)
		} else {
			for _, bad := range s.or.answer(sent, time.Now(), code, body) {
				s.find.add("stale-card-data", "%s", bad)
			}
		}
		for _, w := range s.or.overdue(time.Now()) {
			s.find.add("card-not-forgotten", "kioskd still held the %s card %v after it left or its reader went down at %s (no card.removed, GET /v1/card not empty)",
				w.src, StaleBound, w.at.Format("15:04:05.000"))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sample reads kioskd's process figures about 60 times over the run (every 1 s to 10 s).
func (s *soak) sample(ctx context.Context) {
	every := min(max(s.dur/60, time.Second), 10*time.Second)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		p, err := s.d.sample(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.find.add("harness", "sampling kioskd: %v", err)
		} else {
			s.mu.Lock()
			s.samples = append(s.samples, p)
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// categories are the queue letters that have a matter open at weekends too: a ticket of any of
// them can be taken on any day.
func categories() []string {
	var out []string
	for _, m := range catalog.Demo().All() {
		if m.Weekend && !slices.Contains(out, m.Queue) {
			out = append(out, m.Queue)
		}
	}
	slices.Sort(out)
	return out
}

// takeTickets takes tickets over the local API at random intervals until ctx ends.
func (s *soak) takeTickets(ctx context.Context, rng *rand.Rand) {
	cats := categories()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(ticketMin + time.Duration(rng.Int64N(int64(ticketMax-ticketMin)))):
		}
		body := fmt.Sprintf(`{"category":%q,"priority":%v}`, cats[rng.IntN(len(cats))], rng.IntN(5) == 0)
		s.takeTicket(context.WithoutCancel(ctx), body)
	}
}

var ticketNumber = regexp.MustCompile(`^[A-Z][0-9]{3,4}$`)

// paper is what the printer cut, as ticket numbers. Safe for concurrent use.
type paper struct {
	mu  sync.Mutex
	all []cut
}

type cut struct {
	numbers []string // the lines that are a ticket number
	what    string   // the ticket's summary, without its text
}

// cut takes one cut of the emulator (its OnTicket).
func (p *paper) cut(tk emulator.Ticket) {
	c := cut{what: tk.String()}
	for _, l := range tk.Lines {
		if l = strings.TrimSpace(l); ticketNumber.MatchString(l) {
			c.numbers = append(c.numbers, l)
		}
	}
	p.mu.Lock()
	p.all = append(p.all, c)
	p.mu.Unlock()
}

func (p *paper) cuts() []cut {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.all)
}

// takeTicket posts one ticket request and records the outcome.
func (s *soak) takeTicket(ctx context.Context, body string) (string, bool) {
	code, resp, err := s.d.api.do(ctx, "POST", "/v1/tickets", body)
	if err != nil {
		s.find.add("api", "POST /v1/tickets: %v", err)
		return "", false
	}
	var m struct {
		Ticket     string `json:"ticket"`
		Printed    bool   `json:"printed"`
		PrintError string `json:"print_error"`
		Error      struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(resp, &m); err != nil {
		s.find.add("api", "POST /v1/tickets: %d, %v", code, err)
		return "", false
	}
	switch {
	case code == 201 && ticketNumber.MatchString(m.Ticket):
		s.mu.Lock()
		_, dup := s.tickets[m.Ticket]
		if !dup {
			s.tickets[m.Ticket] = ticket{printed: m.Printed, printErr: m.PrintError, at: time.Now()}
		}
		s.mu.Unlock()
		if dup {
			s.find.add("duplicate-number", "ticket %s issued twice", m.Ticket)
		}
		if m.Printed {
			s.asked.inc("printed")
		} else {
			s.asked.inc("issued, not printed")
			s.printErrs.inc(m.PrintError)
		}
		return m.Ticket, m.Printed
	case code == 503 && strings.HasPrefix(m.Error.Code, "printer-"):
		s.asked.inc("refused " + m.Error.Code)
	default:
		s.find.add("ticket-refused", "POST /v1/tickets %s: %d %.200s", body, code, resp)
	}
	return "", false
}

// warmUp waits until every device works, proves that each card kind shows in GET /v1/card (or
// the stale-data checks would pass for want of data), takes a ticket, waits until the broker
// saved the recorder's session, and measures kioskd at rest.
func (s *soak) warmUp() {
	t := s.t
	s.waitDevicesOK("the first device states")
	// Each kind of card once: it must show, then go.
	for _, c := range []struct {
		what   string
		src    source
		toggle func()
	}{
		{"ID card on the SAM reader", srcSAM, s.toggleSAMCard},
		{"city card", srcCity, s.toggleCityCard},
		{"ID card on the PC/SC reader", srcUID, s.toggleUIDCard},
	} {
		c.toggle()
		key := s.or.current(c.src)
		if key == "" {
			t.Fatalf("warm-up: the %s was not placed", c.what)
		}
		s.eventually("the "+c.what+" in GET /v1/card", 15*time.Second, func() bool {
			code, body, err := s.d.api.do(context.Background(), "GET", "/v1/card", "")
			if err != nil || code != 200 {
				return false
			}
			var a cardAnswer
			if json.Unmarshal(body, &a) != nil {
				return false
			}
			ds, _ := a.data()
			return slices.ContainsFunc(ds, func(d datum) bool { return d.src == c.src && d.key == key })
		})
		c.toggle()
		s.waitNoCard("after the " + c.what + " left")
	}
	if n, printed := s.takeTicket(context.Background(), fmt.Sprintf(`{"category":%q}`, categories()[0])); n == "" || !printed {
		t.Fatalf("warm-up: the first ticket was not printed (%s)\n%s", s.asked.String(), s.d.logTail(40))
	}
	// The recorder's durable session must be in the broker's persistence file before a kill,
	// or a restarted broker would not queue the kiosk's events for it (autosave: every second).
	db := filepath.Join(s.broker.Dir, "mosquitto.db")
	s.eventually("the broker to save the recorder's session", 10*time.Second, func() bool {
		fi, err := os.Stat(db)
		return err == nil && fi.ModTime().After(s.recAt.Add(100*time.Millisecond))
	})
	s.baseline = s.rest("at the start")
	s.faults.reset() // the warm-up's card moves are not faults
	t.Logf("warm-up done: kioskd at rest has %d goroutines, %d open files, %d threads, RSS %d KiB",
		s.baseline.Goroutines, s.baseline.FDs, s.baseline.Threads, s.baseline.RSSKiB)
}

// rest measures kioskd at rest: the median of five samples a little apart.
func (s *soak) rest(when string) procSample {
	var ps []procSample
	for range 5 {
		p, err := s.d.sample(context.Background())
		if err != nil {
			s.t.Fatalf("sampling kioskd %s: %v", when, err)
		}
		ps = append(ps, p)
		time.Sleep(200 * time.Millisecond) // spread the samples: the median smooths a passing goroutine
	}
	med := func(f func(procSample) int64) int64 {
		v := make([]int64, len(ps))
		for i, p := range ps {
			v[i] = f(p)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return procSample{
		At: ps[len(ps)/2].At, RSSKiB: med(func(p procSample) int64 { return p.RSSKiB }),
		Threads: med(func(p procSample) int64 { return p.Threads }), FDs: med(func(p procSample) int64 { return p.FDs }),
		Goroutines: med(func(p procSample) int64 { return p.Goroutines }), HeapInuse: ps[len(ps)/2].HeapInuse,
	}
}

// eventually polls cond until it holds, failing the test after timeout.
func (s *soak) eventually(what string, timeout time.Duration, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out after %v waiting for %s\n%s", timeout, what, s.d.logTail(60))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *soak) allOK() (bool, string) {
	states, _ := s.mon.states()
	if states == nil {
		return false, "no status yet"
	}
	var bad []string
	for _, name := range []string{kiosk.DevicePrinter, kiosk.DeviceIDReader, kiosk.DeviceCardReader} {
		if d := states[name]; d.State != string(kiosk.StateOK) {
			bad = append(bad, fmt.Sprintf("%s %s (%q)", name, d.State, d.Detail))
		}
	}
	return len(bad) == 0, strings.Join(bad, ", ")
}

func (s *soak) waitDevicesOK(what string) {
	s.eventually(what+": every device ok", 30*time.Second, func() bool { ok, _ := s.allOK(); return ok })
}

func (s *soak) waitNoCard(what string) {
	s.eventually("no card "+what, 15*time.Second, func() bool {
		code, _, err := s.d.api.do(context.Background(), "GET", "/v1/card", "")
		return err == nil && code == 404
	})
}

// settle brings every device back, takes every card away, and waits until kioskd shows all
// devices working and no card.
func (s *soak) settle() {
	s.returns(true)
	if s.or.onReader(srcSAM) {
		s.toggleSAMCard()
	}
	if s.or.onReader(srcCity) {
		s.toggleCityCard()
	}
	if s.or.onReader(srcUID) {
		s.toggleUIDCard()
	}
	deadline := time.Now().Add(settleTimeout)
	for {
		ok, why := s.allOK()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			s.find.add("device-not-back", "%v after the last fault: %s", settleTimeout, why)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	deadline = time.Now().Add(StaleBound + 2*time.Second)
	for {
		code, body, err := s.d.api.do(context.Background(), "GET", "/v1/card", "")
		if err == nil && code == 404 {
			break
		}
		if time.Now().After(deadline) {
			s.find.add("stale-card-data", "with no card on any reader, GET /v1/card still answers %d %.300s", code, body)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkTickets compares what the API said with what the printer printed and what the store
// holds: every ticket reported printed printed once, nothing printed that the API does not
// know, no number twice.
func (s *soak) checkTickets() {
	s.mu.Lock()
	tickets := maps.Clone(s.tickets)
	s.mu.Unlock()
	onPaper := map[string]int{}
	for i, c := range s.paper.cuts() {
		if len(c.numbers) != 1 {
			s.find.add("print-garbled", "the printer's cut %d holds %d ticket numbers %v (%s)", i+1, len(c.numbers), c.numbers, c.what)
		}
		for _, n := range c.numbers {
			onPaper[n]++
		}
	}
	for n, c := range onPaper {
		tk, known := tickets[n]
		switch {
		case !known:
			s.find.add("print-unknown", "ticket %s printed %d times, but the API issued no such ticket", n, c)
		case c > 1:
			s.find.add("print-twice", "ticket %s printed %d times", n, c)
		case !tk.printed:
			s.asked.inc("issued, not printed, yet on paper")
		}
	}
	for n, tk := range tickets {
		if tk.printed && onPaper[n] == 0 {
			s.find.add("print-missing", "ticket %s: the API said printed at %s; not on paper", n, tk.at.Format("15:04:05.000"))
		}
	}
	// The store agrees: as many tickets, as many printed.
	db, err := sql.Open("sqlite3", "file:"+s.d.store+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		s.t.Fatal(err)
	}
	defer db.Close()
	var issued, printed int
	if err := db.QueryRow(`SELECT count(*), coalesce(sum(print_state = 'printed'), 0) FROM queue_ticket`).Scan(&issued, &printed); err != nil {
		s.t.Fatalf("reading kioskd's store: %v", err)
	}
	apiPrinted := 0
	for _, tk := range tickets {
		if tk.printed {
			apiPrinted++
		}
	}
	if issued != len(tickets) || printed != apiPrinted {
		s.find.add("store-mismatch", "the store holds %d tickets (%d printed); the API issued %d (%d printed)", issued, printed, len(tickets), apiPrinted)
	}
}

// delivery is what the hall received over MQTT.
type delivery struct {
	events, copies, tickets int
	reconnect               []time.Duration
}

// checkEvents waits until every ticket issued has its ticket.issued event at the hall's
// subscriber (events deduplicated by id, as the contract tells receivers to), and checks that
// no ticket has two and no event names a ticket the API does not know.
func (s *soak) checkEvents() delivery {
	s.mu.Lock()
	tickets := maps.Clone(s.tickets)
	s.mu.Unlock()
	var dl delivery
	var byTicket map[string]int
	count := func(ms []mqtttest.Msg) bool {
		seen := map[string]bool{}
		byTicket = map[string]int{}
		dl = delivery{}
		for _, m := range ms {
			if m.Topic != s.root+"/"+wire.KindEvent {
				continue
			}
			var e wire.Event
			if json.Unmarshal(m.Payload, &e) != nil || e.ID == "" {
				continue
			}
			if seen[e.ID] {
				dl.copies++
				continue
			}
			seen[e.ID] = true
			dl.events++
			if e.Type == wire.EventTicketIssued {
				var te kiosk.TicketEvent
				if json.Unmarshal(e.Data, &te) == nil {
					byTicket[te.Ticket]++
					dl.tickets++
				}
			}
		}
		for n := range tickets {
			if byTicket[n] == 0 {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(settleTimeout)
	for !count(s.rec.Messages()) {
		if time.Now().After(deadline) {
			var missing []string
			for n := range tickets {
				if byTicket[n] == 0 {
					missing = append(missing, n)
				}
			}
			slices.Sort(missing)
			s.find.add("event-missing", "%d of %d tickets have no ticket.issued event at the hall %v after the last fault: %v",
				len(missing), len(tickets), settleTimeout, missing[:min(20, len(missing))])
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for n, c := range byTicket {
		if _, ok := tickets[n]; !ok {
			s.find.add("event-unknown", "a ticket.issued event for %s, a ticket the API did not issue", n)
		} else if c > 1 {
			s.find.add("event-twice", "ticket %s has %d ticket.issued events with different ids", n, c)
		}
	}
	// Reconnection after each broker restart: to the first status kioskd stamped after it. A
	// restart just before the end of the faults may still be under way: its status is waited
	// for, as the events were.
	firsts := func() []time.Time {
		var stamps []time.Time
		for _, m := range s.rec.Messages() {
			var st wire.Status
			if m.Topic == s.root+"/"+wire.KindStatus && json.Unmarshal(m.Payload, &st) == nil && !st.TS.IsZero() {
				stamps = append(stamps, st.TS)
			}
		}
		out := make([]time.Time, len(s.restarts))
		for i, r := range s.restarts {
			for _, ts := range stamps {
				if !ts.Before(r) && (i+1 == len(s.restarts) || ts.Before(s.restarts[i+1])) && (out[i].IsZero() || ts.Before(out[i])) {
					out[i] = ts
				}
			}
		}
		return out
	}
	back := firsts()
	for deadline := time.Now().Add(settleTimeout); slices.ContainsFunc(back, time.Time.IsZero) && time.Now().Before(deadline); back = firsts() {
		time.Sleep(200 * time.Millisecond)
	}
	for i, r := range s.restarts {
		if back[i].IsZero() {
			s.find.add("mqtt-not-back", "no status from kioskd within %s after the broker restart at %s", settleTimeout, r.Format("15:04:05.000"))
			continue
		}
		dl.reconnect = append(dl.reconnect, back[i].Sub(r))
	}
	return dl
}

// checkOutbox waits until kioskd's telemetry outbox, read from its store, is empty.
func (s *soak) checkOutbox() {
	db, err := sql.Open("sqlite3", "file:"+s.d.store+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		s.t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(settleTimeout)
	for {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM telemetry_outbox`).Scan(&n); err != nil {
			s.t.Fatalf("reading kioskd's outbox: %v", err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			_, st := s.mon.states()
			s.find.add("outbox-not-drained", "%d events still in the outbox %v after the last fault (status says %d)", n, settleTimeout, st)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// memory is the process figures of the report.
type memory struct {
	rss, threads, fds, goroutines, heap flatness
	rssOK                               bool
	end                                 procSample
}

// checkProcess checks kioskd at rest at the end against the start (goroutines, open files) and
// its RSS over the run.
func (s *soak) checkProcess() memory {
	var mem memory
	mem.end = s.rest("at the end")
	if g := mem.end.Goroutines - s.baseline.Goroutines; g > goroutineSlack {
		dump := s.d.goroutineDump()
		path := filepath.Join(s.d.dir, "goroutines.txt")
		_ = os.WriteFile(path, []byte(dump), 0o600)
		s.find.add("goroutines-grew", "kioskd at rest: %d goroutines at the end, %d at the start (slack %d); stacks:\n%s",
			mem.end.Goroutines, s.baseline.Goroutines, goroutineSlack, firstLines(dump, 120))
	}
	if f := mem.end.FDs - s.baseline.FDs; f > fdSlack {
		s.find.add("files-grew", "kioskd at rest: %d open files at the end, %d at the start (slack %d)", mem.end.FDs, s.baseline.FDs, fdSlack)
	}
	s.mu.Lock()
	samples := slices.Clone(s.samples)
	s.mu.Unlock()
	// Warm-up: the first tenth of the run, at least 10 s after the faults began.
	warm := s.baseline.At.Add(max(10*time.Second, s.dur/10))
	var ok bool
	if mem.rss, ok = flat(samples, warm, func(p procSample) int64 { return p.RSSKiB }); !ok {
		s.find.add("harness", "only %d samples of kioskd after warm-up", mem.rss.n)
	}
	mem.rssOK = mem.rss.rssFlat()
	if ok && !mem.rssOK {
		s.find.add("memory-grew", "kioskd's RSS: median %d KiB in the last quarter, %d KiB in the first (tolerance ×%.2f + %d KiB)",
			mem.rss.last, mem.rss.first, rssGrowthRatio, rssGrowthSlack)
	}
	mem.threads, _ = flat(samples, warm, func(p procSample) int64 { return p.Threads })
	mem.fds, _ = flat(samples, warm, func(p procSample) int64 { return p.FDs })
	mem.goroutines, _ = flat(samples, warm, func(p procSample) int64 { return p.Goroutines })
	mem.heap, _ = flat(samples, warm, func(p procSample) int64 { return int64(p.HeapInuse >> 10) })
	return mem
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// checkPrivacy looks for every card number, ID number, UID and name the harness used in
// kioskd's log and in everything it sent over MQTT: none may be there.
func (s *soak) checkPrivacy() {
	s.mu.Lock()
	secrets := make([]string, 0, len(s.keys)+len(s.names))
	for k := range s.keys {
		secrets = append(secrets, k)
	}
	secrets = append(secrets, s.names...)
	s.mu.Unlock()
	log := s.d.log()
	var mqtt strings.Builder
	for _, m := range s.rec.Messages() {
		mqtt.Write(m.Payload)
		mqtt.WriteByte('\n')
	}
	for _, sec := range secrets {
		if strings.Contains(log, sec) {
			s.find.add("personal-data", "kioskd's log holds a card's data (%s)", mask(sec))
		}
		if strings.Contains(mqtt.String(), sec) {
			s.find.add("personal-data", "an MQTT message holds a card's data (%s)", mask(sec))
		}
	}
}

// report logs the figures and writes them to SOAK_REPORT when set.
func (s *soak) report(faulted time.Duration, dl delivery, mem memory, gaps int) {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	s.mu.Lock()
	nTickets := len(s.tickets)
	s.mu.Unlock()
	answers, withData, unverified := s.or.counts()
	p("kioskd soak: %v of faults, seed %d, %s", faulted.Round(time.Second), s.seed, time.Now().Format(time.RFC3339))
	p("faults: %s", s.faults.String())
	p("tickets: %d issued (POST /v1/tickets: %s)", nTickets, s.asked.String())
	p("print errors of tickets issued but not printed: %s", s.printErrs.String())
	p("recovery, plugged in again to working (bound %v):", RecoverBound)
	for _, n := range s.recovery.names() {
		p("  %-12s %s", n, spread(s.recovery.get(n)))
	}
	p("  %-12s %s (broker back to kioskd's first status)", "mqtt", spread(dl.reconnect))
	p("detection, unplugged to reported down:")
	for _, n := range s.detect.names() {
		p("  %-12s %s", n, spread(s.detect.get(n)))
	}
	wt := s.or.wipeTimes()
	p("card data forgotten, card gone or reader down to card.removed or no card (bound %v):", StaleBound)
	for src := range nSources {
		p("  %-12s %s", src, spread(wt[src]))
	}
	p("GET /v1/card: %d answers checked, %d with personal data; event stream reconnects %d, wipes unverifiable %d",
		answers, withData, gaps, unverified)
	p("events at the hall: %d distinct (%d copies dropped by id), ticket.issued %d for %d tickets",
		dl.events, dl.copies, dl.tickets, nTickets)
	mib := func(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }
	p("kioskd RSS: %s at rest at the start, %s at the end; after warm-up first-quarter median %s, last-quarter median %s, peak %s (%d samples; tolerance ×%.2f + %s)",
		mib(s.baseline.RSSKiB), mib(mem.end.RSSKiB), mib(mem.rss.first), mib(mem.rss.last), mib(mem.rss.peak), mem.rss.n, rssGrowthRatio, mib(rssGrowthSlack))
	p("kioskd heap in use: first-quarter median %s, last-quarter median %s", mib(mem.heap.first), mib(mem.heap.last))
	p("kioskd at rest, start → end: goroutines %d → %d (slack %d), open files %d → %d (slack %d), threads %d → %d",
		s.baseline.Goroutines, mem.end.Goroutines, goroutineSlack, s.baseline.FDs, mem.end.FDs, fdSlack, s.baseline.Threads, mem.end.Threads)
	p("kioskd during the run, first → last quarter medians: goroutines %d → %d, open files %d → %d, threads %d → %d",
		mem.goroutines.first, mem.goroutines.last, mem.fds.first, mem.fds.last, mem.threads.first, mem.threads.last)
	if sum := s.find.summary(); sum != "" {
		p("FOUND:\n%s", strings.TrimRight(sum, "\n"))
	} else {
		p("found nothing wrong")
	}
	s.t.Logf("figures:\n%s", b.String())
	if path := os.Getenv("SOAK_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			s.t.Errorf("SOAK_REPORT: %v", err)
		}
	}
}
