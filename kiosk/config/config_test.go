package config

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"citizenhome/tomlfile"
)

func TestExampleIsDefault(t *testing.T) {
	data, err := os.ReadFile("../../packaging/kiosk.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatalf("example does not parse: %v", err)
	}
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("example differs from Default():\n got %+v\nwant %+v", got, want)
	}
	// Every key of Config is documented in the example.
	lines, err := tomlfile.KeyLines(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range tomlKeys(reflect.TypeOf(Config{}), "") {
		if lines.Line(k) == 0 {
			t.Errorf("key %s is not in packaging/kiosk.example.toml", k)
		}
		if _, ok := lines[k]; !ok && !strings.HasPrefix(k, "queue.category") {
			t.Errorf("key %s is not written out in the example", k)
		}
	}
}

// tomlKeys lists the dotted keys of a config struct type; arrays of tables are listed as their
// first element.
func tomlKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := prefix + f.Tag.Get("toml")
		switch {
		case f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(Duration{}):
			out = append(out, tomlKeys(f.Type, name+".")...)
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			out = append(out, tomlKeys(f.Type.Elem(), name+"[0].")...)
		default:
			out = append(out, name)
		}
	}
	return out
}

func TestEmptyFileGivesDefaults(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("empty file: %+v", c)
	}
}

