package main

import (
	"context"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/speaker/speakertest"
	"citizenhome/kiosk"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/kiosktest"
	"citizenhome/kiosk/prompt"
	"citizenhome/kiosk/store"
	"citizenhome/speech"
)

// voiceKiosk is a core over a temporary store, with [voice] as edit leaves it and a prompts folder
// holding one prompt (a tone stands in for the voice: what is wired is the point here).
func voiceKiosk(t *testing.T, edit func(*config.Voice)) (*kiosk.Kiosk, config.Config) {
	t.Helper()
	cfg := config.Default()
	dir := t.TempDir()
	cfg.Kiosk.Store = filepath.Join(dir, "k.db")
	cfg.Voice.ClipsDir, cfg.Voice.PromptsDir, cfg.Voice.StateFile = "", filepath.Join(dir, "prompts"), filepath.Join(dir, "voice.json")
	tone := make([]int16, speech.Rate/2)
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/speech.Rate))
	}
	if err := os.MkdirAll(filepath.Join(cfg.Voice.PromptsDir, "zh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.Voice.PromptsDir, "zh", "card-read.wav"), speech.Encode(tone, speech.Rate), 0o644); err != nil {
		t.Fatal(err)
	}
	edit(&cfg.Voice)
	st, err := store.Open(cfg.Kiosk.Store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &catalog.Holder{}
	h.Replace(catalog.Demo())
	k, err := kiosk.New(context.Background(), kiosk.Options{Config: cfg, Store: st, Catalog: h,
		Printer: kiosktest.NewPrinter(kiosktest.Ready), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	return k, cfg
}

var quiet = slog.New(slog.DiscardHandler)

// No audio device: the kiosk carries on, the speaker offline (a warning, not degraded), the
// voice there for when the device comes; a prompt played once it is there turns the state ok.
func TestVoiceWithoutDevice(t *testing.T) {
	speakertest.NeedPlayer(t)
	k, cfg := voiceKiosk(t, func(v *config.Voice) { v.Device = "no-such-pcm" })
	vo := startVoice(cfg, k, quiet)
	defer vo.close()
	d := k.Devices()[kiosk.DeviceSpeaker]
	if d.State != kiosk.StateOffline || !strings.Contains(d.Detail, "no-device") {
		t.Fatalf("speaker %+v, want offline naming no-device", d)
	}
	if kiosk.Degraded(k.Devices()) {
		t.Error("a kiosk without sound is degraded")
	}
	if vo.v == nil {
		t.Fatal("no voice: the device could never come back")
	}

	c := speakertest.New(t)
	k2, cfg2 := voiceKiosk(t, func(v *config.Voice) { v.Device = c.Device() })
	vo2 := startVoice(cfg2, k2, quiet)
	defer vo2.close()
	if d := k2.Devices()[kiosk.DeviceSpeaker]; d.State != kiosk.StateOK {
		t.Fatalf("speaker on a working device: %+v", d)
	}
	vo2.v.Say("zh", prompt.Line{Prompt: prompt.CardRead})
	if n := len(c.Wait(t, 2, 5*time.Second)[1].Samples()); n < speech.Rate/4 {
		t.Errorf("the prompt reached ALSA as %d samples", n)
	}
}

// The level staff set last holds over the configured one; voice.enabled off is silent.
func TestVoiceLevelAndOff(t *testing.T) {
	speakertest.NeedPlayer(t)
	c := speakertest.New(t)
	k, cfg := voiceKiosk(t, func(v *config.Voice) { v.Device, v.Volume = c.Device(), 70 })
	if err := prompt.SaveLevel(cfg.Voice.StateFile, prompt.Level{Volume: 20, Muted: true}); err != nil {
		t.Fatal(err)
	}
	vo := startVoice(cfg, k, quiet)
	defer vo.close()
	if l := vo.v.Level(); l != (prompt.Level{Volume: 20, Muted: true}) {
		t.Errorf("level %+v, want staff's 20 muted", l)
	}
	if err := k.Staff(kiosk.LocalAPI).SetVoice(context.Background(), prompt.Level{Volume: 90}); err != nil || vo.v.Level().Volume != 90 {
		t.Errorf("the core does not reach the voice: %v, %+v", err, vo.v.Level())
	}

	k2, cfg2 := voiceKiosk(t, func(v *config.Voice) { v.Enabled = false })
	if vo := startVoice(cfg2, k2, quiet); vo.v != nil {
		t.Error("a voice with voice.enabled off")
	}
	if _, ok := k2.Devices()[kiosk.DeviceSpeaker]; ok {
		t.Error("a speaker device on a kiosk without voice")
	}
}
