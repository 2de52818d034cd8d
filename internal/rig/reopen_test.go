//go:build linux

package rig

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/emulator"
	prnline "citizenhome/devices/escpos/emulator/ptytest"
	"citizenhome/devices/idcard/samsim"
	samline "citizenhome/devices/idcard/samsim/ptytest"
	"citizenhome/internal/localapi"
	"citizenhome/kiosk"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/session"
)

// ptyKiosk runs the core on a SAM reader and a printer behind real ptys, opened by path as a
// kiosk opens /dev/ttyUSB0, with the local API in front: the devices can vanish and come back.
type ptyKiosk struct {
	t    *testing.T
	sam  *samsim.Sim
	sl   *samline.Line
	emu  *emulator.Printer
	pl   *prnline.Line
	devs *Devices
	k    *kiosk.Kiosk
	srv  *httptest.Server

	mu      sync.Mutex
	ended   []session.EndReason
	changes map[string][]kiosk.Device // EventDevice, by device
}

// newPTYKiosk starts it; wipe is kioskd's WipeOnRemoval (false: the kiosk's screen). With
// samAway the SAM reader's line is down when the kiosk starts.
func newPTYKiosk(t *testing.T, wipe, samAway bool) *ptyKiosk {
	t.Helper()
	p := &ptyKiosk{t: t, sam: samsim.New()}
	p.sam.SetReadDelay(0, 0)
	p.sl = samline.Start(t, p.sam)
	if samAway {
		p.sl.Vanish()
	}
	emu, err := emulator.New(emulator.Config{Paper: escpos.Paper80, SkipPNG: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	p.emu, p.pl = emu, prnline.Start(t, emu)

	dir := t.TempDir()
	cfg := config.Default()
	cfg.Kiosk.Store = filepath.Join(dir, "kiosk.db")
	cfg.Hours.Weekday = []string{"00:00-23:59"}
	cfg.Hours.Weekend = []string{"00:00-23:59"}
	cfg.Devices.Printer = p.pl.Path
	cfg.Devices.PrinterBaud = 115200
	cfg.Devices.PrinterPaper = "80mm"
	cfg.Devices.IDReader = p.sl.Path
	// A fixed Thursday morning: the hall is open whatever the hour the test runs at.
	now := func() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)) }
	p.changes = map[string][]kiosk.Device{}
	devs, k := bootWatched(t, cfg, wipe, true, now, func(k *kiosk.Kiosk) {
		k.Subscribe(func(e kiosk.Event) {
			if e.Kind == kiosk.EventDevice {
				p.mu.Lock()
				p.changes[e.Device] = append(p.changes[e.Device], e.State)
				p.mu.Unlock()
			}
		})
		recordEnded(k, &p.mu, &p.ended)
	})
	p.devs, p.k = devs, k
	p.srv = httptest.NewServer(localapi.New(k, apiToken))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *ptyKiosk) state(dev string) kiosk.DeviceState { return p.k.Devices()[dev].State }

// waitState waits for dev to be in state and returns how long that took.
func (p *ptyKiosk) waitState(dev string, state kiosk.DeviceState) time.Duration {
	p.t.Helper()
	start := time.Now()
	waitFor(p.t, dev+" "+string(state), func() bool { return p.state(dev) == state })
	return time.Since(start)
}

// card calls GET /v1/card: the status code and the body.
func (p *ptyKiosk) card() (int, map[string]any) {
	p.t.Helper()
	req, _ := http.NewRequest("GET", p.srv.URL+"/v1/card", nil)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := p.srv.Client().Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		p.t.Fatal(err)
	}
	return resp.StatusCode, m
}

