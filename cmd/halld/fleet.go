package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"citizenhome/hall/fleet"
	"citizenhome/hall/followup"
	"citizenhome/hall/history"
	"citizenhome/hall/hours"
	"citizenhome/hall/intake"
	"citizenhome/hall/ledger"
	"citizenhome/hall/line"
	"citizenhome/hall/notify"
	"citizenhome/hall/rating"
	"citizenhome/hall/settings"
	"citizenhome/seal"
	"citizenhome/telemetry/link"
	"citizenhome/telemetry/wire"
)

// crew is the crew's console behind halld's pages: the fleet followed from the broker and its
// history, fed by every message the follower applies.
type crew struct {
	follower *fleet.Follower
	history  *history.Store
	orders   *followup.Store
	ratings  *rating.Store
	notifier *notify.Notifier
	stop     context.CancelFunc
	done     []chan struct{} // closed when the history's writer and the notifier have returned
}

// startCrew opens the history and the work orders, and follows the hall on a connection of its
// own (client id {client}-fleet: the intake's persistent session must not be taken over). It
// returns at once, the broker being up or not; the history's writer, the notifier (the fleet's
// alerts and the orders' deadlines) and the orders' daily purge run until close.
func startCrew(ctx context.Context, cfg settings.Config, ls link.Settings, db *ledger.DB, q *line.Line, log *slog.Logger) (*crew, error) {
	loc, err := cfg.Location()
	if err != nil {
		return nil, err
	}
	week, err := cfg.Hours.Week(loc)
	if err != nil {
		return nil, err
	}
	h, err := history.Open(db, history.Options{Retention: cfg.History.Retention.Duration, Hours: week, Location: loc, Log: log})
	if err != nil {
		return nil, err
	}
	cmdKey, err := commandKey(cfg, true, log)
	if err != nil {
		return nil, err
	}
	orders, err := openOrders(cfg, week, db, log)
	if err != nil {
		return nil, err
	}
	ratings, err := rating.Open(db, q, orders, rating.Options{Location: loc, Log: log})
	if err != nil {
		return nil, err
	}
	var chans []notify.Channel
	for _, c := range cfg.Notify.Channels {
		chans = append(chans, notify.Channel{Name: c.Name, Kind: notify.Kind(c.Kind), URL: c.URL, Secret: c.Secret,
			MinSeverity: c.MinSeverity, Text: c.Text})
	}
	n := cfg.Notify
	nt, err := notify.New(db, notify.Merge(h, orders), notify.Options{Hall: cfg.Hall.ID, Channels: chans, OutsideHours: n.OutsideHours,
		Delays: notify.Delays{Warning: n.DelayWarning.Duration, Error: n.DelayError.Duration, Lost: n.DelayLost.Duration},
		Hours:  week, ConsoleURL: n.ConsoleURL, Timeout: n.Timeout.Duration, Log: log})
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := h.Run(ctx); err != nil {
			log.Error("fleet history stopped", "err", err)
		}
	}()
	done2 := make(chan struct{})
	go func() {
		defer close(done2)
		if len(chans) == 0 {
			return
		}
		if err := nt.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("notifications stopped", "err", err)
		}
	}()
	ls.ClientID = cfg.ClientID() + "-fleet"
	v := fleet.NewView()
	f := fleet.Follow(ls, v, fleet.DialOptions{Hall: cfg.Hall.ID, By: "halld", AutoRebirth: true, Log: log, CommandKey: cmdKey,
		OnUpdate: func(u fleet.Update) {
			if history.Keeps(u) {
				k, _ := v.Kiosk(u.Addr.Kiosk)
				h.Record(u, k)
			}
		}})
	done3 := make(chan struct{})
	go func() {
		defer close(done3)
		upkeep(ctx, db, orders, ratings, q, loc, log)
	}()
	return &crew{follower: f, history: h, orders: orders, ratings: ratings, notifier: nt, stop: stop, done: []chan struct{}{done, done2, done3}}, nil
}

// close stops following, then lets the history's writer write what it still holds and waits
// for it (the ledger closes after).
func (c *crew) close() {
	c.follower.Close()
	c.stop()
	for _, d := range c.done {
		<-d
	}
}

