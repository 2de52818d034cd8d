package masktest_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"citizenhome/mask"
	"citizenhome/mask/masktest"
)

// masked prints itself through package mask.
type masked struct{ Name, Number string }

func (m masked) String() string                { return mask.Name(m.Name) + " " + mask.ID(m.Number) }
func (m masked) Format(f fmt.State, verb rune) { mask.Format(f, verb, m.String()) }
func (m masked) LogValue() slog.Value          { return m.fields().LogValue() }
func (m masked) MarshalJSON() ([]byte, error)  { return m.fields().MarshalJSON() }
func (m masked) fields() mask.Fields {
	return mask.Fields{}.Add("name", mask.Name(m.Name)).Add("number", mask.ID(m.Number))
}

// Each of these forgets one way out, as kiosk.Person did with Format.
type (
	plain     struct{ Name, Number string }
	noFormat  struct{ Name, Number string }
	noLog     struct{ masked }
	noJSON    struct{ Name, Number string }
	ptrFormat struct{ Name, Number string }
	hexField  struct{ Number []byte }
)

func (p noFormat) String() string       { return mask.Name(p.Name) + " " + mask.ID(p.Number) }
func (p noFormat) LogValue() slog.Value { return slog.StringValue(p.String()) }

func (p noLog) Format(f fmt.State, verb rune) { mask.Format(f, verb, p.String()) }
func (p noLog) LogValue() slog.Value          { return slog.StringValue(p.masked.Name) }

func (p noJSON) String() string                { return mask.Name(p.Name) }
func (p noJSON) Format(f fmt.State, verb rune) { mask.Format(f, verb, p.String()) }
func (p noJSON) LogValue() slog.Value          { return slog.StringValue(p.String()) }

func (p *ptrFormat) String() string                { return mask.Name(p.Name) }
func (p *ptrFormat) Format(f fmt.State, verb rune) { mask.Format(f, verb, p.String()) }
func (p *ptrFormat) LogValue() slog.Value          { return slog.StringValue(p.String()) }
func (p *ptrFormat) MarshalJSON() ([]byte, error)  { return []byte(`"x"`), nil }

const (
	name   = "张翠山"
	number = "410105198503071234"
)

var secrets = []masktest.Secret{masktest.Name(name), masktest.Number("ID number", number)}

func TestMaskedPasses(t *testing.T) {
	if leaks := masktest.Leaks(masked{name, number}, secrets...); len(leaks) != 0 {
		t.Errorf("a masked type leaks:\n%s", strings.Join(leaks, "\n"))
	}
	out := masktest.Outputs(masked{name, number})
	for how, want := range map[string]string{
		"%#v of value": "张*山 410***********1234", "%+v of struct": "{V:张*山 410***********1234}",
		"json of map": `{"k":{"name":"张*山","number":"410***********1234"}}`,
	} {
		if out[how] != want {
			t.Errorf("%s = %q, want %q", how, out[how], want)
		}
	}
	for _, how := range []string{"slog text of pointer", "slog JSON of value"} {
		if !strings.Contains(out[how], "410***********1234") {
			t.Errorf("%s lacks the masked number: %q", how, out[how])
		}
	}
}

// Every way out that a type forgets is found: the checks can fail.
func TestLeaksAreFound(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want []string // one output that must be reported for each
	}{
		{plain{name, number}, []string{"%v of value", "slog text of value", "json of value"}},
		{noFormat{name, number}, []string{"%#v of value", "%d of struct", "json of slice"}},
		{noLog{masked{name, number}}, []string{"slog text of value", "slog JSON of pointer"}},
		{noJSON{name, number}, []string{"json of value", "slog JSON of map"}},
		{ptrFormat{name, number}, []string{"%v of value", "json of struct"}},
		{hexField{[]byte(number)}, []string{"%x of struct", "% x of struct", "%#x of slice", "%X of value"}},
		{masked{"张三", number}, nil}, // a name of two shows its first character only
	} {
		leaks := masktest.Leaks(tc.v, secrets...)
		if tc.want == nil && len(leaks) != 0 {
			t.Errorf("%T: %s", tc.v, strings.Join(leaks, "\n"))
		}
		for _, how := range tc.want {
			found := false
			for _, l := range leaks {
				found = found || strings.HasPrefix(l, how+" leaks ")
			}
			if !found {
				t.Errorf("%T: %s not reported; got:\n%s", tc.v, how, strings.Join(leaks, "\n"))
			}
		}
	}
	// A run of 5 characters of a number is a leak, 4 is not.
	if l := masktest.Leaks("x 05198 x", masktest.Number("ID number", number)); len(l) == 0 {
		t.Error("a run of 5 digits is not found")
	}
	if l := masktest.Leaks("x 0519 x 1234", masktest.Number("ID number", number)); len(l) != 0 {
		t.Errorf("4 digits found: %v", l)
	}
	if l := masktest.Leaks("张*山 翠", masktest.Name(name)); len(l) == 0 {
		t.Error("a hidden character of the name is not found")
	}
	if l := masktest.Leaks(`"\u5f20\u7fe0\u5c71"`, masktest.Name(name)); len(l) == 0 {
		t.Error("a name with its characters escaped (\\u) is not found")
	}
}
