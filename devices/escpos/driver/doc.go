// Package driver drives an ESC/POS printer: [Printer] prints escpos documents over a small
// [Port] (io.ReadWriter plus SetReadTimeout), checks status before and after every job, writes
// in chunks under deadlines, never resends a partial job, and reopens a serial device that
// disappeared and came back ([Open], [SerialOpener]; RTS/CTS flow control on Linux).
// [ConnPort] puts it on a net.Conn instead (the demo's emulator, a network printer).
//
// It is apart from package escpos, the documents and status bytes, because it links the serial
// library: the kiosk's core names documents and statuses without it. Its errors are
// *escpos.Error values; match them with errors.Is(err, escpos.ErrPaperOut).
package driver
