package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	tid  = "0123456789abcdef0123456789abcdef"
	tid2 = "fedcba9876543210fedcba9876543210"
)

func TestParseNumberingTopic(t *testing.T) {
	k := Kiosk{"h1", "k01"}
	cases := []struct {
		topic string
		want  Address
		ok    bool
	}{
		{k.Topic(KindTake), Address{Kiosk: k, Kind: KindTake}, true},
		{k.Topic(KindGiven), Address{Kiosk: k, Kind: KindGiven}, true},
		{k.Topic(KindLease), Address{Kiosk: k, Kind: KindLease}, true},
		{k.Topic(KindAck), Address{Kiosk: k, Kind: KindAck}, true},
		{k.Topic(KindAsk), Address{Kiosk: k, Kind: KindAsk}, true},
		{k.Topic(KindAnswer), Address{Kiosk: k, Kind: KindAnswer}, true},
		{"citizenhome/v1/h1/controller/ask", Address{}, false},
		{QueueTopic("h1"), Address{Kiosk: Kiosk{"h1", ControllerID}, Kind: KindQueue}, true},
		{"citizenhome/v1/h1/controller/lease", Address{}, false},
		{"citizenhome/v1/h1/controller/ticket/take", Address{}, false},
		{"citizenhome/v1/h1/k01/queue", Address{}, false},
		{"citizenhome/v1/h1/k01/ticket", Address{}, false},
		{"citizenhome/v1/h1/k01/ticket/take/x", Address{}, false},
		{"citizenhome/v1/h1/k01/ticket/other", Address{}, false},
		{"citizenhome/v1/h1/k01/event", Address{}, false},
		{"citizenhome/v1/H1/k01/lease", Address{}, false},
		{"citizenhome/v2/h1/k01/lease", Address{}, false},
		{"citizenhome/v1/h1/+/ticket/take", Address{}, false},
		{"", Address{}, false},
	}
	for _, c := range cases {
		got, err := ParseNumberingTopic(c.topic)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseNumberingTopic(%q) = %+v, %v", c.topic, got, err)
		}
		if !c.ok && !errors.Is(err, ErrTopic) {
			t.Errorf("ParseNumberingTopic(%q): %v is not ErrTopic", c.topic, err)
		}
		// The contract's parser keeps refusing them, so older readers never see them.
		if c.ok {
			if _, err := ParseTopic(c.topic); err == nil {
				t.Errorf("ParseTopic accepted the numbering topic %q", c.topic)
			}
		}
	}
	if TakeFilter("h1") != "citizenhome/v1/h1/+/ticket/take" || EventFilter("h1") != "citizenhome/v1/h1/+/event" ||
		QueueTopic("h1") != "citizenhome/v1/h1/controller/queue" || k.Topic(KindTake) != "citizenhome/v1/h1/k01/ticket/take" {
		t.Error("names")
	}
}

func TestTicketCode(t *testing.T) {
	for _, c := range []struct {
		s      string
		letter string
		n      int
	}{{"A001", "A", 1}, {"Z999", "Z", 999}, {"B1000", "B", 1000}, {"C9999", "C", 9999}} {
		l, n, ok := ParseTicketCode(c.s)
		if !ok || l != c.letter || n != c.n || TicketCode(l, n) != c.s {
			t.Errorf("ParseTicketCode(%q) = %q %d %v", c.s, l, n, ok)
		}
	}
	for _, bad := range []string{"", "A", "A1", "A12", "a012", "A0012", "A000", "A10000", "AA12", "A-12", "A+12", "A 12", "1012", "A01٣"} {
		if _, _, ok := ParseTicketCode(bad); ok {
			t.Errorf("ParseTicketCode(%q) accepted", bad)
		}
	}
	for _, d := range []string{"2026-12-07", "2028-02-29"} {
		if !ValidDay(d) {
			t.Errorf("ValidDay(%q) refused", d)
		}
	}
	for _, d := range []string{"", "2026-12-7", "2026-13-01", "2027-02-29", "2026-12-07T00:00:00Z", "26-12-07"} {
		if ValidDay(d) {
			t.Errorf("ValidDay(%q) accepted", d)
		}
	}
	if !ValidLookup("7K3M9Q2D1C") || ValidLookup("7K3M9Q2D1I") || ValidLookup("7k3m9q2d1c") || ValidLookup("7K3M9Q2D1") {
		t.Error("ValidLookup")
	}
	if !ValidID(tid) || ValidID(strings.ToUpper(tid)) || ValidID(tid[1:]) || ValidID(tid+"0") {
		t.Error("ValidID")
	}
}

