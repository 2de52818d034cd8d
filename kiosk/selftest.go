package kiosk

import (
	"context"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk/slip"
)

// selfTest prints the printer self-test page (slip.SelfTest: the printer's state, this kiosk's
// ID, the hall, the software version, the time, a QR code, a barcode and a ruler of the
// configured paper's columns) and returns the printer's state after printing it (whatever it
// is: the page is out, so a roll that ran out with it is reported, not an error).
//
// It is a staff and technician function (StaffHandle.SelfTest): it prints while the kiosk is
// locked or the hall is closed, and it neither starts nor touches a citizen session. It refuses, printing nothing,
// with a *PrinterError (errors.Is ErrNoPrinter) when no printer is configured (StateAbsent) or
// the printer cannot print now (paper out, cover open, error, offline). A page that fails part
// way is a *PrinterError wrapping the driver's error, which tells how far the job got; it is
// never printed again by itself.
func (k *Kiosk) selfTest(ctx context.Context) (DeviceState, error) {
	if k.printer == nil {
		return StateAbsent, &PrinterError{State: StateAbsent}
	}
	state, err := k.checkPrinter(ctx)
	if err != nil {
		return state, err
	}
	if pe := k.printDoc(ctx, k.selfTestSlip(state).Doc()); pe != nil {
		return pe.State, pe
	}
	// The page is out; the state after it is news (the roll may now be low), not a failure.
	st, err := k.printer.Status(context.WithoutCancel(ctx))
	state = PrinterState(st, err)
	k.SetDevice(DevicePrinter, state, errDetail(err))
	return state, nil
}

// checkPrinter asks the printer for its state, records it, and refuses with *PrinterError when
// it cannot print.
func (k *Kiosk) checkPrinter(ctx context.Context) (DeviceState, error) {
	st, err := k.printer.Status(ctx)
	ds := PrinterState(st, err)
	k.SetDevice(DevicePrinter, ds, errDetail(err))
	if !ds.Usable() {
		return ds, &PrinterError{State: ds, Err: err}
	}
	return ds, nil
}

// printDoc prints d once; on failure the printer's state is recorded (error when it answers
// as fine: the job failed nonetheless) and returned in a *PrinterError. Nil when printed.
func (k *Kiosk) printDoc(ctx context.Context, d escpos.Doc) *PrinterError {
	err := k.printer.Print(ctx, d)
	if err == nil {
		return nil
	}
	st, serr := k.printer.Status(context.WithoutCancel(ctx))
	ds := PrinterState(st, serr)
	if ds.Usable() {
		ds = StateError
	}
	k.SetDevice(DevicePrinter, ds, errDetail(err))
	return &PrinterError{State: ds, Err: err}
}

func (k *Kiosk) selfTestSlip(state DeviceState) slip.SelfTest {
	dc := k.cfg.Devices
	s := slip.SelfTest{
		Hall: k.cfg.Hall.Name, HallEn: k.cfg.Hall.NameEn, KioskID: k.cfg.Kiosk.ID, Version: k.version,
		Printer: string(state), Paper: escpos.Paper80, QRMode: escpos.QRNative, Time: k.now(),
		English: dc.PrinterEnglish, Demo: k.demo, Loc: k.sched.Location(),
	}
	if s.Version == "" {
		s.Version = "-"
	}
	if dc.PrinterPaper == "58mm" {
		s.Paper = escpos.Paper58
	}
	if dc.PrinterQR == "raster" {
		s.QRMode = escpos.QRRaster
	}
	return s
}
