package rig

import (
	"testing"
	"time"

	"citizenhome/devices/idcard"
)

// A foreign resident's card keeps the English name, which the screen greets by, and its kind,
// which switches the screen to English.
func TestPersonOfForeigner(t *testing.T) {
	id := &idcard.Identity{Type: idcard.Foreigner, EnglishName: "MUELLER, ANNA MARIA", Number: "DEU410085031204",
		Birth: time.Date(1985, 3, 12, 0, 0, 0, 0, time.UTC)}
	p := PersonOf(id, time.UTC)
	if !p.Foreign() || p.Language() != "en" || p.Greeting() != "Anna M." {
		t.Errorf("foreigner: kind %q, language %q, greeting %q", p.Kind, p.Language(), p.Greeting())
	}
}
