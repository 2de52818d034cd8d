package rig

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/session"
	"citizenhome/kiosk/store"
)

// bootWatched opens cfg's devices (WipeOnRemoval as wipe), a store and a core on them with the
// demo catalog (now as its clock when not nil, the printer when printer), runs before on the
// core, then watches the devices until the test ends: what the PC/SC and the reopen harnesses
// share.
func bootWatched(t *testing.T, cfg config.Config, wipe, printer bool, now func() time.Time, before func(*kiosk.Kiosk)) (*Devices, *kiosk.Kiosk) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	devs, err := Open(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	devs.WipeOnRemoval = wipe
	t.Cleanup(func() { devs.Close() })
	st, err := store.Open(cfg.Kiosk.Store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	o := kiosk.Options{Config: cfg, Store: st, Catalog: catalog.NewHolder(catalog.Demo()), Log: log, Now: now}
	if printer {
		o.Printer = devs.KioskPrinter()
	}
	ctx, cancel := context.WithCancel(context.Background())
	k, err := kiosk.New(ctx, o)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	before(k)
	done := make(chan struct{})
	go func() { devs.Watch(ctx, k); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Watch did not return")
		}
	})
	return devs, k
}

// recordEnded appends the reason of every session of k that ends to *into, under mu.
func recordEnded(k *kiosk.Kiosk, mu *sync.Mutex, into *[]session.EndReason) {
	k.Sessions().Subscribe(func(e session.Event) {
		if e.Kind == session.Ended {
			mu.Lock()
			*into = append(*into, e.Reason)
			mu.Unlock()
		}
	})
}
