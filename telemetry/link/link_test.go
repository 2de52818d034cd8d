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
