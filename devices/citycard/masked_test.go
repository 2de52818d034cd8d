package citycard_test

import (
	"context"
	"strings"
	"testing"

	"citizenhome/devices/citycard"
	"citizenhome/devices/citycard/cardsim"
	"citizenhome/mask/masktest"
)

// Every type that holds the card number or serial, printed every way (package masktest), shows
// neither: what a purchase reads and builds on the way, and the purchase itself.
func TestCardDataMasked(t *testing.T) {
	const cardNo = "3104729581630457" // no run of 5 digits in common with the amounts, serials or times
	r := newRig(t, func(c *cardsim.Config) { c.CardNo = cardNo }, nil)
	p := r.purchase(200)
	st, err := p.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sess := citycard.NewSession(r.card)
	info, err := sess.Read()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := sess.Public()
	if err != nil {
		t.Fatal(err)
	}
	if info.CardNo != cardNo || pub.CardNo != cardNo || st.CardNo != cardNo {
		t.Fatalf("card number %q %q %q", info.CardNo, pub.CardNo, st.CardNo)
	}
	req := citycard.MAC1Request{AmountFen: 200, OfflineSerial: 13, Type: citycard.TxPurchase, CardSerial: pub.AppSerial}
	secret := masktest.Number("card number", cardNo)
	for _, v := range []any{*info, st, pub, req, *p} {
		masktest.Check(t, v, secret)
		s := masktest.Outputs(v)["%v of value"]
		if !strings.Contains(s, "3104********0457") {
			t.Errorf("%T prints %q, without the masked number", v, s)
		}
	}
}

// A card number of 8 digits or fewer (an issuer that pads it with F) is read as it is and
// starred whole, as on the receipt and the screens.
func TestShortCardNumberMasked(t *testing.T) {
	info, err := citycard.Read(newCard(t, func(c *cardsim.Config) { c.CardNo, c.CardNoPadded = "12345678", true }))
	if err != nil {
		t.Fatal(err)
	}
	if info.CardNo != "12345678" {
		t.Fatalf("card number %q", info.CardNo)
	}
	masktest.Check(t, *info, masktest.Number("card number", "12345678"))
	if s := info.String(); s != "citycard ******** (MOHURD)" {
		t.Errorf("String() = %q", s)
	}
}
