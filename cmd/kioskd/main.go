// kioskd runs a kiosk's devices and telemetry with no screen, and serves the local HTTP API
// (../shared/spec/local-api.md) to the staff's applications at a service window and to scripts.
// It must not link Fyne: `go list -deps ./cmd/kioskd` is checked by the tests.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"citizenhome/internal/localapi"
	"citizenhome/internal/logging"
	"citizenhome/internal/rig"
	"citizenhome/internal/systemd"
	"citizenhome/kiosk"
	"citizenhome/kiosk/config"
	"citizenhome/telemetry/agent"
)

var version = "dev"

func main() {
	cfgPath := flag.String("config", "/etc/citizenhome/kiosk.toml", "configuration file")
	logger := logging.Flags(flag.CommandLine)
	flag.Parse()
	log, err := logger()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kioskd:", err)
		os.Exit(2)
	}
	log.Info("kioskd starting", "version", version, "config", *cfgPath, "pid", os.Getpid())
	reason, err := run(*cfgPath, log)
	if err != nil {
		// The message as it was written (a configuration's errors, one a line), then the stop
		// line, which under journald is filed at priority err.
		fmt.Fprintln(os.Stderr, "kioskd:", err)
		log.Error("kioskd stopped on an error", "err", err)
		os.Exit(1)
	}
	log.Info("kioskd stopped", "reason", reason)
}

// run serves until SIGTERM or SIGINT, and returns which ended it; or an error, start-up's or the
// server's. The start line is main's; "kioskd serving" says the API listens.
func run(cfgPath string, log *slog.Logger) (reason string, err error) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return "", err
	}
	// The cause of ctx's end names the signal ("terminated signal received").
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer func() {
		if err == nil && ctx.Err() != nil {
			reason = context.Cause(ctx).Error()
		}
	}()
	// The API promises that a card's data go when the card leaves the reader.
	run, err := rig.Boot(ctx, cfg, rig.BootOptions{Version: version, Log: log, WipeOnRemoval: true})
	if err != nil {
		return "", err
	}
	defer run.Close()
	k := run.Kiosk
	// Telemetry ([mqtt]); its Close, deferred after run.Close, runs first: the planned
	// "disconnected" goes out while the store is still open.
	tel, err := agent.Launch(ctx, cfg, agent.LaunchOptions{Kiosk: k, Store: run.Store, Version: version, Log: log})
	if err != nil {
		return "", err
	}
	defer tel.Close()

	token, err := localapi.LoadToken(cfg.API.TokenFile)
	if err != nil {
		return "", err
	}
	ln, err := listen(cfg.API.Listen)
	if err != nil {
		return "", err
	}
	// The API's self-test is a staff action, by the API (no audit row: the API keeps none).
	h := localapi.New(k, token, localapi.WithLog(log), localapi.WithSelfTest(k.Staff(kiosk.LocalAPI)))
	if tel != nil {
		h.UseTelemetry(tel.Agent)
	}
	// The API's limits (localapi.DefaultLimits): header, read, write and idle timeouts, header
	// size, and at most MaxConns connections (ln capped) and MaxStreams event streams at once.
	srv := h.HTTPServer()
	ln = h.Listener(ln)
	go func() {
		<-ctx.Done()
		if c := context.Cause(ctx); c != context.Canceled { // a signal, not run's own return
			log.Info("kioskd stopping", "reason", c.Error())
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("kioskd serving", "listen", cfg.API.Listen, "version", version)
	// Ready once the API listens; the watchdog proves the core's lock is not stuck.
	_ = systemd.Notify("READY=1")
	go systemd.Watchdog(ctx, func() bool { k.Devices(); return true })
	defer systemd.Notify("STOPPING=1")
	err = srv.Serve(ln)
	h.FlushLog() // the refused tokens of the last minute
	if !errors.Is(err, http.ErrServerClosed) {
		return "", err
	}
	return "stopped", nil
}

func listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		_ = os.Remove(path)
		ln, err := net.Listen("unix", path)
		if err != nil {
			return nil, err
		}
		return ln, os.Chmod(path, 0o660)
	}
	return net.Listen("tcp", addr)
}
