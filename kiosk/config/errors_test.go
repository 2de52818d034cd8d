package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"citizenhome/tomlfile"
)

// A file with problems of every kind: each is listed, in line order, with its own key and line,
// and a value that failed to decode is not reported a second time by validation.
func TestEveryProblemListed(t *testing.T) {
	file := `[hall]
id = "Bad_ID"
colour = "red"

[kiosk]
idle_timeout = 60
language = "fr"
printer_baud = 9600
idel_warning = "5s"

[hours]
weekday = "08:30-12:00"
closed = [2026-10-01]

[queue]
elder_age = "70"

[[queue.category]]
letter = "A"
counters = "3"

[[queue.category]]
letter = "B"
avg_service = 8

[[queue.category]]
letter = "b"
counters = 2.0

[devices]
printer = 5
printer_english = "yes"

[mqtt]
heartbeat = "sixty"

[printer]
baud = 9600
`
	want := []struct {
		line       int
		key, where string
		words      []string
	}{
		{2, "hall.id", "", []string{`"Bad_ID" must match`}},
		{3, "hall.colour", "", []string{"unknown key"}},
		{6, "kiosk.idle_timeout", "", []string{"expected a duration in quotes", "got the number 60"}},
		{7, "kiosk.language", "", []string{"zh or en"}},
		{8, "kiosk.printer_baud", "", []string{"unknown key", "belongs in [devices]"}},
		{9, "kiosk.idel_warning", "", []string{"unknown key", "did you mean idle_warning?"}},
		{12, "hours.weekday", "", []string{"expected a list", `got the text "08:30-12:00"`, "brackets"}},
		{13, "hours.closed[0]", "", []string{"got the date 2026-10-01", `put the date in quotes: "2026-10-01"`}},
		{16, "queue.elder_age", "", []string{"expected a whole number like 65", `got the text "70"`, "remove the quotes"}},
		{20, "queue.category[0].counters", `letter "A"`, []string{"expected a whole number", `got the text "3"`, "remove the quotes"}},
		{24, "queue.category[1].avg_service", `letter "B"`, []string{"expected a duration", "got the number 8", `"8m"`}},
		{27, "queue.category[2].letter", `letter "b"`, []string{"one capital letter"}},
		{28, "queue.category[2].counters", `letter "b"`, []string{"expected a whole number", "got the number 2.0", "decimal point"}},
		{31, "devices.printer", "", []string{`expected text in quotes like "/dev/citizenhome-printer"`, "got the number 5", "put it in quotes"}},
		{32, "devices.printer_english", "", []string{"expected true or false", `got the text "yes"`}},
		{35, "mqtt.heartbeat", "", []string{`"sixty" is not a duration (write it like "60s" or "5m")`}},
		{37, "printer", "", []string{"unknown key", "[devices]"}},
	}
	_, err := Parse([]byte(file))
	var es Errors
	if !errors.As(err, &es) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("want Errors, got %T %v", err, err)
	}
	for i, e := range es {
		if i >= len(want) {
			t.Errorf("more than expected: %v", e)
			continue
		}
		w := want[i]
		if e.Line != w.line || e.Key != w.key || e.Where != w.where {
			t.Errorf("problem %d: line %d key %q where %q, want line %d key %q where %q (%v)", i, e.Line, e.Key, e.Where, w.line, w.key, w.where, e)
		}
		for _, word := range w.words {
			if !strings.Contains(e.Msg, word) {
				t.Errorf("problem %d (%s): %q does not say %q", i, e.Key, e.Msg, word)
			}
		}
	}
	if len(es) < len(want) {
		t.Errorf("%d problems listed, want %d:\n%v", len(es), len(want), err)
	}
	// One line of text per problem, each starting with its line and key.
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(es) || lines[4] != `8: kiosk.printer_baud: unknown key in [kiosk]: printer_baud belongs in [devices]` ||
		!strings.HasPrefix(lines[9], `20: queue.category[0].counters (letter "A"): expected a whole number`) {
		t.Errorf("text:\n%s", err)
	}
	// The first problem is what errors.As finds, for callers that show one.
	var first *Error
	if !errors.As(err, &first) || first != es[0] {
		t.Errorf("errors.As gives %v, want the first problem", first)
	}
}

// A syntax error, or a key defined twice, stops reading: it is the only problem listed, on its
// line.
func TestSyntaxStops(t *testing.T) {
	for _, c := range []struct {
		name, file string
		line       int
		key, words string
	}{
		{"unclosed table", "[hall]\nid = \"a\"\n[kiosk\nlanguage = 5\n", 3, "", ""},
		{"table twice", "[kiosk]\nlanguage = 5\n[hall]\n[kiosk]\nid = 7\n", 4, "kiosk", "already"},
		{"key twice", "[hall]\nid = \"a\"\nid = \"b\"\nname = 5\n", 3, "hall.id", "already"},
		{"bad value", "[hall]\nid = \"a\nname = 5\n", 2, "", ""},
	} {
		_, err := Parse([]byte(c.file))
		var es Errors
		if !errors.As(err, &es) || len(es) != 1 || es[0].Line != c.line || es[0].Key != c.key || !strings.Contains(es[0].Msg, c.words) {
			t.Errorf("%s: %v (%#v)", c.name, err, es)
		}
	}
}

