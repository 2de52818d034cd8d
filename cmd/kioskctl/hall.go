package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/hours"
	"citizenhome/kiosk/store"
	"citizenhome/mask"
)

// defaultConfig is where the packages install the configuration.
const defaultConfig = "/etc/citizenhome/kiosk.toml"

const hallUsage = `
hall data (on the kiosk, in its store; see docs/hall-data.md):
  push FILE              import appointments / applications / complaint statuses (*.json,
                         appointments*.csv, applications*.csv, complaints*.csv); a file with any
                         problem is rejected whole (FILE:LINE for each) and the data before kept
  ratings [--from DATE] [--to DATE] [--by day|month] [--csv]
                         好差评 aggregates per period, section and window (default: this month)
  complaints [--status S] [--since DATE]
                         complaints filed at this kiosk, phone masked, for follow-up
                         (S: submitted, accepted, processing, resolved, rejected)
  each takes -config FILE (default ` + defaultConfig + `)
`

func isHallCommand(cmd string) bool {
	return cmd == "push" || cmd == "ratings" || cmd == "complaints"
}

type hallFlags struct {
	config, from, to, by, status, since string
	csv                                 bool
}

func runHall(cmd string, args []string, stdout, stderr io.Writer) int {
	fs, asJSON := commandFlags(cmd, stderr)
	var f hallFlags
	fs.StringVar(&f.config, "config", defaultConfig, "configuration file")
	if cmd == "ratings" {
		fs.StringVar(&f.from, "from", "", "first local date, YYYY-MM-DD (default: the first of --to's month)")
		fs.StringVar(&f.to, "to", "", "last local date, YYYY-MM-DD (default: today)")
		fs.StringVar(&f.by, "by", "day", "day or month")
		fs.BoolVar(&f.csv, "csv", false, "CSV output (for spreadsheets)")
	}
	if cmd == "complaints" {
		fs.StringVar(&f.status, "status", "", "only complaints in this state")
		fs.StringVar(&f.since, "since", "", "only complaints filed on or after this local date, YYYY-MM-DD")
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if (cmd == "push") != (len(pos) == 1) || (cmd != "push" && len(pos) != 0) {
		fmt.Fprint(stderr, usage)
		return 2
	}
	out := printer{w: stdout, json: *asJSON}
	cfg, err := config.Load(f.config)
	if err != nil {
		return out.result(err, "")
	}
	ctx := context.Background()
	switch cmd {
	case "push":
		return push(ctx, cfg, pos[0], out)
	case "ratings":
		return ratings(ctx, cfg, f, out)
	}
	return complaints(ctx, cfg, f, out)
}

// openStore opens the kiosk's existing store: a typo in kiosk.store must not create an empty
// database that the kiosk never reads.
func openStore(cfg config.Config) (*store.Store, error) {
	if _, err := os.Stat(cfg.Kiosk.Store); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no store at %s (kiosk.store): the kiosk creates it at its first start", cfg.Kiosk.Store)
		}
		return nil, err
	}
	return store.Open(cfg.Kiosk.Store)
}

