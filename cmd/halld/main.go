// halld is the hall controller: the hall's one queue, its counters and calling displays, the
// public ticket page, and the kiosks' numbering over MQTT (../shared/spec/hall-api.md, and the
// telemetry contract's additions in docs/telemetry.md).
//
//	halld [-config FILE]                       serve (systemd: Type=notify, watchdog)
//	halld demo [-data DIR]                     the demo hall beside `kiosk -demo`
//	halld check-config [FILE]                  check a configuration file and exit
//	halld token create --role ROLE --name NAME print a new API token once (stored hashed)
//	halld token revoke NAME | halld token list
//	halld user add NAME --role ROLE            a login for the pages; password on stdin
//	halld user passwd NAME                     a new password, on stdin; ends its sessions
//	halld user disable NAME | enable NAME      refuse or allow its logins again
//	halld user remove NAME | halld user list
//	halld audit [--since DATE] [--limit N]     who did what, newest first
//	halld clips DIR                            synthesise the announcement clips into DIR
//	halld command-key                          print the public key kiosks check commands with
package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"citizenhome/hall/access"
	"citizenhome/hall/settings"
	"citizenhome/hall/voice"
	"citizenhome/internal/logging"
	"citizenhome/telemetry/wire"
)

var version = "dev"

const defaultConfig = "/etc/citizenhome/halld.toml"

func main() {
	args := os.Args[1:]
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	var err error
	switch sub {
	case "":
		err = serveCmd(args, false)
	case "demo":
		err = serveCmd(args, true)
	case "check-config":
		err = checkCmd(args)
	case "token":
		err = tokenCmd(args)
	case "user":
		err = userCmd(args)
	case "audit":
		err = auditCmd(args)
	case "clips":
		err = clipsCmd(args)
	case "command-key":
		err = commandKeyCmd(args)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		err = usageError("unknown command %q", sub)
	}
	var ue *usageErr
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "halld: %v\n%s", err, usage)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "halld:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  halld [-config FILE] [-log-format text|json] [-debug]
  halld demo [-data DIR]
  halld check-config [FILE]
  halld token create --role counter|crew|admin --name NAME [-config FILE]
  halld token revoke NAME [-config FILE]
  halld token list [-config FILE]
  halld user add NAME --role counter|crew|admin [-config FILE]   (password on stdin)
  halld user passwd NAME [-config FILE]                          (password on stdin)
  halld user disable NAME [-config FILE]
  halld user enable NAME [-config FILE]
  halld user remove NAME [-config FILE]
  halld user list [-config FILE]
  halld audit [--since YYYY-MM-DD] [--limit N] [-config FILE]    (--limit 0: all)
  halld clips [-english] DIR
  halld command-key [-config FILE]      the public key of the hall's commands, for kiosk.toml
`

type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

func usageError(format string, args ...any) error {
	return &usageErr{fmt.Sprintf(format, args...)}
}

func serveCmd(args []string, demo bool) error {
	name := "halld"
	if demo {
		name = "halld demo"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfgPath := fs.String("config", defaultConfig, "configuration file")
	dataDir := fs.String("data", "", "demo: the demo's data directory (default: the kiosk demo's)")
	logger := logging.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return usageError("%v", err)
	}
	log, err := logger()
	if err != nil {
		return usageError("%v", err)
	}
	var cfg settings.Config
	if demo {
		dir := *dataDir
		if dir == "" {
			dir, err = demoDataDir()
			if err != nil {
				return err
			}
		}
		if cfg, err = settings.Demo(dir); err != nil {
			return err
		}
	} else {
		var warns []settings.Warning
		if cfg, warns, err = settings.Inspect(*cfgPath); err != nil {
			return err
		}
		for _, w := range warns {
			log.Warn("configuration", "warning", w)
		}
	}
	source := *cfgPath
	if demo {
		source = "built-in demo"
	}
	log.Info("halld starting", "version", version, "config", source, "pid", os.Getpid())
	reason, err := serve(cfg, log)
	if err != nil {
		log.Error("halld stopped on an error", "err", err)
		return err
	}
	log.Info("halld stopped", "reason", reason)
	return nil
}

// demoDataDir is the kiosk demo's data directory ($XDG_DATA_HOME/citizenhome), where `kiosk
// -demo` writes the controller's broker account.
func demoDataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "citizenhome"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no data directory for the demo (give -data DIR): %w", err)
	}
	return filepath.Join(home, ".local", "share", "citizenhome"), nil
}

