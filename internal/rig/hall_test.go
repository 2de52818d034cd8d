package rig

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"citizenhome/kiosk"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/queue"
	"citizenhome/telemetry/wire"
)

type recorded struct {
	mu    sync.Mutex
	types []string
}

func (r *recorded) RecordEvent(_ *sql.Tx, typ string, _ any) error {
	r.mu.Lock()
	r.types = append(r.types, typ)
	r.mu.Unlock()
	return nil
}

func (r *recorded) has(typ string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.types {
		if t == typ {
			return true
		}
	}
	return false
}

// The demo's hall services: its sample cards find their bookings and applications, the
// check-in event goes to the outbox installed after start-up, and starting again keeps one
// booking per sample (the seed updates rather than duplicates).
func TestDemoHallServices(t *testing.T) {
	k, devs, prints := demoKiosk(t)
	cfg := config.Default()
	cfg.Kiosk.Store = filepath.Join(filepath.Dir(prints), "demo.db")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	var h *kiosk.HallServices
	for range 2 {
		var err error
		if h, err = startHall(ctx, cfg, k, true, log); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recorded{}
	k.SetEventRecorder(rec)

	if err := devs.Sim.TapIDCard("adult"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the adult's card", func() bool { return k.Person() != nil })
	ci, err := h.CheckIn(ctx)
	if err != nil {
		t.Fatalf("check-in: %v", err)
	}
	if tk := ci.Issued.Ticket; !tk.Priority || tk.PriorityReason != queue.ReasonAppointment || ci.Appointment.Matter != "zh-001" {
		t.Errorf("check-in ticket %+v for %+v", tk, ci.Appointment)
	}
	if !rec.has(wire.EventCheckedIn) {
		t.Errorf("events %v lack %s", rec.types, wire.EventCheckedIn)
	}
	if _, err := h.CheckIn(ctx); !errors.Is(err, civic.ErrAlreadyCheckedIn) {
		t.Errorf("second check-in: %v, want ErrAlreadyCheckedIn", err)
	}
	p, err := h.Progress(ctx, "")
	if err != nil || len(p.Applications) != 2 {
		t.Fatalf("progress: %+v %v", p, err)
	}
	devs.Sim.RemoveCards()
	waitFor(t, "the adult's card to leave", func() bool { return len(k.Cards()) == 0 })
	k.Staff(kiosk.Remote("test-ops")).Reset(ctx)

	if err := devs.Sim.TapIDCard("elder"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the elder's card", func() bool { return k.Person() != nil })
	var ce *civic.CheckInError
	if _, err := h.CheckIn(ctx); !errors.As(err, &ce) || !errors.Is(err, civic.ErrTooEarly) {
		t.Errorf("elder's check-in 3 h early: %v", err)
	}
	if p, err := h.Progress(ctx, ""); err != nil || len(p.Applications) != 0 {
		t.Errorf("the elder sees %+v %v: another person's applications?", p, err)
	}
}

// A hall key file that is not a key leaves the services off with a clear error, and the kiosk
// says so instead of answering lookups.
func TestHallKeyUnusable(t *testing.T) {
	k, _, _ := demoKiosk(t)
	cfg := config.Default()
	cfg.Privacy.KeyFile = filepath.Join(t.TempDir(), "hall.key")
	if err := os.WriteFile(cfg.Privacy.KeyFile, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Kiosk.Store = filepath.Join(t.TempDir(), "x.db")
	h, err := startHall(context.Background(), cfg, k, false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if h != nil || err == nil || !strings.Contains(err.Error(), "hall services off") {
		t.Fatalf("startHall with a broken key: %v %v", h, err)
	}
	// What the screens are handed in the services' place (cmd/kiosk) answers no lookup.
	if _, perr := (kiosk.NoHall{Reason: err}).Progress(context.Background(), "X123"); !errors.Is(perr, kiosk.ErrNoHall) || !strings.Contains(perr.Error(), "hall services off") {
		t.Errorf("progress without the hall: %v", perr)
	}
}

// The first start creates the hall key and says so, once: a second start reads it quietly.
func TestHallKeyCreatedLogged(t *testing.T) {
	k, _, _ := demoKiosk(t)
	cfg := config.Default()
	cfg.Privacy.KeyFile = filepath.Join(t.TempDir(), "keys", "hall.key")
	cfg.Kiosk.Store = filepath.Join(t.TempDir(), "x.db")
	var b strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return b.Write(p)
	}), nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 2 {
		if _, err := startHall(ctx, cfg, k, false, log); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	out := b.String()
	mu.Unlock()
	if n := strings.Count(out, `msg="hall key created"`); n != 1 || !strings.Contains(out, "level=WARN") || !strings.Contains(out, cfg.Privacy.KeyFile) {
		t.Errorf("%d \"hall key created\" lines, want 1 warning naming the file:\n%s", n, out)
	}
	key, _ := os.ReadFile(cfg.Privacy.KeyFile)
	if len(key) < 64 || strings.Contains(out, strings.TrimSpace(string(key))) {
		t.Errorf("the key itself is in the log, or no key: %q", out)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Under systemd with the hall key as a credential, the services start on it, the log says where
// it came from, and no key file is made beside the store.
func TestHallKeyFromCredential(t *testing.T) {
	k, _, _ := demoKiosk(t)
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, civic.CredentialName), []byte(strings.Repeat("5a", civic.KeySize)+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	cfg := config.Default()
	data := t.TempDir()
	cfg.Privacy.KeyFile = filepath.Join(data, "hall.key")
	cfg.Kiosk.Store = filepath.Join(data, "x.db")
	var b strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return b.Write(p)
	}), nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := startHall(ctx, cfg, k, false, log); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg.Privacy.KeyFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file beside the store: %v", err)
	}
	mu.Lock()
	out := b.String()
	mu.Unlock()
	if !strings.Contains(out, `from="systemd credential hall.key"`) || strings.Contains(out, "hall key created") || strings.Contains(out, "5a5a5a") {
		t.Errorf("log:\n%s", out)
	}

	// The credentials without hall.key: the services stay off, saying what the unit lacks.
	t.Setenv("CREDENTIALS_DIRECTORY", t.TempDir())
	if h, err := startHall(ctx, cfg, k, false, log); h != nil || !errors.Is(err, civic.ErrKey) || !strings.Contains(err.Error(), "LoadCredentialEncrypted") {
		t.Errorf("no credential: %v %v", h, err)
	}
}
