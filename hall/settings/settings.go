// Package settings reads halld's one TOML configuration file, /etc/citizenhome/halld.toml.
//
// Every key, its meaning and its default are in packaging/halld.example.toml; a test keeps that
// file and Default in step. Loading is strict, the way the kiosk's configuration is: an unknown
// key, a value of the wrong type or a value that fails validation stops halld with Errors, every
// problem of the file, each an *Error naming the file, the line and the key in words a technician
// reads, so that one edit fixes them all.
//
// The file says what the hall is (id, names, public address, time zone), where halld keeps its
// store, how it serves HTTP and reaches the broker, where the announcement clips are, the queue
// categories, the windows and the categories each serves, and the calling rules.
package settings

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	// A minimal Debian root may lack /usr/share/zoneinfo; the hall's zone must still load.
	_ "time/tzdata"

	"citizenhome/hall/access"
	"citizenhome/hall/history"
	"citizenhome/hall/hours"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/wire"
	"citizenhome/tomlfile"
)

// Config is the whole configuration of a halld.
type Config struct {
	Hall       Hall       `toml:"hall"`
	Store      Store      `toml:"store"`
	HTTP       HTTP       `toml:"http"`
	MQTT       MQTT       `toml:"mqtt"`
	Voice      Voice      `toml:"voice"`
	Rules      Rules      `toml:"rules"`
	Hours      Hours      `toml:"hours"`
	History    History    `toml:"history"`
	Notify     Notify     `toml:"notify"`
	Followup   Followup   `toml:"followup"`
	Categories []Category `toml:"category"`
	Windows    []Window   `toml:"window"`
	// Demo is set by Demo only, never by a file: a demo hall is marked as such on every page and
	// ticket, and runs with demo accounts.
	Demo bool `toml:"-"`
}

// Hall describes the hall.
type Hall struct {
	// ID is the hall's id in every MQTT topic: the same as hall.id of its kiosks.
	ID     string `toml:"id"`
	Name   string `toml:"name"`
	NameEn string `toml:"name_en"`
	// PublicURL is the address a citizen's phone reaches halld's public pages at, without a
	// trailing slash: a ticket's QR code holds PublicURL + "/t/" + lookup. Empty: none.
	PublicURL string `toml:"public_url"`
	TimeZone  string `toml:"time_zone"`
}

// Store says where halld keeps its SQLite file.
type Store struct {
	Path string `toml:"path"`
}

// HTTP configures halld's web server: the API, the counter and display pages, the public page.
type HTTP struct {
	// Listen is host:port; ":8480" listens on every address of the machine.
	Listen string `toml:"listen"`
	// DisplayKey is the read-only key of the calling displays (/display?key=...). Required.
	DisplayKey string `toml:"display_key"`
	// PublicRate is how many requests a minute one address may make to the public routes.
	PublicRate int `toml:"public_rate"`
	// TrustedProxies are the addresses (IPs or CIDR prefixes) of reverse proxies whose
	// X-Forwarded-For names the client for the public rate limit. Empty: none is believed.
	TrustedProxies []string `toml:"trusted_proxies"`
}

// MQTT configures halld's connection to the hall's broker, or the broker it runs itself.
type MQTT struct {
	// URL is tcp://127.0.0.1:PORT on this machine, ssl:// (tls://, mqtts://) anywhere else.
	// With Embedded, the loopback address the embedded broker listens on.
	URL string `toml:"url"`
	// CredentialsFile holds the controller's account: the username, then the password.
	CredentialsFile string `toml:"credentials_file"`
	CAFile          string `toml:"ca_file"`
	CertFile        string `toml:"cert_file"`
	KeyFile         string `toml:"key_file"`
	// ClientID is the MQTT client id; empty means controller-{hall.id} (see Config.ClientID).
	ClientID string `toml:"client_id"`
	// Embedded runs the broker inside halld (a one-machine hall). Its accounts are the
	// controller's (CredentialsFile) and those of PasswordFile, granted by ACLFile.
	Embedded     bool   `toml:"embedded"`
	PasswordFile string `toml:"password_file"`
	ACLFile      string `toml:"acl_file"`
	// CommandKeyFile holds the hall's Ed25519 key that signs every command halld sends (made at
	// the first start, mode 0600; `halld command-key` prints its public half for the kiosks'
	// hall.command_key). Empty: commands go unsigned.
	CommandKeyFile string `toml:"command_key_file"`
}

