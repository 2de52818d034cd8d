package line

import (
	"encoding/json"
	"testing"
	"time"
)

// TestJSON checks the hall API's shapes: the spec's field names, seconds, and null for what
// is not there yet.
func TestJSON(t *testing.T) {
	l, c := newLine(t)
	issue(t, l, "A", false)
	p := issue(t, l, "A", true)
	if _, err := l.Next(ctx, "1", "counter-1"); err != nil {
		t.Fatal(err)
	}
	c.Add(90 * time.Second)
	snap, err := l.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := roundTrip(t, snap)
	want := `{"categories":[{"avg_service_s":360,"eta_next_s":180,"last_called":"A002","letter":"A","name":"户籍","waiting":1,"waiting_priority":0},` +
		`{"avg_service_s":240,"eta_next_s":0,"last_called":null,"letter":"B","name":"社保","waiting":0,"waiting_priority":0},` +
		`{"avg_service_s":600,"eta_next_s":0,"last_called":null,"letter":"C","name":"出入境","waiting":0,"waiting_priority":0}],` +
		`"day":"2026-12-07","windows":[{"categories":["A"],"serving":"A002","staff":"counter-1","state":"open","window":"1"},` +
		`{"categories":["A","B"],"serving":null,"staff":null,"state":"open","window":"2"},` +
		`{"categories":["B"],"serving":null,"staff":null,"state":"open","window":"3"},` +
		`{"categories":["C"],"serving":null,"staff":null,"state":"open","window":"4"}]}`
	if got != want {
		t.Errorf("queue\n%s\nwant\n%s", got, want)
	}
	tk, err := l.Ticket(ctx, p.Code)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(roundTrip(t, tk)), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"code": "A002", "category": "A", "priority": true, "reason": "elder",
		"state": "called", "kiosk": "k1", "window": "1", "recalls": 0.0, "served_s": nil, "lookup": p.Lookup} {
		if m[k] != v {
			t.Errorf("ticket %s = %#v, want %#v", k, m[k], v)
		}
	}
	if _, err := time.Parse(time.RFC3339, m["called_at"].(string)); err != nil {
		t.Errorf("called_at %v", m["called_at"])
	}
	a, _ := l.Ticket(ctx, "A001")
	pub, err := l.Public(ctx, a.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	if got := roundTrip(t, pub); got != `{"code":"A001","eta_s":0,"state":"waiting","waiting_ahead":0,"window":null}` {
		t.Errorf("public %s", got)
	}
}

// roundTrip marshals v and re-marshals it through a map, so keys come sorted.
func roundTrip(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(m)
	return string(b)
}
