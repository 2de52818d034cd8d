package settings

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"citizenhome/tomlfile"
)

// A file with problems of every kind: each is listed, in line order, with its own key, line and
// entry, and a value that failed to decode is not reported a second time by validation.
func TestEveryProblemListed(t *testing.T) {
	file := `[hall]
id = "Bad_ID"
colour = "red"
public_url = "hall.example"

[http]
listen = 8480
display_key = "short"
trusted_proxies = "10.0.0.1"
public_rate = "60"

[mqtt]
url = "tcp://10.0.0.5:1883"
embeded = true
display_key = "x"

[rules]
priority_share = "half"
longest_wait = 45
max_recalls = 2.0
lease_size = 1000

[[category]]
letter = "A"
name = "综合"
avg_service = "6m"

[[category]]
letter = "B"
name = ""
avg_service = "forever"

[[window]]
id = "1"
categories = ["A", "C"]

[[window]]
id = "1"
categories = "A"

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
		{4, "hall.public_url", "", []string{`"hall.example" must be an address like`}},
		{7, "http.listen", "", []string{`expected text in quotes like ":8480"`, "got the number 8480", "put it in quotes"}},
		{8, "http.display_key", "", []string{"16 to 128"}},
		{9, "http.trusted_proxies", "", []string{"expected a list of texts", `got the text "10.0.0.1"`, "brackets"}},
		{10, "http.public_rate", "", []string{"expected a whole number like 60", `got the text "60"`, "remove the quotes"}},
		{13, "mqtt.url", "", []string{"in clear"}},
		{14, "mqtt.embeded", "", []string{"unknown key", "did you mean embedded?"}},
		{15, "mqtt.display_key", "", []string{"unknown key in [mqtt]: display_key belongs in [http]"}},
		{18, "rules.priority_share", "", []string{"expected a number like 0.5", `got the text "half"`}},
		{19, "rules.longest_wait", "", []string{"expected a duration", "got the number 45", `"45m"`}},
		{20, "rules.max_recalls", "", []string{"expected a whole number like 3", "got the number 2.0", "decimal point"}},
		{21, "rules.lease_size", "", []string{"1000 must be between 1 and 100"}},
		{30, "category[1].name", `letter "B"`, []string{"must not be empty"}},
		{31, "category[1].avg_service", `letter "B"`, []string{`"forever" is not a duration`}},
		{35, "window[0].categories[1]", `id "1"`, []string{`"C" is not a configured [[category]] letter (configured: A, B)`}},
		{38, "window[1].id", `id "1"`, []string{"configured twice"}},
		{39, "window[1].categories", `id "1"`, []string{"expected a list of texts in quotes", `got the text "A"`, `["A"]`}},
		{41, "printer", "", []string{"unknown key", "the tables are [hall]"}},
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
	if len(lines) != len(es) || lines[9] != `15: mqtt.display_key: unknown key in [mqtt]: display_key belongs in [http]` ||
		!strings.HasPrefix(lines[16], `35: window[0].categories[1] (id "1"): "C" is not`) {
		t.Errorf("text:\n%s", err)
	}
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
		{"unclosed table", "[hall]\nid = \"a\"\n[http\nlisten = 5\n", 3, "", ""},
		{"table twice", "[http]\nlisten = 5\n[hall]\n[http]\npublic_rate = 7\n", 4, "http", "already"},
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
	jargon := regexp.MustCompile(`cannot decode|struct field|settings\.|int64|float64|interface|\[\]string|map\[|toml:|reflect|kind `)
	for _, key := range tomlfile.Keys(reflect.TypeFor[Config]()) {
		table, leaf := key[:strings.LastIndexByte(key, '.')], key[strings.LastIndexByte(key, '.')+1:]
		header := "[" + table + "]"
		var rest string
		switch table {
		case "category[0]":
			header = "[[category]]"
			rest = "letter = \"A\"\nname = \"x\"\navg_service = \"5m\"\n"
		case "window[0]":
			header = "[[window]]"
			rest = "id = \"w\"\ncategories = [\"A\"]\n"
		case "notify.channel[0]":
			header = "[[notify.channel]]"
			rest = "kind = \"json\"\nurl = \"http://10.0.0.5/hook\"\n"
		case "followup.section[0]":
			header = "[[followup.section]]"
			rest = "section = \"sb\"\nmanagers = [\"wang\"]\n"
		}
		v, ok := tomlfile.Lookup(reflect.ValueOf(Default()), key)
		if !ok {
			t.Fatalf("%s: no field", key)
		}
		var wrongs []string
		switch v.Interface().(type) {
		case string:
			wrongs = []string{"5", "true", "[\"a\"]", "2026-10-01"}
		case int:
			wrongs = []string{`"7"`, "1.5", "true", "[1, 2]"}
		case float64:
			wrongs = []string{`"0.5"`, "true", "[0.5]", "08:30:00"}
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
			// The key first, then the rest of its table without it (else it would be set twice).
			var others []string
			for l := range strings.Lines(rest) {
				if !strings.HasPrefix(l, leaf+" ") {
					others = append(others, l)
				}
			}
			file, line := keyed(header+"\n"+leaf+" = "+wrong+"\n"+strings.Join(others, ""), 2)
			if header == "[[category]]" {
				file += win("A")
			}
			_, err := Parse([]byte(file))
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Errorf("%s = %s: want one problem, got %v\n%s", key, wrong, err, file)
				continue
			}
			e := es[0]
			wantKey := key
			if strings.HasPrefix(wrong, "[") && v.Kind() == reflect.Slice {
				wantKey += "[0]"
			}
			if e.Key != wantKey || e.Line != line {
				t.Errorf("%s = %s: key %q line %d (%v)", key, wrong, e.Key, e.Line, e)
			}
			if !strings.HasPrefix(e.Msg, "expected ") || !strings.Contains(e.Msg, ", got ") || jargon.MatchString(e.Msg) {
				t.Errorf("%s = %s: not in plain words: %q", key, wrong, e.Msg)
			}
		}
	}
	// Arrays of tables and a table given as plain values.
	for _, c := range []struct{ file, key, words string }{
		{"category = \"A\"\n", "category", "[[category]] tables, each with letter"},
		{"window = [\"1\"]\n", "window[0]", "a table of keys (id, categories)"},
		{"hall = \"kf\"\n", "hall", "a [hall] header"},
	} {
		file, _ := keyed(c.file, 1)
		_, err := Parse([]byte(file))
		var es Errors
		if !errors.As(err, &es) || es[0].Key != c.key || !strings.Contains(es[0].Msg, c.words) || jargon.MatchString(es[0].Msg) {
			t.Errorf("%q: %v", c.file, err)
		}
	}
}

// Every field decodes: a configuration with no default left, written out by go-toml, reads
// back equal (the walker knows every kind of field Config has). Demo is not in the file.
func TestEveryFieldDecodes(t *testing.T) {
	c := Config{
		Hall:  Hall{ID: "kf-smzj", Name: "开封市民之家", NameEn: "Kaifeng", PublicURL: "https://q.kf.gov.cn/smzj", TimeZone: "Asia/Urumqi"},
		Store: Store{Path: "/srv/halld.db"},
		HTTP:  HTTP{Listen: "10.0.0.2:80", DisplayKey: testKey, PublicRate: 30, TrustedProxies: []string{"10.0.0.1", "fd00::/8"}},
		MQTT: MQTT{URL: "ssl://broker.hall:8883", CredentialsFile: "/c", CAFile: "/ca", CertFile: "/cert", KeyFile: "/key",
			ClientID: "ctl-1", Embedded: false, PasswordFile: "/pw", ACLFile: "/acl"},
		Voice: Voice{ClipsDir: "", CacheDir: "/cache", English: true},
		Rules: Rules{PriorityShare: 0.25, LongestWait: Duration{time.Hour}, MaxRecalls: 0, NoShowGrace: Duration{10 * time.Minute},
			RequeueAfter: 5, LeaseSize: 20, TakeDeadline: Duration{1500 * time.Millisecond}},
		Categories: []Category{{"G", "绿色通道", "Green channel", Duration{3 * time.Minute}}, {"H", "h", "", Duration{time.Second}}},
		Windows:    []Window{{"vip-1", []string{"G"}}, {"7", []string{"H", "G"}}},
		Hours: Hours{Weekdays: "08:30-12:00,13:30-17:30", Weekend: "09:00-12:00", Monday: "13:30-17:30", Tuesday: "closed",
			Wednesday: "08:00-18:00", Thursday: "08:00-12:00", Friday: "09:00-16:00", Saturday: "closed", Sunday: "10:00-12:00",
			Closed: []string{"2027-01-01", "2027-10-01"}, Days: []string{"2027-02-07 08:30-17:30"}},
		History: History{Retention: Duration{90 * 24 * time.Hour}},
		Notify: Notify{ConsoleURL: "https://halld.kf.gov.cn:8443", OutsideHours: true, DelayWarning: Duration{10 * time.Minute},
			DelayError: Duration{2 * time.Minute}, DelayLost: Duration{3 * time.Minute}, Timeout: Duration{5 * time.Second},
			Channels: []NotifyChannel{{Name: "crew", Kind: "wecom", URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", Text: true},
				{Name: "vendor", Kind: "dingtalk", URL: "https://oapi.dingtalk.com/robot/send?access_token=t", Secret: "SECx", MinSeverity: "error"}}},
		Followup: Followup{DeadlineDays: 3, Retention: Duration{365 * 24 * time.Hour}, KeyFile: "/srv/hall.key",
			Managers: []string{"zhang"}, Sections: []FollowupSection{{Section: "sb", Managers: []string{"wang", "li.na"}}}},
	}
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
	// The one field the file may not set.
	if _, err := Parse(withKey("\n[hall]\ndemo = true\n")); err == nil {
		t.Error("demo = true was accepted from a file")
	}
	if _, err := Parse(append(withKey(""), "\n\"-\" = true\n"...)); err == nil {
		t.Error(`"-" = true was accepted from a file`)
	}
}

// Bytes from outside: Parse never panics, every problem has a line within the file and a
// message, and a file that loads is valid through and through: written out again it loads to
// the same configuration.
func FuzzParse(f *testing.F) {
	f.Add(withKey(""))
	f.Add(withKey("[hall]\nid = \"kf\"\ncolour = 1\n[[category]]\nletter = 5\nname = \"3\"\n[[window]]\nid = \"1\"\ncategories = [\"A\"]\n"))
	f.Add([]byte("[rules]\npriority_share = nan\nlongest_wait = 5\n[http]\ntrusted_proxies = [2026-10-01]\n[[window]]\ncategories = [{a = 1}]\n"))
	f.Add([]byte("hall = { id = \"x\", name = \"\" }\nhttp.listen = \"::1\"\n"))
	f.Add([]byte("[hall\n"))
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
