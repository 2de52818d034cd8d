package config

import (
	"fmt"

	"citizenhome/tomlfile"
)

// Warning is a setting that is valid but almost certainly not meant. It does not stop the
// program; kioskctl check-config and kioskctl doctor show it.
type Warning struct {
	File string // empty when parsing bytes
	Key  string
	Line int // 0 when the key is not written in the file (its default is in force)
	Msg  string
}

// String gives "file:line: key: message", the layout of an Error.
func (w Warning) String() string {
	return (&tomlfile.Problem{File: w.File, Key: w.Key, Line: w.Line, Msg: w.Msg}).Error()
}

// Placeholder ids: the values packaging/kiosk.example.toml ships. Left in place they put every
// such kiosk on the same MQTT topics, where each one's status overwrites the others' and a
// command meant for one reaches them all.
const (
	placeholderHall  = "hall"
	placeholderKiosk = "kiosk-01"
)

// warnings lists the placeholder ids still in force, written in the file (with their line) or
// left to their default (line 0), and staff cards configured without the staff PIN they need.
func (c Config) warnings(path string, lines tomlfile.Lines) []Warning {
	var ws []Warning
	add := func(key, value, why string) {
		w := Warning{File: path, Key: key, Line: lines[key]}
		if w.Line == 0 {
			w.Msg = fmt.Sprintf("not set, so the default %q, the example's placeholder: %s", value, why)
		} else {
			w.Msg = fmt.Sprintf("%q is the example's placeholder: %s", value, why)
		}
		ws = append(ws, w)
	}
	if c.Hall.ID == placeholderHall {
		add("hall.id", c.Hall.ID, "give the hall its own id, the same on all its kiosks (it is in every MQTT topic)")
	}
	if len(c.Staff.Cards) > 0 && c.Staff.PINHash == "" {
		ws = append(ws, Warning{File: path, Key: "staff.cards", Line: lines["staff.cards"],
			Msg: "a staff card opens staff mode only with the staff PIN, and staff.pin_hash is empty: set it (make one with: kioskctl hash-pin) or staff cannot come in on site"})
	}
	if c.Kiosk.ID == placeholderKiosk {
		add("kiosk.id", c.Kiosk.ID, "give this kiosk an id of its own in the hall (two kiosks with one id overwrite each other's status and obey each other's commands)")
	}
	return ws
}
