// Package rig opens the kiosk's devices from the configuration (or the demo's simulators) and
// keeps the core told about them: it polls the printer while idle, reads ID cards as they are
// placed on the SAM reader and cards tapped on the PC/SC readers (city cards, ID card UIDs),
// records which card is on which reader (for the local API), and reports each device's state. It is the one place where the core meets the device
// libraries of devices/; the core itself sees only its small interfaces.
package rig

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/driver"
	"citizenhome/devices/idcard"
	"citizenhome/devices/idcard/tty"
	"citizenhome/devices/pcsc"
	"citizenhome/kiosk"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/payment"
)

// PrinterPoll is how often the printer's status is asked while it is idle and can print, so
// the hall learns of an open cover or an empty roll before a citizen does.
const PrinterPoll = 5 * time.Second

// PrinterRetry is how often the printer's status is asked while it cannot print (offline, out
// of paper, cover open, in error), so that it is back in service within 2 s of being fixed or
// plugged in again: the driver reopens a vanished port at most once per
// PrinterReopen, and a status asked between two attempts fails at once
// without touching the line.
const PrinterRetry = 250 * time.Millisecond

// PrinterReopen is the least time between two attempts to open the printer's port again: an
// attempt on a missing device is one failed open(2), and when the first attempt after the
// printer's return is lost (its first answer not yet there) the next one still comes well
// within the 2 s in which a printer plugged in again must be found (the soak measured a p99 of
// 2.2 s with the driver's default of 1 s).
const PrinterReopen = 400 * time.Millisecond

// Devices are the opened devices. A nil field is a device that is not configured.
type Devices struct {
	Printer  *driver.Printer
	IDReader *idcard.Reader
	// PCSC watches the PC/SC readers the configuration names (card_reader for city cards,
	// uid_reader for ID card UIDs and staff cards, psam_reader); nil when none is.
	PCSC *pcsc.Monitor
	// WipeOnRemoval ends the session when a card recorded on a reader leaves it, so that no
	// personal data outlive the card (kioskd sets it: the local API promises as much). The
	// kiosk's screen leaves it off: a tapped card's data stay for the session.
	WipeOnRemoval bool
	// Sim is set in the demo: the simulators behind the devices, for the demo's panel.
	Sim *Sim
	// Pay is the one-card payment terminal (the card reader and the PSAM, devices.psam_reader;
	// the card and PSAM models in the demo); nil without a PSAM.
	Pay payment.Terminal

	log         *slog.Logger
	pcscReaders pcscReaders
	psam        *pcscTerminal   // Pay over pcscd, nil without
	payments    *kiosk.Payments // set up over Pay (usePayments), nil without
	// cityFrom is the PC/SC reader the last city card joined to a session was read from, so
	// that the session is ended when that reader is lost. Only the PC/SC watcher's goroutine
	// uses it.
	cityFrom string
	// pcscSeen is closed when the PC/SC watcher first knows the card reader's state, so
	// that Boot reports a known state rather than a guess (see Watch).
	pcscSeen     chan struct{}
	pcscSeenOnce sync.Once
	closers      []io.Closer
	wg           sync.WaitGroup
}

// Open opens the devices the configuration names. A device that is configured but not there now
// is not an error: the kiosk starts, Watch reports it offline (shown as unavailable), and the
// device is picked up within 2 s of appearing, and again after it vanished and came back (the
// printer and the ID reader reopen their paths with back-off; the PC/SC monitor reconnects to
// pcscd and finds its readers).
func Open(cfg config.Config, log *slog.Logger) (*Devices, error) {
	d := &Devices{log: log, pcscSeen: make(chan struct{})}
	dc := cfg.Devices
	if dc.Printer != "" {
		sc := driver.SerialConfig{Baud: dc.PrinterBaud, RTSCTS: dc.PrinterFlow == "rtscts", Printer: printerConfig(cfg)}
		pc := sc.Printer
		pc.Reopen = driver.SerialOpener(dc.Printer, sc)
		d.Printer = driver.New(nil, pc)
		d.closers = append(d.closers, d.Printer)
	}
	if dc.IDReader != "" {
		// Opened by its first command, and again whenever its device vanished and is back
		// (at the same path, or a udev link now pointing at another tty): Watch reports it
		// offline meanwhile.
		d.IDReader = idcard.NewReader(nil, idcard.Options{Reopen: tty.SerialOpener(dc.IDReader, dc.IDReaderBaud)})
		d.closers = append(d.closers, d.IDReader)
	}
	d.pcscReaders = pcscReadersOf(dc)
	if names := d.pcscReaders.names(); len(names) > 0 {
		// pcscd may not run yet, or the readers be unplugged: the monitor finds them when
		// they come.
		d.PCSC = pcsc.NewMonitor(pcsc.Options{Readers: names})
		d.Pay = d.payTerminal(dc)
	}
	return d, nil
}

func printerConfig(cfg config.Config) driver.Config {
	// The core asks the printer's status right before every job; the driver need not ask again.
	pc := driver.Config{Paper: escpos.Paper80, QRMode: escpos.QRNative, StatusFresh: 500 * time.Millisecond, ReopenInterval: PrinterReopen}
	if cfg.Devices.PrinterPaper == "58mm" {
		pc.Paper = escpos.Paper58
	}
	if cfg.Devices.PrinterQR == "raster" {
		pc.QRMode = escpos.QRRaster
	}
	return pc
}

