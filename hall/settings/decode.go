package settings

import "citizenhome/tomlfile"

// options word the messages of halld.toml; package tomlfile reads it (every problem at once,
// each with its key and line), as it reads the kiosk's.
var options = tomlfile.Options{
	Defaults:     Default(),
	Examples:     examples,
	Reference:    "/usr/share/doc/citizenhome-halld/halld.example.toml",
	DurationLike: `"45m", "30s" or "800ms"`,
	Entries:      map[string]string{"category": "letter", "window": "id"},
	ListHeaders:  true,
}

// examples are written the way the file wants them, for keys whose default shows nothing useful
// (an empty text or list) or is a list of tables.
var examples = map[string]string{
	"hall.public_url":       `"https://hall.example.gov.cn"`,
	"http.display_key":      `"` + exampleDisplayKey + `"`,
	"http.trusted_proxies":  `["10.0.0.1"]`,
	"mqtt.ca_file":          `"/etc/citizenhome/hall-ca.pem"`,
	"mqtt.cert_file":        `"/etc/citizenhome/halld.pem"`,
	"mqtt.key_file":         `"/etc/citizenhome/halld.key"`,
	"mqtt.client_id":        `"controller-kf-smzj"`,
	"category":              "[[category]] tables, each with letter, name, name_en and avg_service",
	"window":                "[[window]] tables, each with id and categories",
	"category.letter":       `"A"`,
	"category.name":         `"综合窗口"`,
	"category.name_en":      `"General window"`,
	"category.avg_service":  `"6m"`,
	"window.id":             `"3"`,
	"window.categories":     `["A", "B"]`,
	"rules.priority_share":  "0.5",
	"hall.name_en":          `"Citizen Service Hall"`,
	"voice.clips_dir":       `"/etc/citizenhome/clips"`,
	"mqtt.credentials_file": `"/etc/citizenhome/halld-mqtt.credentials"`,
	"hours.monday":          `"08:30-12:00,13:30-17:30"`,
	"hours.closed":          `["2027-01-01"]`,
	"hours.days":            `["2027-02-07 09:00-17:00"]`,
}
