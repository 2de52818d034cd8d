// Package config reads the kiosk's one TOML configuration file.
//
// Every key, its meaning and its default are documented in packaging/kiosk.example.toml; a test
// keeps that file and Default in step. Loading is strict: an unknown key, a value of the wrong type
// or a value that fails validation stops the program with an *Error that names the key and the
// line, so a technician editing the file on a kiosk sees at once what to fix.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"time"
	// A minimal Debian root may lack /usr/share/zoneinfo; the hall's zone must still load.
	_ "time/tzdata"

	"github.com/pelletier/go-toml/v2"

	"citizenhome/kiosk/hours"
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
	Appointments Appointments `toml:"appointments"`
}

// Privacy configures how personal data is kept at rest.
type Privacy struct {
	// KeyFile holds the hall's secret key (32 random bytes, hex): identifiers are stored only as
	// HMACs under it, and complaint phone numbers encrypted with it. Created at first start.
	KeyFile string `toml:"key_file"`
	// RetentionDays: personal data older than this is purged daily.
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
}

// Kiosk holds the settings of this one terminal.
type Kiosk struct {
	ID          string   `toml:"id"`
	Language    string   `toml:"language"`
	Store       string   `toml:"store"`
	Catalog     string   `toml:"catalog"`
	IdleTimeout Duration `toml:"idle_timeout"`
	IdleWarning Duration `toml:"idle_warning"`
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
	Font           string `toml:"font"`
}

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
	PINHash string   `toml:"pin_hash"`
	Cards   []string `toml:"cards"`
}

// Duration is a time.Duration written as a Go duration string ("60s", "1m30s") in the file.
type Duration struct{ time.Duration }

// durationError is what the TOML decoder hands back unwrapped, with no key: decodeError finds the
// key from the value.
type durationError struct{ value string }

func (e *durationError) Error() string {
	return fmt.Sprintf("%q is not a duration (write it like \"60s\" or \"5m\")", e.value)
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return &durationError{string(b)}
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// Default is the configuration an empty file gives. Paths follow packaging/ (Debian layout).
func Default() Config {
	return Config{
		Hall: Hall{
			ID: "hall", Name: "市民之家", NameEn: "Citizen Service Hall", TimeZone: "Asia/Shanghai",
			LockedMessage: "本机暂停服务，请到其他自助机或综合窗口办理。",
		},
		Kiosk: Kiosk{
			ID: "kiosk-01", Language: "zh", Store: "/var/lib/citizenhome/kiosk.db",
			IdleTimeout: Duration{60 * time.Second}, IdleWarning: Duration{10 * time.Second},
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
			IDReaderBaud: 115200,
			Font:         "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
		},
		MQTT:         MQTT{URL: "tcp://127.0.0.1:1883", Heartbeat: Duration{60 * time.Second}},
		API:          API{Listen: "127.0.0.1:7788", TokenFile: "/var/lib/citizenhome/api.token"},
		Staff:        Staff{Cards: []string{}},
		Privacy:      Privacy{KeyFile: "/var/lib/citizenhome/hall.key", RetentionDays: 180},
		Appointments: Appointments{Early: Duration{30 * time.Minute}, Late: Duration{15 * time.Minute}},
	}
}

// ErrInvalid is matched by every *Error.
var ErrInvalid = errors.New("invalid configuration")

// Error is a configuration problem tied to one key.
type Error struct {
	File string // may be empty when parsing bytes
	Key  string // dotted path, "queue.category[1].letter"; empty for a syntax error
	Line int    // 1-based; 0 when the key is absent from the file (a missing required value)
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Key != "" {
		fmt.Fprintf(&b, "%s: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Load reads and validates the file at path. A missing file is an error: a kiosk must not run
// on defaults by accident.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := Parse(data)
	var ce *Error
	if errors.As(err, &ce) {
		ce.File = path
	}
	return c, err
}

// Parse decodes data over Default and validates the result. The error is an *Error (first problem
// found) naming the key and its line.
func Parse(data []byte) (Config, error) {
	c := Default()
	lines, values, perr := scan(data)
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, decodeError(err, perr, lines, values)
	}
	if err := c.validate(); err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			ce.Line = lines.line(ce.Key)
		}
		return Config{}, err
	}
	return c, nil
}