// Voice says where the clips the announcements are made of are found.
type Voice struct {
	// ClipsDir holds the hall's own recorded clips; each one found there replaces the synthesised
	// clip of the same name. Empty: none.
	ClipsDir string `toml:"clips_dir"`
	// CacheDir holds the synthesised clips (espeak-ng), made when the package is built.
	CacheDir string `toml:"cache_dir"`
	// English adds an English announcement after the Mandarin one.
	English bool `toml:"english"`
}

// Rules are the calling rules (see hall/line for their exact meaning).
type Rules struct {
	// PriorityShare is the most, 0 to 1, of a window's recent calls that go to priority tickets
	// while normal tickets wait.
	PriorityShare float64 `toml:"priority_share"`
	// LongestWait: a ticket waiting longer is called first, whatever its kind.
	LongestWait Duration `toml:"longest_wait"`
	// MaxRecalls is how often a window may announce its current ticket again.
	MaxRecalls int `toml:"max_recalls"`
	// NoShowGrace is how long a no-show may come back and be queued again.
	NoShowGrace Duration `toml:"no_show_grace"`
	// RequeueAfter: a returning no-show is placed after the next this many waiting tickets.
	RequeueAfter int `toml:"requeue_after"`
	// LeaseSize is how many numbers of each category a kiosk holds for when halld is away.
	LeaseSize int `toml:"lease_size"`
	// TakeDeadline is the longest halld still answers a kiosk's request for a number after it
	// arrived, whatever expiry the request carries (a kiosk whose clock runs ahead has moved on
	// to its lease by then).
	TakeDeadline Duration `toml:"take_deadline"`
}

// Hours are the hall's opening hours (see hall/hours): the crew's availability reports count
// against them and alerts notify only within them. Each day is "HH:MM-HH:MM[,HH:MM-HH:MM]" or
// "closed"; empty takes the group's (weekdays, weekend), which default to hours.DefaultDay on
// all seven days: the hall works 5+2 (the 2021 regulations, art. 18).
type Hours struct {
	Weekdays  string `toml:"weekdays"`
	Weekend   string `toml:"weekend"`
	Monday    string `toml:"monday"`
	Tuesday   string `toml:"tuesday"`
	Wednesday string `toml:"wednesday"`
	Thursday  string `toml:"thursday"`
	Friday    string `toml:"friday"`
	Saturday  string `toml:"saturday"`
	Sunday    string `toml:"sunday"`
	// Closed are dates ("2027-01-01") the hall does not open: public holidays.
	Closed []string `toml:"closed"`
	// Days are dates with other hours than their weekday's, "2027-02-07 09:00-17:00": a
	// working day of 调休, a shortened eve.
	Days []string `toml:"days"`
}

// Week returns the hours as hall/hours reads them, in loc. Errors: hours.ErrInvalid (validate
// reports them at load time, so only a hand-built Config fails here).
func (h Hours) Week(loc *time.Location) (hours.Week, error) {
	days := h.days()
	dates := map[string]string{}
	for _, d := range h.Closed {
		dates[d] = "closed"
	}
	for _, d := range h.Days {
		date, spans, _ := strings.Cut(strings.TrimSpace(d), " ")
		dates[date] = spans
	}
	return hours.Parse(loc, days, dates)
}

// days are the days and groups given hours, by hall/hours' names; an empty key is left out
// (the group's hours, or the default, apply).
func (h Hours) days() map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{"weekdays": h.Weekdays, "weekend": h.Weekend, "monday": h.Monday,
		"tuesday": h.Tuesday, "wednesday": h.Wednesday, "thursday": h.Thursday, "friday": h.Friday,
		"saturday": h.Saturday, "sunday": h.Sunday} {
		if strings.TrimSpace(v) != "" {
			out[k] = v
		}
	}
	return out
}

// History is how long halld keeps the fleet's history (hall/history).
type History struct {
	// Retention: states, alerts, counters and commands older than this are deleted.
	Retention Duration `toml:"retention"`
}

// Notify says who hears of the kiosks' faults and when (hall/notify): webhooks to the crew's
// 企业微信 or 钉钉 group robots, or any receiver of plain JSON. No channel: nobody is notified.
type Notify struct {
	// ConsoleURL is halld's console as the crew's phones reach it ("https://halld.hall:8443"),
	// for the link to the kiosk's page in every message. Empty: no link.
	ConsoleURL string `toml:"console_url"`
	// OutsideHours sends at any time; otherwise only within [hours], the rest waits for opening.
	OutsideHours bool `toml:"outside_hours"`
	// How long an alert stays open before the crew hears of it, by kind: a warning (paper low),
	// an error (out of paper, a reader not answering), a kiosk lost.
	DelayWarning Duration `toml:"delay_warning"`
	DelayError   Duration `toml:"delay_error"`
	DelayLost    Duration `toml:"delay_lost"`
	// Timeout is one delivery's limit.
	Timeout  Duration        `toml:"timeout"`
	Channels []NotifyChannel `toml:"channel"`
}

