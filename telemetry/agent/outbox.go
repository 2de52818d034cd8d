package agent

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"citizenhome/kiosk/store"
)

// Outbox is the durable queue of events for the hall, in the kiosk's store (table
// telemetry_outbox). An event is written in the transaction of the business record it describes
// (RecordEvent, the kiosk core's hook) or on its own (Add); the agent sends events in the order
// they were committed and deletes them only once the broker has acknowledged them.
//
// It is safe for concurrent use.
type Outbox struct {
	st   *store.Store
	now  func() time.Time
	wake chan struct{}
}

// NewOutbox returns the outbox over st; now is the clock (nil: time.Now).
func NewOutbox(st *store.Store, now func() time.Time) *Outbox {
	if now == nil {
		now = time.Now
	}
	return &Outbox{st: st, now: now, wake: make(chan struct{}, 1)}
}

// Entry is one event waiting in the outbox.
type Entry struct {
	Seq  int64 // order in the outbox; not the wire seq
	ID   string
	TS   time.Time
	Type string
	Data json.RawMessage
}

// ErrEvent is matched by an event RecordEvent or Add refuse: a type that is empty, too long or
// not printable, or data that does not marshal to a JSON object.
var ErrEvent = errors.New("telemetry: bad event")

// MaxEventData is the largest data object of an event, in bytes.
const MaxEventData = 8 << 10

// RecordEvent writes an event inside tx (kiosk.EventRecorder). The event becomes visible to the
// sender when tx commits, and vanishes with it when tx rolls back.
func (o *Outbox) RecordEvent(tx *sql.Tx, typ string, data any) error {
	b, err := eventData(typ, data)
	if err != nil {
		return err
	}
	id, err := newID()
	if err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO telemetry_outbox (id, ts, type, data) VALUES (?, ?, ?, ?)`,
		id, o.now().UnixNano(), typ, string(b)); err != nil {
		return fmt.Errorf("telemetry: outbox insert: %w", err)
	}
	// The sender's read waits for the store's one connection, so it sees the row once tx commits.
	o.signal()
	return nil
}

// Add writes an event in a transaction of its own (events that describe no other record:
// device faults, a reset).
func (o *Outbox) Add(ctx context.Context, typ string, data any) error {
	return o.st.Tx(ctx, func(tx *sql.Tx) error { return o.RecordEvent(tx, typ, data) })
}

func (o *Outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Wake is signalled (coalesced) when an event is written.
func (o *Outbox) Wake() <-chan struct{} { return o.wake }

func eventData(typ string, data any) ([]byte, error) {
	if typ == "" || len(typ) > 64 || strings.IndexFunc(typ, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsPrint(r) || r == ' ' }) >= 0 {
		return nil, fmt.Errorf("%w: type %q", ErrEvent, typ)
	}
	if data == nil {
		data = struct{}{}
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s data: %v", ErrEvent, typ, err)
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("%w: %s data is not a JSON object", ErrEvent, typ)
	}
	if len(b) > MaxEventData {
		return nil, fmt.Errorf("%w: %s data of %d bytes is over %d", ErrEvent, typ, len(b), MaxEventData)
	}
	return b, nil
}

// newID is 128 random bits in hex: unique without coordination between kiosks.
func newID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("telemetry: random id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Pending returns up to limit events with Seq above after, oldest first.
func (o *Outbox) Pending(ctx context.Context, after int64, limit int) ([]Entry, error) {
	rows, err := o.st.DB().QueryContext(ctx, `SELECT seq, id, ts, type, data FROM telemetry_outbox
		WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("telemetry: outbox read: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var ts int64
		var data string
		if err := rows.Scan(&e.Seq, &e.ID, &ts, &e.Type, &data); err != nil {
			return nil, fmt.Errorf("telemetry: outbox read: %w", err)
		}
		e.TS = time.Unix(0, ts)
		e.Data = json.RawMessage(data)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("telemetry: outbox read: %w", err)
	}
	return out, nil
}

// Delete removes every event with Seq up to and including upto: the broker acknowledged them.
func (o *Outbox) Delete(ctx context.Context, upto int64) error {
	if _, err := o.st.DB().ExecContext(ctx, `DELETE FROM telemetry_outbox WHERE seq <= ?`, upto); err != nil {
		return fmt.Errorf("telemetry: outbox delete: %w", err)
	}
	return nil
}

// Ack removes the events with these ids, in one transaction, and returns how many there were:
// halld has committed them (with a hall controller). Ids the outbox does not hold (acknowledged
// before, or never this kiosk's) are ignored.
func (o *Outbox) Ack(ctx context.Context, ids []string) (int64, error) {
	var n int64
	err := o.st.Tx(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, `DELETE FROM telemetry_outbox WHERE id = ?`, id)
			if err != nil {
				return fmt.Errorf("telemetry: outbox ack: %w", err)
			}
			c, _ := res.RowsAffected()
			n += c
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Len is the number of events not yet acknowledged: by the broker, or, with a hall controller,
// by halld.
func (o *Outbox) Len(ctx context.Context) (int64, error) {
	var n int64
	err := o.st.DB().QueryRowContext(ctx, `SELECT count(*) FROM telemetry_outbox`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("telemetry: outbox count: %w", err)
	}
	return n, nil
}

// NextBoot increments and returns the durable session counter. It is called before every
// CONNECT, so that each session's will and birth carry a number no earlier session had.
func NextBoot(ctx context.Context, st *store.Store) (int64, error) {
	var b int64
	err := st.Tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO telemetry_boot (one, boot) VALUES (1, 1)
			ON CONFLICT (one) DO UPDATE SET boot = boot + 1 RETURNING boot`).Scan(&b)
	})
	if err != nil {
		return 0, fmt.Errorf("telemetry: boot counter: %w", err)
	}
	return b, nil
}

// retainedAlerts are the alert codes that may be retained on the broker.
func retainedAlerts(ctx context.Context, st *store.Store) (map[string]bool, error) {
	rows, err := st.DB().QueryContext(ctx, `SELECT code FROM telemetry_alert`)
	if err != nil {
		return nil, fmt.Errorf("telemetry: alerts: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("telemetry: alerts: %w", err)
		}
		out[c] = true
	}
	return out, rows.Err()
}

func setRetainedAlert(ctx context.Context, st *store.Store, code string, on bool) error {
	q := `INSERT INTO telemetry_alert (code) VALUES (?) ON CONFLICT DO NOTHING`
	if !on {
		q = `DELETE FROM telemetry_alert WHERE code = ?`
	}
	if _, err := st.DB().ExecContext(ctx, q, code); err != nil {
		return fmt.Errorf("telemetry: alerts: %w", err)
	}
	return nil
}
