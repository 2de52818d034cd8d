package pcsc_test

// Tests against the real pcscd with vpcd virtual readers (scripts/testenv.sh starts them; see
// package pcsctest). Each holds the cross-process pcscd lock for its duration.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/idcard/samsim"
	"citizenhome/devices/pcsc"
	"citizenhome/devices/pcsc/pcsctest"
)

// watcher runs a Monitor on the two test readers' first slots and records its events.
type watcher struct {
	t  testing.TB
	m  *pcsc.Monitor
	mu sync.Mutex
	ev []pcsc.Event
	ch chan struct{} // closed and replaced at each event
	// hook runs inside the Monitor's callback, before the event is recorded, as a kiosk's
	// handler would.
	hook func(pcsc.Event)
}

func (w *watcher) setHook(h func(pcsc.Event)) {
	w.mu.Lock()
	w.hook = h
	w.mu.Unlock()
}

func watch(t testing.TB) *watcher {
	t.Helper()
	w := &watcher{t: t, ch: make(chan struct{}),
		m: pcsc.NewMonitor(pcsc.Options{Readers: []string{pcsctest.IDReaderSlot, pcsctest.CityReaderSlot}})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- w.m.Run(ctx, func(e pcsc.Event) {
			w.mu.Lock()
			h := w.hook
			w.mu.Unlock()
			if h != nil {
				h(e)
			}
			w.mu.Lock()
			w.ev = append(w.ev, e)
			close(w.ch)
			w.ch = make(chan struct{})
			w.mu.Unlock()
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Monitor.Run did not return after cancel")
		}
	})
	return w
}

// next waits for the first event at or after index from of this kind and reader ("" any), and
// returns it with its index.
func (w *watcher) next(from int, kind pcsc.EventKind, reader string, timeout time.Duration) (pcsc.Event, int) {
	w.t.Helper()
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		for i := from; i < len(w.ev); i++ {
			if e := w.ev[i]; e.Kind == kind && (reader == "" || e.Reader == reader) {
				w.mu.Unlock()
				return e, i
			}
		}
		ch := w.ch
		w.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			w.t.Fatalf("no %s %s within %v; events: %s", kind, reader, timeout, w.dump())
		}
	}
}

func (w *watcher) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.ev)
}

func (w *watcher) dump() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := ""
	for _, e := range w.ev {
		s += fmt.Sprintf("[%s %s %v] ", e.Kind, e.Reader, e.Err)
	}
	return s
}

// read connects to the card in reader and reads it.
func read(t testing.TB, m *pcsc.Monitor, reader string) (*pcsc.Contents, error) {
	t.Helper()
	card, err := m.Connect(reader)
	if err != nil {
		return nil, err
	}
	defer card.Close()
	return pcsc.Read(card, card.ATR())
}

const (
	idR   = pcsctest.IDReaderSlot
	cityR = pcsctest.CityReaderSlot
	// pcscd polls a vpcd card for its ATR about every 400 ms: insertions and removals are seen
	// up to that late. Deadlines leave room for a loaded machine.
	seen = 3 * time.Second
)

var sampleUID = []byte{0x5A, 0x3C, 0x0F, 0x1E, 0x2D, 0x4B, 0x69, 0x78}

