package civic

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"citizenhome/kiosk/store"
)

func count(t testing.TB, st *store.Store, table string) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func appStatus(t testing.TB, st *store.Store, id string) string {
	t.Helper()
	var s string
	if err := st.DB().QueryRow(`SELECT status FROM hall_application WHERE id = ?`, id).Scan(&s); err != nil {
		t.Fatalf("application %s: %v", id, err)
	}
	return s
}

var baseline = obj{
	"generated": "2026-11-26T07:00:00+08:00", "source": "henan-zwfw",
	"appointments": []obj{
		{"id": "YY1", "id_number": idZhang, "matter": "zh-001", "start": "2026-11-26T09:10:00+08:00"},
		{"id": "YY2", "city_card": cardLi, "matter": "sb-001", "start": "2026-11-26 14:00", "status": "已预约"},
	},
	"applications": []obj{
		{"id": "SL1", "id_number": idLi, "matter": "sb-003", "status": "办理中", "accepted": "2026-11-20", "updated": "2026-11-24T16:00:00+08:00"},
		{"id": "SL2", "lookup_code": "k7q2m9xab1", "matter": "zh-003", "status": "done", "accepted": "2026-11-25", "finished": "2026-11-25", "updated": "2026-11-25 10:00"},
	},
	"complaints": []obj{{"number": "TS20261120ABCDEF", "status": "处理中", "reply": "已转窗口核查", "updated": "2026-11-21T10:00:00+08:00"}},
}

func TestImportJSON(t *testing.T) {
	r := newRig(t, nil)
	s := r.importJSON(t, baseline)
	if s.Appointments != 2 || s.Applications != 2 || s.Complaints != 1 || s.Source != "henan-zwfw" || s.Replaced || s.Format != JSON {
		t.Errorf("summary %+v", s)
	}
	if got := appStatus(t, r.st, "SL1"); got != "processing" {
		t.Errorf("SL1 status stored as %q", got)
	}
	var code string
	r.st.DB().QueryRow(`SELECT lookup_code FROM hall_application WHERE id = 'SL2'`).Scan(&code)
	if code != "K7Q2M9XAB1" {
		t.Errorf("lookup code stored as %q", code)
	}
	var start int64
	r.st.DB().QueryRow(`SELECT start_at FROM hall_appointment WHERE id = 'YY2'`).Scan(&start)
	if !time.Unix(0, start).Equal(at("2026-11-26 14:00")) {
		t.Errorf("a local time without offset is read in the hall's zone: %s", time.Unix(0, start))
	}
	li, ok, err := r.svc.LastImport(context.Background())
	if err != nil || !ok || li.Source != "henan-zwfw" || li.Appointments != 2 || len(li.SHA256) != 64 {
		t.Errorf("last import %+v %v %v", li, ok, err)
	}
}

