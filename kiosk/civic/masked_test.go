package civic

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"citizenhome/mask/masktest"
)

// What holds a person, a complaint or the key, printed every way (package masktest), shows
// nothing of them.
func TestPersonalDataMasked(t *testing.T) {
	id, card := masktest.Number("ID number", idZhang), masktest.Number("card number", cardLi)
	for _, who := range []Identity{{IDNumber: idZhang, CityCard: cardLi}, {IDNumber: strings.ToLower(idZhang)},
		{CityCard: " " + cardLi[:8] + " " + cardLi[8:]}} {
		masktest.Check(t, who, id, card, masktest.Number("card number", cardLi[:8]+" "+cardLi[8:]))
	}
	const text, phone = "窗口3号工作人员态度恶劣请核查", "13912345678"
	c := Complaint{Category: CategoryAttitude, Text: text, Phone: phone}
	masktest.Check(t, c, masktest.Text("complaint text", text), masktest.Number("phone", phone))
	e := ExportedComplaint{Number: "TS20261126K7Q2M9", Submitted: "2026-11-26T10:00:00+08:00", Category: string(CategoryAttitude),
		Text: text, Phone: phone, State: string(ComplaintProcessing)}
	masktest.Check(t, e, masktest.Text("complaint text", text), masktest.Number("phone", phone))
	if s := e.String(); s != "complaint TS20261126K7Q2M9 (processing), 15 characters, phone 139****5678" {
		t.Errorf("String() = %q", s)
	}
	k := testKey(t)
	masktest.Check(t, k, masktest.Number("identifier key", string(k.ident)))
	if s := (Identity{IDNumber: idZhang, CityCard: cardLi}).String(); s != "id 410***********"+idZhang[14:]+", card 3104********5678" {
		t.Errorf("String() = %q", s)
	}
}

// The export file, unlike a log, holds the complaint whole: it is for the hall's complaint office.
func TestExportHoldsComplaintWhole(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	const text, phone = "窗口3号工作人员态度恶劣请核查", "13912345678"
	if _, err := r.svc.Submit(ctx, Complaint{Category: CategoryAttitude, Text: text, Phone: phone}, Identity{}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if n, err := r.svc.ExportComplaints(ctx, &buf, time.Time{}); err != nil || n != 1 {
		t.Fatalf("export: %d %v", n, err)
	}
	var e ExportedComplaint
	if err := json.Unmarshal(buf.Bytes(), &e); err != nil || e.Text != text || e.Phone != phone {
		t.Fatalf("export %s: %+v %v", buf.Bytes(), e, err)
	}
	if b, _ := json.Marshal(e); strings.Contains(string(b), phone) || strings.Contains(string(b), text) {
		t.Errorf("json.Marshal of an exported complaint holds it whole: %s", b)
	}
}
