package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"citizenhome/hall/fleet"
	"citizenhome/hall/fleet/fleetsim"
	"citizenhome/seal"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/wire"
)

// Environment variables for the connection flags.
const (
	envURL         = "KIOSKCTL_MQTT_URL"
	envCredentials = "KIOSKCTL_MQTT_CREDENTIALS"
	envUser        = "KIOSKCTL_MQTT_USER"
	envPassword    = "KIOSKCTL_MQTT_PASSWORD"
	envCA          = "KIOSKCTL_MQTT_CA"
	envCert        = "KIOSKCTL_MQTT_CERT"
	envKey         = "KIOSKCTL_MQTT_KEY"
	envHall        = "KIOSKCTL_HALL"
)

const fleetUsage = `
fleet commands (MQTT; see docs/telemetry.md):
  status                 one line per kiosk: state, devices, last seen, outbox backlog, alerts
  alerts                 the active alerts
  watch [--for D]        live state changes, events and alerts (Ctrl-C ends)
  lock [--message M] KIOSK...    暂停服务 (waits for a citizen's transaction unless --force)
  unlock KIOSK...
  reset KIOSK...                 end the session, wipe its data, re-check devices
  reprint --ticket A012 KIOSK...
  selftest KIOSK...              print a test page, report devices
  rebirth KIOSK...               publish state, status and alerts again
  reload-catalog KIOSK...
  set-config KIOSK... --set key=value   (kiosk.idle_timeout, hall.locked_message)
  simulate -n N [--for D]        N simulated kiosks into the broker, with a fleet view measuring lag

  A command waits for every kiosk's reply (--timeout, default 90s) and exits 1 if any refused
  or did not answer. KIOSK is an id of --hall, or HALL/ID.

connection (flags, or the environment):
  --url URL              ` + envURL + ` (default tcp://127.0.0.1:1883; tcp:// only to this machine,
                         ssl:// with --ca for a broker on another: the account never crosses in clear)
  --credentials FILE     ` + envCredentials + ` (two lines: username, password)
  --user U --password P  ` + envUser + `, ` + envPassword + `
  --ca FILE --cert FILE --key FILE   ` + envCA + `, ` + envCert + `, ` + envKey + `
  --hall ID              ` + envHall + `
`

type fleetFlags struct {
	url, creds, user, pass, ca, cert, key, hall, by string
	timeout, dur                                    time.Duration
	message, ticket                                 string
	force                                           bool
	sets                                            multi
	n                                               int
	every                                           time.Duration
	prefix, simPass                                 string
	cmdKey                                          string
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func addFleetFlags(fs *flag.FlagSet, f *fleetFlags) {
	fs.StringVar(&f.url, "url", envOr(envURL, "tcp://127.0.0.1:1883"), "broker URL")
	fs.StringVar(&f.creds, "credentials", os.Getenv(envCredentials), "credentials file (username, password)")
	fs.StringVar(&f.user, "user", os.Getenv(envUser), "username")
	fs.StringVar(&f.pass, "password", os.Getenv(envPassword), "password")
	fs.StringVar(&f.ca, "ca", os.Getenv(envCA), "CA certificate file (TLS)")
	fs.StringVar(&f.cert, "cert", os.Getenv(envCert), "client certificate file (TLS)")
	fs.StringVar(&f.key, "key", os.Getenv(envKey), "client key file (TLS)")
	fs.StringVar(&f.hall, "hall", os.Getenv(envHall), "hall id")
	fs.StringVar(&f.by, "by", "", "who sends the command, for the kiosk's audit log (default: the username)")
	fs.DurationVar(&f.timeout, "timeout", 90*time.Second, "how long to wait for replies (commands) or the broker")
	fs.DurationVar(&f.dur, "for", 0, "watch, simulate: how long (0: until interrupted; simulate default 30s)")
	fs.StringVar(&f.message, "message", "", "lock: the message on the screen")
	fs.StringVar(&f.ticket, "ticket", "", "reprint: today's ticket code, like A012")
	fs.BoolVar(&f.force, "force", false, "do not wait for a citizen's transaction to end")
	fs.Var(&f.sets, "set", "set-config: key=value (repeatable)")
	fs.IntVar(&f.n, "n", 100, "simulate: number of kiosks")
	fs.DurationVar(&f.every, "every", time.Second, "simulate: status interval")
	fs.StringVar(&f.prefix, "prefix", "sim", "simulate: kiosk id prefix (ids PREFIX00001...)")
	fs.StringVar(&f.simPass, "kiosk-password", os.Getenv("KIOSKCTL_SIM_PASSWORD"), "simulate: the simulated kiosks' password")
	fs.StringVar(&f.cmdKey, "command-key", os.Getenv("KIOSKCTL_COMMAND_KEY"), "commands: the hall's command key file (halld's mqtt.command_key_file): sign them, as kiosks with hall.command_key require")
}

// commandKey reads the hall's command key (--command-key), nil when none is given. kioskctl
// never makes one: a key of its own would sign commands no kiosk accepts.
func (f *fleetFlags) commandKey() (ed25519.PrivateKey, error) {
	if f.cmdKey == "" {
		return nil, nil
	}
	if _, err := os.Stat(f.cmdKey); err != nil {
		return nil, fmt.Errorf("--command-key: %w", err)
	}
	seed, _, err := seal.LoadSecret(f.cmdKey) // it exists: LoadSecret only reads it
	if err != nil {
		return nil, fmt.Errorf("--command-key: %w", err)
	}
	defer clear(seed)
	return ed25519.NewKeyFromSeed(seed), nil
}

func (f *fleetFlags) settings() (link.Settings, error) {
	s := link.Settings{URL: f.url, Username: f.user, Password: f.pass, CAFile: f.ca, CertFile: f.cert, KeyFile: f.key}
	if f.creds != "" {
		u, p, err := link.ReadCredentials(f.creds)
		if err != nil {
			return s, err
		}
		s.Username, s.Password = u, p
	}
	if s.Username == "" {
		return s, errors.New("no account: give --credentials FILE or --user and --password (or " + envCredentials + ")")
	}
	// The hall's tools hold the staff's account: never in clear over the network either.
	if err := s.CheckConfigured(); err != nil {
		return s, fmt.Errorf("--url: %w (here: --url ssl://HOST:8883 with --ca FILE)", err)
	}
	return s, nil
}

// parseInterspersed parses flags anywhere among the arguments and returns the others.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func isFleetCommand(cmd string) bool {
	switch cmd {
	case "status", "alerts", "watch", "simulate", wire.CmdLock, wire.CmdUnlock, wire.CmdReset, wire.CmdReprint,
		wire.CmdSelftest, wire.CmdRebirth, wire.CmdReloadCatalog, wire.CmdSetConfig:
		return true
	}
	return false
}

