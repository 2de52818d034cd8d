package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
)

// The kiosk's theme fonts as configured: the default Noto Sans CJK SC pair gives a bold font
// of its own, cut and cached, then read from the cache; an old file naming only Droid Sans
// Fallback gives one font for both styles; a missing font file stops the start with the key
// to fix.
func TestThemeFonts(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfgIn := func(dir, file string) config.Config {
		cfg, err := config.Parse([]byte(file))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Kiosk.Store = filepath.Join(dir, "kiosk.db")
		return cfg
	}
	cfg := cfgIn(t.TempDir(), "")
	for _, f := range []string{cfg.Devices.Font, cfg.Devices.BoldFont, config.Default().Devices.Font} {
		if _, err := os.Stat(f); err != nil && os.Getenv("CI") != "true" {
			t.Skipf("%v (scripts/deps.sh installs fonts-noto-cjk)", err)
		}
	}
	fonts, err := themeFonts(cfg, catalog.Demo(), log)
	if err != nil {
		t.Fatal(err)
	}
	if fonts.Regular == nil || fonts.Bold == nil || bytes.Equal(fonts.Regular.Content(), fonts.Bold.Content()) {
		t.Fatal("the default configuration gives no bold font of its own")
	}
	if !strings.Contains(logs.String(), "theme fonts cut and cached") {
		t.Errorf("first start: log %q, want the fonts cut", logs.String())
	}
	logs.Reset()
	again, err := themeFonts(cfg, catalog.Demo(), log)
	if err != nil || !bytes.Equal(again.Bold.Content(), fonts.Bold.Content()) || logs.Len() != 0 {
		t.Errorf("second start: %v, log %q: want the cached fonts, quietly", err, logs.String())
	}

	old := cfgIn(t.TempDir(), "[devices]\nfont = \"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf\"\n")
	fonts, err = themeFonts(old, catalog.Demo(), log)
	if err != nil {
		t.Fatalf("%v (scripts/deps.sh installs fonts-droid-fallback)", err)
	}
	if fonts.Regular == nil || fonts.Bold != nil {
		t.Error("an old configuration with one font: want that font for both styles (no bold font)")
	}

	missing := cfgIn(t.TempDir(), "[devices]\nbold_font = \"/nonexistent/bold.ttc\"\n")
	if _, err := themeFonts(missing, catalog.Demo(), log); err == nil || !strings.Contains(err.Error(), "devices.bold_font") {
		t.Errorf("missing bold font: error %v, want one naming devices.bold_font", err)
	}
}
