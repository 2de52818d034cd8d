package kiosk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/slip"
)

// CounterChecklists names the daily count of printed checklists in the store's telemetry_counter
// table, beside the telemetry agent's own counters (which ignores names it does not know and
// purges old days for all of them).
const CounterChecklists = "checklists"

// PrintChecklist prints a matter's 一次性告知单 (slip.Checklist: its materials, procedure, time
// and fee) for the citizen to take home, with English lines when lang is English ("en", "en-*")
// or devices.printer_english is set. It works outside opening hours (the guide does) and
// neither takes nor changes a ticket.
//
// It refuses, printing nothing, when the kiosk is locked (ErrLocked), the matter is unknown
// (ErrUnknownMatter) or the printer is known not to be able to print (*PrinterError, errors.Is
// ErrNoPrinter, the device state recorded as for a ticket). A job that fails part way is a
// *PrinterError too; it is never printed again by itself. Each checklist printed is logged with
// the matter's id and counted for the day (ChecklistsToday); a count that cannot be written is
// logged, not returned: the paper is out.
func (k *Kiosk) PrintChecklist(ctx context.Context, matterID, lang string) error {
	if locked, _ := k.Locked(); locked {
		return ErrLocked
	}
	m := k.catalog.Current().Matter(matterID)
	if m == nil {
		return fmt.Errorf("%w: %q", ErrUnknownMatter, matterID)
	}
	k.sessions.Touch()
	if err := k.printerReady(ctx); err != nil {
		return err
	}
	// The idle timeout must not end the session (and wipe the screen) while the slip prints.
	done := k.sessions.Begin()
	defer done()
	if pe := k.printDoc(ctx, k.checklistSlip(m, lang).Doc()); pe != nil {
		k.log.Warn("checklist not printed", "matter", m.ID, "err", pe)
		return pe
	}
	k.log.Info("checklist printed", "matter", m.ID)
	if err := k.countChecklist(context.WithoutCancel(ctx)); err != nil {
		k.log.Error("checklist printed but not counted", "matter", m.ID, "err", err)
	}
	return nil
}

func (k *Kiosk) checklistSlip(m *catalog.Matter, lang string) slip.Checklist {
	l := strings.ToLower(lang)
	en := k.cfg.Devices.PrinterEnglish || l == "en" || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_")
	c := slip.Checklist{
		Hall: k.cfg.Hall.Name, HallEn: k.cfg.Hall.NameEn, Matter: m.Name, Handling: m.HandlingTime(),
		Fee:       catalog.Text{Zh: m.Fee.Label("zh"), En: m.Fee.Label("en")},
		Materials: m.Materials, Steps: m.Steps, Time: k.now(), English: en, Demo: k.demo,
		Loc: k.sched.Location(),
	}
	if s := k.catalog.Current().Section(m.Section); s != nil {
		c.Section = s.Name
	}
	return c
}

func (k *Kiosk) checklistDay() string {
	return k.now().In(k.sched.Location()).Format(time.DateOnly)
}

func (k *Kiosk) countChecklist(ctx context.Context) error {
	if k.store == nil {
		return errors.New("no store")
	}
	return k.store.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO telemetry_counter (day, name, n) VALUES (?, ?, 1)
			ON CONFLICT (day, name) DO UPDATE SET n = n + 1`, k.checklistDay(), CounterChecklists)
		return err
	})
}

// ChecklistsToday is how many checklists were printed since local midnight (the hall's time
// zone). A kiosk without a store counts none.
func (k *Kiosk) ChecklistsToday(ctx context.Context) (int, error) {
	if k.store == nil {
		return 0, nil
	}
	var n int
	err := k.store.DB().QueryRowContext(ctx, `SELECT n FROM telemetry_counter WHERE day = ? AND name = ?`,
		k.checklistDay(), CounterChecklists).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}