func TestImportCSV(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	files := []struct {
		f    Format
		data string
	}{
		// A BOM and CRLF as a spreadsheet writes them; columns in any order; optional ones absent.
		{AppointmentsCSV, "\ufeffmatter,start,id,id_number,status\r\nzh-001,2026-11-26 09:30,YY1," + idZhang + ",已预约\r\n" +
			"sb-001,2026-11-27T10:00:00+08:00,YY2," + strings.ToLower(idn("41020419800101003")) + ",cancelled\r\n"},
		{ApplicationsCSV, "id,id_number,matter,status,accepted,finished,updated\n" +
			"SL1," + idLi + ",sb-003,补正,,,2026-11-24 16:00\n" +
			"SL2," + idLi + ",zh-003,已发证,2026-11-25,2026-11-25,2026-11-25 11:00:00\n"},
		{ComplaintsCSV, "number,status,updated,reply\nts20261120abcdef,已办结,2026-11-22 09:00,\"已约谈窗口人员，\n并致歉\"\n"},
	}
	for _, f := range files {
		s, err := r.svc.Import(ctx, strings.NewReader(f.data), f.f)
		if err != nil {
			t.Fatalf("%s: %v", f.f, err)
		}
		if s.Appointments+s.Applications+s.Complaints != 2 && f.f != ComplaintsCSV {
			t.Errorf("%s: %+v", f.f, s)
		}
	}
	if n := count(t, r.st, "hall_appointment"); n != 2 {
		t.Errorf("%d appointments", n)
	}
	var cancelled bool
	r.st.DB().QueryRow(`SELECT cancelled FROM hall_appointment WHERE id = 'YY2'`).Scan(&cancelled)
	if !cancelled {
		t.Error("YY2 not cancelled")
	}
	if got := appStatus(t, r.st, "SL1"); got != "correction" {
		t.Errorf("SL1 %q", got)
	}
	cs, err := r.svc.complaintStatus(ctx, "TS20261120ABCDEF")
	if err != nil || cs.State != "resolved" || cs.Reply != "已约谈窗口人员，\n并致歉" {
		t.Errorf("complaint %q %q %v", cs.State, cs.Reply, err)
	}
	// The answer is stored sealed only.
	var reply string
	var sealed []byte
	r.st.DB().QueryRow(`SELECT reply, reply_sealed FROM hall_complaint_status WHERE number = 'TS20261120ABCDEF'`).Scan(&reply, &sealed)
	if reply != "" || len(sealed) == 0 {
		t.Errorf("stored answer: clear %q, sealed %d bytes", reply, len(sealed))
	}
	// The lower-case x of an ID number is the same person.
	if as, err := r.svc.Appointments(ctx, Identity{IDNumber: idn("41020419800101003")}); err != nil || len(as) != 1 {
		t.Errorf("appointments by upper-case ID: %v %v", as, err)
	}
}

