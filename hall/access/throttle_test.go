package access

import (
	"fmt"
	"testing"
	"time"
)

// The throttle's memory stays bounded under a spray from many addresses over many names, and
// what it drops first is what locks nothing.
func TestThrottleBounded(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	th := newThrottle(ThrottleOptions{}, func() time.Time { return now })
	for i := range maxTracked {
		th.fail(fmt.Sprint("name", i), fmt.Sprint("addr", i))
	}
	// An hour on, everything tracked is stale: a new failure makes room by dropping it.
	now = now.Add(time.Hour)
	for range 5 {
		th.fail("victim", "10.0.0.1")
	}
	if len(th.accts) > maxTracked || len(th.addrs) > maxTracked {
		t.Fatalf("tracking %d accounts, %d addresses", len(th.accts), len(th.addrs))
	}
	if th.wait("victim", "10.0.0.9") != time.Minute {
		t.Fatalf("the fresh lockout was dropped")
	}
	// The stale entries went, not a random sample of them: only the victim's are left.
	if len(th.accts) != 1 || len(th.addrs) != 1 {
		t.Fatalf("after the stale entries were dropped: tracking %d accounts, %d addresses; want 1 and 1", len(th.accts), len(th.addrs))
	}
	// Full of live entries: still bounded.
	for i := range maxTracked + 10 {
		th.fail(fmt.Sprint("other", i), fmt.Sprint("peer", i))
	}
	if len(th.accts) > maxTracked || len(th.addrs) > maxTracked {
		t.Fatalf("tracking %d accounts, %d addresses", len(th.accts), len(th.addrs))
	}
}