func TestPCSCDInsertRemoveBothKinds(t *testing.T) {
	env := pcsctest.Open(t)
	w := watch(t)
	w.next(0, pcsc.EventReaderAdded, idR, seen)
	w.next(0, pcsc.EventReaderAdded, cityR, seen)

	city, _ := cardsim.New(cardsim.Sample())
	if err := env.CitySlot.Insert(city); err != nil {
		t.Fatal(err)
	}
	e, i := w.next(0, pcsc.EventCardInserted, cityR, seen)
	if !bytes.Equal(e.ATR, cardsim.DefaultATR) {
		t.Errorf("city card ATR % X", e.ATR)
	}
	c, err := read(t, w.m, cityR)
	if err != nil || c.Kind != pcsc.KindCityCard || c.City.CardNo != "3104000012345678" || c.City.BalanceFen != 12345 ||
		len(c.City.Records) != 3 || c.City.App != citycard.AppMOHURD {
		t.Fatalf("city card: %v %v", c, err)
	}

	if err := env.IDSlot.Insert(samsim.NewIDCard(sampleUID)); err != nil {
		t.Fatal(err)
	}
	w.next(i, pcsc.EventCardInserted, idR, seen)
	c, err = read(t, w.m, idR)
	if err != nil || c.Kind != pcsc.KindIDCard || !bytes.Equal(c.UID, sampleUID) || c.APDUs != 1 {
		t.Fatalf("ID card: %v (%d APDUs) %v", c, c.APDUs, err)
	}

	// A card from a data file: T=0, no PSE, purse in file 1001, data by 61 xx in 16-byte chunks.
	t0, err := cardsim.Load("testdata/city-t0.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.CitySlot.Remove(); err != nil {
		t.Fatal(err)
	}
	_, i = w.next(i, pcsc.EventCardRemoved, cityR, seen)
	if err := env.CitySlot.Insert(t0); err != nil {
		t.Fatal(err)
	}
	w.next(i, pcsc.EventCardInserted, cityR, seen)
	card, err := w.m.Connect(cityR)
	if err != nil {
		t.Fatal(err)
	}
	c, err = pcsc.Read(card, card.ATR())
	card.Close()
	if err != nil || card.Protocol() != pcsc.T0 || c.Kind != pcsc.KindCityCard || c.City.CardNo != "5180123456789012" ||
		c.City.App != citycard.AppFile1001 || c.City.BalanceFen != 880 {
		t.Fatalf("T=0 card (%s): %v %v", card.Protocol(), c, err)
	}
	if t0.Count(cardsim.CmdGetResponse) == 0 {
		t.Error("the T=0 card's data did not come through GET RESPONSE")
	}

	if err := env.IDSlot.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := env.CitySlot.Remove(); err != nil {
		t.Fatal(err)
	}
	w.next(i, pcsc.EventCardRemoved, idR, seen)
	_, i = w.next(i+1, pcsc.EventCardRemoved, cityR, seen)
	if _, err := w.m.Connect(cityR); !errors.Is(err, pcsc.ErrNoCard) {
		t.Errorf("connect with no card: %v", err)
	}
}

// pcscd killed with SIGKILL mid-session and started again: the Monitor finds the cards again
// within 2 s of pcscd being back, by itself.
func TestPCSCDKilledAndRestarted(t *testing.T) {
	env := pcsctest.Open(t)
	w := watch(t)
	city, _ := cardsim.New(cardsim.Sample())
	if err := env.CitySlot.Insert(city); err != nil {
		t.Fatal(err)
	}
	if err := env.IDSlot.Insert(samsim.NewIDCard(sampleUID)); err != nil {
		t.Fatal(err)
	}
	w.next(0, pcsc.EventCardInserted, cityR, seen)
	w.next(0, pcsc.EventCardInserted, idR, seen)
	old, err := w.m.Connect(cityR)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()

	for round := range 2 {
		from := w.count()
		env.Kill(t)
		down, _ := w.next(from, pcsc.EventServiceDown, "", seen)
		if !errors.Is(down.Err, pcsc.ErrNoService) {
			t.Errorf("round %d: service down with %v", round, down.Err)
		}
		w.next(from, pcsc.EventCardRemoved, cityR, time.Second)
		w.next(from, pcsc.EventCardRemoved, idR, time.Second)
		if _, err := old.Transmit(citycard.SelectPSEAPDU()); !pcsc.Gone(err) {
			t.Errorf("round %d: a command on the dead connection: %v", round, err)
		}
		if _, err := w.m.Connect(cityR); !errors.Is(err, pcsc.ErrNoService) {
			t.Errorf("round %d: connect while pcscd is away: %v", round, err)
		}

		from = w.count()
		env.Start(t)
		back := time.Now()
		ci, _ := w.next(from, pcsc.EventCardInserted, cityR, 5*time.Second)
		ii, _ := w.next(from, pcsc.EventCardInserted, idR, 5*time.Second)
		for _, e := range []pcsc.Event{ci, ii} {
			if d := e.Time.Sub(back); d > 2*time.Second {
				t.Errorf("round %d: %s found again %v after pcscd was back (want within 2 s)", round, e.Reader, d)
			} else {
				t.Logf("round %d: %s found again %v after pcscd was back", round, e.Reader, d.Round(time.Millisecond))
			}
		}
		c, err := read(t, w.m, cityR)
		if err != nil || c.Kind != pcsc.KindCityCard {
			t.Fatalf("round %d: city card after restart: %v %v", round, c, err)
		}
		c, err = read(t, w.m, idR)
		if err != nil || c.Kind != pcsc.KindIDCard {
			t.Fatalf("round %d: ID card after restart: %v %v", round, c, err)
		}
	}
	if _, err := old.Transmit(citycard.SelectPSEAPDU()); !errors.Is(err, pcsc.ErrClosed) && !errors.Is(err, pcsc.ErrNoService) {
		t.Errorf("the old connection after the restart: %v", err)
	}
}

