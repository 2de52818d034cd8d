package settings

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"citizenhome/tomlfile"
)

const examplePath = "../../packaging/halld.example.toml"

const testKey = "0123456789abcdef0123456789abcdef"

// withKey is a file that sets the display key, which has no default, before the rest.
func withKey(rest string) []byte {
	return []byte("[http]\ndisplay_key = \"" + testKey + "\"\n" + rest)
}

// The example is Default() written out: it parses to it once the display key (which has no
// default) is set, fails without it on that key alone, and writes out every key of Config.
func TestExampleIsDefault(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := tomlfile.KeyLines(data)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(data)
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Key != "http.display_key" || es[0].Line != lines["http.display_key"] ||
		!strings.Contains(es[0].Msg, "must be set") {
		t.Fatalf("the example as shipped: want exactly the display key missing, on its line; got %v", err)
	}
	keyed := strings.Replace(string(data), `display_key = ""`, `display_key = "`+testKey+`"`, 1)
	if keyed == string(data) {
		t.Fatal(`the example has no line display_key = ""`)
	}
	got, err := Parse([]byte(keyed))
	if err != nil {
		t.Fatalf("the example with a display key does not parse: %v", err)
	}
	want := Default()
	want.HTTP.DisplayKey = testKey
	if !reflect.DeepEqual(got, want) {
		t.Errorf("example differs from Default():\n got %+v\nwant %+v", got, want)
	}
	keys := tomlfile.Keys(reflect.TypeFor[Config]())
	if len(keys) < 30 {
		t.Fatalf("only %d keys found in Config: the key listing is broken", len(keys))
	}
	for _, k := range keys {
		if _, ok := lines[k]; ok {
			continue
		}
		// A list of tables that is empty by default is shown as a commented example table
		// ("# [[notify.channel]]" and "# kind = ..."): written out, it would be a table.
		if list, leaf, ok := strings.Cut(k, "[0]."); ok && reflectLen(want, list) == 0 {
			header := "\n# [[" + list + "]]\n"
			at := strings.Index(string(data), header)
			if at >= 0 && regexp.MustCompile(`(?m)^# `+regexp.QuoteMeta(leaf)+` = `).MatchString(string(data)[at:]) {
				continue
			}
		}
		t.Errorf("key %s is not written out in %s", k, examplePath)
	}
	// Every table of every list is written out too, not only the first.
	for i := range want.Categories {
		for _, k := range []string{"letter", "name", "name_en", "avg_service"} {
			if _, ok := lines[catKey(i, k)]; !ok {
				t.Errorf("%s is not written out", catKey(i, k))
			}
		}
	}
}

// cat and win write a valid [[category]] and a [[window]] serving the letters given.
func cat(l string) string {
	return "[[category]]\nletter = \"" + l + "\"\nname = \"x\"\navg_service = \"5m\"\n"
}

func win(ls ...string) string {
	return "[[window]]\nid = \"w\"\ncategories = [\"" + strings.Join(ls, "\", \"") + "\"]\n"
}

func catKey(i int, k string) string { return "category[" + string(rune('0'+i)) + "]." + k }

func TestEmptyFileNeedsOnlyTheDisplayKey(t *testing.T) {
	_, err := Parse(nil)
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Key != "http.display_key" || es[0].Line != 0 {
		t.Fatalf("empty file: %v", err)
	}
	c, err := Parse(withKey(""))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.HTTP.DisplayKey = testKey
	if !reflect.DeepEqual(c, want) {
		t.Errorf("only a key: %+v", c)
	}
}

