package line

import (
	"citizenhome/telemetry/wire"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Take is a kiosk's request for a number.
type Take struct {
	ID       string // the kiosk's take id, unique; a repeat gets the same ticket
	Category string // a configured letter
	Priority bool
	Reason   string // priority reason (ReasonElder, ...); required with Priority, empty without
	Matter   string // optional, at most 128 bytes
	Section  string // optional, at most 128 bytes
	// Day, when set, is the kiosk's local date; a take for another day than halld's is refused
	// (ErrExpired): near midnight the kiosk then prints from its lease for its own day.
	Day string
	// Expires, when set, is the kiosk's deadline: past it the kiosk has moved on to its lease,
	// so no number is spent (ErrExpired).
	Expires time.Time
}

// Take commits a number of r.Category for today to kiosk's take r.ID, as an Unconfirmed ticket
// with a new lookup code, and returns it with the position it would have in the queue. The
// ticket is not callable nor counted until Issued confirms it.
//
// A repeated take id returns the same ticket (its position as of now) without a new number, as
// long as it is the same kiosk's; a take its kiosk abandoned meanwhile gets ErrExpired. Errors:
// ErrInvalid (empty kiosk or id, bad priority reason or text, an id used by another kiosk),
// ErrUnknownCategory, ErrExpired (past Expires, another Day, abandoned), ErrExhausted, or a
// wrapped ledger error; on any error no number was spent.
func (l *Line) Take(ctx context.Context, kiosk string, r Take) (Ticket, Position, error) {
	if err := checkText("kiosk", kiosk, true); err != nil {
		return Ticket{}, Position{}, err
	}
	if err := checkText("take id", r.ID, true); err != nil {
		return Ticket{}, Position{}, err
	}
	if _, err := l.category(r.Category); err != nil {
		return Ticket{}, Position{}, err
	}
	if err := checkPriority(r.Priority, r.Reason); err != nil {
		return Ticket{}, Position{}, err
	}
	if err := checkText("matter", r.Matter, false); err != nil {
		return Ticket{}, Position{}, err
	}
	if err := checkText("section", r.Section, false); err != nil {
		return Ticket{}, Position{}, err
	}
	var (
		t   row
		pos Position
	)
	err := l.write(ctx, func(tx *sql.Tx, now time.Time) (Change, error) {
		var err error
		day := l.day(now)
		t, err = l.one(ctx, tx, "of take "+r.ID, `take_id = ?`, r.ID)
		if err == nil {
			if t.Kiosk != kiosk {
				return Change{}, errf(CodeInvalid, "take id %s belongs to another kiosk", r.ID)
			}
			if t.State == Void {
				return Change{}, errf(CodeExpired, "take %s was abandoned by its kiosk", r.ID)
			}
			pos, err = l.position(ctx, tx, t, now)
			return Change{}, err
		}
		if !errors.Is(err, ErrNotFound) {
			return Change{}, err
		}
		var abandoned bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM line_abandoned WHERE take_id = ?)`, r.ID).Scan(&abandoned); err != nil {
			return Change{}, fmt.Errorf("line: take: %w", err)
		}
		if abandoned {
			return Change{}, errf(CodeExpired, "take %s was abandoned by its kiosk", r.ID)
		}
		if !r.Expires.IsZero() && now.After(r.Expires) {
			return Change{}, errf(CodeExpired, "take %s expired at %s", r.ID, r.Expires.Format(time.RFC3339Nano))
		}
		if r.Day != "" && r.Day != day {
			return Change{}, errf(CodeExpired, "take %s is for %s; the hall's day is %s", r.ID, r.Day, day)
		}
		n, err := allocate(ctx, tx, day, r.Category, true, kiosk, now)
		if err != nil {
			return Change{}, err
		}
		lookup, err := l.newLookup(ctx, tx)
		if err != nil {
			return Change{}, err
		}
		t = row{Ticket: Ticket{Code: TicketCode(r.Category, n), Day: day, Category: r.Category, Number: n,
			Priority: r.Priority, Reason: r.Reason, Matter: r.Matter, Section: r.Section,
			State: Unconfirmed, Kiosk: kiosk, Lookup: lookup, IssuedAt: now}, queueAt: now.UnixNano()}
		if t.id, err = insertTicket(ctx, tx, t, r.ID); err != nil {
			return Change{}, err
		}
		pos, err = l.position(ctx, tx, t, now)
		return Change{}, err
	})
	if err != nil {
		return Ticket{}, Position{}, err
	}
	return t.Ticket, pos, nil
}

// allocate gives the next free number of (day, letter): upwards from the last taken one for a
// take, downwards from the last granted one for a lease, skipping numbers allocated otherwise
// (a lease ticket recorded with a number halld never granted may sit anywhere). A take's number
// is recorded 'used' (its ticket row is inserted in the same transaction), a lease number
// 'granted' to kiosk. ErrExhausted when the direction has no free number left.
func allocate(ctx context.Context, tx *sql.Tx, day, letter string, up bool, kiosk string, now time.Time) (int, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO line_counter (day, letter, up, down) VALUES (?, ?, 0, ?)
		ON CONFLICT (day, letter) DO NOTHING`, day, letter, MaxNumber+1); err != nil {
		return 0, fmt.Errorf("line: counter: %w", err)
	}
	col, step, kind, state := "down", -1, "lease", "granted"
	if up {
		col, step, kind, state = "up", 1, "take", "used"
	}
	var last int
	if err := tx.QueryRowContext(ctx, `SELECT `+col+` FROM line_counter WHERE day = ? AND letter = ?`, day, letter).Scan(&last); err != nil {
		return 0, fmt.Errorf("line: counter: %w", err)
	}
	for n := last + step; n >= 1 && n <= MaxNumber; n += step {
		res, err := tx.ExecContext(ctx, `INSERT INTO line_number (day, letter, number, kind, kiosk, state, at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, day, letter, n, kind, kiosk, state, now.UnixNano())
		if err != nil {
			return 0, fmt.Errorf("line: allocate: %w", err)
		}
		if c, err := res.RowsAffected(); err != nil {
			return 0, fmt.Errorf("line: allocate: %w", err)
		} else if c == 0 {
			continue // allocated already: skip it, never give it twice
		}
		if _, err := tx.ExecContext(ctx, `UPDATE line_counter SET `+col+` = ? WHERE day = ? AND letter = ?`, n, day, letter); err != nil {
			return 0, fmt.Errorf("line: counter: %w", err)
		}
		return n, nil
	}
	return 0, errf(CodeExhausted, "category %s has no number left on %s", letter, day)
}

func insertTicket(ctx context.Context, tx *sql.Tx, t row, takeID string) (int64, error) {
	var take, lookup any
	if takeID != "" {
		take = takeID
	}
	if t.Lookup != "" {
		lookup = t.Lookup
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO line_ticket (day, code, letter, number, category,
		priority, reason, matter, section, kiosk, take_id, lease, conflict, lookup, state, issued_at, queue_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Day, t.Code, t.Code[:1], t.Number, t.Category, t.Priority, t.Reason, t.Matter, t.Section,
		t.Kiosk, take, t.Lease, t.Conflict, lookup, string(t.State), t.IssuedAt.UnixNano(), t.queueAt)
	if err != nil {
		return 0, fmt.Errorf("line: insert ticket: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("line: insert ticket: %w", err)
	}
	return id, nil
}

// Issued is a kiosk's ticket.issued event, as far as the queue needs it.
type Issued struct {
	Take  string // the take whose number was printed; empty for a lease ticket
	Lease bool   // the number came from the kiosk's lease
	Day   string // the local date of the number; empty: today
	Code  string // the printed code, "A012"
	// What was printed: kept as it comes (text that cannot be stored is dropped, not refused).
	Priority bool
	Reason   string
	Matter   string
	Section  string
	Lookup   string    // the printed lookup code (a lease ticket's is the kiosk's own)
	IssuedAt time.Time // the kiosk's time of issue; zero or later than now: now
	// Abandoned: takes the kiosk gave up on (no answer in time). Their numbers, never printed,
	// become void (reported by Unused), and a late take message with such an id gets none.
	Abandoned []string
}

// Issued records that kiosk printed a ticket, and queues it: a take's ticket is confirmed, a
// lease ticket inserted with its printed code and lookup. It is idempotent: the same event again
// changes nothing and returns the same answer.
//
// A printed ticket is never lost. When the event does not match what halld knows — an unknown
// take (a ledger restored from an old backup), a take of another kiosk or with another code, a
// lease number halld did not grant to this kiosk — the ticket is queued all the same, as printed:
//   - if its number was free, it is recorded as this kiosk's, and Issued returns nil;
//   - if the number was granted to another kiosk and not yet printed, it is taken from that
//     kiosk's lease (its next Lease no longer lists it), the ticket is flagged Conflict and
//     Issued returns ErrConflict;
//   - if another ticket holds the number, two citizens hold the same code: the ticket is queued
//     flagged Conflict beside the other, logged, and Issued returns ErrConflict.
//
// ErrConflict therefore means "recorded, but look": the event must be acknowledged like any
// other. An abandoned take already printed (its event came first) is never voided: print wins.
// Errors: ErrInvalid (no kiosk, a malformed code or day, an empty abandoned id), ErrConflict, a
// wrapped ledger error.
func (l *Line) Issued(ctx context.Context, kiosk string, ev Issued) error {
	if err := checkText("kiosk", kiosk, true); err != nil {
		return err
	}
	for _, id := range ev.Abandoned {
		if err := checkText("abandoned take id", id, true); err != nil {
			return err
		}
	}
	if ev.Day != "" {
		if !wire.ValidDay(ev.Day) {
			return errf(CodeInvalid, "day %q is not YYYY-MM-DD", ev.Day)
		}
	}
	var out printed
	err := l.write(ctx, func(tx *sql.Tx, now time.Time) (Change, error) {
		out = printed{}
		for _, id := range ev.Abandoned {
			if _, err := tx.ExecContext(ctx, `INSERT INTO line_abandoned (take_id, kiosk, at) VALUES (?, ?, ?)
				ON CONFLICT DO NOTHING`, id, kiosk, now.UnixNano()); err != nil {
				return Change{}, fmt.Errorf("line: abandon: %w", err)
			}
			// Only unconfirmed: a ticket already confirmed was printed and stays.
			if _, err := tx.ExecContext(ctx, `UPDATE line_ticket SET state = 'void'
				WHERE take_id = ? AND kiosk = ? AND state = 'unconfirmed'`, id, kiosk); err != nil {
				return Change{}, fmt.Errorf("line: abandon: %w", err)
			}
		}
		if ev.Take == "" && ev.Code == "" {
			return Change{}, nil // an event naming abandoned takes only
		}
		if ev.Take != "" && !ev.Lease {
			t, err := l.one(ctx, tx, "of take "+ev.Take, `take_id = ?`, ev.Take)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return Change{}, err
			}
			if err == nil && t.Kiosk == kiosk && (ev.Code == "" || strings.EqualFold(ev.Code, t.Code)) {
				if t.State != Unconfirmed && t.State != Void {
					return Change{}, nil // confirmed before: a repeat
				}
				// A void take printed after all (its events crossed): print wins.
				if _, err := tx.ExecContext(ctx, `UPDATE line_ticket SET state = 'waiting' WHERE id = ?`, t.id); err != nil {
					return Change{}, fmt.Errorf("line: confirm: %w", err)
				}
				return Change{Queue: t.Day == l.day(now)}, nil
			}
			// Unknown here, another kiosk's, or another code: what was printed is the truth.
		}
		var ch Change
		var err error
		out, ch, err = l.recordPrinted(ctx, tx, kiosk, ev, now)
		return ch, err
	})
	if err != nil {
		return err
	}
	// Logged once committed, and only when the ticket is new: a repeat says nothing new.
	if out.fresh && out.conflict != "" {
		l.log.Warn("line: printed ticket conflicts with another's, queued all the same",
			"kiosk", kiosk, "day", ev.Day, "code", ev.Code, "why", out.conflict)
	} else if out.fresh && out.note != "" {
		l.log.Warn("line: printed ticket not as halld gave it, queued as printed",
			"kiosk", kiosk, "day", ev.Day, "code", ev.Code, "why", out.note)
	}
	if out.conflict != "" {
		return errf(CodeConflict, "ticket %s of kiosk %s: %s; recorded", ev.Code, kiosk, out.conflict)
	}
	return nil
}

// printed is what recordPrinted did.
type printed struct {
	fresh    bool   // a new ticket (not a repeat of the event)
	conflict string // why its number, or lookup, was another's; "" when it was not
	note     string // what an operator should know though nothing conflicts
}

// recordPrinted queues a ticket as kiosk printed it (see Issued).
func (l *Line) recordPrinted(ctx context.Context, tx *sql.Tx, kiosk string, ev Issued, now time.Time) (printed, Change, error) {
	letter, n, code, err := ParseCode(ev.Code)
	if err != nil {
		return printed{}, Change{}, err
	}
	day := ev.Day
	if day == "" {
		day = l.day(now)
	}
	lookup := strings.ToUpper(ev.Lookup)
	if !wire.ValidLookup(lookup) {
		lookup = ""
	}
	// A repeat of this event: the same kiosk's ticket of that day and code, with that lookup or
	// none (a lookup that collided was not stored).
	prev, err := l.one(ctx, tx, code, `day = ? AND code = ? AND kiosk = ? AND take_id IS NULL AND (lookup = ? OR lookup IS NULL)`,
		day, code, kiosk, lookup)
	if err == nil {
		p := printed{}
		if prev.Conflict {
			p.conflict = "its number or lookup code was another's"
		}
		return p, Change{}, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return printed{}, Change{}, err
	}
	why, note := "", ""
	if ev.Take != "" {
		note = "its take is unknown, another kiosk's, or gave another code"
	}
	if lookup != "" {
		taken, err := lookupTaken(ctx, tx, lookup)
		if err != nil {
			return printed{}, Change{}, err
		}
		if taken {
			// Another ticket's QR code: this one is queued without a working QR code.
			why, lookup = "its lookup code is another ticket's", ""
		}
	}
	var kind, owner, state string
	err = tx.QueryRowContext(ctx, `SELECT kind, kiosk, state FROM line_number WHERE day = ? AND letter = ? AND number = ?`,
		day, letter, n).Scan(&kind, &owner, &state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// Free (a grant halld lost, or a kiosk numbering alone): it is this kiosk's from now on.
		if note == "" {
			note = "its number was not granted to the kiosk, but free"
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO line_number (day, letter, number, kind, kiosk, state, at)
			VALUES (?, ?, ?, 'lease', ?, 'used', ?)`, day, letter, n, kiosk, now.UnixNano()); err != nil {
			return printed{}, Change{}, fmt.Errorf("line: record number: %w", err)
		}
	case err != nil:
		return printed{}, Change{}, fmt.Errorf("line: record number: %w", err)
	case state == "granted":
		if owner != kiosk {
			why = "the number was granted to kiosk " + owner
		}
		if _, err := tx.ExecContext(ctx, `UPDATE line_number SET state = 'used', kiosk = ?
			WHERE day = ? AND letter = ? AND number = ?`, kiosk, day, letter, n); err != nil {
			return printed{}, Change{}, fmt.Errorf("line: record number: %w", err)
		}
	default:
		why = "another ticket holds the number"
	}
	issued := ev.IssuedAt
	if issued.IsZero() || issued.After(now) {
		issued = now
	}
	reason := cleanText(ev.Reason)
	if !ev.Priority {
		reason = ""
	}
	t := row{Ticket: Ticket{Code: code, Day: day, Category: letter, Number: n, Priority: ev.Priority,
		Reason: reason, Matter: cleanText(ev.Matter), Section: cleanText(ev.Section), State: Waiting,
		Kiosk: kiosk, Lookup: lookup, IssuedAt: issued.In(l.loc), Lease: ev.Lease, Conflict: why != ""},
		queueAt: issued.UnixNano()}
	if _, err := insertTicket(ctx, tx, t, ""); err != nil {
		return printed{}, Change{}, err
	}
	if _, ok := l.cats[letter]; !ok {
		note = "its category is not configured: no window will call it"
	}
	return printed{fresh: true, conflict: why, note: note}, Change{Queue: day == l.day(now)}, nil
}

// Lease tops up kiosk's lease of today and tomorrow to Rules.LeaseSize unused numbers per
// category, granted from MaxNumber downwards, and returns every number granted to kiosk and not
// yet printed, of today and later: day → letter → numbers, highest first. A category with no
// number left grants fewer, without error. Errors: ErrInvalid (no kiosk), a wrapped ledger error.
func (l *Line) Lease(ctx context.Context, kiosk string) (map[string]map[string][]int, error) {
	if err := checkText("kiosk", kiosk, true); err != nil {
		return nil, err
	}
	out := map[string]map[string][]int{}
	err := l.write(ctx, func(tx *sql.Tx, now time.Time) (Change, error) {
		clear(out)
		today := l.day(now)
		for _, day := range []string{today, l.tomorrow(today)} {
			out[day] = map[string][]int{}
			for _, letter := range l.order {
				var have int
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM line_number
					WHERE kiosk = ? AND state = 'granted' AND day = ? AND letter = ?`, kiosk, day, letter).Scan(&have); err != nil {
					return Change{}, fmt.Errorf("line: lease: %w", err)
				}
				for ; have < l.rules.LeaseSize; have++ {
					if _, err := allocate(ctx, tx, day, letter, false, kiosk, now); errors.Is(err, ErrExhausted) {
						break
					} else if err != nil {
						return Change{}, err
					}
				}
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT day, letter, number FROM line_number
			WHERE kiosk = ? AND state = 'granted' AND day >= ? ORDER BY day, letter, number DESC`, kiosk, today)
		if err != nil {
			return Change{}, fmt.Errorf("line: lease: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var day, letter string
			var n int
			if err := rows.Scan(&day, &letter, &n); err != nil {
				return Change{}, fmt.Errorf("line: lease: %w", err)
			}
			if out[day] == nil {
				out[day] = map[string][]int{}
			}
			out[day][letter] = append(out[day][letter], n)
		}
		return Change{}, rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Why a number is unused.
const (
	UnusedLease       = "lease"       // granted to a kiosk's lease, not printed (yet)
	UnusedVoid        = "void"        // given to a take its kiosk abandoned
	UnusedUnconfirmed = "unconfirmed" // given to a take whose ticket.issued has not come (yet)
)

// Unused is a number allocated and not printed as far as halld knows.
type Unused struct {
	Day    string
	Code   string
	Number int
	Kiosk  string
	Why    string // UnusedLease, UnusedVoid or UnusedUnconfirmed
}

// Unused lists day's numbers allocated but not printed, by code: unused lease numbers and the
// numbers of takes never confirmed (today's may still be). They are never given again. Errors:
// ErrInvalid for a day not YYYY-MM-DD.
func (l *Line) Unused(ctx context.Context, day string) ([]Unused, error) {
	if !wire.ValidDay(day) {
		return nil, errf(CodeInvalid, "day %q is not YYYY-MM-DD", day)
	}
	rows, err := l.db.SQL().QueryContext(ctx, `
		SELECT letter, number, kiosk, 'lease' FROM line_number WHERE day = ? AND state = 'granted'
		UNION ALL
		SELECT letter, number, kiosk, state FROM line_ticket WHERE day = ? AND state IN ('void', 'unconfirmed')
		ORDER BY 1, 2`, day, day)
	if err != nil {
		return nil, fmt.Errorf("line: unused: %w", err)
	}
	defer rows.Close()
	var out []Unused
	for rows.Next() {
		u := Unused{Day: day}
		var letter string
		if err := rows.Scan(&letter, &u.Number, &u.Kiosk, &u.Why); err != nil {
			return nil, fmt.Errorf("line: unused: %w", err)
		}
		u.Code = TicketCode(letter, u.Number)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("line: unused: %w", err)
	}
	return out, nil
}
