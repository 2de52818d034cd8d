package idcard

import (
	"errors"
	"net"
	"os"
	"time"
)

// Port is the byte link to a SAM reader. A go.bug.st/serial Port satisfies it, on a serial
// line or a pty; ConnPort adapts a net.Conn.
type Port interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	// SetReadTimeout bounds how long the next Reads wait for a first byte. When it passes,
	// Read returns (0, nil), as go.bug.st/serial does; a negative value waits forever.
	SetReadTimeout(t time.Duration) error
}

// ConnPort adapts a net.Conn (net.Pipe in tests, a TCP serial server) to Port: a Read that
// hits the read timeout returns (0, nil) like a serial port, not a timeout error.
func ConnPort(c net.Conn) Port { return &connPort{c: c, t: -1} }

type connPort struct {
	c net.Conn
	t time.Duration
}

func (p *connPort) Read(b []byte) (int, error) {
	var dl time.Time
	if p.t >= 0 {
		dl = time.Now().Add(p.t)
	}
	if err := p.c.SetReadDeadline(dl); err != nil {
		return 0, err
	}
	n, err := p.c.Read(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil
	}
	return n, err
}

func (p *connPort) Write(b []byte) (int, error) { return p.c.Write(b) }

func (p *connPort) SetReadTimeout(t time.Duration) error { p.t = t; return nil }

// Close closes the connection.
func (p *connPort) Close() error { return p.c.Close() }
