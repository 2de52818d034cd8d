// kiosk is the touch-screen kiosk app. `kiosk -demo` runs it on simulated devices (what
// `make demo` starts); otherwise it reads /etc/citizenhome/kiosk.toml and drives the real ones.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/theme"

	"citizenhome/internal/logging"
	"citizenhome/internal/rig"
	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/telemetry/agent"
	"citizenhome/ui"
)

var version = "dev"

// started is when main began: the start-up phases are logged (at debug level) against it.
var started time.Time

// phase logs, at debug level, how long after main began a step of the start finished: the
// start-up benchmark (BenchmarkStart) reads these to say where the time goes.
func phase(log *slog.Logger, name string) {
	log.Debug("start phase", "phase", name, "ms", time.Since(started).Milliseconds())
}

func main() {
	started = time.Now()
	cfgPath := flag.String("config", "", "configuration file (default /etc/citizenhome/kiosk.toml; with -demo, the demo's own)")
	demo := flag.Bool("demo", false, "run on simulated devices with demo data")
	dataDir := flag.String("data", "", "demo: where the demo keeps its store and printed tickets (default: the user's data directory)")
	demoMQTT := flag.String("demo-mqtt", agent.DemoListen, "demo: where its embedded MQTT broker listens (\"\": no telemetry)")
	demoHalld := flag.String("demo-halld", "", "demo: the base URL of `halld demo` beside it (make demo): the hall numbers the tickets and their QR codes open its ticket page")
	// -version: what a technician asks a new machine first (and the arm64 check's proof that the
	// binary, with its GL and X11 libraries, loads and starts there); before any screen is opened.
	showVersion := flag.Bool("version", false, "print the version and exit")
	logger := logging.Flags(flag.CommandLine)
	flag.Parse()
	if *showVersion {
		fmt.Println(version)
		return
	}
	log, err := logger()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kiosk:", err)
		os.Exit(2)
	}
	log.Info("kiosk starting", "version", version, "config", *cfgPath, "demo", *demo, "pid", os.Getpid())
	reason, err := run(*cfgPath, *demo, *dataDir, *demoMQTT, *demoHalld, log)
	if err != nil {
		// The message as it was written, then the stop line (priority err under journald).
		fmt.Fprintln(os.Stderr, "kiosk:", err)
		log.Error("kiosk stopped on an error", "err", err)
		os.Exit(1)
	}
	log.Info("kiosk stopped", "reason", reason)
}

