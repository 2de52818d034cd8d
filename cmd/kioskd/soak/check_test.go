package soak

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The soak's checks on made-up histories: each must fail on what it is there to catch, so that
// a quiet soak means a quiet kioskd, not a blind check.

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func samBody(number string, since time.Time) []byte {
	return fmt.Appendf(nil, `{"kind":"id-card","reader":"id-reader","id":{"number":%q,"name":"x"},"since":%q}`, number, since.Format(time.RFC3339))
}

func cityBody(no string, since time.Time) []byte {
	return fmt.Appendf(nil, `{"kind":"city-card","reader":"City card reader 00 00","city":{"card_no":%q},"since":%q}`, no, since.Format(time.RFC3339))
}

func TestOracleCardChecks(t *testing.T) {
	const num = "410203199105200138"
	fresh := func() *oracle {
		o := newOracle(3 * time.Second)
		o.lineUp(srcSAM, at(0))
		o.lineUp(srcCity, at(0))
		return o
	}
	cases := []struct {
		name    string
		history func(o *oracle)
		sent    time.Time
		body    []byte
		want    string // "" for no complaint, else a piece of the complaint
	}{
		{"present", func(o *oracle) { o.place(srcSAM, num, at(1000)) }, at(2500), samBody(num, at(1900)), ""},
		{"never placed", func(*oracle) {}, at(2500), samBody(num, at(1900)), "never readable"},
		{"another card", func(o *oracle) { o.place(srcSAM, "110101199003070011", at(1000)) }, at(2500), samBody(num, at(1900)), "never readable"},
		{"removed, within the bound", func(o *oracle) { o.place(srcSAM, num, at(1000)); o.remove(srcSAM, at(2000)) }, at(4900), samBody(num, at(1500)), ""},
		{"removed, past the bound", func(o *oracle) { o.place(srcSAM, num, at(1000)); o.remove(srcSAM, at(2000)) }, at(5100), samBody(num, at(1500)), "presence ended"},
		{"reader down, past the bound", func(o *oracle) { o.place(srcSAM, num, at(1000)); o.lineDown(srcSAM, at(2000)) }, at(5100), samBody(num, at(1500)), "presence ended"},
		{"kept across an outage", func(o *oracle) {
			o.place(srcSAM, num, at(1000))
			o.lineDown(srcSAM, at(2000))
			o.lineUp(srcSAM, at(9000))
		}, at(9500), samBody(num, at(1500)), "kept across an outage"},
		{"read again after the outage", func(o *oracle) {
			o.place(srcSAM, num, at(1000))
			o.lineDown(srcSAM, at(2000))
			o.lineUp(srcSAM, at(9000))
		}, at(10500), samBody(num, at(10000)), ""},
		{"placed while the reader was down", func(o *oracle) {
			o.lineDown(srcSAM, at(500))
			o.place(srcSAM, num, at(1000))
		}, at(2000), samBody(num, at(1500)), "never readable"},
		{"city card removed", func(o *oracle) { o.place(srcCity, "3104000012345678", at(1000)); o.remove(srcCity, at(2000)) }, at(6000), cityBody("3104000012345678", at(1500)), "presence ended"},
		{"UID merged from a reader with no card", func(o *oracle) { o.place(srcSAM, num, at(1000)) }, at(2000),
			fmt.Appendf(nil, `{"kind":"id-card","reader":"id-reader","uid":"5A3C0F1E2D4B6978","id":{"number":%q},"since":%q}`, num, at(1500).Format(time.RFC3339)), "uid card"},
		{"city data on the ID reader", func(o *oracle) {}, at(2000), []byte(`{"kind":"city-card","reader":"ID card reader 00 00","city":{"card_no":"1"}}`), "city card data from reader"},
		{"unknown reader", func(o *oracle) {}, at(2000), []byte(`{"kind":"unknown","reader":"Other reader 00 00"}`), "unknown reader"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := fresh()
			c.history(o)
			got := strings.Join(o.answer(c.sent, c.sent.Add(20*time.Millisecond), 200, c.body), "; ")
			if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
			if strings.Contains(got, "410203199105200138") || strings.Contains(got, "3104000012345678") {
				t.Errorf("complaint shows a full number: %q", got)
			}
		})
	}
	o := fresh()
	if bad := o.answer(at(0), at(10), 404, []byte(`{"error":{"code":"no-card"}}`)); len(bad) != 0 {
		t.Errorf("no card: %v", bad)
	}
	if bad := o.answer(at(0), at(10), 500, []byte(`{}`)); len(bad) != 1 {
		t.Errorf("a 500 passed: %v", bad)
	}
}

