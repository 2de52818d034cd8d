package followup

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Reply is what a complaint's citizen may read of its order, by the slip's number: no phone, no
// accounts, no notes but the answer.
type Reply struct {
	Number, Category, Section string
	State                     State
	Opened, Due               time.Time
	Answered                  time.Time // zero until answered
	Answer                    string    // the note of the move to Answered; "" until then
}

// complaintAlphabet is Crockford's base32, the alphabet of a complaint number's last six
// characters (kiosk/civic's newComplaintNumber).
const complaintAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ComplaintNumber returns s in a complaint number's normal form, "TS" + yyyymmdd + six
// characters of Crockford's base32 (TS20261207K7Q2M9), or ErrInvalid. It takes what a citizen
// types off the slip: lower case, spaces and dashes anywhere, and, in the part after "TS", the
// letters Crockford's base32 reads as digits (O as 0, I and L as 1). The date must be a real one.
func ComplaintNumber(s string) (string, error) {
	if len(s) > 64 {
		return "", errf(CodeInvalid, "not a complaint number")
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\u3000':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
	rest, ok := strings.CutPrefix(s, "TS")
	if !ok || len(rest) != 14 {
		return "", errf(CodeInvalid, "not a complaint number")
	}
	b := []byte(rest)
	for i, c := range b {
		switch c {
		case 'O':
			b[i] = '0'
		case 'I', 'L':
			b[i] = '1'
		}
	}
	date, code := string(b[:8]), string(b[8:])
	if _, err := time.Parse("20060102", date); err != nil || strings.Trim(code, complaintAlphabet) != "" {
		return "", errf(CodeInvalid, "not a complaint number")
	}
	return "TS" + date + code, nil
}

// Reply returns what the citizen who holds the slip of complaint number may read of its order:
// its state, deadline and, once answered, the answer (the note of the move to Answered) and when.
// number is read as ComplaintNumber reads it. ErrInvalid: number is no complaint number;
// ErrNotFound: no complaint order has it (never made, not yet arrived from its kiosk, or purged
// after the retention).
func (s *Store) Reply(ctx context.Context, number string) (Reply, error) {
	n, err := ComplaintNumber(number)
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Number: n}
	var opened, due int64
	var answered sql.NullInt64
	// The answer is the last move to Answered's note, and only while the order stands there.
	err = s.db.SQL().QueryRowContext(ctx, `SELECT o.state, o.category, o.section, o.opened, o.due, st.at, coalesce(st.note, '')
		FROM followup_order o
		LEFT JOIN followup_step st ON st.order_id = o.id AND st.to_state = ? AND o.state = ?
		WHERE o.kind = ? AND o.complaint = ?
		ORDER BY st.seq DESC LIMIT 1`, Answered, Answered, KindComplaint, n).
		Scan(&r.State, &r.Category, &r.Section, &opened, &due, &answered, &r.Answer)
	if errors.Is(err, sql.ErrNoRows) {
		return Reply{}, errf(CodeNotFound, "no complaint order with that number")
	} else if err != nil {
		return Reply{}, s.wrap("read reply", err)
	}
	r.Opened, r.Due = time.Unix(0, opened), time.Unix(0, due)
	if answered.Valid {
		r.Answered = time.Unix(0, answered.Int64)
	}
	return r, nil
}
