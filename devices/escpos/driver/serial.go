package driver

import (
	"errors"
	"syscall"

	"go.bug.st/serial"

	"citizenhome/devices/escpos"
)

// SerialConfig configures a printer on a serial line (8N1).
type SerialConfig struct {
	// Baud is the line speed; 0 means 9600. Chinese printers ship at 9600 or 115200.
	Baud int
	// RTSCTS turns on hardware flow control, which most printers with a serial port use to
	// pause the host while their buffer is full. Linux only; elsewhere Open fails with
	// ErrUnsupported.
	RTSCTS bool
	// Printer holds the driver settings. Its Reopen field is replaced by Open.
	Printer Config
}

// Open opens the serial device at path (/dev/ttyUSB0, /dev/ttyS1, a pty) and returns a
// Printer that reopens the same path after the device disappears and comes back (see
// Printer). DTR and RTS are raised for printers that wait for them; on a pseudo-terminal
// those calls fail with ENOTTY, which is ignored. If the device is absent now, Open fails
// with ErrOffline; to start without it, use New(nil, cfg) with cfg.Reopen =
// SerialOpener(path, sc).
func Open(path string, sc SerialConfig) (*Printer, error) {
	cfg := sc.Printer
	cfg.Reopen = SerialOpener(path, sc)
	p := New(nil, cfg)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.dial(); err != nil {
		return nil, err
	}
	return p, nil
}

// SerialOpener returns a function that opens path as configured by sc, for Config.Reopen.
// Errors are *escpos.Error with CodeOffline (device missing, busy, not a tty) or
// CodeUnsupported. The ports it returns report their speed (a Baud() int method), which a
// Printer uses when its Config.Baud is 0.
func SerialOpener(path string, sc SerialConfig) func() (Port, error) {
	baud := sc.Baud
	if baud == 0 {
		baud = 9600
	}
	return func() (Port, error) {
		port, err := openSerial(path, sc)
		if err != nil {
			var e *escpos.Error
			if errors.As(err, &e) {
				return nil, err
			}
			return nil, &escpos.Error{Code: escpos.CodeOffline, Op: "open", Err: err}
		}
		return serialPort{port, baud}, nil
	}
}

// serialPort is a go.bug.st/serial port that knows its line speed.
type serialPort struct {
	serial.Port
	baud int
}

func (s serialPort) Baud() int { return s.baud }

func openSerial(path string, sc SerialConfig) (serial.Port, error) {
	baud := sc.Baud
	if baud == 0 {
		baud = 9600
	}
	var flow *flowControl
	if sc.RTSCTS {
		// go.bug.st/serial clears CRTSCTS and takes the port exclusively, so the second
		// descriptor that sets it must be opened first.
		var err error
		if flow, err = openFlowControl(path); err != nil {
			return nil, err
		}
		defer flow.close()
	}
	port, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, err
	}
	if flow != nil {
		if err := flow.enable(); err != nil {
			port.Close()
			return nil, err
		}
	}
	for _, set := range []func(bool) error{port.SetDTR, port.SetRTS} {
		if err := set(true); err != nil && !noModemLines(err) {
			port.Close()
			return nil, err
		}
	}
	return port, nil
}

// noModemLines reports the errors a pty (or a USB adapter without modem lines) gives for
// modem-line ioctls.
func noModemLines(err error) bool {
	return errors.Is(err, syscall.ENOTTY) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}
