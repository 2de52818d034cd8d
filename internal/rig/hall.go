package rig

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/idcard/samsim"
	"citizenhome/kiosk"
	"citizenhome/kiosk/civic"
	"citizenhome/kiosk/config"
)

// startHall sets up the hall services (appointments, progress, 好差评, complaints) over the local
// store fed by `kioskctl push`, their events going to whatever outbox telemetry installs later,
// and starts the daily purge of personal data. The demo keeps its hall key beside its store and
// seeds bookings and applications for its sample cards.
//
// A key that cannot be read or created leaves the kiosk without these services (the screens say
// so) rather than without tickets: nil, and the error for the log (and kiosk.NoHall).
func startHall(ctx context.Context, cfg config.Config, k *kiosk.Kiosk, demo bool, log *slog.Logger) (*kiosk.HallServices, error) {
	key, keyFile, created, err := hallKey(cfg, demo)
	if err != nil {
		return nil, fmt.Errorf("hall services off: %w", err)
	}
	if created {
		// A warning: right at a first start, but a kiosk whose key was lost and made anew no
		// longer matches what was stored, or the other kiosks of a hall sharing one key.
		log.Warn("hall key created", "path", keyFile, "note", "first start: fine; otherwise the previous key is lost (docs/hall-data.md); "+
			"kioskctl hall-key seal takes it off the disk (docs/operator-guide.md)")
	} else {
		log.Info("hall key loaded", "from", keyFile)
	}
	h, err := k.UseHall(key, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("hall services off: %w", err)
	}
	svc := h.Service()
	if demo {
		if err := seedDemoHall(ctx, svc, k.Now()); err != nil {
			log.Warn("demo hall data not loaded", "err", err)
		}
	}
	go svc.PurgeEvery(ctx, 24*time.Hour, log)
	return h, nil
}

// hallKey opens the hall key: the systemd credential when the unit passes credentials, else
// privacy.key_file (civic.OpenKey); the demo's own key beside its store. from says which, for the
// log: the credential's name, or the file.
func hallKey(cfg config.Config, demo bool) (key *civic.Key, from string, created bool, err error) {
	if demo {
		from = filepath.Join(filepath.Dir(cfg.Kiosk.Store), "hall.key")
		key, created, err = civic.OpenKeyFile(from)
		return key, from, created, err
	}
	from = cfg.Privacy.KeyFile
	if os.Getenv("CREDENTIALS_DIRECTORY") != "" {
		from = "systemd credential " + civic.CredentialName
	}
	key, created, err = civic.OpenKey(cfg.Privacy.KeyFile)
	return key, from, created, err
}

// seedDemoHall books the demo's adult sample for a check-in now and its elder sample for later
// today, books the sample city card too, and gives the adult two applications, so that every
// answer of the check-in and progress screens can be shown. Ids are fixed per day, so starting
// the demo again updates rather than duplicates.
func seedDemoHall(ctx context.Context, svc *civic.Service, now time.Time) error {
	person := func(key string) string {
		p, err := samsim.Sample(key)
		if err != nil {
			return ""
		}
		return p.Number
	}
	day := now.Format("20060102")
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	type rec = map[string]string
	file := map[string]any{
		"source": "citizenhome-demo",
		"appointments": []rec{
			{"id": "YY" + day + "0001", "id_number": person("adult"), "matter": "zh-001", "start": at(10 * time.Minute)},
			{"id": "YY" + day + "0002", "id_number": person("elder"), "matter": "sb-001", "start": at(3 * time.Hour)},
			{"id": "YY" + day + "0003", "city_card": cardsim.Sample().CardNo, "matter": "yb-001", "start": at(5 * time.Minute)},
		},
		"applications": []rec{
			{"id": "SL" + day + "0001", "id_number": person("adult"), "lookup_code": "DEMO" + day, "matter": "sb-001",
				"status": "办理中", "accepted": now.AddDate(0, 0, -3).Format("2006-01-02"), "updated": at(-time.Hour)},
			{"id": "SL" + day + "0002", "id_number": person("adult"), "matter": "zh-001", "status": "办结",
				"accepted": now.AddDate(0, 0, -10).Format("2006-01-02"), "finished": now.AddDate(0, 0, -2).Format("2006-01-02"),
				"updated": at(-48 * time.Hour)},
		},
	}
	b, err := json.Marshal(file)
	if err != nil {
		return err
	}
	_, err = svc.Import(ctx, bytes.NewReader(b), civic.JSON)
	return err
}
