// Package masktest checks that a value holding personal data shows none of it, however it is
// printed: through every fmt verb (with flags, width and precision), slog's text and JSON
// handlers, and encoding/json; alone, by pointer, and inside a struct, a slice and a map. It
// stands beside package mask, whose rules the types it checks print themselves with; it imports
// nothing of the module.
package masktest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// Run is how many consecutive characters of a Number secret count as a leak: a masked card or
// ID number shows 4 at either end, never 5.
const Run = 5

// Secret is one piece of personal data a value holds, and what of it must never show.
type Secret struct {
	what  string
	whole string
	parts []string // each a leak on its own
}

// Number is a number (ID, card, phone) or an address: the whole value, or any Run consecutive
// characters of it, is a leak.
func Number(what, value string) Secret {
	s := Secret{what: what, whole: value}
	r := []rune(value)
	for i := 0; i+Run <= len(r); i++ {
		s.parts = append(s.parts, string(r[i:i+Run]))
	}
	return s
}

// Name is a person's name: the whole name, any 3 consecutive characters of it, or any
// non-ASCII character the mask hides (a Chinese name's middle characters; all but the first and
// the last) is a leak. Pick names whose characters appear nowhere else in what the value prints.
func Name(value string) Secret {
	s := Secret{what: "name", whole: value}
	r := []rune(strings.TrimSpace(value))
	for i := 1; i < len(r); i++ {
		if r[i] > unicode.MaxASCII && (i < len(r)-1 || len(r) == 2) {
			s.parts = append(s.parts, string(r[i]))
		}
	}
	for i := 0; i+3 <= len(r); i++ {
		s.parts = append(s.parts, string(r[i:i+3]))
	}
	return s
}

// Text is free text (a complaint): the whole of it, or any Run consecutive characters, is a
// leak.
func Text(what, value string) Secret { return Number(what, value) }

// Verbs are the fmt directives Outputs tries: every verb a value can meet, with flags, width
// and precision.
var Verbs = []string{
	"%v", "%+v", "%#v", "%s", "%q", "%+q", "%#q", "%x", "%X", "% x", "%#x", "%# X", "%d", "%+d",
	"%b", "%o", "%O", "%c", "%U", "%e", "%f", "%g", "%t", "%20v", "%-40s", "%.4s", "%08d", "%+#v",
	"%10.3q",
}

// Outputs gives what v prints as, by how it was printed ("%+v of pointer", "slog JSON of
// slice", "json of map"): every verb of Verbs, slog's text and JSON handlers, and json.Marshal,
// each of v itself, a pointer to it (unless v is one), a struct with it as an exported field, a
// slice and a map holding it. A value json.Marshal refuses gives its error as the output.
func Outputs(v any) map[string]string {
	out := map[string]string{}
	for how, x := range holders(v) {
		for _, verb := range Verbs {
			out[verb+" of "+how] = fmt.Sprintf(verb, x)
		}
		out["fmt.Sprint of "+how] = fmt.Sprint(x)
		out["fmt.Sprintln of "+how] = fmt.Sprintln(x)
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, noTime)).Info("msg", "v", x)
		slog.New(slog.NewJSONHandler(&js, noTime)).Info("msg", "v", x)
		out["slog text of "+how] = text.String()
		out["slog JSON of "+how] = js.String()
		b, err := json.Marshal(x)
		if err != nil {
			out["json of "+how] = "json.Marshal: " + err.Error()
		} else {
			out["json of "+how] = string(b)
		}
	}
	return out
}

// noTime leaves the time out of slog's lines: its digits could match a number's by chance.
var noTime = &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}}

// holders gives v and the holders of v that Outputs prints. A pointer gets no pointer to it:
// fmt prints a pointer to a pointer as an address, whose digits could match a number's.
func holders(v any) map[string]any {
	rv := reflect.ValueOf(v)
	t := rv.Type()
	st := reflect.New(reflect.StructOf([]reflect.StructField{{Name: "V", Type: t, Tag: `json:"v"`}})).Elem()
	st.Field(0).Set(rv)
	sl := reflect.MakeSlice(reflect.SliceOf(t), 0, 1)
	sl = reflect.Append(sl, rv)
	m := reflect.MakeMap(reflect.MapOf(reflect.TypeFor[string](), t))
	m.SetMapIndex(reflect.ValueOf("k"), rv)
	h := map[string]any{"value": v, "struct": st.Interface(), "slice": sl.Interface(), "map": m.Interface()}
	if t.Kind() != reflect.Pointer {
		p := reflect.New(t)
		p.Elem().Set(rv)
		h["pointer"] = p.Interface()
	}
	return h
}

// Leaks gives one line for each output of Outputs(v) that shows a secret: whole, or a part of
// it, as text, quoted with non-ASCII escaped, or in hex (not as decimal bytes or base64, which
// only a type without Format or MarshalJSON prints). None is what a type that masks itself
// gives.
func Leaks(v any, secrets ...Secret) []string {
	var leaks []string
	for how, out := range Outputs(v) {
		// Hex without its separators and prefixes (% x, %#x), so that a field dumped in hex
		// is found whatever the flags.
		flat := strings.NewReplacer(" ", "", "0x", "", "0X", "").Replace(out)
		for _, s := range secrets {
			for _, part := range append([]string{s.whole}, s.parts...) {
				if part == "" {
					continue
				}
				if strings.Contains(out, part) || strings.Contains(out, quoted(part)) ||
					strings.Contains(flat, hex.EncodeToString([]byte(part))) ||
					strings.Contains(flat, strings.ToUpper(hex.EncodeToString([]byte(part)))) {
					leaks = append(leaks, fmt.Sprintf("%s leaks the %s (%q): %q", how, s.what, part, out))
					break
				}
			}
		}
	}
	return leaks
}

// quoted is s as %+q writes it, without the quotes: non-ASCII escaped.
func quoted(s string) string {
	q := strconv.QuoteToASCII(s)
	return q[1 : len(q)-1]
}

// Check reports on t (Errorf) every leak Leaks finds in v.
func Check(t testing.TB, v any, secrets ...Secret) {
	t.Helper()
	for _, l := range Leaks(v, secrets...) {
		t.Errorf("%T: %s", v, l)
	}
}