// NotifyChannel is one webhook.
type NotifyChannel struct {
	// Name tells channels apart (health, the ledger); empty: the kind. Two of one kind need names.
	Name string `toml:"name"`
	// Kind is wecom (企业微信群机器人), dingtalk (钉钉自定义机器人) or json.
	Kind string `toml:"kind"`
	URL  string `toml:"url"`
	// Secret is a 钉钉 robot's 加签 secret (SEC...); empty when it uses keywords or addresses.
	Secret string `toml:"secret"`
	// MinSeverity "error" sends errors and lost kiosks only; empty or "warning": every alert.
	MinSeverity string `toml:"min_severity"`
	// Text sends plain text instead of markdown (clients that show markdown raw).
	Text bool `toml:"text"`
}

// Followup is how 差评 and complaints are followed up (hall/followup): each opens a work order
// for the section's managers, due in working days of the hall's calendar ([hours]).
type Followup struct {
	// DeadlineDays is the working days a work order has, from the day it opens (国办发〔2019〕51号
	// asks for rectification within a deadline; the hall sets it).
	DeadlineDays int `toml:"deadline_days"`
	// Retention: closed work orders, with the return-call phone numbers they hold, are deleted
	// this long after they closed.
	Retention Duration `toml:"retention"`
	// KeyFile holds the hall's secret that seals return-call phone numbers at rest (made at the
	// first start, mode 0600).
	KeyFile string `toml:"key_file"`
	// Managers are the accounts assigned the work orders of every section without its own.
	Managers []string `toml:"managers"`
	// Sections give a section (the catalog's section id, "sb") its own managers.
	Sections []FollowupSection `toml:"section"`
}

// FollowupSection is one section's managers.
type FollowupSection struct {
	Section  string   `toml:"section"`
	Managers []string `toml:"managers"`
}

// Category is one queue category letter.
type Category struct {
	Letter string `toml:"letter"`
	Name   string `toml:"name"`
	NameEn string `toml:"name_en"`
	// AvgService is the time one window takes per citizen, for the estimates until real
	// service times are known.
	AvgService Duration `toml:"avg_service"`
}

// Window is one counter window and the categories it calls.
type Window struct {
	ID         string   `toml:"id"`
	Categories []string `toml:"categories"`
}

