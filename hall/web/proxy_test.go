package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIPBehindProxies(t *testing.T) {
	s := &Server{o: Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("fd00::/8")}}}
	for _, c := range []struct {
		peer, xff, want string
	}{
		{"192.0.2.7:5000", "", "192.0.2.7"},
		{"192.0.2.7:5000", "203.0.113.9", "192.0.2.7"},                // not a proxy: its header is anyone's
		{"10.0.0.5:5000", "203.0.113.9", "203.0.113.9"},               // the proxy names the phone
		{"10.0.0.5:5000", "198.51.100.1, 203.0.113.9", "203.0.113.9"}, // the phone sent a made-up hop first
		{"10.0.0.5:5000", "203.0.113.9, 10.0.0.6", "203.0.113.9"},     // two proxies of ours
		{"[fd00::1]:443", "2001:db8::5", "2001:db8::5"},               // IPv6
		{"10.0.0.5:5000", "not-an-address", "10.0.0.5"},               // garbled: count the proxy
		{"10.0.0.5:5000", "", "10.0.0.5"},                             // no header
		{"10.0.0.5:5000", "::ffff:203.0.113.9", "203.0.113.9"},        // mapped v4
	} {
		r := httptest.NewRequest("GET", "/t/x", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := s.clientIP(r); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
}
