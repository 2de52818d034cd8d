package civic

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"citizenhome/kiosk/store"
)

// Local is the Source kept in the kiosk's own store, filled by Import. It finds a person by the
// keyed hash of their numbers, so it needs the same Key the data was imported with.
type Local struct {
	st  *store.Store
	key *Key
}

// NewLocal returns the Source over st.
func NewLocal(st *store.Store, key *Key) *Local { return &Local{st: st, key: key} }

// hashes returns the hashes of who's numbers, nil for a number not given.
func (k *Key) hashes(who Identity) (id, card []byte) {
	if n := normID(who.IDNumber); n != "" {
		id = k.hash(kindID, n)
	}
	if n := normCard(who.CityCard); n != "" {
		card = k.hash(kindCard, n)
	}
	return id, card
}

// Appointments implements Source. A zero who finds nothing. A city card finds the bookings made
// with it and, when it is linked to its holder (card_holders), those made with the holder's ID
// number.
func (l *Local) Appointments(ctx context.Context, who Identity, from, to time.Time) ([]Appointment, error) {
	id, card, _, err := person(ctx, l.st, l.key, who)
	if err != nil {
		return nil, err
	}
	if id == nil && card == nil {
		return nil, nil
	}
	rows, err := l.st.DB().QueryContext(ctx, `SELECT id, matter_id, start_at, cancelled FROM hall_appointment
		WHERE (id_hash = ? OR card_hash = ?) AND start_at BETWEEN ? AND ? ORDER BY start_at, id`,
		id, card, from.UnixNano(), to.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("hall: appointments: %w", err)
	}
	defer rows.Close()
	var out []Appointment
	for rows.Next() {
		var a Appointment
		var start int64
		if err := rows.Scan(&a.ID, &a.Matter, &start, &a.Cancelled); err != nil {
			return nil, fmt.Errorf("hall: appointments: %w", err)
		}
		a.Start = time.Unix(0, start)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hall: appointments: %w", err)
	}
	return out, nil
}

// Applications implements Source.
func (l *Local) Applications(ctx context.Context, q Query) ([]Application, error) {
	var rows *sql.Rows
	var err error
	const cols = `SELECT id, matter_id, status, coalesce(accepted_on, ''), coalesce(finished_on, ''), updated_at, bring, bring_to, bring_en, bring_to_en FROM hall_application`
	switch {
	case q.Code != "":
		rows, err = l.st.DB().QueryContext(ctx, cols+` WHERE lookup_code = ? ORDER BY updated_at DESC, id`, q.Code)
	default:
		id, _, _, err := person(ctx, l.st, l.key, q.Who)
		if err != nil {
			return nil, err
		}
		if id == nil {
			// Applications are filed under the applicant's ID number; a city card stands for
			// it only when the hall linked the card to its holder (card_holders).
			return nil, nil
		}
		rows, err = l.st.DB().QueryContext(ctx, cols+` WHERE id_hash = ? ORDER BY updated_at DESC, id`, id)
	}
	if err != nil {
		return nil, fmt.Errorf("hall: applications: %w", err)
	}
	defer rows.Close()
	var out []Application
	for rows.Next() {
		var a Application
		var status string
		var updated int64
		if err := rows.Scan(&a.ID, &a.Matter, &status, &a.Accepted, &a.Finished, &updated, &a.Bring.Zh, &a.BringTo.Zh, &a.Bring.En, &a.BringTo.En); err != nil {
			return nil, fmt.Errorf("hall: applications: %w", err)
		}
		a.Status = Status(status)
		a.Updated = time.Unix(0, updated)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hall: applications: %w", err)
	}
	return out, nil
}
