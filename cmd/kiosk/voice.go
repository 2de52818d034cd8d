package main

import (
	"errors"
	"log/slog"

	"citizenhome/devices/speaker"
	"citizenhome/kiosk"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/prompt"
)

// voice is the kiosk's voice as [voice] configures it, and what stops it.
type voice struct {
	v  *prompt.Voice // nil: the kiosk runs silent
	sp *speaker.Speaker
}

// startVoice opens the speaker and loads the prompts. Without them the kiosk runs silent, never
// stops: voice.enabled off, or prompts that do not load, leave it silent with a log line; an
// audio device missing or held is the speaker device offline (a health warning the staff screen,
// kioskctl and the hall show), and so is aplay missing. The level staff set last (state_file)
// holds over the configured one. Every sound played sets the speaker's state again, so a device
// plugged in later shows ok at the next prompt.
func startVoice(cfg config.Config, k *kiosk.Kiosk, log *slog.Logger) voice {
	c := cfg.Voice
	if !c.Enabled {
		return voice{}
	}
	level := prompt.Level{Volume: c.Volume, Muted: c.Mute}
	if l, ok, err := prompt.LoadLevel(c.StateFile); err != nil {
		log.Warn("voice: the level staff set is unreadable; the configured one holds", "file", c.StateFile, "err", err)
	} else if ok {
		level = l
	}
	p, err := prompt.Load(prompt.Options{Dirs: []string{c.ClipsDir, c.PromptsDir}, Readers: prompt.ReadersOf(cfg)})
	if err != nil {
		log.Error("voice off: the prompts do not load", "err", err)
		return voice{}
	}
	if m := p.Missing(); len(m) == len(prompt.Clips()) {
		log.Warn("voice off: no prompts installed", "dirs", []string{c.ClipsDir, c.PromptsDir})
		return voice{}
	} else if len(m) > 0 {
		log.Warn("voice: prompts missing; those are not said", "missing", m)
	}
	outcome := func(err error) {
		if err == nil {
			k.SetDevice(kiosk.DeviceSpeaker, kiosk.StateOK, "")
			return
		}
		k.SetDevice(kiosk.DeviceSpeaker, speakerState(err), err.Error())
	}
	sp, err := speaker.Open(speaker.Options{Device: c.Device, Volume: level.Volume, Muted: level.Muted, Outcome: outcome})
	if err != nil {
		outcome(err)
		return voice{}
	}
	outcome(sp.Check())
	v := prompt.NewVoice(p, speakerOut{sp}, c.StateFile, log)
	k.UseVoice(v)
	return voice{v: v, sp: sp}
}

// speakerOut is the speaker as the core's voice plays through it: sounds started, not waited on.
type speakerOut struct{ *speaker.Speaker }

func (s speakerOut) Play(samples []int16, rate int) { s.Speaker.Play(samples, rate) }
func (s speakerOut) Tap()                           { s.Speaker.Tap() }

// speakerState is the device state of a speaker's failure: offline when there is no device (or
// no player, or it is busy), error otherwise.
func speakerState(err error) kiosk.DeviceState {
	if errors.Is(err, speaker.ErrNoDevice) || errors.Is(err, speaker.ErrBusy) || errors.Is(err, speaker.ErrPlayerMissing) {
		return kiosk.StateOffline
	}
	return kiosk.StateError
}

// close cuts what is being said short.
func (v voice) close() {
	if v.sp != nil {
		v.sp.Close()
	}
}
