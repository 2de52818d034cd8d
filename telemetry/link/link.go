// Package link holds what a kiosk and a hall tool both need to reach the MQTT broker: the
// broker URL, the account, TLS (a CA file, an optional client certificate), turned into paho
// client options.
package link

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Settings say how to reach the broker.
type Settings struct {
	// URL is tcp://host:port (this machine only: see Loopback), or ssl://, tls://, mqtts://
	// for TLS.
	URL      string
	Username string
	Password string
	// CAFile is a PEM file of the CA(s) the broker's certificate must chain to; empty means the
	// system's roots. Used only with a TLS URL.
	CAFile string
	// CertFile and KeyFile are an optional client certificate (both or neither).
	CertFile string
	KeyFile  string
	// ClientID is the MQTT client id.
	ClientID string
	// KeepAlive and ConnectTimeout default to 15 s and 10 s.
	KeepAlive      time.Duration
	ConnectTimeout time.Duration
}

// ErrSettings is matched by every error of Check, CheckConfigured and Options.
var ErrSettings = errors.New("link: bad broker settings")

// ErrClearText is matched (with ErrSettings) when a tcp:// URL names a host other than this
// machine: MQTT over tcp:// carries the account's password and every message in clear.
var ErrClearText = errors.New("clear text off this host")

// ErrNoCA is matched (with ErrSettings) by CheckConfigured when a TLS URL comes without a CA
// file: the system's roots would accept any certificate a public CA issued for the broker's name.
var ErrNoCA = errors.New("TLS without the hall's CA")

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSettings, fmt.Sprintf(format, args...))
}

func badCode(code error, format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrSettings, code, fmt.Sprintf(format, args...))
}

// Loopback reports whether host (as in a URL, without brackets) is this machine: "localhost"
// (any case) or an address of 127.0.0.0/8 or ::1. Any other name is not, even one that resolves
// to a loopback address today: the rule is read from the settings, not from DNS.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// TLS reports whether the URL asks for TLS.
func (s Settings) TLS() bool {
	u, err := url.Parse(s.URL)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "ssl", "tls", "mqtts":
		return true
	}
	return false
}

// Check validates the URL and the pairing of the certificate files. A tcp:// URL whose host is
// not this machine (Loopback) is refused with ErrClearText. A TLS URL without CAFile passes
// (the system's roots then vouch for the broker): settings a person wrote are held to
// CheckConfigured, which refuses that too.
func (s Settings) Check() error {
	u, err := url.Parse(s.URL)
	if err != nil || u.Host == "" {
		return bad("broker URL %q is not scheme://host:port", s.URL)
	}
	switch u.Scheme {
	case "tcp", "ssl", "tls", "mqtts":
	default:
		return bad("broker URL %q: scheme must be tcp, ssl, tls or mqtts", s.URL)
	}
	if u.Port() == "" {
		return bad("broker URL %q has no port", s.URL)
	}
	if (s.CertFile == "") != (s.KeyFile == "") {
		return bad("a client certificate needs both cert_file and key_file")
	}
	if !s.TLS() && (s.CAFile != "" || s.CertFile != "") {
		return bad("ca_file and cert_file need a TLS URL (ssl://, tls:// or mqtts://), not %q", s.URL)
	}
	if u.Scheme == "tcp" && !Loopback(u.Hostname()) {
		return badCode(ErrClearText, "broker URL %q: tcp:// sends the password and every message in clear, so it may reach this machine only (127.0.0.1, [::1], localhost); for a broker on another machine use ssl:// with the hall's CA file", s.URL)
	}
	return nil
}

// CheckConfigured is Check for settings a person wrote (a configuration file, a command line):
// a TLS URL must also name the CA file (ErrNoCA), so that only the hall's own CA vouches for
// the broker and a certificate any public CA issued for the name is not enough.
func (s Settings) CheckConfigured() error {
	if err := s.Check(); err != nil {
		return err
	}
	if s.TLS() && s.CAFile == "" {
		return badCode(ErrNoCA, "broker URL %q: TLS needs the hall's CA certificate file (ca_file, or --ca) to check the broker's certificate against", s.URL)
	}
	return nil
}

// TLSConfig builds the TLS configuration (nil for a tcp:// URL). The broker's certificate is
// always verified; TLS 1.2 at least.
func (s Settings) TLSConfig() (*tls.Config, error) {
	if !s.TLS() {
		return nil, nil
	}
	u, _ := url.Parse(s.URL)
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, bad("ca_file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, bad("ca_file %s holds no PEM certificate", s.CAFile)
		}
		c.RootCAs = pool
	}
	if s.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, bad("client certificate: %v", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Options returns paho client options for one session: the broker, the account, TLS, the client
// id, no automatic reconnection (the caller owns the reconnect loop so that every session gets
// its own will), ordered delivery to handlers, and a bounded write time.
func (s Settings) Options() (*paho.ClientOptions, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	tc, err := s.TLSConfig()
	if err != nil {
		return nil, err
	}
	ka, ct := s.KeepAlive, s.ConnectTimeout
	if ka <= 0 {
		ka = 15 * time.Second
	}
	if ct <= 0 {
		ct = 10 * time.Second
	}
	o := paho.NewClientOptions().AddBroker(s.URL).SetClientID(s.ClientID).
		SetUsername(s.Username).SetPassword(s.Password).
		SetProtocolVersion(4).SetKeepAlive(ka).SetPingTimeout(ka).
		SetConnectTimeout(ct).SetWriteTimeout(ct).
		SetAutoReconnect(false).SetConnectRetry(false).SetOrderMatters(true)
	o.SetDialer(&net.Dialer{Timeout: ct})
	if tc != nil {
		o.SetTLSConfig(tc)
	}
	return o, nil
}

// ReadCredentials reads a credentials file: the username on the first line, the password on
// the second (trailing spaces and a final newline ignored). A file readable by others than its
// owner is refused: it holds a password.
func ReadCredentials(path string) (user, pass string, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", "", fmt.Errorf("credentials: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", "", fmt.Errorf("credentials %s: readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("credentials: %w", err)
	}
	return ParseCredentials(b)
}

// ParseCredentials parses the two lines of a credentials file.
func ParseCredentials(b []byte) (user, pass string, err error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	var lines []string
	for sc.Scan() && len(lines) < 3 {
		lines = append(lines, strings.TrimRight(sc.Text(), " \t\r"))
	}
	if len(lines) < 2 || lines[0] == "" || lines[1] == "" {
		return "", "", errors.New("credentials: want two lines, the username then the password")
	}
	if len(lines) == 3 && strings.TrimSpace(lines[2]) != "" {
		return "", "", errors.New("credentials: more than two lines")
	}
	return lines[0], lines[1], nil
}

// WriteCredentials writes a credentials file readable by its owner only.
func WriteCredentials(path, user, pass string) error {
	return os.WriteFile(path, []byte(user+"\n"+pass+"\n"), 0o600)
}