// Duration is a time.Duration written as a Go duration string ("45m", "800ms") in the file.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler. A text that is no duration leaves d alone.
func (d *Duration) UnmarshalText(b []byte) error {
	return tomlfile.ParseDuration(&d.Duration, b, `"45m", "30s" or "800ms"`)
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// Default is the configuration an empty file gives, but for http.display_key, which has none: a
// file must set it. Paths follow packaging/ (Debian layout). The categories are the queue letters
// of the kiosk's default configuration (and of the demo catalog); the windows serve them all.
func Default() Config {
	return Config{
		Hall:  Hall{ID: "hall", Name: "市民之家", NameEn: "Citizen Service Hall", TimeZone: "Asia/Shanghai"},
		Store: Store{Path: "/var/lib/citizenhome/halld/halld.db"},
		HTTP:  HTTP{Listen: ":8480", PublicRate: 60, TrustedProxies: []string{}},
		MQTT: MQTT{URL: "tcp://127.0.0.1:1883", CredentialsFile: "/etc/citizenhome/halld-mqtt.credentials",
			PasswordFile: "/etc/citizenhome/broker.passwd", ACLFile: "/etc/citizenhome/broker.acl",
			CommandKeyFile: "/var/lib/citizenhome/halld/command.key"},
		Voice: Voice{ClipsDir: "/etc/citizenhome/clips", CacheDir: "/usr/share/citizenhome/clips"},
		Rules: Rules{PriorityShare: 0.5, LongestWait: Duration{45 * time.Minute}, MaxRecalls: 3,
			NoShowGrace: Duration{30 * time.Minute}, RequeueAfter: 3, LeaseSize: 10,
			TakeDeadline: Duration{800 * time.Millisecond}},
		Hours:   Hours{Weekdays: hours.DefaultDay, Weekend: hours.DefaultDay, Closed: []string{}, Days: []string{}},
		History: History{Retention: Duration{history.DefaultRetention}},
		Notify: Notify{DelayWarning: Duration{5 * time.Minute}, DelayError: Duration{time.Minute},
			DelayLost: Duration{time.Minute}, Timeout: Duration{10 * time.Second}, Channels: []NotifyChannel{}},
		Followup: Followup{DeadlineDays: 5, Retention: Duration{2 * 366 * 24 * time.Hour},
			KeyFile: "/var/lib/citizenhome/halld/hall.key", Managers: []string{"admin"}, Sections: []FollowupSection{}},
		Categories: []Category{
			{"A", "综合窗口", "General window", Duration{6 * time.Minute}},
			{"B", "社保", "Social insurance", Duration{8 * time.Minute}},
			{"C", "医保", "Medical insurance", Duration{6 * time.Minute}},
			{"D", "出入境", "Exit and entry", Duration{10 * time.Minute}},
			{"E", "市场监管", "Market regulation", Duration{12 * time.Minute}},
			{"F", "不动产登记", "Real estate registration", Duration{15 * time.Minute}},
		},
		Windows: []Window{
			{"1", []string{"A"}}, {"2", []string{"A", "B"}}, {"3", []string{"B", "C"}},
			{"4", []string{"D"}}, {"5", []string{"E"}}, {"6", []string{"F"}},
		},
	}
}

// ClientID is the MQTT client id: mqtt.client_id, or controller-{hall.id} when it is empty.
func (c Config) ClientID() string {
	if c.MQTT.ClientID != "" {
		return c.MQTT.ClientID
	}
	return "controller-" + c.Hall.ID
}

// Link is the broker connection of the [mqtt] table, without the account: the caller reads
// mqtt.credentials_file (link.ReadCredentials), which checks the file's mode as it reads it.
func (c Config) Link() link.Settings {
	m := c.MQTT
	return link.Settings{URL: m.URL, CAFile: m.CAFile, CertFile: m.CertFile, KeyFile: m.KeyFile, ClientID: c.ClientID()}
}

// Location returns the hall's time zone (validated by Parse, so only a hand-built Config fails).
func (c Config) Location() (*time.Location, error) { return time.LoadLocation(c.Hall.TimeZone) }

// Category returns the category with letter l.
func (c Config) Category(l string) (Category, bool) {
	i := slices.IndexFunc(c.Categories, func(x Category) bool { return x.Letter == l })
	if i < 0 {
		return Category{}, false
	}
	return c.Categories[i], true
}

// ErrInvalid is matched by every *Error and by Errors.
var ErrInvalid = errors.New("invalid halld configuration")

// Error is a configuration problem tied to one key.
// Its fields are tomlfile.Problem's, in the same order: the reader's problems convert to it.
type Error struct {
	File string // empty when parsing bytes
	Key  string // dotted path, "window[2].categories[1]"; empty for a syntax error
	// Where names the [[category]] or [[window]] entry the key is in, for a reader who does not
	// count tables: `letter "C"`, `id "3"`. Empty elsewhere.
	Where string
	Line  int // 1-based; 0 when the key is absent from the file (a missing required value)
	Msg   string
}

// Error gives "file:line: key (where): message", leaving out what is empty.
func (e *Error) Error() string { return (*tomlfile.Problem)(e).Error() }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Errors is every problem of one file, in the order of their lines (problems with no line, a
// value missing from the file, come last). It is never empty when returned. A syntax error, or a
// key defined twice, is the only problem listed: what follows it cannot be read reliably.
// Otherwise every unknown key, every value of the wrong type and every value that fails
// validation is listed. errors.As(err, &e) with e an *Error gives the first problem.
type Errors []*Error

// Error gives one problem per line.
func (es Errors) Error() string { return tomlfile.Join(es) }

// Unwrap gives the problems, for errors.As and errors.Is.
func (es Errors) Unwrap() []error { return tomlfile.Unwrap(es) }

// Is makes errors.Is(err, ErrInvalid) true, even for an empty list built by hand.
func (es Errors) Is(target error) bool { return target == ErrInvalid }

// Warning is a setting that is valid but almost certainly not meant. It does not stop halld.
type Warning struct {
	File string // empty when parsing bytes
	Key  string
	Line int // 0 when the key is not written in the file
	Msg  string
}

// String gives "file:line: key: message", the layout of an Error.
func (w Warning) String() string {
	return (&tomlfile.Problem{File: w.File, Key: w.Key, Line: w.Line, Msg: w.Msg}).Error()
}

// Load reads and validates the file at path. A missing file is an error (halld never runs on
// defaults by accident); a bad file gives Errors, each naming path.
func Load(path string) (Config, error) {
	c, _, err := Inspect(path)
	return c, err
}

// Inspect is Load that also returns the warnings of a file that loads (nil when err is not).
func Inspect(path string) (Config, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, nil, err
	}
	return parse(path, data)
}

// Parse decodes data over Default and validates the result; the error is Errors.
func Parse(data []byte) (Config, error) {
	c, _, err := parse("", data)
	return c, err
}

// parse reads the file named path (empty for bytes from elsewhere): Errors, or the
// configuration and its warnings.
func parse(path string, data []byte) (Config, []Warning, error) {
	c := Default()
	f, readable := tomlfile.Decode(path, data, &c, &options)
	if readable {
		c.validate(f)
	}
	ps := f.Problems()
	if len(ps) == 0 {
		return c, c.warnings(path, f.Lines), nil
	}
	var es Errors
	for _, p := range ps {
		es = append(es, (*Error)(&p))
	}
	return Config{}, nil, es
}

var (
	reLetter = regexp.MustCompile(`^[A-Z]$`)
	// The hall API's window pattern: a path segment of the counter routes.
	reWindow = regexp.MustCompile(`^[A-Za-z0-9-]{1,16}$`)
	// The display key travels in a URL (/display?key=...): URL-safe characters only.
	reKey      = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)
	reClientID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	reSection  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
)

