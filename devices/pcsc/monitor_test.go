package pcsc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebfe/scard"

	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/idcard/samsim"
)

const (
	cityReader = "City card reader 00 00"
	idReader   = "ID card reader 00 00"
)

type recorder struct {
	t  *testing.T
	ch chan Event
}

// runMonitor runs a Monitor on the fake until the test ends; handler (may be nil) runs inside
// the Monitor's callback, before the event is recorded.
func runMonitor(t *testing.T, f *fakePCSC, o Options, handler func(*Monitor, Event)) (*Monitor, *recorder) {
	t.Helper()
	if o.RetryMin == 0 {
		o.RetryMin, o.RetryMax = time.Millisecond, 5*time.Millisecond
	}
	m := NewMonitor(o)
	m.sys = f
	rec := &recorder{t: t, ch: make(chan Event, 1000)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, func(e Event) {
			if handler != nil {
				handler(m, e)
			}
			rec.ch <- e
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return m, rec
}

// expect waits for the next events, "kind reader" each ("card-inserted City card reader 00 00",
// "service-up").
func (r *recorder) expect(want ...string) []Event {
	r.t.Helper()
	var got []Event
	deadline := time.After(5 * time.Second)
	for i, w := range want {
		select {
		case e := <-r.ch:
			got = append(got, e)
			s := strings.TrimSpace(e.Kind.String() + " " + e.Reader)
			if s != w {
				r.t.Fatalf("event %d: %q, want %q (so far %v)", i, s, w, describe(got))
			}
		case <-deadline:
			r.t.Fatalf("timed out waiting for %q (so far %v)", w, describe(got))
		}
	}
	return got
}

// quiet checks that no event comes for d.
func (r *recorder) quiet(d time.Duration) {
	r.t.Helper()
	select {
	case e := <-r.ch:
		r.t.Fatalf("unexpected event %s %s", e.Kind, e.Reader)
	case <-time.After(d):
	}
}

func describe(es []Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Kind.String()+" "+e.Reader)
	}
	return out
}

var cityATR = cardsim.DefaultATR

func TestMonitorInsertRemove(t *testing.T) {
	f := newFake(cityReader, idReader)
	_, rec := runMonitor(t, f, Options{}, nil)
	evs := rec.expect("service-up", "reader-added "+cityReader, "reader-added "+idReader)
	if fmt.Sprint(evs[0].Readers) != "[City card reader 00 00 ID card reader 00 00]" {
		t.Errorf("service-up readers %q", evs[0].Readers)
	}
	card, _ := cardsim.New(cardsim.Sample())
	f.insert(cityReader, cityATR, card)
	evs = rec.expect("card-inserted " + cityReader)
	if !bytes.Equal(evs[0].ATR, cityATR) || evs[0].Err != nil || evs[0].Time.IsZero() {
		t.Errorf("inserted: ATR % X err %v time %v", evs[0].ATR, evs[0].Err, evs[0].Time)
	}
	f.insert(idReader, samsim.ATR, samsim.NewIDCard(make([]byte, 8)))
	rec.expect("card-inserted " + idReader)
	f.remove(cityReader)
	rec.expect("card-removed " + cityReader)
	f.remove(idReader)
	rec.expect("card-removed " + idReader)
	rec.quiet(20 * time.Millisecond)
}

func TestMonitorCardAlreadyThere(t *testing.T) {
	f := newFake(cityReader)
	card, _ := cardsim.New(cardsim.Sample())
	f.insert(cityReader, cityATR, card)
	_, rec := runMonitor(t, f, Options{}, nil)
	rec.expect("service-up", "reader-added "+cityReader, "card-inserted "+cityReader)
}

func TestMonitorFilter(t *testing.T) {
	f := newFake(cityReader, "City card reader 00 01", idReader, "Other reader 00 00")
	m, rec := runMonitor(t, f, Options{Readers: []string{"City card reader"}}, nil)
	rec.expect("service-up", "reader-added "+cityReader, "reader-added City card reader 00 01")
	f.insert("Other reader 00 00", cityATR, nil)
	f.insert(idReader, samsim.ATR, nil)
	rec.quiet(30 * time.Millisecond)
	if got := fmt.Sprint(m.Readers()); got != "[City card reader 00 00 City card reader 00 01]" {
		t.Errorf("Readers %s", got)
	}
}

