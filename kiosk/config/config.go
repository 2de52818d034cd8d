// Package config reads the kiosk's one TOML configuration file.
//
// Every key, its meaning and its default are documented in packaging/kiosk.example.toml; a test
// keeps that file and Default in step. Loading is strict: an unknown key, a value of the wrong type
// or a value that fails validation stops the program with Errors, every problem of the file,
// each an *Error naming its line and key in words a technician reads ("expected a whole number
// like 3, got the text \"3\" (remove the quotes)"), so that one edit fixes them all.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	// A minimal Debian root may lack /usr/share/zoneinfo; the hall's zone must still load.
	_ "time/tzdata"

	"citizenhome/kiosk/hours"
	"citizenhome/telemetry/wire"
	"citizenhome/tomlfile"
)

// Config is the whole configuration of a kiosk or a kioskd.
type Config struct {
	Hall         Hall         `toml:"hall"`
	Kiosk        Kiosk        `toml:"kiosk"`
	Hours        Hours        `toml:"hours"`
	Queue        Queue        `toml:"queue"`
	Devices      Devices      `toml:"devices"`
	MQTT         MQTT         `toml:"mqtt"`
	API          API          `toml:"api"`
	Staff        Staff        `toml:"staff"`
	Privacy      Privacy      `toml:"privacy"`
	Payments     Payments     `toml:"payments"`
	Appointments Appointments `toml:"appointments"`
	Voice        Voice        `toml:"voice"`
}

// Voice configures the spoken prompts and the tap sound (kiosk/prompt, devices/speaker).
type Voice struct {
	// Enabled turns the voice on. A kiosk whose audio device is missing runs silent, with a
	// health warning.
	Enabled bool `toml:"enabled"`
	// Volume is 0..100 and Mute silences the voice; staff change both in staff mode, and their
	// change (kept in state_file) holds over these from then on.
	Volume int  `toml:"volume"`
	Mute   bool `toml:"mute"`
	// Device is the ALSA PCM the voice plays on (aplay -L lists them): "default", or one card
	// such as "plughw:CARD=Device,DEV=0".
	Device string `toml:"device"`
	// ClipsDir is the hall's own recordings, each replacing the synthesised clip of its name;
	// PromptsDir the synthesised clips the package ships.
	ClipsDir   string `toml:"clips_dir"`
	PromptsDir string `toml:"prompts_dir"`
	// StateFile keeps the volume and mute staff set, across restarts.
	StateFile string `toml:"state_file"`
}

// Privacy configures how personal data is kept at rest.
type Privacy struct {
	// KeyFile holds the hall's secret key (32 random bytes, hex): identifiers are stored only as
	// HMACs under it, and complaint texts, phones and the hall's answers sealed with it. Created
	// at first start. A systemd credential named hall.key ($CREDENTIALS_DIRECTORY) takes its
	// place: then the key is not on the data disk at all (docs/operator-guide.md).
	KeyFile string `toml:"key_file"`
	// RetentionDays: personal data older than this is purged daily.
	RetentionDays int `toml:"retention_days"`
}

// Payments configures the one-card payment journal (kiosk/payment).
type Payments struct {
	// RetentionDays: settled payments (paid or not charged) whose day is older than this are
	// deleted daily; open and undecided ones are kept until they are settled.
	RetentionDays int `toml:"retention_days"`
}

// Appointments configures appointment check-in.
type Appointments struct {
	// Early and Late bound the check-in window around the booked time.
	Early Duration `toml:"early"`
	Late  Duration `toml:"late"`
}

// Hall describes the service hall the kiosk stands in.
type Hall struct {
	ID       string `toml:"id"`
	Name     string `toml:"name"`
	NameEn   string `toml:"name_en"`
	TimeZone string `toml:"time_zone"`
	// LockedMessage is shown on the 暂停服务 screen when the hall locks a kiosk without a message.
	LockedMessage string `toml:"locked_message"`
	// Controller: the hall runs halld, which numbers every kiosk's tickets (one numbering for
	// the hall). Needs mqtt.enabled. false: this kiosk numbers its own tickets.
	Controller bool `toml:"controller"`
	// TakeDeadline is how long the kiosk waits for halld's number before it issues one of its
	// lease (100ms to 10s).
	TakeDeadline Duration `toml:"take_deadline"`
	// PublicURL is the base of the hall's public ticket page: a ticket's QR code holds
	// {public_url}/t/{lookup}. Empty: the QR code holds the kiosk's own lookup payload.
	PublicURL string `toml:"public_url"`
	// CommandKey is the hall's public key for commands, "ed25519:<base64>" as `halld
	// command-key` prints it: when set, the kiosk runs only commands the hall signed for it and
	// refuses the rest (docs/telemetry.md, "Signed commands"). Empty: no signature asked for.
	CommandKey string `toml:"command_key"`
}