// A card pulled mid-read: an error for that read only; the next read is fine.
func TestPCSCDCardPulledMidRead(t *testing.T) {
	env := pcsctest.Open(t)
	w := watch(t)
	city, _ := cardsim.New(cardsim.Sample())
	city.Inject(cardsim.Fault{On: cardsim.CmdReadRecord, Skip: 1, Leave: true})
	if err := env.CitySlot.Insert(city); err != nil {
		t.Fatal(err)
	}
	_, i := w.next(0, pcsc.EventCardInserted, cityR, seen)
	card, err := w.m.Connect(cityR)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pcsc.Read(card, card.ATR())
	if !pcsc.Gone(err) || !errors.Is(err, pcsc.ErrNoResponse) {
		t.Fatalf("read with the card leaving: %v %v", c, err)
	}
	if c.City == nil || len(c.City.Records) != 1 {
		t.Errorf("what was read before the card left is lost: %v", c)
	}
	// vpcd: the command in flight got an empty response; the next one fails.
	if _, err := card.Transmit(citycard.SelectPSEAPDU()); !errors.Is(err, pcsc.ErrRemoved) {
		t.Errorf("command after the card left: %v", err)
	}
	card.Close()
	_, i = w.next(i, pcsc.EventCardRemoved, cityR, seen)
	if env.CitySlot.Inserted() {
		t.Error("the slot still holds the card that left")
	}

	city.Reinsert()
	if err := env.CitySlot.Insert(city); err != nil {
		t.Fatal(err)
	}
	w.next(i, pcsc.EventCardInserted, cityR, seen)
	c, err = read(t, w.m, cityR)
	if err != nil || c.Kind != pcsc.KindCityCard || len(c.City.Records) != 3 {
		t.Fatalf("next read: %v %v", c, err)
	}

	// The ID card leaving during its UID request.
	id := samsim.NewIDCard(sampleUID)
	id.Leave()
	if err := env.IDSlot.Insert(id); err != nil {
		t.Fatal(err)
	}
	w.next(i, pcsc.EventCardInserted, idR, seen)
	if _, err := read(t, w.m, idR); !pcsc.Gone(err) {
		t.Errorf("ID card leaving: %v", err)
	}
}

