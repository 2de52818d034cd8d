package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/hours"
	"citizenhome/kiosk/queue"
	"citizenhome/kiosk/store"
	"citizenhome/mask"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// hallService opens the setup's store with the hall services at a fixed clock, for the test to
// put ratings and complaints in (as the kiosk would) or read what a push wrote.
func (s *kioskSetup) hall(t *testing.T, now time.Time) (*civic.Service, *queue.Queue, *store.Store) {
	t.Helper()
	st, err := store.Open(s.storePath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := civic.LoadKey(s.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	var cats []queue.Category
	for _, l := range []string{"A", "B"} {
		cats = append(cats, queue.Category{Letter: l, AvgService: 5 * time.Minute, Counters: 1})
	}
	q, err := queue.New(st, cats, shanghai, clock)
	if err != nil {
		t.Fatal(err)
	}
	sched, err := hours.New(shanghai, []string{"08:30-17:30"}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := civic.New(civic.Options{Store: st, Key: key, Catalog: catalog.NewHolder(catalog.Demo()), Schedule: sched,
		Queue: q, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return svc, q, st
}

const goodJSON = `{
  "source": "test",
  "appointments": [
    {"id": "YY1", "id_number": "41020419800101018X", "matter": "%s",
     "start": "%s", "status": "booked"}
  ],
  "complaints": [
    {"number": "TS20261126K7Q2M9", "status": "处理中", "reply": "已转窗口核查", "updated": "%s"}
  ]
}
`

func TestPush(t *testing.T) {
	s := newSetup(t)
	p := s.write(t)
	matter := catalog.Demo().All()[0].ID
	now := time.Now().In(shanghai)
	start := now.Add(24 * time.Hour).Format(time.RFC3339)
	good := filepath.Join(s.dir, "day.json")
	os.WriteFile(good, []byte(fmt.Sprintf(goodJSON, matter, start, now.Add(-time.Hour).Format(time.RFC3339))), 0o644)

	code, out, errs := runCtl([]string{"push", good, "-config", p}, "")
	if code != 0 || !strings.Contains(out, "1 appointments") || !strings.Contains(out, "1 complaint statuses") {
		t.Fatalf("push good: %d %q %q", code, out, errs)
	}
	countAppointments := func() int {
		t.Helper()
		st, err := store.Open(s.storePath)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var n int
		if err := st.DB().QueryRow(`SELECT count(*) FROM hall_appointment`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := countAppointments(); n != 1 {
		t.Fatalf("appointments after push: %d", n)
	}
	// The booking is found by the ID number hashed under the hall key: the push used the key.
	svc, _, _ := s.hall(t, now)
	as, err := svc.Appointments(context.Background(), civic.Identity{IDNumber: "41020419800101018X"})
	if err != nil || len(as) != 1 || as[0].ID != "YY1" {
		t.Errorf("the pushed booking by ID number: %v %+v", err, as)
	}

	// A bad file, two problems: rejected whole with FILE:LINE for each, the booking kept.
	bad := filepath.Join(s.dir, "bad.json")
	os.WriteFile(bad, []byte(`{
  "mode": "replace",
  "appointments": [
    {"id": "YY2", "id_number": "41020419800101018X", "matter": "`+matter+`",
     "start": "`+start+`"},
    {"id": "YY3", "id_number": "410204198001010180", "matter": "`+matter+`",
     "start": "27/11/2026 9:00"}
  ]
}
`), 0o644)
	code, out, _ = runCtl([]string{"push", "-config", p, bad}, "")
	if code != 1 || !strings.Contains(out, bad+":6: appointments[1] (YY3): id_number:") ||
		!strings.Contains(out, bad+":6: appointments[1] (YY3): start:") || !strings.Contains(out, "rejected whole") {
		t.Errorf("push bad: %d\n%s", code, out)
	}
	if strings.Contains(out, "410204198001010180") {
		t.Error("the error shows the ID number")
	}
	if n := countAppointments(); n != 1 {
		t.Errorf("the rejected replace changed the bookings: %d", n)
	}
	code, out, _ = runCtl([]string{"push", "--json", "-config", p, bad}, "")
	var res struct {
		OK     bool        `json:"ok"`
		Errors []pushError `json:"errors"`
	}
	if code != 1 || json.Unmarshal([]byte(out), &res) != nil || res.OK || len(res.Errors) != 2 || res.Errors[0].Line != 6 {
		t.Errorf("push bad --json: %d %q", code, out)
	}

	// CSV: the line is the CSV line.
	csvFile := filepath.Join(s.dir, "applications-1.csv")
	os.WriteFile(csvFile, []byte("id,id_number,matter,status,accepted,updated\n"+
		"SL1,41020419800101018X,"+matter+",办理中,2026-11-20,2026-11-24 16:02\n"+
		"SL2,41020419800101018X,"+matter+",办结,2026-11-20,2026-11-24 16:02\n"), 0o644)
	code, out, _ = runCtl([]string{"push", "-config", p, csvFile}, "")
	if code != 1 || !strings.Contains(out, csvFile+":3: ") || !strings.Contains(out, "finished: ") || strings.Contains(out, ":2: ") {
		t.Errorf("push bad CSV: %d\n%s", code, out)
	}

	// A syntax error: its line.
	os.WriteFile(bad, []byte("{\n  \"appointments\": [\n    {\"id\": \"YY2\",,}\n  ]\n}\n"), 0o644)
	code, out, _ = runCtl([]string{"push", "-config", p, bad}, "")
	if code != 1 || !strings.Contains(out, bad+":3: JSON syntax error") {
		t.Errorf("push syntax error: %d\n%s", code, out)
	}

	for name, args := range map[string][]string{
		"unknown format": {"push", "-config", p, filepath.Join(s.dir, "day.txt")},
		"missing file":   {"push", "-config", p, filepath.Join(s.dir, "none.json")},
	} {
		if code, out, _ := runCtl(args, ""); code != 1 || out == "" {
			t.Errorf("%s: %d %q", name, code, out)
		}
	}
	if code, _, _ := runCtl([]string{"push", "-config", p}, ""); code != 2 {
		t.Errorf("push without a file: %d", code)
	}

	// No store yet: refused, and none made.
	os.Remove(s.storePath)
	if code, out, _ := runCtl([]string{"push", "-config", p, good}, ""); code != 1 || !strings.Contains(out, "no store") {
		t.Errorf("push without a store: %d %q", code, out)
	}
	if _, err := os.Stat(s.storePath); err == nil {
		t.Error("push created a store")
	}
}

// A file with ID numbers needs the hall key, which push does not create.
func TestPushNeedsKey(t *testing.T) {
	s := newSetup(t)
	os.Remove(s.keyPath)
	p := s.write(t)
	f := filepath.Join(s.dir, "appointments.csv")
	os.WriteFile(f, []byte("id,id_number,matter,start\nYY1,41020419800101018X,"+catalog.Demo().All()[0].ID+","+
		time.Now().In(shanghai).Add(time.Hour).Format("2006-01-02 15:04")+"\n"), 0o644)
	code, out, _ := runCtl([]string{"push", "-config", p, f}, "")
	if code != 1 || !strings.Contains(out, "no hall key") {
		t.Errorf("push without key: %d %q", code, out)
	}
	if _, err := os.Stat(s.keyPath); err == nil {
		t.Error("push created the hall key")
	}
}

func TestRatings(t *testing.T) {
	s := newSetup(t)
	p := s.write(t)
	ctx := context.Background()
	rate := func(when string, r civic.Rating, cat, window string) {
		t.Helper()
		now, _ := time.ParseInLocation("2006-01-02 15:04", when, shanghai)
		svc, q, st := s.hall(t, now)
		if cat != "" {
			tk, err := q.Issue(ctx, queue.Request{Category: cat, Section: map[string]string{"A": "zh", "B": "sb"}[cat]})
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Call(ctx, tk.Code, window); err != nil {
				t.Fatal(err)
			}
			r.TicketID = tk.ID
		}
		if _, err := svc.Rate(ctx, r); err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	rate("2026-11-26 10:00", civic.Rating{Overall: 5}, "A", "3")
	rate("2026-11-26 11:00", civic.Rating{Overall: 1, Reasons: []civic.Reason{civic.ReasonWaitLong}}, "A", "3")
	rate("2026-11-27 10:00", civic.Rating{Overall: 4}, "B", "12")
	rate("2026-12-01 10:00", civic.Rating{Overall: 3}, "", "")

	code, out, errs := runCtl([]string{"ratings", "-config", p, "--from", "2026-11-01", "--to", "2026-11-30", "--csv"}, "")
	if code != 0 {
		t.Fatalf("ratings --csv: %d %q %q", code, out, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "period" || strings.Join(rows[1][:4], ",") != "2026-11-26,zh,3,2" ||
		strings.Join(rows[2][:4], ",") != "2026-11-27,sb,12,1" {
		t.Errorf("ratings --csv:\n%s", out)
	}

	code, out, _ = runCtl([]string{"ratings", "--json", "-config", p, "--from", "2026-11-01", "--to", "2026-12-31", "--by", "month"}, "")
	var res struct {
		Aggregates []ratingRow `json:"aggregates"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Aggregates) != 3 {
		t.Fatalf("ratings --json --by month: %d %s", code, out)
	}
	var zh *ratingRow
	for i, a := range res.Aggregates {
		if a.Period == "2026-11" && a.Section == "zh" {
			zh = &res.Aggregates[i]
		}
	}
	if zh == nil || zh.Count != 2 || zh.Bad != 1 || zh.Satisfaction != 0.5 || zh.Levels["5"] != 1 || zh.Reasons["wait-long"] != 1 || zh.Mean["overall"] != 3 {
		t.Errorf("month zh: %+v", zh)
	}

	code, out, _ = runCtl([]string{"ratings", "-config", p, "--from", "2026-11-26", "--to", "2026-11-26"}, "")
	if code != 0 || !strings.Contains(out, "PERIOD") || !strings.Contains(out, "50.0%") {
		t.Errorf("ratings table: %d\n%s", code, out)
	}
	for name, args := range map[string][]string{
		"bad date":    {"--from", "26/11/2026", "--to", "2026-11-30"},
		"to < from":   {"--from", "2026-11-30", "--to", "2026-11-01"},
		"bad --by":    {"--by", "week"},
		"bad --to":    {"--to", "tomorrow"},
		"stray arg":   {"extra"},
		"bad config":  {"-config", filepath.Join(s.dir, "none.toml")},
		"bad --json ": {"--json", "--by", "year"},
	} {
		code, out, errs := runCtl(append([]string{"ratings", "-config", p}, args...), "")
		if code == 0 || out+errs == "" {
			t.Errorf("%s: %d %q %q", name, code, out, errs)
		}
	}
}

func TestComplaints(t *testing.T) {
	s := newSetup(t)
	p := s.write(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, shanghai)
	svc, _, st := s.hall(t, now)
	a, err := svc.Submit(ctx, civic.Complaint{Category: civic.CategoryAttitude, Text: "窗口人员态度差，\n等了很久", Phone: "138 0013 8000"}, civic.Identity{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	svc, _, st = s.hall(t, now.Add(5*time.Minute))
	b, err := svc.Submit(ctx, civic.Complaint{Category: civic.CategoryFacility, Text: "打印机没纸"}, civic.Identity{})
	if err != nil {
		t.Fatal(err)
	}
	// The hall answers the first.
	upd := `{"complaints": [{"number": "` + a.Number + `", "status": "resolved", "reply": "已约谈", "updated": "2026-11-26T12:00:00+08:00"}]}`
	if _, err := svc.Import(ctx, strings.NewReader(upd), civic.JSON); err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, out, errs := runCtl([]string{"complaints", "--json", "-config", p}, "")
	var rows []complaintRow
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 2 {
		t.Fatalf("complaints --json: %d %q %q", code, out, errs)
	}
	if rows[0].Number != a.Number || rows[0].Phone != "138****8000" || rows[0].State != "resolved" || !strings.Contains(rows[0].Text, "态度差") ||
		rows[0].Reply != "已约谈" || !strings.HasPrefix(rows[0].Updated, "2026-11-26T12:00:00") {
		t.Errorf("first: %+v", rows[0])
	}
	if rows[1].Number != b.Number || rows[1].Phone != "" || rows[1].State != "submitted" {
		t.Errorf("second: %+v", rows[1])
	}
	if strings.Contains(out, "13800138000") {
		t.Error("the full phone number is shown")
	}

	code, out, _ = runCtl([]string{"complaints", "-config", p, "--status", "submitted"}, "")
	if code != 0 || !strings.Contains(out, b.Number) || strings.Contains(out, a.Number) || !strings.Contains(out, "设施设备") {
		t.Errorf("complaints --status submitted: %d\n%s", code, out)
	}
	code, out, _ = runCtl([]string{"complaints", "-config", p, "--status", "已办结"}, "")
	if code != 0 || !strings.Contains(out, a.Number) || !strings.Contains(out, "138****8000") || !strings.Contains(out, "已约谈") || strings.Count(strings.TrimSpace(out), "\n") != 1 {
		t.Errorf("complaints --status 已办结: %d\n%s", code, out)
	}
	code, out, _ = runCtl([]string{"complaints", "-config", p, "--since", "2026-11-27"}, "")
	if code != 0 || !strings.Contains(out, "no complaints") {
		t.Errorf("complaints --since: %d\n%s", code, out)
	}
	for name, args := range map[string][]string{
		"bad status": {"--status", "lost"},
		"bad since":  {"--since", "yesterday"},
	} {
		if code, out, _ := runCtl(append([]string{"complaints", "-config", p}, args...), ""); code != 1 || out == "" {
			t.Errorf("%s: %d %q", name, code, out)
		}
	}
	os.Remove(s.keyPath)
	if code, out, _ := runCtl([]string{"complaints", "-config", p}, ""); code != 1 || !strings.Contains(out, "no hall key") {
		t.Errorf("complaints without the key: %d %q", code, out)
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"":               "",
		"13800138000":    "138****8000",
		"+8613800138000": "+86*******8000",
		"3771234":        "***1234",
		"1234":           "****",
	} {
		if got := mask.Phone(in); got != want {
			t.Errorf("mask.Phone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRecordLines(t *testing.T) {
	data := []byte("\xef\xbb\xbf{\"source\": \"x\", \"applications\": null,\n\"appointments\": [\n{\"id\": \"a\"},\n\n  {\"id\": \"b\"}],\n\"complaints\": [{}, {}\n]}")
	got := recordLines(data)
	want := map[string]int{"appointments[0]": 3, "appointments[1]": 5, "complaints[0]": 6, "complaints[1]": 6}
	if len(got) != len(want) {
		t.Errorf("recordLines: %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: line %d, want %d (%v)", k, got[k], v, got)
		}
	}
	for _, junk := range []string{"", "[", "{\"appointments\": 5}", "{\"appointments\": [1, "} {
		recordLines([]byte(junk)) // no panic
	}
}