func (c *Config) validate(p *tomlfile.File) {
	h := c.Hall
	if !wire.ValidName(h.ID) {
		p.Add("hall.id", "%q must match [a-z0-9][a-z0-9-]{0,31} (it is part of MQTT topics)", h.ID)
	}
	if strings.TrimSpace(h.Name) == "" {
		p.Add("hall.name", "must not be empty (it heads the display and the counter page)")
	}
	if err := checkPublicURL(h.PublicURL); err != nil {
		p.Add("hall.public_url", "%v", err)
	}
	if _, err := time.LoadLocation(h.TimeZone); err != nil || h.TimeZone == "" {
		p.Add("hall.time_zone", "%q is not a known time zone (for example Asia/Shanghai)", h.TimeZone)
	}
	if c.Store.Path == "" {
		p.Add("store.path", "must name the SQLite file")
	}
	c.validateHTTP(p)
	c.validateMQTT(p)
	if c.Voice.CacheDir == "" {
		p.Add("voice.cache_dir", "must name the directory of the synthesised clips")
	}
	c.validateRules(p)
	c.validateQueue(p)
	c.validateHours(p)
	c.validateNotify(p)
	c.validateFollowup(p)
	if r := c.History.Retention.Duration; r < 24*time.Hour || r > 10*366*24*time.Hour {
		p.Add("history.retention", "%s must be between 24h and 10 years (87840h); the default is 9600h (400 days)", tomlfile.ShortDuration(r))
	}
}

func (c *Config) validateNotify(p *tomlfile.File) {
	n := c.Notify
	if n.ConsoleURL != "" {
		if u, err := url.Parse(n.ConsoleURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.Add("notify.console_url", "%q must be http(s)://host[:port], the console as the crew's phones reach it", n.ConsoleURL)
		}
	}
	for key, d := range map[string]time.Duration{"delay_warning": n.DelayWarning.Duration, "delay_error": n.DelayError.Duration,
		"delay_lost": n.DelayLost.Duration} {
		if d < time.Second || d > 24*time.Hour {
			p.Add("notify."+key, "%s must be between 1s and 24h", tomlfile.ShortDuration(d))
		}
	}
	if t := n.Timeout.Duration; t < time.Second || t > 2*time.Minute {
		p.Add("notify.timeout", "%s must be between 1s and 2m", tomlfile.ShortDuration(t))
	}
	names := map[string]bool{}
	for i, ch := range n.Channels {
		key := fmt.Sprintf("notify.channel[%d].", i)
		switch ch.Kind {
		case "wecom", "dingtalk", "json":
		default:
			p.Add(key+"kind", "%q must be wecom (企业微信), dingtalk (钉钉) or json", ch.Kind)
		}
		if u, err := url.Parse(ch.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.Add(key+"url", "%q must be the robot's webhook address, http(s)://...", ch.URL)
		}
		switch ch.MinSeverity {
		case "", "warning", "error":
		default:
			p.Add(key+"min_severity", "%q must be \"\", \"warning\" or \"error\"", ch.MinSeverity)
		}
		name := ch.Name
		if name == "" {
			name = ch.Kind
		}
		if names[name] {
			p.Add(key+"name", "%q is the name of another channel (two channels of one kind need names)", name)
		}
		names[name] = true
	}
}