// run shows the kiosk until its window closes or SIGTERM/SIGINT ends it, and returns which; or
// an error of the start.
func run(cfgPath string, demo bool, dataDir, demoMQTT, demoHalld string, log *slog.Logger) (reason string, err error) {
	cfg, err := loadConfig(cfgPath, demo, dataDir)
	if err != nil {
		return "", err
	}
	if demo && demoMQTT != "" && demoHalld != "" {
		// Only with halld beside it: a kiosk whose controller never answered has no lease and
		// would refuse every ticket, which a demo run alone must not do.
		cfg.Hall.Controller, cfg.Hall.PublicURL = true, strings.TrimRight(demoHalld, "/")
	}
	cat, err := rig.LoadCatalog(cfg)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The core's start (store, devices) runs beside the theme font's preparation (cut for the
	// catalog, or read from the cache, then parsed by Fyne) and the app's and the window's
	// creation, which Fyne does on this, the main, goroutine.
	booted := make(chan bootResult, 1)
	go func() {
		run, err := rig.Boot(ctx, cfg, rig.BootOptions{Demo: demo, Version: version, Log: log, Catalog: cat})
		phase(log, "booted")
		booted <- bootResult{run, err}
	}()
	cut := make(chan fontsResult, 1)
	go func() {
		fonts, err := themeFonts(cfg, cat, log)
		cut <- fontsResult{fonts, err}
	}()
	a := app.NewWithID("cn.citizenhome.kiosk")
	win := a.NewWindow(cfg.Hall.Name)
	phase(log, "window")
	fonts := <-cut
	if fonts.err != nil {
		return "", fonts.err
	}
	th := ui.NewThemeFonts(fonts.fonts)
	warmFonts(a, th)
	phase(log, "fonts parsed")
	b := <-booted
	if b.err != nil {
		return "", b.err
	}
	run := b.run
	defer run.Close()
	k, devs := run.Kiosk, run.Devices
	// The prompts load (some 70 ms) and the audio device is checked beside telemetry's start.
	voiced := make(chan voice, 1)
	go func() { voiced <- startVoice(cfg, k, log) }()
	// Telemetry: as [mqtt] says, or in the demo an embedded broker (kioskctl's credentials are
	// written beside the demo's store). Its Close runs before run.Close: "disconnected" goes out
	// while the store is open.
	lo := agent.LaunchOptions{Kiosk: k, Store: run.Store, Version: version, Log: log}
	if demo && demoMQTT != "" {
		lo.DemoDir, lo.DemoAddr = filepath.Dir(cfg.Kiosk.Store), demoMQTT
	}
	tel, err := agent.Launch(ctx, cfg, lo)
	if err != nil && !demo {
		return "", err
	} else if err != nil {
		log.Warn("demo without telemetry", "err", err)
	}
	defer tel.Close()
	phase(log, "telemetry")
	// Staff mode shows as maintenance at the hall. A nil *Running must not become a non-nil
	// interface holding nil.
	var maint ui.Maintenance
	if tel != nil {
		maint = tel.Agent
	}
	stop := make(chan struct{})
	defer close(stop)
	go k.Sessions().Run(stop, 250*time.Millisecond)
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(idleGCPercent)
	}
	go trimMemory(ctx, time.Minute, func() bool { _, busy := k.Sessions().Active(); return !busy })

	// SIGTERM (systemd stop) ends the app like closing it, so that the deferred shutdown runs.
	sig, stopSig := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSig()
	go func() {
		<-sig.Done()
		if ctx.Err() == nil {
			log.Info("kiosk stopping", "reason", context.Cause(sig).Error())
			fyne.Do(a.Quit)
		}
	}()
	// Read before the deferred stopSig and cancel end sig for their own reasons.
	defer func() {
		if err == nil {
			reason = "app closed"
			if sig.Err() != nil && ctx.Err() == nil {
				reason = context.Cause(sig).Error()
			}
		}
	}()
	hall, pay := services(run)
	vo := <-voiced
	defer vo.close()
	var uv ui.Voice // a nil *prompt.Voice must not become a non-nil interface holding nil
	if vo.v != nil {
		uv = vo.v
	}
	var u *ui.UI // set before the window is shown, so before Drawn can run
	u, err = ui.New(win, k, ui.Options{Theme: th, Quit: a.Quit, Maintenance: maint,
		Staff: k.StaffLogin(), Hall: hall, Payments: pay, Voice: uv,
		Drawn: func() {
			log.Info("home screen drawn", "ms", time.Since(started).Milliseconds())
			// The demo's simulator panel is a second window, as long to create as the kiosk's:
			// it opens once the home screen is up. From a goroutine: Drawn runs in the middle
			// of the paint, and fyne.Do would run the function there and then.
			if demo && devs.Sim != nil {
				go fyne.Do(func() { ui.ShowSimPanel(a, devs.Sim, u.Lang()) })
			}
		}})
	if err != nil {
		return "", err
	}
	phase(log, "screens built")
	if demo {
		win.Resize(fyne.NewSize(720, 1280))
	} else {
		// A kiosk: full screen, and the window cannot be closed from the screen.
		win.SetFullScreen(true)
		win.SetCloseIntercept(func() {})
	}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fyne.Do(u.Tick)
			}
		}
	}()
	win.ShowAndRun()
	return "", nil // the reason is set by the deferred function above
}

// bootResult is what rig.Boot started, or why it could not.
type bootResult struct {
	run *rig.Running
	err error
}

// fontsResult is the theme's fonts, or why there are none.
type fontsResult struct {
	fonts ui.ThemeFonts
	err   error
}

