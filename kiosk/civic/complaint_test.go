package civic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"citizenhome/telemetry/wire"
)

func TestSubmitComplaint(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	for name, c := range map[string]Complaint{
		"unknown category": {Category: "noise", Text: "太吵"},
		"empty text":       {Category: CategoryOther, Text: "  \n "},
		"too long":         {Category: CategoryOther, Text: strings.Repeat("长", MaxComplaintText+1)},
		"control":          {Category: CategoryOther, Text: "a\x1bb"},
		"short phone":      {Category: CategoryOther, Text: "x", Phone: "12345"},
		"letters in phone": {Category: CategoryOther, Text: "x", Phone: "138abc38000"},
	} {
		if _, err := r.svc.Submit(ctx, c, Identity{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := count(t, r.st, "hall_complaint"); n != 0 {
		t.Fatalf("%d invalid complaints stored", n)
	}
	text := "3号窗口工作人员态度生硬，\n没有一次性告知需要的材料。"
	sub, err := r.svc.Submit(ctx, Complaint{Category: CategoryAttitude, Text: text, Phone: "138-0013-8000"}, Identity{IDNumber: idZhang})
	if err != nil {
		t.Fatal(err)
	}
	if !reComplaintNo.MatchString(sub.Number) || !strings.HasPrefix(sub.Number, "TS20261126") || !sub.At.Equal(at("2026-11-26 09:00")) {
		t.Errorf("submitted %+v", sub)
	}
	anon, err := r.svc.Submit(ctx, Complaint{Category: CategoryFacility, Text: "打印机没纸"}, Identity{})
	if err != nil {
		t.Fatal(err)
	}
	if anon.Number == sub.Number {
		t.Error("two complaints, one number")
	}
	// The event carries number, category and time, nothing else.
	ev := r.sink.list()
	if len(ev) != 2 || ev[0].typ != wire.EventComplaint {
		t.Fatalf("events %+v", ev)
	}
	b, _ := json.Marshal(ev[0].data)
	if want := `{"number":"` + sub.Number + `","category":"attitude","ts":"2026-11-26T09:00:00+08:00"}`; string(b) != want {
		t.Errorf("event %s, want %s", b, want)
	}
	// Sealed at rest.
	var sealedText, sealedPhone, person []byte
	r.st.DB().QueryRow(`SELECT text, phone, person_hash FROM hall_complaint WHERE number = ?`, sub.Number).Scan(&sealedText, &sealedPhone, &person)
	if bytes.Contains(sealedText, []byte("窗口")) || bytes.Contains(sealedPhone, []byte("0013")) || len(sealedPhone) == 0 {
		t.Error("complaint text or phone stored in clear")
	}
	if !bytes.Equal(person, r.key.hash(kindID, idZhang)) {
		t.Error("complaint not filed under the person's hash")
	}
	var phone any
	r.st.DB().QueryRow(`SELECT phone FROM hall_complaint WHERE number = ?`, anon.Number).Scan(&phone)
	if phone != nil {
		t.Errorf("no phone given, %v stored", phone)
	}
	// The complaint office reads them back.
	var out bytes.Buffer
	n, err := r.svc.ExportComplaints(ctx, &out, at("2026-11-01"))
	if err != nil || n != 2 {
		t.Fatalf("export: %d %v", n, err)
	}
	var first ExportedComplaint
	dec := json.NewDecoder(strings.NewReader(out.String()))
	for dec.More() {
		var e ExportedComplaint
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		if e.Number == sub.Number {
			first = e
		}
	}
	if first.Text != text || first.Phone != "13800138000" || first.State != "submitted" || first.Category != "attitude" {
		t.Errorf("exported %+v", first)
	}
	// A store moved to another key cannot be read and says so.
	other := newRig(t, nil)
	other.svc.st, other.svc.key = r.st, mustKey(t, 7)
	if _, err := other.svc.ExportComplaints(ctx, &bytes.Buffer{}, time.Time{}); !errors.Is(err, ErrKey) {
		t.Errorf("export with another key: %v", err)
	}
}

func mustKey(t *testing.T, b byte) *Key {
	k, err := NewKey(bytes.Repeat([]byte{b}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The hall's status updates, pushed by import, show at the progress lookup: by number, and in
// the complainant's own lookup; numbers filed at other kiosks show their status only.
func TestComplaintStatusAtProgress(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	sub, err := r.svc.Submit(ctx, Complaint{Category: CategoryEfficiency, Text: "等了两个小时"}, Identity{CityCard: cardLi})
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.svc.Progress(ctx, Query{Code: "citizenhome:lookup:" + sub.Number})
	if err != nil || len(p.Complaints) != 1 {
		t.Fatalf("%+v %v", p, err)
	}
	c := p.Complaints[0]
	if c.State != ComplaintSubmitted || c.Category != CategoryEfficiency || !c.Updated.Equal(sub.At) || c.State.Label().Zh != "已提交" {
		t.Errorf("before the hall answers: %+v", c)
	}
	r.clock.Set(at("2026-11-28 10:00"))
	r.importJSON(t, obj{"complaints": []obj{
		{"number": sub.Number, "status": "已办结", "reply": "已约谈窗口负责人，增开窗口", "updated": "2026-11-28T09:00:00+08:00"},
		{"number": "TS20261120ABCDEF", "status": "processing", "updated": "2026-11-21T10:00:00+08:00"},
	}})
	p, err = r.svc.Progress(ctx, Query{Code: strings.ToLower(sub.Number)})
	if err != nil {
		t.Fatal(err)
	}
	c = p.Complaints[0]
	if c.State != ComplaintResolved || c.Reply != "已约谈窗口负责人，增开窗口" || !c.Updated.Equal(at("2026-11-28 09:00")) || c.Category != CategoryEfficiency {
		t.Errorf("after the hall's answer: %+v", c)
	}
	p, err = r.svc.Progress(ctx, Query{Who: Identity{CityCard: cardLi}})
	if err != nil || len(p.Complaints) != 1 || p.Complaints[0].Number != sub.Number || p.Complaints[0].State != ComplaintResolved {
		t.Errorf("in the complainant's lookup: %+v %v", p, err)
	}
	if p, _ := r.svc.Progress(ctx, Query{Who: Identity{IDNumber: idZhang}}); len(p.Complaints) != 0 {
		t.Error("another person sees the complaint")
	}
	p, err = r.svc.Progress(ctx, Query{Code: "TS20261120ABCDEF"})
	if err != nil || p.Complaints[0].State != ComplaintProcessing || p.Complaints[0].Category != "" || !p.Complaints[0].Submitted.IsZero() {
		t.Errorf("filed elsewhere: %+v %v", p, err)
	}
}

// The hall controller's word on a complaint is kept like an import's, when at least as new, and
// refused whole when out of shape.
func TestKeepReply(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	sub, err := r.svc.Submit(ctx, Complaint{Category: CategoryAttitude, Text: "态度冷淡"}, Identity{})
	if err != nil {
		t.Fatal(err)
	}
	answered := sub.At.Add(30 * time.Hour)
	long := strings.Repeat("答", maxHallReply+1)
	for name, re := range map[string]HallReply{
		"bad number":      {Number: "TS1", State: ComplaintResolved, Updated: answered},
		"submitted":       {Number: sub.Number, State: ComplaintSubmitted, Updated: answered},
		"unknown state":   {Number: sub.Number, State: "lost", Updated: answered},
		"too long":        {Number: sub.Number, State: ComplaintResolved, Reply: long, Updated: answered},
		"control":         {Number: sub.Number, State: ComplaintResolved, Reply: "a\x00b", Updated: answered},
		"without a time":  {Number: sub.Number, State: ComplaintResolved, Reply: "好"},
		"invalid unicode": {Number: sub.Number, State: ComplaintResolved, Reply: "\xff", Updated: answered},
	} {
		if err := r.svc.KeepReply(ctx, re); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	status := func() ComplaintStatus {
		t.Helper()
		p, err := r.svc.Progress(ctx, Query{Code: sub.Number})
		if err != nil {
			t.Fatal(err)
		}
		return p.Complaints[0]
	}
	if c := status(); c.State != ComplaintSubmitted {
		t.Fatalf("a refused reply was kept: %+v", c)
	}
	reply := "已核实。\n\t窗口人员已整改。"
	if err := r.svc.KeepReply(ctx, HallReply{Number: sub.Number, State: ComplaintResolved, Reply: reply, Updated: answered}); err != nil {
		t.Fatal(err)
	}
	if c := status(); c.State != ComplaintResolved || c.Reply != reply || !c.Updated.Equal(answered) || c.Category != CategoryAttitude {
		t.Errorf("kept: %+v", c)
	}
	if err := r.svc.KeepReply(ctx, HallReply{Number: sub.Number, State: ComplaintAccepted, Updated: sub.At}); err != nil {
		t.Fatal(err)
	}
	if c := status(); c.State != ComplaintResolved {
		t.Errorf("an older state replaced the answer: %+v", c)
	}
}