// Kiosk holds the settings of this one terminal.
type Kiosk struct {
	ID          string   `toml:"id"`
	Language    string   `toml:"language"`
	Store       string   `toml:"store"`
	Catalog     string   `toml:"catalog"`
	IdleTimeout Duration `toml:"idle_timeout"`
	// IdleReading is the idle timeout on screens the citizen reads (guide detail, progress).
	IdleReading Duration `toml:"idle_timeout_reading"`
	// IdleElder is the idle timeout on every screen in elder mode (large text).
	IdleElder   Duration `toml:"idle_timeout_elder"`
	IdleWarning Duration `toml:"idle_warning"`
	// HelpTimeout is how long a citizen's call for staff (呼叫工作人员) stays raised when no staff
	// member opens staff mode on the kiosk: the fallback that keeps a forgotten call from
	// lingering on the hall's screens all day.
	HelpTimeout Duration `toml:"help_timeout"`
	PrintDir    string   `toml:"print_dir"`
}

// Hours are the opening hours; see package hours for their meaning.
type Hours struct {
	Weekday  []string `toml:"weekday"`
	Weekend  []string `toml:"weekend"`
	Closed   []string `toml:"closed"`
	Workdays []string `toml:"workdays"`
}

// Queue configures ticket numbering and the green channel.
type Queue struct {
	ElderAge           int        `toml:"elder_age"`
	PriorityCategories []string   `toml:"priority_categories"`
	Categories         []Category `toml:"category"`
}

// Category is one queue category letter with its fallback service time.
type Category struct {
	Letter     string   `toml:"letter"`
	AvgService Duration `toml:"avg_service"`
	Counters   int      `toml:"counters"`
}

// Devices names the hardware. An empty path or reader name means the device is absent.
type Devices struct {
	Printer        string `toml:"printer"`
	PrinterBaud    int    `toml:"printer_baud"`
	PrinterFlow    string `toml:"printer_flow"`
	PrinterPaper   string `toml:"printer_paper"`
	PrinterQR      string `toml:"printer_qr"`
	PrinterEnglish bool   `toml:"printer_english"`
	IDReader       string `toml:"id_reader"`
	IDReaderBaud   int    `toml:"id_reader_baud"`
	CardReader     string `toml:"card_reader"`
	UIDReader      string `toml:"uid_reader"`
	PSAMReader     string `toml:"psam_reader"`
	// Font is the screen's CJK font for regular text; BoldFont for bold text (headings). Either
	// may be a .ttf/.otf or a .ttc collection, whose face FontFace (a family name) is used.
	// A file that sets font but not bold_font (a configuration older than bold_font) draws bold
	// text with Font.
	Font     string `toml:"font"`
	BoldFont string `toml:"bold_font"`
	FontFace string `toml:"font_face"`
	// Where on the kiosk's front the ID card reader (id_reader, and uid_reader for ID cards
	// without a SAM) and the city card reader (card_reader) sit: one of ReaderPositions. The
	// screens that ask for a card draw the kiosk with an arrow there.
	IDReaderPosition   string `toml:"id_reader_position"`
	CardReaderPosition string `toml:"card_reader_position"`
}

// Reader positions on the kiosk's front (devices.id_reader_position, card_reader_position).
const (
	PosLeft        = "left"         // beside the screen, on its left
	PosRight       = "right"        // beside the screen, on its right
	PosBelowScreen = "below-screen" // on the panel just under the screen
	PosFrontShelf  = "front-shelf"  // on the sloping shelf in front, at hand height
)

// ReaderPositions lists the valid reader positions. Do not modify it.
var ReaderPositions = []string{PosLeft, PosRight, PosBelowScreen, PosFrontShelf}

