package rig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/store"
)

// Running is a started kiosk core with its store and devices: what cmd/kiosk and cmd/kioskd
// both begin with.
type Running struct {
	Kiosk   *kiosk.Kiosk
	Devices *Devices
	Store   *store.Store
	// Hall is the hall services (appointments, progress, 好差评, complaints); nil when the kiosk
	// runs without them, HallOff saying why (the Reason of the kiosk.NoHall that stands in).
	Hall    *kiosk.HallServices
	HallOff error
	// Payments is one-card payments; nil when the kiosk runs without them, PaymentsOff saying
	// why (the Reason of the kiosk.NoPayments that stands in).
	Payments    *kiosk.Payments
	PaymentsOff error
}

// BootOptions tune Boot.
type BootOptions struct {
	Demo    bool // the demo's simulated devices instead of the configured ones
	Version string
	Log     *slog.Logger
	// WipeOnRemoval is Devices.WipeOnRemoval (kioskd sets it), set before the devices are
	// watched: setting the field on the Devices Boot returned would race with the watchers.
	WipeOnRemoval bool
	// Catalog is the catalog to start with when the caller has loaded it already
	// (LoadCatalog): cmd/kiosk does, to cut the theme font for it while the store opens.
	// Nil: Boot loads it.
	Catalog *catalog.Catalog
}

// LoadCatalog loads the catalog file cfg names ([kiosk] catalog), or returns the built-in demo
// catalog when it names none. Its errors are catalog.LoadFile's.
func LoadCatalog(cfg config.Config) (*catalog.Catalog, error) {
	if cfg.Kiosk.Catalog == "" {
		return catalog.Demo(), nil
	}
	return catalog.LoadFile(cfg.Kiosk.Catalog)
}

// Boot opens the store (refusing a corrupt one, see below), the catalog (o.Catalog, or the file
// configured, or the built-in demo catalog: LoadCatalog), the devices, builds the core, sets up the hall services (see
// startHall) and starts watching the devices until ctx ends. Close releases it all.
//
// A corrupt store has been moved aside by store.Open; Boot then stops with the error instead of
// starting empty, because an empty store would hand out today's ticket numbers again: staff see
// the message, and starting again (systemd does) begins with an empty store.
func Boot(ctx context.Context, cfg config.Config, o BootOptions) (*Running, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	st, err := store.Open(cfg.Kiosk.Store)
	if errors.Is(err, store.ErrCorrupt) {
		return nil, fmt.Errorf("%w\nstopped so that staff notice; starting again begins with an empty store", err)
	}
	if err != nil {
		return nil, err
	}
	c := o.Catalog
	if c == nil {
		if c, err = LoadCatalog(cfg); err != nil {
			st.Close()
			return nil, err
		}
	}
	cat := catalog.NewHolder(c)
	var devs *Devices
	if o.Demo {
		devs, err = Demo(ctx, cfg, o.Log)
	} else {
		devs, err = Open(cfg, o.Log)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	k, err := kiosk.New(ctx, kiosk.Options{Config: cfg, Store: st, Catalog: cat, Printer: devs.KioskPrinter(),
		Log: o.Log, Version: o.Version, Demo: o.Demo || cat.Current().IsDemo()})
	if err != nil {
		devs.Close()
		st.Close()
		return nil, err
	}
	r := &Running{Kiosk: k, Devices: devs, Store: st}
	r.Hall, r.HallOff = startHall(ctx, cfg, k, o.Demo, o.Log)
	if r.HallOff != nil {
		o.Log.Error("appointments, progress lookup, ratings and complaints are unavailable", "err", r.HallOff)
	}
	r.Payments, r.PaymentsOff = startPayments(ctx, cfg, k, devs, o.Demo)
	// With or without a PSAM today: a journal kept from when there was one is purged too.
	loc, _ := cfg.Location() // checked by config.Parse; nil falls back to China time
	go payment.Retention{Store: st, Days: cfg.Payments.RetentionDays, Location: loc, Now: k.Now}.Every(ctx, 24*time.Hour, o.Log)
	switch {
	case r.Payments != nil && r.PaymentsOff != nil:
		o.Log.Error("one-card payments started with an error", "err", r.PaymentsOff)
		r.PaymentsOff = nil
	case r.PaymentsOff != nil && devs.Pay != nil:
		o.Log.Error("one-card payments are unavailable", "err", r.PaymentsOff)
	}
	devs.WipeOnRemoval = o.WipeOnRemoval
	go devs.Watch(ctx, k)
	devs.awaitPCSC(ctx, k)
	return r, nil
}

// PCSCStartWait bounds how long Boot waits for pcscd's first answer, so that the card reader's
// first state is what pcscd says (ok, reader missing, pcscd not running: each known in
// milliseconds) and a pcscd that hangs still lets the kiosk start, reported offline.
const PCSCStartWait = 2 * time.Second

func (d *Devices) awaitPCSC(ctx context.Context, k *kiosk.Kiosk) {
	if d.PCSC == nil {
		return
	}
	t := time.NewTimer(PCSCStartWait)
	defer t.Stop()
	select {
	case <-d.pcscSeen:
	case <-ctx.Done():
	case <-t.C:
		k.SetDevice(kiosk.DeviceCardReader, kiosk.StateOffline, "pcscd did not answer at start")
	}
}

// Close closes the devices, then the store.
func (r *Running) Close() error {
	return errors.Join(r.Devices.Close(), r.Store.Close())
}