// mustBad checks that parse refuses b with a *MessageError matching ErrMalformed, carrying id.
func mustBad[T any](t *testing.T, name string, parse func([]byte) (T, error), b, id string) {
	t.Helper()
	_, err := parse([]byte(b))
	var me *MessageError
	if !errors.As(err, &me) || !errors.Is(err, ErrMalformed) {
		t.Errorf("%s(%.80s) = %v, want a MessageError", name, b, err)
		return
	}
	if me.ID != id {
		t.Errorf("%s(%.80s): id %q, want %q", name, b, me.ID, id)
	}
}

func TestParseTake(t *testing.T) {
	exp := "2026-12-07T09:00:00.8+08:00"
	ok := `{"id":"` + tid + `","day":"2026-12-07","category":"A","priority":true,"reason":"elder","matter":"crj-004","section":"二区","expires":"` + exp + `","extra":1}`
	tk, err := ParseTake([]byte(ok))
	if err != nil || tk.ID != tid || tk.Day != "2026-12-07" || tk.Category != "A" || !tk.Priority || tk.Reason != "elder" ||
		tk.Matter != "crj-004" || tk.Section != "二区" || tk.Expires.IsZero() {
		t.Fatalf("ParseTake = %+v, %v", tk, err)
	}
	b, _ := json.Marshal(tk)
	if back, err := ParseTake(b); err != nil || back.ID != tk.ID || !back.Expires.Equal(tk.Expires) {
		t.Errorf("round trip: %+v %v", back, err)
	}
	with := func(k, v string) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(ok), &m)
		if v == "" {
			delete(m, k)
		} else {
			var x any
			_ = json.Unmarshal([]byte(v), &x)
			m[k] = x
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	mustBad(t, "ParseTake", ParseTake, `[]`, "")
	mustBad(t, "ParseTake", ParseTake, `{"id":"`+tid+`","day":5}`, tid)
	mustBad(t, "ParseTake", ParseTake, with("id", `"x"`), "")
	mustBad(t, "ParseTake", ParseTake, with("id", ""), "")
	mustBad(t, "ParseTake", ParseTake, with("day", `"2026-12-32"`), tid)
	mustBad(t, "ParseTake", ParseTake, with("category", `"a"`), tid)
	mustBad(t, "ParseTake", ParseTake, with("category", `"AB"`), tid)
	mustBad(t, "ParseTake", ParseTake, with("reason", ""), tid)
	mustBad(t, "ParseTake", ParseTake, with("reason", `"Elder"`), tid)
	mustBad(t, "ParseTake", ParseTake, with("priority", `false`), tid)
	mustBad(t, "ParseTake", ParseTake, with("matter", `"`+strings.Repeat("m", 129)+`"`), tid)
	mustBad(t, "ParseTake", ParseTake, with("section", `"a\u0007"`), tid)
	mustBad(t, "ParseTake", ParseTake, with("expires", ""), tid)
	mustBad(t, "ParseTake", ParseTake, with("expires", `"soon"`), tid)
	mustBad(t, "ParseTake", ParseTake, string(make([]byte, MaxPayloadLen+1)), "")
}