func (c *Config) validateFollowup(p *tomlfile.File) {
	f := c.Followup
	if f.DeadlineDays < 1 || f.DeadlineDays > 60 {
		p.Add("followup.deadline_days", "%d must be between 1 and 60 working days", f.DeadlineDays)
	}
	if r := f.Retention.Duration; r < 30*24*time.Hour || r > 10*366*24*time.Hour {
		p.Add("followup.retention", "%s must be between 30 days (720h) and 10 years (87840h)", tomlfile.ShortDuration(r))
	}
	if f.KeyFile == "" {
		p.Add("followup.key_file", "must name the file of the hall's sealing secret (made at the first start)")
	}
	check := func(key string, names []string) {
		for i, n := range names {
			if !access.ValidName(n) {
				p.Add(fmt.Sprintf("%s[%d]", key, i), "%q is not an account name (halld user list)", n)
			}
		}
	}
	if len(f.Managers) == 0 {
		p.Add("followup.managers", "must name at least one account: every work order needs someone to follow it up")
	}
	check("followup.managers", f.Managers)
	seen := map[string]bool{}
	for i, s := range f.Sections {
		key := fmt.Sprintf("followup.section[%d]", i)
		if !reSection.MatchString(s.Section) {
			p.Add(key+".section", "%q must be a section id of the catalog, like \"sb\"", s.Section)
		} else if seen[s.Section] {
			p.Add(key+".section", "%q has managers already", s.Section)
		}
		seen[s.Section] = true
		if len(s.Managers) == 0 {
			p.Add(key+".managers", "must name at least one account")
		}
		check(key+".managers", s.Managers)
	}
}

func (c *Config) validateHours(p *tomlfile.File) {
	h := c.Hours
	for key, v := range h.days() {
		if _, err := hours.Parse(time.UTC, map[string]string{key: v}, nil); err != nil {
			p.Add("hours."+key, "%q must be like \"09:00-17:00\" or \"08:30-12:00,13:30-17:30\" or \"closed\"", v)
		}
	}
	for i, d := range h.Closed {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			p.Add(fmt.Sprintf("hours.closed[%d]", i), "%q must be a date like \"2027-01-01\"", d)
		}
	}
	for i, d := range h.Days {
		date, spans, _ := strings.Cut(strings.TrimSpace(d), " ")
		_, err := time.Parse(time.DateOnly, date)
		if err == nil && strings.TrimSpace(spans) != "" {
			_, err = hours.Parse(time.UTC, nil, map[string]string{date: spans})
		} else if err == nil {
			err = errors.New("no hours")
		}
		if err != nil {
			p.Add(fmt.Sprintf("hours.days[%d]", i), "%q must be a date and its hours, like \"2027-02-07 09:00-17:00\"", d)
		}
	}
}