// Every key of the file, given a value of the wrong kind, reads in plain words: what was
// expected (with an example where the default shows none), and what the file has. No Go type
// or decoder jargon reaches the technician.
func TestMismatchInPlainWords(t *testing.T) {
	jargon := regexp.MustCompile(`cannot decode|struct field|config\.|int64|float64|interface|\[\]string|map\[|toml:|reflect|kind `)
	d := reflect.ValueOf(Default())
	for _, key := range tomlKeys(reflect.TypeOf(Config{}), "") {
		table, leaf := key[:strings.LastIndexByte(key, '.')], key[strings.LastIndexByte(key, '.')+1:]
		header := "[" + table + "]"
		if strings.HasPrefix(table, "queue.category") {
			header = "[[queue.category]]"
		}
		v, _ := tomlfile.Lookup(d, key)
		if strings.HasPrefix(key, "queue.category") {
			v = reflect.ValueOf(Category{})
			v, _ = tomlfile.Lookup(v, leaf)
		}
		var wrongs []string
		switch v.Interface().(type) {
		case string:
			wrongs = []string{"5", "true", "[\"a\"]", "2026-10-01"}
		case int:
			wrongs = []string{`"7"`, "1.5", "true", "[1, 2]"}
		case bool:
			wrongs = []string{`"yes"`, `"true"`, "1"}
		case Duration:
			wrongs = []string{"60", "1.5", "true", "[\"60s\"]"}
		case []string:
			wrongs = []string{`"x"`, "5", "[5]", "[08:30:00]", "{ a = 1 }"}
		default:
			t.Fatalf("%s: no wrong values for %T", key, v.Interface())
		}
		for _, wrong := range wrongs {
			file := header + "\n" + leaf + " = " + wrong + "\n"
			if header == "[[queue.category]]" && leaf != "letter" {
				file += "letter = \"A\"\n" // else the missing letter is a second problem
			}
			_, err := Parse([]byte(file))
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Errorf("%s = %s: want one problem, got %v", key, wrong, err)
				continue
			}
			e := es[0]
			wantKey := key
			if strings.HasPrefix(wrong, "[") && (v.Kind() == reflect.Slice) {
				wantKey += "[0]"
			}
			if e.Key != wantKey || e.Line != 2 {
				t.Errorf("%s = %s: key %q line %d (%v)", key, wrong, e.Key, e.Line, e)
			}
			if !strings.HasPrefix(e.Msg, "expected ") || !strings.Contains(e.Msg, ", got ") || jargon.MatchString(e.Msg) {
				t.Errorf("%s = %s: not in plain words: %q", key, wrong, e.Msg)
			}
		}
	}
	// An array of tables and a table given as plain values.
	for _, c := range []struct{ file, key, words string }{
		{"[queue]\ncategory = \"A\"\n", "queue.category", "[[queue.category]] tables"},
		{"[queue]\ncategory = [\"A\"]\n", "queue.category[0]", "a table of keys"},
		{"hall = \"kf\"\n", "hall", "a [hall] header"},
	} {
		_, err := Parse([]byte(c.file))
		var es Errors
		if !errors.As(err, &es) || len(es) != 1 || es[0].Key != c.key || !strings.Contains(es[0].Msg, c.words) || jargon.MatchString(es[0].Msg) {
			t.Errorf("%q: %v", c.file, err)
		}
	}
}

// Every field decodes: a configuration with no default left, written out by go-toml, reads
// back equal (the walker knows every kind of field Config has).
func TestEveryFieldDecodes(t *testing.T) {
	h, err := HashPIN("135790")
	if err != nil {
		t.Fatal(err)
	}
	c := Default()
	c.Hall = Hall{ID: "kf-smzj", Name: "开封市民之家", NameEn: "Kaifeng", TimeZone: "Asia/Urumqi", LockedMessage: "暂停",
		Controller: true, TakeDeadline: Duration{2 * time.Second}, PublicURL: "https://hall.example.cn/kf"}
	c.Kiosk = Kiosk{ID: "k07", Language: "en", Store: "/srv/k.db", Catalog: "/etc/c.json",
		IdleTimeout: Duration{90 * time.Second}, IdleReading: Duration{150 * time.Second}, IdleElder: Duration{4 * time.Minute},
		IdleWarning: Duration{25 * time.Second}, HelpTimeout: Duration{20 * time.Minute}, PrintDir: "/tmp/p"}
	c.Hours = Hours{Weekday: []string{"08:00-12:00"}, Weekend: []string{}, Closed: []string{"2026-10-01"}, Workdays: []string{"2026-10-11"}}
	c.Queue = Queue{ElderAge: 70, PriorityCategories: []string{"G"}, Categories: []Category{{"G", Duration{3 * time.Minute}, 1}, {"H", Duration{}, 0}}}
	c.Devices = Devices{Printer: "/dev/p", PrinterBaud: 9600, PrinterFlow: "rtscts", PrinterPaper: "58mm", PrinterQR: "raster",
		PrinterEnglish: true, IDReader: "/dev/i", IDReaderBaud: 57600, CardReader: "C", UIDReader: "U", PSAMReader: "P", Font: "/f.ttf",
		IDReaderPosition: PosBelowScreen, CardReaderPosition: PosLeft}
	c.MQTT = MQTT{Enabled: true, URL: "ssl://b:8883", CredentialsFile: "/c", CAFile: "/ca", CertFile: "/cert", KeyFile: "/key", Heartbeat: Duration{30 * time.Second}}
	c.API = API{Listen: "unix:/run/api.sock", TokenFile: "/t"}
	c.Staff = Staff{PINHash: h, Cards: []string{"04A1B2C3"}, IdleTimeout: Duration{10 * time.Minute}}
	c.Privacy = Privacy{KeyFile: "/k", RetentionDays: 30}
	c.Appointments = Appointments{Early: Duration{time.Hour}, Late: Duration{0}}
	b, err := toml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, c)
	}
}