func TestParseGiven(t *testing.T) {
	ok := `{"id":"` + tid + `","ok":true,"day":"2026-12-07","code":"A012","number":12,"lookup":"7K3M9Q2D1C","ahead":3,"eta_s":240,"ts":"2026-12-07T09:00:00+08:00"}`
	g, err := ParseGiven([]byte(ok))
	if err != nil || !g.OK || g.Code != "A012" || g.Number != 12 || g.Lookup != "7K3M9Q2D1C" || g.Ahead != 3 || g.ETAS != 240 {
		t.Fatalf("ParseGiven = %+v, %v", g, err)
	}
	no := `{"id":"` + tid + `","ok":false,"error":{"code":"unknown-category","message":"no category Q"},"ts":"2026-12-07T09:00:00+08:00"}`
	if g, err := ParseGiven([]byte(no)); err != nil || g.OK || g.Error.Code != "unknown-category" {
		t.Fatalf("ParseGiven(refusal) = %+v, %v", g, err)
	}
	for _, b := range []string{
		strings.Replace(ok, `"number":12`, `"number":13`, 1),
		strings.Replace(ok, `"A012"`, `"A12"`, 1),
		strings.Replace(ok, `"7K3M9Q2D1C"`, `"7K3M9Q2D1"`, 1),
		strings.Replace(ok, `"ahead":3`, `"ahead":-1`, 1),
		strings.Replace(ok, `"eta_s":240`, `"eta_s":-5`, 1),
		strings.Replace(ok, `"day":"2026-12-07"`, `"day":""`, 1),
		strings.Replace(ok, `"ts"`, `"error":{"code":"x","message":""},"ts"`, 1),
		strings.Replace(no, `"unknown-category"`, `"Unknown"`, 1),
		strings.Replace(no, `,"error":{"code":"unknown-category","message":"no category Q"}`, ``, 1),
	} {
		mustBad(t, "ParseGiven", ParseGiven, b, tid)
	}
	mustBad(t, "ParseGiven", ParseGiven, strings.Replace(ok, tid, "nothex", 1), "")
	mustBad(t, "ParseGiven", ParseGiven, `{"id":"`+tid+`","ok":"yes"}`, tid)
}

func TestParseLease(t *testing.T) {
	ok := `{"days":{"2026-12-07":{"A":[999,998],"B":[]},"2026-12-08":{"A":[999]}},"ts":"2026-12-07T09:00:00+08:00"}`
	l, err := ParseLease([]byte(ok))
	if err != nil || len(l.Days) != 2 || len(l.Days["2026-12-07"]["A"]) != 2 || l.Days["2026-12-08"]["A"][0] != 999 {
		t.Fatalf("ParseLease = %+v, %v", l, err)
	}
	if l, err := ParseLease([]byte(`{"days":{},"ts":"2026-12-07T09:00:00+08:00"}`)); err != nil || len(l.Days) != 0 {
		t.Errorf("empty lease: %+v %v", l, err)
	}
	many := make([]int, MaxLeasePerCategory+1)
	for i := range many {
		many[i] = i + 1
	}
	mb, _ := json.Marshal(map[string]any{"days": map[string]any{"2026-12-07": map[string]any{"A": many}}})
	for _, b := range []string{
		`{"days":{"2026-12-7":{"A":[999]}}}`,
		`{"days":{"2026-12-07":{"a":[999]}}}`,
		`{"days":{"2026-12-07":{"A":[0]}}}`,
		`{"days":{"2026-12-07":{"A":[10000]}}}`,
		`{"days":{"2026-12-07":{"A":[5,5]}}}`,
		`{"days":{"2026-12-07":{"A":[1.5]}}}`,
		`{"days":{"2026-12-07":{"A":"999"}}}`,
		`{"days":{"2026-12-01":{},"2026-12-02":{},"2026-12-03":{},"2026-12-04":{},"2026-12-05":{}}}`,
		`{"days":[]}`,
		string(mb),
	} {
		mustBad(t, "ParseLease", ParseLease, b, "")
	}
}

func TestParseAck(t *testing.T) {
	a, err := ParseAck([]byte(`{"ids":["` + tid + `","` + tid2 + `"]}`))
	if err != nil || len(a.IDs) != 2 || a.IDs[1] != tid2 {
		t.Fatalf("ParseAck = %+v, %v", a, err)
	}
	ids := make([]string, MaxAckIDs+1)
	for i := range ids {
		ids[i] = tid
	}
	big, _ := json.Marshal(Ack{IDs: ids})
	for _, b := range []string{`{}`, `{"ids":[]}`, `{"ids":["x"]}`, `{"ids":["` + tid + `",5]}`, `{"ids":"` + tid + `"}`, string(big)} {
		mustBad(t, "ParseAck", ParseAck, b, "")
	}
}

