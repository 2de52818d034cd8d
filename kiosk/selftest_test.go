package kiosk

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/kiosktest"
	"citizenhome/kiosk/slip"
)

var lowStatus = escpos.Status{Have: 0x0F, Raw: [4]byte{0x16, 0x12, 0x12, 0x1E}, Online: true, PaperNearEnd: true}

// pageLines prints doc on the emulator and returns its text lines.
func pageLines(t *testing.T, doc escpos.Doc, paper escpos.Paper) []string {
	t.Helper()
	b, err := escpos.Encode(doc, escpos.Options{Paper: paper})
	if err != nil {
		t.Fatal(err)
	}
	p, err := emulator.New(emulator.Config{Paper: paper, SkipPNG: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Write(b); err != nil {
		t.Fatal(err)
	}
	tk := p.Tickets()
	if len(tk) != 1 {
		t.Fatalf("%d pages cut", len(tk))
	}
	return tk[0].Lines
}

func TestSelfTestPrintsPage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status escpos.Status
		want   DeviceState
		paper  string
	}{
		{"ok-80mm", okStatus, StateOK, "80mm"},
		{"paper-low-58mm", lowStatus, StatePaperLow, "58mm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, func(c *config.Config) {
				c.Devices.PrinterPaper = tc.paper
				c.Kiosk.ID = "kiosk-07"
			})
			r.p.Set(tc.status, nil, nil)
			got, err := hallCmd(r.k).SelfTest(context.Background())
			if err != nil || got != tc.want {
				t.Fatalf("SelfTest = %v, %v; want %v", got, err, tc.want)
			}
			if n := r.p.Printed(); n != 1 {
				t.Fatalf("%d jobs printed, want the page once", n)
			}
			if d := r.k.Devices()[DevicePrinter]; d.State != tc.want {
				t.Errorf("device state %v, want %v", d.State, tc.want)
			}
			paper := escpos.Paper80
			if tc.paper == "58mm" {
				paper = escpos.Paper58
			}
			lines := pageLines(t, r.p.Doc(0), paper)
			text := strings.Join(lines, "\n")
			for _, w := range []string{"打印机自检页", "(" + string(tc.want) + ")", "kiosk-07", r.cfg.Hall.Name,
				"2026-11-26 09:00:00", slip.SelfTestQR("kiosk-07")} {
				if !strings.Contains(text, w) {
					t.Errorf("page lacks %q:\n%s", w, text)
				}
			}
			_, units := slip.Ruler(paper.Columns())
			if !strings.Contains(text, units) {
				t.Errorf("no ruler of %d columns:\n%s", paper.Columns(), text)
			}
		})
	}
}

func TestSelfTestRefuses(t *testing.T) {
	gone := errors.Join(escpos.ErrOffline, syscall.EIO)
	for _, tc := range []struct {
		name   string
		status escpos.Status
		stErr  error
		want   DeviceState
	}{
		{"paper-out", outStatus, nil, StatePaperOut},
		{"cover-open", escpos.Status{Have: 0x0F, Online: true, CoverOpen: true}, nil, StateCoverOpen},
		{"error", escpos.Status{Have: 0x0F, CutterError: true}, nil, StateError},
		{"offline", escpos.Status{}, gone, StateOffline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			r.p.Set(tc.status, tc.stErr, nil)
			got, err := hallCmd(r.k).SelfTest(context.Background())
			var pe *PrinterError
			if !errors.As(err, &pe) || pe.State != tc.want || got != tc.want || !errors.Is(err, ErrNoPrinter) {
				t.Fatalf("SelfTest = %v, %v; want a PrinterError %v", got, err, tc.want)
			}
			if r.p.Printed() != 0 {
				t.Error("a page was printed")
			}
			if d := r.k.Devices()[DevicePrinter]; d.State != tc.want {
				t.Errorf("device state %v, want %v", d.State, tc.want)
			}
		})
	}
}

func TestSelfTestJobFails(t *testing.T) {
	r := newRig(t, nil)
	partial := &escpos.Error{Code: escpos.CodeOffline, Op: "print", Sent: 100, Total: 800}
	r.p.Set(okStatus, nil, partial)
	got, err := hallCmd(r.k).SelfTest(context.Background())
	var pe *PrinterError
	if !errors.As(err, &pe) || got != StateError || !errors.Is(err, escpos.ErrOffline) {
		t.Fatalf("SelfTest = %v, %v; want error state wrapping the driver's error", got, err)
	}
	var ee *escpos.Error
	if !errors.As(err, &ee) || ee.Sent != 100 {
		t.Errorf("how far the job got is lost: %v", err)
	}
}

func TestSelfTestNoPrinter(t *testing.T) {
	cfg := config.Default()
	r := newRig(t, nil)
	h := &catalog.Holder{}
	h.Replace(catalog.Demo())
	k, err := New(context.Background(), Options{Config: cfg, Store: r.k.store, Catalog: h, Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	got, err := hallCmd(k).SelfTest(context.Background())
	var pe *PrinterError
	if !errors.As(err, &pe) || pe.State != StateAbsent || got != StateAbsent {
		t.Fatalf("SelfTest without a printer = %v, %v", got, err)
	}
}

// The page is for staff and technicians: locked kiosk and closed hall do not stop it, and it
// does not start a citizen session.
func TestSelfTestWhenLockedOrClosed(t *testing.T) {
	r := newRig(t, nil)
	hallCmd(r.k).Lock(context.Background(), "维护中")
	r.clock.Set(at("2026-11-26", "23:30"))
	if _, err := hallCmd(r.k).SelfTest(context.Background()); err != nil {
		t.Fatalf("SelfTest while locked and closed: %v", err)
	}
	if r.p.Printed() != 1 {
		t.Errorf("%d pages", r.p.Printed())
	}
	if r.k.Sessions().InTransaction() {
		t.Error("a session transaction is left open")
	}
	if _, active := r.k.Sessions().Active(); active {
		t.Error("the self-test started a citizen session")
	}
}

// statusAfter is a printer whose status changes once a job was printed.
type statusAfter struct {
	*kiosktest.Printer
	after escpos.Status
}

func (p *statusAfter) Status(ctx context.Context) (escpos.Status, error) {
	if p.Printed() > 0 {
		return p.after, nil
	}
	return p.Printer.Status(ctx)
}

// The state returned is the one after the page: the page took the last of the roll.
func TestSelfTestReportsStateAfterPage(t *testing.T) {
	r := newRig(t, nil)
	p := &statusAfter{Printer: r.p, after: outStatus}
	h := &catalog.Holder{}
	h.Replace(catalog.Demo())
	k, err := New(context.Background(), Options{Config: r.cfg, Store: r.k.store, Catalog: h, Printer: p, Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	got, err := hallCmd(k).SelfTest(context.Background())
	if err != nil || got != StatePaperOut {
		t.Fatalf("SelfTest = %v, %v; want paper-out and no error (the page printed)", got, err)
	}
	if k.Devices()[DevicePrinter].State != StatePaperOut {
		t.Error("the state after the page was not recorded")
	}
}
