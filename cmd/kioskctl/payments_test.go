package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/citycard/psamsim"
	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/store"
)

// payFixture makes a store with one paid payment, one refused (insufficient balance) and one
// torn and flagged undecided, on 2026-11-26.
func payFixture(t *testing.T) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 26, 9, 30, 0, 0, citycard.ChinaTime)
	j, err := payment.New(payment.Options{Store: st, Now: func() time.Time { return now }, Grace: time.Nanosecond,
		Hash: func(no string) []byte { h := sha256.Sum256([]byte(no)); return h[:] }})
	if err != nil {
		t.Fatal(err)
	}
	card, _ := cardsim.New(cardsim.Sample())
	psam, _ := psamsim.New(psamsim.Sample())
	ctx := context.Background()
	paid, err := j.Pay(ctx, card, psam, payment.Request{Matter: "zh-001", AmountFen: 2000})
	if err != nil {
		t.Fatal(err)
	}
	card.Reinsert()
	j.Pay(ctx, card, psam, payment.Request{Matter: "zh-002", AmountFen: 99999})
	card.Reinsert()
	card.Inject(cardsim.Fault{On: cardsim.CmdDebit, Leave: true})
	j.Pay(ctx, card, psam, payment.Request{Matter: "zh-003", AmountFen: 1000})
	now = now.Add(time.Minute)
	if f, _, err := j.FlagOverdue(ctx); err != nil || len(f) != 1 {
		t.Fatalf("flag: %v %v", f, err)
	}
	return path, paid.Entry.TAC
}

func TestPaymentsReport(t *testing.T) {
	path, tac := payFixture(t)
	var out, errb bytes.Buffer
	code := run([]string{"payments", "-config", "/nonexistent.toml", "-store", path, "--date", "2026-11-26", "--json"}, nil, &out, &errb)
	if code != 1 {
		t.Errorf("exit %d with an undecided payment, want 1 (%s)", code, errb.String())
	}
	var r payment.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if r.Day != "2026-11-26" || r.Paid != 1 || r.TotalFen != 2000 || r.NotCharged != 1 || r.Undecided != 1 || len(r.Lines) != 3 {
		t.Fatalf("report %+v", r)
	}
	if r.Lines[0].TAC != tac || tac == "" || r.Lines[0].Card != "3104********5678" {
		t.Errorf("line %+v", r.Lines[0])
	}
	if strings.Contains(out.String(), "3104000012345678") {
		t.Error("full card number in the report")
	}

	out.Reset()
	code = run([]string{"payments", "-config", "/nonexistent.toml", "-store", path, "--date", "2026-11-26"}, nil, &out, &errb)
	txt := out.String()
	for _, want := range []string{"paid 1, total 20.00 元", "undecided 1", tac, "3104********5678", "undecided"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text report lacks %q:\n%s", want, txt)
		}
	}
	if code != 1 {
		t.Errorf("exit %d", code)
	}

	out.Reset()
	if code := run([]string{"payments", "-config", "/nonexistent.toml", "-store", path, "--date", "2026-11-25"}, nil, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "paid 0") {
		t.Errorf("empty day: %d %s", code, out.String())
	}
	if code := run([]string{"payments", "-config", "/nonexistent.toml", "-store", path, "--date", "26.11.2026"}, nil, &out, &errb); code != 1 {
		t.Errorf("bad date: exit %d", code)
	}
	if code := run([]string{"payments", "-config", "/nonexistent.toml", "-store", filepath.Join(t.TempDir(), "none.db")}, nil, &out, &errb); code != 1 {
		t.Errorf("missing store: exit %d", code)
	}
}
