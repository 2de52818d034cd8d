//go:build !linux

package driver

import (
	"errors"

	"citizenhome/devices/escpos"
)

type flowControl struct{}

func openFlowControl(string) (*flowControl, error) {
	return nil, &escpos.Error{Code: escpos.CodeUnsupported, Op: "open", Err: errors.New("RTS/CTS flow control is implemented for Linux only")}
}

func (*flowControl) enable() error { return nil }
func (*flowControl) close()        {}