func TestParseQueueState(t *testing.T) {
	ok := `{"day":"2026-12-07","ts":"2026-12-07T09:00:00+08:00","categories":[{"letter":"A","waiting":12,"waiting_priority":2,"last_called":"A007","avg_service_s":360,"eta_next_s":240},{"letter":"B","waiting":0,"waiting_priority":0,"last_called":"","avg_service_s":0,"eta_next_s":0}]}`
	q, err := ParseQueueState([]byte(ok))
	if err != nil || len(q.Categories) != 2 {
		t.Fatalf("ParseQueueState = %+v, %v", q, err)
	}
	if c, found := q.Category("A"); !found || c.Waiting != 12 || c.WaitingPriority != 2 || c.ETANextS != 240 {
		t.Errorf("Category(A) = %+v %v", c, found)
	}
	if _, found := q.Category("C"); found {
		t.Error("Category(C) found")
	}
	for _, b := range []string{
		strings.Replace(ok, `"day":"2026-12-07"`, `"day":"x"`, 1),
		strings.Replace(ok, `"ts":"2026-12-07T09:00:00+08:00",`, ``, 1),
		strings.Replace(ok, `"letter":"B"`, `"letter":"A"`, 1),
		strings.Replace(ok, `"waiting":12`, `"waiting":1`, 1),
		strings.Replace(ok, `"waiting":12`, `"waiting":-1`, 1),
		strings.Replace(ok, `"A007"`, `"A7"`, 1),
		strings.Replace(ok, `"eta_next_s":240`, `"eta_next_s":-1`, 1),
	} {
		mustBad(t, "ParseQueueState", ParseQueueState, b, "")
	}
}

func TestParseTicketIssued(t *testing.T) {
	given := `{"ticket":"A012","day":"2026-12-07","category":"A","priority":false,"waiting_ahead":3,"estimated_wait_s":240,"take":"` + tid + `","number":12,"lookup":"7K3M9Q2D1C","issued_at":"2026-12-07T09:00:00+08:00"}`
	ti, err := ParseTicketIssued([]byte(given))
	if err != nil || ti.Take != tid || ti.Lease || ti.Number != 12 || ti.IssuedAt.IsZero() {
		t.Fatalf("given ticket: %+v %v", ti, err)
	}
	leased := `{"ticket":"B999","day":"2026-12-07","category":"B","priority":true,"priority_reason":"urgent","matter":"crj-004","waiting_ahead":0,"estimated_wait_s":0,"lease":true,"number":999,"lookup":"7K3M9Q2D1C","issued_at":"2026-12-07T09:00:00+08:00","abandoned":["` + tid + `"]}`
	if ti, err := ParseTicketIssued([]byte(leased)); err != nil || !ti.Lease || ti.Abandoned[0] != tid || ti.PriorityReason != "urgent" {
		t.Fatalf("lease ticket: %+v %v", ti, err)
	}
	// Today's events (no controller) carry none of the additions and still parse.
	plain := `{"ticket":"A001","day":"2026-12-07","category":"A","priority":false,"waiting_ahead":0,"estimated_wait_s":0}`
	if _, err := ParseTicketIssued([]byte(plain)); err != nil {
		t.Fatalf("plain ticket: %v", err)
	}
	b, _ := json.Marshal(TicketIssued{Ticket: "A001", Day: "2026-12-07", Category: "A"})
	if strings.Contains(string(b), "issued_at") || strings.Contains(string(b), "take") || strings.Contains(string(b), "abandoned") {
		t.Errorf("the additions are not omitted when empty: %s", b)
	}
	for _, bad := range []string{
		strings.Replace(plain, `"A001"`, `"A1"`, 1),
		strings.Replace(plain, `"category":"A"`, `"category":"B"`, 1),
		strings.Replace(plain, `"day":"2026-12-07"`, `"day":"today"`, 1),
		strings.Replace(plain, `"priority":false`, `"priority":true`, 1),
		strings.Replace(plain, `"priority":false`, `"priority":false,"priority_reason":"elder"`, 1),
		strings.Replace(plain, `"waiting_ahead":0`, `"waiting_ahead":-2`, 1),
		strings.Replace(given, `"take":"`+tid+`"`, `"take":"abc"`, 1),
		strings.Replace(given, `"number":12`, `"number":13`, 1),
		strings.Replace(given, `"7K3M9Q2D1C"`, `"lowercase12"`, 1),
		strings.Replace(given, `"take":"`+tid+`"`, `"take":"`+tid+`","lease":true`, 1),
		strings.Replace(leased, `"number":999,`, ``, 1),
		strings.Replace(leased, `"lookup":"7K3M9Q2D1C",`, ``, 1),
		strings.Replace(leased, `,"issued_at":"2026-12-07T09:00:00+08:00"`, ``, 1),
		strings.Replace(leased, `["`+tid+`"]`, `["x"]`, 1),
		strings.Replace(given, `"number":12`, `"number":12,"abandoned":["`+tid+`"]`, 1),
		strings.Replace(plain, `"category":"A"`, `"category":"A","matter":"`+strings.Repeat("m", 129)+`"`, 1),
	} {
		mustBad(t, "ParseTicketIssued", ParseTicketIssued, bad, "")
	}
}