// themeFonts cuts the theme's regular and bold fonts to what the screens and the catalog show:
// Fyne parses a font once per text style, and a full CJK font is most of the kiosk's idle
// memory. The cut fonts are cached beside the store (ui.SubsetFontsCached), so that a start
// with the same fonts and catalog as the last one neither cuts nor reads them. Fonts that
// cannot be cut are used whole; a missing or unreadable font file is an error of the start.
func themeFonts(cfg config.Config, cat *catalog.Catalog, log *slog.Logger) (ui.ThemeFonts, error) {
	d := cfg.Devices
	regular := ui.FontFile{Path: d.Font, Face: d.FontFace}
	bold := ui.FontFile{Path: d.BoldFont, Face: d.FontFace}
	dir := filepath.Join(filepath.Dir(cfg.Kiosk.Store), "cache")
	fonts, rep, err := ui.SubsetFontsCached(regular, bold, cat, dir)
	switch {
	case err != nil:
		cutErr := err
		if fonts, err = wholeFonts(regular, bold); err != nil {
			return fonts, err
		}
		log.Warn("theme fonts used whole", "font", d.Font, "bold_font", d.BoldFont, "err", cutErr)
	case rep.SaveErr != nil:
		log.Warn("theme fonts cut but not cached: the next start cuts them again", "dir", dir, "err", rep.SaveErr)
	case !rep.Hit:
		log.Info("theme fonts cut and cached", "dir", dir, "found", rep.Found, "bold", fonts.Bold != nil)
	}
	phase(log, "font subset")
	return fonts, nil
}

// wholeFonts reads the theme fonts whole, for when they cannot be cut.
func wholeFonts(regular, bold ui.FontFile) (ui.ThemeFonts, error) {
	var fonts ui.ThemeFonts
	var err error
	if fonts.Regular, err = ui.LoadFace(regular); err != nil {
		return fonts, fmt.Errorf("devices.font: %w (install fonts-noto-cjk, or configure a CJK font)", err)
	}
	if bold.Path != "" && bold != regular {
		if fonts.Bold, err = ui.LoadFace(bold); err != nil {
			return fonts, fmt.Errorf("devices.bold_font: %w (install fonts-noto-cjk, or configure a CJK font)", err)
		}
	}
	return fonts, nil
}

// warmFonts sets th as the app's theme and has Fyne parse its fonts for the text styles of the
// home screen (regular and bold) now, while the core boots, instead of in ui.New's first layout.
// Fyne drops parsed fonts when the theme changes only once the app runs, so ui.New setting the
// same theme again keeps them.
func warmFonts(a fyne.App, th *ui.Theme) {
	a.Settings().SetTheme(th)
	for _, style := range []fyne.TextStyle{{}, {Bold: true}} {
		fyne.MeasureText("市民之家", th.Size(theme.SizeNameText), style)
	}
}

// services hands the screens the hall services and payments the rig started, or, for each it
// could not start, what stands in for it with the reason.
func services(run *rig.Running) (ui.HallServices, ui.Payments) {
	var hall ui.HallServices = kiosk.NoHall{Reason: run.HallOff}
	if run.Hall != nil {
		hall = run.Hall
	}
	var pay ui.Payments = kiosk.NoPayments{Reason: run.PaymentsOff}
	if run.Payments != nil {
		pay = run.Payments
	}
	return hall, pay
}

func loadConfig(path string, demo bool, dataDir string) (config.Config, error) {
	if !demo {
		if path == "" {
			path = "/etc/citizenhome/kiosk.toml"
		}
		return config.Load(path)
	}
	var cfg config.Config
	if path != "" {
		c, err := config.Load(path)
		if err != nil {
			return c, err
		}
		cfg = c
	} else {
		cfg = config.Default()
		cfg.Hall.ID, cfg.Kiosk.ID = "demo", "demo-01"
		cfg.Hall.Name, cfg.Hall.NameEn = "开封市民之家", "Kaifeng Citizen Home"
		// A demo serves at any hour, on any day.
		cfg.Hours.Weekday = []string{"00:00-23:59"}
		cfg.Hours.Weekend = []string{"00:00-23:59"}
		cfg.Devices.PrinterEnglish = true
	}
	if dataDir == "" {
		base := os.Getenv("XDG_DATA_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return cfg, fmt.Errorf("no home directory for the demo's data; give -data DIR")
			}
			base = filepath.Join(home, ".local", "share")
		}
		dataDir = filepath.Join(base, "citizenhome")
	}
	cfg.Kiosk.Store = filepath.Join(dataDir, "demo.db")
	// The demo's prompts are synthesised into its data by scripts/demo.sh (make demo).
	cfg.Voice.ClipsDir, cfg.Voice.PromptsDir = "", filepath.Join(dataDir, "prompts")
	cfg.Voice.StateFile = filepath.Join(dataDir, "voice.json")
	if cfg.Kiosk.PrintDir == "" {
		cfg.Kiosk.PrintDir = filepath.Join(dataDir, "prints")
	}
	return cfg, nil
}
