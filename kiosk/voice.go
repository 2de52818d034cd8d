package kiosk

import (
	"context"
	"errors"
	"strconv"

	"citizenhome/kiosk/prompt"
)

// VoiceControl is the kiosk's voice as staff set it (*prompt.Voice): its volume and mute.
type VoiceControl interface {
	Level() prompt.Level
	// SetLevel applies l at once and keeps it across restarts; an error says why it could not be
	// kept (it applies all the same).
	SetLevel(l prompt.Level) error
}

var _ VoiceControl = (*prompt.Voice)(nil)

// ErrNoVoice is StaffHandle.SetVoice's answer on a kiosk that runs silent (voice.enabled off, or
// no audio device).
var ErrNoVoice = errors.New("the kiosk runs without a voice")

// UseVoice hands the core the voice whose level staff set (cmd/kiosk wires it when the kiosk has
// one). Call it before the screens start.
func (k *Kiosk) UseVoice(v VoiceControl) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.voice = v
}

func (k *Kiosk) voiceControl() VoiceControl {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.voice
}

// SetVoice sets the voice's volume (0..100, clamped) and mute, at once and across restarts. On
// site it is audited as AuditStaffSetConfig with voice.volume and voice.mute. A kiosk without a
// voice answers ErrNoVoice (audited as refused); a level that applies but cannot be kept returns
// the reason, audited as failed.
func (h *StaffHandle) SetVoice(ctx context.Context, l prompt.Level) error {
	l.Volume = max(0, min(100, l.Volume))
	args := map[string]string{"voice.volume": strconv.Itoa(l.Volume), "voice.mute": strconv.FormatBool(l.Muted)}
	v := h.k.voiceControl()
	var err error
	if v == nil {
		err = ErrNoVoice
	} else {
		err = v.SetLevel(l)
	}
	h.audit(ctx, AuditStaffSetConfig, args, err)
	return err
}
