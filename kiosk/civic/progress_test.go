package civic

import (
	"context"
	"errors"
	"strings"
	"testing"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/queue"
)

func TestProgressDeadlines(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	app := func(id, matter, status, accepted, finished string) obj {
		return obj{"id": id, "id_number": idLi, "matter": matter, "status": status, "accepted": accepted,
			"finished": finished, "updated": "2026-11-25T10:00:00+08:00"}
	}
	r.importJSON(t, obj{"applications": []obj{
		// 承诺件, 45 working days by law, 30 promised, over New Year's Day.
		app("SL-WORK", "sb-003", "办理中", "2026-11-20", ""),
		// 即办件: due the day accepted; the law's 3 calendar days end on a Saturday.
		app("SL-NOW", "zh-003", "办结", "2026-11-25", "2026-11-25"),
		// Accepted before the National Day week and its make-up Saturday; promise broken.
		app("SL-LATE", "zh-001", "受理", "2026-09-28", ""),
		// No statutory limit; the applicant is completing the materials: the clock stops.
		app("SL-PAUSE", "zh-006", "补正", "2026-11-10", ""),
		// Finished after the promise, within the law.
		app("SL-DONE", "yb-006", "已发证", "2026-11-02", "2026-11-20"),
		// Not accepted: no time limit applies.
		app("SL-NO", "crj-002", "不予受理", "", "2026-11-21"),
		// Someone else's.
		{"id": "SL-ZHANG", "id_number": idZhang, "matter": "sb-003", "status": "受理", "accepted": "2026-11-20", "updated": "2026-11-25T10:00:00+08:00"},
	}})
	p, err := r.svc.Progress(ctx, Query{Who: Identity{IDNumber: idLi}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Application{}
	for _, a := range p.Applications {
		got[a.ID] = a
	}
	if len(got) != 6 {
		t.Fatalf("%d applications, want Li's 6: %v", len(got), got)
	}
	if _, ok := got["SL-ZHANG"]; ok {
		t.Fatal("another person's application is shown")
	}
	cases := []struct {
		id                    string
		promised, legal       string
		legalCal, none        bool
		overdue, overdueLegal bool
		suspended             bool
		handling              catalog.Handling
	}{
		{"SL-WORK", "2027-01-04", "2027-01-25", false, false, false, false, false, catalog.Promised},
		{"SL-NOW", "2026-11-25", "2026-11-30", true, false, false, false, false, catalog.Immediate},
		{"SL-LATE", "2026-10-23", "2026-11-27", true, false, true, false, false, catalog.Promised},
		{"SL-PAUSE", "2026-11-17", "", false, true, false, false, true, catalog.Joint},
		{"SL-DONE", "2026-11-16", "2026-11-23", false, false, true, false, false, catalog.Promised},
		{"SL-NO", "", "", false, false, false, false, false, catalog.Promised},
	}
	for _, c := range cases {
		a := got[c.id]
		if a.Promised.Date != c.promised || a.Legal.Date != c.legal || a.Legal.Calendar != c.legalCal || a.Legal.None != c.none {
			t.Errorf("%s: promised %q legal %q (calendar %v, none %v); want %q %q %v %v", c.id, a.Promised.Date, a.Legal.Date,
				a.Legal.Calendar, a.Legal.None, c.promised, c.legal, c.legalCal, c.none)
		}
		if a.Overdue != c.overdue || a.OverdueLegal != c.overdueLegal || a.Suspended != c.suspended {
			t.Errorf("%s: overdue %v legal %v suspended %v; want %v %v %v", c.id, a.Overdue, a.OverdueLegal, a.Suspended,
				c.overdue, c.overdueLegal, c.suspended)
		}
		if a.Handling != c.handling || a.MatterName.Zh == "" {
			t.Errorf("%s: handling %q name %q", c.id, a.Handling, a.MatterName.Zh)
		}
	}
	if got["SL-WORK"].Status != StatusProcessing || got["SL-WORK"].Status.Label().Zh != "办理中" || got["SL-WORK"].Accepted != "2026-11-20" {
		t.Errorf("SL-WORK %+v", got["SL-WORK"])
	}
	// The legal deadline of SL-LATE passes at the end of 27 November, local time.
	r.clock.Set(at("2026-11-27 23:59:59"))
	p, _ = r.svc.Progress(ctx, Query{Who: Identity{IDNumber: idLi}})
	for _, a := range p.Applications {
		if a.ID == "SL-LATE" && a.OverdueLegal {
			t.Error("overdue on its last day")
		}
	}
	r.clock.Set(at("2026-11-28 00:00"))
	p, _ = r.svc.Progress(ctx, Query{Who: Identity{IDNumber: idLi}})
	for _, a := range p.Applications {
		if a.ID == "SL-LATE" && !a.OverdueLegal {
			t.Error("not overdue the day after its last day")
		}
	}
}

func TestProgressByCode(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	tk, err := r.q.Issue(ctx, queue.Request{Category: "B", MatterID: "sb-003", Section: "sb"})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := r.q.Issue(ctx, queue.Request{Category: "B"})
	if err != nil {
		t.Fatal(err)
	}
	r.importJSON(t, obj{"applications": []obj{
		{"id": "SL1", "lookup_code": tk.LookupCode, "matter": "sb-003", "status": "受理", "accepted": "2026-11-26", "updated": "2026-11-26T09:00:00+08:00"},
		{"id": "SL2", "lookup_code": "202611260930050007", "id_number": idLi, "matter": "sb-003", "status": "受理", "accepted": "2026-11-26", "updated": "2026-11-26T09:00:00+08:00"},
	}})
	// The QR content, in lower case with spaces, as a scanner may deliver it.
	p, err := r.svc.Progress(ctx, Query{Code: "  CitizenHome:Lookup:" + strings.ToLower(tk.LookupCode) + " "})
	if err != nil || len(p.Applications) != 1 || p.Applications[0].ID != "SL1" || p.Ticket == nil || p.Ticket.Code != tk.Code {
		t.Fatalf("by ticket code: %+v %v", p, err)
	}
	p, err = r.svc.Progress(ctx, Query{Code: bare.LookupCode})
	if err != nil || len(p.Applications) != 0 || p.Ticket == nil || p.Ticket.ID != bare.ID {
		t.Errorf("ticket without applications: %+v %v", p, err)
	}
	p, err = r.svc.Progress(ctx, Query{Code: "202611260930050007"})
	if err != nil || len(p.Applications) != 1 || p.Applications[0].ID != "SL2" || p.Ticket != nil {
		t.Errorf("by receipt code: %+v %v", p, err)
	}
	for code, want := range map[string]error{
		"ZZZZZZZZZZ":          ErrNotFound,
		"TS20261126ABCDEF":    ErrNotFound,
		"??":                  ErrInvalid,
		"citizenhome:lookup:": ErrInvalid,
	} {
		if _, err := r.svc.Progress(ctx, Query{Code: code}); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", code, err, want)
		}
	}
	if _, err := r.svc.Progress(ctx, Query{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty query: %v", err)
	}
	if _, err := r.svc.Progress(ctx, Query{Who: Identity{IDNumber: idLi}, Code: tk.LookupCode}); !errors.Is(err, ErrInvalid) {
		t.Errorf("both: %v", err)
	}
	// A person with nothing on record gets an empty answer, not an error.
	if p, err := r.svc.Progress(ctx, Query{Who: Identity{IDNumber: idZhang}}); err != nil || len(p.Applications)+len(p.Complaints) != 0 {
		t.Errorf("nobody's: %+v %v", p, err)
	}
	// Applications are filed by ID number: a city card alone, linked to no holder, finds none,
	// and says why (cardholder_test.go covers a linked card).
	if p, err := r.svc.Progress(ctx, Query{Who: Identity{CityCard: cardLi}}); !errors.Is(err, ErrCardNotLinked) || len(p.Applications) != 0 {
		t.Errorf("by card: %+v %v", p, err)
	}
}

// A Source may name a matter the catalog no longer has: the application shows without deadlines.
func TestProgressUnknownMatter(t *testing.T) {
	src := fakeSource{apps: []Application{
		{ID: "SL1", Matter: "gone-001", Status: StatusProcessing, Accepted: "2026-11-02", Updated: at("2026-11-03")},
		{ID: "SL2", Matter: "sb-003", Status: StatusProcessing, Accepted: "2026-11-02", Updated: at("2026-11-04")},
	}}
	r := newRig(t, func(o *Options) { o.Source = src })
	p, err := r.svc.Progress(context.Background(), Query{Who: Identity{IDNumber: idLi}})
	if err != nil || len(p.Applications) != 2 {
		t.Fatalf("%+v %v", p, err)
	}
	if p.Applications[0].ID != "SL2" {
		t.Errorf("not newest first: %s", p.Applications[0].ID)
	}
	a := p.Applications[1]
	if a.MatterName != (catalog.Text{}) || a.Promised.Date != "" || a.Overdue || a.Handling != "" {
		t.Errorf("unknown matter computed: %+v", a)
	}
	if a.Updated.Location() != shanghai {
		t.Errorf("times not in the hall's zone: %s", a.Updated.Location())
	}
}

func TestParseCode(t *testing.T) {
	for in, want := range map[string]struct {
		code      string
		complaint bool
	}{
		"k7q2m9xab1":                           {"K7Q2M9XAB1", false},
		"citizenhome:lookup:TS20261126K7Q2M9":  {"TS20261126K7Q2M9", true},
		" ts20261126k7q2m9 ":                   {"TS20261126K7Q2M9", true},
		"TS20261126K7Q2MI":                     {"TS20261126K7Q2MI", false}, // I is not in a complaint number
		"https://smzj.example.cn/t/7K3M9Q2D1C": {"7K3M9Q2D1C", false},       // a ticket's public page (hall.public_url)
		"HTTP://hall/q/t/7k3m9q2d1c":           {"7K3M9Q2D1C", false},
	} {
		code, c, err := ParseCode(in)
		if err != nil || code != want.code || c != want.complaint {
			t.Errorf("ParseCode(%q) = %q %v %v", in, code, c, err)
		}
	}
	for _, in := range []string{"", "abc", "a b c d", "中文编号", strings.Repeat("A", 41), "-ABCD",
		"https://hall/t/", "https://hall/t/7K3M9Q2D1C/x", "https://hall/t/7K3M9Q2D1C?x=1", "ftp://hall/t/7K3M9Q2D1C"} {
		if _, _, err := ParseCode(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseCode(%q): %v", in, err)
		}
	}
}