func decodeError(err error, perr error, lines lineMap, values map[string]string) error {
	var sm *toml.StrictMissingError
	if errors.As(err, &sm) && len(sm.Errors) > 0 {
		de := sm.Errors[0]
		row, _ := de.Position()
		return &Error{Key: strings.Join(de.Key(), "."), Line: row, Msg: "unknown key"}
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return &Error{Key: strings.Join(de.Key(), "."), Line: row, Msg: firstLine(de.Error())}
	}
	if perr != nil {
		return perr
	}
	var du *durationError
	if errors.As(err, &du) {
		for k, v := range values {
			if _, perr := time.ParseDuration(v); v == du.value && perr != nil {
				return &Error{Key: k, Line: lines.line(k), Msg: err.Error()}
			}
		}
	}
	return &Error{Msg: err.Error()}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

var (
	reName   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	reLetter = regexp.MustCompile(`^[A-Z]$`)
	reCard   = regexp.MustCompile(`^[0-9A-F]{8,20}$`)
)

func bad(key, format string, args ...any) error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

func (c *Config) validate() error {
	if !reName.MatchString(c.Hall.ID) {
		return bad("hall.id", "%q must match [a-z0-9][a-z0-9-]{0,31} (it is part of MQTT topics)", c.Hall.ID)
	}
	if !reName.MatchString(c.Kiosk.ID) {
		return bad("kiosk.id", "%q must match [a-z0-9][a-z0-9-]{0,31} (it is part of MQTT topics)", c.Kiosk.ID)
	}
	if strings.TrimSpace(c.Hall.Name) == "" {
		return bad("hall.name", "must not be empty (it is printed on every ticket)")
	}
	if _, err := time.LoadLocation(c.Hall.TimeZone); err != nil || c.Hall.TimeZone == "" {
		return bad("hall.time_zone", "%q is not a known time zone (for example Asia/Shanghai)", c.Hall.TimeZone)
	}
	if c.Kiosk.Language != "zh" && c.Kiosk.Language != "en" {
		return bad("kiosk.language", "%q must be zh or en", c.Kiosk.Language)
	}
	if c.Kiosk.Store == "" {
		return bad("kiosk.store", "must name the SQLite file")
	}
	if c.Kiosk.IdleTimeout.Duration < 15*time.Second || c.Kiosk.IdleTimeout.Duration > 10*time.Minute {
		return bad("kiosk.idle_timeout", "%s must be between 15s and 10m", c.Kiosk.IdleTimeout.Duration)
	}
	if w := c.Kiosk.IdleWarning.Duration; w <= 0 || w >= c.Kiosk.IdleTimeout.Duration {
		return bad("kiosk.idle_warning", "%s must be above 0 and below idle_timeout", w)
	}
	for i, s := range c.Hours.Weekday {
		if _, _, err := hours.ParseSpan(s); err != nil {
			return bad(fmt.Sprintf("hours.weekday[%d]", i), "%v", err)
		}
	}
	for i, s := range c.Hours.Weekend {
		if _, _, err := hours.ParseSpan(s); err != nil {
			return bad(fmt.Sprintf("hours.weekend[%d]", i), "%v", err)
		}
	}
	for i, s := range c.Hours.Closed {
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return bad(fmt.Sprintf("hours.closed[%d]", i), "%q is not a date like 2026-10-01", s)
		}
	}
	for i, s := range c.Hours.Workdays {
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return bad(fmt.Sprintf("hours.workdays[%d]", i), "%q is not a date like 2026-10-11", s)
		}
	}
	if c.Queue.ElderAge < 50 || c.Queue.ElderAge > 120 {
		return bad("queue.elder_age", "%d must be between 50 and 120", c.Queue.ElderAge)
	}
	seen := map[string]bool{}
	for i, cat := range c.Queue.Categories {
		k := fmt.Sprintf("queue.category[%d]", i)
		if !reLetter.MatchString(cat.Letter) {
			return bad(k+".letter", "%q must be one capital letter A-Z", cat.Letter)
		}
		if seen[cat.Letter] {
			return bad(k+".letter", "%q is configured twice", cat.Letter)
		}
		seen[cat.Letter] = true
		if cat.AvgService.Duration < 0 || cat.AvgService.Duration > 4*time.Hour {
			return bad(k+".avg_service", "%s must be between 0 and 4h", cat.AvgService.Duration)
		}
		if cat.Counters < 0 || cat.Counters > 200 {
			return bad(k+".counters", "%d must be between 0 and 200", cat.Counters)
		}
	}
	for i, l := range c.Queue.PriorityCategories {
		if !reLetter.MatchString(l) {
			return bad(fmt.Sprintf("queue.priority_categories[%d]", i), "%q must be one capital letter A-Z", l)
		}
	}
	d := c.Devices
	if d.PrinterBaud <= 0 || d.PrinterBaud > 921600 {
		return bad("devices.printer_baud", "%d is not a usable baud rate", d.PrinterBaud)
	}
	if d.IDReaderBaud <= 0 || d.IDReaderBaud > 921600 {
		return bad("devices.id_reader_baud", "%d is not a usable baud rate", d.IDReaderBaud)
	}
	if d.PrinterFlow != "none" && d.PrinterFlow != "rtscts" {
		return bad("devices.printer_flow", "%q must be none or rtscts", d.PrinterFlow)
	}
	if d.PrinterPaper != "58mm" && d.PrinterPaper != "80mm" {
		return bad("devices.printer_paper", "%q must be 58mm or 80mm", d.PrinterPaper)
	}
	if d.PrinterQR != "native" && d.PrinterQR != "raster" {
		return bad("devices.printer_qr", "%q must be native (GS ( k) or raster (GS v 0)", d.PrinterQR)
	}
	m := c.MQTT
	if m.Enabled && !m.Embedded {
		if !strings.HasPrefix(m.URL, "tcp://") && !strings.HasPrefix(m.URL, "ssl://") &&
			!strings.HasPrefix(m.URL, "tls://") && !strings.HasPrefix(m.URL, "mqtts://") {
			return bad("mqtt.url", "%q must start with tcp://, ssl://, tls:// or mqtts://", m.URL)
		}
		if m.CredentialsFile == "" && m.CertFile == "" {
			return bad("mqtt.credentials_file", "an external broker needs credentials (or cert_file)")
		}
	}
	if (m.CertFile == "") != (m.KeyFile == "") {
		return bad("mqtt.key_file", "cert_file and key_file go together")
	}
	if m.Heartbeat.Duration < time.Second {
		return bad("mqtt.heartbeat", "%s must be at least 1s", m.Heartbeat.Duration)
	}
	if err := checkListen(c.API.Listen); err != nil {
		return bad("api.listen", "%v", err)
	}
	if c.Staff.PINHash != "" {
		if _, err := parsePINHash(c.Staff.PINHash); err != nil {
			return bad("staff.pin_hash", "%v", err)
		}
	}
	if c.Privacy.KeyFile == "" {
		return bad("privacy.key_file", "must name the hall key file (created at first start)")
	}
	if c.Privacy.RetentionDays < 1 || c.Privacy.RetentionDays > 3650 {
		return bad("privacy.retention_days", "%d must be between 1 and 3650", c.Privacy.RetentionDays)
	}
	if e := c.Appointments.Early.Duration; e < 0 || e > 4*time.Hour {
		return bad("appointments.early", "%s must be between 0 and 4h", e)
	}
	if l := c.Appointments.Late.Duration; l < 0 || l > 4*time.Hour {
		return bad("appointments.late", "%s must be between 0 and 4h", l)
	}
	for i, card := range c.Staff.Cards {
		if !reCard.MatchString(card) {
			return bad(fmt.Sprintf("staff.cards[%d]", i), "must be the card UID in upper-case hex")
		}
	}
	return nil
}

// Location returns the hall's time zone (validated by Parse, so only a hand-built Config fails).
func (c Config) Location() (*time.Location, error) { return time.LoadLocation(c.Hall.TimeZone) }

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
