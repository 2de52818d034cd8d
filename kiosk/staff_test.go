package kiosk

import (
	"errors"
	"testing"
	"time"

	"citizenhome/kiosk/config"
)

func TestStaffPINLockout(t *testing.T) {
	hash, err := config.HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(c *config.Config) { c.Staff.PINHash = hash; c.Staff.Cards = []string{"04A1B2C3"} })
	login := r.k.StaffLogin()
	if _, err := login.PIN("246810"); err != nil {
		t.Fatalf("right PIN: %v", err)
	}
	for i := 1; i < StaffMaxTries; i++ {
		if _, err := login.PIN("000000"); !errors.Is(err, ErrStaffPIN) {
			t.Fatalf("wrong PIN %d: %v", i, err)
		}
		if left := login.TriesLeft(); left != StaffMaxTries-i {
			t.Fatalf("tries left %d after %d wrong", left, i)
		}
	}
	_, err = login.PIN("000000")
	var lo *StaffLockedOutError
	if !errors.As(err, &lo) || !errors.Is(err, ErrStaffLockedOut) {
		t.Fatalf("fifth wrong PIN: %v", err)
	}
	r.clock.Set(r.clock.Now().Add(4 * time.Minute))
	if _, err := login.PIN("246810"); !errors.Is(err, ErrStaffLockedOut) {
		t.Fatalf("right PIN during the lockout must be refused: %v", err)
	}
	r.clock.Set(r.clock.Now().Add(61 * time.Second))
	if h, err := login.PIN("246810"); err != nil || h.Via() != StaffByPIN {
		t.Fatalf("after the lockout: %v", err)
	}
	if h, err := login.Card("04a1b2c3"); err != nil || h.Via() != StaffByCard {
		t.Errorf("staff card check: %v", err)
	}
	if _, err := login.Card("DEADBEEF"); !errors.Is(err, ErrNotStaffCard) {
		t.Errorf("citizen card check: %v", err)
	}
}

func TestStaffNoPINConfigured(t *testing.T) {
	r := newRig(t, nil)
	if _, err := r.k.StaffLogin().PIN("246810"); !errors.Is(err, ErrStaffNoPIN) {
		t.Fatalf("%v", err)
	}
}
