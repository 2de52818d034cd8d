package access

import (
	"sync"
	"time"
)

// ThrottleOptions limit failed logins. Zero values take the defaults.
type ThrottleOptions struct {
	// PerAccount failures in a row lock an account out for Lockout, doubling with each further
	// failure up to MaxLockout (default 5). A success resets the account.
	PerAccount int
	// PerAddress failures from one address within Window lock that address out for Window
	// (default 20): one address spraying passwords over many accounts.
	PerAddress int
	Window     time.Duration // default 15 min
	Lockout    time.Duration // default 1 min
	MaxLockout time.Duration // default 15 min
}

// maxTracked bounds the memory the throttle holds; beyond it the entries that no longer lock
// anything are dropped first, then the oldest.
const maxTracked = 10000

type strike struct {
	count int
	first time.Time // the window's start (addresses)
	last  time.Time // the latest failure (accounts: quiet for a Window, they start over)
	until time.Time // locked until
}

// throttle counts failed logins per account and per address, in memory: a restart forgets
// them, which costs an attacker a restart of halld for every few guesses.
type throttle struct {
	o     ThrottleOptions
	now   func() time.Time
	mu    sync.Mutex
	accts map[string]*strike
	addrs map[string]*strike
}

func newThrottle(o ThrottleOptions, now func() time.Time) *throttle {
	if o.PerAccount <= 0 {
		o.PerAccount = 5
	}
	if o.PerAddress <= 0 {
		o.PerAddress = 20
	}
	if o.Window <= 0 {
		o.Window = 15 * time.Minute
	}
	if o.Lockout <= 0 {
		o.Lockout = time.Minute
	}
	if o.MaxLockout <= 0 {
		o.MaxLockout = 15 * time.Minute
	}
	return &throttle{o: o, now: now, accts: map[string]*strike{}, addrs: map[string]*strike{}}
}

// wait is how long a login for name from addr must wait (0: it may try now).
func (t *throttle) wait(name, addr string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var w time.Duration
	for _, s := range []*strike{t.accts[name], t.addrs[addr]} {
		if s != nil && now.Before(s.until) {
			w = max(w, s.until.Sub(now))
		}
	}
	return w
}

// fail counts a failed login and returns the lockout it starts (0: none), for the audit.
func (t *throttle) fail(name, addr string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.prune(now)
	a := t.accts[name]
	if a == nil || now.Sub(a.last) >= t.o.Window {
		a = &strike{first: now}
		t.accts[name] = a
	}
	a.count++
	a.last = now
	var locked time.Duration
	if over := a.count - t.o.PerAccount; over >= 0 {
		locked = min(t.o.Lockout<<min(over, 20), t.o.MaxLockout)
		a.until = now.Add(locked)
	}
	d := t.addrs[addr]
	if d == nil || now.Sub(d.first) >= t.o.Window {
		d = &strike{first: now}
		t.addrs[addr] = d
	}
	d.count++
	if d.count >= t.o.PerAddress {
		d.until = now.Add(t.o.Window)
		locked = max(locked, t.o.Window)
	}
	return locked
}

// succeed clears the account's failures; the address keeps its count (a sprayer that guesses
// one password is still a sprayer).
func (t *throttle) succeed(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.accts, name)
}

// prune drops entries that lock nothing and whose window is over, once the maps are large.
func (t *throttle) prune(now time.Time) {
	for _, m := range []map[string]*strike{t.accts, t.addrs} {
		if len(m) < maxTracked {
			continue
		}
		for k, s := range m {
			if !now.Before(s.until) && now.Sub(s.first) >= t.o.Window && now.Sub(s.last) >= t.o.Window {
				delete(m, k)
			}
		}
		for k := range m { // still full: drop arbitrary entries (map order) until there is room
			if len(m) < maxTracked {
				break
			}
			delete(m, k)
		}
	}
}
