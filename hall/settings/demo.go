package settings

import (
	_ "embed"
	"errors"
	"fmt"
	"path/filepath"
)

//go:embed demo.toml
var demoFile []byte

// DemoUser is an account halld demo creates (idempotently) at its start, for the demo's
// counter and crew pages. The passwords are public: the demo listens on loopback only.
type DemoUser struct {
	Name, Role, Password string
}

// DemoUsers are the demo's accounts: one counter account per window's staff, a crew and an admin.
var DemoUsers = []DemoUser{
	{Name: "counter", Role: "counter", Password: "demo-counter"},
	{Name: "crew", Role: "crew", Password: "demo-crew"},
	{Name: "admin", Role: "admin", Password: "demo-admin"},
}

// Demo is the demo hall's configuration (demo.toml) with its files under dataDir, the demo's
// data directory (the kiosk demo's, ~/.local/share/citizenhome by default):
//
//	dataDir/halld-demo.db                 the store
//	dataDir/mqtt-controller.credentials   the controller's account, written by kiosk -demo
//	dataDir/clips                         the synthesised clips (scripts/clips.sh DIR)
//	dataDir/halld-demo.key                the demo hall's sealing secret (made at the first start)
//
// It is marked Demo. dataDir must be absolute.
func Demo(dataDir string) (Config, error) {
	if !filepath.IsAbs(dataDir) {
		return Config{}, errors.New("settings: the demo's data directory must be an absolute path")
	}
	c, err := Parse(demoFile)
	if err != nil {
		return Config{}, fmt.Errorf("settings: the built-in demo configuration: %w", err)
	}
	c.Store.Path = filepath.Join(dataDir, "halld-demo.db")
	c.MQTT.CredentialsFile = filepath.Join(dataDir, "mqtt-controller.credentials")
	c.Voice.CacheDir = filepath.Join(dataDir, "clips")
	c.Followup.KeyFile = filepath.Join(dataDir, "halld-demo.key")
	c.MQTT.CommandKeyFile = filepath.Join(dataDir, "halld-demo-command.key")
	c.Demo = true
	return c, nil
}