// Every bad file is rejected whole, naming the record and the field, and the data imported
// before is kept exactly.
func TestImportRejectsBadFilesWhole(t *testing.T) {
	r := newRig(t, nil)
	r.importJSON(t, baseline)
	ctx := context.Background()
	good := `{"id": "YY9", "id_number": "` + idZhang + `", "matter": "zh-001", "start": "2026-11-27T09:00:00+08:00"}`
	app := func(fields string) string {
		return `{"applications": [{"id": "SL9", "id_number": "` + idLi + `", "matter": "sb-003", ` + fields + `}]}`
	}
	badID := idZhang[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", idZhang[17])+1)%11])
	cases := []struct {
		name          string
		f             Format
		data          string
		record, field string
		reason        string
	}{
		{"syntax", JSON, `{"appointments": [` + good, "", "", "ends too early"},
		{"syntax mid-file", JSON, "{\n\"appointments\": [\n" + good + ",,]}", "", "", "line 3"},
		{"top-level array", JSON, `[]`, "", "", "object"},
		{"unknown top field", JSON, `{"appointmentz": []}`, "", "appointmentz", "unknown field"},
		{"trailing data", JSON, `{"appointments": []} {}`, "", "", "after the JSON object"},
		{"not UTF-8", JSON, "{\"source\": \"\xff\"}", "", "", "UTF-8"},
		{"mode", JSON, `{"mode": "overwrite"}`, "", "mode", "merge or replace"},
		{"unknown record field", JSON, `{"appointments": [` + good + `, {"id": "YY8", "name": "张三"}]}`, "appointments[1]", "name", "unknown field"},
		{"record not an object", JSON, `{"appointments": [` + good + `, 7]}`, "appointments[1]", "", "JSON object"},
		{"number for a string", JSON, `{"appointments": [{"id": "YY8", "id_number": "` + idZhang + `", "matter": "zh-001", "start": 20261127}]}`, "appointments[0]", "start", "string"},
		{"duplicate key", JSON, `{"appointments": [{"id": "YY8", "id": "YY7", "id_number": "` + idZhang + `", "matter": "zh-001", "start": "2026-11-27T09:00:00+08:00"}]}`, "appointments[0]", "id", "duplicate key"},
		{"bad check digit", JSON, `{"appointments": [` + good + `, {"id": "YY8", "id_number": "` + badID + `", "matter": "zh-001", "start": "2026-11-27T09:00:00+08:00"}]}`, "appointments[1]", "id_number", "check digit"},
		{"no identifier", JSON, `{"appointments": [{"id": "YY8", "matter": "zh-001", "start": "2026-11-27T09:00:00+08:00"}]}`, "appointments[0]", "id_number", "city_card"},
		{"unknown matter", JSON, `{"appointments": [{"id": "YY8", "id_number": "` + idZhang + `", "matter": "zz-999", "start": "2026-11-27T09:00:00+08:00"}]}`, "appointments[0]", "matter", "not a matter"},
		{"repeated id", JSON, `{"appointments": [` + good + `, ` + good + `]}`, "appointments[1]", "id", "first in appointments[0]"},
		{"bad time", JSON, `{"appointments": [{"id": "YY8", "id_number": "` + idZhang + `", "matter": "zh-001", "start": "27/11/2026 9:00"}]}`, "appointments[0]", "start", "not a time"},
		{"bad appointment status", JSON, `{"appointments": [{"id": "YY8", "id_number": "` + idZhang + `", "matter": "zh-001", "start": "2026-11-27 09:00", "status": "done"}]}`, "appointments[0]", "status", "booked"},
		{"bad application status", JSON, app(`"status": "审核中", "accepted": "2026-11-20", "updated": "2026-11-24 10:00"`), "applications[0]", "status", "受理"},
		{"accepted missing", JSON, app(`"status": "办理中", "updated": "2026-11-24 10:00"`), "applications[0]", "accepted", "missing"},
		{"finished missing", JSON, app(`"status": "办结", "accepted": "2026-11-20", "updated": "2026-11-24 10:00"`), "applications[0]", "finished", "missing"},
		{"finished while open", JSON, app(`"status": "受理", "accepted": "2026-11-20", "finished": "2026-11-21", "updated": "2026-11-24 10:00"`), "applications[0]", "finished", "not finished"},
		{"finished before accepted", JSON, app(`"status": "办结", "accepted": "2026-11-20", "finished": "2026-11-19", "updated": "2026-11-24 10:00"`), "applications[0]", "finished", "before accepted"},
		{"bad date", JSON, app(`"status": "受理", "accepted": "2026-11-31", "updated": "2026-11-24 10:00"`), "applications[0]", "accepted", "not a date"},
		{"updated in the future", JSON, app(`"status": "受理", "accepted": "2026-11-20", "updated": "2026-12-24 10:00"`), "applications[0]", "updated", "future"},
		{"lookup code is a complaint number", JSON, `{"applications": [{"id": "SL9", "lookup_code": "TS20261120ABCDEF", "matter": "sb-003", "status": "受理", "accepted": "2026-11-20", "updated": "2026-11-24 10:00"}]}`, "applications[0]", "lookup_code", "complaint number"},
		{"complaint number", JSON, `{"complaints": [{"number": "T-1", "status": "处理中", "updated": "2026-11-24 10:00"}]}`, "complaints[0]", "number", "complaint number"},
		{"complaint submitted", JSON, `{"complaints": [{"number": "TS20261120ABCDEF", "status": "submitted", "updated": "2026-11-24 10:00"}]}`, "complaints[0]", "status", "已受理"},
		{"bring too long", JSON, app(`"status": "补正", "bring": "` + strings.Repeat("材", 301) + `", "updated": "2026-11-24 10:00"`), "applications[0]", "bring", "at most 300"},
		{"bring_to on two lines", JSON, app(`"status": "补正", "bring": "租赁合同", "bring_to": "一楼\n综合窗口", "updated": "2026-11-24 10:00"`), "applications[0]", "bring_to", "control"},
		{"English without Chinese", JSON, app(`"status": "补正", "bring_en": "Tenancy contract", "updated": "2026-11-24 10:00"`), "applications[0]", "bring", "without its Chinese"},
		{"bring_to too long", JSON, app(`"status": "补正", "bring_to": "` + strings.Repeat("窗", 101) + `", "updated": "2026-11-24 10:00"`), "applications[0]", "bring_to", "at most 100"},
		{"control character in reply", JSON, `{"complaints": [{"number": "TS20261120ABCDEF", "status": "处理中", "reply": "a\u0007b", "updated": "2026-11-24 10:00"}]}`, "complaints[0]", "reply", "control"},
		{"csv empty", AppointmentsCSV, "", "", "", "empty file"},
		{"csv unknown column", AppointmentsCSV, "id,id_number,matter,start,name\n", "line 1", "name", "unknown column"},
		{"csv missing column", ApplicationsCSV, "id,id_number,matter,status\n", "line 1", "updated", "column missing"},
		{"csv no identifier column", AppointmentsCSV, "id,matter,start\n", "line 1", "id_number", "column missing"},
		{"csv field count", AppointmentsCSV, "id,id_number,matter,start\nYY8," + idZhang + ",zh-001,2026-11-27 09:00\nYY7," + idZhang + ",zh-001\n", "line 3", "", "3 fields"},
		{"csv bad value", AppointmentsCSV, "id,id_number,matter,start\nYY8," + idZhang + ",zh-001,2026-11-27 09:00\nYY7," + idZhang + ",zh-001,tomorrow\n", "line 3", "start", "not a time"},
		{"csv quoting", ComplaintsCSV, "number,status,updated\nTS20261120ABCDEF,处理中,\"2026-11-24 10:00\n", "line 2", "", "CSV"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := [4]int{count(t, r.st, "hall_appointment"), count(t, r.st, "hall_application"),
				count(t, r.st, "hall_complaint_status"), count(t, r.st, "hall_import")}
			_, err := r.svc.Import(ctx, strings.NewReader(c.data), c.f)
			if !errors.Is(err, ErrBadFile) {
				t.Fatalf("err = %v, want ErrBadFile", err)
			}
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("err %T is not an *ImportError", err)
			}
			if ie.Record != c.record || ie.Field != c.field || !strings.Contains(ie.Reason, c.reason) {
				t.Errorf("first problem %q (record %q field %q), want record %q field %q reason ~%q", ie, ie.Record, ie.Field, c.record, c.field, c.reason)
			}
			for _, secret := range []string{idZhang, idLi, badID} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows an ID number: %v", err)
				}
			}
			after := [4]int{count(t, r.st, "hall_appointment"), count(t, r.st, "hall_application"),
				count(t, r.st, "hall_complaint_status"), count(t, r.st, "hall_import")}
			if after != before {
				t.Errorf("rows %v -> %v: a rejected file changed the store", before, after)
			}
			if appStatus(t, r.st, "SL1") != "processing" {
				t.Error("old data changed")
			}
		})
	}
}

