package history

import (
	"context"
	"fmt"
	"testing"
	"time"

	"citizenhome/hall/hours"
	"citizenhome/telemetry/wire"
)

// The monthly report's figures, computed by hand from the hours and the feed.
func TestMonth(t *testing.T) {
	berlin := mustZone("Europe/Berlin")
	sh := func(mo time.Month, d, h, m int) time.Time { return time.Date(2026, mo, d, h, m, 0, 0, shanghai) }
	h := time.Hour
	cases := []struct {
		name  string
		loc   *time.Location
		days  map[string]string // nil: the default 09:00-17:00
		feed  func(f *feed)
		now   time.Time
		month time.Time
		want  []Availability
	}{{
		name: "a working day: paper out, lost, shut down; a kiosk lost all month; one shut down before it",
		feed: func(f *feed) {
			f.at(sh(10, 1, 9, 0)).boot("k05")
			f.at(sh(10, 2, 9, 0)).will("k05")
			f.at(sh(11, 20, 9, 0)).boot("k02")
			f.at(sh(11, 21, 18, 0)).state("k02", wire.StateDisconnected)
			f.at(sh(12, 2, 8, 0)).boot("k01")
			f.at(sh(12, 2, 10, 0)).set("k01", wire.StateDegraded, "printer", StatePaperOut, "")
			f.at(sh(12, 2, 10, 30)).set("k01", wire.StateReady, "printer", "ok", "")
			f.at(sh(12, 2, 15, 0)).will("k01")
			f.at(sh(12, 2, 16, 0)).boot("k01")
			f.k("k01").counters = wire.Counters{Tickets: 40, Errors: 3}
			f.at(sh(12, 2, 17, 30)).status("k01")
			f.at(sh(12, 2, 18, 0)).state("k01", wire.StateDisconnected)
		},
		now:   sh(12, 3, 12, 0),
		month: sh(12, 15, 0, 0),
		// Open: December 1st and 2nd, 8 h each, and 09:00-12:00 on the 3rd. k01 ready
		// 09:00-10:00, 10:30-15:00 and 16:00-17:00.
		want: []Availability{
			{Kiosk: "k01", Open: 19 * h, Ready: 6*h + 30*time.Minute, NoPaper: 30 * time.Minute, Tickets: 40, Errors: 3},
			{Kiosk: "k05", Open: 19 * h},
		},
	}, {
		name: "the month before: a kiosk shut down in it is in its report",
		feed: func(f *feed) {
			f.at(sh(11, 20, 9, 0)).boot("k02")
			f.k("k02").counters = wire.Counters{Tickets: 7, Errors: 1}
			f.at(sh(11, 20, 16, 0)).status("k02")
			f.k("k02").counters = wire.Counters{Tickets: 5}
			f.at(sh(11, 21, 12, 0)).status("k02")
			f.at(sh(11, 21, 12, 0)).state("k02", wire.StateDisconnected)
		},
		now:   sh(12, 3, 12, 0),
		month: sh(11, 1, 0, 0),
		// November 20th 8 h and 21st 09:00-12:00.
		want: []Availability{{Kiosk: "k02", Open: 240 * h, Ready: 11 * h, Tickets: 12, Errors: 1}},
	}, {
		name: "across midnight and the month's end",
		feed: func(f *feed) {
			f.at(sh(11, 30, 16, 0)).boot("k03")
			f.at(sh(11, 30, 16, 30)).set("k03", wire.StateDegraded, "printer", StatePaperOut, "")
			f.at(sh(12, 1, 9, 15)).set("k03", wire.StateReady, "printer", "ok", "")
			f.at(sh(12, 1, 16, 30)).will("k03")
			f.at(sh(12, 2, 9, 30)).boot("k03")
		},
		now:   sh(12, 3, 12, 0),
		month: sh(11, 30, 23, 0),
		want:  []Availability{{Kiosk: "k03", Open: 240 * h, Ready: 30 * time.Minute, NoPaper: 30 * time.Minute}},
	}, {
		name: "across midnight and the month's start",
		feed: func(f *feed) {
			f.at(sh(11, 30, 16, 0)).boot("k03")
			f.at(sh(11, 30, 16, 30)).set("k03", wire.StateDegraded, "printer", StatePaperOut, "")
			f.at(sh(12, 1, 9, 15)).set("k03", wire.StateReady, "printer", "ok", "")
			f.at(sh(12, 1, 16, 30)).will("k03")
			f.at(sh(12, 2, 9, 30)).boot("k03")
		},
		now:   sh(12, 3, 12, 0),
		month: sh(12, 1, 0, 0),
		// Ready 09:15-16:30 on the 1st, 09:30-17:00 on the 2nd, 09:00-12:00 on the 3rd;
		// paper out 09:00-09:15 on the 1st.
		want: []Availability{{Kiosk: "k03", Open: 19 * h, Ready: 17*h + 45*time.Minute, NoPaper: 15 * time.Minute}},
	}, {
		name: "paper out while lost is not counted",
		feed: func(f *feed) {
			f.at(sh(12, 2, 8, 0)).boot("k04")
			f.at(sh(12, 2, 11, 0)).set("k04", wire.StateDegraded, "printer", StatePaperOut, "")
			f.at(sh(12, 2, 12, 0)).will("k04")
			f.at(sh(12, 2, 13, 0)).boot("k04").set("k04", wire.StateDegraded, "", "", "")
			f.at(sh(12, 2, 14, 0)).set("k04", wire.StateReady, "printer", "ok", "")
		},
		now:   sh(12, 3, 12, 0),
		month: sh(12, 3, 0, 0),
		// Ready 09:00-11:00 and 14:00-17:00 on the 2nd, 09:00-12:00 on the 3rd; paper out
		// 11:00-12:00 and 13:00-14:00.
		want: []Availability{{Kiosk: "k04", Open: 19 * h, Ready: 8 * h, NoPaper: 2 * h}},
	}, {
		name: "a lunch break and a closed weekend",
		days: map[string]string{"weekdays": "08:30-12:00,13:30-17:30", "weekend": "closed"},
		feed: func(f *feed) {
			f.at(sh(11, 30, 20, 0)).boot("k01")
			f.at(sh(12, 4, 11, 0)).will("k01")
			f.at(sh(12, 4, 14, 0)).boot("k01")
		},
		now:   sh(12, 8, 0, 0),
		month: sh(12, 1, 0, 0),
		// December 1st (a Tuesday) to 7th: five weekdays of 3.5 + 4 h; lost 11:00-12:00 and
		// 13:30-14:00 of opening time on Friday the 4th.
		want: []Availability{{Kiosk: "k01", Open: 37*h + 30*time.Minute, Ready: 36 * h}},
	}, {
		name: "a daylight saving month: March 29th has 23 hours",
		loc:  berlin,
		days: map[string]string{"weekdays": "00:00-24:00", "weekend": "00:00-24:00"},
		feed: func(f *feed) {
			f.at(time.Date(2026, 2, 28, 12, 0, 0, 0, berlin)).boot("k01")
			// 01:30 CET to 03:30 CEST is one hour.
			f.at(time.Date(2026, 3, 29, 1, 30, 0, 0, berlin)).will("k01")
			f.at(time.Date(2026, 3, 29, 3, 30, 0, 0, berlin)).boot("k01")
		},
		now:   time.Date(2026, 4, 15, 0, 0, 0, 0, berlin),
		month: time.Date(2026, 3, 1, 0, 0, 0, 0, berlin),
		want:  []Availability{{Kiosk: "k01", Open: 743 * h, Ready: 742 * h}},
	}, {
		name: "a month not begun",
		feed: func(f *feed) {
			f.at(sh(12, 2, 8, 0)).boot("k01")
		},
		now:   sh(12, 3, 12, 0),
		month: time.Date(2027, 1, 1, 0, 0, 0, 0, shanghai),
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loc := c.loc
			if loc == nil {
				loc = shanghai
			}
			o := Options{Location: loc}
			if c.days != nil {
				o.Hours = mustHours(t, loc, c.days)
			}
			f := newFeed(t, c.now, o)
			c.feed(f)
			f.sync()
			f.at(c.now)
			got, err := f.s.Month(context.Background(), c.month)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("Month:\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestAvailabilityShare(t *testing.T) {
	for _, c := range []struct {
		a    Availability
		want float64
	}{
		{Availability{Open: 8 * time.Hour, Ready: 6 * time.Hour}, 0.75},
		{Availability{}, 0},
		{Availability{Open: time.Hour, Ready: time.Hour}, 1},
	} {
		if got := c.a.Share(); got != c.want {
			t.Errorf("%+v: %v, want %v", c.a, got, c.want)
		}
	}
}

// The default hours are 09:00-17:00 in the store's zone.
func TestDefaultHours(t *testing.T) {
	f := newFeed(t, time.Date(2026, 12, 2, 12, 0, 0, 0, shanghai), Options{})
	if got := f.s.week.Within(time.Date(2026, 12, 1, 0, 0, 0, 0, shanghai), time.Date(2026, 12, 2, 0, 0, 0, 0, shanghai)); got != 8*time.Hour {
		t.Errorf("a default day: %v", got)
	}
	if !f.s.week.Open(time.Date(2026, 12, 2, 9, 0, 0, 0, shanghai)) || f.s.week.Location() != shanghai {
		t.Errorf("default hours not in the hall's zone: %v", f.s.week.Location())
	}
	w := mustHours(t, shanghai, map[string]string{"weekend": "closed"})
	s, err := Open(f.db, Options{Hours: w})
	if err != nil {
		t.Fatal(err)
	}
	if s.loc != shanghai {
		t.Errorf("zone from the hours: %v", s.loc)
	}
	if (hours.Week{}).IsZero() != true || w.IsZero() {
		t.Error("IsZero")
	}
}
