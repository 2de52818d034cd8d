package link

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		s  Settings
		ok bool
	}{
		{Settings{URL: "tcp://127.0.0.1:1883"}, true},
		{Settings{URL: "ssl://broker.hall:8883", CAFile: "ca.pem"}, true},
		{Settings{URL: "mqtts://broker.hall:8883", CertFile: "c", KeyFile: "k"}, true},
		{Settings{URL: "tls://broker.hall:8883", CertFile: "c"}, false},
		{Settings{URL: "tcp://127.0.0.1:1883", CAFile: "ca.pem"}, false},
		{Settings{URL: "http://x:1"}, false},
		{Settings{URL: "tcp://x"}, false},
		{Settings{URL: ""}, false},
	}
	for _, c := range cases {
		if err := c.s.Check(); (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrSettings)) {
			t.Errorf("Check(%+v) = %v", c.s, err)
		}
	}
	if _, err := (Settings{URL: "ssl://h:1", CAFile: "/nonexistent"}).TLSConfig(); err == nil {
		t.Error("missing CA file accepted")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ca.pem"), []byte("not a certificate"), 0o600)
	if _, err := (Settings{URL: "ssl://h:1", CAFile: filepath.Join(dir, "ca.pem")}).TLSConfig(); err == nil {
		t.Error("a CA file without certificates accepted")
	}
	if tc, err := (Settings{URL: "ssl://broker.hall:8883"}).TLSConfig(); err != nil || tc.ServerName != "broker.hall" || tc.InsecureSkipVerify {
		t.Errorf("TLS config: %+v %v", tc, err)
	}
}

func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c")
	if err := WriteCredentials(p, "kiosk-h1-k01", "pa ss"); err != nil {
		t.Fatal(err)
	}
	if u, pw, err := ReadCredentials(p); err != nil || u != "kiosk-h1-k01" || pw != "pa ss" {
		t.Errorf("round trip: %q %q %v", u, pw, err)
	}
	os.Chmod(p, 0o644)
	if _, _, err := ReadCredentials(p); err == nil {
		t.Error("a world-readable credentials file accepted")
	}
	for _, bad := range []string{"", "user\n", "\npass\n", "u\np\nextra\n"} {
		if _, _, err := ParseCredentials([]byte(bad)); err == nil {
			t.Errorf("ParseCredentials(%q) accepted", bad)
		}
	}
	if u, p, err := ParseCredentials([]byte("u\r\np  \n\n")); err != nil || u != "u" || p != "p" {
		t.Errorf("CRLF and trailing spaces: %q %q %v", u, p, err)
	}
}

// Clear text never leaves the machine: tcp:// only to a loopback host, whatever its spelling;
// TLS written by a person names the hall's CA.
func TestNoClearTextOffHost(t *testing.T) {
	cases := []struct {
		url, ca string
		want    error // nil: accepted by CheckConfigured
	}{
		{"tcp://127.0.0.1:1883", "", nil},
		{"tcp://127.3.4.5:1883", "", nil},
		{"tcp://[::1]:1883", "", nil},
		{"tcp://localhost:1883", "", nil},
		{"tcp://LocalHost:1883", "", nil},
		{"tcp://10.0.0.5:1883", "", ErrClearText},
		{"tcp://192.168.1.5:1883", "", ErrClearText},
		{"tcp://[fe80::1]:1883", "", ErrClearText},
		{"tcp://broker.hall:1883", "", ErrClearText},
		{"tcp://localhost.evil.example:1883", "", ErrClearText},
		{"tcp://0.0.0.0:1883", "", ErrClearText},
		{"ssl://broker.hall:8883", "/ca.pem", nil},
		{"tls://10.0.0.5:8883", "/ca.pem", nil},
		{"mqtts://broker.hall:8883", "/ca.pem", nil},
		{"ssl://broker.hall:8883", "", ErrNoCA},
		{"mqtts://10.0.0.5:8883", "", ErrNoCA},
	}
	for _, c := range cases {
		err := Settings{URL: c.url, CAFile: c.ca}.CheckConfigured()
		if c.want == nil {
			if err != nil {
				t.Errorf("%s (ca %q): %v", c.url, c.ca, err)
			}
			continue
		}
		if !errors.Is(err, c.want) || !errors.Is(err, ErrSettings) {
			t.Errorf("%s (ca %q) = %v, want %v", c.url, c.ca, err, c.want)
		}
		if c.want == ErrClearText {
			if err := (Settings{URL: c.url}).Check(); !errors.Is(err, ErrClearText) {
				t.Errorf("Check(%s) = %v: clear text accepted at connect time", c.url, err)
			}
			if _, err := (Settings{URL: c.url}).Options(); !errors.Is(err, ErrClearText) {
				t.Errorf("Options(%s) = %v", c.url, err)
			}
		}
	}
}
