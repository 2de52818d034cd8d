package tomlfile

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// The struct the tests read: every kind of field the decoder knows.
type testConfig struct {
	Site  site   `toml:"site"`
	Rules rules  `toml:"rules"`
	Rooms []room `toml:"room"`
	Note  string `toml:"-"`
}

type site struct {
	ID     string   `toml:"id"`
	Name   string   `toml:"name"`
	Tags   []string `toml:"tags"`
	Open   bool     `toml:"open"`
	Paint  color    `toml:"paint"`
	Limits limits   `toml:"limits"`
}

type limits struct {
	Max int `toml:"max"`
}

type rules struct {
	Share float64  `toml:"share"`
	Wait  duration `toml:"wait"`
	Tries int      `toml:"tries"`
}

type room struct {
	Name  string   `toml:"name"`
	Seats int      `toml:"seats"`
	Hours []string `toml:"hours"`
}

// duration is the callers' kind of duration type.
type duration struct{ time.Duration }

func (d *duration) UnmarshalText(b []byte) error { return ParseDuration(&d.Duration, b, `"5m"`) }

func (d duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// color is a text type that is not a duration: "#rrggbb".
type color struct{ R, G, B uint8 }

func (c *color) UnmarshalText(b []byte) error {
	if _, err := fmt.Sscanf(string(b), "#%02x%02x%02x", &c.R, &c.G, &c.B); err != nil || len(b) != 7 {
		return fmt.Errorf("%q is not a colour like \"#a0b0c0\"", b)
	}
	return nil
}

func (c color) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "#%02x%02x%02x", c.R, c.G, c.B), nil
}

func testDefaults() testConfig {
	return testConfig{
		Site:  site{ID: "s1", Tags: []string{"main", "old"}, Paint: color{1, 2, 3}, Limits: limits{Max: 9}},
		Rules: rules{Share: 0.5, Wait: duration{45 * time.Minute}, Tries: 3},
		Rooms: []room{{Name: "hall", Seats: 40, Hours: []string{"08:00-12:00"}}},
	}
}

func testOptions() *Options {
	return &Options{
		Defaults:  testDefaults(),
		Examples:  map[string]string{"site.name": `"Main site"`, "room": "[[room]] tables, each with name and seats", "room.hours": `["08:00-12:00"]`},
		Reference: "/usr/share/doc/test/example.toml",
		Entries:   map[string]string{"room": "name"},
	}
}

// decode reads doc into the defaults, validates nothing, and gives the problems.
func decode(t *testing.T, doc string, o *Options) (testConfig, []Problem, bool) {
	t.Helper()
	c := testDefaults()
	f, readable := Decode("t.toml", []byte(doc), &c, o)
	return c, f.Problems(), readable
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"idle", "idle", 0},
		{"idel_warning", "idle_warning", 2}, {"embeded", "embedded", 1},
		{"kitten", "sitting", 3}, {"colour", "color", 1},
	} {
		if d := editDistance(c.a, c.b); d != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, d, c.d)
		}
	}
}

