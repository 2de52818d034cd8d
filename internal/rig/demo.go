package rig

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/citycard/psamsim"
	"citizenhome/devices/escpos/driver"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/idcard"
	"citizenhome/devices/idcard/samsim"
	"citizenhome/kiosk"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/payment"
)

// Sim holds the demo's simulated devices: the printer emulator that renders tickets to PNG files,
// a SAM ID reader with the sample ID cards, and the sample city card. They are the same models the
// device tests use; here they are reached over in-process pipes instead of ptys and pcscd.
type Sim struct {
	log  *slog.Logger
	dir  string
	emu  *emulator.Printer
	sam  *samsim.Sim
	city *cardsim.Card
	psam *psamsim.PSAM

	mu      sync.Mutex
	k       *kiosk.Kiosk
	tickets []func([]byte)
	n       int

	// payments settles the sample card's torn payments on its taps; nil without payments.
	payments *kiosk.Payments
}

// Demo opens the simulated devices. Printed tickets are written as PNG files to
// cfg.Kiosk.PrintDir.
func Demo(ctx context.Context, cfg config.Config, log *slog.Logger) (*Devices, error) {
	s := &Sim{log: log, dir: cfg.Kiosk.PrintDir}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	pc := printerConfig(cfg)
	emu, err := emulator.New(emulator.Config{Paper: pc.Paper, FontPath: printerFont(cfg.Devices.Font), OnTicket: s.printed})
	if err != nil {
		return nil, fmt.Errorf("demo printer: %w", err)
	}
	s.emu = emu
	host, dev := net.Pipe()
	go func() { _ = emu.Serve(dev) }()
	d := &Devices{log: log, Sim: s, pcscSeen: make(chan struct{})}
	d.Printer = driver.New(driver.ConnPort(host), pc)

	s.sam = samsim.New()
	s.sam.SetReadDelay(600*time.Millisecond, time.Second) // what a real SAM takes
	samHost, samDev := net.Pipe()
	sctx, cancel := context.WithCancel(ctx)
	d.wg.Add(1)
	go func() { defer d.wg.Done(); _ = s.sam.Serve(sctx, samDev) }()
	d.IDReader = idcard.NewReader(idcard.ConnPort(samHost), idcard.Options{})

	city, err := cardsim.New(cardsim.Sample())
	if err != nil {
		cancel()
		return nil, fmt.Errorf("demo city card: %w", err)
	}
	s.city = city
	psam, err := psamsim.New(psamsim.Sample())
	if err != nil {
		cancel()
		return nil, fmt.Errorf("demo PSAM: %w", err)
	}
	s.psam = psam
	d.Pay = simTerminal{card: city, psam: psam}
	d.closers = append(d.closers, closer(func() error {
		cancel()
		samDev.Close()
		samHost.Close()
		return nil
	}), d.Printer, closer(emu.Close))
	return d, nil
}

// simTerminal is the demo's payment terminal: the sample city card, always on the card reader
// (a tap is TapCityCard), and the PSAM model, both reached in process instead of over pcscd.
type simTerminal struct {
	card *cardsim.Card
	psam *psamsim.PSAM
}

// Card implements payment.Terminal.
func (t simTerminal) Card(context.Context) (payment.Conn, error) { return simConn{t.card}, nil }

// PSAM implements payment.Terminal.
func (t simTerminal) PSAM(context.Context) (payment.Conn, error) { return simConn{t.psam}, nil }

// simConn is a model's connection: closing it leaves the model as it is.
type simConn struct{ citycard.Card }

func (simConn) Close() error { return nil }

type closer func() error

func (c closer) Close() error { return c() }

// attach lets the simulator hand city cards to the kiosk (Watch calls it).
func (s *Sim) attach(k *kiosk.Kiosk) {
	s.mu.Lock()
	s.k = k
	s.mu.Unlock()
}

func (s *Sim) printed(t emulator.Ticket) {
	s.mu.Lock()
	s.n++
	n := s.n
	subs := append([]func([]byte){}, s.tickets...)
	s.mu.Unlock()
	if t.PNG == nil {
		return
	}
	path := filepath.Join(s.dir, fmt.Sprintf("ticket-%s-%03d.png", time.Now().Format("20060102-150405"), n))
	if err := os.WriteFile(path, t.PNG, 0o644); err != nil {
		s.log.Warn("demo printer: ticket not saved", "err", err)
	} else {
		s.log.Info("demo printer: ticket printed", "file", path)
	}
	for _, fn := range subs {
		fn(t.PNG)
	}
}

// OnTicket registers fn for each ticket the simulated printer cuts (PNG bytes).
func (s *Sim) OnTicket(fn func([]byte)) {
	s.mu.Lock()
	s.tickets = append(s.tickets, fn)
	s.mu.Unlock()
}

// TapIDCard places a sample ID card ("elder", "adult", "foreigner", "hmt") on the simulated SAM
// reader; the reader's poll finds and reads it like a real card.
func (s *Sim) TapIDCard(key string) error {
	p, err := samsim.Sample(key)
	if err != nil {
		return err
	}
	return s.sam.PlacePerson(p)
}

// TapCityCard reads the sample city card as the card reader would and joins it to the session.
func (s *Sim) TapCityCard() error {
	s.mu.Lock()
	k, payments := s.k, s.payments
	s.mu.Unlock()
	if k == nil {
		return fmt.Errorf("the kiosk is not running yet")
	}
	s.city.Reinsert() // a new tap
	info, err := citycard.Read(s.city)
	if err != nil {
		return err
	}
	if payments != nil {
		if _, err := payments.CardTapped(context.Background(), info.CardNo, s.city); err != nil {
			s.log.Warn("demo: payment recovery on the tap failed", "err", err)
		}
	}
	k.SetCityCard(CityCardOf(info))
	return nil
}

// RemoveCards takes the cards off the readers.
func (s *Sim) RemoveCards() { s.sam.Remove() }

// SetPrinter sets the simulated printer's condition (paper out, cover open...), for the demo.
func (s *Sim) SetPrinter(c emulator.Condition) { s.emu.SetCondition(c) }

// printerFont is the demo printer's CJK font: the screen's when it is a single .ttf/.otf; a
// collection (.ttc, as Noto Sans CJK is) the renderer cannot read, so then its default
// (emulator.DefaultFont, Droid Sans Fallback).
func printerFont(screen string) string {
	if strings.EqualFold(filepath.Ext(screen), ".ttc") {
		return ""
	}
	return screen
}