func runFleet(cmd string, args []string, stdout, stderr io.Writer) int {
	fs, asJSON := commandFlags(cmd, stderr)
	var f fleetFlags
	addFleetFlags(fs, &f)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	out := printer{w: stdout, json: *asJSON}
	s, err := f.settings()
	if err != nil {
		return out.result(err, "")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cmd == "simulate" {
		return simulate(ctx, s, f, out, log)
	}
	if f.hall == "" && cmd != "watch" && cmd != "status" && cmd != "alerts" {
		// KIOSK arguments may carry their hall.
		for _, p := range pos {
			if h, _, ok := strings.Cut(p, "/"); ok {
				f.hall = h
			}
		}
	}
	if f.hall == "" {
		return out.result(errors.New("no hall: give --hall ID (or "+envHall+")"), "")
	}
	v := fleet.NewView()
	var watchOut func(fleet.Update)
	if cmd == "watch" {
		watchOut = watcher(out, v)
	}
	key, err := f.commandKey()
	if err != nil {
		return out.result(err, "")
	}
	dctx, cancel := context.WithTimeout(ctx, f.timeout)
	c, err := fleet.Dial(dctx, s, v, fleet.DialOptions{Hall: f.hall, By: f.by, OnUpdate: watchOut,
		AutoRebirth: cmd == "watch" || cmd == "status", Log: log, CommandKey: key})
	cancel()
	if err != nil {
		return out.result(err, "")
	}
	defer c.Close()
	switch cmd {
	case "status":
		return printStatus(out, v.Kiosks(), time.Now())
	case "alerts":
		return printAlerts(out, v.Kiosks())
	case "watch":
		if f.dur > 0 {
			t := time.NewTimer(f.dur)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		} else {
			<-ctx.Done()
		}
		return 0
	}
	if len(pos) == 0 {
		fmt.Fprintf(stderr, "kioskctl %s: name at least one kiosk\n", cmd)
		return 2
	}
	var args2 any
	switch cmd {
	case wire.CmdLock:
		if f.message != "" {
			args2 = map[string]any{"message": f.message}
		}
	case wire.CmdReprint:
		if f.ticket == "" {
			fmt.Fprintln(stderr, "kioskctl reprint: give --ticket CODE")
			return 2
		}
		args2 = map[string]any{"ticket": f.ticket}
	case wire.CmdSetConfig:
		m := map[string]any{}
		for _, kv := range f.sets {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				fmt.Fprintf(stderr, "kioskctl set-config: --set %q is not key=value\n", kv)
				return 2
			}
			m[k] = v
		}
		if len(m) == 0 {
			fmt.Fprintln(stderr, "kioskctl set-config: give --set key=value")
			return 2
		}
		args2 = m
	}
	if f.force {
		m, _ := args2.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		m["force"] = true
		args2 = m
	}
	return sendAll(ctx, c, f.hall, cmd, args2, pos, f.timeout, out)
}

