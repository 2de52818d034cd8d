package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/followup"
	"citizenhome/hall/history"
	"citizenhome/hall/intake"
	"citizenhome/hall/ledger"
	"citizenhome/hall/line"
	"citizenhome/hall/notify"
	"citizenhome/hall/rating"
	"citizenhome/hall/settings"
	"citizenhome/hall/voice"
	"citizenhome/hall/web"
	"citizenhome/internal/systemd"
	"citizenhome/telemetry/broker"
	"citizenhome/telemetry/link"
)

// packagedClips is where the citizenhome-halld package puts the clips synthesised when it was
// built; a hall's own clips (voice.clips_dir) and voice.cache_dir come before it.
const packagedClips = "/usr/share/citizenhome/clips"

func openLedger(path string) (*ledger.DB, error) {
	return ledger.Open(path, line.Migrations, access.Migrations, intake.Migrations, history.Migrations, notify.Migrations, followup.Migrations, rating.Migrations)
}

// serve runs halld until SIGTERM or SIGINT and returns which ended it.
func serve(cfg settings.Config, log *slog.Logger) (reason string, err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	loc, err := cfg.Location()
	if err != nil {
		return "", err
	}
	db, err := openLedger(cfg.Store.Path)
	if err != nil {
		return "", err
	}
	defer db.Close()
	q, err := line.Open(ctx, db, lineConfig(cfg, loc, log))
	if err != nil {
		return "", err
	}
	acc := access.Open(db, access.Options{})
	if cfg.Demo {
		if err := demoAccounts(ctx, acc, log); err != nil {
			return "", err
		}
	}
	v := loadVoice(cfg, log)

	ls := cfg.Link()
	if cfg.MQTT.CredentialsFile != "" {
		user, pass, err := link.ReadCredentials(cfg.MQTT.CredentialsFile)
		if err != nil {
			return "", fmt.Errorf("mqtt.credentials_file: %w", err)
		}
		ls.Username, ls.Password = user, pass
	}
	if cfg.MQTT.Embedded {
		emb, err := startBroker(cfg, ls, log)
		if err != nil {
			return "", err
		}
		defer emb.Close()
	}
	cr, err := startCrew(ctx, cfg, ls, db, q, log)
	if err != nil {
		return "", err
	}
	defer cr.close()
	in, err := intake.Start(ctx, intake.Options{Link: ls, Hall: cfg.Hall.ID, Queue: q, DB: db, Log: log, Location: loc,
		Handlers: cr.handlers(), Replies: cr.orders})
	if err != nil {
		return "", err
	}
	defer in.Close()
	changes, unwatch := q.Watch()
	defer unwatch()
	go func() {
		for range changes {
			in.QueueChanged()
		}
	}()

	wo := web.Options{Queue: web.LineQueue(q), Access: acc, HallName: cfg.Hall.Name,
		DisplayKey: cfg.HTTP.DisplayKey, Location: loc, Log: log,
		Fleet: fleetPages{cr.follower}, FleetHall: cfg.Hall.ID, History: cr.history, Auditor: acc,
		Ratings: web.RatingPad(cr.ratings), Orders: cr.orders, Channels: cr.notifier,
		Satisfaction: web.HallSatisfaction(cr.ratings, cr.orders, loc)}
	for _, p := range cfg.HTTP.TrustedProxies {
		// Checked by settings: an address or a prefix.
		if pre, err := netip.ParsePrefix(p); err == nil {
			wo.TrustedProxies = append(wo.TrustedProxies, pre)
		} else if a, err := netip.ParseAddr(p); err == nil {
			wo.TrustedProxies = append(wo.TrustedProxies, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	if v != nil {
		wo.Voice = v
	}
	if cfg.HTTP.PublicRate > 0 {
		wo.PublicRateLimit = web.RateLimit{PerMinute: cfg.HTTP.PublicRate, Burst: max(cfg.HTTP.PublicRate/2, 1)}
	}
	srv, err := web.New(wo)
	if err != nil {
		return "", err
	}
	go srv.Run(ctx)
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return "", fmt.Errorf("http.listen: %w", err)
	}
	// Timeouts, header size, at most MaxConns connections and MaxStreams event streams (limits.go).
	hs := newHTTPServer(srv, defaultHTTPLimits, log)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(defaultHTTPLimits.listener(ln)) }()
	log.Info("halld serving", "http", ln.Addr().String(), "hall", cfg.Hall.ID, "windows", len(cfg.Windows))
	if cfg.Demo {
		printDemo(cfg, ln.Addr().String())
	}
	_ = systemd.Notify("READY=1")
	defer systemd.Notify("STOPPING=1")
	go systemd.Watchdog(ctx, func() bool {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return db.SQL().PingContext(c) == nil
	})
	select {
	case <-ctx.Done():
		reason = context.Cause(ctx).Error()
	case err := <-served:
		return "", fmt.Errorf("http: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	return reason, nil
}

func lineConfig(cfg settings.Config, loc *time.Location, log *slog.Logger) line.Config {
	lc := line.Config{Location: loc, Log: log, Rules: line.Rules{
		PriorityShare: cfg.Rules.PriorityShare, LongestWait: cfg.Rules.LongestWait.Duration,
		MaxRecalls: cfg.Rules.MaxRecalls, NoShowGrace: cfg.Rules.NoShowGrace.Duration,
		RequeueAfter: cfg.Rules.RequeueAfter, LeaseSize: cfg.Rules.LeaseSize,
	}}
	for _, c := range cfg.Categories {
		lc.Categories = append(lc.Categories, line.Category{Letter: c.Letter, Name: c.Name, AvgService: c.AvgService.Duration})
	}
	for _, w := range cfg.Windows {
		lc.Windows = append(lc.Windows, line.Window{ID: w.ID, Categories: w.Categories})
	}
	return lc
}

// loadVoice finds the clips (the hall's own, then voice.cache_dir, synthesised there when some
// are missing and espeak-ng is installed, then the package's). Without clips halld still calls
// tickets; the display shows them without sound, and the log says why.
func loadVoice(cfg settings.Config, log *slog.Logger) *voice.Voice {
	langs := []string{"zh"}
	if cfg.Voice.English {
		langs = append(langs, "en")
	}
	if dir := cfg.Voice.CacheDir; dir != "" && dir != packagedClips {
		if missing, err := voice.Missing(dir, langs...); err == nil && len(missing) > 0 {
			t0 := time.Now()
			if err := voice.Synthesize(dir, langs...); err != nil {
				log.Warn("announcement clips not synthesised", "dir", dir, "err", err)
			} else {
				log.Info("announcement clips synthesised", "dir", dir, "took", time.Since(t0).Round(time.Millisecond))
			}
		}
	}
	v, err := voice.Load(voice.Options{Dirs: []string{cfg.Voice.ClipsDir, cfg.Voice.CacheDir, packagedClips}, English: cfg.Voice.English})
	if err != nil {
		log.Error("announcements off: the clips do not load", "err", err)
		return nil
	}
	if m := v.Missing(); len(m) > 0 {
		log.Warn("announcements incomplete: clips missing", "clips", m)
	}
	return v
}

// startBroker runs the embedded broker of a one-machine hall on the host and port of mqtt.url,
// with the hall's password file and ACL, and the controller's own account (ctl's).
func startBroker(cfg settings.Config, ctl link.Settings, log *slog.Logger) (*broker.Broker, error) {
	u, err := url.Parse(cfg.MQTT.URL)
	if err != nil {
		return nil, fmt.Errorf("mqtt.url: %w", err)
	}
	bc := broker.Config{Listen: u.Host, PasswordFile: cfg.MQTT.PasswordFile, ACLFile: cfg.MQTT.ACLFile,
		Log: log.With("part", "broker")}
	if ctl.Username != "" {
		bc.Accounts = append(bc.Accounts, broker.Account{Username: ctl.Username, Password: ctl.Password, Rules: broker.ControllerRules(cfg.Hall.ID)})
	}
	return broker.Start(bc)
}

// demoAccounts creates the demo's logins (settings.DemoUsers), keeping any that exist.
func demoAccounts(ctx context.Context, acc *access.Store, log *slog.Logger) error {
	for _, u := range settings.DemoUsers {
		r, err := access.ParseRole(u.Role)
		if err != nil {
			return err
		}
		if err := acc.AddAccount(ctx, u.Name, r, u.Password); err != nil && !errors.Is(err, access.ErrExists) {
			return fmt.Errorf("demo account %s: %w", u.Name, err)
		}
	}
	log.Info("demo accounts ready", "accounts", len(settings.DemoUsers))
	return nil
}

func printDemo(cfg settings.Config, addr string) {
	base := "http://" + addr
	fmt.Printf(`
halld demo (演示) — %s
  counter page:  %s/counter    login %s / %s
  crew console:  %s/console    login %s / %s
  display:       %s/display?key=%s
  ticket page:   %s/t/{lookup code on the ticket}
  store:         %s
`, cfg.Hall.Name, base, settings.DemoUsers[0].Name, settings.DemoUsers[0].Password,
		base, settings.DemoUsers[1].Name, settings.DemoUsers[1].Password, base, url.QueryEscape(cfg.HTTP.DisplayKey), base, filepath.Clean(cfg.Store.Path))
}