// pushError is one problem of a rejected file, located in it.
type pushError struct {
	Line   int    `json:"line,omitempty"` // 0: the whole file, or a record whose line is unknown
	Record string `json:"record,omitempty"`
	ID     string `json:"id,omitempty"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

func push(ctx context.Context, cfg config.Config, path string, out printer) int {
	format, err := civic.FormatFor(path)
	if err != nil {
		return out.result(err, "")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return out.result(err, "")
	}
	cat := catalog.Demo()
	if cfg.Kiosk.Catalog != "" {
		if cat, err = catalog.LoadFile(cfg.Kiosk.Catalog); err != nil {
			return out.result(fmt.Errorf("the catalog in force does not load, so matters cannot be checked: %w", err), "")
		}
	}
	loc, err := cfg.Location()
	if err != nil {
		return out.result(err, "")
	}
	// A missing key is not created here: a key made by kioskctl (often run as root) would be
	// unreadable for the kiosk. A file with no ID or card numbers needs none.
	key, err := hallKeyFor(cfg)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return out.result(err, "")
	}
	st, err := openStore(cfg)
	if err != nil {
		return out.result(err, "")
	}
	defer st.Close()
	sum, err := civic.Import(ctx, st, key, bytes.NewReader(data), format, civic.ImportOptions{
		Catalog: cat, Loc: loc, RetentionDays: cfg.Privacy.RetentionDays,
	})
	var ies civic.ImportErrors
	switch {
	case errors.As(err, &ies):
		return pushRejected(out, path, format, data, ies)
	case errors.Is(err, civic.ErrKey) && key == nil:
		return out.result(fmt.Errorf("%w: no hall key at %s (privacy.key_file): start the kiosk once, it creates the key", err, cfg.Privacy.KeyFile), "")
	case err != nil:
		return out.result(err, "")
	}
	if out.json {
		return out.emit(map[string]any{"ok": true, "file": path, "summary": sum})
	}
	mode := "merged"
	if sum.Replaced {
		mode = "replaced"
	}
	fmt.Fprintf(out.w, "%s: %s: %d appointments, %d applications, %d complaint statuses", path, mode,
		sum.Appointments, sum.Applications, sum.Complaints)
	if sum.CardHolders > 0 {
		fmt.Fprintf(out.w, ", %d city card holders", sum.CardHolders)
	}
	if sum.Stale > 0 || sum.Expired > 0 {
		fmt.Fprintf(out.w, " (skipped: %d older than what the kiosk has, %d past the retention period)", sum.Stale, sum.Expired)
	}
	fmt.Fprintln(out.w)
	return 0
}

var (
	reCSVLine    = regexp.MustCompile(`^line (\d+)$`)
	reSyntaxLine = regexp.MustCompile(`at line (\d+)`)
)

// pushRejected prints every problem as FILE:LINE: ..., the way compilers do, so an editor jumps
// to it.
func pushRejected(out printer, path string, f civic.Format, data []byte, ies civic.ImportErrors) int {
	var lines map[string]int
	if f == civic.JSON {
		lines = recordLines(data)
	}
	errs := make([]pushError, 0, len(ies))
	for _, e := range ies {
		pe := pushError{Record: e.Record, ID: e.ID, Field: e.Field, Reason: e.Reason}
		if m := reCSVLine.FindStringSubmatch(e.Record); m != nil {
			pe.Line, _ = strconv.Atoi(m[1])
			pe.Record = ""
		} else if n, ok := lines[e.Record]; ok {
			pe.Line = n
		} else if m := reSyntaxLine.FindStringSubmatch(e.Reason); e.Record == "" && m != nil {
			pe.Line, _ = strconv.Atoi(m[1])
		}
		errs = append(errs, pe)
	}
	if out.json {
		out.emit(map[string]any{"ok": false, "file": path, "errors": errs,
			"error": "rejected whole: nothing imported, the data before kept"})
		return 1
	}
	for _, e := range errs {
		var b strings.Builder
		b.WriteString(path)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
		if e.Record != "" {
			b.WriteString(e.Record)
			if e.ID != "" {
				fmt.Fprintf(&b, " (%s)", e.ID)
			}
			b.WriteString(": ")
		} else if e.ID != "" {
			fmt.Fprintf(&b, "%s: ", e.ID)
		}
		if e.Field != "" {
			b.WriteString(e.Field + ": ")
		}
		b.WriteString(e.Reason)
		fmt.Fprintln(out.w, b.String())
	}
	fmt.Fprintf(out.w, "%s: rejected whole (%d problems): nothing imported, the data before kept\n", path, len(ies))
	return 1
}

// recordLines finds the line where each record of a JSON import file starts, by the names the
// importer gives them ("appointments[3]"). It stops quietly at anything unexpected: the
// importer reports the problem itself.
func recordLines(data []byte) map[string]int {
	lines := map[string]int{}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	// Line numbers count in the file as written, byte-order mark or not: it sits on line 1.
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(off, int64(len(data)))], []byte("\n")) }
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return lines
	}
	for dec.More() {
		t, err := dec.Token()
		k, isKey := t.(string)
		if err != nil || !isKey {
			return lines
		}
		switch k {
		case "appointments", "applications", "complaints":
		default:
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return lines
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			if t == nil && err == nil { // null
				continue
			}
			return lines
		}
		for i := 0; dec.More(); i++ {
			// The element starts after the separator that ends at InputOffset.
			off := dec.InputOffset()
			for off < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
				off++
			}
			lines[fmt.Sprintf("%s[%d]", k, i)] = lineAt(off)
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return lines
			}
		}
		if _, err := dec.Token(); err != nil { // ]
			return lines
		}
	}
	return lines
}

// ratingRow is one aggregate in `ratings --json`.
type ratingRow struct {
	Period       string             `json:"period"`
	Section      string             `json:"section"`
	Window       string             `json:"window"`
	Count        int                `json:"count"`
	Levels       map[string]int     `json:"levels"` // "5" 非常满意 ... "1" 非常不满意
	Bad          int                `json:"bad"`
	Satisfaction float64            `json:"satisfaction"`
	Mean         map[string]float64 `json:"mean"`
	Reasons      map[string]int     `json:"reasons"`
}

func ratings(ctx context.Context, cfg config.Config, f hallFlags, out printer) int {
	loc, err := cfg.Location()
	if err != nil {
		return out.result(err, "")
	}
	if f.to == "" {
		f.to = time.Now().In(loc).Format(time.DateOnly)
	}
	if f.from == "" {
		to, err := time.Parse(time.DateOnly, f.to)
		if err != nil {
			return out.result(fmt.Errorf("--to %q is not a date YYYY-MM-DD", f.to), "")
		}
		f.from = to.Format("2006-01") + "-01"
	}
	if f.by != string(civic.Daily) && f.by != string(civic.Monthly) {
		return out.result(fmt.Errorf("--by %q: day or month", f.by), "")
	}
	st, err := openStore(cfg)
	if err != nil {
		return out.result(err, "")
	}
	defer st.Close()
	aggs, err := civic.Aggregates(ctx, st, civic.Period(f.by), f.from, f.to)
	if err != nil {
		return out.result(err, "")
	}
	switch {
	case f.csv:
		if err := civic.WriteAggregatesCSV(out.w, aggs); err != nil {
			return out.result(err, "")
		}
		return 0
	case out.json:
		rows := make([]ratingRow, 0, len(aggs))
		for _, a := range aggs {
			r := ratingRow{Period: a.Period, Section: a.Section, Window: a.Window, Count: a.Count, Levels: map[string]int{},
				Bad: a.Bad(), Satisfaction: a.Satisfaction(), Mean: map[string]float64{}, Reasons: map[string]int{}}
			for l := 1; l <= 5; l++ {
				r.Levels[strconv.Itoa(l)] = a.Levels[l]
			}
			for d, m := range a.Mean {
				r.Mean[string(d)] = m
			}
			for re, n := range a.Reasons {
				r.Reasons[string(re)] = n
			}
			rows = append(rows, r)
		}
		return out.emit(map[string]any{"from": f.from, "to": f.to, "by": f.by, "aggregates": rows})
	}
	fmt.Fprintf(out.w, "好差评 %s to %s, by %s\n", f.from, f.to, f.by)
	if len(aggs) == 0 {
		fmt.Fprintln(out.w, "(no ratings)")
		return 0
	}
	tw := tabwriter.NewWriter(out.w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PERIOD\tSECTION\tWINDOW\tCOUNT\t5\t4\t3\t2\t1\t差评\tSATISFIED\tMEAN")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, a := range aggs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f%%\t%.2f\n", a.Period, dash(a.Section), dash(a.Window), a.Count,
			a.Levels[5], a.Levels[4], a.Levels[3], a.Levels[2], a.Levels[1], a.Bad(), 100*a.Satisfaction(), a.Mean[civic.Overall])
	}
	tw.Flush()
	fmt.Fprintln(out.w, "(section and window \"-\": ratings not linked to a called ticket)")
	return 0
}

// complaintRow is one complaint in `complaints --json`: the phone masked.
type complaintRow struct {
	Number    string `json:"number"`
	Submitted string `json:"submitted"`
	Category  string `json:"category"`
	State     string `json:"state"`
	Text      string `json:"text"`
	Phone     string `json:"phone,omitempty"` // masked (mask.Phone): 138****5678
	Reply     string `json:"reply,omitempty"` // the hall's answer, as last pushed
	Updated   string `json:"updated,omitempty"`
	Purged    bool   `json:"purged,omitempty"`
}

var complaintStates = []civic.ComplaintState{civic.ComplaintSubmitted, civic.ComplaintAccepted,
	civic.ComplaintProcessing, civic.ComplaintResolved, civic.ComplaintRejected}

func complaints(ctx context.Context, cfg config.Config, f hallFlags, out printer) int {
	if f.status != "" {
		valid := false
		for _, s := range complaintStates {
			valid = valid || string(s) == f.status || s.Label().Zh == f.status
			if s.Label().Zh == f.status {
				f.status = string(s)
			}
		}
		if !valid {
			return out.result(fmt.Errorf("--status %q: one of submitted, accepted, processing, resolved, rejected", f.status), "")
		}
	}
	loc, err := cfg.Location()
	if err != nil {
		return out.result(err, "")
	}
	var since time.Time
	if f.since != "" {
		if since, err = time.ParseInLocation(time.DateOnly, f.since, loc); err != nil {
			return out.result(fmt.Errorf("--since %q is not a date YYYY-MM-DD", f.since), "")
		}
	}
	svc, st, err := hallService(cfg)
	if err != nil {
		return out.result(err, "")
	}
	defer st.Close()
	var buf bytes.Buffer
	if _, err := svc.ExportComplaints(ctx, &buf, since); err != nil {
		return out.result(err, "")
	}
	rows := []complaintRow{}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var e civic.ExportedComplaint
		if err := dec.Decode(&e); err != nil {
			return out.result(err, "")
		}
		if f.status != "" && e.State != f.status {
			continue
		}
		rows = append(rows, complaintRow{Number: e.Number, Submitted: e.Submitted, Category: e.Category, State: e.State,
			Text: e.Text, Phone: mask.Phone(e.Phone), Reply: e.Reply, Updated: e.Updated, Purged: e.Purged})
	}
	if out.json {
		return out.emit(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(out.w, "no complaints")
		return 0
	}
	tw := tabwriter.NewWriter(out.w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NUMBER\tSUBMITTED\tCATEGORY\tSTATE\tPHONE\tTEXT\tREPLY")
	for _, r := range rows {
		text := oneLine(r.Text, 40)
		if r.Purged {
			text = "(purged: past the retention period)"
		}
		sub := r.Submitted
		if t, err := time.Parse(time.RFC3339, r.Submitted); err == nil {
			sub = t.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Number, sub, civic.ComplaintCategory(r.Category).Label().Zh,
			civic.ComplaintState(r.State).Label().Zh, orDash(r.Phone), text, orDash(oneLine(r.Reply, 40)))
	}
	tw.Flush()
	return 0
}

// hallService builds the hall services over the kiosk's store, for reading what the kiosk filed.
func hallService(cfg config.Config) (*civic.Service, *store.Store, error) {
	key, err := hallKeyFor(cfg)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w: the complaints cannot be read without it", err)
	}
	if err != nil {
		return nil, nil, err
	}
	loc, err := cfg.Location()
	if err != nil {
		return nil, nil, err
	}
	h := cfg.Hours
	sched, err := hours.New(loc, h.Weekday, h.Weekend, h.Closed, h.Workdays)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(cfg)
	if err != nil {
		return nil, nil, err
	}
	svc, err := civic.New(civic.Options{Store: st, Key: key, Catalog: catalog.NewHolder(catalog.Demo()), Schedule: sched,
		RetentionDays: cfg.Privacy.RetentionDays})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return svc, st, nil
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
