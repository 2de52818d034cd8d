package driver

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// Port is the byte stream to a printer. A go.bug.st/serial Port satisfies it as is.
//
// Read follows serial-port conventions: after SetReadTimeout(d) a Read that sees no byte
// within d returns (0, nil) — or an error whose Timeout() is true, or os.ErrDeadlineExceeded;
// Printer treats all three as "nothing yet". Write need not support deadlines: Printer runs
// each write in a goroutine and stops waiting after its timeout. If the Port also has
// SetWriteDeadline(time.Time) error (a net.Conn), Printer sets it too, so a stuck write
// returns and reports how many bytes it wrote. Optional methods Printer uses when present:
// ResetInputBuffer() error (discard unread input), Close() error (on reopen and Close),
// Baud() int (the line speed, used when Config.Baud is 0).
type Port interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	SetReadTimeout(d time.Duration) error
}

type writeDeadliner interface {
	SetWriteDeadline(t time.Time) error
}

// ConnPort adapts a net.Conn (a net.Pipe end, a TCP socket of a network printer, a unix
// socket) to Port: SetReadTimeout applies a fresh read deadline before every Read and a
// passed deadline reads as (0, nil), like a serial port. Write deadlines and Close pass
// through to c.
func ConnPort(c net.Conn) Port { return &connPort{Conn: c} }

type connPort struct {
	net.Conn
	mu      sync.Mutex
	timeout time.Duration // <= 0: no timeout
}

func (c *connPort) SetReadTimeout(d time.Duration) error {
	c.mu.Lock()
	c.timeout = d
	c.mu.Unlock()
	return nil
}

func (c *connPort) Read(p []byte) (int, error) {
	c.mu.Lock()
	d := c.timeout
	c.mu.Unlock()
	var dl time.Time
	if d > 0 {
		dl = time.Now().Add(d)
	}
	if err := c.Conn.SetReadDeadline(dl); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if err != nil && isTimeout(err) {
		return n, nil
	}
	return n, err
}

// isTimeout reports a deadline or timeout error, as opposed to a broken port.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
