//go:build linux

package driver

import (
	"fmt"

	"golang.org/x/sys/unix"

	"citizenhome/devices/escpos"
)

type flowControl struct{ fd int }

func openFlowControl(path string) (*flowControl, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &escpos.Error{Code: escpos.CodeOffline, Op: "open", Err: fmt.Errorf("%s: %w", path, err)}
	}
	return &flowControl{fd: fd}, nil
}

// enable sets CRTSCTS; termios settings belong to the device, so the port opened by
// go.bug.st/serial sees them.
func (f *flowControl) enable() error {
	t, err := unix.IoctlGetTermios(f.fd, unix.TCGETS)
	if err != nil {
		return &escpos.Error{Code: escpos.CodeOffline, Op: "open", Err: fmt.Errorf("get termios: %w", err)}
	}
	t.Cflag |= unix.CRTSCTS
	if err := unix.IoctlSetTermios(f.fd, unix.TCSETS, t); err != nil {
		return &escpos.Error{Code: escpos.CodeOffline, Op: "open", Err: fmt.Errorf("set RTS/CTS: %w", err)}
	}
	return nil
}

func (f *flowControl) close() { unix.Close(f.fd) }