func TestParseEvent(t *testing.T) {
	ok := `{"id":"` + tid + `","seq":3,"boot":2,"ts":"2026-12-07T09:00:00+08:00","type":"ticket.issued","data":{"ticket":"A001"}}`
	e, err := ParseEvent([]byte(ok))
	if err != nil || e.ID != tid || e.Type != EventTicketIssued || string(e.Data) != `{"ticket":"A001"}` {
		t.Fatalf("ParseEvent = %+v, %v", e, err)
	}
	mustBad(t, "ParseEvent", ParseEvent, strings.Replace(ok, tid, "e1", 1), "")
	mustBad(t, "ParseEvent", ParseEvent, strings.Replace(ok, `"ticket.issued"`, `""`, 1), tid)
	mustBad(t, "ParseEvent", ParseEvent, strings.Replace(ok, `{"ticket":"A001"}`, `[1]`, 1), tid)
	mustBad(t, "ParseEvent", ParseEvent, strings.Replace(ok, `"data":{"ticket":"A001"}`, `"data":null`, 1), tid)
	mustBad(t, "ParseEvent", ParseEvent, strings.Replace(ok, `"seq":3`, `"seq":"3"`, 1), tid)
}

// fuzzParse runs parse on b: an accepted message must pass its own Check again after a JSON
// round trip (the parser accepts nothing its type would refuse to write), and a refusal must be
// a MessageError.
func fuzzParse[T interface{ Check() error }](t *testing.T, b []byte, parse func([]byte) (T, error)) {
	v, err := parse(b)
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v is not a MessageError", err)
		}
		return
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("accepted %q, which does not marshal: %v", b, err)
	}
	back, err := parse(out)
	if err != nil {
		t.Fatalf("accepted %q, but not its own marshalling %s: %v", b, out, err)
	}
	if err := back.Check(); err != nil {
		t.Fatalf("round trip of %q fails Check: %v", b, err)
	}
}

