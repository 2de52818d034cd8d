package kiosk

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"citizenhome/kiosk/catalog"
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
	if until := login.LockedUntil(); !until.Equal(lo.Until) {
		t.Errorf("LockedUntil %v, want %v", until, lo.Until)
	}
	r.clock.Set(r.clock.Now().Add(StaffLockoutFirst - time.Second))
	if _, err := login.PIN("246810"); !errors.Is(err, ErrStaffLockedOut) {
		t.Fatalf("right PIN during the lockout must be refused: %v", err)
	}
	if _, err := login.Card("04A1B2C3", "246810"); !errors.Is(err, ErrStaffLockedOut) {
		t.Fatalf("staff card and right PIN during the lockout must be refused: %v", err)
	}
	r.clock.Set(r.clock.Now().Add(time.Second))
	if !login.LockedUntil().IsZero() {
		t.Errorf("still locked at the lockout's end: %v", login.LockedUntil())
	}
	if h, err := login.PIN("246810"); err != nil || h.Via() != StaffByPIN {
		t.Fatalf("after the lockout: %v", err)
	}
	if h, err := login.Card("04a1b2c3", "246810"); err != nil || h.Via() != StaffByCard {
		t.Errorf("staff card and PIN: %v", err)
	}
	if _, err := login.Card("DEADBEEF", "246810"); !errors.Is(err, ErrNotStaffCard) {
		t.Errorf("citizen card check: %v", err)
	}
}

// TestStaffCardAloneDoesNotOpen: a staff card's UID, which anyone can copy to a blank card, opens
// nothing without the staff PIN; a wrong PIN after the card counts towards the lockout like any.
func TestStaffCardAloneDoesNotOpen(t *testing.T) {
	hash, err := config.HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(c *config.Config) { c.Staff.PINHash = hash; c.Staff.Cards = []string{"04A1B2C3"} })
	login := r.k.StaffLogin()
	if !login.IsStaffCard("04a1b2c3") || login.IsStaffCard("DEADBEEF") || login.IsStaffCard("") {
		t.Fatal("IsStaffCard")
	}
	for _, pin := range []string{"", "000000"} {
		if h, err := login.Card("04A1B2C3", pin); h != nil || !errors.Is(err, ErrStaffPIN) {
			t.Fatalf("staff card with PIN %q: %v %v", pin, h, err)
		}
	}
	if left := login.TriesLeft(); left != StaffMaxTries-2 {
		t.Errorf("tries left %d after two wrong PINs with the card", left)
	}
	// A card is no way around a missing PIN either.
	r2 := newRig(t, func(c *config.Config) { c.Staff.Cards = []string{"04A1B2C3"} })
	if h, err := r2.k.StaffLogin().Card("04A1B2C3", "246810"); h != nil || !errors.Is(err, ErrStaffNoPIN) {
		t.Fatalf("staff card without a configured PIN: %v %v", h, err)
	}
}

func TestStaffNoPINConfigured(t *testing.T) {
	r := newRig(t, nil)
	if _, err := r.k.StaffLogin().PIN("246810"); !errors.Is(err, ErrStaffNoPIN) {
		t.Fatalf("%v", err)
	}
}

