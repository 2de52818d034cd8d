package wire

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidComplaintNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"TS20261207K3M9Q2":  true,
		"TS20261207000000":  true,
		"TS20261207K3M9QI":  false, // I is not Crockford
		"TS20261207K3M9QU":  false,
		"ts20261207K3M9Q2":  false, // the normal form only
		"TS20261307K3M9Q2":  false, // month 13
		"TS2026120K3M9Q2":   false,
		"TS20261207K3M9Q2X": false,
		"TS20261207 3M9Q2":  false,
		"":                  false,
	} {
		if got := ValidComplaintNumber(s); got != want {
			t.Errorf("ValidComplaintNumber(%q) = %v", s, got)
		}
	}
}

func TestParseAsk(t *testing.T) {
	for _, c := range []struct {
		name, in string
		ok       bool
	}{
		{"served", `{"id":"` + tid + `","served":{"day":"2026-12-07","ticket":"A012"},"ts":"2026-12-07T09:00:00+08:00"}`, true},
		{"complaint", `{"id":"` + tid + `","complaint":"TS20261207K3M9Q2","ts":"2026-12-07T09:00:00+08:00"}`, true},
		{"both", `{"id":"` + tid + `","served":{"day":"2026-12-07","ticket":"A012"},"complaint":"TS20261207K3M9Q2"}`, false},
		{"neither", `{"id":"` + tid + `"}`, false},
		{"bad ticket", `{"id":"` + tid + `","served":{"day":"2026-12-07","ticket":"A12"}}`, false},
		{"bad day", `{"id":"` + tid + `","served":{"day":"2026-13-07","ticket":"A012"}}`, false},
		{"bad number", `{"id":"` + tid + `","complaint":"TS2026120"}`, false},
		{"bad id", `{"id":"xyz","complaint":"TS20261207K3M9Q2"}`, false},
		{"wrong type", `{"id":"` + tid + `","complaint":12}`, false},
		{"not json", `{"id":"` + tid + `",`, false},
	} {
		a, err := ParseAsk([]byte(c.in))
		if c.ok != (err == nil) {
			t.Errorf("%s: %+v, %v", c.name, a, err)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v is not ErrMalformed", c.name, err)
		}
	}
	// A refusal keeps the id when it can be read, so that halld can answer it.
	_, err := ParseAsk([]byte(`{"id":"` + tid + `","served":{"day":"x","ticket":"A012"}}`))
	var me *MessageError
	if !errors.As(err, &me) || me.ID != tid {
		t.Errorf("refusal %v lost the id", err)
	}
}

func TestAnswerCheck(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	reply := func(f func(*ComplaintReply)) Answer {
		c := &ComplaintReply{Number: "TS20261207K3M9Q2", Category: "attitude", State: "answered", Opened: at,
			Answered: at.Add(time.Hour), Answer: "已核实并整改。\n谢谢您的监督。"}
		f(c)
		return Answer{ID: tid, Complaint: c, TS: at}
	}
	for _, c := range []struct {
		name string
		a    Answer
		ok   bool
	}{
		{"served", Answer{ID: tid, Served: &Served{Served: true, Window: "3", Ended: at}}, true},
		{"not served", Answer{ID: tid, Served: &Served{}}, true},
		{"not served with a window", Answer{ID: tid, Served: &Served{Window: "3"}}, false},
		{"error", Answer{ID: tid, Error: &GivenError{Code: AnswerNotFound, Message: "no ticket A012"}}, true},
		{"bad error code", Answer{ID: tid, Error: &GivenError{Code: "Not Found"}}, false},
		{"two answers", Answer{ID: tid, Served: &Served{}, Error: &GivenError{Code: AnswerNotFound}}, false},
		{"no answer", Answer{ID: tid}, false},
		{"complaint answered", reply(func(*ComplaintReply) {}), true},
		{"complaint open", reply(func(c *ComplaintReply) { c.State, c.Answer, c.Answered = "handling", "", time.Time{} }), true},
		{"answer without its time", reply(func(c *ComplaintReply) { c.Answered = time.Time{} }), false},
		{"answer with a control character", reply(func(c *ComplaintReply) { c.Answer = "a\x1bb" }), false},
		{"answer too long", reply(func(c *ComplaintReply) { c.Answer = strings.Repeat("答", MaxAnswerLen/3+1) }), false},
		{"bad number", reply(func(c *ComplaintReply) { c.Number = "TS1" }), false},
		{"bad state", reply(func(c *ComplaintReply) { c.State = "已答复" }), false},
	} {
		if err := c.a.Check(); c.ok != (err == nil) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func FuzzParseAsk(f *testing.F) {
	f.Add([]byte(`{"id":"` + tid + `","served":{"day":"2026-12-07","ticket":"A012"},"ts":"2026-12-07T09:00:00+08:00"}`))
	f.Add([]byte(`{"id":"` + tid + `","complaint":"TS20261207K3M9Q2"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzParse(t, b, ParseAsk)
		if a, err := ParseAsk(b); err == nil && (a.Served == nil) == (a.Complaint == "") {
			t.Fatalf("accepted %+v", a)
		}
	})
}

func FuzzParseAnswer(f *testing.F) {
	f.Add([]byte(`{"id":"` + tid + `","served":{"served":true,"window":"3","ended":"2026-12-07T09:30:00+08:00"}}`))
	f.Add([]byte(`{"id":"` + tid + `","complaint":{"number":"TS20261207K3M9Q2","state":"answered","opened":"2026-12-07T09:00:00+08:00","answered":"2026-12-08T10:00:00+08:00","answer":"已整改"}}`))
	f.Add([]byte(`{"id":"` + tid + `","error":{"code":"not-found","message":"no such ticket"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzParse(t, b, ParseAnswer)
		if a, err := ParseAnswer(b); err == nil && a.Complaint != nil && len(a.Complaint.Answer) > MaxAnswerLen {
			t.Fatalf("accepted %d bytes of answer", len(a.Complaint.Answer))
		}
	})
}
