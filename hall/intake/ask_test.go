package intake_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"citizenhome/hall/followup"
	"citizenhome/hall/intake"
	"citizenhome/hall/ledger/ledgertest"
	"citizenhome/hall/line"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// replies is a fake of the work orders: one complaint, answered.
type replies map[string]followup.Reply

func (r replies) Reply(_ context.Context, number string) (followup.Reply, error) {
	if re, ok := r[number]; ok {
		return re, nil
	}
	return followup.Reply{}, followup.ErrNotFound
}

// TestAsksOverMosquitto: a kiosk asks whether tickets were served and where a complaint stands;
// halld answers each under its id, at once, and refuses a malformed question by its id.
func TestAsksOverMosquitto(t *testing.T) {
	env := mqtttest.NewEnv("ia", "k1")
	m := mqtttest.StartMosquitto(t, env)
	db := ledgertest.Open(t, line.Migrations, intake.Migrations)
	loc := line.DefaultLocation()
	ctx := context.Background()
	q, err := line.Open(ctx, db, line.Config{
		Categories: []line.Category{{Letter: "A", Name: "综合"}},
		Windows:    []line.Window{{ID: "7", Categories: []string{"A"}}},
		Rules:      line.Rules{LeaseSize: 1}, Location: loc,
	})
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Date(2026, 12, 1, 10, 0, 0, 0, loc)
	const number = "TS20261201K3M9Q2"
	rs := replies{number: {Number: number, Category: "attitude", State: followup.Answered, Opened: opened,
		Answered: opened.Add(50 * time.Hour), Answer: "已核实，窗口人员已批评教育。\n感谢监督。"}}
	in, err := intake.Start(ctx, intake.Options{
		Link: m.Settings(env.ControllerUser, env.ControllerPassword, ""), Hall: "ia",
		Queue: q, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Location: loc, Replies: rs,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()

	// Two printed tickets; the first served at window 7, the second waiting.
	issue := func(id int) line.Ticket {
		tk, _, err := q.Take(ctx, "k1", line.Take{ID: hexID(id), Category: "A"})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Issued(ctx, "k1", line.Issued{Take: hexID(id), Day: tk.Day, Code: tk.Code, Lookup: tk.Lookup}); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	a1, a2 := issue(1), issue(2)
	for _, step := range []func(context.Context, string, string) (line.Ticket, error){q.Next, q.Done} {
		if _, err := step(ctx, "7", "anna"); err != nil {
			t.Fatal(err)
		}
	}

	k := newKiosk(t, m, "k1")
	if tok := k.cl.Subscribe(k.id.Topic(wire.KindAnswer), 1, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	k.wait("controller", func(b []byte) bool { return strings.Contains(string(b), `"online":true`) })
	answer := func(id int, ask any) wire.Answer {
		t.Helper()
		k.publish(wire.KindAsk, false, ask)
		b := k.wait(wire.KindAnswer, func(b []byte) bool { return strings.Contains(string(b), hexID(id)) })
		a, err := wire.ParseAnswer(b)
		if err != nil {
			t.Fatalf("answer %s: %v", b, err)
		}
		return a
	}
	served := func(id int, day, code string) wire.Answer {
		return answer(id, wire.Ask{ID: hexID(id), Served: &wire.AskServed{Day: day, Ticket: code}, TS: time.Now()})
	}

	if a := served(11, a1.Day, a1.Code); a.Served == nil || !a.Served.Served || a.Served.Window != "7" || a.Served.Ended.IsZero() {
		t.Errorf("served ticket: %+v %+v", a, a.Served)
	}
	if a := served(12, a2.Day, a2.Code); a.Served == nil || a.Served.Served {
		t.Errorf("waiting ticket: %+v %+v", a, a.Served)
	}
	if a := served(13, a2.Day, "A999"); a.Error == nil || a.Error.Code != wire.AnswerNotFound {
		t.Errorf("unknown ticket: %+v", a)
	}
	c := answer(14, wire.Ask{ID: hexID(14), Complaint: number, TS: time.Now()})
	if c.Complaint == nil || c.Complaint.State != "answered" || !strings.Contains(c.Complaint.Answer, "感谢监督") ||
		!c.Complaint.Answered.Equal(opened.Add(50*time.Hour)) {
		t.Errorf("complaint: %+v %+v", c, c.Complaint)
	}
	if a := answer(15, wire.Ask{ID: hexID(15), Complaint: "TS20261201AAAAAA"}); a.Error == nil || a.Error.Code != wire.AnswerNotFound {
		t.Errorf("unknown complaint: %+v", a)
	}
	// A malformed question that names its id is answered with the refusal.
	bad, _ := json.Marshal(map[string]any{"id": hexID(16), "served": map[string]string{"day": "tomorrow", "ticket": "A001"}})
	k.publish(wire.KindAsk, false, json.RawMessage(bad))
	b := k.wait(wire.KindAnswer, func(b []byte) bool { return strings.Contains(string(b), hexID(16)) })
	if a, err := wire.ParseAnswer(b); err != nil || a.Error == nil || a.Error.Code != wire.AnswerInvalid {
		t.Errorf("malformed ask: %s, %v", b, err)
	}
	if n := in.Counts(); n.Asks != 5 || n.Rejected != 1 {
		t.Errorf("counts %+v", n)
	}
}
