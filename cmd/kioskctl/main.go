// kioskctl is the hall side's command-line tool: it checks configuration and catalog files, makes
// staff PIN hashes, and over MQTT shows the fleet (status, alerts, watch), sends commands to
// kiosks (lock, unlock, reset, reprint, selftest, rebirth, reload-catalog, set-config) and
// simulates a fleet for load tests (simulate); on a kiosk it runs a health checklist (doctor) and
// feeds and reads the hall data in the kiosk's store (push, ratings, complaints), and seals the
// hall key into a systemd credential (hall-key seal).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
)

var version = "dev"

const usage = `usage: kioskctl COMMAND [ARGS]

commands:
  check-config FILE     validate a kiosk.toml; lists every problem with its line and key, and
                        warns of the example's placeholder ids
  check-catalog FILE    validate a service catalog data file; names the matter and field at fault
  hash-pin              read a staff PIN (6-12 digits) from stdin, print the pin_hash value
  version               print the version
` + fleetUsage + doctorUsage + hallUsage + hallKeyUsage + paymentsUsage + `
every command takes --json for output that scripts read.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	if isFleetCommand(cmd) {
		return runFleet(cmd, rest, stdout, stderr)
	}
	if isHallCommand(cmd) {
		return runHall(cmd, rest, stdout, stderr)
	}
	if cmd == "doctor" {
		return runDoctor(rest, stdout, stderr)
	}
	if cmd == accessHelperArg { // not in the usage: the doctor runs it as the daemon's user
		return runAccessHelper(stdin, stdout)
	}
	if cmd == "payments" {
		return runPayments(rest, stdout, stderr)
	}
	if cmd == "hall-key" {
		return runHallKey(rest, stdin, stdout, stderr)
	}
	fs, asJSON := commandFlags(cmd, stderr)
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	out := printer{w: stdout, json: *asJSON}
	switch cmd {
	case "check-config":
		if fs.NArg() != 1 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		return checkConfig(out, fs.Arg(0))
	case "check-catalog":
		if fs.NArg() != 1 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		c, err := catalog.LoadFile(fs.Arg(0))
		if err != nil {
			return out.result(err, "")
		}
		return out.result(nil, fmt.Sprintf("catalog ok: %d sections, %d matters", len(c.Sections()), len(c.All())))
	case "hash-pin":
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return out.result(err, "")
		}
		h, err := config.HashPIN(strings.TrimSpace(line))
		if err != nil {
			return out.result(err, "")
		}
		if out.json {
			return out.emit(map[string]any{"ok": true, "pin_hash": h})
		}
		fmt.Fprintln(stdout, h)
		return 0
	case "version":
		if out.json {
			return out.emit(map[string]any{"version": version})
		}
		fmt.Fprintln(stdout, version)
		return 0
	}
	fmt.Fprintf(stderr, "kioskctl: unknown command %q\n\n%s", cmd, usage)
	return 2
}

// commandFlags makes the flag set of a command, with the --json flag that every command takes.
// Parse prints its errors (and -h) on stderr and returns them instead of exiting: the caller
// exits 2.
func commandFlags(cmd string, stderr io.Writer) (*flag.FlagSet, *bool) {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs, fs.Bool("json", false, "JSON output")
}

type printer struct {
	w    io.Writer
	json bool
}

func (p printer) emit(v any) int {
	e := json.NewEncoder(p.w)
	e.SetIndent("", "  ")
	_ = e.Encode(v)
	return 0
}

// result prints ok or the error; exit status 1 on error.
func (p printer) result(err error, ok string) int {
	if p.json {
		if err != nil {
			p.emit(map[string]any{"ok": false, "error": err.Error()})
			return 1
		}
		return p.emit(map[string]any{"ok": true, "message": ok})
	}
	if err != nil {
		fmt.Fprintln(p.w, err)
		return 1
	}
	fmt.Fprintln(p.w, ok)
	return 0
}

// checkConfig lists every problem of a configuration file, one per line, then how many; a file
// that loads gets "configuration ok" and a warning line for each setting that is probably not
// meant (the example's placeholder ids). Exit status 1 on any problem; warnings leave it 0.
func checkConfig(out printer, path string) int {
	_, warnings, err := config.Inspect(path)
	var es config.Errors
	if err != nil && !errors.As(err, &es) {
		return out.result(err, "") // the file cannot be read
	}
	if out.json {
		type item struct {
			File    string `json:"file"`
			Line    int    `json:"line,omitempty"`
			Key     string `json:"key,omitempty"`
			Where   string `json:"where,omitempty"`
			Message string `json:"message"`
		}
		problems, warns := []item{}, []item{}
		for _, e := range es {
			problems = append(problems, item{e.File, e.Line, e.Key, e.Where, e.Msg})
		}
		for _, w := range warnings {
			warns = append(warns, item{w.File, w.Line, w.Key, "", w.Msg})
		}
		v := map[string]any{"ok": err == nil, "problems": problems, "warnings": warns}
		if err != nil {
			v["error"] = err.Error()
		} else {
			v["message"] = "configuration ok"
		}
		out.emit(v)
		if err != nil {
			return 1
		}
		return 0
	}
	if err != nil {
		fmt.Fprintln(out.w, err)
		fmt.Fprintf(out.w, "%s: %s (every key is explained in %s)\n", path, plural(len(es), "problem"), exampleConfig)
		return 1
	}
	fmt.Fprintln(out.w, "configuration ok")
	for _, w := range warnings {
		fmt.Fprintln(out.w, "warning: "+w.String())
	}
	return 0
}

// exampleConfig is where the packages put the documented example of every key.
const exampleConfig = "/usr/share/doc/citizenhome-common/kiosk.example.toml"

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
