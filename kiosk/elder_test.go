package kiosk

import (
	"context"
	"testing"
	"time"

	"citizenhome/kiosk/config"
	"citizenhome/kiosk/session"
)

// Elder mode is offered once per session to a citizen whose ID card shows queue.elder_age or
// more, never to a younger one, and not when it is already on.
func TestElderOffer(t *testing.T) {
	r := newRig(t, func(c *config.Config) { c.Queue.ElderAge = 70 })
	r.clock.Set(time.Date(2026, 11, 26, 10, 0, 0, 0, shanghai))
	if r.k.ElderOffer() {
		t.Fatal("offered without a card")
	}
	// 69 until tomorrow: no offer.
	r.k.SetPerson(&Person{Name: "李四", Number: "y", Birth: time.Date(1956, 11, 27, 0, 0, 0, 0, shanghai)})
	if r.k.ElderOffer() {
		t.Fatal("offered to a 69-year-old with elder_age 70")
	}
	hallCmd(r.k).Reset(context.Background())
	r.k.SetPerson(&Person{Name: "张三丰", Number: "x", Birth: time.Date(1956, 11, 26, 0, 0, 0, 0, shanghai)})
	if !r.k.ElderOffer() {
		t.Fatal("not offered to a 70-year-old")
	}
	if r.k.ElderOffer() {
		t.Fatal("offered twice in one session")
	}
	hallCmd(r.k).Reset(context.Background())
	r.k.Sessions().SetElder(true)
	r.k.SetPerson(&Person{Name: "张三丰", Number: "x", Birth: time.Date(1956, 11, 26, 0, 0, 0, 0, shanghai)})
	if r.k.ElderOffer() {
		t.Fatal("offered although elder mode is on")
	}
}

// The configured idle timeouts reach the session manager; a card on a reader postpones the end
// of a session but starts none.
func TestConfiguredTimeoutsAndCardActivity(t *testing.T) {
	r := newRig(t, func(c *config.Config) {
		c.Kiosk.IdleReading.Duration = 150 * time.Second
		c.Staff.IdleTimeout.Duration = 7 * time.Minute
	})
	want := session.Timeouts{Other: 60 * time.Second, Reading: 150 * time.Second, Elder: 180 * time.Second,
		Staff: 7 * time.Minute, Warning: 20 * time.Second}
	if got := r.k.Sessions().Timeouts(); got != want {
		t.Fatalf("timeouts %+v, want %+v", got, want)
	}
	r.k.CardInserted(PresentCard{Kind: CardUnknown, Reader: "UID reader", UID: []byte{1, 2, 3, 4}})
	if _, ok := r.k.Sessions().Active(); ok {
		t.Fatal("a card on a reader started a session")
	}
	r.k.Sessions().Touch()
	r.clock.Add(50 * time.Second)
	r.k.CardInserted(PresentCard{Kind: CardUnknown, Reader: "UID reader", UID: []byte{1, 2, 3, 4}})
	if left, _ := r.k.Sessions().Left(); left != 60*time.Second {
		t.Errorf("left %s after a card tap, want the whole timeout", left)
	}
}