func (c *Config) validateHTTP(p *tomlfile.File) {
	w := c.HTTP
	if _, port, err := net.SplitHostPort(w.Listen); err != nil {
		p.Add("http.listen", "%q must be host:port, like \":8480\" or \"127.0.0.1:8480\"", w.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		p.Add("http.listen", "%q: the port must be a number from 1 to 65535", w.Listen)
	}
	switch {
	case w.DisplayKey == "":
		p.Add("http.display_key", "must be set: the calling displays open /display?key=THIS_KEY "+
			"(make one with: od -An -tx1 -N16 /dev/urandom | tr -d ' \\n')")
	case !reKey.MatchString(w.DisplayKey):
		p.Add("http.display_key", "must be 16 to 128 of A-Z a-z 0-9 _ - (it goes in the display's URL)")
	}
	if w.PublicRate < 1 || w.PublicRate > 6000 {
		p.Add("http.public_rate", "%d must be between 1 and 6000 requests a minute", w.PublicRate)
	}
	for i, s := range w.TrustedProxies {
		if _, err := netip.ParsePrefix(s); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(s); err != nil {
			p.Add(fmt.Sprintf("http.trusted_proxies[%d]", i), "%q is not an IP address or a prefix like 10.0.0.0/24", s)
		}
	}
}

func (c *Config) validateMQTT(p *tomlfile.File) {
	m := c.MQTT
	u, err := url.Parse(m.URL)
	switch {
	case err != nil || u.Host == "" || u.Port() == "":
		p.Add("mqtt.url", "%q must be scheme://host:port, like \"tcp://127.0.0.1:1883\" or \"ssl://broker.hall:8883\"", m.URL)
	case u.Scheme == "ssl" || u.Scheme == "tls" || u.Scheme == "mqtts":
		if m.Embedded {
			p.Add("mqtt.url", "%q: the embedded broker listens on tcp:// on this machine only (127.0.0.1 or [::1])", m.URL)
		} else if m.CAFile == "" {
			// link.Settings.CheckConfigured's rule, in the file's words.
			p.Add("mqtt.ca_file", "%s needs the hall's CA certificate file, to check the broker's certificate against (the system's roots would accept any certificate a public CA issued for that name)", m.URL)
		}
	case u.Scheme == "tcp":
		if !link.Loopback(u.Hostname()) {
			p.Add("mqtt.url", "%q: tcp:// sends the password in clear, so only to this machine (127.0.0.1, [::1], localhost); use ssl://, with mqtt.ca_file naming the hall's CA certificate, for a broker on another machine", m.URL)
		}
	default:
		p.Add("mqtt.url", "%q must start with tcp://, ssl://, tls:// or mqtts://", m.URL)
	}
	if m.CredentialsFile == "" && m.CertFile == "" {
		p.Add("mqtt.credentials_file", "must name the controller's account file (two lines: username, password)")
	}
	if (m.CertFile == "") != (m.KeyFile == "") {
		p.Add("mqtt.key_file", "cert_file and key_file go together")
	}
	if err == nil && u.Scheme == "tcp" {
		if m.CAFile != "" {
			p.Add("mqtt.ca_file", "is for ssl:// (tls://, mqtts://) URLs only")
		}
		if m.CertFile != "" {
			p.Add("mqtt.cert_file", "is for ssl:// (tls://, mqtts://) URLs only")
		}
	}
	if m.ClientID != "" && (!reClientID.MatchString(m.ClientID) || strings.HasPrefix(m.ClientID, "kiosk-")) {
		p.Add("mqtt.client_id", "%q must be 1-64 of A-Z a-z 0-9 _ - and not start with kiosk- (the kiosks' own); empty: controller-{hall.id}", m.ClientID)
	}
	if m.Embedded {
		if m.PasswordFile == "" {
			p.Add("mqtt.password_file", "the embedded broker needs the kiosks' accounts (a Mosquitto password file)")
		}
		if m.ACLFile == "" {
			p.Add("mqtt.acl_file", "the embedded broker needs the hall's ACL (made with citizenhome-acl)")
		}
	}
}

func (c *Config) validateRules(p *tomlfile.File) {
	r := c.Rules
	if math.IsNaN(r.PriorityShare) || r.PriorityShare < 0 || r.PriorityShare > 1 {
		p.Add("rules.priority_share", "%v must be between 0 and 1 (0.5: at most half the calls go to priority tickets while others wait)", r.PriorityShare)
	}
	durations := []struct {
		key      string
		d        time.Duration
		min, max time.Duration
	}{
		{"rules.longest_wait", r.LongestWait.Duration, time.Minute, 24 * time.Hour},
		{"rules.no_show_grace", r.NoShowGrace.Duration, time.Minute, 24 * time.Hour},
		{"rules.take_deadline", r.TakeDeadline.Duration, 100 * time.Millisecond, 10 * time.Second},
	}
	for _, d := range durations {
		if d.d < d.min || d.d > d.max {
			p.Add(d.key, "%s must be between %s and %s", d.d, tomlfile.ShortDuration(d.min), tomlfile.ShortDuration(d.max))
		}
	}
	if r.MaxRecalls < 0 || r.MaxRecalls > 20 {
		p.Add("rules.max_recalls", "%d must be between 0 and 20", r.MaxRecalls)
	}
	if r.RequeueAfter < 0 || r.RequeueAfter > 100 {
		p.Add("rules.requeue_after", "%d must be between 0 and 100", r.RequeueAfter)
	}
	// Leases come from the top of a day's 999 numbers of a category, per kiosk: a size that lets
	// a few kiosks eat the range would leave the counter too few normal numbers.
	if r.LeaseSize < 1 || r.LeaseSize > 100 {
		p.Add("rules.lease_size", "%d must be between 1 and 100", r.LeaseSize)
	}
}

func (c *Config) validateQueue(p *tomlfile.File) {
	if len(c.Categories) == 0 {
		p.Add("category", "at least one [[category]] is needed")
	}
	letters := map[string]bool{}
	// A window's letter that matches no category is noise while some category's letter is
	// itself wrong: it may be the one the window means.
	badLetter := len(c.Categories) == 0
	for i, cat := range c.Categories {
		k := fmt.Sprintf("category[%d]", i)
		switch {
		case p.Has(k + ".letter"):
			badLetter = true
		case !reLetter.MatchString(cat.Letter):
			p.Add(k+".letter", "%q must be one capital letter A-Z", cat.Letter)
			badLetter = true
		case letters[cat.Letter]:
			p.Add(k+".letter", "%q is configured twice", cat.Letter)
		}
		letters[cat.Letter] = true
		if strings.TrimSpace(cat.Name) == "" {
			p.Add(k+".name", "must not be empty (the display shows it)")
		}
		if d := cat.AvgService.Duration; d <= 0 || d > 4*time.Hour {
			p.Add(k+".avg_service", "%s must be above 0 and at most 4h", d)
		}
	}
	// Default windows serve the default letters: beside a file's own categories they would only
	// bury the one fix under a problem per default window.
	if _, own := p.Lines["category"]; own {
		if _, ownWindows := p.Lines["window"]; !ownWindows {
			p.Add("window", "the file lists its own [[category]] tables, so it must list its own [[window]] tables too (the default windows serve the default letters A-F)")
		}
	}
	if len(c.Windows) == 0 {
		p.Add("window", "at least one [[window]] is needed")
	}
	ids := map[string]bool{}
	for i, w := range c.Windows {
		k := fmt.Sprintf("window[%d]", i)
		switch {
		case !reWindow.MatchString(w.ID):
			p.Add(k+".id", "%q must be 1-16 of A-Z a-z 0-9 - (it is part of the counter's URL)", w.ID)
		case ids[w.ID]:
			p.Add(k+".id", "%q is configured twice", w.ID)
		}
		ids[w.ID] = true
		if len(w.Categories) == 0 {
			p.Add(k+".categories", "a window must serve at least one category")
		}
		seen := map[string]bool{}
		for j, l := range w.Categories {
			kj := fmt.Sprintf("%s.categories[%d]", k, j)
			switch {
			case badLetter:
			case !letters[l]:
				p.Add(kj, "%q is not a configured [[category]] letter (%s)", l, c.letterList())
			case seen[l]:
				p.Add(kj, "%q is listed twice", l)
			}
			seen[l] = true
		}
	}
}

func (c *Config) letterList() string {
	var ls []string
	for _, cat := range c.Categories {
		if reLetter.MatchString(cat.Letter) {
			ls = append(ls, cat.Letter)
		}
	}
	if len(ls) == 0 {
		return "none is"
	}
	return "configured: " + strings.Join(ls, ", ")
}

// checkPublicURL accepts "" or an http(s) address with a host and perhaps a path, which the
// ticket's QR code extends with /t/{lookup}.
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%q must be an address like \"https://hall.example.gov.cn\" (http:// or https://, a host, perhaps a path)", s)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#"):
		return fmt.Errorf("%q must have no user, query or fragment: /t/{lookup} is added to it", s)
	case strings.HasSuffix(s, "/"):
		return fmt.Errorf("%q must not end with /: /t/{lookup} is added to it", s)
	}
	return nil
}

