package kiosk

import (
	"fmt"
	"testing"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/devices/idcard"
	"citizenhome/mask/masktest"
)

// What the kiosk holds of a citizen, printed every way (package masktest: every fmt verb, %#v
// and %+v of a *Person included, slog text and JSON, json.Marshal, alone and inside a struct, a
// slice and a map), shows no name, ID number or card number.
func TestPersonalDataMasked(t *testing.T) {
	const name, number, cardNo = "张翠山", "410102195001011234", "3104729581630457"
	p := Person{Name: name, Number: number, Kind: "resident", Birth: time.Date(1950, 1, 1, 0, 0, 0, 0, shanghai)}
	secrets := []masktest.Secret{masktest.Name(name), masktest.Number("ID number", number), masktest.Number("card number", cardNo),
		masktest.Number("birth date", "1950-01-01")}
	masktest.Check(t, p, secrets...)
	masktest.Check(t, &p, secrets...)
	if s := fmt.Sprintf("%#v", &p); s != "张*山 410***********1234" {
		t.Errorf("%%#v of a *Person = %q", s)
	}
	c := CityCard{CardNo: cardNo, Issuer: "3140000000000001", BalanceFen: 12345,
		Records: []CardRecord{{Time: time.Date(2026, 11, 26, 9, 0, 0, 0, shanghai), Type: "purchase", AmountFen: 2000}}}
	masktest.Check(t, c, secrets...)
	masktest.Check(t, &c, secrets...)
	if s := fmt.Sprintf("%+v", &c); s != "city card 3104********0457" {
		t.Errorf("%%+v of a *CityCard = %q", s)
	}
	id := idcard.Identity{Type: idcard.Resident, Name: name, Number: number, Address: "河南省开封市龙亭区中山路北段"}
	for _, pc := range []PresentCard{
		{Kind: CardID, Reader: DeviceIDReader, ID: &id, UID: []byte{0xDE, 0xAD, 0xBE, 0xEF, 0x42}},
		{Kind: CardCity, Reader: "City card reader 00 00", City: &citycard.Info{CardNo: cardNo, App: citycard.AppMOHURD}},
	} {
		masktest.Check(t, pc, append(secrets, masktest.Number("address", id.Address), masktest.Number("UID", "\xde\xad\xbe\xef\x42"))...)
	}
	for _, v := range []fmt.Stringer{(*Person)(nil), (*CityCard)(nil)} {
		if s := fmt.Sprintf("%v %+v %#v", v, v, v); s != "<nil> <nil> <nil>" {
			t.Errorf("nil %T prints %q", v, s)
		}
	}
}