// commandKey is the hall's command key from mqtt.command_key_file (nil when it names none):
// the file holds the key's 32-byte seed as seal keeps its secrets (64 hex digits, 0600, refused
// when others may read it), made at the first start when create is true.
func commandKey(cfg settings.Config, create bool, log *slog.Logger) (ed25519.PrivateKey, error) {
	path := cfg.MQTT.CommandKeyFile
	if path == "" {
		return nil, nil
	}
	var seed []byte
	var err error
	if create {
		var created bool
		seed, created, err = seal.LoadSecret(path)
		if created {
			log.Info("made the hall's command key", "file", path)
		}
	} else if _, err = os.Stat(path); err == nil {
		seed, _, err = seal.LoadSecret(path) // it exists: LoadSecret only reads it
	} else if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("%s does not exist yet: halld makes it at its first start", path)
	}
	if err != nil {
		return nil, fmt.Errorf("mqtt.command_key_file: %w", err)
	}
	defer clear(seed)
	return ed25519.NewKeyFromSeed(seed), nil
}

// openOrders opens the work orders of 差评 and complaints with the hall's sealing secret (made at
// the first start).
func openOrders(cfg settings.Config, week hours.Week, db *ledger.DB, log *slog.Logger) (*followup.Store, error) {
	secret, created, err := seal.LoadSecret(cfg.Followup.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("followup.key_file: %w", err)
	}
	if created {
		log.Info("made the hall's sealing secret", "file", cfg.Followup.KeyFile)
	}
	key, err := seal.NewKey(secret)
	clear(secret)
	if err != nil {
		return nil, fmt.Errorf("followup.key_file: %w", err)
	}
	managers := map[string][]string{"": cfg.Followup.Managers}
	for _, s := range cfg.Followup.Sections {
		managers[s.Section] = s.Managers
	}
	return followup.Open(db, followup.Options{Hours: week, DeadlineDays: cfg.Followup.DeadlineDays, Managers: managers,
		Retention: cfg.Followup.Retention.Duration, Seal: key, Log: log})
}

// upkeep opens the work orders of 差评 whose opening failed, at the start and hourly; daily it
// deletes the closed orders past their retention and sums yesterday's statistics (so that no
// one waits for a past day's sums in the console); until ctx ends.
func upkeep(ctx context.Context, db *ledger.DB, orders *followup.Store, ratings *rating.Store, q *line.Line, loc *time.Location, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for hour := 0; ; hour++ {
		if n, err := ratings.OpenMissing(ctx); err != nil && ctx.Err() == nil {
			log.Error("ratings: opening missing work orders", "err", err)
		} else if n > 0 {
			log.Info("ratings: opened missing work orders", "orders", n)
		}
		if hour%24 == 1 {
			if n, err := orders.Purge(ctx); err != nil && ctx.Err() == nil {
				log.Error("work orders: purge", "err", err)
			} else if n > 0 {
				log.Info("work orders: purged the closed past their retention", "orders", n)
				// The purged phones' pages stay in the write-ahead log until a checkpoint: cut it.
				if err := db.TruncateWAL(ctx); err != nil && ctx.Err() == nil {
					log.Warn("work orders: the ledger's log not truncated after the purge; the next purge tries again", "err", err)
				}
			}
			today := time.Now().In(loc)
			day := func(t time.Time) string { return t.Format(time.DateOnly) }
			if _, err := q.Stats(ctx, line.StatsQuery{From: day(today.AddDate(0, 0, -1)), To: day(today), By: line.ByDay}); err != nil && ctx.Err() == nil {
				log.Error("statistics: summing yesterday", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// handlers are the kiosk events halld follows up, for the intake: complaints open work orders,
// ratings are tied to the service they rate (and a 差评 opens an order). A refusal of the
// packages' own (*followup.Error, *rating.Error: not a complaint, a ticket not served) is final;
// anything else, a ledger failure, asks the kiosk to send the event again.
func (c *crew) handlers() map[string]intake.Handler {
	return map[string]intake.Handler{
		wire.EventComplaint: func(ctx context.Context, kiosk string, e wire.Event) error {
			_, err := c.orders.FromKiosk(ctx, kiosk, e)
			var fe *followup.Error
			if err != nil && !errors.As(err, &fe) {
				return fmt.Errorf("%w: %w", intake.ErrRetry, err)
			}
			return err
		},
		wire.EventRating: func(ctx context.Context, kiosk string, e wire.Event) error {
			_, err := c.ratings.FromKiosk(ctx, kiosk, e)
			var re *rating.Error
			if err != nil && !errors.As(err, &re) {
				return fmt.Errorf("%w: %w", intake.ErrRetry, err)
			}
			return err
		},
	}
}

// fleetPages is the follower as hall/web's Fleet: a command's arguments pass through as the
// JSON the browser or API client sent.
type fleetPages struct{ *fleet.Follower }

func (f fleetPages) Command(ctx context.Context, k wire.Kiosk, name string, args json.RawMessage, by string) (wire.Reply, string, error) {
	o := fleet.Order{Name: name, By: by}
	if len(args) > 0 {
		o.Args = args
	}
	r, err := f.Follower.Command(ctx, k, o)
	return r, r.ID, err
}