// A blocked wait gets SCARD_F_COMM_ERROR when pcscd dies; the Monitor must report everything
// gone, and everything back once pcscd returns, without being told.
func TestMonitorPCSCDRestart(t *testing.T) {
	f := newFake(cityReader, idReader)
	card, _ := cardsim.New(cardsim.Sample())
	f.insert(cityReader, cityATR, card)
	_, rec := runMonitor(t, f, Options{}, nil)
	rec.expect("service-up", "reader-added "+cityReader, "reader-added "+idReader, "card-inserted "+cityReader)
	f.kill()
	evs := rec.expect("card-removed "+cityReader, "reader-removed "+cityReader, "reader-removed "+idReader, "service-down")
	if !errors.Is(evs[3].Err, ErrNoService) {
		t.Errorf("service-down err %v, want ErrNoService", evs[3].Err)
	}
	// While pcscd is away: retried, reported once.
	waitFor(t, "retries", func() bool { e, _ := f.counts(); return e > 8 })
	rec.quiet(10 * time.Millisecond)
	f.start()
	rec.expect("service-up", "reader-added "+cityReader, "reader-added "+idReader, "card-inserted "+cityReader)
}

func TestMonitorNoPCSCDAtStart(t *testing.T) {
	f := newFake(cityReader)
	f.kill()
	_, rec := runMonitor(t, f, Options{}, nil)
	evs := rec.expect("service-down")
	if !errors.Is(evs[0].Err, ErrNoService) || !errors.Is(evs[0].Err, scard.ErrNoService) {
		t.Errorf("err %v", evs[0].Err)
	}
	waitFor(t, "retries", func() bool { e, _ := f.counts(); return e > 5 })
	rec.quiet(10 * time.Millisecond)
	f.start()
	rec.expect("service-up", "reader-added "+cityReader)
}

func TestMonitorBackoffBounded(t *testing.T) {
	f := newFake(cityReader)
	f.kill()
	var asked []time.Duration
	after := make(chan time.Duration, 100)
	o := Options{RetryMin: 10 * time.Millisecond, RetryMax: 40 * time.Millisecond,
		After: func(d time.Duration) <-chan time.Time {
			after <- d
			c := make(chan time.Time, 1)
			c <- time.Time{}
			return c
		}}
	_, rec := runMonitor(t, f, o, nil)
	rec.expect("service-down")
	for len(asked) < 6 {
		select {
		case d := <-after:
			asked = append(asked, d)
		case <-time.After(5 * time.Second):
			t.Fatal("no retry")
		}
	}
	want := []time.Duration{10, 20, 40, 40, 40, 40}
	for i, d := range asked[:6] {
		if d != want[i]*time.Millisecond {
			t.Fatalf("back-off %v, want %v ms", asked[:6], want)
		}
	}
}

// Readers that come and go are seen through the PnP pseudo-reader.
func TestMonitorHotplug(t *testing.T) {
	f := newFake(idReader)
	_, rec := runMonitor(t, f, Options{Readers: []string{"ID card reader", "City card reader"}, Rescan: time.Hour}, nil)
	rec.expect("service-up", "reader-added "+idReader)
	f.addReader(cityReader)
	rec.expect("reader-added " + cityReader)
	card, _ := cardsim.New(cardsim.Sample())
	f.insert(cityReader, cityATR, card)
	rec.expect("card-inserted " + cityReader)
	f.removeReader(cityReader)
	rec.expect("card-removed "+cityReader, "reader-removed "+cityReader)
	f.addReader(cityReader)
	rec.expect("reader-added " + cityReader)
}

// The PnP pseudo-reader must get back the state it gave (reader count in the upper bits):
// StateUnaware would make every wait return at once.
func TestMonitorDoesNotSpin(t *testing.T) {
	f := newFake(cityReader, idReader)
	_, rec := runMonitor(t, f, Options{}, nil)
	rec.expect("service-up", "reader-added "+cityReader, "reader-added "+idReader)
	_, before := f.counts()
	time.Sleep(100 * time.Millisecond) // idle on purpose: counting the waits of an idle monitor
	if _, after := f.counts(); after-before > 2 {
		t.Errorf("%d waits in 100 ms of nothing happening", after-before)
	}
}

// A card taken away and put back while the caller was still busy with it shows as removed and
// inserted again, thanks to the event counter.
func TestMonitorQuickSwap(t *testing.T) {
	f := newFake(cityReader)
	release := make(chan struct{})
	var busy atomic.Bool
	_, rec := runMonitor(t, f, Options{}, func(_ *Monitor, e Event) {
		if e.Kind == EventCardInserted && busy.CompareAndSwap(false, true) {
			<-release
		}
	})
	rec.expect("service-up", "reader-added "+cityReader)
	card, _ := cardsim.New(cardsim.Sample())
	f.insert(cityReader, cityATR, card)
	waitFor(t, "callback busy", busy.Load)
	f.remove(cityReader)
	f.insert(cityReader, cityATR, card)
	close(release)
	rec.expect("card-inserted "+cityReader, "card-removed "+cityReader, "card-inserted "+cityReader)
}