func TestOverrides(t *testing.T) {
	c, err := Parse(withKey(`trusted_proxies = ["10.1.2.3", "192.168.0.0/16"]
[hall]
id = "kf-smzj"
public_url = "https://smzj.kaifeng.gov.cn/queue"
[rules]
priority_share = 1
longest_wait = "1h"
[[category]]
letter = "G"
name = "绿色通道"
avg_service = "3m"
[[window]]
id = "vip-1"
categories = ["G"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Hall.ID != "kf-smzj" || c.Rules.PriorityShare != 1 || c.Rules.LongestWait.Duration != time.Hour {
		t.Errorf("overrides not applied: %+v", c)
	}
	if len(c.Categories) != 1 || c.Categories[0] != (Category{"G", "绿色通道", "", Duration{3 * time.Minute}}) {
		t.Errorf("a [[category]] list replaces the default whole: %+v", c.Categories)
	}
	if len(c.Windows) != 1 || c.Windows[0].ID != "vip-1" {
		t.Errorf("windows: %+v", c.Windows)
	}
	if c.Rules.MaxRecalls != 3 || c.Store.Path != Default().Store.Path {
		t.Errorf("keys not written must keep their defaults: %+v", c)
	}
	if c.ClientID() != "controller-kf-smzj" {
		t.Errorf("client id: %q", c.ClientID())
	}
	s := c.Link()
	if s.URL != "tcp://127.0.0.1:1883" || s.ClientID != "controller-kf-smzj" || s.Check() != nil {
		t.Errorf("link: %+v %v", s, s.Check())
	}
	c.MQTT.ClientID = "ctl-a"
	if c.ClientID() != "ctl-a" {
		t.Errorf("client id set: %q", c.ClientID())
	}
	if cat, ok := c.Category("G"); !ok || cat.Name != "绿色通道" {
		t.Errorf("Category(G): %+v %v", cat, ok)
	}
	if _, ok := c.Category("A"); ok {
		t.Error("Category(A) found in a hall without A")
	}
	if loc, err := c.Location(); err != nil || loc.String() != "Asia/Shanghai" {
		t.Errorf("location %v %v", loc, err)
	}
}

func TestBadFiles(t *testing.T) {
	cases := []struct {
		name, file, key string
		line            int
		msg             string
	}{
		{"unknown key", "[hall]\nid = \"a\"\ncolour = \"red\"\n", "hall.colour", 3, "unknown key"},
		{"unknown table", "[printer]\nbaud = 9600\n", "printer", 1, "unknown key"},
		{"unknown in a window", "[[window]]\nid = \"1\"\ncategories = [\"A\"]\nname = \"x\"\n", "window[0].name", 4, "belongs in [hall] or [[notify.channel]] or [[category]]"},
		{"unknown in a category", cat("A") + "colour = \"red\"\n" + win("A"), "category[0].colour", 5, "every key of [[category]] is in"},
		{"wrong table in a window", "[[window]]\nid = \"1\"\ncategories = [\"A\"]\nlisten = \":80\"\n", "window[0].listen", 4, "unknown key in [[window]]: listen belongs in [http]"},
		{"misspelt", "[rules]\nmax_recall = 2\n", "rules.max_recall", 2, "did you mean max_recalls?"},
		{"wrong table", "[hall]\nlisten = \":80\"\n", "hall.listen", 2, "belongs in [http]"},
		{"wrong type", "[rules]\n\nlongest_wait = 45\n", "rules.longest_wait", 3, "\"45m\""},
		{"bad duration", "[rules]\nno_show_grace = \"half an hour\"\n", "rules.no_show_grace", 2, "not a duration"},
		{"syntax", "[hall\nid = 1\n", "", 1, ""},
		{"hall id", "[hall]\nname = \"x\"\nid = \"Bad_ID\"\n", "hall.id", 3, "[a-z0-9]"},
		{"hall name", "[hall]\nname = \"  \"\n", "hall.name", 2, "empty"},
		{"public url scheme", "[hall]\npublic_url = \"ftp://x\"\n", "hall.public_url", 2, "https://"},
		{"public url slash", "[hall]\npublic_url = \"https://x/\"\n", "hall.public_url", 2, "end with /"},
		{"public url query", "[hall]\npublic_url = \"https://x/q?a=1\"\n", "hall.public_url", 2, "query"},
		{"zone", "[hall]\ntime_zone = \"Mars/Olympus\"\n", "hall.time_zone", 2, "time zone"},
		{"store", "[store]\npath = \"\"\n", "store.path", 2, "SQLite"},
		{"listen", "[http]\nlisten = \"8480\"\n", "http.listen", 2, "host:port"},
		{"listen port", "[http]\nlisten = \":http\"\n", "http.listen", 2, "port"},
		{"display key short", "[http]\ndisplay_key = \"abc\"\n", "http.display_key", 2, "16 to 128"},
		{"display key chars", "[http]\ndisplay_key = \"0123456789abcdef&x=1\"\n", "http.display_key", 2, "URL"},
		{"rate", "[http]\npublic_rate = 0\n", "http.public_rate", 2, "between"},
		{"proxy", "[http]\ntrusted_proxies = [\"10.0.0.1\", \"proxy.hall\"]\n", "http.trusted_proxies[1]", 2, "IP address"},
		{"mqtt scheme", "[mqtt]\nurl = \"http://127.0.0.1:1883\"\n", "mqtt.url", 2, "tcp://"},
		{"mqtt port", "[mqtt]\nurl = \"ssl://broker\"\n", "mqtt.url", 2, "host:port"},
		{"mqtt clear text", "[mqtt]\nurl = \"tcp://192.168.1.5:1883\"\n", "mqtt.url", 2, "in clear"},
		{"embedded tls", "[mqtt]\nembedded = true\nurl = \"ssl://127.0.0.1:8883\"\n", "mqtt.url", 3, "embedded"},
		{"credentials", "[mqtt]\ncredentials_file = \"\"\n", "mqtt.credentials_file", 2, "account"},
		{"cert pair", "[mqtt]\nurl = \"ssl://b:8883\"\nca_file = \"/ca.pem\"\ncert_file = \"/c.pem\"\n", "mqtt.key_file", 1, "together"},
		{"tls without ca", "[mqtt]\nurl = \"ssl://broker.hall:8883\"\n", "mqtt.ca_file", 1, "hall's CA certificate"},
		{"mqtt clear text v6", "[mqtt]\nurl = \"tcp://[fe80::1]:1883\"\n", "mqtt.url", 2, "in clear"},
		{"mqtt clear text name", "[mqtt]\nurl = \"tcp://broker.hall:1883\"\n", "mqtt.url", 2, "use ssl://"},
		{"mqtt ws", "[mqtt]\nurl = \"ws://127.0.0.1:9001\"\n", "mqtt.url", 2, "tcp://"},
		{"ca on tcp", "[mqtt]\nca_file = \"/ca.pem\"\n", "mqtt.ca_file", 2, "ssl://"},
		{"client id", "[mqtt]\nclient_id = \"kiosk-demo-k1\"\n", "mqtt.client_id", 2, "kiosk-"},
		{"password file", "[mqtt]\nembedded = true\npassword_file = \"\"\n", "mqtt.password_file", 3, "password file"},
		{"acl file", "[mqtt]\nembedded = true\nacl_file = \"\"\n", "mqtt.acl_file", 3, "citizenhome-acl"},
		{"cache dir", "[voice]\ncache_dir = \"\"\n", "voice.cache_dir", 2, "synthesised"},
		{"share", "[rules]\npriority_share = 1.5\n", "rules.priority_share", 2, "between 0 and 1"},
		{"share negative", "[rules]\npriority_share = -1\n", "rules.priority_share", 2, "between 0 and 1"},
		{"share nan", "[rules]\npriority_share = nan\n", "rules.priority_share", 2, "between 0 and 1"},
		{"longest wait", "[rules]\nlongest_wait = \"0s\"\n", "rules.longest_wait", 2, "between 1m and 24h"},
		{"grace negative", "[rules]\nno_show_grace = \"-5m\"\n", "rules.no_show_grace", 2, "between"},
		{"deadline", "[rules]\ntake_deadline = \"20s\"\n", "rules.take_deadline", 2, "between 100ms and 10s"},
		{"recalls", "[rules]\nmax_recalls = -1\n", "rules.max_recalls", 2, "between"},
		{"requeue", "[rules]\nrequeue_after = 1000\n", "rules.requeue_after", 2, "between"},
		{"lease", "[rules]\nlease_size = 0\n", "rules.lease_size", 2, "between 1 and 100"},
		{"no category", "category = []\n" + win("A"), "category", 1, "at least one"},
		{"no window", "window = []\n", "window", 1, "at least one"},
		{"letter", "[[category]]\nletter = \"a\"\nname = \"x\"\navg_service = \"5m\"\n" + cat("B") + win("B"), "category[0].letter", 2, "capital"},
		{"letter the window means", "[[category]]\nletter = \"a\"\nname = \"x\"\navg_service = \"5m\"\n" + win("A"), "category[0].letter", 2, "capital"},
		{"letter twice", cat("A") + "[[category]]\nletter = \"A\"\nname = \"y\"\navg_service = \"5m\"\n" + win("A"),
			"category[1].letter", 6, "twice"},
		{"category name", "[[category]]\nletter = \"A\"\navg_service = \"5m\"\n" + win("A"), "category[0].name", 1, "empty"},
		{"avg zero", "[[category]]\nletter = \"A\"\nname = \"x\"\n" + win("A"), "category[0].avg_service", 1, "above 0"},
		{"avg negative", "[[category]]\nletter = \"A\"\nname = \"x\"\navg_service = \"-1m\"\n" + win("A"), "category[0].avg_service", 4, "above 0"},
		{"own categories, default windows", cat("A"), "window", 0, "list its own [[window]] tables too"},
		{"window id", "[[window]]\nid = \"3 号\"\ncategories = [\"A\"]\n", "window[0].id", 2, "A-Z a-z 0-9"},
		{"window twice", "[[window]]\nid = \"3\"\ncategories = [\"A\"]\n[[window]]\nid = \"3\"\ncategories = [\"B\"]\n", "window[1].id", 5, "twice"},
		{"window serves none", "[[window]]\nid = \"3\"\ncategories = []\n", "window[0].categories", 3, "at least one"},
		{"window unknown letter", "[[window]]\nid = \"3\"\ncategories = [\"A\", \"Z\"]\n", "window[0].categories[1]", 3, "not a configured [[category]] letter (configured: A, B, C, D, E, F)"},
		{"window letter twice", "[[window]]\nid = \"3\"\ncategories = [\"A\", \"A\"]\n", "window[0].categories[1]", 3, "twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file, line := keyed(tc.file, tc.line)
			_, err := Parse([]byte(file))
			var es Errors
			if !errors.As(err, &es) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("want Errors, got %v", err)
			}
			if len(es) != 1 {
				t.Fatalf("want one problem, got %d:\n%v", len(es), err)
			}
			if e := es[0]; e.Key != tc.key || e.Line != line || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("key %q line %d %q, want key %q line %d saying %q", e.Key, e.Line, e.Msg, tc.key, line, tc.msg)
			}
		})
	}
}

// keyed adds the display key to a test file that lacks it: right after its [http] header (the
// lines below move down by one: line is moved with them), or else in an [http] table at the end.
func keyed(file string, line int) (string, int) {
	if strings.Contains(file, "display_key") {
		return file, line
	}
	set := "display_key = \"" + testKey + "\"\n"
	i := strings.Index(file, "[http]\n")
	if i < 0 {
		return file + "\n[http]\n" + set, line
	}
	header := strings.Count(file[:i], "\n") + 1
	if line > header {
		line++
	}
	return file[:i+len("[http]\n")] + set + file[i+len("[http]\n"):], line
}

func TestLoadNamesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "halld.toml")
	if err := os.WriteFile(p, withKey("[hall]\nid = \"X\"\n[rules]\nlease_size = 500\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	want := p + ":4: hall.id: \"X\" must match [a-z0-9][a-z0-9-]{0,31} (it is part of MQTT topics)\n" +
		p + ":6: rules.lease_size: 500 must be between 1 and 100"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	if _, err := Load(p + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestWarnings(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "halld.toml")
	os.WriteFile(p, withKey("[[window]]\nid = \"1\"\ncategories = [\"A\", \"B\"]\n"), 0o600)
	_, ws, err := Inspect(p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ws {
		got = append(got, w.String())
	}
	want := []string{
		p + ": hall.id: \"hall\" is the example's placeholder: set the hall's own id, the same as hall.id of its kiosks",
	}
	for i, l := range []string{"C", "D", "E", "F"} {
		want = append(want, p+": category["+string(rune('2'+i))+"].letter: no [[window]] serves \""+l+"\": its tickets are issued but never called")
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	os.WriteFile(p, withKey("[hall]\nid = \"kf-smzj\"\n"), 0o600)
	if _, ws, err := Inspect(p); err != nil || len(ws) != 0 {
		t.Errorf("own id, every letter served: %v %v", ws, err)
	}
	os.WriteFile(p, []byte("[hall]\nid = \"kf-smzj\"\n[http]\ndisplay_key = \""+exampleDisplayKey+"\"\n"), 0o600)
	if _, ws, err := Inspect(p); err != nil || len(ws) != 1 || ws[0].Key != "http.display_key" || ws[0].Line != 4 {
		t.Errorf("the example display key: %v %v", ws, err)
	}
	os.WriteFile(p, withKey("[hall]\nid = 5\n"), 0o600)
	if _, ws, err := Inspect(p); err == nil || ws != nil {
		t.Errorf("bad file: %v %v", ws, err)
	}
}

// The demo hall: valid, marked as demo, its files under the data directory, the kiosk demo's
// hall id and broker, and windows 1-6 calling exactly the queue letters of the demo catalog.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	c, err := Demo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Demo || c.Hall.ID != "demo" || !strings.Contains(c.Hall.Name, "演示") || !strings.Contains(c.Hall.NameEn, "demo") {
		t.Errorf("not marked as the demo: %+v", c.Hall)
	}
	if c.Store.Path != filepath.Join(dir, "halld-demo.db") || c.MQTT.CredentialsFile != filepath.Join(dir, "mqtt-controller.credentials") ||
		c.Voice.CacheDir != filepath.Join(dir, "clips") {
		t.Errorf("paths: %+v %+v %+v", c.Store, c.MQTT, c.Voice)
	}
	if c.MQTT.URL != "tcp://127.0.0.1:1883" || c.MQTT.Embedded || c.ClientID() != "controller-demo" {
		t.Errorf("the demo's broker is the kiosk demo's: %+v", c.MQTT)
	}
	if c.HTTP.Listen != "127.0.0.1:8480" || c.HTTP.DisplayKey == "" {
		t.Errorf("http: %+v", c.HTTP)
	}
	var ids []string
	served := map[string]bool{}
	for _, w := range c.Windows {
		ids = append(ids, w.ID)
		for _, l := range w.Categories {
			served[l] = true
		}
	}
	if !slices.Equal(ids, []string{"1", "2", "3", "4", "5", "6"}) {
		t.Errorf("windows %v", ids)
	}
	b, err := os.ReadFile("../../kiosk/catalog/demo.json")
	if err != nil {
		t.Fatal(err)
	}
	var cat struct {
		Matters []struct{ Queue string } `json:"matters"`
	}
	if err := json.Unmarshal(b, &cat); err != nil {
		t.Fatal(err)
	}
	letters := map[string]bool{}
	for _, m := range cat.Matters {
		letters[m.Queue] = true
	}
	if len(letters) == 0 {
		t.Fatal("no queue letters read from the demo catalog")
	}
	for l := range letters {
		if _, ok := c.Category(l); !ok || !served[l] {
			t.Errorf("the demo catalog's letter %s is not a demo category served by a window", l)
		}
	}
	if len(c.Categories) != len(letters) {
		t.Errorf("demo categories %d, the catalog uses %d letters", len(c.Categories), len(letters))
	}
	if _, ws, err := parse("", demoFile); err != nil || len(ws) != 0 {
		t.Errorf("demo.toml: %v %v", ws, err)
	}
	if _, err := Demo("relative/dir"); err == nil {
		t.Error("a relative data directory was accepted")
	}
	if len(DemoUsers) == 0 || !slices.ContainsFunc(DemoUsers, func(u DemoUser) bool { return u.Role == "counter" }) {
		t.Errorf("no demo counter account: %+v", DemoUsers)
	}
}

// The opening hours: every bad span, date or day is named on its key; the good ones give the
// week hall/hours reads, a day's own hours winning over its group's and dates over weekdays.
func TestHours(t *testing.T) {
	_, err := Parse(withKey("[hours]\nweekdays = \"9-17\"\nsunday = \"12:00-09:00\"\nclosed = [\"2027-13-01\"]\ndays = [\"2027-02-07\", \"2027-02-08 09:00-10:00,09:30-11:00\"]\n[history]\nretention = \"1h\"\n"))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("bad hours accepted: %v", err)
	}
	got := map[string]bool{}
	for _, e := range es {
		got[e.Key] = true
	}
	for _, k := range []string{"hours.weekdays", "hours.sunday", "hours.closed[0]", "hours.days[0]", "hours.days[1]", "history.retention"} {
		if !got[k] {
			t.Errorf("no problem on %s: %v", k, err)
		}
	}
	c, err := Parse(withKey("[hours]\nweekdays = \"08:30-12:00,13:30-17:30\"\nweekend = \"closed\"\nsaturday = \"09:00-12:00\"\nclosed = [\"2027-01-01\"]\ndays = [\"2027-02-07 09:00-17:00\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	w, err := c.Hours.Week(loc)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, c := range []struct {
		at   string
		open bool
	}{
		{"2026-12-07 08:29", false}, {"2026-12-07 08:30", true}, {"2026-12-07 12:30", false}, {"2026-12-07 17:29", true},
		{"2026-12-12 10:00", true}, {"2026-12-12 13:00", false}, // Saturday: its own hours
		{"2026-12-13 10:00", false}, // Sunday: the weekend's (closed)
		{"2027-01-01 10:00", false}, // a Friday, but a holiday
		{"2027-02-07 16:00", true},  // a Sunday, but a working day
	} {
		if got := w.Open(at(c.at)); got != c.open {
			t.Errorf("open at %s = %v, want %v", c.at, got, c.open)
		}
	}
}

// reflectLen is the length of the list at the dotted key in c (-1 when it is not a list).
func reflectLen(c Config, key string) int {
	v, ok := tomlfile.Lookup(reflect.ValueOf(c), key)
	if !ok || v.Kind() != reflect.Slice {
		return -1
	}
	return v.Len()
}

// The crew's webhooks: each bad value named on its key.
func TestNotify(t *testing.T) {
	_, err := Parse(withKey("[notify]\nconsole_url = \"halld:8443\"\ndelay_error = \"0s\"\ntimeout = \"5m\"\n" +
		"[[notify.channel]]\nkind = \"slack\"\nurl = \"ftp://x\"\nmin_severity = \"info\"\n" +
		"[[notify.channel]]\nkind = \"json\"\nurl = \"http://10.0.0.5/a\"\n[[notify.channel]]\nkind = \"json\"\nurl = \"http://10.0.0.5/b\"\n"))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("bad notify accepted: %v", err)
	}
	got := map[string]bool{}
	for _, e := range es {
		got[e.Key] = true
	}
	for _, k := range []string{"notify.console_url", "notify.delay_error", "notify.timeout", "notify.channel[0].kind",
		"notify.channel[0].url", "notify.channel[0].min_severity", "notify.channel[2].name"} {
		if !got[k] {
			t.Errorf("no problem on %s: %v", k, err)
		}
	}
	if len(es) != 7 {
		t.Errorf("%d problems, want 7: %v", len(es), err)
	}
}