// MQTT configures telemetry to the hall controller.
type MQTT struct {
	Enabled         bool     `toml:"enabled"`
	Embedded        bool     `toml:"embedded"`
	URL             string   `toml:"url"`
	CredentialsFile string   `toml:"credentials_file"`
	CAFile          string   `toml:"ca_file"`
	CertFile        string   `toml:"cert_file"`
	KeyFile         string   `toml:"key_file"`
	Heartbeat       Duration `toml:"heartbeat"`
}

// API configures kioskd's local HTTP API.
type API struct {
	Listen    string `toml:"listen"`
	TokenFile string `toml:"token_file"`
}

// Staff configures on-site staff access.
type Staff struct {
	// PINHash is the staff PIN's hash (HashPIN); "" for none, and then no staff mode on site.
	PINHash string `toml:"pin_hash"`
	// Cards are the staff cards' UIDs: each opens the PIN pad, never staff mode by itself.
	Cards []string `toml:"cards"`
	// CardRequired closes the way in by the PIN alone (the hidden gesture): staff then need a
	// staff card and the PIN, so neither a copied card nor a PIN seen over a shoulder opens
	// staff mode by itself. It needs Cards.
	CardRequired bool `toml:"card_required"`
	// IdleTimeout ends staff mode after this long without a touch; longer than a citizen's.
	IdleTimeout Duration `toml:"idle_timeout"`
}