// staffRestart builds a second core over r's store and configuration, as after a restart of the
// program: whatever it knows of the staff PIN it read from the store.
func staffRestart(t *testing.T, r *rigT) *Kiosk {
	t.Helper()
	h := &catalog.Holder{}
	h.Replace(catalog.Demo())
	k, err := New(context.Background(), Options{Config: r.cfg, Store: r.k.store, Catalog: h, Printer: r.p, Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// lockoutLeft types a wrong PIN and returns how long PIN entry is then locked (0: not locked).
func lockoutLeft(t *testing.T, r *rigT, k *Kiosk) time.Duration {
	t.Helper()
	_, err := k.StaffLogin().PIN("000000")
	var lo *StaffLockedOutError
	if errors.As(err, &lo) {
		return lo.Until.Sub(r.clock.Now())
	}
	if !errors.Is(err, ErrStaffPIN) {
		t.Fatalf("wrong PIN: %v", err)
	}
	return 0
}

// TestStaffLockoutSurvivesRestart: a lockout is kept in the store, so restarting the program (or
// pulling its plug) does not give a guesser fresh tries.
func TestStaffLockoutSurvivesRestart(t *testing.T) {
	hash, err := config.HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(c *config.Config) { c.Staff.PINHash = hash })
	for range StaffMaxTries {
		lockoutLeft(t, r, r.k)
	}
	k2 := staffRestart(t, r)
	if _, err := k2.StaffLogin().PIN("246810"); !errors.Is(err, ErrStaffLockedOut) {
		t.Fatalf("right PIN after a restart during the lockout: %v, want it refused", err)
	}
	// The tries used before the restart count too: a restart in the middle of guessing gives
	// no fresh ones.
	r.clock.Set(r.clock.Now().Add(time.Hour))
	k3 := staffRestart(t, r)
	if left := k3.StaffLogin().TriesLeft(); left != 0 {
		t.Errorf("tries left after a lockout and a restart: %d, want 0", left)
	}
	if d := lockoutLeft(t, r, k3); d <= 0 {
		t.Errorf("a wrong PIN after the lockout and a restart did not lock again")
	}
}

// TestStaffLockoutGrows: the first lockout comes after StaffMaxTries wrong PINs; each further
// wrong PIN doubles it, up to StaffLockoutMax; a right PIN starts afresh.
func TestStaffLockoutGrows(t *testing.T) {
	hash, err := config.HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(c *config.Config) { c.Staff.PINHash = hash })
	for i := 1; i < StaffMaxTries; i++ {
		if d := lockoutLeft(t, r, r.k); d != 0 {
			t.Fatalf("locked after %d wrong PINs", i)
		}
	}
	want := 30 * time.Second
	var seen []time.Duration
	for range 12 {
		d := lockoutLeft(t, r, r.k)
		seen = append(seen, d)
		if d != want {
			t.Fatalf("lockouts %v, want the last %v", seen, want)
		}
		r.clock.Set(r.clock.Now().Add(d))
		want = min(2*want, time.Hour)
	}
	if _, err := r.k.StaffLogin().PIN("246810"); err != nil {
		t.Fatalf("right PIN after the lockout: %v", err)
	}
	if left := r.k.StaffLogin().TriesLeft(); left != StaffMaxTries {
		t.Errorf("tries left after a right PIN: %d", left)
	}
}

// TestStaffLockoutAlert: a lockout raises the warning staff-pin-lockout (someone may be guessing
// the PIN), kept across a restart, until staff come in with the right PIN.
func TestStaffLockoutAlert(t *testing.T) {
	hash, err := config.HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(c *config.Config) { c.Staff.PINHash = hash })
	alert := func(k *Kiosk) (Alert, bool) {
		for _, a := range k.Alerts() {
			if a.Code == "staff-pin-lockout" {
				return a, true
			}
		}
		return Alert{}, false
	}
	var alerted int
	var mu sync.Mutex
	r.k.Subscribe(func(e Event) {
		if e.Kind == EventAlert {
			mu.Lock()
			alerted++
			mu.Unlock()
		}
	})
	for range StaffMaxTries - 1 {
		lockoutLeft(t, r, r.k)
	}
	if _, ok := alert(r.k); ok {
		t.Fatal("alert before the lockout")
	}
	start := r.clock.Now()
	lockoutLeft(t, r, r.k)
	a, ok := alert(r.k)
	if !ok || !a.Warning || a.Device != DeviceKiosk || !a.Since.Equal(start) || a.Detail == "" {
		t.Fatalf("alert %+v %v after the lockout", a, ok)
	}
	mu.Lock()
	if alerted == 0 {
		t.Error("no EventAlert: the telemetry agent would not publish the alert")
	}
	mu.Unlock()
	r.clock.Set(r.clock.Now().Add(time.Minute))
	k2 := staffRestart(t, r)
	if a2, ok := alert(k2); !ok || !a2.Since.Equal(start) {
		t.Fatalf("alert after a restart: %+v %v", a2, ok)
	}
	if _, err := k2.StaffLogin().PIN("246810"); err != nil {
		t.Fatal(err)
	}
	if _, ok := alert(k2); ok {
		t.Error("alert still raised after staff came in with the right PIN")
	}
}

// TestStaffCardRequired: with staff.card_required the PIN alone opens nothing (and uses no try:
// no PIN is checked); the card and the PIN do.
func TestStaffCardRequired(t *testing.T) {
	hash, err := config.HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(c *config.Config) {
		c.Staff.PINHash, c.Staff.Cards, c.Staff.CardRequired = hash, []string{"04A1B2C3"}, true
	})
	login := r.k.StaffLogin()
	if h, err := login.PIN("246810"); h != nil || !errors.Is(err, ErrStaffCardRequired) {
		t.Fatalf("the PIN alone where a card is required: %v %v", h, err)
	}
	if left := login.TriesLeft(); left != StaffMaxTries {
		t.Errorf("tries left %d: a refusal that checked no PIN used a try", left)
	}
	if h, err := login.Card("04A1B2C3", "246810"); err != nil || h.Via() != StaffByCard {
		t.Fatalf("card and PIN: %v", err)
	}
}

// TestStaffLockoutClockSetBack: a lockout earned while the clock ran a day ahead ends at most
// StaffLockoutMax after the clock is put right, not a day later.
func TestStaffLockoutClockSetBack(t *testing.T) {
	hash, err := config.HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(c *config.Config) { c.Staff.PINHash = hash })
	right := r.clock.Now()
	r.clock.Set(right.Add(24 * time.Hour))
	for range StaffMaxTries {
		lockoutLeft(t, r, r.k)
	}
	r.clock.Set(right)
	k2 := staffRestart(t, r)
	if until := k2.StaffLogin().LockedUntil(); until.After(right.Add(StaffLockoutMax)) {
		t.Fatalf("locked until %v with the clock put right at %v", until, right)
	}
	r.clock.Set(right.Add(StaffLockoutMax))
	if _, err := k2.StaffLogin().PIN("246810"); err != nil {
		t.Fatalf("right PIN an hour after the clock was put right: %v", err)
	}
}
