package web

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	l := newLimiter(RateLimit{PerMinute: 60, Burst: 3}, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	ok, wait := l.allow("a")
	if ok || wait != time.Second {
		t.Fatalf("over the burst: %v %v", ok, wait)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Fatalf("another address refused")
	}
	now = now.Add(time.Second)
	if ok, _ := l.allow("a"); !ok {
		t.Fatalf("a second later, refused")
	}
	// Memory stays bounded, refilled buckets or not.
	for i := range maxBuckets + 100 {
		l.allow(fmt.Sprint("addr", i))
	}
	if n := len(l.b); n > maxBuckets {
		t.Fatalf("%d buckets", n)
	}
}

func TestLimitKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7": "192.0.2.7", "2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64", "2001:db8:1:2::9": "2001:db8:1:2::/64",
		"::ffff:192.0.2.7": "::ffff:192.0.2.7", "@": "@",
	} {
		if got := limitKey(in); got != want {
			t.Errorf("limitKey(%q) = %q, want %q", in, got, want)
		}
	}
}