// Duration is a time.Duration written as a Go duration string ("60s", "1m30s") in the file.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler. A text that is no duration leaves d alone.
func (d *Duration) UnmarshalText(b []byte) error {
	return tomlfile.ParseDuration(&d.Duration, b, `"60s" or "5m"`)
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// Default is the configuration an empty file gives. Paths follow packaging/ (Debian layout).
func Default() Config {
	return Config{
		Hall: Hall{
			ID: "hall", Name: "市民之家", NameEn: "Citizen Service Hall", TimeZone: "Asia/Shanghai",
			LockedMessage: "本机暂停服务，请到其他自助机或综合窗口办理。",
			TakeDeadline:  Duration{800 * time.Millisecond},
		},
		Kiosk: Kiosk{
			ID: "kiosk-01", Language: "zh", Store: "/var/lib/citizenhome/kiosk.db",
			IdleTimeout: Duration{60 * time.Second}, IdleReading: Duration{120 * time.Second},
			IdleElder: Duration{180 * time.Second}, IdleWarning: Duration{20 * time.Second},
			HelpTimeout: Duration{15 * time.Minute},
		},
		Hours: Hours{
			Weekday: []string{"08:30-12:00", "13:30-17:30"},
			Weekend: []string{"09:00-12:00", "13:30-17:00"},
			Closed:  []string{}, Workdays: []string{},
		},
		Queue: Queue{ElderAge: 65, PriorityCategories: []string{}, Categories: []Category{
			{"A", Duration{6 * time.Minute}, 4}, {"B", Duration{8 * time.Minute}, 3},
			{"C", Duration{6 * time.Minute}, 3}, {"D", Duration{10 * time.Minute}, 2},
			{"E", Duration{12 * time.Minute}, 3}, {"F", Duration{15 * time.Minute}, 3},
		}},
		Devices: Devices{
			PrinterBaud: 115200, PrinterFlow: "none", PrinterPaper: "80mm", PrinterQR: "native",
			IDReaderBaud:     115200,
			Font:             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
			BoldFont:         "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
			FontFace:         "Noto Sans CJK SC",
			IDReaderPosition: PosFrontShelf, CardReaderPosition: PosRight,
		},
		MQTT:         MQTT{URL: "tcp://127.0.0.1:1883", Heartbeat: Duration{60 * time.Second}},
		API:          API{Listen: "127.0.0.1:7788", TokenFile: "/var/lib/citizenhome/api.token"},
		Staff:        Staff{Cards: []string{}, IdleTimeout: Duration{300 * time.Second}},
		Privacy:      Privacy{KeyFile: "/var/lib/citizenhome/hall.key", RetentionDays: 180},
		Payments:     Payments{RetentionDays: 1095},
		Appointments: Appointments{Early: Duration{30 * time.Minute}, Late: Duration{15 * time.Minute}},
		Voice: Voice{Enabled: true, Volume: 70, Device: "default", ClipsDir: "/etc/citizenhome/prompts",
			PromptsDir: "/usr/share/citizenhome/prompts", StateFile: "/var/lib/citizenhome/voice.json"},
	}
}

// MinIdleWarning is the least idle_warning: WCAG 2.2 gives a citizen at least 20 seconds to
// answer a time-out warning.
const MinIdleWarning = 20 * time.Second

// ErrInvalid is matched by every *Error and by Errors.
var ErrInvalid = errors.New("invalid configuration")

// Error is a configuration problem tied to one key.
// Its fields are tomlfile.Problem's, in the same order: the reader's problems convert to it.
type Error struct {
	File string // may be empty when parsing bytes
	Key  string // dotted path, "queue.category[1].letter"; empty for a syntax error
	// Where names the entry of an array of tables the key is in, for a reader who does not count
	// [[queue.category]] tables: `letter "C"`. Empty elsewhere.
	Where string
	Line  int // 1-based; 0 when the key is absent from the file (a missing required value)
	Msg   string
}

// Error gives "file:line: key (where): message", leaving out what is empty.
func (e *Error) Error() string { return (*tomlfile.Problem)(e).Error() }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Errors is every problem of one file, in the order of their lines (problems with no line, a
// value missing from the file, come last). Parse and Load return it whenever the file has a
// problem; it is never empty then. A syntax error, or a key defined twice, is the only problem
// listed: what follows it cannot be read reliably. Otherwise every unknown key, every value of
// the wrong type and every value that fails validation is listed.
//
// errors.As(err, &e) with e an *Error gives the first problem; errors.Is(err, ErrInvalid) holds.
type Errors []*Error

// Error gives one problem per line.
func (es Errors) Error() string { return tomlfile.Join(es) }

// Unwrap gives the problems, for errors.As and errors.Is.
func (es Errors) Unwrap() []error { return tomlfile.Unwrap(es) }

// Is makes errors.Is(err, ErrInvalid) true, even for an empty list built by hand.
func (es Errors) Is(target error) bool { return target == ErrInvalid }

// Load reads and validates the file at path. A missing file is an error: a kiosk must not run
// on defaults by accident. A bad file gives Errors, each naming path.
func Load(path string) (Config, error) {
	c, _, err := Inspect(path)
	return c, err
}

// Inspect is Load that also returns the warnings of a file that loads: settings that are valid
// but almost certainly not meant, such as the example's placeholder ids left in place. The
// warnings are nil when err is not.
func Inspect(path string) (Config, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, nil, err
	}
	return parse(path, data)
}

// Parse decodes data over Default and validates the result. The error is Errors: every problem
// of the file, each naming its key and line.
func Parse(data []byte) (Config, error) {
	c, _, err := parse("", data)
	return c, err
}

// parse reads the file named path (empty for bytes from elsewhere).
func parse(path string, data []byte) (Config, []Warning, error) {
	c := Default()
	f, readable := tomlfile.Decode(path, data, &c, &options)
	if readable {
		// A file from before bold_font names its one font: bold text uses it too, rather than
		// the default bold font of another family.
		if _, font := f.Lines["devices.font"]; font {
			if _, bold := f.Lines["devices.bold_font"]; !bold {
				c.Devices.BoldFont = c.Devices.Font
			}
		}
		c.validate(f)
	}
	if ps := f.Problems(); ps != nil {
		es := make(Errors, len(ps))
		for i := range ps {
			es[i] = (*Error)(&ps[i])
		}
		return Config{}, nil, es
	}
	return c, c.warnings(path, f.Lines), nil
}

var (
	reName   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	reLetter = regexp.MustCompile(`^[A-Z]$`)
	reCard   = regexp.MustCompile(`^[0-9A-F]{8,20}$`)
)

func (c *Config) validate(p *tomlfile.File) {
	if !reName.MatchString(c.Hall.ID) {
		p.Add("hall.id", "%q must match [a-z0-9][a-z0-9-]{0,31} (it is part of MQTT topics)", c.Hall.ID)
	}
	if !reName.MatchString(c.Kiosk.ID) {
		p.Add("kiosk.id", "%q must match [a-z0-9][a-z0-9-]{0,31} (it is part of MQTT topics)", c.Kiosk.ID)
	}
	if strings.TrimSpace(c.Hall.Name) == "" {
		p.Add("hall.name", "must not be empty (it is printed on every ticket)")
	}
	if _, err := time.LoadLocation(c.Hall.TimeZone); err != nil || c.Hall.TimeZone == "" {
		p.Add("hall.time_zone", "%q is not a known time zone (for example Asia/Shanghai)", c.Hall.TimeZone)
	}
	if d := c.Hall.TakeDeadline.Duration; d < 100*time.Millisecond || d > 10*time.Second {
		p.Add("hall.take_deadline", "%s must be between 100ms and 10s", d)
	}
	if c.Hall.Controller && !c.MQTT.Enabled {
		p.Add("hall.controller", "needs mqtt.enabled = true (halld is reached over MQTT)")
	}
	if err := checkPublicURL(c.Hall.PublicURL); err != nil {
		p.Add("hall.public_url", "%v", err)
	}
	if c.Hall.CommandKey != "" {
		if _, err := wire.ParseCommandKey(c.Hall.CommandKey); err != nil {
			p.Add("hall.command_key", "%q is not the hall's key: %v", c.Hall.CommandKey, err)
		}
	}
	if c.Kiosk.Language != "zh" && c.Kiosk.Language != "en" {
		p.Add("kiosk.language", "%q must be zh or en", c.Kiosk.Language)
	}
	if c.Kiosk.Store == "" {
		p.Add("kiosk.store", "must name the SQLite file")
	}
	if h := c.Kiosk.HelpTimeout.Duration; h < time.Minute || h > 2*time.Hour {
		p.Add("kiosk.help_timeout", "%s must be between 1m and 2h", h)
	}
	timeoutOK := !p.Has("kiosk.idle_timeout")
	if c.Kiosk.IdleTimeout.Duration < 15*time.Second || c.Kiosk.IdleTimeout.Duration > 10*time.Minute {
		p.Add("kiosk.idle_timeout", "%s must be between 15s and 10m", c.Kiosk.IdleTimeout.Duration)
		timeoutOK = false
	}
	// Against an idle_timeout that is itself wrong the comparison says nothing new.
	w := c.Kiosk.IdleWarning.Duration
	warnOK := !p.Has("kiosk.idle_warning")
	switch {
	case w < MinIdleWarning:
		// WCAG 2.2 (2.2.1): at least 20 seconds to answer the warning.
		p.Add("kiosk.idle_warning", "%s must be at least %s (time to read the warning and answer it)", w, MinIdleWarning)
		warnOK = false
	case timeoutOK && w >= c.Kiosk.IdleTimeout.Duration:
		p.Add("kiosk.idle_warning", "%s must be below idle_timeout (%s)", w, c.Kiosk.IdleTimeout.Duration)
		warnOK = false
	}
	for _, x := range []struct {
		key string
		d   time.Duration
	}{{"kiosk.idle_timeout_reading", c.Kiosk.IdleReading.Duration}, {"kiosk.idle_timeout_elder", c.Kiosk.IdleElder.Duration}} {
		switch {
		case p.Has(x.key):
		case x.d < 15*time.Second || x.d > 30*time.Minute:
			p.Add(x.key, "%s must be between 15s and 30m", x.d)
		case warnOK && x.d <= w:
			p.Add(x.key, "%s must be above idle_warning (%s)", x.d, w)
		}
	}
	switch d := c.Staff.IdleTimeout.Duration; {
	case p.Has("staff.idle_timeout"):
	case d < time.Minute || d > time.Hour:
		p.Add("staff.idle_timeout", "%s must be between 1m and 1h", d)
	case timeoutOK && d <= c.Kiosk.IdleTimeout.Duration:
		p.Add("staff.idle_timeout", "%s must be longer than a citizen's kiosk.idle_timeout (%s)", d, c.Kiosk.IdleTimeout.Duration)
	}
	for i, s := range c.Hours.Weekday {
		if _, _, err := hours.ParseSpan(s); err != nil {
			p.Add(fmt.Sprintf("hours.weekday[%d]", i), "%v", err)
		}
	}
	for i, s := range c.Hours.Weekend {
		if _, _, err := hours.ParseSpan(s); err != nil {
			p.Add(fmt.Sprintf("hours.weekend[%d]", i), "%v", err)
		}
	}
	for i, s := range c.Hours.Closed {
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			p.Add(fmt.Sprintf("hours.closed[%d]", i), "%q is not a date like 2026-10-01", s)
		}
	}
	for i, s := range c.Hours.Workdays {
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			p.Add(fmt.Sprintf("hours.workdays[%d]", i), "%q is not a date like 2026-10-11", s)
		}
	}
	if c.Queue.ElderAge < 50 || c.Queue.ElderAge > 120 {
		p.Add("queue.elder_age", "%d must be between 50 and 120", c.Queue.ElderAge)
	}
	seen := map[string]bool{}
	for i, cat := range c.Queue.Categories {
		k := fmt.Sprintf("queue.category[%d]", i)
		switch {
		case !reLetter.MatchString(cat.Letter):
			p.Add(k+".letter", "%q must be one capital letter A-Z", cat.Letter)
		case seen[cat.Letter]:
			p.Add(k+".letter", "%q is configured twice", cat.Letter)
		}
		seen[cat.Letter] = true
		if cat.AvgService.Duration < 0 || cat.AvgService.Duration > 4*time.Hour {
			p.Add(k+".avg_service", "%s must be between 0 and 4h", cat.AvgService.Duration)
		}
		if cat.Counters < 0 || cat.Counters > 200 {
			p.Add(k+".counters", "%d must be between 0 and 200", cat.Counters)
		}
	}
	for i, l := range c.Queue.PriorityCategories {
		if !reLetter.MatchString(l) {
			p.Add(fmt.Sprintf("queue.priority_categories[%d]", i), "%q must be one capital letter A-Z", l)
		}
	}
	d := c.Devices
	if strings.TrimSpace(d.Font) == "" {
		p.Add("devices.font", "must name the screen's CJK font file (for example %s)", Default().Devices.Font)
	}
	if d.PrinterBaud <= 0 || d.PrinterBaud > 921600 {
		p.Add("devices.printer_baud", "%d is not a usable baud rate", d.PrinterBaud)
	}
	if d.IDReaderBaud <= 0 || d.IDReaderBaud > 921600 {
		p.Add("devices.id_reader_baud", "%d is not a usable baud rate", d.IDReaderBaud)
	}
	if d.PrinterFlow != "none" && d.PrinterFlow != "rtscts" {
		p.Add("devices.printer_flow", "%q must be none or rtscts", d.PrinterFlow)
	}
	if d.PrinterPaper != "58mm" && d.PrinterPaper != "80mm" {
		p.Add("devices.printer_paper", "%q must be 58mm or 80mm", d.PrinterPaper)
	}
	if d.PrinterQR != "native" && d.PrinterQR != "raster" {
		p.Add("devices.printer_qr", "%q must be native (GS ( k) or raster (GS v 0)", d.PrinterQR)
	}
	for _, rp := range []struct{ key, v string }{
		{"devices.id_reader_position", d.IDReaderPosition}, {"devices.card_reader_position", d.CardReaderPosition},
	} {
		if !slices.Contains(ReaderPositions, rp.v) {
			p.Add(rp.key, "%q must be one of %s", rp.v, strings.Join(ReaderPositions, ", "))
		}
	}
	m := c.MQTT
	if m.Enabled {
		checkBrokerURL(p, m)
	}
	if m.Enabled && !m.Embedded {
		if m.CredentialsFile == "" && m.CertFile == "" {
			p.Add("mqtt.credentials_file", "an external broker needs credentials (or cert_file)")
		}
	}
	if (m.CertFile == "") != (m.KeyFile == "") {
		p.Add("mqtt.key_file", "cert_file and key_file go together")
	}
	if m.Heartbeat.Duration < time.Second {
		p.Add("mqtt.heartbeat", "%s must be at least 1s", m.Heartbeat.Duration)
	}
	if err := checkListen(c.API.Listen); err != nil {
		p.Add("api.listen", "%v", err)
	}
	if c.Staff.PINHash != "" {
		if _, err := parsePINHash(c.Staff.PINHash); err != nil {
			p.Add("staff.pin_hash", "%v", err)
		}
	}
	if c.Privacy.KeyFile == "" {
		p.Add("privacy.key_file", "must name the hall key file (created at first start)")
	}
	if c.Privacy.RetentionDays < 1 || c.Privacy.RetentionDays > 3650 {
		p.Add("privacy.retention_days", "%d must be between 1 and 3650", c.Privacy.RetentionDays)
	}
	if d := c.Payments.RetentionDays; d < 400 || d > 10950 {
		p.Add("payments.retention_days", "%d must be between 400 (a year's accounts and their audit) and 10950 (30 years)", d)
	}
	if e := c.Appointments.Early.Duration; e < 0 || e > 4*time.Hour {
		p.Add("appointments.early", "%s must be between 0 and 4h", e)
	}
	if l := c.Appointments.Late.Duration; l < 0 || l > 4*time.Hour {
		p.Add("appointments.late", "%s must be between 0 and 4h", l)
	}
	if v := c.Voice.Volume; v < 0 || v > 100 {
		p.Add("voice.volume", "%d must be between 0 and 100", v)
	}
	if c.Voice.Enabled && c.Voice.Device == "" {
		p.Add("voice.device", "must name the ALSA device (\"default\", or one listed by aplay -L) when the voice is enabled")
	}
	if c.Staff.CardRequired && len(c.Staff.Cards) == 0 {
		p.Add("staff.card_required", "needs staff.cards: with no staff card configured nobody could open staff mode on site")
	}
	for i, card := range c.Staff.Cards {
		if !reCard.MatchString(card) {
			p.Add(fmt.Sprintf("staff.cards[%d]", i), "must be the card UID in upper-case hex")
		}
	}
}