// KioskPrinter returns the printer as the core's interface: nil (not a typed nil) when absent.
func (d *Devices) KioskPrinter() kiosk.Printer {
	if d.Printer == nil {
		return nil
	}
	return d.Printer
}

// Close stops the simulators and closes every device.
func (d *Devices) Close() error {
	var errs []error
	for i := len(d.closers) - 1; i >= 0; i-- {
		errs = append(errs, d.closers[i].Close())
	}
	d.wg.Wait()
	return errors.Join(errs...)
}

// Watch keeps k told about the devices until ctx ends: printer status while idle, ID cards
// placed on the reader (the holder joins the session), reader faults.
func (d *Devices) Watch(ctx context.Context, k *kiosk.Kiosk) {
	if d.Sim != nil {
		d.Sim.attach(k)
	}
	var wg sync.WaitGroup
	if d.Printer != nil {
		wg.Add(1)
		go func() { defer wg.Done(); d.watchPrinter(ctx, k) }()
	} else {
		k.SetDevice(kiosk.DevicePrinter, kiosk.StateAbsent, "")
	}
	if d.IDReader != nil {
		wg.Add(1)
		go func() { defer wg.Done(); d.watchIDReader(ctx, k) }()
	} else {
		k.SetDevice(kiosk.DeviceIDReader, kiosk.StateAbsent, "")
	}
	if d.PCSC != nil {
		// No state until pcscd has been asked (Boot waits for it, PCSCStartWait): a
		// provisional "offline" would be logged and counted as a fault at every start.
		wg.Add(1)
		go func() { defer wg.Done(); d.watchPCSC(ctx, k) }()
	} else {
		k.SetDevice(kiosk.DeviceCardReader, kiosk.StateAbsent, "")
	}
	wg.Wait()
}

func (d *Devices) watchPrinter(ctx context.Context, k *kiosk.Kiosk) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A job in progress holds the printer; asking now would only queue behind it, and the
		// job checks the status itself before and after.
		if !k.Sessions().InTransaction() {
			st, err := d.Printer.Status(ctx)
			if ctx.Err() != nil {
				return
			}
			state := kiosk.PrinterState(st, err)
			detail := ""
			if err != nil {
				detail = err.Error()
			}
			k.SetDevice(kiosk.DevicePrinter, state, detail)
		}
		// The pace follows what the printer told, not what the core recorded: a job's own
		// checks may have seen it since.
		next := PrinterPoll
		if !k.Devices()[kiosk.DevicePrinter].State.Usable() {
			next = PrinterRetry
		}
		t.Reset(next)
	}
}

func (d *Devices) watchIDReader(ctx context.Context, k *kiosk.Kiosk) {
	loc, _ := k.Config().Location()
	// Poll reports only changes; whether the reader answers at all is asked first, as Poll
	// asks it (a find: no card is an answer too), until it does.
	for {
		err := d.IDReader.Find(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil || errors.Is(err, idcard.ErrNoCard) {
			k.SetDevice(kiosk.DeviceIDReader, kiosk.StateOK, "")
			break
		}
		k.SetDevice(kiosk.DeviceIDReader, kiosk.StateOffline, err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(idcard.DefaultPollInterval):
		}
	}
	_ = d.IDReader.Poll(ctx, 0, func(e idcard.Event) {
		switch e.Kind {
		case idcard.EventArrived:
			id := *e.Identity
			id.Photo = nil
			k.CardInserted(kiosk.PresentCard{Kind: kiosk.CardID, Reader: kiosk.DeviceIDReader, ID: &id})
			k.SetPerson(PersonOf(e.Identity, loc))
			clear(e.Identity.Photo) // the kiosk cannot decode it and keeps none of it
		case idcard.EventReadFailed:
			// The card is there but unreadable: the citizen is told by the screen; no data.
			k.CardInserted(kiosk.PresentCard{Kind: kiosk.CardID, Reader: kiosk.DeviceIDReader, Err: e.Err})
			k.CardUnreadable(kiosk.CardID, e.Err)
			d.log.Info("ID card could not be read", "err", e.Err)
		case idcard.EventRemoved:
			if e.Err != nil {
				d.readerLost(k, kiosk.DeviceIDReader) // the reader failed: EventReaderFailed follows
			} else {
				d.cardLeft(k, kiosk.DeviceIDReader)
			}
		case idcard.EventReaderFailed:
			d.readerLost(k, kiosk.DeviceIDReader)
			k.SetDevice(kiosk.DeviceIDReader, kiosk.StateOffline, e.Err.Error())
		case idcard.EventReaderOK:
			k.SetDevice(kiosk.DeviceIDReader, kiosk.StateOK, "")
		}
	})
}

// PersonOf keeps what the kiosk needs of an ID card: name and number for the session, the birth
// date as a local calendar day for the elder green channel. The photo is not kept.
func PersonOf(id *idcard.Identity, loc *time.Location) *kiosk.Person {
	if loc == nil {
		loc = time.Local
	}
	b := id.Birth
	return &kiosk.Person{
		Name: id.Name, Number: id.Number, Kind: id.Type.String(), EnglishName: id.EnglishName,
		Birth: time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, loc),
	}
}
