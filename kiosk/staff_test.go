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
	if err := r.k.StaffPIN("246810"); err != nil {
		t.Fatalf("right PIN: %v", err)
	}
	for i := 1; i < StaffMaxTries; i++ {
		if err := r.k.StaffPIN("000000"); !errors.Is(err, ErrStaffPIN) {
			t.Fatalf("wrong PIN %d: %v", i, err)
		}
		if left := r.k.StaffTriesLeft(); left != StaffMaxTries-i {
			t.Fatalf("tries left %d after %d wrong", left, i)
		}
	}
	err = r.k.StaffPIN("000000")
	var lo *StaffLockedOutError
	if !errors.As(err, &lo) || !errors.Is(err, ErrStaffLockedOut) {
		t.Fatalf("fifth wrong PIN: %v", err)
	}
	r.clock.set(r.clock.now().Add(4 * time.Minute))
	if err := r.k.StaffPIN("246810"); !errors.Is(err, ErrStaffLockedOut) {
		t.Fatalf("right PIN during the lockout must be refused: %v", err)
	}
	r.clock.set(r.clock.now().Add(61 * time.Second))
	if err := r.k.StaffPIN("246810"); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	if !r.k.StaffCard("04a1b2c3") || r.k.StaffCard("DEADBEEF") {
		t.Error("staff card check")
	}
}

func TestStaffNoPINConfigured(t *testing.T) {
	r := newRig(t, nil)
	if err := r.k.StaffPIN("246810"); !errors.Is(err, ErrStaffNoPIN) {
		t.Fatalf("%v", err)
	}
}
