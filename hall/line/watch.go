package line

import "sync"

// Change tells a watcher what changed.
type Change struct {
	// Call is the latest call or recall made, if any. When changes were coalesced, earlier calls
	// may be missing: Call IDs increase by one, so a watcher that sees a gap reads them with
	// Calls(lastSeen, 0).
	Call *Call
	// Queue: the queue's figures or a window's state may have changed (read Snapshot).
	Queue bool
}

type hub struct {
	mu   sync.Mutex
	subs map[chan Change]struct{}
}

// Watch returns a channel of changes and a function that stops them (and closes the channel;
// calling it twice is harmless). Changes are coalesced: a watcher that reads slowly gets one
// Change summing up what it missed, never blocking the writer. Only this Line's changes are
// seen.
func (l *Line) Watch() (<-chan Change, func()) {
	ch := make(chan Change, 1)
	l.hub.mu.Lock()
	if l.hub.subs == nil {
		l.hub.subs = map[chan Change]struct{}{}
	}
	l.hub.subs[ch] = struct{}{}
	l.hub.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			l.hub.mu.Lock()
			delete(l.hub.subs, ch)
			close(ch)
			l.hub.mu.Unlock()
		})
	}
}

func (h *hub) publish(c Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		next := c
		for {
			select {
			case ch <- next:
			default:
				// Full: take the pending change back and merge (the reader may have taken it
				// meanwhile; then the next send succeeds). Only publish sends, under h.mu.
				select {
				case old := <-ch:
					next = merge(old, next)
				default:
				}
				continue
			}
			break
		}
	}
}

func merge(old, c Change) Change {
	if c.Call == nil {
		c.Call = old.Call
	}
	c.Queue = c.Queue || old.Queue
	return c
}
