package kiosk

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"citizenhome/devices/citycard"
)

func TestCardsOnReaders(t *testing.T) {
	r := newRig(t, nil)
	var got []CardEvent
	r.k.SubscribeCards(func(e CardEvent) { got = append(got, e) })
	if len(r.k.Cards()) != 0 {
		t.Fatal("cards before any was inserted")
	}
	info := &citycard.Info{CardNo: "3104000012345678", App: citycard.AppMOHURD}
	r.k.CardInserted(PresentCard{Kind: CardCity, Reader: "City card reader 00 00", City: info})
	r.k.CardInserted(PresentCard{Kind: CardID, Reader: "ID card reader 00 00", UID: []byte{1, 2, 3, 4, 5, 6, 7, 8}})
	cards := r.k.Cards()
	if len(cards) != 2 || cards[0].Kind != CardID || cards[1].City != info || cards[0].UIDHex() != "0102030405060708" {
		t.Fatalf("cards %v", cards)
	}
	if !cards[0].Since.Equal(r.clock.Now()) {
		t.Errorf("since %v", cards[0].Since)
	}
	// A new card on the same reader replaces the old one.
	r.k.CardInserted(PresentCard{Kind: CardUnknown, Reader: "City card reader 00 00", Err: errors.New("6F00")})
	if cards := r.k.Cards(); len(cards) != 2 || cards[0].Kind != CardUnknown || cards[0].City != nil {
		t.Fatalf("after replacement: %v", cards)
	}
	r.k.CardRemoved("City card reader 00 00")
	r.k.CardRemoved("City card reader 00 00") // nothing there: no event
	r.k.CardRemoved("ID card reader 00 00")
	if len(r.k.Cards()) != 0 {
		t.Fatalf("cards left: %v", r.k.Cards())
	}
	want := []string{"in city-card City card reader 00 00 false", "in id-card ID card reader 00 00 false",
		"in unknown City card reader 00 00 true", "out unknown City card reader 00 00 false", "out id-card ID card reader 00 00 false"}
	if len(got) != len(want) {
		t.Fatalf("events %+v", got)
	}
	for i, e := range got {
		dir := map[bool]string{true: "in", false: "out"}[e.Inserted]
		if s := fmt.Sprintf("%s %s %s %v", dir, e.Kind, e.Reader, e.Failed); s != want[i] {
			t.Errorf("event %d: %s, want %s", i, s, want[i])
		}
	}
	if got[1].UID == nil || got[3].UID != nil {
		t.Errorf("UIDs %v %v", got[1].UID, got[3].UID)
	}
}

func TestPresentCardMasked(t *testing.T) {
	c := PresentCard{Kind: CardCity, Reader: "r", City: &citycard.Info{CardNo: "3104000012345678"}}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, "3104000012345678") || !strings.Contains(s, "3104********5678") {
			t.Errorf("not masked: %s", s)
		}
	}
}