// exampleDisplayKey is the display key the messages show as an example of the form.
const exampleDisplayKey = "3f9c2a7e51d04b8c9e6a1f2b7d3c8e05"

// placeholderHall is the hall id the example ships. Left in place it puts the hall on the same
// topics as every other hall that did so on a shared broker, and mismatches its kiosks' ids.
const placeholderHall = "hall"

// warnings lists settings valid but almost certainly not meant.
func (c Config) warnings(path string, lines tomlfile.Lines) []Warning {
	var ws []Warning
	if c.Hall.ID == placeholderHall {
		w := Warning{File: path, Key: "hall.id", Line: lines["hall.id"]}
		w.Msg = fmt.Sprintf("%q is the example's placeholder: set the hall's own id, the same as hall.id of its kiosks", c.Hall.ID)
		ws = append(ws, w)
	}
	if c.HTTP.DisplayKey == exampleDisplayKey {
		ws = append(ws, Warning{File: path, Key: "http.display_key", Line: lines["http.display_key"],
			Msg: "is the key the error messages show as an example: anyone who read them can open the display; make one of the hall's own"})
	}
	served := map[string]bool{}
	for _, w := range c.Windows {
		for _, l := range w.Categories {
			served[l] = true
		}
	}
	for i, cat := range c.Categories {
		if !served[cat.Letter] {
			k := fmt.Sprintf("category[%d].letter", i)
			ws = append(ws, Warning{File: path, Key: k, Line: lines.Line(k),
				Msg: fmt.Sprintf("no [[window]] serves %q: its tickets are issued but never called", cat.Letter)})
		}
	}
	return ws
}
