package kiosk

import (
	"context"
	"errors"
	"strings"
	"testing"

	"citizenhome/devices/escpos"
)

// The checklist prints the matter's materials and procedure, as the emulator reads it back, in
// the screen's language, outside opening hours too, and is counted for the day.
func TestPrintChecklist(t *testing.T) {
	r := newRig(t, nil)
	m := r.k.Catalog().Matter("zh-001")
	ctx := context.Background()
	if err := r.k.PrintChecklist(ctx, m.ID, "zh"); err != nil {
		t.Fatal(err)
	}
	text := squashed(pageLines(t, r.p.Doc(0), escpos.Paper80))
	for _, w := range []string{"一次性告知单", m.Name.Zh, m.Materials[0].Name.Zh, m.Materials[len(m.Materials)-1].Name.Zh,
		m.Steps[0].Zh, "15个工作日办结", "综合窗口"} {
		if !strings.Contains(text, squash(w)) {
			t.Errorf("checklist lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "Checklist") {
		t.Errorf("English on a checklist printed from the Chinese screen:\n%s", text)
	}
	// From the English screen, after hours: English lines too.
	r.clock.Set(at("2026-11-26", "23:30"))
	if err := r.k.PrintChecklist(ctx, m.ID, "en"); err != nil {
		t.Fatalf("after hours: %v", err)
	}
	text = squashed(pageLines(t, r.p.Doc(1), escpos.Paper80))
	for _, w := range []string{"Checklist", m.Materials[0].Name.En, "Done within 15 working days"} {
		if !strings.Contains(text, squash(w)) {
			t.Errorf("English checklist lacks %q:\n%s", w, text)
		}
	}
	if n, err := r.k.ChecklistsToday(ctx); err != nil || n != 2 {
		t.Errorf("ChecklistsToday = %d, %v; want 2", n, err)
	}
	if r.k.Sessions().InTransaction() {
		t.Error("a session transaction is left open")
	}
	// A new day counts from 0.
	r.clock.Set(at("2026-11-27", "09:00"))
	if n, _ := r.k.ChecklistsToday(ctx); n != 0 {
		t.Errorf("next day: %d checklists", n)
	}
}

// A printer that cannot print refuses with the ticket's PrinterError and the device state; a
// job that fails part way is a PrinterError too; neither is counted.
func TestPrintChecklistPrinterErrors(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	r.p.Set(outStatus, nil, nil)
	err := r.k.PrintChecklist(ctx, "zh-001", "zh")
	var pe *PrinterError
	if !errors.As(err, &pe) || pe.State != StatePaperOut || !errors.Is(err, ErrNoPrinter) {
		t.Fatalf("paper out: %v", err)
	}
	if r.p.Printed() != 0 || r.k.Devices()[DevicePrinter].State != StatePaperOut {
		t.Errorf("printed %d, device %v", r.p.Printed(), r.k.Devices()[DevicePrinter].State)
	}
	partial := &escpos.Error{Code: escpos.CodeOffline, Op: "print", Sent: 100, Total: 800}
	r.p.Set(okStatus, nil, partial)
	err = r.k.PrintChecklist(ctx, "zh-001", "zh")
	if !errors.As(err, &pe) || pe.State != StateError || !errors.Is(err, escpos.ErrOffline) {
		t.Fatalf("job failed: %v", err)
	}
	if n, _ := r.k.ChecklistsToday(ctx); n != 0 {
		t.Errorf("%d failed checklists counted", n)
	}
	if r.k.Sessions().InTransaction() {
		t.Error("a session transaction is left open")
	}
}

func TestPrintChecklistRefuses(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	if err := r.k.PrintChecklist(ctx, "zz-999", "zh"); !errors.Is(err, ErrUnknownMatter) {
		t.Errorf("unknown matter: %v", err)
	}
	hallCmd(r.k).Lock(ctx, "维护中")
	if err := r.k.PrintChecklist(ctx, "zh-001", "zh"); !errors.Is(err, ErrLocked) {
		t.Errorf("locked: %v", err)
	}
	if r.p.Printed() != 0 {
		t.Errorf("%d jobs printed", r.p.Printed())
	}
}

func squash(s string) string { return strings.Join(strings.Fields(s), "") }

func squashed(lines []string) string { return squash(strings.Join(lines, "\n")) }
