// Package tty opens a SAM reader on a serial line (go.bug.st/serial) for package idcard, which
// drives it over any Port. It stands apart so that idcard, whose Identity the kiosk's core
// carries, links no serial library.
package tty

import (
	"errors"
	"fmt"
	"io/fs"

	"go.bug.st/serial"

	"citizenhome/devices/idcard"
)

// Open opens the serial device at path (8N1, baud 0 meaning idcard.DefaultBaud) and returns a
// Reader with default Options on it that reopens path after the device vanished (Options.Reopen
// with SerialOpener). A device missing now is an error (wrapping the system's); to start without
// it, use idcard.NewReader(nil, idcard.Options{Reopen: SerialOpener(path, baud)}).
func Open(path string, baud int) (*idcard.Reader, error) {
	open := SerialOpener(path, baud)
	p, err := open()
	if err != nil {
		return nil, fmt.Errorf("idcard: %w", err)
	}
	return idcard.NewReader(p, idcard.Options{Reopen: open}), nil
}

// SerialOpener returns a function, for idcard.Options.Reopen, that opens the serial device at
// path (8N1, baud 0 meaning idcard.DefaultBaud) each time it is called. path is resolved anew
// each time, so a symbolic link that udev points at another tty leads to the new one. Errors read
// "open PATH: CAUSE" and wrap the system's: errors.Is(err, fs.ErrNotExist) for a missing node,
// fs.ErrPermission when the device may not be opened.
func SerialOpener(path string, baud int) func() (idcard.Port, error) {
	if baud <= 0 {
		baud = idcard.DefaultBaud
	}
	return func() (idcard.Port, error) {
		p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, serialErr(err))
		}
		return p, nil
	}
}

// serialErr keeps the system's cause reachable: go.bug.st/serial reports EACCES as a
// *serial.PortError that does not wrap it (a missing node comes as the errno itself).
func serialErr(err error) error {
	var pe *serial.PortError
	if errors.As(err, &pe) && pe.Code() == serial.PermissionDenied {
		return fmt.Errorf("%w (%w)", err, fs.ErrPermission)
	}
	return err
}
