//go:build !linux

package escpos

import "errors"

type flowControl struct{}

func openFlowControl(string) (*flowControl, error) {
	return nil, &Error{Code: CodeUnsupported, Op: "open", Err: errors.New("RTS/CTS flow control is implemented for Linux only")}
}

func (*flowControl) enable() error { return nil }
func (*flowControl) close()        {}