type cmdResult struct {
	Kiosk  string          `json:"kiosk"`
	OK     bool            `json:"ok"`
	Code   string          `json:"code,omitempty"`
	Error  string          `json:"error,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
}

// sendAll sends the command to every kiosk at once and waits for all replies.
func sendAll(ctx context.Context, c *fleet.Conn, hall, name string, args any, kiosks []string, timeout time.Duration, out printer) int {
	results := make([]cmdResult, len(kiosks))
	var wg sync.WaitGroup
	for i, arg := range kiosks {
		id := wire.Kiosk{Hall: hall, Kiosk: arg}
		if h, k, ok := strings.Cut(arg, "/"); ok {
			id = wire.Kiosk{Hall: h, Kiosk: k}
		}
		results[i].Kiosk = id.String()
		if err := id.Check(); err != nil {
			results[i].Code, results[i].Error = wire.RefuseBadArgs, err.Error()
			continue
		}
		wg.Add(1)
		go func(i int, id wire.Kiosk) {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			r, err := c.Command(cctx, id, fleet.Order{Name: name, Args: args})
			res := &results[i]
			res.OK, res.Result = err == nil, r.Result
			var ce *fleet.CommandError
			switch {
			case errors.As(err, &ce):
				res.Code, res.Error = ce.Reply.Code, ce.Reply.Error
			case errors.Is(err, fleet.ErrNoReply):
				res.Code, res.Error = "timeout", fmt.Sprintf("no reply within %s", timeout)
			case err != nil:
				res.Code, res.Error = "error", err.Error()
			}
		}(i, id)
	}
	wg.Wait()
	code := 0
	for _, r := range results {
		if !r.OK {
			code = 1
		}
	}
	if out.json {
		out.emit(results)
		return code
	}
	for _, r := range results {
		if r.OK {
			line := r.Kiosk + ": ok"
			if len(r.Result) > 0 && string(r.Result) != "null" {
				line += " " + string(r.Result)
			}
			fmt.Fprintln(out.w, line)
		} else {
			fmt.Fprintf(out.w, "%s: %s: %s\n", r.Kiosk, r.Code, r.Error)
		}
	}
	return code
}

// statusRow is one kiosk in `status --json`.
type statusRow struct {
	Hall     string            `json:"hall"`
	Kiosk    string            `json:"kiosk"`
	State    string            `json:"state"`
	Boot     int64             `json:"boot"`
	Session  string            `json:"session,omitempty"`
	Devices  map[string]string `json:"devices"`
	LastSeen time.Time         `json:"last_seen"`
	Outbox   int64             `json:"outbox"`
	Alerts   []string          `json:"alerts"`
	Version  string            `json:"version,omitempty"`
}

var deviceColumns = []string{"printer", "id-reader", "card-reader"}

func printStatus(out printer, ks []fleet.Kiosk, now time.Time) int {
	rows := make([]statusRow, 0, len(ks))
	for _, k := range ks {
		r := statusRow{Hall: k.ID.Hall, Kiosk: k.ID.Kiosk, State: k.State, Boot: k.Boot, Devices: map[string]string{},
			LastSeen: k.LastSeen, Alerts: k.ActiveAlerts(), Version: k.StateMsg.Version}
		if k.Status != nil {
			r.Session, r.Outbox = k.Status.Session, k.Status.Outbox
			for n, d := range k.Status.Devices {
				r.Devices[n] = d.State
			}
		}
		rows = append(rows, r)
	}
	if out.json {
		out.emit(rows)
		return 0
	}
	tw := tabwriter.NewWriter(out.w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIOSK\tSTATE\tPRINTER\tID-READER\tCARD-READER\tLAST SEEN\tOUTBOX\tALERTS")
	for _, r := range rows {
		dev := func(n string) string {
			if s, ok := r.Devices[n]; ok {
				return s
			}
			return "-"
		}
		alerts := strings.Join(r.Alerts, ",")
		if alerts == "" {
			alerts = "-"
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.Hall, r.Kiosk, r.State, dev("printer"), dev("id-reader"),
			dev("card-reader"), ago(now, r.LastSeen), r.Outbox, alerts)
	}
	tw.Flush()
	if len(rows) == 0 {
		fmt.Fprintln(out.w, "(no kiosk has reported in this hall)")
	}
	return 0
}

// ago says how long ago t was; the retained messages of a kiosk seen only through them were
// received just now, so LAST SEEN is when this view got them.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t).Round(time.Second)
	if d < time.Second {
		return "now"
	}
	return d.String() + " ago"
}

type alertRow struct {
	Kiosk string `json:"kiosk"`
	wire.Alert
}

func printAlerts(out printer, ks []fleet.Kiosk) int {
	var rows []alertRow
	for _, k := range ks {
		for _, code := range k.ActiveAlerts() {
			rows = append(rows, alertRow{Kiosk: k.ID.String(), Alert: k.Alerts[code]})
		}
	}
	if out.json {
		if rows == nil {
			rows = []alertRow{}
		}
		out.emit(rows)
		return 0
	}
	if len(rows) == 0 {
		fmt.Fprintln(out.w, "no active alerts")
		return 0
	}
	tw := tabwriter.NewWriter(out.w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIOSK\tCODE\tSEVERITY\tSINCE\tMESSAGE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Kiosk, r.Code, r.Severity, r.Since.Format("01-02 15:04:05"), r.Message)
	}
	tw.Flush()
	return 0
}

// watchLine is one line of `watch --json` (JSON lines).
type watchLine struct {
	TS      time.Time   `json:"ts"`
	Kiosk   string      `json:"kiosk"`
	Kind    string      `json:"kind"` // state, event, alert, cleared, reply, gap
	State   *wire.State `json:"state,omitempty"`
	Event   *wire.Event `json:"event,omitempty"`
	Alert   *wire.Alert `json:"alert,omitempty"`
	Code    string      `json:"code,omitempty"`
	Reply   *wire.Reply `json:"reply,omitempty"`
	Rebirth bool        `json:"rebirth,omitempty"`
}

func watcher(out printer, v *fleet.View) func(fleet.Update) {
	var mu sync.Mutex
	return func(u fleet.Update) {
		l := watchLine{TS: time.Now(), Kiosk: u.Addr.Kiosk.String()}
		var text string
		switch {
		case u.Gap:
			l.Kind, l.Rebirth = "gap", u.Rebirth
			text = "sequence gap: something was missed"
			if u.Rebirth {
				text += "; asked for a rebirth"
			}
		case u.State != nil:
			l.Kind, l.State = "state", u.State
			text = fmt.Sprintf("state %s (boot %d)", u.State.State, u.State.Boot)
		case u.Event != nil:
			l.Kind, l.Event = "event", u.Event
			text = fmt.Sprintf("event %s %s", u.Event.Type, u.Event.Data)
		case u.Alert != nil:
			l.Kind, l.Alert = "alert", u.Alert
			text = fmt.Sprintf("alert %s %s: %s", u.Alert.Code, u.Alert.Severity, u.Alert.Message)
		case u.Cleared != "":
			l.Kind, l.Code = "cleared", u.Cleared
			text = "alert cleared: " + u.Cleared
		case u.Reply != nil:
			l.Kind, l.Reply = "reply", u.Reply
			text = fmt.Sprintf("reply %s ok=%v %s", u.Reply.ID, u.Reply.OK, u.Reply.Error)
		default:
			return // statuses: `status` shows them
		}
		mu.Lock()
		defer mu.Unlock()
		if out.json {
			b, _ := json.Marshal(l)
			fmt.Fprintln(out.w, string(b))
			return
		}
		fmt.Fprintf(out.w, "%s %s %s\n", l.TS.Format("15:04:05.000"), l.Kiosk, text)
	}
}

// simulate runs N simulated kiosks and a fleet view on the same broker, and reports whether
// the view kept up: statuses lost (seq gaps), and the lag from a status's ts to the view.
func simulate(ctx context.Context, s link.Settings, f fleetFlags, out printer, log *slog.Logger) int {
	if f.hall == "" {
		f.hall = "sim"
	}
	if f.simPass == "" {
		return out.result(errors.New("simulate: give the simulated kiosks' password (--kiosk-password or KIOSKCTL_SIM_PASSWORD)"), "")
	}
	if f.dur <= 0 {
		f.dur = 30 * time.Second
	}
	raiseFDLimit(2*f.n + 256)
	rep, err := fleetsim.Measure(ctx, fleetsim.MeasureOptions{
		View: s, Sim: fleetsim.SimOptions{Link: s, Hall: f.hall, N: f.n, Prefix: f.prefix, Password: f.simPass, Every: f.every},
		For: f.dur, Log: log,
	})
	if err != nil {
		return out.result(err, "")
	}
	if out.json {
		out.emit(rep)
	} else {
		fmt.Fprintln(out.w, rep)
	}
	if !rep.OK() {
		return 1
	}
	return 0
}
