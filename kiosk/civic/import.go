package civic

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/queue"
	"citizenhome/kiosk/store"
)

// ImportOptions tune Import. The zero value checks no matter ids, reads local times in
// Asia/Shanghai, uses time.Now and skips nothing as too old.
type ImportOptions struct {
	// Catalog, when not nil, must hold every matter a record names.
	Catalog *catalog.Catalog
	// Loc is the hall's zone, for times written without an offset and the retention cut-off;
	// nil means Asia/Shanghai.
	Loc *time.Location
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RetentionDays, when positive, skips records already past the retention period (see
	// Service.Purge), so that a push does not bring back what the purge removed.
	RetentionDays int
}

// Summary says what an import did.
type Summary struct {
	Format   Format
	Source   string // the file's "source", if any
	Replaced bool   // mode replace
	// Records written, by kind.
	Appointments, Applications, Complaints int
	// CardHolders counts the links of city cards to holders set or removed.
	CardHolders int
	// Stale counts applications and complaint statuses skipped because the store holds a more
	// recent update; Expired the records skipped as past the retention period.
	Stale, Expired int
}

// Import reads one import file (see the package documentation and docs/hall-data.md) from r and,
// only if the whole file is valid, writes it to st in one transaction, identifiers hashed under
// key. On any error nothing is written and the data imported before stays as it was.
//
// Errors: ImportErrors (errors.Is ErrBadFile) listing every problem, each naming the record and
// field; ErrInvalid for an unknown format; ErrKey when the file holds ID or card numbers and key
// is nil; read and database errors as they come.
func Import(ctx context.Context, st *store.Store, key *Key, r io.Reader, f Format, o ImportOptions) (Summary, error) {
	if st == nil {
		return Summary{}, errNilStore
	}
	if !f.Valid() {
		return Summary{}, errf(CodeInvalid, "unknown import format %q", f)
	}
	if o.Loc == nil {
		o.Loc = queue.DefaultLocation()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxImportSize+1))
	if err != nil {
		return Summary{}, fmt.Errorf("hall import: read: %w", err)
	}
	now := o.Now()
	b, err := parse(data, f, o.Catalog, o.Loc, now)
	if err != nil {
		return Summary{}, err
	}
	if key == nil && b.hasIdentifiers() {
		return Summary{}, errf(CodeKey, "the file holds ID or card numbers and there is no hall key to hash them")
	}
	cut := time.Time{}
	if o.RetentionDays > 0 {
		cut = cutoff(now, o.Loc, o.RetentionDays)
	}
	sum := sha256.Sum256(data)
	s := Summary{Format: f, Source: b.source, Replaced: b.replace}
	err = st.Tx(ctx, func(tx *sql.Tx) error {
		s2, err := b.write(ctx, tx, key, now, cut)
		if err != nil {
			return err
		}
		s.Appointments, s.Applications, s.Complaints, s.CardHolders, s.Stale, s.Expired =
			s2.Appointments, s2.Applications, s2.Complaints, s2.CardHolders, s2.Stale, s2.Expired
		_, err = tx.ExecContext(ctx, `INSERT INTO hall_import (at, format, source, sha256, appointments, applications, complaints, card_holders)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, now.UnixNano(), string(f), b.source, hex.EncodeToString(sum[:]),
			s.Appointments, s.Applications, s.Complaints, s.CardHolders)
		if err != nil {
			return fmt.Errorf("hall import: log: %w", err)
		}
		return nil
	})
	if err != nil {
		return Summary{}, err
	}
	return s, nil
}

// Import is Import with the service's store, key, catalog in force, zone, clock and retention.
func (s *Service) Import(ctx context.Context, r io.Reader, f Format) (Summary, error) {
	return Import(ctx, s.st, s.key, r, f, ImportOptions{
		Catalog: s.cat.Current(), Loc: s.Location(), Now: s.now, RetentionDays: s.retention,
	})
}

func (b *batch) hasIdentifiers() bool {
	if b.appointments != nil {
		for _, a := range *b.appointments {
			if a.idNumber != "" || a.card != "" {
				return true
			}
		}
	}
	if b.applications != nil {
		for _, a := range *b.applications {
			if a.idNumber != "" {
				return true
			}
		}
	}
	return b.cardHolders != nil && len(*b.cardHolders) > 0
}

// nullHash hashes a normalised number, or gives NULL for none.
func nullHash(key *Key, kind, v string) any {
	if v == "" {
		return nil
	}
	return key.hash(kind, v)
}

func nullString(v string) any {
	if v == "" {
		return nil
	}
	return v
}

func (b *batch) write(ctx context.Context, tx *sql.Tx, key *Key, now, cut time.Time) (Summary, error) {
	var s Summary
	if b.replace {
		for _, t := range []struct {
			present bool
			table   string
		}{{b.appointments != nil, "hall_appointment"}, {b.applications != nil, "hall_application"},
			{b.complaints != nil, "hall_complaint_status"}, {b.cardHolders != nil, "hall_card_holder"}} {
			if t.present {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+t.table); err != nil {
					return s, fmt.Errorf("hall import: replace %s: %w", t.table, err)
				}
			}
		}
	}
	if b.appointments != nil {
		for _, a := range *b.appointments {
			if a.start.Before(cut) {
				s.Expired++
				continue
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO hall_appointment (id, id_hash, card_hash, matter_id, start_at, cancelled, imported_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET id_hash = excluded.id_hash,
				card_hash = excluded.card_hash, matter_id = excluded.matter_id, start_at = excluded.start_at,
				cancelled = excluded.cancelled, imported_at = excluded.imported_at`,
				a.id, nullHash(key, kindID, a.idNumber), nullHash(key, kindCard, a.card), a.matter,
				a.start.UnixNano(), a.cancelled, now.UnixNano())
			if err != nil {
				return s, fmt.Errorf("hall import: appointment %s: %w", a.id, err)
			}
			s.Appointments++
		}
	}
	if b.applications != nil {
		for _, a := range *b.applications {
			if a.updated.Before(cut) {
				s.Expired++
				continue
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO hall_application (id, id_hash, lookup_code, matter_id, status,
				accepted_on, finished_on, updated_at, imported_at, bring, bring_to, bring_en, bring_to_en) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET id_hash = excluded.id_hash, lookup_code = excluded.lookup_code,
				matter_id = excluded.matter_id, status = excluded.status, accepted_on = excluded.accepted_on,
				finished_on = excluded.finished_on, updated_at = excluded.updated_at, imported_at = excluded.imported_at,
				bring = excluded.bring, bring_to = excluded.bring_to, bring_en = excluded.bring_en,
				bring_to_en = excluded.bring_to_en
				WHERE excluded.updated_at >= hall_application.updated_at`,
				a.id, nullHash(key, kindID, a.idNumber), nullString(a.lookup), a.matter, string(a.status),
				nullString(a.accepted), nullString(a.finished), a.updated.UnixNano(), now.UnixNano(), a.bring.Zh, a.bringTo.Zh, a.bring.En, a.bringTo.En)
			if err != nil {
				return s, fmt.Errorf("hall import: application %s: %w", a.id, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return s, fmt.Errorf("hall import: application %s: %w", a.id, err)
			} else if n == 0 {
				s.Stale++
				continue
			}
			s.Applications++
		}
	}
	if b.complaints != nil {
		for _, c := range *b.complaints {
			if c.updated.Before(cut) {
				s.Expired++
				continue
			}
			reply, err := key.sealReply(c.number, c.reply)
			if err != nil {
				return s, fmt.Errorf("hall import: complaint %s: %w", c.number, err)
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO hall_complaint_status (number, status, reply, reply_sealed, updated_at, imported_at)
				VALUES (?, ?, '', ?, ?, ?) ON CONFLICT (number) DO UPDATE SET status = excluded.status,
				reply = '', reply_sealed = excluded.reply_sealed, updated_at = excluded.updated_at, imported_at = excluded.imported_at
				WHERE excluded.updated_at >= hall_complaint_status.updated_at`,
				c.number, string(c.state), reply, c.updated.UnixNano(), now.UnixNano())
			if err != nil {
				return s, fmt.Errorf("hall import: complaint %s: %w", c.number, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return s, fmt.Errorf("hall import: complaint %s: %w", c.number, err)
			} else if n == 0 {
				s.Stale++
				continue
			}
			s.Complaints++
		}
	}
	if b.cardHolders != nil {
		for _, c := range *b.cardHolders {
			var err error
			if c.idNumber == "" {
				_, err = tx.ExecContext(ctx, `DELETE FROM hall_card_holder WHERE card_hash = ?`, key.hash(kindCard, c.card))
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO hall_card_holder (card_hash, id_hash, imported_at) VALUES (?, ?, ?)
					ON CONFLICT (card_hash) DO UPDATE SET id_hash = excluded.id_hash, imported_at = excluded.imported_at`,
					key.hash(kindCard, c.card), key.hash(kindID, c.idNumber), now.UnixNano())
			}
			if err != nil {
				// The record is named by its place, never by the card number.
				return s, fmt.Errorf("hall import: card holder: %w", err)
			}
			s.CardHolders++
		}
	}
	return s, nil
}

// LastImport is the newest accepted import, for the staff screen.
type LastImport struct {
	At     time.Time
	Format Format
	Source string
	SHA256 string
	// Records written by it, by kind.
	Appointments, Applications, Complaints, CardHolders int
}

// LastImport returns the newest accepted import; ok is false when there was none.
func (s *Service) LastImport(ctx context.Context) (li LastImport, ok bool, err error) {
	var at int64
	var f string
	err = s.st.DB().QueryRowContext(ctx, `SELECT at, format, source, sha256, appointments, applications, complaints, card_holders
		FROM hall_import ORDER BY id DESC LIMIT 1`).Scan(&at, &f, &li.Source, &li.SHA256, &li.Appointments, &li.Applications, &li.Complaints, &li.CardHolders)
	if err == sql.ErrNoRows {
		return LastImport{}, false, nil
	}
	if err != nil {
		return LastImport{}, false, fmt.Errorf("hall: last import: %w", err)
	}
	li.At, li.Format = time.Unix(0, at).In(s.Location()), Format(f)
	return li, true, nil
}
