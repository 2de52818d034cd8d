// Package systemd speaks the two things a Type=notify service says to systemd: READY/STOPPING
// state lines and the watchdog's pings. Without $NOTIFY_SOCKET (a daemon started by hand, a
// test) each is a no-op, so the daemons call them unconditionally.
package systemd

import (
	"context"
	"net"
	"os"
	"strconv"
	"time"
)

// Notify sends a state line to systemd (Type=notify units); without $NOTIFY_SOCKET (started by
// hand, in tests) it does nothing.
func Notify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if path[0] == '@' { // abstract socket
		path = "\x00" + path[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}

// Watchdog pings systemd's watchdog at half its interval for as long as alive answers within
// that time; a daemon whose core hangs stops pinging and is restarted by systemd.
func Watchdog(ctx context.Context, alive func() bool) {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return
	}
	every := time.Duration(usec) * time.Microsecond / 2
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ok := make(chan bool, 1)
			go func() { ok <- alive() }()
			select {
			case good := <-ok:
				if good {
					_ = Notify("WATCHDOG=1")
				}
			case <-time.After(every):
			}
		}
	}
}
