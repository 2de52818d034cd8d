package rig

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/idcard/samsim"
	"citizenhome/devices/pcsc/pcsctest"
	"citizenhome/internal/localapi"
	"citizenhome/kiosk"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/session"
)

const apiToken = "rig0123456789abcdef0123456789abcd"

// pcscKiosk runs the core on the real pcscd's vpcd readers, as kioskd does (WipeOnRemoval),
// with the local API in front.
type pcscKiosk struct {
	t   *testing.T
	env *pcsctest.Env
	k   *kiosk.Kiosk
	srv *httptest.Server

	mu    sync.Mutex
	ended []session.EndReason
}

func newPCSCKiosk(t *testing.T) *pcscKiosk {
	t.Helper()
	return newPCSCKioskWipe(t, true)
}

// newPCSCKioskWipe is newPCSCKiosk with WipeOnRemoval as given: false is the kiosk's screen.
func newPCSCKioskWipe(t *testing.T, wipe bool) *pcscKiosk {
	t.Helper()
	env := pcsctest.Open(t)
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Kiosk.Store = filepath.Join(dir, "kiosk.db")
	cfg.Devices.CardReader = pcsctest.CityReader
	cfg.Devices.UIDReader = pcsctest.IDReader
	p := &pcscKiosk{t: t, env: env}
	devs, k := bootWatched(t, cfg, wipe, false, nil, func(k *kiosk.Kiosk) { recordEnded(k, &p.mu, &p.ended) })
	if devs.PCSC == nil {
		t.Fatal("no PC/SC monitor for configured readers")
	}
	p.k = k
	p.srv = httptest.NewServer(localapi.New(k, apiToken))
	t.Cleanup(p.srv.Close)
	p.waitDevice(kiosk.StateOK, "")
	return p
}

func (p *pcscKiosk) endReasons() []session.EndReason {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ended)
}

func (p *pcscKiosk) waitDevice(state kiosk.DeviceState, detail string) {
	p.t.Helper()
	waitFor(p.t, "card reader "+string(state)+" "+detail, func() bool {
		d := p.k.Devices()[kiosk.DeviceCardReader]
		return d.State == state && strings.Contains(d.Detail, detail)
	})
}

// card calls GET /v1/card.
func (p *pcscKiosk) card() (int, map[string]any) {
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

// waitCard waits until GET /v1/card answers a card of kind ("" for 404 no-card).
func (p *pcscKiosk) waitCard(kind string) map[string]any {
	p.t.Helper()
	var m map[string]any
	waitFor(p.t, "card "+kind, func() bool {
		var code int
		code, m = p.card()
		if kind == "" {
			return code == 404
		}
		return code == 200 && m["kind"] == kind
	})
	return m
}

// events opens GET /v1/events and returns a channel of "NAME DATA" lines.
func (p *pcscKiosk) events() <-chan string {
	p.t.Helper()
	req, _ := http.NewRequest("GET", p.srv.URL+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := p.srv.Client().Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { resp.Body.Close() })
	ch := make(chan string, 100)
	go func() {
		r := bufio.NewReader(resp.Body)
		name := ""
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				close(ch)
				return
			}
			line = strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(line, "event: "):
				name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				ch <- name + " " + line[len("data: "):]
			}
		}
	}()
	return ch
}

func expectEvent(t *testing.T, ch <-chan string, prefix string) string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("stream ended waiting for %s", prefix)
			}
			if strings.HasPrefix(e, prefix) {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event", prefix)
		}
	}
}

