package line

import (
	"citizenhome/telemetry/wire"
	"errors"
	"strings"
	"testing"
)

// FuzzParseCode feeds ticket codes as staff, a route or a kiosk's event may give them:
// ParseCode never panics, and what it accepts is a real code that round-trips.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"A001", "a1", " B012 ", "Z9999", "A10000", "A0", "A-1", "A+1", "", "1A", "甲001", "A 01", "A٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		letter, n, code, err := ParseCode(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || letter != "" || n != 0 || code != "" {
				t.Fatalf("ParseCode(%q) = %q %d %q %v", s, letter, n, code, err)
			}
			return
		}
		if !wire.ValidLetter(letter) || n < 1 || n > 9999 || code != TicketCode(letter, n) || len(code) < 4 {
			t.Fatalf("ParseCode(%q) = %q %d %q", s, letter, n, code)
		}
		l2, n2, c2, err := ParseCode(code)
		if err != nil || l2 != letter || n2 != n || c2 != code {
			t.Fatalf("round trip of %q: %q %d %q %v", s, l2, n2, c2, err)
		}
	})
}

// FuzzCounterInput sends what the hall API's routes pass through (a window, a code, a lookup
// code, a reason) to the line: it never panics, and refuses bad input with the package's typed
// errors, never a database error.
func FuzzCounterInput(f *testing.F) {
	l, _ := newLine(f)
	for range 3 {
		issue(f, l, "A", false)
	}
	f.Add("1", "A001", "7K3M9Q2D1C", "at the door")
	f.Add("2", "a2", "7k3m9q2d1c", "")
	f.Add("3 号", "B1000", "", "x\x00y")
	f.Add("1'; DROP TABLE line_ticket; --", "A%", "%%%%%%%%%%", "∞")
	f.Add("", " ", "ILOU000000", strings.Repeat("r", 200))
	f.Fuzz(func(t *testing.T, window, code, lookup, reason string) {
		typed := func(what string, err error) {
			var e *Error
			if err != nil && !errors.As(err, &e) {
				t.Fatalf("%s: untyped error %v", what, err)
			}
		}
		_, err := l.Ticket(ctx, code)
		typed("ticket", err)
		_, err = l.Public(ctx, lookup)
		typed("public", err)
		if err == nil && !wire.ValidLookup(strings.ToUpper(strings.TrimSpace(lookup))) {
			t.Fatalf("public accepted %q", lookup)
		}
		_, err = l.Call(ctx, window, "staff", code, reason)
		typed("call", err)
		if !ValidWindow(window) && !errors.Is(err, ErrUnknownWindow) && !errors.Is(err, ErrInvalid) {
			t.Fatalf("call at window %q: %v", window, err)
		}
		_, err = l.Recall(ctx, window, "staff")
		typed("recall", err)
		_, err = l.Done(ctx, window, "staff")
		typed("done", err)
		_, err = l.Return(ctx, code, "staff")
		typed("return", err)
		_, err = l.Transfer(ctx, window, "staff", code)
		typed("transfer", err)
		err = l.Pause(ctx, window, "staff", reason)
		typed("pause", err)
		err = l.Resume(ctx, window, "staff")
		typed("resume", err)
		_, err = l.Tickets(ctx, reason, code)
		typed("tickets", err)
		_, err = l.Unused(ctx, reason)
		typed("unused", err)
	})
}