// away keeps dev away for d, long enough for the reopen back-off to reach its cap (the length
// of the outage is part of the scenario, not a wait for something to happen), and checks that
// it stays offline meanwhile without flapping: the polls that keep finding it away, and the
// reopen attempts between them, may refine the reason (the port failed, then the device
// cannot be opened) but never publish one they published before in this outage.
func (p *ptyKiosk) away(dev string, d time.Duration) {
	p.t.Helper()
	p.mu.Lock()
	before := 0
	for i, c := range p.changes[dev] {
		if c.State != kiosk.StateOffline {
			before = i + 1
		}
	}
	p.mu.Unlock()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if s := p.state(dev); s != kiosk.StateOffline {
			p.t.Fatalf("%s %s while its device is away", dev, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	outage := p.changes[dev][before:]
	seen := map[string]bool{}
	for _, c := range outage {
		if seen[c.Detail] {
			p.t.Errorf("%s: the reason flaps while it stays away: %+v", dev, outage)
			break
		}
		seen[c.Detail] = true
	}
	if len(outage) > 3 {
		p.t.Errorf("%s: %d changes published for one outage: %+v", dev, len(outage), outage)
	}
}

func (p *ptyKiosk) endReasons() []session.EndReason {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ended)
}

// watchStale asks GET /v1/card without pause until stop is closed, and fails the test if an
// answer carried an ID card while the ID reader was already known offline when it was asked.
// It returns when it has stopped.
func (p *ptyKiosk) watchStale(stop <-chan struct{}) <-chan int {
	asked := make(chan int, 1)
	go func() {
		n := 0
		defer func() { asked <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			offline := p.state(kiosk.DeviceIDReader) == kiosk.StateOffline
			req, _ := http.NewRequest("GET", p.srv.URL+"/v1/card", nil)
			req.Header.Set("Authorization", "Bearer "+apiToken)
			resp, err := p.srv.Client().Do(req)
			if err != nil {
				p.t.Error(err)
				return
			}
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			n++
			if offline && m["id"] != nil {
				p.t.Errorf("GET /v1/card gave an ID card's data while the reader was offline")
				return
			}
		}
	}()
	return asked
}

// The SAM reader's adapter pulled while a citizen's card is on it: at once the card is gone from
// /v1/card, the person from the session and the session ended, in kioskd and in the kiosk's
// screen alike; the reader is offline (not absent). Plugged in again as another tty behind the
// same link, it is back within 2 s and the card is read again.
func TestReaderLostWipesAndReturns(t *testing.T) {
	for _, c := range []struct {
		name string
		wipe bool
	}{{"kioskd", true}, {"kiosk", false}} {
		t.Run(c.name, func(t *testing.T) {
			p := newPTYKiosk(t, c.wipe, false)
			p.waitState(kiosk.DeviceIDReader, kiosk.StateOK)
			person, err := samsim.Sample("adult")
			if err != nil {
				t.Fatal(err)
			}
			if err := p.sam.PlacePerson(person); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the card read", func() bool { return p.k.Person() != nil })
			code, m := p.card()
			id, _ := m["id"].(map[string]any)
			if code != 200 || id == nil || id["number"] != person.Number {
				t.Fatalf("card before: %d %v", code, m)
			}
			if _, active := p.k.Sessions().Active(); !active {
				t.Fatal("no session for the tapped card")
			}

			stop := make(chan struct{})
			asked := p.watchStale(stop)
			p.sl.Vanish()
			took := p.waitState(kiosk.DeviceIDReader, kiosk.StateOffline)
			// By the time the reader shows offline everything read from it is gone.
			if code, _ := p.card(); code != 404 {
				t.Errorf("GET /v1/card %d with the reader offline", code)
			}
			if p.k.Person() != nil || len(p.k.Cards()) != 0 {
				t.Errorf("person %v, cards %v kept with the reader offline", p.k.Person(), p.k.Cards())
			}
			if _, active := p.k.Sessions().Active(); active {
				t.Error("the session outlived its reader")
			}
			if got := p.endReasons(); len(got) != 1 || got[0] != session.ReaderLost {
				t.Errorf("session ended with %v, want [reader-lost]", got)
			}
			close(stop)
			if n := <-asked; n == 0 {
				t.Error("GET /v1/card was never asked while the reader vanished")
			}
			d := p.k.Devices()[kiosk.DeviceIDReader]
			t.Logf("reader offline %v after it vanished: %q", took.Round(time.Millisecond), d.Detail)
			if d.Detail == "" {
				t.Error("offline without a reason")
			}
			p.away(kiosk.DeviceIDReader, 1500*time.Millisecond)

			p.sl.Return()
			back := p.waitState(kiosk.DeviceIDReader, kiosk.StateOK)
			t.Logf("reader ok %v after it came back", back.Round(time.Millisecond))
			if back > 2*time.Second {
				t.Errorf("reader ok %v after it came back, want within 2 s", back)
			}
			waitFor(t, "the card read again", func() bool { return p.k.Person() != nil })
			if code, m := p.card(); code != 200 || m["id"] == nil {
				t.Errorf("card after the return: %d %v", code, m)
			}
		})
	}
}

// A configured SAM reader whose device is missing at start is offline (absent means "not
// configured"), and is picked up within 2 s of appearing.
func TestReaderMissingAtStart(t *testing.T) {
	p := newPTYKiosk(t, true, true)
	p.waitState(kiosk.DeviceIDReader, kiosk.StateOffline)
	p.away(kiosk.DeviceIDReader, 1500*time.Millisecond)
	if d := p.k.Devices()[kiosk.DeviceIDReader]; d.Detail == "" {
		t.Error("offline without a reason")
	}
	p.sl.Return()
	back := p.waitState(kiosk.DeviceIDReader, kiosk.StateOK)
	t.Logf("reader ok %v after it appeared", back.Round(time.Millisecond))
	if back > 2*time.Second {
		t.Errorf("reader ok %v after it appeared, want within 2 s", back)
	}
}

// The printer's adapter pulled and plugged in again: offline, then ok within 2 s of its return,
// and the next ticket prints.
func TestPrinterReturns(t *testing.T) {
	p := newPTYKiosk(t, true, false)
	p.waitState(kiosk.DevicePrinter, kiosk.StateOK)
	p.pl.Vanish()
	p.waitState(kiosk.DevicePrinter, kiosk.StateOffline)
	p.away(kiosk.DevicePrinter, 1500*time.Millisecond)
	p.pl.Return()
	back := p.waitState(kiosk.DevicePrinter, kiosk.StateOK)
	t.Logf("printer ok %v after it came back", back.Round(time.Millisecond))
	if back > 2*time.Second {
		t.Errorf("printer ok %v after it came back, want within 2 s", back)
	}
	is, err := p.k.TakeTicket(context.Background(), p.k.Catalog().All()[0].ID)
	if err != nil || is.PrintErr != nil {
		t.Fatalf("ticket after the return: %v %v", err, is.PrintErr)
	}
	waitFor(t, "the ticket cut", func() bool { return len(p.emu.Tickets()) == 1 })
}