func TestLoadNamesFileOnEveryProblem(t *testing.T) {
	p := filepath.Join(t.TempDir(), "kiosk.toml")
	if err := os.WriteFile(p, []byte("[kiosk]\nlanguage = \"de\"\n[queue]\nelder_age = 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	want := p + ":2: kiosk.language: \"de\" must be zh or en\n" + p + ":4: queue.elder_age: 5 must be between 50 and 120"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

// The example's placeholder ids load, with a warning each on their line; ids of the hall's own
// give none.
func TestPlaceholderWarnings(t *testing.T) {
	_, ws, err := Inspect("../../packaging/kiosk.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile("../../packaging/kiosk.example.toml")
	lines, _ := tomlfile.KeyLines(data)
	if len(ws) != 2 || ws[0].Key != "hall.id" || ws[1].Key != "kiosk.id" ||
		ws[0].Line != lines["hall.id"] || ws[1].Line != lines["kiosk.id"] || ws[0].Line == 0 {
		t.Fatalf("warnings: %+v", ws)
	}
	want := fmt.Sprintf("../../packaging/kiosk.example.toml:%d: kiosk.id: \"kiosk-01\" is the example's placeholder", lines["kiosk.id"])
	if !strings.HasPrefix(ws[1].String(), want) {
		t.Errorf("%q does not start with %q", ws[1], want)
	}
	// Left to default (not written at all): still the placeholder, still a warning.
	p := filepath.Join(t.TempDir(), "k.toml")
	os.WriteFile(p, []byte("[hall]\nid = \"kf-smzj\"\n"), 0o600)
	if _, ws, err := Inspect(p); err != nil || len(ws) != 1 || ws[0].Key != "kiosk.id" || ws[0].Line != 0 ||
		!strings.HasPrefix(ws[0].Msg, `not set, so the default "kiosk-01", the example's placeholder`) {
		t.Errorf("kiosk.id left to default: %+v %v", ws, err)
	}
	os.WriteFile(p, []byte("[hall]\nid = \"kf-smzj\"\n[kiosk]\nid = \"k07\"\n"), 0o600)
	if _, ws, err := Inspect(p); err != nil || len(ws) != 0 {
		t.Errorf("own ids: %+v %v", ws, err)
	}
	// A file with errors gives errors only.
	os.WriteFile(p, []byte("[kiosk]\nlanguage = 5\n"), 0o600)
	if _, ws, err := Inspect(p); err == nil || ws != nil {
		t.Errorf("bad file: %+v %v", ws, err)
	}
}

// Bytes from outside: Parse never panics, every problem has a line within the file and a
// message, and a file that loads is valid through and through: written out again it loads to
// the same configuration.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../../packaging/kiosk.example.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte("[hall]\nid = \"kf\"\ncolour = 1\n[[queue.category]]\nletter = 5\ncounters = \"3\"\n"))
	f.Add([]byte("[hours]\nclosed = [2026-10-01]\nweekday = [08:30:00]\n[queue]\ncategory = [{letter = \"A\"}, 5]\n"))
	f.Add([]byte("hall = { id = \"x\", name = \"\" }\nkiosk.idle_timeout = \"5s\"\n"))
	f.Add([]byte("[kiosk\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error is not a list of problems: %T %v", err, err)
			}
			n := strings.Count(string(data), "\n") + 1
			for _, e := range es {
				if e.Line < 0 || e.Line > n || e.Msg == "" {
					t.Fatalf("problem out of the file: %+v (%d lines)", e, n)
				}
			}
			return
		}
		b, err := toml.Marshal(c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := Parse(b)
		if err != nil {
			t.Fatalf("a loaded configuration, written out, does not load: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip differs:\n%+v\n%+v", again, c)
		}
	})
}
