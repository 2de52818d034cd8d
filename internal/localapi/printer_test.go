package localapi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"citizenhome/kiosk"
)

// selfTestCore is fakeCore with the self-test the real core's staff handle has.
type selfTestCore struct {
	fakeCore
	state kiosk.DeviceState
	err   error
	calls int
}

func (c *selfTestCore) SelfTest(context.Context) (kiosk.DeviceState, error) {
	c.calls++
	return c.state, c.err
}

func TestPrinterSelfTest(t *testing.T) {
	for _, tc := range []struct {
		name  string
		state kiosk.DeviceState
		err   error
		code  int
		want  string // state on 200, error code otherwise
	}{
		{"ok", kiosk.StateOK, nil, 200, "ok"},
		{"paper low still prints", kiosk.StatePaperLow, nil, 200, "paper-low"},
		{"paper out", kiosk.StatePaperOut, &kiosk.PrinterError{State: kiosk.StatePaperOut}, 503, "printer-paper-out"},
		{"cover open", kiosk.StateCoverOpen, &kiosk.PrinterError{State: kiosk.StateCoverOpen}, 503, "printer-cover-open"},
		{"no printer", kiosk.StateAbsent, &kiosk.PrinterError{State: kiosk.StateAbsent}, 503, "printer-absent"},
		{"job failed", kiosk.StateError, &kiosk.PrinterError{State: kiosk.StateError, Err: errors.New("escpos: print: offline (sent 10/800 bytes)")}, 503, "printer-error"},
		{"other", kiosk.StateOK, errors.New("disk on fire"), 500, "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &selfTestCore{state: tc.state, err: tc.err}
			s := New(c, token, WithSelfTest(c))
			w, m := do(t, s, "POST", "/v1/printer/selftest", "Bearer "+token, "")
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d: %v", w.Code, tc.code, m)
			}
			got := errCode(m)
			if tc.code == 200 {
				got, _ = m["state"].(string)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q (%v)", got, tc.want, m)
			}
			if c.calls != 1 {
				t.Errorf("%d self-tests, want 1", c.calls)
			}
		})
	}
}

func TestPrinterSelfTestAccess(t *testing.T) {
	c := &selfTestCore{state: kiosk.StateOK}
	s := New(c, token, WithSelfTest(c))
	for _, auth := range []string{"", "Bearer nope"} {
		if w, m := do(t, s, "POST", "/v1/printer/selftest", auth, ""); w.Code != 401 || errCode(m) != "unauthorized" {
			t.Errorf("auth %q: %d %v", auth, w.Code, m)
		}
	}
	if c.calls != 0 || s.unauthorized.Load() != 2 {
		t.Errorf("refused requests: %d self-tests, %d counted", c.calls, s.unauthorized.Load())
	}
	// A body is optional and ignored, but bounded.
	if w, _ := do(t, s, "POST", "/v1/printer/selftest", "Bearer "+token, "{}"); w.Code != 200 {
		t.Errorf("with {}: %d", w.Code)
	}
	big := `{"x":"` + strings.Repeat("a", MaxBody) + `"}`
	if w, m := do(t, s, "POST", "/v1/printer/selftest", "Bearer "+token, big); w.Code != 413 || errCode(m) != "too-large" {
		t.Errorf("oversized body: %d %v", w.Code, m)
	}
	if c.calls != 1 {
		t.Errorf("%d self-tests, want 1", c.calls)
	}
}

func TestPrinterSelfTestUnsupportedCore(t *testing.T) {
	s := New(&fakeCore{}, token)
	if w, m := do(t, s, "POST", "/v1/printer/selftest", "Bearer "+token, ""); w.Code != 501 || errCode(m) != "not-supported" {
		t.Errorf("%d %v", w.Code, m)
	}
}
