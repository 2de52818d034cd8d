package mask_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"citizenhome/mask"
)

// The cases the seven rules that came before this package agreed on, and where they differed,
// the stricter answer (noted).
func TestRules(t *testing.T) {
	for _, tc := range []struct {
		rule     func(string) string
		name     string
		in, want string
	}{
		{mask.Name, "Name", "张三丰", "张*丰"},
		{mask.Name, "Name", "张小三", "张*三"},
		{mask.Name, "Name", "欧阳娜娜", "欧**娜"},
		{mask.Name, "Name", "司马相如", "司**如"},
		{mask.Name, "Name", "张三", "张*"},
		{mask.Name, "Name", "李", "*"},
		{mask.Name, "Name", "ANNA", "A**A"},
		{mask.Name, "Name", "MUELLER, ANNA", "M***********A"},
		{mask.Name, "Name", " 张三丰 ", "张*丰"},
		{mask.Name, "Name", "", "*"}, // idcard gave "", the kiosk "*": no name looks like a short one
		{mask.Name, "Name", "  ", "*"},
		{mask.Name, "Name", "张*丰", "张*丰"},

		{mask.ID, "ID", "410105198503071234", "410***********1234"},
		{mask.ID, "ID", "41010219900101123X", "410***********123X"},
		{mask.ID, "ID", "DEU410085031204", "DEU********1204"},
		{mask.ID, "ID", "12345678", "123*5678"},
		{mask.ID, "ID", "1234567", "*******"},
		{mask.ID, "ID", "", ""},
		{mask.ID, "ID", "410***********1234", "410***********1234"},

		{mask.Card, "Card", "3104000012345678", "3104********5678"},
		{mask.Card, "Card", "31040000123456789012", "3104************9012"},
		{mask.Card, "Card", "123456789", "1234*6789"},
		{mask.Card, "Card", "卡号12345678九", "卡号12***678九"},
		{mask.Card, "Card", "12345678", "********"}, // citycard gave ****5678: half the number
		{mask.Card, "Card", "1234", "****"},
		{mask.Card, "Card", "", ""},
		{mask.Card, "Card", "3104********5678", "3104********5678"},
		{mask.Card, "Card", "********", "********"},

		{mask.Phone, "Phone", "13800138000", "138****8000"},
		{mask.Phone, "Phone", "+8613800138000", "+86*******8000"},
		{mask.Phone, "Phone", "3771234", "***1234"},
		{mask.Phone, "Phone", "03712345678", "037****5678"},
		{mask.Phone, "Phone", "123456", "******"}, // kioskctl gave **3456; valid phones have 7 digits or more
		{mask.Phone, "Phone", "1234", "****"},
		{mask.Phone, "Phone", "", ""},
		{mask.Phone, "Phone", "138****8000", "138****8000"},
	} {
		got := tc.rule(tc.in)
		if got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
		if again := tc.rule(got); again != got {
			t.Errorf("%s(%q) = %q: masking the masked form changed it", tc.name, got, again)
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(tc.in)); n > 1 && utf8.RuneCountInString(got) != n {
			t.Errorf("%s(%q) = %q: the length changed", tc.name, tc.in, got)
		}
	}
}

// No rule shows more than its share of any value, whatever its length: at most the first and
// last characters of a name, 7 characters of an ID or phone number, 8 of a card number; always
// less than the whole; and nothing of a value shorter than the rule's minimum.
func TestRulesHideEnough(t *testing.T) {
	for n := 0; n <= 24; n++ {
		v := strings.Repeat("7", n)
		for _, tc := range []struct {
			name        string
			rule        func(string) string
			shown, from int // at most shown characters; some from from characters on, none below
		}{
			{"Name", mask.Name, 2, 2},
			{"ID", mask.ID, 7, 8},
			{"Card", mask.Card, 8, 9},
			{"Phone", mask.Phone, 7, 7},
		} {
			got := tc.rule(v)
			shown := strings.Count(got, "7")
			if shown > tc.shown || n > 0 && shown >= n || n < tc.from && shown > 0 || n >= tc.from && shown == 0 {
				t.Errorf("%s of %d characters shows %d: %q", tc.name, n, shown, got)
			}
		}
	}
}

type person struct{ name, number string }

func (p person) String() string {
	return mask.Name(p.name) + " " + mask.ID(p.number)
}
func (p person) Format(f fmt.State, verb rune) { mask.Format(f, verb, p.String()) }

func TestFormat(t *testing.T) {
	p := person{"张翠山", "410105198503071234"}
	const m = "张*山 410***********1234"
	for verb, want := range map[string]string{
		"%v": m, "%+v": m, "%#v": m, "%s": m, "%d": m, "%x": m, "%X": m, "%t": m, "%e": m, "%c": m,
		"%q": `"张*山 410***********1234"`, "%+q": `"\u5f20*\u5c71 410***********1234"`, "%#q": "`张*山 410***********1234`",
		"%26v": "    " + m, "%-26s|": m + "    |", "%.3v": "张*山", "%x|%d": m + "|" + m,
	} {
		args := []any{p}
		if strings.Count(verb, "%") == 2 {
			args = append(args, p)
		}
		if got := fmt.Sprintf(verb, args...); got != want {
			t.Errorf("Sprintf(%q) = %q, want %q", verb, got, want)
		}
	}
	if got := fmt.Sprint([]person{p}, map[string]person{"k": p}); got != "["+m+"] map[k:"+m+"]" {
		t.Errorf("in a slice and a map: %q", got)
	}
}

func TestFields(t *testing.T) {
	var none mask.Fields
	if b, err := none.MarshalJSON(); err != nil || string(b) != "{}" {
		t.Errorf("empty: %s %v", b, err)
	}
	fs := mask.Fields{}.Add("name", mask.Name("张翠山")).Add("n", 3).Add("who", person{"张翠山", "410105198503071234"}.String()).Add("html", "<&>")
	b, err := json.Marshal(fs)
	if err != nil || string(b) != `{"name":"张*山","n":3,"who":"张*山 410***********1234","html":"\u003c\u0026\u003e"}` {
		t.Errorf("json: %s %v", b, err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime})).Info("m", "p", fs)
	if got := buf.String(); got != "level=INFO msg=m p.name=张*山 p.n=3 p.who=\"张*山 410***********1234\" p.html=<&>\n" {
		t.Errorf("slog: %q", got)
	}
	if _, err := json.Marshal(mask.Fields{}.Add("bad", func() {})); err == nil || !strings.Contains(err.Error(), "field bad") {
		t.Errorf("a field that does not marshal: %v", err)
	}
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
