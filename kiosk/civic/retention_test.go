package civic

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCutoff(t *testing.T) {
	for _, c := range []struct {
		now  time.Time
		want string
	}{
		{at("2026-11-26 00:00"), "2026-05-30 00:00"},
		{at("2026-11-26 23:59:59"), "2026-05-30 00:00"},
		// 16:30 UTC on the 26th is 00:30 on the 27th in the hall.
		{time.Date(2026, 11, 26, 16, 30, 0, 0, time.UTC), "2026-05-31 00:00"},
	} {
		if got := cutoff(c.now, shanghai, 180); !got.Equal(at(c.want)) {
			t.Errorf("cutoff(%s) = %s, want %s", c.now, got, c.want)
		}
	}
}

// Personal data is purged after the retention period, counted in local dates; what is younger,
// and the ratings, stay.
func TestPurge(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	// Written on 2026-05-29 (to go) and 2026-05-30 (to stay), both imported and filed then.
	r.clock.Set(at("2026-05-29 23:59:59"))
	r.importJSON(t, obj{
		"appointments": []obj{
			{"id": "YY-OLD", "id_number": idZhang, "matter": "zh-001", "start": "2026-05-29T23:59:00+08:00"},
			{"id": "YY-NEW", "id_number": idZhang, "matter": "zh-001", "start": "2026-05-30T00:00:00+08:00"},
		},
		"applications": []obj{
			{"id": "SL-OLD", "id_number": idLi, "matter": "sb-003", "status": "受理", "accepted": "2026-05-29", "updated": "2026-05-29T23:00:00+08:00"},
			{"id": "SL-NEW", "id_number": idLi, "matter": "sb-003", "status": "受理", "accepted": "2026-05-29", "updated": "2026-05-30T08:00:00+08:00"},
		},
	})
	old, err := r.svc.Submit(ctx, Complaint{Category: CategoryOther, Text: "旧投诉 ZHANGSAN-MARK", Phone: "13700001111"}, Identity{IDNumber: idZhang})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Rate(ctx, Rating{Overall: 5}); err != nil {
		t.Fatal(err)
	}
	r.clock.Set(at("2026-05-30 00:00"))
	kept, err := r.svc.Submit(ctx, Complaint{Category: CategoryOther, Text: "新投诉"}, Identity{IDNumber: idZhang})
	if err != nil {
		t.Fatal(err)
	}
	r.importJSON(t, obj{"complaints": []obj{
		{"number": old.Number, "status": "已办结", "reply": "已回复张先生", "updated": "2026-05-29T23:30:00+08:00"},
		{"number": kept.Number, "status": "处理中", "reply": "处理中", "updated": "2026-05-30T09:00:00+08:00"},
	}})

	// The day before the period ends for the old data nothing goes.
	p, err := r.svc.Purge(ctx, at("2026-11-25 23:59:59"))
	if err != nil || p.Total() != 0 {
		t.Fatalf("a day early: %+v %v", p, err)
	}
	p, err = r.svc.Purge(ctx, at("2026-11-26 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if p != (Purged{Appointments: 1, Applications: 1, Complaints: 1, Replies: 1}) {
		t.Errorf("purged %+v", p)
	}
	ids := func(table, col string) string {
		rows, err := r.st.DB().Query(`SELECT ` + col + ` FROM ` + table + ` ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			out = append(out, s)
		}
		return strings.Join(out, ",")
	}
	if got := ids("hall_appointment", "id"); got != "YY-NEW" {
		t.Errorf("appointments left: %s", got)
	}
	if got := ids("hall_application", "id"); got != "SL-NEW" {
		t.Errorf("applications left: %s", got)
	}
	if n := count(t, r.st, "hall_rating"); n != 1 {
		t.Errorf("ratings hold no personal data and stay: %d", n)
	}
	var text, phone, person []byte
	var category string
	r.st.DB().QueryRow(`SELECT text, phone, person_hash, category FROM hall_complaint WHERE number = ?`, old.Number).Scan(&text, &phone, &person, &category)
	if text != nil || phone != nil || person != nil || category != "other" {
		t.Errorf("old complaint after purge: text %v phone %v person %v category %q", text, phone, person, category)
	}
	// The complainant no longer finds the old complaint by card; its number still shows a
	// status, without the reply.
	pr, _ := r.svc.Progress(ctx, Query{Who: Identity{IDNumber: idZhang}})
	if len(pr.Complaints) != 1 || pr.Complaints[0].Number != kept.Number || pr.Complaints[0].Reply != "处理中" {
		t.Errorf("complaints by identity after purge: %+v", pr.Complaints)
	}
	pr, err = r.svc.Progress(ctx, Query{Code: old.Number})
	if err != nil || pr.Complaints[0].State != ComplaintResolved || pr.Complaints[0].Reply != "" {
		t.Errorf("purged complaint by number: %+v %v", pr, err)
	}
	var out bytes.Buffer
	if _, err := r.svc.ExportComplaints(ctx, &out, time.Time{}); err != nil {
		t.Fatal(err)
	}
	var e ExportedComplaint
	json.NewDecoder(&out).Decode(&e)
	if e.Number != old.Number || !e.Purged || e.Text != "" || e.Phone != "" {
		t.Errorf("exported purged complaint %+v", e)
	}
	// Purging again finds nothing new.
	if p, err := r.svc.Purge(ctx, at("2026-11-26 12:00")); err != nil || p.Total() != 0 {
		t.Errorf("second purge: %+v %v", p, err)
	}
	// The purged bytes are overwritten, not left in free pages of the file.
	oldHash := r.key.hash(kindID, idZhang)
	if err := r.st.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(r.path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b, []byte("SL-OLD")) > 0 || bytes.Count(b, []byte("已回复张先生")) > 0 {
		t.Error("purged records still in the file")
	}
	if !bytes.Contains(b, []byte("SL-NEW")) || !bytes.Contains(b, oldHash) {
		t.Error("kept records missing from the file: the search proves nothing")
	}
}

func TestPurgeEvery(t *testing.T) {
	r := newRig(t, func(o *Options) { o.RetentionDays = 1 })
	r.clock.Set(at("2026-11-26 09:00"))
	r.importJSON(t, obj{"appointments": []obj{{"id": "YY1", "id_number": idZhang, "matter": "zh-001", "start": "2026-11-26T09:10:00+08:00"}}})
	var logged syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		r.svc.PurgeEvery(ctx, 5*time.Millisecond, slog.New(slog.NewTextHandler(&logged, nil)))
		close(done)
	}()
	// Two days later the booking is past a one-day period; a run after the clock moves purges it.
	r.clock.Set(at("2026-11-28 09:00"))
	deadline := time.Now().Add(5 * time.Second)
	// Until the run has logged, not only deleted: the rows go before Purge returns (it then
	// truncates the store's log), and a cancel in between, on a slow machine (arm64 under qemu),
	// ends the run without its log line.
	for count(t, r.st, "hall_appointment") != 0 || !strings.Contains(logged.String(), "purged") {
		if time.Now().After(deadline) {
			t.Fatalf("the periodic purge did not run (log %q)", logged.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("PurgeEvery did not return after cancel")
	}
	if s := logged.String(); !strings.Contains(s, "appointments=1") || strings.Contains(s, idZhang) {
		t.Errorf("log %q", s)
	}
}

// syncBuffer is a bytes.Buffer safe for the purge goroutine's writes and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
