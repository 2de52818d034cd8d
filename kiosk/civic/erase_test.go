package civic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fileHolds reports which of the database's files (the file and its log) hold phrase.
func fileHolds(t *testing.T, path, phrase string) []string {
	t.Helper()
	var in []string
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(phrase)) {
			in = append(in, filepath.Base(p))
		}
	}
	return in
}

// The hall's answers, from halld (KeepReply) or an import, are stored sealed like the complaint
// text: the raw file never holds them, and the citizen's lookup and the export still read them.
func TestHallAnswersSealedAtRest(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	sub, err := r.svc.Submit(ctx, Complaint{Category: CategoryAttitude, Text: "态度不好"}, Identity{IDNumber: idZhang})
	if err != nil {
		t.Fatal(err)
	}
	const fromHall = "已约谈三号窗口工作人员并当面致歉-ANSWER-KQ7"
	const fromImport = "经核查情况属实已责令整改-IMPORT-ZX3"
	if err := r.svc.KeepReply(ctx, HallReply{Number: sub.Number, State: ComplaintResolved, Reply: fromHall, Updated: at("2026-11-26 10:00")}); err != nil {
		t.Fatal(err)
	}
	other := "TS20261125ABCDEF"
	r.importJSON(t, obj{"complaints": []obj{{"number": other, "status": "处理中", "reply": fromImport, "updated": "2026-11-26T09:30:00+08:00"}}})

	for number, want := range map[string]string{sub.Number: fromHall, other: fromImport} {
		cs, err := r.svc.complaintStatus(ctx, number)
		if err != nil || cs.Reply != want {
			t.Errorf("lookup of %s: %q %v, want %q", number, cs.Reply, err, want)
		}
	}
	pr, err := r.svc.Progress(ctx, Query{Who: Identity{IDNumber: idZhang}})
	if err != nil || len(pr.Complaints) != 1 || pr.Complaints[0].Reply != fromHall {
		t.Errorf("lookup by identity: %+v %v", pr.Complaints, err)
	}
	var out bytes.Buffer
	if _, err := r.svc.ExportComplaints(ctx, &out, time.Time{}); err != nil {
		t.Fatal(err)
	}
	var e ExportedComplaint
	if err := json.NewDecoder(&out).Decode((*exported)(&e)); err != nil || e.Reply != fromHall {
		t.Errorf("export: %q %v", e.Reply, err)
	}

	// A sealed answer moved to another complaint does not open there.
	if _, err := r.st.DB().Exec(`UPDATE hall_complaint_status SET reply_sealed = (SELECT reply_sealed FROM hall_complaint_status WHERE number = ?) WHERE number = ?`, sub.Number, other); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.complaintStatus(ctx, other); !errors.Is(err, ErrKey) {
		t.Errorf("an answer moved to another complaint: %v, want ErrKey", err)
	}

	for _, phrase := range []string{fromHall, fromImport, "ANSWER-KQ7", "IMPORT-ZX3"} {
		if in := fileHolds(t, r.path, phrase); len(in) > 0 {
			t.Errorf("open store: %v hold %q", in, phrase)
		}
	}
	if err := r.st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, phrase := range []string{fromHall, fromImport} {
		if in := fileHolds(t, r.path, phrase); len(in) > 0 {
			t.Errorf("closed store: %v hold %q", in, phrase)
		}
	}
	if in := fileHolds(t, r.path, sub.Number); len(in) == 0 {
		t.Error("the file does not hold the complaint's number: the search proves nothing")
	}
}

// Answers an older version kept in clear are sealed at the first purge (which runs at start),
// and their clear bytes are gone from the file and its log.
func TestClearAnswersOfOlderVersionsSealed(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	const phrase = "旧版本明文保存的答复-CLEAR-P9W"
	number := "TS20261120ABCDEF"
	// As store version 8 wrote it.
	if _, err := r.st.DB().Exec(`INSERT INTO hall_complaint_status (number, status, reply, updated_at, imported_at) VALUES (?, 'resolved', ?, ?, ?)`,
		number, phrase, at("2026-11-25 10:00").UnixNano(), at("2026-11-25 10:00").UnixNano()); err != nil {
		t.Fatal(err)
	}
	if cs, err := r.svc.complaintStatus(ctx, number); err != nil || cs.Reply != phrase {
		t.Fatalf("clear answer before sealing: %q %v", cs.Reply, err)
	}
	if err := r.st.TruncateWAL(ctx); err != nil {
		t.Fatal(err)
	}
	if in := fileHolds(t, r.path, phrase); len(in) == 0 {
		t.Fatal("the clear answer is not in the file: the test proves nothing")
	}

	p, err := r.svc.Purge(ctx, at("2026-11-26 09:00"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Sealed != 1 || p.Total() != 0 {
		t.Errorf("purge: %+v, want 1 answer sealed and nothing removed", p)
	}
	var clear string
	var sealed []byte
	if err := r.st.DB().QueryRow(`SELECT reply, reply_sealed FROM hall_complaint_status WHERE number = ?`, number).Scan(&clear, &sealed); err != nil {
		t.Fatal(err)
	}
	if clear != "" || len(sealed) == 0 {
		t.Errorf("after the purge: clear %q, sealed %d bytes", clear, len(sealed))
	}
	if cs, err := r.svc.complaintStatus(ctx, number); err != nil || cs.Reply != phrase {
		t.Errorf("sealed answer: %q %v", cs.Reply, err)
	}
	if in := fileHolds(t, r.path, phrase); len(in) > 0 {
		t.Errorf("%v still hold the clear answer", in)
	}
	// Once sealed, nothing is left to seal.
	if p, err := r.svc.Purge(ctx, at("2026-11-26 10:00")); err != nil || p.Sealed != 0 {
		t.Errorf("second purge: %+v %v", p, err)
	}
}

// After a purge that deleted rows the write-ahead log, which holds the deleted rows' pages, is
// truncated.
func TestPurgeTruncatesWAL(t *testing.T) {
	r := newRig(t, func(o *Options) { o.RetentionDays = 1 })
	ctx := context.Background()
	var apps []obj
	for i := range 300 {
		apps = append(apps, obj{"id": fmt.Sprintf("SL-WAL-%03d", i), "id_number": idLi, "matter": "sb-003", "status": "受理",
			"accepted": "2026-11-20", "updated": "2026-11-20T16:00:00+08:00"})
	}
	r.clock.Set(at("2026-11-20 17:00"))
	r.importJSON(t, obj{"applications": apps})
	if err := r.st.TruncateWAL(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := r.svc.Purge(ctx, at("2026-11-26 09:00"))
	if err != nil || p.Applications != 300 {
		t.Fatalf("purge: %+v %v", p, err)
	}
	fi, err := os.Stat(r.path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 0 {
		t.Errorf("-wal is %d bytes after a purge that deleted 300 rows, want 0", fi.Size())
	}
	if in := fileHolds(t, r.path, "SL-WAL-123"); len(in) > 0 {
		t.Errorf("%v still hold a purged application", in)
	}
}