// Location returns the hall's time zone (validated by Parse, so only a hand-built Config fails).
func (c Config) Location() (*time.Location, error) { return time.LoadLocation(c.Hall.TimeZone) }

// checkPublicURL accepts "" or an absolute http(s) URL with a host and no user, query, fragment
// or trailing slash: {public_url}/t/{lookup} is printed as a QR code, which must open on a phone.
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil, u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.Opaque != "":
		return fmt.Errorf("%q must be an http:// or https:// URL with a host, like https://hall.example.cn", s)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#"):
		return fmt.Errorf("%q must have no user, query or fragment", s)
	case strings.HasSuffix(s, "/"):
		return fmt.Errorf("%q must not end in / (the ticket's path /t/{lookup} is added to it)", s)
	case len(s) > 200 || strings.ContainsAny(s, " \t\n"):
		return fmt.Errorf("%q must be at most 200 characters, without spaces", s)
	}
	return nil
}

// checkBrokerURL keeps clear text on this machine: over tcp:// the kiosk's password and every
// message (a citizen's rating, a payment's amount) cross the wire readable, so tcp:// may only
// reach a loopback broker, and TLS must name the hall's CA, not trust every public one. The same
// rule as telemetry/link's Check (which this package may not import), in a technician's words.
func checkBrokerURL(p *tomlfile.File, m MQTT) {
	u, err := url.Parse(m.URL)
	if err != nil || u.Host == "" || u.Port() == "" {
		p.Add("mqtt.url", "%q must be scheme://host:port, like \"tcp://127.0.0.1:1883\" or \"ssl://broker.hall:8883\"", m.URL)
		return
	}
	switch u.Scheme {
	case "tcp":
		if !loopbackHost(u.Hostname()) {
			p.Add("mqtt.url", "%q: tcp:// sends the password and every message in clear, so it may reach this machine only (127.0.0.1, [::1], localhost); for a broker on another machine use ssl://, with mqtt.ca_file naming the hall's CA certificate", m.URL)
		}
	case "ssl", "tls", "mqtts":
		if m.Embedded {
			p.Add("mqtt.url", "%q: the embedded broker listens on tcp:// on this machine only (127.0.0.1 or [::1])", m.URL)
		} else if m.CAFile == "" {
			p.Add("mqtt.ca_file", "%s needs the hall's CA certificate file, to check the broker's certificate against (the system's roots would accept any certificate a public CA issued for that name)", m.URL)
		}
	default:
		p.Add("mqtt.url", "%q must start with tcp:// (this machine only), ssl://, tls:// or mqtts://", m.URL)
	}
}

// loopbackHost reports whether a host, as written, is this machine: "localhost" or an address of
// 127.0.0.0/8 or ::1 (a name is not looked up: the rule must not depend on DNS).
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkListen keeps the local API off public interfaces: it hands out personal data.
func checkListen(s string) error {
	if path, ok := strings.CutPrefix(s, "unix:"); ok {
		if path == "" {
			return errors.New("unix: needs a socket path")
		}
		return nil
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q must be host:port or unix:/path", s)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q must be a loopback address (127.0.0.1, [::1]) or a unix socket", s)
	}
	return nil
}