func TestOracleWipes(t *testing.T) {
	o := newOracle(3 * time.Second)
	o.lineUp(srcCity, at(0))
	o.lineUp(srcSAM, at(0))

	// Forgotten: card.removed 400 ms after the card left.
	o.place(srcCity, "3104000000000001", at(1000))
	o.event("card.inserted", "City card reader 00 00", at(1300))
	o.remove(srcCity, at(2000))
	o.event("card.removed", "City card reader 00 00", at(2400))
	if late := o.overdue(at(9000)); len(late) != 0 {
		t.Errorf("a card forgotten in time is overdue: %v", late)
	}
	if w := o.wipeTimes()[srcCity]; len(w) != 1 || w[0] != 400*time.Millisecond {
		t.Errorf("wipe times %v, want [400ms]", w)
	}

	// Never forgotten: the reader went down, no event, answers not empty.
	o.place(srcSAM, "410203199105200138", at(10000))
	o.event("card.inserted", "id-reader", at(10800))
	o.lineDown(srcSAM, at(11000))
	if late := o.overdue(at(13900)); len(late) != 0 {
		t.Errorf("overdue within the bound: %v", late)
	}
	if late := o.overdue(at(14100)); len(late) != 1 || late[0].src != srcSAM {
		t.Errorf("a card kept past the bound is not overdue: %v", late)
	}

	// Forgotten as seen by GET /v1/card answering no card.
	o.lineUp(srcSAM, at(20000))
	o.event("card.inserted", "id-reader", at(20500))
	o.remove(srcSAM, at(21000))
	o.answer(at(21500), at(21520), 404, nil)
	if late := o.overdue(at(30000)); len(late) != 0 {
		t.Errorf("a card gone from GET /v1/card is overdue: %v", late)
	}

	// A card kioskd never recorded has nothing to forget.
	o.place(srcSAM, "410203199105200146", at(31000))
	o.remove(srcSAM, at(31100))
	if late := o.overdue(at(40000)); len(late) != 0 {
		t.Errorf("a card never read is overdue: %v", late)
	}
}

func TestSpreadAndFlatness(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if got := spread(ds); got != "n=100 p50=50ms p99=99ms max=100ms" {
		t.Errorf("spread: %s", got)
	}
	if got := spread(nil); got != "n=0" {
		t.Errorf("spread of none: %s", got)
	}
	series := func(f func(i int) int64) []procSample {
		var ps []procSample
		for i := range 40 {
			ps = append(ps, procSample{At: at(i * 1000), RSSKiB: f(i)})
		}
		return ps
	}
	rss := func(p procSample) int64 { return p.RSSKiB }
	level, ok := flat(series(func(i int) int64 { return 30000 + int64(i%3)*500 }), at(4000), rss)
	if !ok || !level.rssFlat() {
		t.Errorf("a level RSS fails: %+v", level)
	}
	leak, ok := flat(series(func(i int) int64 { return 30000 + int64(i)*400 }), at(4000), rss)
	if !ok || leak.rssFlat() {
		t.Errorf("a climbing RSS passes: %+v", leak)
	}
	if _, ok := flat(series(func(int) int64 { return 1 })[:5], at(0), rss); ok {
		t.Error("five samples judged")
	}
}

func TestHallZone(t *testing.T) {
	for h := range 24 {
		now := time.Date(2026, 3, 2, h, 37, 0, 0, time.UTC)
		z := hallZone(now)
		loc, err := time.LoadLocation(z)
		if err != nil {
			t.Fatalf("%s: %v", z, err)
		}
		l := now.In(loc)
		if m := l.Hour()*60 + l.Minute(); m < 11*60 || m > 13*60 {
			t.Errorf("at %s UTC, %s gives %s", now.Format("15:04"), z, l.Format("15:04"))
		}
	}
}