// A reader that vanishes (pcscd comes back without it) and comes back.
func TestPCSCDReaderVanishes(t *testing.T) {
	env := pcsctest.Open(t)
	w := watch(t)
	city, _ := cardsim.New(cardsim.Sample())
	if err := env.CitySlot.Insert(city); err != nil {
		t.Fatal(err)
	}
	w.next(0, pcsc.EventCardInserted, cityR, seen)
	w.next(0, pcsc.EventReaderAdded, idR, seen)

	from := w.count()
	env.WithoutReader(t, pcsctest.CityReader)
	w.next(from, pcsc.EventReaderRemoved, cityR, seen)
	_, up := w.next(from, pcsc.EventServiceUp, "", seen)
	w.next(up, pcsc.EventReaderAdded, idR, seen)
	if got := w.m.Readers(); slices.Contains(got, cityR) {
		t.Errorf("readers without the city reader: %q", got)
	}
	if _, err := w.m.Connect(cityR); !errors.Is(err, pcsc.ErrNoReader) {
		t.Errorf("connect to the vanished reader: %v", err)
	}

	from = w.count()
	env.WithReader(t)
	w.next(from, pcsc.EventReaderAdded, cityR, seen)
	w.next(from, pcsc.EventCardInserted, cityR, seen) // the card stayed on it
	if c, err := read(t, w.m, cityR); err != nil || c.Kind != pcsc.KindCityCard {
		t.Fatalf("city card on the reader that came back: %v %v", c, err)
	}
}

// shortAnswer answers every command with one byte: no status word.
type shortAnswer struct{}

func (shortAnswer) ATR() []byte                     { return cardsim.DefaultATR }
func (shortAnswer) Transmit([]byte) ([]byte, error) { return []byte{0x90}, nil }

// Garbage status words and answers, through the real stack.
func TestPCSCDGarbage(t *testing.T) {
	env := pcsctest.Open(t)
	w := watch(t)
	tests := []struct {
		name  string
		fault cardsim.Fault
		check func(*pcsc.Contents, error) bool
	}{
		{"6F00 on the balance", cardsim.Fault{On: cardsim.CmdBalance, SW: 0x6F00}, func(c *pcsc.Contents, err error) bool {
			return errors.Is(err, citycard.ErrNoDiagnosis) && !pcsc.Gone(err) && c.Kind == pcsc.KindCityCard && c.City != nil
		}},
		{"6A82 on the public data", cardsim.Fault{On: cardsim.CmdReadPublic, SW: 0x6A82}, func(c *pcsc.Contents, err error) bool {
			return errors.Is(err, citycard.ErrFileNotFound) && c.Kind == pcsc.KindCityCard && c.City == nil
		}},
		{"9303 on every selection", cardsim.Fault{On: cardsim.CmdSelectMOHURD, SW: 0x9303, Times: -1}, func(c *pcsc.Contents, err error) bool {
			return err == nil && c.Kind == pcsc.KindUnknown
		}},
		{"61xx for ever", cardsim.Fault{On: "", SW: 0x6110, Times: -1}, func(c *pcsc.Contents, err error) bool {
			return errors.Is(err, citycard.ErrMalformed) && !pcsc.Gone(err) && c.Kind == pcsc.KindUnknown
		}},
	}
	i := 0
	for _, tc := range tests {
		card, _ := cardsim.New(cardsim.Sample())
		card.Inject(tc.fault)
		if err := env.CitySlot.Insert(card); err != nil {
			t.Fatal(err)
		}
		_, i = w.next(i, pcsc.EventCardInserted, cityR, seen)
		if c, err := read(t, w.m, cityR); !tc.check(c, err) {
			t.Errorf("%s: %v %v", tc.name, c, err)
		}
		if err := env.CitySlot.Remove(); err != nil {
			t.Fatal(err)
		}
		_, i = w.next(i, pcsc.EventCardRemoved, cityR, seen)
	}
	if err := env.CitySlot.Insert(shortAnswer{}); err != nil {
		t.Fatal(err)
	}
	w.next(i, pcsc.EventCardInserted, cityR, seen)
	if _, err := read(t, w.m, cityR); !errors.Is(err, pcsc.ErrNoResponse) {
		t.Errorf("one-byte answers: %v", err)
	}
}