func checkCmd(args []string) error {
	fs := flag.NewFlagSet("halld check-config", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfgPath := fs.String("config", defaultConfig, "configuration file")
	if err := fs.Parse(flagsAnywhere(args)); err != nil || fs.NArg() > 1 {
		return usageError("check-config [FILE]")
	}
	if fs.NArg() == 1 {
		*cfgPath = fs.Arg(0)
	}
	cfg, warns, err := settings.Inspect(*cfgPath)
	if err != nil {
		return err
	}
	for _, w := range warns {
		fmt.Println("warning:", w)
	}
	fmt.Printf("%s: hall %s, %d categories, %d windows\n", *cfgPath, cfg.Hall.ID, len(cfg.Categories), len(cfg.Windows))
	return nil
}

// commandKeyCmd prints the public half of the hall's command key, the value of a kiosk's
// hall.command_key. It never makes the key (a file made by another user than halld's would be
// unreadable to halld): halld makes it at its first start.
func commandKeyCmd(args []string) error {
	fs := flag.NewFlagSet("halld command-key", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfgPath := fs.String("config", defaultConfig, "configuration file")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return usageError("command-key [-config FILE]")
	}
	cfg, err := settings.Load(*cfgPath)
	if err != nil {
		return err
	}
	if cfg.MQTT.CommandKeyFile == "" {
		return fmt.Errorf("%s: mqtt.command_key_file is empty: halld signs no commands", *cfgPath)
	}
	key, err := commandKey(cfg, false, nil)
	if err != nil {
		return err
	}
	fmt.Println(wire.FormatCommandKey(key.Public().(ed25519.PublicKey)))
	return nil
}

// openAccess opens the store of the configuration at -config for the token, user and audit
// commands, with the hall's time zone.
func openAccess(fs *flag.FlagSet, args []string) (*access.Store, *time.Location, func(), []string, error) {
	cfgPath := fs.String("config", defaultConfig, "configuration file")
	if err := fs.Parse(args); err != nil {
		return nil, nil, nil, nil, usageError("%v", err)
	}
	cfg, err := settings.Load(*cfgPath)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	loc, err := cfg.Location()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	db, err := openLedger(cfg.Store.Path)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return access.Open(db, access.Options{}), loc, func() { db.Close() }, fs.Args(), nil
}

// operator is who runs a command, for the audit: "cli:" and the login of the person (the one
// who ran sudo, as sudo tells it, rather than root).
func operator() access.Actor {
	name := os.Getenv("SUDO_USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		} else {
			name = "uid " + strconv.Itoa(os.Getuid())
		}
	}
	return access.Actor{Who: "cli:" + name, Addr: "local"}
}