// The kiosk on real readers: city and ID cards tapped, read, shown by the API while present
// and forgotten when they leave; pcscd killed and back; a card pulled mid-read; garbage.
func TestPCSCDKioskCards(t *testing.T) {
	p := newPCSCKiosk(t)
	ev := p.events()
	if code, m := p.card(); code != 404 || m["error"].(map[string]any)["code"] != "no-card" {
		t.Fatalf("no card yet: %d %v", code, m)
	}

	city, _ := cardsim.New(cardsim.Sample())
	if err := p.env.CitySlot.Insert(city); err != nil {
		t.Fatal(err)
	}
	m := p.waitCard("city-card")
	c, _ := m["city"].(map[string]any)
	if m["reader"] != pcsctest.CityReaderSlot || c["card_no"] != "3104000012345678" || c["balance_fen"] != 12345.0 || len(c["records"].([]any)) != 3 {
		t.Fatalf("city card object: %v", m)
	}
	if e := expectEvent(t, ev, "card.inserted"); !strings.Contains(e, `"kind":"city-card"`) || strings.Contains(e, "3104000012345678") {
		t.Errorf("event %s", e)
	}
	if cc := p.k.CityCard(); cc == nil || cc.CardNo != "3104000012345678" {
		t.Errorf("session city card %v", cc)
	}
	if err := p.env.CitySlot.Remove(); err != nil {
		t.Fatal(err)
	}
	p.waitCard("")
	expectEvent(t, ev, "card.removed")
	if p.k.CityCard() != nil {
		t.Error("the session kept the city card after it left (WipeOnRemoval)")
	}

	uid := []byte{0x5A, 0x3C, 0x0F, 0x1E, 0x2D, 0x4B, 0x69, 0x78}
	if err := p.env.IDSlot.Insert(samsim.NewIDCard(uid)); err != nil {
		t.Fatal(err)
	}
	m = p.waitCard("id-card")
	if m["uid"] != "5A3C0F1E2D4B6978" || m["reader"] != pcsctest.IDReaderSlot || m["id"] != nil {
		t.Fatalf("ID card object: %v", m)
	}

	// pcscd killed: the reader goes offline and the card object goes; back: both return.
	p.env.Kill(t)
	p.waitDevice(kiosk.StateOffline, "pcscd not running")
	expectEvent(t, ev, `device.changed {"detail":"pcscd not running"`)
	p.waitCard("")
	p.env.Start(t)
	back := time.Now()
	p.waitCard("id-card")
	if d := time.Since(back); d > 2*time.Second {
		t.Errorf("card back %v after pcscd", d)
	}
	p.waitDevice(kiosk.StateOK, "")
	if err := p.env.IDSlot.Remove(); err != nil {
		t.Fatal(err)
	}
	p.waitCard("")

	// A city card pulled mid-read: no card object for that read; put back, it reads.
	city.Inject(cardsim.Fault{On: cardsim.CmdBalance, Leave: true})
	if err := p.env.CitySlot.Insert(city); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the card to leave", func() bool { return !p.env.CitySlot.Inserted() })
	p.env.WaitNoCards(t)
	if code, _ := p.card(); code != 404 {
		t.Errorf("a card pulled mid-read shows: %d", code)
	}
	city.Reinsert()
	if err := p.env.CitySlot.Insert(city); err != nil {
		t.Fatal(err)
	}
	p.waitCard("city-card")
	if err := p.env.CitySlot.Remove(); err != nil {
		t.Fatal(err)
	}
	p.waitCard("")

	// Garbage status word: the card is shown as a city card that could not be read.
	bad, _ := cardsim.New(cardsim.Sample())
	bad.Inject(cardsim.Fault{On: cardsim.CmdBalance, SW: 0x6F00})
	if err := p.env.CitySlot.Insert(bad); err != nil {
		t.Fatal(err)
	}
	m = p.waitCard("city-card")
	re, _ := m["read_error"].(map[string]any)
	if re["code"] != "read-failed" || !strings.Contains(re["message"].(string), "6F00") {
		t.Errorf("garbage: %v", m)
	}
	if p.k.CityCard() != nil {
		t.Error("a card read incompletely joined the session")
	}
}

// A configured reader that is not there: offline, naming it; back: ok.
func TestPCSCDKioskReaderMissing(t *testing.T) {
	p := newPCSCKiosk(t)
	p.env.WithoutReader(t, pcsctest.CityReader)
	p.waitDevice(kiosk.StateOffline, "reader not connected: "+pcsctest.CityReader)
	p.env.WithReader(t)
	p.waitDevice(kiosk.StateOK, "")
}

// The city card reader unplugged with a citizen's card on it (pcscd lists it no more), and
// pcscd killed with a card on the reader: at once the card is gone from /v1/card, the city card
// from the session and the session ended, in kioskd and in the kiosk's screen alike; the reader
// is offline. Back, the reader is ok and the card read again within 2 s of pcscd listing it.
func TestPCSCDReaderLostWithCard(t *testing.T) {
	for _, c := range []struct {
		name string
		wipe bool
	}{{"kioskd", true}, {"kiosk", false}} {
		t.Run(c.name, func(t *testing.T) {
			p := newPCSCKioskWipe(t, c.wipe)
			lost := func(how string, gone func(), back func()) {
				t.Helper()
				city, _ := cardsim.New(cardsim.Sample())
				if err := p.env.CitySlot.Insert(city); err != nil {
					t.Fatal(err)
				}
				p.waitCard("city-card")
				if p.k.CityCard() == nil {
					t.Fatal("the city card did not join the session")
				}
				before := len(p.endReasons())
				gone()
				p.waitCard("")
				p.waitDevice(kiosk.StateOffline, "")
				if p.k.CityCard() != nil {
					t.Errorf("%s: the session kept the city card", how)
				}
				if _, active := p.k.Sessions().Active(); active {
					t.Errorf("%s: the session outlived its reader", how)
				}
				reasons := p.endReasons()[before:]
				// kioskd ends the session as the card is reported gone (card-left), just
				// before its reader; the kiosk, which keeps a card that left, when the reader goes.
				want := session.ReaderLost
				if c.wipe {
					want = session.CardLeft
				}
				if len(reasons) != 1 || reasons[0] != want {
					t.Errorf("%s: session ended with %v, want [%s]", how, reasons, want)
				}
				back()
				listed := time.Now()
				p.waitDevice(kiosk.StateOK, "")
				ok := time.Since(listed)
				p.waitCard("city-card")
				read := time.Since(listed)
				t.Logf("%s: card reader ok %v, card read again %v after pcscd listed the reader", how, ok.Round(time.Millisecond), read.Round(time.Millisecond))
				if ok > 2*time.Second || read > 2*time.Second {
					t.Errorf("%s: reader ok %v, card again %v after it was back, want within 2 s", how, ok, read)
				}
				if err := p.env.CitySlot.Remove(); err != nil {
					t.Fatal(err)
				}
				p.waitCard("")
			}
			lost("reader unplugged", func() {
				p.env.WithoutReader(t, pcsctest.CityReader)
			}, func() {
				p.env.WithReader(t) // returns once pcscd lists both readers
			})
			lost("pcscd killed", func() {
				p.env.Kill(t)
			}, func() {
				p.env.Start(t)
				p.env.WaitReaders(t, pcsctest.CityReaderSlot, pcsctest.IDReaderSlot)
			})
		})
	}
}
