package localapi

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"citizenhome/kiosk"
)

// Without telemetry, /v1/status lists a citizen's call for staff as the hall would see it
// (help-requested, the state still ready), until kiosk.help_timeout ends it.
func TestStatusListsCallForStaff(t *testing.T) {
	k, clk := realCore(t, statusPrinter(nil))
	s := New(k, token, WithLog(slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))))
	alerts := func() (string, []any) {
		t.Helper()
		w, m := do(t, s, "GET", "/v1/status", "Bearer "+token, "")
		if w.Code != 200 {
			t.Fatalf("status %d %v", w.Code, m)
		}
		al, _ := m["alerts"].([]any)
		st, _ := m["state"].(string)
		return st, al
	}
	k.RequestHelp(context.Background())
	if st, al := alerts(); st != "ready" || len(al) != 1 || al[0] != kiosk.AlertHelpRequested {
		t.Fatalf("after the call: state %v alerts %v", st, al)
	}
	clk.Add(14 * time.Minute)
	if _, al := alerts(); len(al) != 1 {
		t.Fatalf("before the timeout: alerts %v", al)
	}
	clk.Add(time.Minute)
	if _, al := alerts(); len(al) != 0 {
		t.Errorf("after the default 15 min: alerts %v", al)
	}
}