// flagsAnywhere moves flags after positional arguments to the front, so that both
// "token revoke NAME -config F" and "token revoke -config F NAME" work.
func flagsAnywhere(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

// storeCmd runs a token or user command: it parses -config and the flags add declares, opens
// the store of that configuration, and hands do the action and the positional arguments.
func storeCmd(cmd, actions string, args []string, add func(*flag.FlagSet), do func(context.Context, *access.Store, string, []string) error) error {
	if len(args) == 0 {
		return usageError("%s: %s", cmd, actions)
	}
	fs := flag.NewFlagSet("halld "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	add(fs)
	st, _, done, rest, err := openAccess(fs, flagsAnywhere(args[1:]))
	if err != nil {
		return err
	}
	defer done()
	return do(access.WithActor(context.Background(), operator()), st, args[0], rest)
}

func tokenCmd(args []string) error {
	var role, name *string
	return storeCmd("token", "create, revoke or list", args, func(fs *flag.FlagSet) {
		role = fs.String("role", "", "counter, crew or admin")
		name = fs.String("name", "", "the token's name (who or what uses it)")
	}, func(ctx context.Context, st *access.Store, action string, rest []string) error {
		switch action {
		case "create":
			r, err := access.ParseRole(*role)
			if err != nil {
				return usageError("token create: %v", err)
			}
			tok, err := st.CreateToken(ctx, *name, r)
			if err != nil {
				return err
			}
			fmt.Println(tok)
			fmt.Fprintln(os.Stderr, "halld: the token is shown once; it is stored hashed")
			return nil
		case "revoke":
			if len(rest) != 1 {
				return usageError("token revoke NAME")
			}
			return st.RevokeToken(ctx, rest[0])
		case "list":
			ts, err := st.Tokens(ctx)
			if err != nil {
				return err
			}
			for _, t := range ts {
				fmt.Printf("%s\t%s\t%s\n", t.Name, t.Role, t.Created.Format("2006-01-02 15:04"))
			}
			return nil
		}
		return usageError("token: unknown action %q", action)
	})
}

// readPassword reads one line from stdin: a pipe from a password manager, or typed at the
// terminal.
func readPassword(action string) (string, error) {
	pw, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && pw == "" {
		return "", fmt.Errorf("user %s: no password on stdin", action)
	}
	return strings.TrimRight(pw, "\r\n"), nil
}

func userCmd(args []string) error {
	var role *string
	return storeCmd("user", "add, passwd, disable, enable, remove or list", args, func(fs *flag.FlagSet) {
		role = fs.String("role", "", "counter, crew or admin")
	}, func(ctx context.Context, st *access.Store, action string, rest []string) error {
		one := func() (string, error) {
			if len(rest) != 1 {
				return "", usageError("user %s NAME", action)
			}
			return rest[0], nil
		}
		switch action {
		case "add":
			if len(rest) != 1 {
				return usageError("user add NAME --role ROLE")
			}
			r, err := access.ParseRole(*role)
			if err != nil {
				return usageError("user add: %v", err)
			}
			pw, err := readPassword(action)
			if err != nil {
				return err
			}
			return st.AddAccount(ctx, rest[0], r, pw)
		case "passwd":
			name, err := one()
			if err != nil {
				return err
			}
			pw, err := readPassword(action)
			if err != nil {
				return err
			}
			return st.SetPassword(ctx, name, pw)
		case "disable", "enable", "remove":
			name, err := one()
			if err != nil {
				return err
			}
			switch action {
			case "disable":
				return st.DisableAccount(ctx, name)
			case "enable":
				return st.EnableAccount(ctx, name)
			}
			return st.RemoveAccount(ctx, name)
		case "list":
			as, err := st.Accounts(ctx)
			if err != nil {
				return err
			}
			for _, a := range as {
				state := "enabled"
				if !a.Disabled.IsZero() {
					state = "disabled " + a.Disabled.Format("2006-01-02 15:04")
				}
				fmt.Printf("%s\t%s\t%s\n", a.Name, a.Role, state)
			}
			return nil
		}
		return usageError("user: unknown action %q", action)
	})
}

// auditCmd prints the audit, newest first, one entry a line, tab-separated: time (the hall's
// zone, RFC 3339), who, role, action, target, detail, outcome, address.
func auditCmd(args []string) error {
	fs := flag.NewFlagSet("halld audit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	since := fs.String("since", "", "the first day (YYYY-MM-DD, the hall's time zone) or time (RFC 3339)")
	limit := fs.Int("limit", 100, "the newest N entries (0: all)")
	st, loc, done, rest, err := openAccess(fs, flagsAnywhere(args))
	if err != nil {
		return err
	}
	defer done()
	if len(rest) != 0 || *limit < 0 {
		return usageError("audit [--since YYYY-MM-DD] [--limit N]")
	}
	var from time.Time
	if *since != "" {
		if from, err = time.ParseInLocation(time.DateOnly, *since, loc); err != nil {
			if from, err = time.Parse(time.RFC3339, *since); err != nil {
				return usageError("audit: --since %q: a date YYYY-MM-DD or an RFC 3339 time", *since)
			}
		}
	}
	log, err := st.AuditLog(context.Background(), from, *limit)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	for _, e := range log {
		fields := []string{e.At.In(loc).Format(time.RFC3339), e.Who, string(e.Role), e.Action, e.Target, e.Detail, e.Outcome, e.Addr}
		for i, f := range fields {
			fields[i] = oneField(f)
		}
		fmt.Fprintln(w, strings.Join(fields, "\t"))
	}
	return w.Flush()
}

// oneField keeps a value on its line and in its column: tabs, line breaks and other control
// characters (a detail typed in the console) become spaces.
func oneField(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
}

func clipsCmd(args []string) error {
	fs := flag.NewFlagSet("halld clips", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	english := fs.Bool("english", false, "English clips too")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		return usageError("clips [-english] DIR")
	}
	langs := []string{"zh"}
	if *english {
		langs = append(langs, "en")
	}
	return voice.Synthesize(fs.Arg(0), langs...)
}
