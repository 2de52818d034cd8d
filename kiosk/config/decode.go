package config

import (
	"reflect"

	"github.com/pelletier/go-toml/v2"

	"citizenhome/tomlfile"
)

// options word the messages of kiosk.toml; package tomlfile reads it (every problem at once,
// each with its key and line).
var options = tomlfile.Options{
	Defaults:  Default(),
	Examples:  examples,
	Reference: "/usr/share/doc/citizenhome-common/kiosk.example.toml",
	Entries:   map[string]string{"queue.category": "letter"},
	EntryMax:  8,
	Hint:      hint,
}

// examples are written the way the file wants them, for keys whose default shows nothing useful
// (an empty text or list).
var examples = map[string]string{
	"kiosk.catalog":              `"/etc/citizenhome/catalog.json"`,
	"kiosk.print_dir":            `"/var/lib/citizenhome/prints"`,
	"hours.closed":               `["2026-10-01", "2026-10-02"]`,
	"hours.workdays":             `["2026-10-11"]`,
	"queue.priority_categories":  `["G"]`,
	"queue.category":             "[[queue.category]] tables, each with letter, avg_service and counters",
	"devices.printer":            `"/dev/citizenhome-printer"`,
	"devices.id_reader":          `"/dev/citizenhome-idreader"`,
	"devices.card_reader":        `"ACS ACR1281U"`,
	"devices.uid_reader":         `"ACS ACR1281U"`,
	"devices.psam_reader":        `"ACS ACR1281U SAM"`,
	"mqtt.credentials_file":      `"/etc/citizenhome/mqtt.credentials"`,
	"mqtt.ca_file":               `"/etc/citizenhome/hall-ca.pem"`,
	"mqtt.cert_file":             `"/etc/citizenhome/kiosk.pem"`,
	"mqtt.key_file":              `"/etc/citizenhome/kiosk.key"`,
	"staff.pin_hash":             `"pbkdf2-sha256$..." (made by kioskctl hash-pin)`,
	"staff.cards":                `["04A1B2C3"]`,
	"queue.category.letter":      `"A"`,
	"queue.category.counters":    "3",
	"queue.category.avg_service": `"6m"`,
}

// hint words the kiosk's slips with dates and times: its file has both, in [hours].
func hint(_ reflect.Type, x any) string {
	switch v := x.(type) {
	case toml.LocalDate:
		return "put the date in quotes: \"" + v.String() + "\""
	case toml.LocalTime:
		return "times of day go in quotes, as spans like \"08:30-12:00\""
	}
	return ""
}
