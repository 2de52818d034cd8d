package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"citizenhome/kiosk/config"
	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/slip"
)

const paymentsUsage = `
payments (on the kiosk, from its store, read-only beside the running kiosk):
  payments [--date YYYY-MM-DD] [--json] [-config FILE] [-store FILE]
                         one day's one-card payments for reconciliation with the bank (art. 13):
                         totals, then every payment with its TAC, terminal and serials; exit
                         status 1 when a payment of the day is undecided or still open
`

// runPayments prints one day's payment report (payment.DailyReport). The store is opened
// read-only, so it runs beside the kiosk and never migrates or repairs the file.
func runPayments(args []string, stdout, stderr io.Writer) int {
	fs, asJSON := commandFlags("payments", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, paymentsUsage) }
	cfgPath := fs.String("config", defaultConfig, "configuration file (for the store path and the hall's zone)")
	storePath := fs.String("store", "", "the kiosk's store (default: kiosk.store of the configuration)")
	date := fs.String("date", "", "local date, YYYY-MM-DD (default: today)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	out := printer{w: stdout, json: *asJSON}
	cfg, err := config.Load(*cfgPath)
	if err != nil && *storePath == "" {
		return out.result(err, "")
	}
	if err != nil {
		cfg = config.Default()
	}
	loc, err := cfg.Location()
	if err != nil {
		return out.result(err, "")
	}
	path := *storePath
	if path == "" {
		path = cfg.Kiosk.Store
	}
	day := *date
	if day == "" {
		day = time.Now().In(loc).Format(time.DateOnly)
	}
	r, err := paymentReport(path, day, loc)
	if err != nil {
		return out.result(err, "")
	}
	bad := r.Undecided > 0 || r.Open > 0
	if out.json {
		e := json.NewEncoder(stdout)
		e.SetIndent("", "  ")
		_ = e.Encode(r)
	} else {
		printReport(stdout, r)
	}
	if bad {
		return 1
	}
	return 0
}

// paymentReport opens the store read-only and reads the day's report.
func paymentReport(path, day string, loc *time.Location) (payment.Report, error) {
	if _, err := os.Stat(path); err != nil {
		return payment.Report{}, fmt.Errorf("store %s: %w", path, err)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_busy_timeout", "5000")
	p := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(filepath.ToSlash(path))
	db, err := sql.Open("sqlite3", "file:"+p+"?"+q.Encode())
	if err != nil {
		return payment.Report{}, err
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'payment'`).Scan(&n); err != nil {
		return payment.Report{}, fmt.Errorf("store %s: %w", path, err)
	}
	if n == 0 {
		return payment.Report{}, errors.New("this kiosk's store has no payments yet (no payment table: the kiosk has not run a version with payments)")
	}
	return payment.DailyReport(context.Background(), db, day, loc)
}

func printReport(w io.Writer, r payment.Report) {
	fmt.Fprintf(w, "%s  paid %d, total %s 元; not charged %d; undecided %d; open %d; MAC2 unverified %d; paid without TAC %d\n",
		r.Day, r.Paid, slip.Yuan(r.TotalFen), r.NotCharged, r.Undecided, r.Open, r.Unverified, r.NoTAC)
	if len(r.Lines) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TXN\tTIME\tMATTER\tAMOUNT\tCARD\tSTATUS\tTAC\tTERMINAL\tT-SERIAL\tCARD SERIAL\tMAC2\tRECEIPT")
	for _, l := range r.Lines {
		tac := l.TAC
		if tac == "" {
			tac = "-"
		}
		mac2 := "no"
		if l.MAC2Verified {
			mac2 = "ok"
		}
		status := string(l.Status)
		if l.Recovered {
			status += " (recovered)"
		}
		t, _ := time.Parse(time.RFC3339, l.Time)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Txn, t.Format("15:04:05"), l.Matter,
			slip.Yuan(l.AmountFen), l.Card, status, tac, dash(l.Terminal), num(l.TerminalSerial), num(int64(l.OfflineSerial)), mac2, l.Receipt)
	}
	tw.Flush()
	for _, l := range r.Lines {
		if l.Reason != "" && l.Status != payment.StatusPaid || l.Status == payment.StatusPaid && !l.MAC2Verified {
			fmt.Fprintf(w, "%s: %s\n", l.Txn, l.Reason)
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func num(n int64) string {
	if n < 0 {
		return "-"
	}
	return fmt.Sprint(n)
}
