package pcsc

import (
	"sync"
	"time"

	"github.com/ebfe/scard"
)

// fakePCSC is a pcscd in memory with pcsc-lite's GetStatusChange semantics: a call returns at
// once for a state that differs from the caller's CurrentState (StateUnaware always differs),
// otherwise when something changes, on timeout, or on Cancel. Reader states carry the card
// event counter in their upper 16 bits, the PnP pseudo-reader the reader count (as pcsc-lite
// 2 does; 1.9 reports only changes during a call, which the real pcscd tests cover).
type fakePCSC struct {
	mu      sync.Mutex
	up      bool
	epoch   int // incremented when pcscd dies: contexts of an older epoch are dead
	readers map[string]*fakeReader
	order   []string
	changed chan struct{}

	establishes int // successful and failed calls
	waits       int // GetStatusChange calls
}

type fakeReader struct {
	present bool
	mute    bool
	counter uint16
	atr     []byte
	card    Transmitter
}

func newFake(readers ...string) *fakePCSC {
	f := &fakePCSC{up: true, readers: map[string]*fakeReader{}, changed: make(chan struct{})}
	for _, r := range readers {
		f.addReaderLocked(r)
	}
	return f
}

func (f *fakePCSC) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakePCSC) addReaderLocked(name string) {
	f.readers[name] = &fakeReader{}
	f.order = append(f.order, name)
}

func (f *fakePCSC) addReader(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addReaderLocked(name)
	f.notifyLocked()
}

func (f *fakePCSC) removeReader(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.readers, name)
	for i, n := range f.order {
		if n == name {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
	f.notifyLocked()
}

func (f *fakePCSC) insert(reader string, atr []byte, card Transmitter) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.readers[reader]
	r.present, r.atr, r.card, r.mute = true, atr, card, false
	r.counter++
	f.notifyLocked()
}

func (f *fakePCSC) insertMute(reader string) {
	f.insert(reader, nil, nil)
	f.mu.Lock()
	f.readers[reader].mute = true
	f.mu.Unlock()
}

func (f *fakePCSC) remove(reader string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.readers[reader]
	r.present, r.atr, r.card = false, nil, nil
	r.counter++
	f.notifyLocked()
}

func (f *fakePCSC) kill() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.up = false
	f.epoch++
	f.notifyLocked()
}

func (f *fakePCSC) start() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.up = true
	f.notifyLocked()
}

func (f *fakePCSC) counts() (establishes, waits int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.establishes, f.waits
}

func (f *fakePCSC) establish() (pcscContext, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.establishes++
	if !f.up {
		return nil, scard.ErrNoService
	}
	return &fakeContext{f: f, epoch: f.epoch, cancel: make(chan struct{}, 1)}, nil
}

type fakeContext struct {
	f        *fakePCSC
	epoch    int
	cancel   chan struct{}
	released bool
}

// aliveLocked: pcscd runs and this context was made by the running pcscd.
func (c *fakeContext) aliveLocked() bool { return c.f.up && c.f.epoch == c.epoch }

func (c *fakeContext) ListReaders() ([]string, error) {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	switch {
	case c.released:
		return nil, scard.ErrInvalidHandle
	case !c.aliveLocked():
		return nil, scard.ErrNoService
	case len(c.f.order) == 0:
		return nil, scard.ErrNoReadersAvailable
	}
	return append([]string(nil), c.f.order...), nil
}

func (c *fakeContext) GetStatusChange(states []scard.ReaderState, timeout time.Duration) error {
	c.f.mu.Lock()
	c.f.waits++
	if c.released {
		c.f.mu.Unlock()
		return scard.ErrInvalidHandle
	}
	if !c.aliveLocked() {
		c.f.mu.Unlock()
		return scard.ErrNoService
	}
	for _, st := range states {
		if _, ok := c.f.readers[st.Reader]; !ok && st.Reader != PnPNotification {
			c.f.mu.Unlock()
			return scard.ErrUnknownReader
		}
	}
	c.f.mu.Unlock()
	var deadline <-chan time.Time
	if timeout >= 0 {
		deadline = time.After(timeout)
	}
	for {
		c.f.mu.Lock()
		if !c.aliveLocked() {
			c.f.mu.Unlock()
			return scard.ErrCommError // what a blocked wait gets when pcscd dies
		}
		any := false
		for i := range states {
			st := &states[i]
			var actual scard.StateFlag
			if st.Reader == PnPNotification {
				actual = scard.StateFlag(len(c.f.readers)) << 16
			} else if r, ok := c.f.readers[st.Reader]; !ok {
				actual = scard.StateUnknown
			} else {
				actual = scard.StateFlag(r.counter) << 16
				switch {
				case r.present && r.mute:
					actual |= scard.StatePresent | scard.StateMute
				case r.present:
					actual |= scard.StatePresent
				default:
					actual |= scard.StateEmpty
				}
				st.Atr = append([]byte(nil), r.atr...)
			}
			differs := st.CurrentState == scard.StateUnaware || st.CurrentState&^scard.StateChanged != actual
			if st.Reader == PnPNotification {
				differs = st.CurrentState>>16 != actual>>16 // the count only, UNAWARE or not
			}
			if differs {
				st.EventState = actual | scard.StateChanged
				any = true
			} else {
				st.EventState = actual
			}
		}
		ch := c.f.changed
		c.f.mu.Unlock()
		if any {
			return nil
		}
		select {
		case <-ch:
		case <-deadline:
			return scard.ErrTimeout
		case <-c.cancel:
			return scard.ErrCancelled
		}
	}
}

func (c *fakeContext) Cancel() error {
	select {
	case c.cancel <- struct{}{}:
	default:
	}
	return nil
}

func (c *fakeContext) Release() error {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	c.released = true
	if !c.aliveLocked() {
		return scard.ErrNoService
	}
	return nil
}

func (c *fakeContext) Connect(reader string, _ scard.ShareMode, _ scard.Protocol) (pcscCard, error) {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	if !c.aliveLocked() {
		return nil, scard.ErrNoService
	}
	r, ok := c.f.readers[reader]
	switch {
	case !ok:
		return nil, scard.ErrUnknownReader
	case !r.present:
		return nil, scard.ErrNoSmartcard
	case r.mute:
		return nil, scard.ErrUnresponsiveCard
	}
	return &fakeCard{c: c, reader: reader, counter: r.counter, model: r.card}, nil
}

type fakeCard struct {
	c       *fakeContext
	reader  string
	counter uint16
	model   Transmitter
	proto   scard.Protocol
}

func (k *fakeCard) Transmit(cmd []byte) ([]byte, error) {
	k.c.f.mu.Lock()
	alive := k.c.aliveLocked()
	r, ok := k.c.f.readers[k.reader]
	same := ok && r.present && r.counter == k.counter
	k.c.f.mu.Unlock()
	switch {
	case !alive:
		return nil, scard.ErrNoService
	case !same:
		return nil, scard.ErrRemovedCard
	}
	return k.model.Transmit(cmd)
}

func (k *fakeCard) Disconnect(scard.Disposition) error { return nil }

func (k *fakeCard) ActiveProtocol() scard.Protocol {
	if k.proto == 0 {
		return scard.ProtocolT1
	}
	return k.proto
}
