package rig

import (
	"testing"

	"citizenhome/kiosk"
)

// An ID card read through the SAM reader is on the readers (for the local API) while it stays,
// without its photo.
func TestDemoIDCardOnReaders(t *testing.T) {
	k, devs, _ := demoKiosk(t)
	var events []kiosk.CardEvent
	done := make(chan struct{}, 10)
	k.SubscribeCards(func(e kiosk.CardEvent) { events = append(events, e); done <- struct{}{} })
	if err := devs.Sim.TapIDCard("adult"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the card on the readers", func() bool { return len(k.Cards()) == 1 })
	c := k.Cards()[0]
	if c.Kind != kiosk.CardID || c.Reader != kiosk.DeviceIDReader || c.ID == nil || c.ID.Number != "410203199105200138" || c.ID.Photo != nil {
		t.Fatalf("card %v, photo %d bytes", c, len(c.ID.Photo))
	}
	devs.Sim.RemoveCards()
	waitFor(t, "the card to leave", func() bool { return len(k.Cards()) == 0 })
	<-done
	<-done
	if len(events) != 2 || !events[0].Inserted || events[1].Inserted {
		t.Errorf("events %+v", events)
	}
	if k.Person() == nil {
		t.Error("the kiosk's screen session lost the person when the card left (only kioskd wipes)")
	}
}
