package idcard_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/idcard"
	"citizenhome/devices/idcard/samsim"
)

// block builds a text block by hand from the reference's offsets, independently of
// EncodeText, so a layout mistake shared by encoder and decoder cannot hide.
type block []byte

func newBlock() block {
	b := make(block, idcard.TextSize)
	for i := 0; i < len(b); i += 2 {
		b[i] = 0x20
	}
	return b
}

func (b block) put(off, n int, s string) block {
	i := off
	for _, r := range s {
		if i+2 > off+n {
			panic("field overflow: " + s)
		}
		b[i], b[i+1] = byte(r), byte(r>>8)
		i += 2
	}
	return b
}

func (b block) raw(off int, v ...byte) block {
	copy(b[off:], v)
	return b
}

func residentBlock() block {
	return newBlock().
		put(0, 30, "李秀英").
		put(30, 2, "2").
		put(32, 4, "01").
		put(36, 16, "19560308").
		put(52, 70, "河南省开封市鼓楼区中山路北段88号").
		put(122, 36, "410204195603080026").
		put(158, 30, "开封市公安局鼓楼分局").
		put(188, 16, "20160320").
		put(204, 16, "长期")
}

func hmtBlock() block {
	return newBlock().
		put(0, 30, "陈嘉欣").
		put(30, 2, "2").
		put(36, 16, "19900716").
		put(52, 70, "河南省开封市禹王台区五一路6号").
		put(122, 36, "810000199007160042").
		put(158, 30, "开封市公安局禹王台分局").
		put(188, 16, "20240901").
		put(204, 16, "20290901").
		put(220, 18, "H60012345").
		put(238, 4, "01").
		put(248, 2, "J")
}

func foreignerBlock() block {
	return newBlock().
		put(0, 120, "MUELLER, ANNA MARIA").
		put(120, 2, "2").
		put(122, 30, "DEU410085031204").
		put(152, 6, "DEU").
		put(158, 30, "穆安娜").
		put(188, 16, "20180401").
		put(204, 16, "20280401").
		put(220, 16, "19850312").
		put(236, 4, "13").
		put(240, 8, "1500").
		put(248, 2, "I")
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDecodeLayouts(t *testing.T) {
	tests := []struct {
		name  string
		block block
		want  idcard.Identity
	}{
		{"resident", residentBlock(), idcard.Identity{
			Type: idcard.Resident, Name: "李秀英", Sex: idcard.Female, Nation: 1, Birth: date("1956-03-08"),
			Address: "河南省开封市鼓楼区中山路北段88号", Number: "410204195603080026", Authority: "开封市公安局鼓楼分局",
			ValidFrom: date("2016-03-20"), ValidTo: idcard.Expiry{LongTerm: true},
		}},
		{"hmt", hmtBlock(), idcard.Identity{
			Type: idcard.HMT, Name: "陈嘉欣", Sex: idcard.Female, Birth: date("1990-07-16"),
			Address: "河南省开封市禹王台区五一路6号", Number: "810000199007160042", Authority: "开封市公安局禹王台分局",
			ValidFrom: date("2024-09-01"), ValidTo: idcard.Expiry{Date: date("2029-09-01")},
			PassNumber: "H60012345", IssueCount: 1,
		}},
		{"foreigner", foreignerBlock(), idcard.Identity{
			Type: idcard.Foreigner, Name: "穆安娜", EnglishName: "MUELLER, ANNA MARIA", Sex: idcard.Female,
			Number: "DEU410085031204", Nationality: "DEU", Birth: date("1985-03-12"),
			ValidFrom: date("2018-04-01"), ValidTo: idcard.Expiry{Date: date("2028-04-01")},
			CardVersion: "13", Authority: "1500",
		}},
	}
	for _, tt := range tests {
		got, err := idcard.DecodeText(tt.block)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !sameIdentity(*got, tt.want) {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, dump(*got), dump(tt.want))
		}
		// EncodeText lays the same identity out the same way.
		enc, err := idcard.EncodeText(got)
		if err != nil {
			t.Fatalf("%s: encode: %v", tt.name, err)
		}
		if string(enc) != string(tt.block) {
			t.Errorf("%s: EncodeText differs from the hand-built block", tt.name)
		}
	}
}

// Cards pad with NULs as well as spaces on some readers; both are trimmed, inner spaces kept.
func TestDecodeTrimsPadding(t *testing.T) {
	b := residentBlock()
	for i := 6; i < 30; i++ { // name: 3 characters, then NULs
		b[i] = 0
	}
	id, err := idcard.DecodeText(b)
	if err != nil || id.Name != "李秀英" {
		t.Fatalf("%v %q", err, id.Name)
	}
	f, err := idcard.DecodeText(foreignerBlock())
	if err != nil || f.EnglishName != "MUELLER, ANNA MARIA" {
		t.Fatalf("%v %q", err, f.EnglishName)
	}
}

