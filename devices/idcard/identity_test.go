package idcard_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/idcard"
	"citizenhome/mask"
	"citizenhome/mask/masktest"
)

func TestCheckDigit(t *testing.T) {
	valid := []string{"410204195603080026", "410203199105200138", "810000199007160042", "11010519491231002X"}
	for _, n := range valid {
		if err := idcard.ValidateNumber(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
		c, err := idcard.CheckDigit(n[:17])
		if err != nil || c != n[17] {
			t.Errorf("%s: check digit %c %v", n, c, err)
		}
	}
	invalid := map[string]error{
		"410204195603080025":  idcard.ErrCheckDigit,
		"11010519491231002Y":  idcard.ErrNumberFormat,
		"110105194912310020":  idcard.ErrCheckDigit, // X expected
		"11010519491231002x":  idcard.ErrNumberFormat,
		"41020419560308002":   idcard.ErrNumberFormat,
		"4102041956030800266": idcard.ErrNumberFormat,
		"410204560308002":     idcard.ErrNumberFormat, // first generation, 15 digits
		"41020419560308A026":  idcard.ErrNumberFormat,
		"":                    idcard.ErrNumberFormat,
	}
	for n, want := range invalid {
		if err := idcard.ValidateNumber(n); !errors.Is(err, want) {
			t.Errorf("%q: got %v, want %v", n, err, want)
		}
	}
	if _, err := idcard.CheckDigit("1234"); !errors.Is(err, idcard.ErrNumberFormat) {
		t.Errorf("short: %v", err)
	}
}

func TestMask(t *testing.T) {
	// "" was "" here and "*" in the kiosk; package mask takes "*", so that no name cannot be
	// told from a short one.
	names := map[string]string{"": "*", "李": "*", "张三": "张*", "张小三": "张*三", "司马相如": "司**如", "ANNA": "A**A"}
	for in, want := range names {
		if got := mask.Name(in); got != want {
			t.Errorf("mask.Name(%q) = %q, want %q", in, got, want)
		}
	}
	numbers := map[string]string{
		"410105198503071234": "410***********1234",
		"DEU410085031204":    "DEU********1204",
		"1234567":            "*******",
		"12345678":           "123*5678",
		"":                   "",
	}
	for in, want := range numbers {
		if got := mask.ID(in); got != want {
			t.Errorf("mask.ID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAge(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	tests := []struct {
		birth string
		at    time.Time
		want  int
	}{
		{"1956-03-08", time.Date(2026, 3, 7, 23, 59, 0, 0, cst), 69},
		{"1956-03-08", time.Date(2026, 3, 8, 0, 0, 0, 0, cst), 70},
		{"1956-03-08", time.Date(2026, 11, 27, 12, 0, 0, 0, cst), 70},
		// 2026-03-07 17:00 UTC is already 8 March in Beijing: at's own calendar day counts.
		{"1956-03-08", time.Date(2026, 3, 7, 17, 0, 0, 0, time.UTC).In(cst), 70},
		{"1991-05-20", time.Date(2026, 11, 27, 0, 0, 0, 0, cst), 35},
		{"2000-02-29", time.Date(2021, 2, 28, 0, 0, 0, 0, cst), 20},
		{"2000-02-29", time.Date(2021, 3, 1, 0, 0, 0, 0, cst), 21},
		{"2000-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, cst), 24},
		{"2030-01-01", time.Date(2026, 1, 1, 0, 0, 0, 0, cst), 0},
	}
	for _, tt := range tests {
		id := idcard.Identity{Birth: date(tt.birth)}
		if got := id.Age(tt.at); got != tt.want {
			t.Errorf("born %s at %v: %d, want %d", tt.birth, tt.at, got, tt.want)
		}
	}
	if (&idcard.Identity{}).Age(time.Now()) != 0 {
		t.Error("zero birth")
	}
}

func TestValidity(t *testing.T) {
	id := idcard.Identity{ValidFrom: date("2019-06-15"), ValidTo: idcard.Expiry{Date: date("2039-06-15")}}
	for at, want := range map[string]bool{"2019-06-14": false, "2019-06-15": true, "2039-06-15": true, "2039-06-16": false} {
		if got := id.ValidAt(date(at)); got != want {
			t.Errorf("at %s: %v", at, got)
		}
	}
	long := idcard.Expiry{LongTerm: true}
	if long.Expired(date("2999-01-01")) || long.String() != "长期" {
		t.Error("long term")
	}
	if !(idcard.Expiry{}).Expired(date("2000-01-01")) || (idcard.Expiry{}).String() != "" {
		t.Error("zero expiry")
	}
	if s := (idcard.Expiry{Date: date("2039-06-15")}).String(); s != "2039-06-15" {
		t.Error(s)
	}
}

func TestSexNation(t *testing.T) {
	for in, want := range map[string]idcard.Sex{"男": idcard.Male, "1": idcard.Male, "女": idcard.Female, "2": idcard.Female, "0": idcard.SexUnknown, "9": idcard.SexUnstated} {
		if got, err := idcard.ParseSex(in); err != nil || got != want {
			t.Errorf("ParseSex(%q) = %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "3", "M"} {
		if _, err := idcard.ParseSex(bad); err == nil {
			t.Errorf("ParseSex(%q) accepted", bad)
		}
	}
	for in, want := range map[string]idcard.Nation{"01": 1, "汉": 1, "汉族": 1, "56": 56, "基诺": 56, "97": 97, "98": 98, "维吾尔": 5} {
		if got, err := idcard.ParseNation(in); err != nil || got != want {
			t.Errorf("ParseNation(%q) = %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "00", "57", "96", "99", "+1", "1", "火星"} {
		if _, err := idcard.ParseNation(bad); err == nil {
			t.Errorf("ParseNation(%q) accepted", bad)
		}
	}
	if idcard.Nation(1).String() != "汉" || idcard.Nation(3).Code() != "03" || idcard.Nation(0).String() != "" || idcard.Nation(77).String() != "未知(77)" {
		t.Error("nation strings")
	}
}

// Every card type, printed every way (package masktest), shows nothing of its holder.
func TestIdentityMasked(t *testing.T) {
	for _, id := range []idcard.Identity{
		{Type: idcard.Resident, Name: "李秀英", Number: "410204195603080026", Address: "开封市鼓楼区中山路北段", Nation: 1,
			Birth: date("1956-03-08"), Authority: "开封市公安局鼓楼分局", Photo: bytes.Repeat([]byte{0xAB}, 1024)},
		{Type: idcard.Foreigner, EnglishName: "MUELLER, ANNA", Number: "DEU410085031204", Nationality: "DEU",
			Birth: date("1985-03-12")},
		{Type: idcard.HMT, Name: "陈嘉欣", Number: "810000199007160042", Address: "广东省深圳市福田区福华路",
			PassNumber: "H60213377", IssueCount: 2, Birth: date("1990-07-16")},
	} {
		name := id.Name
		if name == "" {
			name = id.EnglishName
		}
		masktest.Check(t, id, masktest.Name(name), masktest.Number("ID number", id.Number),
			masktest.Number("address", id.Address), masktest.Number("pass number", id.PassNumber),
			masktest.Number("birth date", id.Birth.Format(time.DateOnly)))
		masktest.Check(t, id.Photo, masktest.Number("photo", "\xab\xab\xab\xab\xab"), masktest.Number("photo", "abababababab"))
	}
}

// Nothing that prints an Identity may print its personal fields.
func TestIdentityDoesNotLeak(t *testing.T) {
	id := idcard.Identity{
		Type: idcard.Resident, Name: "李秀英", Number: "410204195603080026", Address: "开封市鼓楼区中山路",
		Birth: date("1956-03-08"), Authority: "开封市公安局鼓楼分局", Photo: bytes.Repeat([]byte{0xAB}, 1024),
	}
	var logged bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	log.Info("card", "id", id, "ptr", &id, "photo", id.Photo)
	js, err := json.Marshal(struct {
		ID  idcard.Identity
		Ptr *idcard.Identity
	}{id, &id})
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{logged.String(), string(js)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		outputs = append(outputs, fmt.Sprintf(verb, id), fmt.Sprintf(verb, &id), fmt.Sprintf(verb, id.Photo))
	}
	outputs = append(outputs, fmt.Sprint([]idcard.Identity{id}), fmt.Sprintf("%+v", struct{ X idcard.Identity }{id}))
	for _, out := range outputs {
		for _, secret := range []string{"李秀英", "秀", "410204195603080026", "1956", "鼓楼", "ab ab", "abab", "ABAB", "q6ur"} {
			if strings.Contains(out, secret) {
				t.Errorf("%q leaks %q", out, secret)
			}
		}
	}
	if s := id.String(); s != "resident 李*英 410***********0026" {
		t.Errorf("String() = %q", s)
	}
	if !strings.Contains(logged.String(), "410***********0026") {
		t.Errorf("log lacks the masked number: %s", logged.String())
	}
	f := idcard.Identity{Type: idcard.Foreigner, EnglishName: "MUELLER, ANNA", Number: "DEU410085031204"}
	if s := f.String(); s != "foreigner M***********A DEU********1204" {
		t.Errorf("foreigner String() = %q", s)
	}
}