func TestOverrides(t *testing.T) {
	c, err := Parse([]byte(`
[hall]
id = "kf-smzj"
[kiosk]
idle_timeout = "90s"
[hours]
weekend = []
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Hall.ID != "kf-smzj" || c.Kiosk.IdleTimeout.Duration != 90*time.Second {
		t.Errorf("overrides not applied: %+v", c)
	}
	if len(c.Hours.Weekend) != 0 {
		t.Errorf("weekend = [] must close the weekend, got %v", c.Hours.Weekend)
	}
	if !reflect.DeepEqual(c.Hours.Weekday, Default().Hours.Weekday) {
		t.Errorf("weekday must keep its default, got %v", c.Hours.Weekday)
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
		{"wrong type", "[kiosk]\n\nidle_timeout = 60\n", "kiosk.idle_timeout", 3, ""},
		{"wrong type int", "[devices]\nprinter_baud = \"fast\"\n", "devices.printer_baud", 2, ""},
		{"key missing in table", "[mqtt]\nenabled = true\nurl = \"tcp://h:1883\"\n", "mqtt.credentials_file", 1, "credentials"},
		{"bad duration", "[kiosk]\nidle_timeout = \"sixty\"\n", "kiosk.idle_timeout", 2, "duration"},
		{"syntax", "[hall\nid = 1\n", "", 1, ""},
		{"hall id", "[hall]\nname = \"x\"\nid = \"Bad_ID\"\n", "hall.id", 3, "[a-z0-9]"},
		{"kiosk id", "[kiosk]\nid = \"\"\n", "kiosk.id", 2, "must match"},
		{"hall name", "[hall]\nname = \"  \"\n", "hall.name", 2, "empty"},
		{"zone", "[hall]\ntime_zone = \"Mars/Olympus\"\n", "hall.time_zone", 2, "time zone"},
		{"language", "[kiosk]\nlanguage = \"fr\"\n", "kiosk.language", 2, "zh or en"},
		{"store", "[kiosk]\nstore = \"\"\n", "kiosk.store", 2, "SQLite"},
		{"idle range", "[kiosk]\nidle_timeout = \"5s\"\n", "kiosk.idle_timeout", 2, "between"},
		{"warning", "[kiosk]\nidle_warning = \"60s\"\n", "kiosk.idle_warning", 2, "below"},
		{"span", "[hours]\nweekday = [\"08:30-12:00\", \"14:00-13:00\"]\n", "hours.weekday[1]", 2, "ends before"},
		{"span form", "[hours]\nweekend = [\"morning\"]\n", "hours.weekend[0]", 2, "span"},
		{"closed", "[hours]\nclosed = [\"2026-13-01\"]\n", "hours.closed[0]", 2, "date"},
		{"workdays", "[hours]\nworkdays = [\"soon\"]\n", "hours.workdays[0]", 2, "date"},
		{"elder", "[queue]\nelder_age = 12\n", "queue.elder_age", 2, "between"},
		{"letter", "[[queue.category]]\nletter = \"a\"\n", "queue.category[0].letter", 2, "capital"},
		{"letter twice", "[[queue.category]]\nletter = \"A\"\n[[queue.category]]\nletter = \"A\"\n", "queue.category[1].letter", 4, "twice"},
		{"letter missing", "[queue]\n[[queue.category]]\ncounters = 2\n", "queue.category[0].letter", 2, "capital"},
		{"avg", "[[queue.category]]\nletter = \"A\"\navg_service = \"-1m\"\n", "queue.category[0].avg_service", 3, "between"},
		{"counters", "[[queue.category]]\nletter = \"A\"\ncounters = 900\n", "queue.category[0].counters", 3, "between"},
		{"priority cat", "[queue]\npriority_categories = [\"GG\"]\n", "queue.priority_categories[0]", 2, "capital"},
		{"baud", "[devices]\nprinter_baud = 0\n", "devices.printer_baud", 2, "baud"},
		{"id baud", "[devices]\nid_reader_baud = -5\n", "devices.id_reader_baud", 2, "baud"},
		{"flow", "[devices]\nprinter_flow = \"xon\"\n", "devices.printer_flow", 2, "rtscts"},
		{"paper", "[devices]\nprinter_paper = \"A4\"\n", "devices.printer_paper", 2, "58mm"},
		{"qr", "[devices]\nprinter_qr = \"ascii\"\n", "devices.printer_qr", 2, "raster"},
		{"font", "[devices]\nfont = \" \"\n", "devices.font", 2, "CJK font"},
		{"id reader position", "[devices]\nid_reader_position = \"top\"\n", "devices.id_reader_position", 2, "left, right, below-screen, front-shelf"},
		{"card reader position case", "[devices]\ncard_reader_position = \"Right\"\n", "devices.card_reader_position", 2, "must be one of"},
		{"card reader position empty", "[devices]\ncard_reader_position = \"\"\n", "devices.card_reader_position", 2, "must be one of"},
		{"reader position type", "[devices]\nid_reader_position = 3\n", "devices.id_reader_position", 2, ""},
		{"mqtt url", "[mqtt]\nenabled = true\nurl = \"http://x\"\ncredentials_file = \"/c\"\n", "mqtt.url", 3, "tcp://"},
		{"mqtt creds", "[mqtt]\nenabled = true\n", "mqtt.credentials_file", 1, "credentials"},
		{"mqtt cert", "[mqtt]\ncert_file = \"/c.pem\"\n", "mqtt.key_file", 1, "together"},
		{"heartbeat", "[mqtt]\nheartbeat = \"10ms\"\n", "mqtt.heartbeat", 2, "at least"},
		{"listen public", "[api]\nlisten = \"0.0.0.0:7788\"\n", "api.listen", 2, "loopback"},
		{"listen form", "[api]\nlisten = \"7788\"\n", "api.listen", 2, "host:port"},
		{"pin hash", "[staff]\npin_hash = \"1234\"\n", "staff.pin_hash", 2, "pbkdf2"},
		{"staff card", "[staff]\ncards = [\"not hex\"]\n", "staff.cards[0]", 2, "hex"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.file))
			var ce *Error
			if !errors.As(err, &ce) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("want *Error, got %v", err)
			}
			if ce.Key != tc.key || ce.Line != tc.line {
				t.Errorf("key %q line %d, want key %q line %d (%v)", ce.Key, ce.Line, tc.key, tc.line, err)
			}
			if !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("message %q does not say %q", ce.Msg, tc.msg)
			}
		})
	}
}

func TestLoadNamesFile(t *testing.T) {
	p := t.TempDir() + "/kiosk.toml"
	if err := os.WriteFile(p, []byte("[kiosk]\nlanguage = \"de\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.HasPrefix(err.Error(), p+":2: kiosk.language:") {
		t.Errorf("error %q must start with file:line: key", err)
	}
	if _, err := Load(p + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestPIN(t *testing.T) {
	h, err := HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte("[staff]\npin_hash = \"" + h + "\"\ncards = [\"04A1B2C3\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Staff.CheckPIN("246810") {
		t.Error("right PIN refused")
	}
	for _, wrong := range []string{"246811", "", "24681", "abcdef", "2468100"} {
		if c.Staff.CheckPIN(wrong) {
			t.Errorf("wrong PIN %q accepted", wrong)
		}
	}
	if (Staff{}).CheckPIN("246810") {
		t.Error("no hash configured must accept no PIN")
	}
	if _, err := HashPIN("12"); err == nil {
		t.Error("short PIN hashed")
	}
	if !c.Staff.IsStaffCard("04a1b2c3") || c.Staff.IsStaffCard("04A1B2C4") {
		t.Error("staff card check")
	}
}

func TestHallNumberingKeys(t *testing.T) {
	c, err := Parse([]byte("[hall]\ncontroller = true\ntake_deadline = \"1.5s\"\npublic_url = \"https://smzj.example.cn/q\"\n[mqtt]\nenabled = true\nembedded = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Hall.Controller || c.Hall.TakeDeadline.Duration != 1500*time.Millisecond || c.Hall.PublicURL != "https://smzj.example.cn/q" {
		t.Errorf("parsed %+v", c.Hall)
	}
	for _, bad := range []struct{ file, key string }{
		{"[hall]\ncontroller = true\n", "hall.controller"}, // mqtt off
		{"[hall]\ntake_deadline = \"50ms\"\n", "hall.take_deadline"},
		{"[hall]\ntake_deadline = \"11s\"\n", "hall.take_deadline"},
		{"[hall]\npublic_url = \"hall.example.cn\"\n", "hall.public_url"},
		{"[hall]\npublic_url = \"ftp://hall.example.cn\"\n", "hall.public_url"},
		{"[hall]\npublic_url = \"https://\"\n", "hall.public_url"},
		{"[hall]\npublic_url = \"https://hall.example.cn/\"\n", "hall.public_url"},
		{"[hall]\npublic_url = \"https://hall.example.cn?x=1\"\n", "hall.public_url"},
		{"[hall]\npublic_url = \"https://hall.example.cn#top\"\n", "hall.public_url"},
		{"[hall]\npublic_url = \"https://u:p@hall.example.cn\"\n", "hall.public_url"},
		{"[hall]\npublic_url = \"https://hall.example.cn/a b\"\n", "hall.public_url"},
	} {
		_, err := Parse([]byte(bad.file))
		var e *Error
		if !errors.As(err, &e) || e.Key != bad.key || e.Line == 0 {
			t.Errorf("%q: %v", bad.file, err)
		}
	}
}

func TestIdleTimeouts(t *testing.T) {
	c, err := Parse([]byte("[kiosk]\nidle_timeout_reading = \"150s\"\nidle_timeout_elder = \"4m\"\nidle_warning = \"25s\"\n[staff]\nidle_timeout = \"10m\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Kiosk.IdleReading.Duration != 150*time.Second || c.Kiosk.IdleElder.Duration != 4*time.Minute ||
		c.Kiosk.IdleWarning.Duration != 25*time.Second || c.Staff.IdleTimeout.Duration != 10*time.Minute {
		t.Errorf("idle timeouts not applied: %+v %+v", c.Kiosk, c.Staff)
	}
	d := Default()
	if d.Kiosk.IdleTimeout.Duration != 60*time.Second || d.Kiosk.IdleReading.Duration != 120*time.Second ||
		d.Kiosk.IdleElder.Duration != 180*time.Second || d.Kiosk.IdleWarning.Duration < 20*time.Second ||
		d.Staff.IdleTimeout.Duration != 300*time.Second {
		t.Errorf("defaults %+v %+v", d.Kiosk, d.Staff)
	}
	for _, tc := range []struct{ in, key, msg string }{
		{"[kiosk]\nidle_warning = \"10s\"\n", "kiosk.idle_warning", "at least 20s"},
		{"[kiosk]\nidle_timeout_reading = \"5s\"\n", "kiosk.idle_timeout_reading", "between"},
		{"[kiosk]\nidle_timeout_elder = \"1h\"\n", "kiosk.idle_timeout_elder", "between"},
		{"[kiosk]\nidle_timeout_reading = \"20s\"\n", "kiosk.idle_timeout_reading", "above idle_warning"},
		{"[staff]\nidle_timeout = \"30s\"\n", "staff.idle_timeout", "between"},
		{"[kiosk]\nidle_timeout = \"5m\"\n[staff]\nidle_timeout = \"2m\"\n", "staff.idle_timeout", "longer than"},
		{"[kiosk]\nidle_timeout_elder = 180\n", "kiosk.idle_timeout_elder", ""},
	} {
		_, err := Parse([]byte(tc.in))
		var e *Error
		if !errors.As(err, &e) || e.Key != tc.key || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: %v, want %s: ...%s", tc.in, err, tc.key, tc.msg)
		}
	}
}

func TestVoiceKeys(t *testing.T) {
	c, err := Parse([]byte("[voice]\nvolume = 35\nmute = true\ndevice = \"plughw:CARD=Device,DEV=0\"\nclips_dir = \"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v := c.Voice; !v.Enabled || v.Volume != 35 || !v.Mute || v.Device != "plughw:CARD=Device,DEV=0" || v.ClipsDir != "" || v.PromptsDir != "/usr/share/citizenhome/prompts" {
		t.Errorf("parsed %+v", v)
	}
	if _, err := Parse([]byte("[voice]\nenabled = false\ndevice = \"\"\n")); err != nil {
		t.Errorf("a silent kiosk needs no device: %v", err)
	}
	for _, bad := range []struct{ file, key string }{
		{"[voice]\nvolume = 101\n", "voice.volume"},
		{"[voice]\nvolume = -1\n", "voice.volume"},
		{"[voice]\ndevice = \"\"\n", "voice.device"},
	} {
		_, err := Parse([]byte(bad.file))
		var e *Error
		if !errors.As(err, &e) || e.Key != bad.key || e.Line == 0 {
			t.Errorf("%q: %v, want a problem at %s with its line", bad.file, err, bad.key)
		}
	}
}

// The screen's fonts: Noto Sans CJK SC regular and bold by default; a file from before
// bold_font that names one font (Droid Sans Fallback) draws bold text with it; bold_font and
// font_face are read when written.
func TestFontKeys(t *testing.T) {
	const droid = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"
	cases := []struct {
		name, file           string
		font, bold, fontFace string
	}{
		{"defaults", "", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "Noto Sans CJK SC"},
		{"old file with one font", "[devices]\nfont = \"" + droid + "\"\n", droid, droid, "Noto Sans CJK SC"},
		{"both fonts", "[devices]\nfont = \"/f/r.otf\"\nbold_font = \"/f/b.otf\"\n", "/f/r.otf", "/f/b.otf", "Noto Sans CJK SC"},
		{"bold only", "[devices]\nbold_font = \"/f/b.ttc\"\nfont_face = \"Noto Sans CJK TC\"\n", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/f/b.ttc", "Noto Sans CJK TC"},
		{"bold off", "[devices]\nfont = \"/f/r.ttf\"\nbold_font = \"\"\n", "/f/r.ttf", "", "Noto Sans CJK SC"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse([]byte(c.file))
			if err != nil {
				t.Fatal(err)
			}
			d := cfg.Devices
			if d.Font != c.font || d.BoldFont != c.bold || d.FontFace != c.fontFace {
				t.Errorf("font %q, bold_font %q, font_face %q; want %q, %q, %q", d.Font, d.BoldFont, d.FontFace, c.font, c.bold, c.fontFace)
			}
		})
	}
}

// The broker's URL keeps clear text on this machine: tcp:// only to a loopback broker, TLS only
// with the hall's CA. Each refusal names the key and says the fix.
func TestBrokerURLNoClearTextOffHost(t *testing.T) {
	cases := []struct {
		url, extra string
		key        string // "": accepted
		words      string
	}{
		{"tcp://127.0.0.1:1883", "", "", ""},
		{"tcp://127.0.1.1:1883", "", "", ""},
		{"tcp://[::1]:1883", "", "", ""},
		{"tcp://localhost:1883", "", "", ""},
		{"ssl://broker.hall:8883", "ca_file = \"/etc/citizenhome/hall-ca.pem\"\n", "", ""},
		{"mqtts://10.0.0.5:8883", "ca_file = \"/ca.pem\"\n", "", ""},
		{"tcp://10.0.0.5:1883", "", "mqtt.url", "use ssl://, with mqtt.ca_file"},
		{"tcp://broker.hall:1883", "", "mqtt.url", "in clear"},
		{"tcp://[fe80::1]:1883", "", "mqtt.url", "this machine only"},
		{"tcp://0.0.0.0:1883", "", "mqtt.url", "in clear"},
		{"ssl://broker.hall:8883", "", "mqtt.ca_file", "hall's CA certificate"},
		{"tls://10.0.0.5:8883", "", "mqtt.ca_file", "hall's CA certificate"},
		{"ws://127.0.0.1:9001", "", "mqtt.url", "must start with"},
		{"mqtt://127.0.0.1:1883", "", "mqtt.url", "must start with"},
	}
	for _, c := range cases {
		file := "[mqtt]\nenabled = true\nurl = \"" + c.url + "\"\ncredentials_file = \"/c\"\n" + c.extra
		_, err := Parse([]byte(file))
		if c.key == "" {
			if err != nil {
				t.Errorf("%s: %v", c.url, err)
			}
			continue
		}
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != c.key || !strings.Contains(ce.Msg, c.words) {
			t.Errorf("%s: %v, want %s saying %q", c.url, err, c.key, c.words)
		}
	}
	// The embedded broker listens on this machine, in clear: never on TLS or another address.
	if _, err := Parse([]byte("[mqtt]\nenabled = true\nembedded = true\nurl = \"ssl://127.0.0.1:8883\"\ncredentials_file = \"/c\"\n")); err == nil {
		t.Error("an embedded broker on ssl:// accepted")
	}
	if _, err := Parse([]byte("[mqtt]\nenabled = true\nembedded = true\nurl = \"tcp://0.0.0.0:1883\"\ncredentials_file = \"/c\"\n")); err == nil {
		t.Error("an embedded broker on every interface accepted")
	}
}

// hall.command_key: the hall's key as `halld command-key` prints it, or an error naming the key.
func TestCommandKey(t *testing.T) {
	key := "ed25519:" + strings.Repeat("A", 43) + "="
	c, err := Parse([]byte("[hall]\ncommand_key = \"" + key + "\"\n"))
	if err != nil || c.Hall.CommandKey != key {
		t.Fatalf("a good key: %v %q", err, c.Hall.CommandKey)
	}
	for _, bad := range []string{"AAAA", "ed25519:" + strings.Repeat("A", 42) + "==", "rsa:" + strings.Repeat("A", 43) + "="} {
		_, err := Parse([]byte("[hall]\ncommand_key = \"" + bad + "\"\n"))
		if err == nil || !strings.Contains(err.Error(), "hall.command_key") || !strings.Contains(err.Error(), "halld command-key") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestPINStrength: a staff PIN has at least 6 digits (a million PINs against the growing lockout),
// and a hash made with fewer than 100,000 PBKDF2 iterations is refused with its fix named, so a
// copied configuration file does not give the PIN away in seconds.
func TestPINStrength(t *testing.T) {
	for _, short := range []string{"13579", "2468"} {
		if h, err := HashPIN(short); err == nil {
			t.Errorf("PIN %q of %d digits hashed: %s", short, len(short), h)
		}
	}
	// A hash in the form of kioskctl hash-pin, made with the old floor's 10,000 iterations.
	salt := []byte("0123456789abcdef")
	key, err := pbkdf2.Key(sha256.New, "246810", salt, 10000, 32)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawStdEncoding
	old := "pbkdf2-sha256$10000$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key)
	_, err = Parse([]byte("[staff]\npin_hash = \"" + old + "\"\n"))
	if err == nil || !strings.Contains(err.Error(), "staff.pin_hash") || !strings.Contains(err.Error(), "kioskctl hash-pin") ||
		!strings.Contains(err.Error(), "100000") {
		t.Errorf("a 10,000-iteration hash: %v, want it refused naming the fix", err)
	}
	if (Staff{PINHash: old}).CheckPIN("246810") {
		t.Error("a 10,000-iteration hash checks a PIN")
	}
	key, err = pbkdf2.Key(sha256.New, "246810", salt, 100000, 32)
	if err != nil {
		t.Fatal(err)
	}
	floor := "pbkdf2-sha256$100000$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key)
	c, err := Parse([]byte("[staff]\npin_hash = \"" + floor + "\"\n"))
	if err != nil || !c.Staff.CheckPIN("246810") {
		t.Errorf("a 100,000-iteration hash: %v", err)
	}
}

func TestCardRequiredNeedsCards(t *testing.T) {
	_, err := Parse([]byte("[staff]\ncard_required = true\n"))
	if err == nil || !strings.Contains(err.Error(), "staff.card_required") {
		t.Errorf("card_required without cards: %v", err)
	}
	c, err := Parse([]byte("[staff]\ncard_required = true\ncards = [\"04A1B2C3\"]\n"))
	if err != nil || !c.Staff.CardRequired {
		t.Errorf("card_required with a card: %v", err)
	}
}

// BenchmarkCheckPIN is one staff PIN checked against a hash of kioskctl hash-pin (PINIterations):
// the cost of each guess at the screen, and of each PIN tried against a copied file on one core
// (docs/security/sec-staff.md).
func BenchmarkCheckPIN(b *testing.B) {
	h, err := HashPIN("246810")
	if err != nil {
		b.Fatal(err)
	}
	s := Staff{PINHash: h}
	for b.Loop() {
		s.CheckPIN("135790")
	}
}