func TestSamplesDecode(t *testing.T) {
	for _, p := range samsim.Samples() {
		want, err := p.Identity()
		if err != nil {
			t.Fatalf("%s: %v", p.Key, err)
		}
		text, err := idcard.EncodeText(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := idcard.DecodeText(text)
		if err != nil {
			t.Fatalf("%s: %v", p.Key, err)
		}
		got.Photo = want.Photo
		if !sameIdentity(*got, *want) {
			t.Errorf("%s:\n got %s\nwant %s", p.Key, dump(*got), dump(*want))
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		block block
		field string
		want  error
	}{
		{"check digit", residentBlock().put(122, 36, "410204195603080025"), "number", idcard.ErrCheckDigit},
		{"lower-case x", residentBlock().put(122, 36, "11010519491231002x").put(36, 16, "19491231"), "number", idcard.ErrNumberFormat},
		{"short number", residentBlock().put(122, 36, "41020419560308002 "), "number", idcard.ErrNumberFormat},
		{"birth not the number's", residentBlock().put(36, 16, "19560309"), "birth", idcard.ErrDate},
		{"sex not the number's", residentBlock().put(30, 2, "1"), "sex", idcard.ErrField},
		{"unknown sex", residentBlock().put(30, 2, "3"), "sex", idcard.ErrField},
		{"letter sex", residentBlock().put(30, 2, "F"), "sex", idcard.ErrField},
		{"unknown nation", residentBlock().put(32, 4, "57"), "nation", idcard.ErrField},
		{"nation by name", residentBlock().put(32, 4, "汉 "), "nation", idcard.ErrField},
		{"no name", residentBlock().put(0, 30, "               "), "name", idcard.ErrField},
		{"birth 30 Feb", residentBlock().put(36, 16, "19560230"), "birth", idcard.ErrDate},
		{"birth not digits", residentBlock().put(36, 16, "1956-3-8"), "birth", idcard.ErrDate},
		{"valid from bad", residentBlock().put(188, 16, "20161320"), "valid_from", idcard.ErrDate},
		{"valid to before from", residentBlock().put(204, 16, "20150101"), "valid_to", idcard.ErrDate},
		{"valid to text", residentBlock().put(204, 16, "永久"), "valid_to", idcard.ErrDate},
		{"control char", residentBlock().put(52, 70, "开封\x07"), "address", idcard.ErrText},
		{"surrogate", residentBlock().raw(2, 0x00, 0xD8), "name", idcard.ErrText},
		{"hmt issue count", hmtBlock().put(238, 4, "x1"), "issue_count", idcard.ErrField},
		{"hmt no pass", hmtBlock().put(220, 18, ""+strings.Repeat(" ", 9)), "pass_number", idcard.ErrField},
		{"foreigner nationality", foreignerBlock().put(152, 6, "de "), "nationality", idcard.ErrField},
		{"foreigner number", foreignerBlock().put(122, 30, "DEU-10085031204"), "number", idcard.ErrNumberFormat},
		{"foreigner birth", foreignerBlock().put(220, 16, "19850231"), "birth", idcard.ErrDate},
	}
	for _, tt := range tests {
		_, err := idcard.DecodeText(tt.block)
		var fe *idcard.FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want field %s: %v", tt.name, err, tt.field, tt.want)
			continue
		}
		// Error messages go to logs: no personal data in them.
		for _, secret := range []string{"李秀英", "410204", "开封", "陈嘉欣", "MUELLER", "DEU410"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error %q leaks %q", tt.name, err, secret)
			}
		}
	}
}

func TestDecodeCardType(t *testing.T) {
	for _, m := range []string{"Y", "Z", "1"} {
		if _, err := idcard.DecodeText(residentBlock().put(248, 2, m)); !errors.Is(err, idcard.ErrCardType) {
			t.Errorf("marker %s: %v", m, err)
		}
	}
	for _, n := range []int{0, 255, 257} {
		if _, err := idcard.DecodeText(make([]byte, n)); !errors.Is(err, idcard.ErrTextSize) {
			t.Errorf("size %d: %v", n, err)
		}
	}
	// A marker of NULs is a resident card, as is the space padding.
	b := residentBlock()
	b[248], b[249] = 0, 0
	if id, err := idcard.DecodeText(b); err != nil || id.Type != idcard.Resident {
		t.Errorf("NUL marker: %v", err)
	}
}

func TestEncodeTextErrors(t *testing.T) {
	id := &idcard.Identity{Type: idcard.Resident, Name: "一二三四五六七八九十一二三四五六"}
	if _, err := idcard.EncodeText(id); !errors.Is(err, idcard.ErrText) {
		t.Errorf("long name: %v", err)
	}
	id = &idcard.Identity{Type: idcard.Resident, Name: "𠀀"} // beyond UCS-2
	if _, err := idcard.EncodeText(id); !errors.Is(err, idcard.ErrText) {
		t.Errorf("astral: %v", err)
	}
	if _, err := idcard.EncodeText(&idcard.Identity{}); !errors.Is(err, idcard.ErrCardType) {
		t.Errorf("no type: %v", err)
	}
}

func sameIdentity(a, b idcard.Identity) bool {
	return dump(a) == dump(b) && string(a.Photo) == string(b.Photo)
}

// dump prints every field (tests only: the package itself never prints them).
func dump(id idcard.Identity) string {
	return strings.Join([]string{
		id.Type.String(), id.Name, id.Sex.String(), id.Nation.String(), id.Birth.String(), id.Address, id.Number,
		id.Authority, id.ValidFrom.String(), id.ValidTo.String(), id.EnglishName, id.Nationality,
		id.CardVersion, id.PassNumber, string(rune('0' + id.IssueCount)),
	}, "|")
}