// A file with several problems lists them all, and the good records in it are not written.
func TestImportReportsEveryProblem(t *testing.T) {
	r := newRig(t, nil)
	data := `{"appointments": [
  {"id": "YY1", "id_number": "` + idZhang + `", "matter": "zh-001", "start": "2026-11-27T09:00:00+08:00"},
  {"id": "YY2", "id_number": "` + idZhang + `", "matter": "nope", "start": "2026-11-27T09:00:00+08:00"},
  {"id": "YY3", "id_number": "` + idZhang + `", "matter": "zh-001", "start": "later"}],
 "applications": [{"id": "SL1", "id_number": "` + idLi + `", "matter": "sb-003", "status": "?", "accepted": "2026-11-20", "updated": "2026-11-24 10:00"}]}`
	_, err := r.svc.Import(context.Background(), strings.NewReader(data), JSON)
	var es ImportErrors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("err = %v, want 3 problems", err)
	}
	want := []string{"appointments[1] (YY2): matter", "appointments[2] (YY3): start", "applications[0] (SL1): status"}
	for i, w := range want {
		if !strings.Contains(es[i].Error(), w) {
			t.Errorf("problem %d: %q, want %q", i, es[i], w)
		}
	}
	if n := count(t, r.st, "hall_appointment"); n != 0 {
		t.Errorf("%d appointments written from a rejected file", n)
	}
	// A garbage file of many problems is cut at 100.
	var b strings.Builder
	b.WriteString(`{"appointments": [`)
	for i := range 300 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"id": "x"}`)
	}
	b.WriteString("]}")
	_, err = r.svc.Import(context.Background(), strings.NewReader(b.String()), JSON)
	if !errors.As(err, &es) || len(es) != maxImportErrors+1 || !strings.Contains(es[len(es)-1].Reason, "more problems") {
		t.Errorf("%d problems reported", len(es))
	}
}

func TestImportMergeStaleReplaceExpired(t *testing.T) {
	r := newRig(t, nil)
	r.importJSON(t, baseline)
	// An older update of SL1 is skipped; a newer one is taken.
	s := r.importJSON(t, obj{"applications": []obj{
		{"id": "SL1", "id_number": idLi, "matter": "sb-003", "status": "受理", "accepted": "2026-11-20", "updated": "2026-11-23T10:00:00+08:00"},
	}})
	if s.Stale != 1 || s.Applications != 0 || appStatus(t, r.st, "SL1") != "processing" {
		t.Errorf("stale update: %+v, status %s", s, appStatus(t, r.st, "SL1"))
	}
	s = r.importJSON(t, obj{"applications": []obj{
		{"id": "SL1", "id_number": idLi, "matter": "sb-003", "status": "已发证", "accepted": "2026-11-20", "finished": "2026-11-26", "updated": "2026-11-26T08:00:00+08:00"},
	}})
	if s.Applications != 1 || appStatus(t, r.st, "SL1") != "issued" {
		t.Errorf("newer update: %+v", s)
	}
	// The same holds for complaint statuses.
	s = r.importJSON(t, obj{"complaints": []obj{{"number": "TS20261120ABCDEF", "status": "已受理", "updated": "2026-11-20T10:00:00+08:00"}}})
	if s.Stale != 1 {
		t.Errorf("stale complaint update: %+v", s)
	}
	// Replace empties the kinds the file holds, and only those.
	s = r.importJSON(t, obj{"mode": "replace", "applications": []obj{
		{"id": "SL3", "id_number": idLi, "matter": "sb-003", "status": "受理", "accepted": "2026-11-25", "updated": "2026-11-25T10:00:00+08:00"},
	}})
	if !s.Replaced || count(t, r.st, "hall_application") != 1 || count(t, r.st, "hall_appointment") != 2 || count(t, r.st, "hall_complaint_status") != 1 {
		t.Errorf("replace: %+v, %d applications, %d appointments", s, count(t, r.st, "hall_application"), count(t, r.st, "hall_appointment"))
	}
	// An empty list replaces with nothing.
	r.importJSON(t, obj{"mode": "replace", "appointments": []obj{}})
	if n := count(t, r.st, "hall_appointment"); n != 0 {
		t.Errorf("%d appointments after replacing with none", n)
	}
	// Records already past the retention period are not brought back.
	s = r.importJSON(t, obj{
		"appointments": []obj{{"id": "YY-OLD", "id_number": idZhang, "matter": "zh-001", "start": "2026-05-29T09:00:00+08:00"},
			{"id": "YY-KEPT", "id_number": idZhang, "matter": "zh-001", "start": "2026-05-30T09:00:00+08:00"}},
		"applications": []obj{{"id": "SL-OLD", "id_number": idLi, "matter": "sb-003", "status": "受理", "accepted": "2026-05-20", "updated": "2026-05-20T10:00:00+08:00"}},
	})
	if s.Expired != 2 || s.Appointments != 1 {
		t.Errorf("expired: %+v", s)
	}
}

func TestImportWithoutKeyOrCatalog(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	data := `{"appointments": [{"id": "YY1", "id_number": "` + idZhang + `", "matter": "not-in-any-catalog", "start": "2026-11-27 09:00"}]}`
	if _, err := Import(ctx, r.st, nil, strings.NewReader(data), JSON, ImportOptions{}); !errors.Is(err, ErrKey) {
		t.Errorf("ID numbers without a key: %v", err)
	}
	if _, err := Import(ctx, r.st, r.key, strings.NewReader(data), JSON, ImportOptions{}); err != nil {
		t.Errorf("without a catalog the matter is not checked: %v", err)
	}
	if _, err := Import(ctx, r.st, nil, strings.NewReader(`{"complaints": []}`), JSON, ImportOptions{}); err != nil {
		t.Errorf("no identifiers, no key needed: %v", err)
	}
	if _, err := Import(ctx, r.st, r.key, strings.NewReader(`{}`), "xml", ImportOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown format: %v", err)
	}
	big := bytes.Repeat([]byte(" "), MaxImportSize+10)
	if _, err := Import(ctx, r.st, r.key, bytes.NewReader(big), JSON, ImportOptions{}); !errors.Is(err, ErrBadFile) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: %v", err)
	}
}

func TestFormatFor(t *testing.T) {
	for name, want := range map[string]Format{
		"/tmp/push/hall-2026-11-26.JSON": JSON, "appointments-2026-11-26.csv": AppointmentsCSV,
		"Applications.CSV": ApplicationsCSV, "complaints_1.csv": ComplaintsCSV,
	} {
		if got, err := FormatFor(name); err != nil || got != want {
			t.Errorf("FormatFor(%q) = %q, %v", name, got, err)
		}
	}
	for _, name := range []string{"data.csv", "appointments.xlsx", "x"} {
		if _, err := FormatFor(name); !errors.Is(err, ErrInvalid) {
			t.Errorf("FormatFor(%q): %v", name, err)
		}
	}
}

// A 补正 tells what to bring and where, from the hall's import (JSON or CSV); the lookup shows it.
func TestImportCorrectionBring(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	data := `{"applications": [{"id": "SL7", "id_number": "` + idLi + `", "lookup_code": "BRING0001", "matter": "sb-003",
		"status": "补正", "bring": "租赁合同原件；\n户口簿首页复印件", "bring_to": "一楼 A区 综合窗口", "bring_en": "Tenancy contract", "updated": "2026-11-24 10:00"}]}`
	if _, err := r.svc.Import(ctx, strings.NewReader(data), JSON); err != nil {
		t.Fatal(err)
	}
	p, err := r.svc.Progress(ctx, Query{Code: "BRING0001"})
	if err != nil || len(p.Applications) != 1 {
		t.Fatalf("progress %+v, %v", p, err)
	}
	if a := p.Applications[0]; a.Bring.Zh != "租赁合同原件；\n户口簿首页复印件" || a.BringTo.Zh != "一楼 A区 综合窗口" || a.Bring.En != "Tenancy contract" || a.Status != StatusCorrection {
		t.Errorf("application %+v", a)
	}
	// A later update without them (materials handed in) clears them.
	csv := "id,id_number,lookup_code,matter,status,accepted,updated,bring,bring_to\n" +
		"SL7," + idLi + ",BRING0001,sb-003,办理中,2026-11-25,2026-11-25 10:00,,\n" +
		"SL8," + idLi + ",BRING0002,sb-003,补正,,2026-11-25 10:00,身份证原件, 二楼 B区 5号窗口 \n"
	if _, err := r.svc.Import(ctx, strings.NewReader(csv), ApplicationsCSV); err != nil {
		t.Fatal(err)
	}
	for code, want := range map[string][2]string{"BRING0001": {"", ""}, "BRING0002": {"身份证原件", "二楼 B区 5号窗口"}} {
		p, err := r.svc.Progress(ctx, Query{Code: code})
		if err != nil || len(p.Applications) != 1 {
			t.Fatalf("%s: %+v, %v", code, p, err)
		}
		if a := p.Applications[0]; a.Bring.Zh != want[0] || a.BringTo.Zh != want[1] || a.Bring.En != "" {
			t.Errorf("%s: bring %q to %q, want %q", code, a.Bring, a.BringTo, want)
		}
	}
}