func FuzzParseTake(f *testing.F) {
	f.Add([]byte(`{"id":"` + tid + `","day":"2026-12-07","category":"A","priority":true,"reason":"elder","matter":"crj-004","expires":"2026-12-07T09:00:00.8+08:00"}`))
	f.Add([]byte(`{"id":"` + tid + `","day":"2026-12-07","category":"Z","priority":false,"expires":"2026-12-07T09:00:00Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzParse(t, b, ParseTake)
		if tk, err := ParseTake(b); err == nil && (!ValidID(tk.ID) || !ValidLetter(tk.Category) || !ValidDay(tk.Day)) {
			t.Fatalf("accepted %+v", tk)
		}
	})
}

func FuzzParseGiven(f *testing.F) {
	f.Add([]byte(`{"id":"` + tid + `","ok":true,"day":"2026-12-07","code":"A012","number":12,"lookup":"7K3M9Q2D1C","ahead":3,"eta_s":240,"ts":"2026-12-07T09:00:00+08:00"}`))
	f.Add([]byte(`{"id":"` + tid + `","ok":false,"error":{"code":"numbers-exhausted","message":"全部用完"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzParse(t, b, ParseGiven)
		if g, err := ParseGiven(b); err == nil && g.OK {
			if _, n, ok := ParseTicketCode(g.Code); !ok || n != g.Number || !ValidLookup(g.Lookup) {
				t.Fatalf("accepted %+v", g)
			}
		}
	})
}

func FuzzParseLease(f *testing.F) {
	f.Add([]byte(`{"days":{"2026-12-07":{"A":[999,998],"B":[]},"2026-12-08":{"A":[999]}},"ts":"2026-12-07T09:00:00+08:00"}`))
	f.Add([]byte(`{"days":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzParse(t, b, ParseLease)
		if l, err := ParseLease(b); err == nil {
			for day, cats := range l.Days {
				for letter, ns := range cats {
					if !ValidDay(day) || !ValidLetter(letter) {
						t.Fatalf("accepted %s %s", day, letter)
					}
					for _, n := range ns {
						if n < 1 || n > MaxTicketNumber {
							t.Fatalf("accepted number %d", n)
						}
					}
				}
			}
		}
	})
}

func FuzzParseAck(f *testing.F) {
	f.Add([]byte(`{"ids":["` + tid + `","` + tid2 + `"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzParse(t, b, ParseAck)
		if a, err := ParseAck(b); err == nil {
			for _, id := range a.IDs {
				if !ValidID(id) {
					t.Fatalf("accepted id %q", id)
				}
			}
		}
	})
}

func FuzzParseQueueState(f *testing.F) {
	f.Add([]byte(`{"day":"2026-12-07","ts":"2026-12-07T09:00:00+08:00","categories":[{"letter":"A","waiting":12,"waiting_priority":2,"last_called":"A007","avg_service_s":360,"eta_next_s":240}]}`))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzParse(t, b, ParseQueueState) })
}

func FuzzParseTicketIssued(f *testing.F) {
	f.Add([]byte(`{"ticket":"A012","day":"2026-12-07","category":"A","priority":false,"waiting_ahead":3,"estimated_wait_s":240,"take":"` + tid + `","number":12,"lookup":"7K3M9Q2D1C","issued_at":"2026-12-07T09:00:00+08:00"}`))
	f.Add([]byte(`{"ticket":"B999","day":"2026-12-07","category":"B","priority":true,"priority_reason":"urgent","waiting_ahead":0,"estimated_wait_s":0,"lease":true,"number":999,"lookup":"7K3M9Q2D1C","issued_at":"2026-12-07T09:00:00+08:00","abandoned":["` + tid + `"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzParse(t, b, ParseTicketIssued)
		if ti, err := ParseTicketIssued(b); err == nil {
			if l, _, ok := ParseTicketCode(ti.Ticket); !ok || l != ti.Category || ti.Lease && ti.Take != "" {
				t.Fatalf("accepted %+v", ti)
			}
		}
	})
}

func FuzzParseNumberingTopic(f *testing.F) {
	f.Add("citizenhome/v1/h1/k01/ticket/take")
	f.Add("citizenhome/v1/h1/controller/queue")
	f.Add("citizenhome/v1/h1/k01/lease")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseNumberingTopic(s)
		if err != nil {
			return
		}
		want := a.Kiosk.Topic(a.Kind)
		if a.Controller() {
			want = QueueTopic(a.Hall)
		}
		if want != s || !ValidName(a.Hall) {
			t.Fatalf("%q parsed to %+v, which names %q", s, a, want)
		}
	})
}

func TestStampedTimesSurvive(t *testing.T) {
	// Given/Take times go through Stamp like every contract time: milliseconds, with an offset.
	loc := time.FixedZone("CST", 8*3600)
	tk := Take{ID: tid, Day: "2026-12-07", Category: "A", Expires: Stamp(time.Date(2026, 12, 7, 1, 0, 0, 123456789, time.UTC), loc)}
	b, _ := json.Marshal(tk)
	if !strings.Contains(string(b), `"expires":"2026-12-07T09:00:00.123+08:00"`) {
		t.Errorf("take marshals as %s", b)
	}
}