func TestMonitorMuteCard(t *testing.T) {
	f := newFake(cityReader)
	m, rec := runMonitor(t, f, Options{}, nil)
	rec.expect("service-up", "reader-added "+cityReader)
	f.insertMute(cityReader)
	evs := rec.expect("card-inserted " + cityReader)
	if !errors.Is(evs[0].Err, ErrCard) {
		t.Errorf("mute card err %v", evs[0].Err)
	}
	if _, err := m.Connect(cityReader); !errors.Is(err, ErrCard) {
		t.Errorf("connect to a mute card: %v", err)
	}
}

func TestMonitorRunOnce(t *testing.T) {
	f := newFake(cityReader)
	m, rec := runMonitor(t, f, Options{}, nil)
	rec.expect("service-up")
	if err := m.Run(context.Background(), nil); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: %v", err)
	}
}

func TestConnectAndTransmit(t *testing.T) {
	f := newFake(cityReader, idReader)
	m := NewMonitor(Options{})
	m.sys = f
	if _, err := m.Connect(cityReader); !errors.Is(err, ErrNoService) {
		t.Errorf("connect before Run: %v", err)
	}
	var card *Card
	var connErr error
	_, rec := runMonitor(t, f, Options{}, func(mm *Monitor, e Event) {
		if e.Kind == EventCardInserted {
			card, connErr = mm.Connect(e.Reader)
		}
	})
	rec.expect("service-up", "reader-added "+cityReader, "reader-added "+idReader)
	model, _ := cardsim.New(cardsim.Sample())
	f.insert(cityReader, cityATR, model)
	rec.expect("card-inserted " + cityReader)
	if connErr != nil {
		t.Fatal(connErr)
	}
	if card.Reader() != cityReader || !bytes.Equal(card.ATR(), cityATR) || card.Protocol() != T1 {
		t.Errorf("card %s % X %s", card.Reader(), card.ATR(), card.Protocol())
	}
	c, err := Read(card, card.ATR())
	if err != nil || c.Kind != KindCityCard || c.City.CardNo != "3104000012345678" {
		t.Fatalf("read: %v %v", c, err)
	}
	if card.Sent() != c.APDUs {
		t.Errorf("card counted %d commands, Read %d", card.Sent(), c.APDUs)
	}
	f.kill()
	rec.expect("card-removed "+cityReader, "reader-removed "+cityReader, "reader-removed "+idReader, "service-down")
	if _, err := card.Transmit(citycardSelectPSE()); !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNoService) {
		t.Errorf("transmit after pcscd died: %v", err)
	}
	if err := card.Close(); err != nil {
		t.Errorf("close after pcscd died: %v", err)
	}
	if _, err := card.Transmit(citycardSelectPSE()); !errors.Is(err, ErrClosed) {
		t.Errorf("transmit after close: %v", err)
	}
}

func TestMonitorConnectErrors(t *testing.T) {
	f := newFake(cityReader)
	var errs []error
	_, rec := runMonitor(t, f, Options{}, func(m *Monitor, e Event) {
		if e.Kind == EventReaderAdded {
			_, err1 := m.Connect(e.Reader)
			_, err2 := m.Connect("No such reader")
			errs = []error{err1, err2}
		}
	})
	rec.expect("service-up", "reader-added "+cityReader)
	if !errors.Is(errs[0], ErrNoCard) || !errors.Is(errs[1], ErrNoReader) {
		t.Errorf("errors %v", errs)
	}
}

func TestMatchReader(t *testing.T) {
	tests := []struct {
		name, reader string
		want         bool
	}{
		{"City card reader", "City card reader 00 00", true},
		{"City card reader", "City card reader 01 0A", true},
		{"City card reader", "City card reader", true},
		{"City card reader 00 00", "City card reader 00 00", true},
		{"City card reader 00 00", "City card reader 00 01", false},
		{"City card reader", "City card reader 2 00 00", false},
		{"City card", "City card reader 00 00", false},
		{"City card reader", "City card reader 0 00", false},
		{"", "City card reader 00 00", false},
	}
	for _, tc := range tests {
		if got := MatchReader(tc.name, tc.reader); got != tc.want {
			t.Errorf("MatchReader(%q, %q) = %v", tc.name, tc.reader, got)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
