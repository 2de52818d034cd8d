package history

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"citizenhome/hall/fleet"
	"citizenhome/hall/ledger/ledgertest"
	"citizenhome/telemetry/wire"
)

func day(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, shanghai) }

// show prints changes one a line: "15:04:05 device state detail".
func show(cs []Change) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s %s %s %s\n", c.At.In(shanghai).Format("01-02 15:04:05"), or(c.Device, "-"), c.State, c.Detail)
	}
	return b.String()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestTimeline(t *testing.T) {
	f := newFeed(t, day(2, 8, 0), Options{})
	f.boot("k01")
	f.at(day(2, 8, 1)).status("k01").status("k01") // heartbeats: nothing changes
	f.at(day(2, 10, 0)).set("k01", wire.StateDegraded, "printer", "paper-out", "no paper")
	f.at(day(2, 10, 30)).set("k01", wire.StateReady, "printer", "ok", "")
	f.k("k01").lockMsg = "午休 lunch break"
	f.at(day(2, 12, 0)).set("k01", wire.StateLocked, "", "", "")
	f.k("k01").lockMsg = ""
	f.at(day(2, 13, 0)).set("k01", wire.StateReady, "id-reader", "offline", "no answer")
	f.sync()

	got, err := f.s.Timeline(context.Background(), "k01", day(2, 9, 0), day(2, 12, 30))
	if err != nil {
		t.Fatal(err)
	}
	want := `12-02 09:00:00 - ready 
12-02 09:00:00 id-reader ok 
12-02 09:00:00 printer ok 
12-02 10:00:00 - degraded 
12-02 10:00:00 printer paper-out no paper
12-02 10:30:00 - ready 
12-02 10:30:00 printer ok 
12-02 12:00:00 - locked 午休 lunch break
`
	if show(got) != want {
		t.Errorf("timeline:\n%s\nwant:\n%s", show(got), want)
	}
	for _, c := range got {
		if c.Kiosk != "k01" {
			t.Errorf("change of kiosk %q", c.Kiosk)
		}
	}
	// The whole day: from before the kiosk's first state, so nothing is in force at from; a
	// kiosk's birth passes through init.
	got, err = f.s.Timeline(context.Background(), "k01", day(2, 0, 0), day(3, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	want = `12-02 08:00:00 - init 
12-02 08:00:00 id-reader ok 
12-02 08:00:00 printer ok 
12-02 08:00:00 - ready 
12-02 10:00:00 - degraded 
12-02 10:00:00 printer paper-out no paper
12-02 10:30:00 - ready 
12-02 10:30:00 printer ok 
12-02 12:00:00 - locked 午休 lunch break
12-02 13:00:00 - ready 
12-02 13:00:00 id-reader offline no answer
`
	if show(got) != want {
		t.Errorf("day's timeline:\n%s\nwant:\n%s", show(got), want)
	}
	// A change at from itself is the state in force then.
	got, _ = f.s.Timeline(context.Background(), "k01", day(2, 10, 0), day(2, 10, 1))
	if want := "12-02 10:00:00 - degraded \n12-02 10:00:00 id-reader ok \n12-02 10:00:00 printer paper-out no paper\n"; show(got) != want {
		t.Errorf("timeline from a change:\n%s\nwant:\n%s", show(got), want)
	}
	if got, err := f.s.Timeline(context.Background(), "k99", day(2, 0, 0), day(3, 0, 0)); err != nil || len(got) != 0 {
		t.Errorf("unknown kiosk: %v %v", got, err)
	}
	for _, c := range []struct {
		kiosk    string
		from, to time.Time
	}{{"", day(2, 0, 0), day(3, 0, 0)}, {"k01", day(3, 0, 0), day(2, 0, 0)}, {"k01", day(2, 0, 0), day(2, 0, 0)}} {
		if _, err := f.s.Timeline(context.Background(), c.kiosk, c.from, c.to); !isInvalid(err) {
			t.Errorf("Timeline(%q, %v, %v): %v, want ErrInvalid", c.kiosk, c.from, c.to, err)
		}
	}
}

func showAlerts(as []Alert) string {
	var b strings.Builder
	for _, a := range as {
		end := "open"
		if a.Ended != nil {
			end = a.Ended.In(shanghai).Format("15:04")
		}
		fmt.Fprintf(&b, "%s %s %s %s-%s\n", a.Kiosk, a.Code, a.Severity, a.Started.In(shanghai).Format("15:04"), end)
	}
	return b.String()
}

func alerts(t *testing.T, s *Store, f AlertFilter) string {
	t.Helper()
	as, err := s.Alerts(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return showAlerts(as)
}

func TestAlerts(t *testing.T) {
	f := newFeed(t, day(2, 8, 0), Options{})
	f.boot("k01").boot("k02")
	f.at(day(2, 9, 0)).alert("k01", "printer-paper-out", "printer")
	f.at(day(2, 9, 1)).alert("k01", "printer-paper-out", "printer") // published again (a rebirth)
	f.at(day(2, 9, 2)).status("k01")
	f.at(day(2, 9, 10)).clear("k01", "printer-paper-out")
	f.at(day(2, 9, 20)).alert("k01", "printer-paper-out", "printer")
	// Its clearing is missed: the next status no longer lists it.
	delete(f.k("k01").alerts, "printer-paper-out")
	f.at(day(2, 9, 25)).status("k01")
	// An alert of a session that ends: the new boot's status does not list it.
	f.at(day(2, 9, 30)).alert("k01", "id-reader-offline", "id-reader")
	delete(f.k("k01").alerts, "id-reader-offline")
	f.at(day(2, 9, 40)).boot("k01")
	// The kiosk vanishes: the broker publishes its will; it comes back with a new boot.
	f.at(day(2, 10, 0)).will("k01")
	f.at(day(2, 10, 5)).will("k01") // a repeat changes nothing
	f.at(day(2, 11, 0)).boot("k01")
	f.at(day(2, 11, 30)).alert("k02", "call-staff", "")
	f.sync()

	all := `k02 call-staff error 11:30-open
k01 kiosk-lost error 10:00-11:00
k01 id-reader-offline error 09:30-09:40
k01 printer-paper-out error 09:20-09:25
k01 printer-paper-out error 09:00-09:10
`
	if got := alerts(t, f.s, AlertFilter{}); got != all {
		t.Errorf("alerts:\n%s\nwant:\n%s", got, all)
	}
	for _, c := range []struct {
		f    AlertFilter
		want string
	}{
		{AlertFilter{Kiosk: "k02"}, "k02 call-staff error 11:30-open\n"},
		{AlertFilter{Open: true}, "k02 call-staff error 11:30-open\n"},
		{AlertFilter{Code: "printer-paper-out", Limit: 1}, "k01 printer-paper-out error 09:20-09:25\n"},
		{AlertFilter{Since: day(2, 9, 35)}, "k02 call-staff error 11:30-open\nk01 kiosk-lost error 10:00-11:00\nk01 id-reader-offline error 09:30-09:40\n"},
		{AlertFilter{Until: day(2, 9, 20)}, "k01 printer-paper-out error 09:00-09:10\n"},
		{AlertFilter{Since: day(2, 9, 10), Until: day(2, 9, 30)}, "k01 printer-paper-out error 09:20-09:25\nk01 printer-paper-out error 09:00-09:10\n"},
		{AlertFilter{Severity: wire.SeverityWarning}, ""},
	} {
		if got := alerts(t, f.s, c.f); got != c.want {
			t.Errorf("%+v:\n%s\nwant:\n%s", c.f, got, c.want)
		}
	}
	as, _ := f.s.Alerts(context.Background(), AlertFilter{Code: KioskLost})
	if len(as) != 1 || as[0].Message == "" || as[0].Device != "" {
		t.Errorf("kiosk-lost: %+v", as)
	}
	as, _ = f.s.Alerts(context.Background(), AlertFilter{Code: "id-reader-offline"})
	if len(as) != 1 || as[0].Device != "id-reader" || as[0].Message != "id-reader-offline message" {
		t.Errorf("an alert's fields: %+v", as)
	}
}

// A stale will (an older boot's, after the new birth) and repeated events change nothing.
func TestStaleAndDuplicateIgnored(t *testing.T) {
	f := newFeed(t, day(2, 8, 0), Options{})
	f.boot("k01").boot("k01") // boot 2
	f.sync()
	before, _ := f.s.Timeline(context.Background(), "k01", day(1, 0, 0), day(3, 0, 0))
	f.at(day(2, 8, 5))
	u := f.send("k01", wire.KindState, wire.State{State: wire.StateLost, Boot: 1}, true)
	if !u.Stale {
		t.Fatalf("the old will is not stale: %+v", u)
	}
	ev := wire.Event{ID: "e1", Boot: 2, Seq: 5, Type: wire.EventTicketIssued, Data: []byte(`{}`)}
	f.send("k01", wire.KindEvent, ev, false)
	if u := f.send("k01", wire.KindEvent, ev, false); !u.Duplicate {
		t.Fatalf("repeat: %+v", u)
	}
	// A stale update recorded with a state differing from the last kept must still change
	// nothing: the store trusts Stale, not the state.
	k, _ := f.view.Kiosk(wire.Kiosk{Hall: hall, Kiosk: "k01"})
	k.State = wire.StateLost
	f.s.Record(fleet.Update{Addr: u.Addr, State: &wire.State{State: wire.StateLost, Boot: 1}, Stale: true}, k)
	f.s.Record(fleet.Update{Addr: wire.Address{Kiosk: wire.Kiosk{Hall: hall, Kiosk: "k01"}, Kind: wire.KindStatus},
		Status: &wire.Status{State: wire.StateLost}, Duplicate: true}, k)
	f.sync()
	after, _ := f.s.Timeline(context.Background(), "k01", day(1, 0, 0), day(3, 0, 0))
	if show(after) != show(before) {
		t.Errorf("timeline changed:\n%s\nwas:\n%s", show(after), show(before))
	}
	if got := alerts(t, f.s, AlertFilter{}); got != "" {
		t.Errorf("alerts: %s", got)
	}
}

func TestDays(t *testing.T) {
	f := newFeed(t, day(2, 9, 0), Options{})
	f.boot("k01").boot("k02")
	k := f.k("k01")
	k.counters = wire.Counters{Tickets: 5, Receipts: 1, CardReads: 7, Ratings: 2, Errors: 0}
	f.at(day(2, 12, 0)).status("k01")
	k.counters = wire.Counters{Tickets: 12, Receipts: 3, CardReads: 20, Ratings: 4, Errors: 2}
	f.at(day(2, 17, 0)).status("k01")
	// The day's last status, sent a second before the kiosk's midnight, arrives after it.
	k.counters.Tickets = 13
	f.at(day(3, 0, 0).Add(200*time.Millisecond)).statusTS("k01", day(3, 0, 0).Add(-time.Second))
	k.counters = wire.Counters{}
	f.at(day(3, 0, 1)).status("k01")
	k.counters.Tickets = 4
	f.at(day(3, 9, 30)).status("k01")
	// A copy of an older status (the broker's retained one, sent again) changes nothing.
	old := *k
	old.counters = wire.Counters{Tickets: 12}
	f.kiosks["k01"] = &old
	f.at(day(3, 9, 31)).statusTS("k01", day(2, 17, 0))
	f.kiosks["k01"] = k
	f.k("k02").counters = wire.Counters{Tickets: 1, Errors: 1}
	f.at(day(3, 10, 0)).status("k02")
	f.sync()

	days, err := f.s.Days(context.Background(), "k01", "2026-12-02", "2026-12-03")
	if err != nil {
		t.Fatal(err)
	}
	want := []Day{
		{Kiosk: "k01", Date: "2026-12-02", Tickets: 13, Receipts: 3, CardReads: 20, Ratings: 4, Errors: 2},
		{Kiosk: "k01", Date: "2026-12-03", Tickets: 4},
	}
	if fmt.Sprint(days) != fmt.Sprint(want) {
		t.Errorf("days %+v, want %+v", days, want)
	}
	days, _ = f.s.Days(context.Background(), "", "2026-12-03", "2026-12-03")
	if len(days) != 2 || days[0].Kiosk != "k01" || days[1].Kiosk != "k02" || days[1].Errors != 1 {
		t.Errorf("all kiosks' day: %+v", days)
	}
	if days, _ := f.s.Days(context.Background(), "", "2026-12-04", "2026-12-01"); len(days) != 0 {
		t.Errorf("reversed dates: %+v", days)
	}
	for _, d := range []string{"2026-12-2", "", "yesterday"} {
		if _, err := f.s.Days(context.Background(), "", d, "2026-12-03"); !isInvalid(err) {
			t.Errorf("Days(%q): %v, want ErrInvalid", d, err)
		}
	}
}

func TestCommands(t *testing.T) {
	f := newFeed(t, day(2, 12, 0), Options{})
	f.boot("k01")
	exp := day(2, 13, 0).Format(time.RFC3339)
	cmd := func(id, name, by, args string) {
		p := `{"id":"` + id + `","name":"` + name + `","by":"` + by + `","expires":"` + exp + `"`
		if args != "" {
			p += `,"args":` + args
		}
		f.send("k01", wire.KindCmd, p+"}", false)
	}
	reply := func(id string, ok bool, e string) {
		f.send("k01", wire.KindReply, wire.Reply{ID: id, OK: ok, Error: e, TS: f.clock.Now()}, false)
	}
	cmd("c1", wire.CmdLock, "console:wang", `{"message":"午休"}`)
	f.at(day(2, 12, 0).Add(time.Second))
	reply("c1", true, "")
	f.at(day(2, 12, 5))
	cmd("c2", wire.CmdReprint, "kioskctl@crew", `{"ticket":"A012"}`)
	reply("c2", false, "no paper")
	f.at(day(2, 12, 6))
	reply("r9", true, "") // a reply to a command halld never saw
	f.at(day(2, 12, 7))
	cmd("c1", wire.CmdLock, "console:wang", `{"message":"午休"}`) // redelivered
	reply("c1", false, "again")                                 // a repeat's answer: the first stays
	f.at(day(2, 12, 8))
	reply("x5", true, "") // the reply overtakes its command
	f.at(day(2, 12, 9))
	cmd("x5", wire.CmdRebirth, "halld", "")
	// A command to a kiosk the view does not know is kept too.
	f.send("k07", wire.KindCmd, `{"id":"z1","name":"unlock","by":"halld","expires":"`+exp+`"}`, false)
	f.sync()

	cs, err := f.s.Commands(context.Background(), "k01", 0)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range cs {
		rep := "-"
		if c.Replied != nil {
			rep = c.Replied.In(shanghai).Format("15:04:05")
		}
		sent := "-"
		if !c.Sent.IsZero() {
			sent = c.Sent.In(shanghai).Format("15:04:05")
		}
		fmt.Fprintf(&b, "%s %s %s %s %s %s %v %q\n", c.ID, or(c.Name, "?"), or(c.By, "?"), or(string(c.Args), "-"), sent, rep, c.OK, c.Error)
	}
	want := `x5 rebirth halld - 12:09:00 12:08:00 true ""
r9 ? ? - - 12:06:00 true ""
c2 reprint kioskctl@crew {"ticket":"A012"} 12:05:00 12:05:00 false "no paper"
c1 lock console:wang {"message":"午休"} 12:00:00 12:00:01 true ""
`
	if b.String() != want {
		t.Errorf("commands:\n%s\nwant:\n%s", b.String(), want)
	}
	if cs, _ := f.s.Commands(context.Background(), "", 2); len(cs) != 2 || cs[0].Kiosk != "k07" || cs[0].ID != "z1" || cs[1].ID != "x5" {
		t.Errorf("every kiosk's last two: %+v", cs)
	}
}

func TestRestart(t *testing.T) {
	f := newFeed(t, day(2, 9, 0), Options{})
	f.boot("k01")
	f.at(day(2, 9, 5)).alert("k01", "printer-paper-out", "printer")
	f.at(day(2, 9, 6)).set("k01", wire.StateDegraded, "printer", "paper-out", "")
	f.at(day(2, 9, 30)).will("k01")
	f.sync()
	open := alerts(t, f.s, AlertFilter{Open: true})
	if open != "k01 kiosk-lost error 09:30-open\nk01 printer-paper-out error 09:05-open\n" {
		t.Fatalf("open before the restart:\n%s", open)
	}
	timeline := func(f *feed) string {
		cs, err := f.s.Timeline(context.Background(), "k01", day(2, 0, 0), day(3, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		return show(cs)
	}
	before := timeline(f)

	// halld restarts: a new view, the broker's retained state and status (of boot 1, which
	// lists the alert) arrive; the retained alert has not yet.
	f = f.at(day(2, 9, 40)).reopen()
	f.state("k01", wire.StateLost)
	f.k("k01").seq-- // the retained status is the one already sent
	f.status("k01")
	f.sync()
	if got := alerts(t, f.s, AlertFilter{Open: true}); got != open {
		t.Errorf("open after the restart:\n%s\nwant:\n%s", got, open)
	}
	if got := timeline(f); got != before {
		t.Errorf("the retained messages changed the timeline:\n%s\nwas:\n%s", got, before)
	}
	// The kiosk comes back, paper still out (its status lists the alert, not yet re-sent):
	// the lost alert ends, the paper alert goes on; then its clearing, which the new view
	// never held, ends it.
	k := f.k("k01")
	k.boot++
	k.seq = 0
	f.at(day(2, 10, 0)).state("k01", wire.StateInit).status("k01")
	f.at(day(2, 10, 30)).clear("k01", "printer-paper-out")
	f.sync()
	want := "k01 kiosk-lost error 09:30-10:00\nk01 printer-paper-out error 09:05-10:30\n"
	if got := alerts(t, f.s, AlertFilter{}); got != want {
		t.Errorf("alerts:\n%s\nwant:\n%s", got, want)
	}
}

func TestPrune(t *testing.T) {
	oct := func(d, h int) time.Time { return time.Date(2026, 10, d, h, 0, 0, 0, shanghai) }
	f := newFeed(t, oct(1, 9), Options{Retention: 30 * 24 * time.Hour})
	f.boot("k01")
	f.k("k01").counters.Tickets = 3
	f.at(oct(2, 10)).alert("k01", "printer-paper-out", "printer").set("k01", wire.StateDegraded, "printer", "paper-out", "")
	f.at(oct(2, 11)).clear("k01", "printer-paper-out").set("k01", wire.StateReady, "printer", "ok", "")
	f.at(oct(3, 9)).alert("k01", "id-reader-offline", "id-reader").set("k01", wire.StateReady, "id-reader", "offline", "")
	f.at(oct(3, 10)).send("k01", wire.KindCmd, `{"id":"c1","name":"selftest","by":"x","expires":"2026-10-03T11:00:00+08:00"}`, false)
	f.at(oct(25, 9)).set("k01", wire.StateDegraded, "printer", "paper-low", "")
	f.at(time.Date(2026, 11, 20, 9, 0, 0, 0, shanghai)).set("k01", wire.StateReady, "printer", "ok", "")
	f.sync()
	count := func(table string) int {
		var n int
		if err := f.db.SQL().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	changes := count("history_change")

	f.at(time.Date(2026, 12, 1, 0, 0, 0, 0, shanghai)) // cutoff: November 1st
	n, err := f.s.Prune(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Before the cutoff each of the three series keeps its last change (lifecycle degraded of
	// 10-25, printer paper-low of 10-25, id-reader offline of 10-03); the two of 11-20 stay.
	if got := count("history_change"); got != 5 {
		t.Errorf("%d changes left of %d, want 5", got, changes)
	}
	if got := alerts(t, f.s, AlertFilter{}); got != "k01 id-reader-offline error 09:00-open\n" {
		t.Errorf("alerts left (the open one stays):\n%s", got)
	}
	// Days of October 1, 2, 3 and 25 go; November 20 stays.
	if count("history_day") != 1 || count("history_command") != 0 {
		t.Errorf("days %d, commands %d left", count("history_day"), count("history_command"))
	}
	if want := int64(changes - 5 + 1 + 4 + 1); n != want {
		t.Errorf("Prune deleted %d rows, want %d", n, want)
	}
	// The timeline still knows the states in force at a time before the cutoff.
	cs, err := f.s.Timeline(context.Background(), "k01", time.Date(2026, 11, 1, 0, 0, 0, 0, shanghai), time.Date(2026, 12, 1, 0, 0, 0, 0, shanghai))
	if err != nil {
		t.Fatal(err)
	}
	want := "11-01 00:00:00 - degraded \n11-01 00:00:00 id-reader offline \n11-01 00:00:00 printer paper-low \n11-20 09:00:00 - ready \n11-20 09:00:00 printer ok \n"
	if show(cs) != want {
		t.Errorf("timeline after pruning:\n%s\nwant:\n%s", show(cs), want)
	}
	if n, err := f.s.Prune(context.Background()); err != nil || n != 0 {
		t.Errorf("second prune: %d %v", n, err)
	}
}

// Record never blocks: with the writer stopped, a full queue drops and counts.
func TestRecordDropsWhenFull(t *testing.T) {
	db := ledgertest.Open(t, Migrations)
	var logs strings.Builder
	s, err := Open(db, Options{Location: shanghai, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	u := fleet.Update{Addr: wire.Address{Kiosk: wire.Kiosk{Hall: hall, Kiosk: "k01"}, Kind: wire.KindState},
		State: &wire.State{State: wire.StateReady, Boot: 1}}
	k := fleet.Kiosk{ID: u.Addr.Kiosk, State: wire.StateReady}
	start := time.Now()
	for range QueueLen + 7 {
		s.Record(u, k)
	}
	if s.Dropped() != 7 {
		t.Errorf("dropped %d, want 7", s.Dropped())
	}
	// Run logs the drops once a minute: one line for the seven, none when no more came.
	s.logDrops()
	s.logDrops()
	if got := strings.Count(logs.String(), "updates dropped"); got != 1 || !strings.Contains(logs.String(), "dropped=7 total=7") {
		t.Errorf("log:\n%s", logs.String())
	}
	s.Record(u, k)
	s.logDrops()
	if !strings.Contains(logs.String(), "dropped=1 total=8") {
		t.Errorf("log:\n%s", logs.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Record took %v for %d updates", d, QueueLen+7)
	}
	// Updates that carry nothing kept are not even queued.
	s.Record(fleet.Update{Addr: u.Addr, Event: &wire.Event{ID: "e"}}, k)
	s.Record(fleet.Update{Addr: wire.Address{Kiosk: wire.Kiosk{Hall: hall, Kiosk: wire.ControllerID}, Kind: wire.KindState},
		Ctrl: &wire.ControllerState{Online: true}}, k)
	if s.Dropped() != 8 {
		t.Errorf("dropped %d after ignored updates, want 8", s.Dropped())
	}
	// Sync with no writer waits for its context.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Sync(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Sync without Run: %v", err)
	}
}

// Run writes what is queued when its context ends; after it, Sync says the writer stopped.
func TestRunDrainsOnShutdown(t *testing.T) {
	db := ledgertest.Open(t, Migrations)
	s, err := Open(db, Options{Location: shanghai, Now: func() time.Time { return day(2, 9, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	addr := wire.Address{Kiosk: wire.Kiosk{Hall: hall, Kiosk: "k01"}, Kind: wire.KindState}
	for _, st := range []string{wire.StateInit, wire.StateReady, wire.StateLocked} {
		s.Record(fleet.Update{Addr: addr, State: &wire.State{State: st, Boot: 1}}, fleet.Kiosk{ID: addr.Kiosk, State: st})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	cs, err := s.Timeline(context.Background(), "k01", day(2, 0, 0), day(3, 0, 0))
	if err != nil || len(cs) != 3 || cs[2].State != wire.StateLocked {
		t.Errorf("after shutdown: %v %v", show(cs), err)
	}
	if err := s.Sync(context.Background()); err != nil {
		t.Errorf("Sync of what was written: %v", err)
	}
	s.Record(fleet.Update{Addr: addr, State: &wire.State{State: wire.StateReady, Boot: 1}}, fleet.Kiosk{ID: addr.Kiosk, State: wire.StateReady})
	if err := s.Sync(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("Sync after Run returned: %v, want ErrStopped", err)
	}
	if err := s.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: %v", err)
	}
}
