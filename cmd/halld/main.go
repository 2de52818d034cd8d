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
//	halld user remove NAME | halld user list
//	halld clips DIR                            synthesise the announcement clips into DIR
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"citizenhome/hall/access"
	"citizenhome/hall/settings"
	"citizenhome/hall/voice"
	"citizenhome/internal/logging"
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
	case "clips":
		err = clipsCmd(args)
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
  halld user remove NAME [-config FILE]
  halld user list [-config FILE]
  halld clips [-english] DIR
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

// openAccess opens the store of the configuration at -config for the token and user commands.
func openAccess(fs *flag.FlagSet, args []string) (*access.Store, func(), []string, error) {
	cfgPath := fs.String("config", defaultConfig, "configuration file")
	if err := fs.Parse(args); err != nil {
		return nil, nil, nil, usageError("%v", err)
	}
	cfg, err := settings.Load(*cfgPath)
	if err != nil {
		return nil, nil, nil, err
	}
	db, err := openLedger(cfg.Store.Path)
	if err != nil {
		return nil, nil, nil, err
	}
	return access.Open(db, access.Options{}), func() { db.Close() }, fs.Args(), nil
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
	st, done, rest, err := openAccess(fs, flagsAnywhere(args[1:]))
	if err != nil {
		return err
	}
	defer done()
	return do(context.Background(), st, args[0], rest)
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

func userCmd(args []string) error {
	var role *string
	return storeCmd("user", "add, remove or list", args, func(fs *flag.FlagSet) {
		role = fs.String("role", "", "counter, crew or admin")
	}, func(ctx context.Context, st *access.Store, action string, rest []string) error {
		switch action {
		case "add":
			if len(rest) != 1 {
				return usageError("user add NAME --role ROLE")
			}
			r, err := access.ParseRole(*role)
			if err != nil {
				return usageError("user add: %v", err)
			}
			// One line from stdin: a pipe from a password manager, or typed at the terminal.
			pw, err := bufio.NewReader(os.Stdin).ReadString('\n')
			if err != nil && pw == "" {
				return errors.New("user add: no password on stdin")
			}
			return st.AddAccount(ctx, rest[0], r, strings.TrimRight(pw, "\r\n"))
		case "remove":
			if len(rest) != 1 {
				return usageError("user remove NAME")
			}
			return st.RemoveAccount(ctx, rest[0])
		case "list":
			as, err := st.Accounts(ctx)
			if err != nil {
				return err
			}
			for _, a := range as {
				fmt.Printf("%s\t%s\n", a.Name, a.Role)
			}
			return nil
		}
		return usageError("user: unknown action %q", action)
	})
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
