package agent

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/idcard/samsim"
	"citizenhome/internal/rig"
	"citizenhome/kiosk/config"
	"citizenhome/telemetry/mqtttest"
	"citizenhome/telemetry/wire"
)

// A full citizen flow on the demo's simulated devices (an ID card tap of a sample person, a
// city card tap, a ticket, a printer fault and a reset) and every message it puts on the wire:
// none may carry the person's name, ID number, birth date or address, nor the full card number.
func TestNoPersonalDataOnTheWire(t *testing.T) {
	env, id := sharedKiosk(t)
	root := "citizenhome/v1/" + env.Hall + "/" + id
	rec := mqtttest.Record(t, env.Staff(), root+"/#", mqtttest.RecordOptions{})
	cfg := config.Default()
	cfg.Hall.ID, cfg.Kiosk.ID = env.Hall, id
	cfg.Hours.Weekday = []string{"00:00-23:59"}
	cfg.Hours.Weekend = []string{"00:00-23:59"}
	dir := t.TempDir()
	cfg.Kiosk.Store, cfg.Kiosk.PrintDir = filepath.Join(dir, "k.db"), filepath.Join(dir, "prints")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run, err := rig.Boot(ctx, cfg, rig.BootOptions{Demo: true, Version: "test", Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	k, sim := run.Kiosk, run.Devices.Sim
	a := newAgent(t, k, run.Store, env.Kiosk(id), nil)
	startAgent(t, a)
	rec.Wait(t, 10*time.Second, "ready", func(ms []mqtttest.Msg) bool { return hasState(ms, root, wire.StateReady, 0) })

	person, err := samsim.Sample("elder")
	if err != nil {
		t.Fatal(err)
	}
	card := cardsim.Sample()
	if err := sim.TapIDCard("elder"); err != nil {
		t.Fatal(err)
	}
	poll(t, 10*time.Second, "the ID card read into the session", func() bool { return k.Person() != nil })
	if err := sim.TapCityCard(); err != nil {
		t.Fatal(err)
	}
	poll(t, 5*time.Second, "the city card in the session", func() bool { return k.CityCard() != nil })
	var matter string
	for _, s := range k.Offer().Sections {
		matter = s.Matters[0].ID
		break
	}
	is, err := k.TakeTicket(ctx, matter)
	if err != nil || is.PrintErr != nil {
		t.Fatalf("ticket: %v %v", err, is.PrintErr)
	}
	sim.SetPrinter(emulator.PaperOut)
	hall(k).PaperReplaced(ctx)
	staff := staffClient(t, env)
	sendCmd(t, staff, root, cmd("privacy-reset", "reset", nil))
	ms := rec.Wait(t, 15*time.Second, "the flow's messages", func(ms []mqtttest.Msg) bool {
		var issued, fault, reset bool
		for _, e := range events(ms, root) {
			issued = issued || e.Type == wire.EventTicketIssued
			fault = fault || e.Type == wire.EventDeviceFault
			reset = reset || e.Type == wire.EventKioskReset
		}
		sts := statuses(ms, root)
		return issued && fault && reset && len(sts) > 0 && sts[len(sts)-1].Counters.CardReads >= 2 && sts[len(sts)-1].Counters.Tickets >= 1
	})
	birth := strings.ReplaceAll(person.Birth, "-", "")
	forbidden := map[string]string{
		"name": person.Name, "ID number": person.Number, "address": person.Address,
		"birth date": person.Birth, "birth date (compact)": birth, "card number": card.CardNo,
		"ID number's middle": person.Number[6:14],
	}
	for _, m := range ms {
		for what, s := range forbidden {
			if s != "" && (bytes.Contains(m.Payload, []byte(s)) || strings.Contains(m.Topic, s)) {
				t.Errorf("%s on the wire in %s: %s", what, m.Topic, m.Payload)
			}
		}
	}
	t.Logf("%d messages checked", len(ms))
}

func poll(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
