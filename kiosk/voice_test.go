package kiosk

import (
	"context"
	"errors"
	"testing"

	"citizenhome/kiosk/config"
	"citizenhome/kiosk/prompt"
)

// levels is a VoiceControl that records what it was set to (the speaker behind the real one is
// tested in kiosk/prompt).
type levels struct {
	l    prompt.Level
	fail error
}

func (v *levels) Level() prompt.Level { return v.l }
func (v *levels) SetLevel(l prompt.Level) error {
	v.l = l
	return v.fail
}

func TestStaffSetsTheVoice(t *testing.T) {
	hash, err := config.HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(c *config.Config) { c.Staff.PINHash = hash })
	ctx := context.Background()
	h, err := r.k.StaffLogin().PIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SetVoice(ctx, prompt.Level{Volume: 40}); !errors.Is(err, ErrNoVoice) {
		t.Fatalf("without a voice: %v", err)
	}
	v := &levels{}
	r.k.UseVoice(v)
	if err := h.SetVoice(ctx, prompt.Level{Volume: 140, Muted: true}); err != nil {
		t.Fatal(err)
	}
	if v.l != (prompt.Level{Volume: 100, Muted: true}) {
		t.Fatalf("set %+v", v.l)
	}
	v.fail = errors.New("read-only disk")
	if err := h.SetVoice(ctx, prompt.Level{Volume: 55}); err == nil || v.l.Volume != 55 {
		t.Fatalf("a level not kept: %v, %+v", err, v.l)
	}
	log, err := h.AuditLog(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		if e.Name == AuditStaffSetConfig {
			got = append(got, e.Args+" "+e.Error)
		}
	}
	want := map[string]bool{
		`{"voice.mute":"false","voice.volume":"40"} ` + ErrNoVoice.Error(): true,
		`{"voice.mute":"true","voice.volume":"100"} `:                      true,
		`{"voice.mute":"false","voice.volume":"55"} read-only disk`:        true,
	}
	if len(got) != 3 {
		t.Fatalf("audit rows %q", got)
	}
	for _, g := range got {
		if !want[g] {
			t.Errorf("audit row %q", g)
		}
	}
}