func TestKeyLines(t *testing.T) {
	doc := `top = 1
[site]
id = "a"
limits.max = 3

[[room]]
name = "x"
hours = ["a",
  "b"]
[[room]]
name = "y"
[site.more]
k = { a = 1 }
`
	lines, err := KeyLines([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := Lines{"top": 1, "site": 2, "site.id": 3, "site.limits.max": 4, "room": 6, "room[0]": 6,
		"room[0].name": 7, "room[0].hours": 8, "room[1]": 10, "room[1].name": 11, "site.more": 12, "site.more.k": 13}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("lines:\n got %v\nwant %v", lines, want)
	}
	for key, line := range map[string]int{
		"room[0].hours[1]": 8, "room[1].seats": 10, "site.name": 2, "site.limits": 2, "nowhere": 0,
		"room[5].name": 6, "[x": 0, "a]": 0, ".": 0,
	} {
		if got := lines.Line(key); got != line {
			t.Errorf("Line(%q) = %d, want %d", key, got, line)
		}
	}
	_, err = KeyLines([]byte("a = 1\n[b\nc = 2\n"))
	var p *Problem
	if !errors.As(err, &p) || p.Line != 2 || p.Key != "" || p.Msg == "" {
		t.Errorf("syntax error: %#v", err)
	}
}

// A file with problems of every kind: each is listed once, in line order, with its key, line and
// entry, in words; what decoded is set and what failed keeps its default.
func TestDecodeEveryProblem(t *testing.T) {
	doc := `[site]
id = 5
nmae = "x"
tries = 4
open = "true"
tags = "a"
paint = "red"
limits = 3

[rules]
share = "0.5"
wait = 45
tries = 2.0

[[room]]
name = "A"
seats = "12"
hours = [8]

[[room]]
name = "a name far too long for a label"
seats = 3
colour = 1

[elsewhere]
x = 1
`
	c, ps, readable := decode(t, doc, testOptions())
	if !readable {
		t.Fatal("not readable")
	}
	want := []string{
		`t.toml:2: site.id: expected text in quotes like "s1", got the number 5 (put it in quotes)`,
		`t.toml:3: site.nmae: unknown key (did you mean name?)`,
		`t.toml:4: site.tries: unknown key in [site]: tries belongs in [rules]`,
		`t.toml:5: site.open: expected true or false (without quotes), got the text "true" (remove the quotes)`,
		`t.toml:6: site.tags: expected a list of texts in quotes like ["main", "old"], got the text "a" (a list goes in brackets, even with one entry: ["a"])`,
		`t.toml:7: site.paint: "red" is not a colour like "#a0b0c0"`,
		`t.toml:8: site.limits: expected a table: a [site.limits] header with its keys below it, got the number 3`,
		`t.toml:11: rules.share: expected a number like 0.5, got the text "0.5" (remove the quotes)`,
		`t.toml:12: rules.wait: expected a duration in quotes like "60s", "5m" or "1h30m", got the number 45 (a duration goes in quotes with its unit: "45s", "45m" or "45h")`,
		`t.toml:13: rules.tries: expected a whole number like 3, got the number 2.0 (write it without a decimal point)`,
		`t.toml:17: room[0].seats (name "A"): expected a whole number, got the text "12" (remove the quotes)`,
		`t.toml:18: room[0].hours[0] (name "A"): expected text in quotes like "08:00-12:00", got the number 8 (put it in quotes)`,
		`t.toml:23: room[1].colour (room 2 of 2): unknown key (every key of [room] is in /usr/share/doc/test/example.toml)`,
		`t.toml:25: elsewhere: unknown key (the tables are [site], [rules] and [room])`,
	}
	if len(ps) != len(want) {
		t.Errorf("%d problems, want %d", len(ps), len(want))
	}
	for i := range min(len(ps), len(want)) {
		if got := ps[i].Error(); got != want[i] {
			t.Errorf("problem %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
	// What decoded is set; what failed keeps its default.
	d := testDefaults()
	if c.Site.ID != d.Site.ID || c.Rules.Share != d.Rules.Share || len(c.Rooms) != 2 || c.Rooms[0].Name != "A" || c.Rooms[1].Seats != 3 || c.Rooms[0].Seats != 0 {
		t.Errorf("decoded %+v", c)
	}
}

// A wrong value is reported once: validation's word on a key (or anything inside a table) that
// already has a problem is dropped, and the problems come by line, those with none last.
func TestAddKeepsOneProblemPerKey(t *testing.T) {
	c := testDefaults()
	f, _ := Decode("", []byte("[site]\nlimits = 1\nid = []\n"), &c, testOptions())
	f.Add("site.limits.max", "must be set")
	f.Add("site.limits", "second word")
	f.Add("site.id", "second word")
	f.Add("rules.tries", "%d is too few", 1)
	f.Add("room[0].seats", "missing")
	if !f.Has("site.limits.max") || !f.Has("site.id") || f.Has("site.name") || f.Has("site.limit") {
		t.Error("Has")
	}
	var got []string
	for _, p := range f.Problems() {
		got = append(got, p.Error())
	}
	want := []string{
		"2: site.limits: expected a table: a [site.limits] header with its keys below it, got the number 1",
		`3: site.id: expected text in quotes like "s1", got a list of 0`,
		"room[0].seats: missing",
		"rules.tries: 1 is too few",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
}

// Every kind of field, given a value of another kind, is described in plain words.
func TestMismatchWords(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{"[site]\nname = 2026-10-01", `expected text in quotes like "Main site", got the date 2026-10-01 not in quotes (put it in quotes: "2026-10-01")`},
		{"[site]\nname = 08:30:00", `expected text in quotes like "Main site", got the time of day 08:30:00 not in quotes (put it in quotes)`},
		{"[site]\nname = 1979-05-27T07:32:00", `expected text in quotes like "Main site", got the date and time 1979-05-27T07:32:00 not in quotes`},
		{"[site]\nname = 1.5", `expected text in quotes like "Main site", got the number 1.5 (put it in quotes)`},
		{"[site]\nname = {a = 1}", `expected text in quotes like "Main site", got a table`},
		{"[site]\nname = \"" + strings.Repeat("x", 50) + "\"\nname2 = 1", ``},
		{"[site]\nopen = 1", `expected true or false (without quotes), got the number 1`},
		{"[site]\npaint = 5", `expected text in quotes like "#010203", got the number 5 (put it in quotes)`},
		{"[site]\nlimits = [1]", `expected a table: a [site.limits] header with its keys below it, got a list of 1`},
		{"[site]\ntags = [true]", `expected text in quotes like "main", got the value true`},
		{"[rules]\nshare = true", `expected a number like 0.5, got the value true`},
		{"[rules]\nshare = 1e300", ``},
		{"[rules]\ntries = 1e20", `expected a whole number like 3, got the number 1e+20 (write it without a decimal point)`},
		{"[rules]\ntries = 9223372036854775807", ``},
		{"[rules]\nwait = \"1 hour\"", `"1 hour" is not a duration (write it like "5m")`},
		{"[rules]\nwait = 1.5", `expected a duration in quotes like "60s", "5m" or "1h30m", got the number 1.5 (a duration goes in quotes with its unit: "1.5s", "1.5m" or "1.5h")`},
		{"room = \"x\"", `expected [[room]] tables, each with name and seats, got the text "x"`},
		{"room = [\"x\"]", `expected a table of keys (name, seats, hours), got the text "x"`},
		{"site = 1", `expected a table: a [site] header with its keys below it, got the number 1`},
	} {
		_, ps, _ := decode(t, c.doc, testOptions())
		if c.want == "" {
			if len(ps) > 0 && !strings.Contains(c.doc, "name2") {
				t.Errorf("%q: %v", c.doc, ps)
			}
			continue
		}
		if len(ps) != 1 || ps[0].Msg != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.doc, ps, c.want)
		}
	}
	// A long text is cut short.
	_, ps, _ := decode(t, "[site]\nopen = \""+strings.Repeat("x", 50)+"\"", testOptions())
	if len(ps) != 1 || !strings.Contains(ps[0].Msg, `got the text "`+strings.Repeat("x", 37)+`..."`) {
		t.Errorf("long text: %v", ps)
	}
}

// What differs between callers is the options': the duration examples, the hint, the entries'
// names and the headers of arrays of tables.
func TestOptionsWording(t *testing.T) {
	doc := "[rules]\nwait = 5\n[[room]]\nname = \"a long name\"\nsaets = 1\nmax = 2\n[[room]]\nname = \"b\"\nhours = 2026-10-01\nzz = 1\n"
	plain := []string{
		`2: rules.wait: expected a duration in quotes like "45m" or "30s", got the number 5 (a duration goes in quotes with its unit: "5s", "5m" or "5h")`,
		`5: room[0].saets (room 1 of 2): unknown key (did you mean seats?)`,
		`6: room[0].max (room 1 of 2): unknown key in [room[0]]: max belongs in [site.limits]`,
		`9: room[1].hours (name "b"): expected a list of texts in quotes like ["08:00-12:00"], got the date 2026-10-01 not in quotes (dates: "2026-10-01")`,
		`10: room[1].zz (name "b"): unknown key (every key of [room] is in /usr/share/doc/test/example.toml)`,
	}
	o := testOptions()
	o.DurationLike = `"45m" or "30s"`
	o.EntryMax = 5
	o.Hint = func(_ reflect.Type, x any) string {
		if d, ok := x.(toml.LocalDate); ok {
			return "dates: \"" + d.String() + "\""
		}
		return ""
	}
	check := func(o *Options, want []string) {
		t.Helper()
		c := testDefaults()
		f, _ := Decode("", []byte(doc), &c, o)
		var got []string
		for _, p := range f.Problems() {
			got = append(got, p.Error())
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("problems:\n got %q\nwant %q", got, want)
		}
	}
	check(o, plain)
	o.ListHeaders = true
	headers := slicesReplace(plain, "[room[0]]", "[[room]]", "every key of [room]", "every key of [[room]]")
	check(o, headers)
	// Between tables: a key put in a table of a list names the list's header.
	c := testDefaults()
	f, _ := Decode("", []byte("[site]\nseats = 1\nzzzz = 1\n"), &c, o)
	ps := f.Problems()
	if len(ps) != 2 || ps[0].Msg != "unknown key in [site]: seats belongs in [[room]]" ||
		ps[1].Msg != "unknown key (every key of [site] is in /usr/share/doc/test/example.toml)" {
		t.Errorf("%v", ps)
	}
	f, _ = Decode("", []byte("zzzz = 1\n"), &c, o)
	if ps := f.Problems(); len(ps) != 1 || ps[0].Msg != "unknown key (the tables are [site], [rules] and [[room]])" {
		t.Errorf("%v", ps)
	}
}

func slicesReplace(list []string, oldnew ...string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.NewReplacer(oldnew...).Replace(s)
	}
	return out
}

// A syntax error, or a key defined twice, is the only problem, on its line with its full key;
// the struct is untouched.
func TestUnreadable(t *testing.T) {
	for _, c := range []struct {
		doc  string
		line int
		key  string
		msg  string
	}{
		{"[site]\nid = \"a\"\n[rules\n", 3, "", ""},
		{"[site]\nid = \"a\"\nid = \"b\"\n", 3, "site.id", "already"},
		{"[[room]]\nname = \"a\"\n[[room]]\nname = \"b\"\nname = \"c\"\n", 5, "room[1].name", "already"},
		{"[site]\n[rules]\n[site]\n", 3, "site", "already"},
	} {
		got, ps, readable := decode(t, c.doc, nil)
		if readable || len(ps) != 1 || ps[0].Line != c.line || ps[0].Key != c.key || !strings.Contains(ps[0].Msg, c.msg) ||
			strings.HasPrefix(ps[0].Msg, "toml:") || strings.Contains(ps[0].Msg, "\n") || ps[0].File != "t.toml" {
			t.Errorf("%q: readable %v, %#v", c.doc, readable, ps)
		}
		if !reflect.DeepEqual(got, testDefaults()) {
			t.Errorf("%q: the struct was changed", c.doc)
		}
	}
}

func TestProblemText(t *testing.T) {
	for _, c := range []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.toml", Key: "k", Where: `id "1"`, Line: 3, Msg: "m"}, `a.toml:3: k (id "1"): m`},
		{Problem{File: "a.toml", Key: "k", Msg: "m"}, `a.toml: k: m`},
		{Problem{Line: 2, Msg: "m"}, `2: m`},
		{Problem{Key: "k", Msg: "m"}, `k: m`},
		{Problem{Msg: "m"}, `m`},
	} {
		if got := c.p.Error(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
	es := []*Problem{{Msg: "a"}, {Key: "k", Msg: "b"}}
	if Join(es) != "a\nk: b" || Join([]*Problem{}) != "" {
		t.Errorf("Join: %q", Join(es))
	}
	var p *Problem
	if u := Unwrap(es); len(u) != 2 || !errors.As(errors.Join(u...), &p) || p != es[0] {
		t.Errorf("Unwrap: %v", u)
	}
}

func TestKeysAndLookup(t *testing.T) {
	want := []string{"site.id", "site.name", "site.tags", "site.open", "site.paint", "site.limits.max",
		"rules.share", "rules.wait", "rules.tries", "room[0].name", "room[0].seats", "room[0].hours"}
	if got := Keys(reflect.TypeFor[testConfig]()); !reflect.DeepEqual(got, want) {
		t.Errorf("Keys:\n got %v\nwant %v", got, want)
	}
	d := reflect.ValueOf(testDefaults())
	for key, want := range map[string]any{"site.limits.max": 9, "rules.wait": duration{45 * time.Minute}, "room[3].seats": 0, "room.name": ""} {
		if v, ok := Lookup(d, key); !ok || !reflect.DeepEqual(v.Interface(), want) {
			t.Errorf("Lookup(%s) = %v %v", key, v, ok)
		}
	}
	for _, key := range []string{"site.nope", "site.id.x", "-", "room[0].name.x"} {
		if _, ok := Lookup(d, key); ok {
			t.Errorf("Lookup(%s) found a field", key)
		}
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", time.Minute: "1m", 24 * time.Hour: "24h", 90 * time.Minute: "1h30m", 800 * time.Millisecond: "800ms",
		10 * time.Second: "10s", 90 * time.Second: "1m30s", time.Hour + time.Second: "1h0m1s",
	} {
		if got := ShortDuration(d); got != want {
			t.Errorf("ShortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	d := time.Minute
	if err := ParseDuration(&d, []byte("1h30m"), `"5m"`); err != nil || d != 90*time.Minute {
		t.Errorf("1h30m: %v %v", d, err)
	}
	err := ParseDuration(&d, []byte("soon"), `"60s" or "5m"`)
	var de *DurationError
	if !errors.As(err, &de) || d != 90*time.Minute || err.Error() != `"soon" is not a duration (write it like "60s" or "5m")` {
		t.Errorf("soon: %v %v", d, err)
	}
}

func TestDecodeNeedsAStructPointer(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a struct value")
		}
	}()
	Decode("", nil, testConfig{}, nil)
}

// Bytes from outside: Decode never panics, every problem has a line within the file and a
// message, a field tagged "-" is never set, and a file with no problem reads back the same when
// written out again.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("[site]\nid = \"a\"\ntags = [\"x\"]\npaint = \"#0a0b0c\"\n[site.limits]\nmax = 2\n[rules]\nshare = 1\nwait = \"5m\"\n[[room]]\nname = \"r\"\nseats = 2\nhours = []\n"))
	f.Add([]byte("[site]\nid = 5\nnmae = 1\n[[room]]\nname = 5\nseats = \"3\"\nzz = 1\n[[room]]\nhours = [2026-10-01]\n"))
	f.Add([]byte("site = { id = \"x\", limits = { max = 1 } }\nrules.wait = 5\nroom = [{name = \"a\"}, 5]\n\"-\" = 1\n"))
	f.Add([]byte("[site\n"))
	f.Add([]byte("\"a]\" = 1\n[\"b[\"]\nc = 2\n[rules]\nshare = nan\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := testDefaults()
		file, _ := Decode("f.toml", data, &c, testOptions())
		ps := file.Problems()
		n := strings.Count(string(data), "\n") + 1
		for _, p := range ps {
			if p.Line < 0 || p.Line > n || p.Msg == "" || p.File != "f.toml" {
				t.Fatalf("problem out of the file: %+v (%d lines)", p, n)
			}
		}
		if c.Note != "" {
			t.Fatalf("a field tagged - was set: %q", c.Note)
		}
		if len(ps) > 0 || math.IsNaN(c.Rules.Share) {
			return
		}
		b, err := toml.Marshal(c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again := testDefaults()
		file, _ = Decode("", b, &again, testOptions())
		if ps := file.Problems(); ps != nil {
			t.Fatalf("a file that read, written out, does not read: %v\n%s", ps, b)
		}
		// Compared as written: an empty list and none (a table's zero value) both write [].
		if b2, err := toml.Marshal(again); err != nil || !bytes.Equal(b2, b) {
			t.Fatalf("round trip differs (%v):\n%s\n%s", err, b2, b)
		}
	})
}
