package followup

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"citizenhome/hall/hours"
	"citizenhome/hall/ledger"
)

// Store keeps the work orders in the ledger. Safe for concurrent use.
type Store struct {
	db  *ledger.DB
	o   Options
	log *slog.Logger
}

// Open returns the store over db, which must hold Migrations. ErrConfig: no Seal, no default
// manager (Managers[""]), an empty account, a negative DeadlineDays or Retention, or a calendar
// with fewer than DeadlineDays working days in the year ahead (no deadline could be set).
func Open(db *ledger.DB, o Options) (*Store, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Hours.IsZero() {
		o.Hours = hours.Default(time.Local)
	}
	if o.DeadlineDays == 0 {
		o.DeadlineDays = DefaultDeadlineDays
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	switch {
	case db == nil:
		return nil, errf(CodeConfig, "no ledger")
	case o.Seal == nil:
		return nil, errf(CodeConfig, "no seal key: the citizens' phones could not be sealed")
	case o.DeadlineDays < 0:
		return nil, errf(CodeConfig, "negative deadline %d", o.DeadlineDays)
	case o.Retention < 0:
		return nil, errf(CodeConfig, "negative retention %s", o.Retention)
	case len(o.Managers[""]) == 0:
		return nil, errf(CodeConfig, "no default manager: the sections not listed and the reviews of appeals would have nobody")
	}
	for sec, accounts := range o.Managers {
		if len(accounts) == 0 {
			return nil, errf(CodeConfig, "section %q has no manager", sec)
		}
		for _, a := range accounts {
			if a == "" || len(a) > maxField {
				return nil, errf(CodeConfig, "section %q: an empty or overlong manager account", sec)
			}
		}
	}
	if _, ok := Deadline(o.Hours, o.Now(), o.DeadlineDays); !ok {
		return nil, errf(CodeConfig, "the hall calendar has fewer than %d working days in the year ahead", o.DeadlineDays)
	}
	return &Store{db: db, o: o, log: o.Log}, nil
}

// managers returns the accounts responsible for section.
func (s *Store) managers(section string) []string {
	if m, ok := s.o.Managers[section]; ok {
		return m
	}
	return s.o.Managers[""]
}

// OpenRating opens the order of a 差评, assigned to the section's manager with the fewest open
// orders (the first listed on a tie), due DeadlineDays working days ahead. The same rating
// again returns its order as it stands (an event delivered twice opens one order; the phone
// given the second time is ignored). ErrInvalid: Rating not positive, Level not 1 or 2, a
// phone not of 7 to 15 digits (spaces and dashes dropped), an overlong or control-laden field.
func (s *Store) OpenRating(ctx context.Context, r RatingRef) (Order, error) {
	if r.Rating <= 0 {
		return Order{}, errf(CodeInvalid, "rating id %d", r.Rating)
	}
	if r.Level != 1 && r.Level != 2 {
		return Order{}, errf(CodeInvalid, "level %d is no 差评 (1 or 2)", r.Level)
	}
	if len(r.Reasons) > maxReasons {
		return Order{}, errf(CodeInvalid, "%d reasons, at most %d", len(r.Reasons), maxReasons)
	}
	for _, f := range append([]string{r.Ticket, r.Day, r.Section, r.Window, r.Staff}, r.Reasons...) {
		if err := checkField(f); err != nil {
			return Order{}, err
		}
	}
	phone, err := normalPhone(r.Phone)
	if err != nil {
		return Order{}, err
	}
	reasons, _ := json.Marshal(orEmpty(r.Reasons))
	now := s.o.Now()
	// Outside the transaction: it walks the calendar, and the ledger has one connection.
	due, err := s.deadline(now)
	if err != nil {
		return Order{}, s.wrap("open rating order", err)
	}
	var id int64
	opened := func() {} // logs once committed
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM followup_order WHERE rating = ?`, r.Rating).Scan(&id)
		if err == nil {
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		manager, err := s.assign(ctx, tx, r.Section)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO followup_order
			(kind, state, section, win, staff, ticket, day, rating, level, reasons, manager, opened, due)
			VALUES ('rating', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			PendingCallback, r.Section, r.Window, r.Staff, r.Ticket, r.Day, r.Rating, r.Level, string(reasons),
			manager, now.UnixNano(), due.UnixNano())
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if phone != "" {
			// Sealed under the row's own id: a sealed phone copied to another order opens nowhere.
			sealed, err := s.o.Seal.Seal(phone, phoneLabel(id))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE followup_order SET phone = ? WHERE id = ?`, sealed, id); err != nil {
				return err
			}
		}
		opened = func() {
			s.log.Info("followup: order opened", "order", id, "kind", KindRating, "section", r.Section, "due", due)
		}
		return addStep(ctx, tx, id, now, "", "", PendingCallback, "")
	})
	if err != nil {
		return Order{}, s.wrap("open rating order", err)
	}
	opened()
	return s.Get(ctx, id)
}

// OpenComplaint opens the order of a kiosk complaint, assigned and due as OpenRating's, opened
// at c.At (now when zero or in the future: a kiosk's clock may run ahead). The same number again
// returns its order as it stands. ErrInvalid: an empty number, an overlong or control-laden
// field.
func (s *Store) OpenComplaint(ctx context.Context, c ComplaintRef) (Order, error) {
	if c.Number == "" {
		return Order{}, errf(CodeInvalid, "no complaint number")
	}
	for _, f := range []string{c.Number, c.Category, c.Section} {
		if err := checkField(f); err != nil {
			return Order{}, err
		}
	}
	now := s.o.Now()
	opened := c.At
	if opened.IsZero() || opened.After(now) {
		opened = now
	}
	due, err := s.deadline(opened) // outside the transaction, as OpenRating's
	if err != nil {
		return Order{}, s.wrap("open complaint order", err)
	}
	var id int64
	logOpened := func() {} // logs once committed
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM followup_order WHERE complaint = ?`, c.Number).Scan(&id)
		if err == nil {
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		manager, err := s.assign(ctx, tx, c.Section)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO followup_order
			(kind, state, section, complaint, category, manager, opened, due)
			VALUES ('complaint', ?, ?, ?, ?, ?, ?, ?)`,
			Accepted, c.Section, c.Number, c.Category, manager, opened.UnixNano(), due.UnixNano())
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		logOpened = func() {
			s.log.Info("followup: order opened", "order", id, "kind", KindComplaint, "section", c.Section, "due", due)
		}
		return addStep(ctx, tx, id, opened, "", "", Accepted, "")
	})
	if err != nil {
		return Order{}, s.wrap("open complaint order", err)
	}
	logOpened()
	return s.Get(ctx, id)
}

func (s *Store) deadline(opened time.Time) (time.Time, error) {
	due, ok := Deadline(s.o.Hours, opened, s.o.DeadlineDays)
	if !ok {
		return time.Time{}, errf(CodeConfig, "the hall calendar has fewer than %d working days in the year ahead", s.o.DeadlineDays)
	}
	return due, nil
}

// assign picks the section's manager with the fewest open orders, the first listed on a tie.
func (s *Store) assign(ctx context.Context, tx *sql.Tx, section string) (string, error) {
	best, least := "", int64(-1)
	for _, m := range s.managers(section) {
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM followup_order WHERE manager = ? AND closed IS NULL`, m).Scan(&n); err != nil {
			return "", err
		}
		if least < 0 || n < least {
			best, least = m, n
		}
	}
	return best, nil
}

func addStep(ctx context.Context, tx *sql.Tx, id int64, at time.Time, by string, from, to State, note string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO followup_step (order_id, seq, at, actor, from_state, to_state, note)
		VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM followup_step WHERE order_id = ?), ?, ?, ?, ?, ?)`,
		id, id, at.UnixNano(), by, from, to, note)
	return err
}

// Move moves order id to state to on behalf of account by, keeping note with the step.
//
// by must be the order's manager or another manager of its section (Options.Managers), except
// for the move to Reviewed: a review is made by one of the default managers (Managers[""])
// other than the account that appealed; ErrForbidden otherwise. ErrTransition: a move not in
// Transitions for the order's kind and state (moving a closed order, a rating's state on a
// complaint, Rectifying from PendingCallback for an order with a phone). ErrInvalid: a required
// note missing (see Transitions), a note over MaxNote runes or not valid text, a review's note
// not starting with Upheld or Overturned. ErrPersonalData: a complaint's answer (the note of the
// move to Answered, which Reply shows publicly) that looks like it holds a mobile number, a
// fixed-line number with its area code or an ID number; the error names the kind, never the
// digits. ErrNotFound: no such order. Nothing changes on error.
func (s *Store) Move(ctx context.Context, id int64, to State, by string, note string) (Order, error) {
	note = strings.TrimSpace(strings.ReplaceAll(note, "\r\n", "\n"))
	if by == "" {
		return Order{}, errf(CodeForbidden, "no account")
	}
	if !utf8.ValidString(note) || utf8.RuneCountInString(note) > MaxNote || strings.ContainsFunc(note, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\t'
	}) {
		return Order{}, errf(CodeInvalid, "the note must be valid text of at most %d characters", MaxNote)
	}
	if needsNote[to] && note == "" {
		return Order{}, errf(CodeInvalid, "a move to %s needs a note", to)
	}
	outcome := ""
	var from State
	if to == Reviewed {
		// The outcome is the note's first word, whatever follows it (a space, "：", the text).
		first := strings.ToLower(note)
		if i := strings.IndexFunc(first, func(r rune) bool { return r < 'a' || r > 'z' }); i >= 0 {
			first = first[:i]
		}
		if first != Upheld && first != Overturned {
			return Order{}, errf(CodeInvalid, "a review's note starts with its outcome, %s or %s", Upheld, Overturned)
		}
		outcome = first
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var kind Kind
		var section, manager string
		var hasPhone bool
		err := tx.QueryRowContext(ctx, `SELECT kind, state, section, manager, phone IS NOT NULL FROM followup_order WHERE id = ?`, id).
			Scan(&kind, &from, &section, &manager, &hasPhone)
		if errors.Is(err, sql.ErrNoRows) {
			return errf(CodeNotFound, "no order %d", id)
		} else if err != nil {
			return err
		}
		if !slices.Contains(Transitions[kind][from], to) {
			return errf(CodeTransition, "order %d (%s) cannot move from %s to %s", id, kind, from, to)
		}
		if kind == KindComplaint && to == Answered {
			if err := personalData(note); err != nil {
				return err
			}
		}
		if from == PendingCallback && to == Rectifying && hasPhone {
			return errf(CodeTransition, "order %d has a phone: the citizen is called back before rectification", id)
		}
		if to == Reviewed {
			var appellant string
			err := tx.QueryRowContext(ctx, `SELECT actor FROM followup_step WHERE order_id = ? AND to_state = ? ORDER BY seq DESC LIMIT 1`, id, Appealed).Scan(&appellant)
			if err != nil {
				return err
			}
			if !slices.Contains(s.o.Managers[""], by) || by == appellant {
				return errf(CodeForbidden, "%s may not review order %d: a default manager other than the appellant reviews", by, id)
			}
		} else if by != manager && !slices.Contains(s.managers(section), by) {
			return errf(CodeForbidden, "%s is no manager of order %d", by, id)
		}
		now := s.o.Now()
		var closed any
		if to.Closed() {
			closed = now.UnixNano()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE followup_order SET state = ?, closed = ?, outcome = CASE WHEN ? = '' THEN outcome ELSE ? END WHERE id = ?`,
			to, closed, outcome, outcome, id); err != nil {
			return err
		}
		return addStep(ctx, tx, id, now, by, from, to, note)
	})
	if err != nil {
		return Order{}, s.wrap("move order", err)
	}
	// The note is what a citizen said or is told: never in the log.
	s.log.Info("followup: order moved", "order", id, "from", from, "to", to)
	return s.Get(ctx, id)
}

// Get returns order id with its steps. ErrNotFound: no such order (or purged).
func (s *Store) Get(ctx context.Context, id int64) (Order, error) {
	orders, err := s.query(ctx, `WHERE id = ?`, []any{id}, 1)
	if err != nil {
		return Order{}, err
	}
	if len(orders) == 0 {
		return Order{}, errf(CodeNotFound, "no order %d", id)
	}
	return orders[0], nil
}

// List returns the orders f selects, newest opened first, with their steps. Overdue is judged
// at the store's Now.
func (s *Store) List(ctx context.Context, f Filter) ([]Order, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.State != "" {
		add("state = ?", f.State)
	}
	if f.Section != "" {
		add("section = ?", f.Section)
	}
	if f.Manager != "" {
		add("manager = ?", f.Manager)
	}
	if f.Open {
		add("closed IS NULL")
	}
	if f.Overdue {
		add("((closed IS NULL AND due < ?) OR closed > due)", s.o.Now().UnixNano())
	}
	if !f.Since.IsZero() {
		add("opened >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("opened < ?", f.Until.UnixNano())
	}
	q := ""
	if len(where) > 0 {
		q = "WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	return s.query(ctx, q, args, limit)
}

const orderColumns = `id, kind, state, section, win, staff, ticket, day, coalesce(rating, 0), coalesce(complaint, ''),
	category, level, reasons, manager, opened, due, closed, outcome, phone IS NOT NULL`

func (s *Store) query(ctx context.Context, where string, args []any, limit int) ([]Order, error) {
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT `+orderColumns+` FROM followup_order `+where+
		` ORDER BY opened DESC, id DESC LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, s.wrap("list orders", err)
	}
	defer rows.Close()
	now := s.o.Now()
	var out []Order
	byID := map[int64]int{}
	for rows.Next() {
		var o Order
		var reasons string
		var opened, due int64
		var closed sql.NullInt64
		if err := rows.Scan(&o.ID, &o.Kind, &o.State, &o.Section, &o.Window, &o.Staff, &o.Ticket, &o.Day, &o.Rating,
			&o.Complaint, &o.Category, &o.Level, &reasons, &o.Manager, &opened, &due, &closed, &o.Outcome, &o.HasPhone); err != nil {
			return nil, s.wrap("list orders", err)
		}
		if err := json.Unmarshal([]byte(reasons), &o.Reasons); err != nil {
			return nil, s.wrap("list orders", fmt.Errorf("order %d: reasons: %w", o.ID, err))
		}
		o.Opened, o.Due = time.Unix(0, opened), time.Unix(0, due)
		if closed.Valid {
			c := time.Unix(0, closed.Int64)
			o.Closed = &c
			o.Overdue = c.After(o.Due)
		} else {
			o.Overdue = now.After(o.Due)
		}
		byID[o.ID] = len(out)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list orders", err)
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(out))
	for _, o := range out {
		ids = append(ids, strconv.FormatInt(o.ID, 10))
	}
	steps, err := s.db.SQL().QueryContext(ctx, `SELECT order_id, at, actor, from_state, to_state, note FROM followup_step
		WHERE order_id IN (`+strings.Join(ids, ",")+`) ORDER BY order_id, seq`)
	if err != nil {
		return nil, s.wrap("list steps", err)
	}
	defer steps.Close()
	for steps.Next() {
		var id, at int64
		var st Step
		if err := steps.Scan(&id, &at, &st.By, &st.From, &st.To, &st.Note); err != nil {
			return nil, s.wrap("list steps", err)
		}
		st.At = time.Unix(0, at)
		o := &out[byID[id]]
		o.Steps = append(o.Steps, st)
	}
	if err := steps.Err(); err != nil {
		return nil, s.wrap("list steps", err)
	}
	return out, nil
}

// Phone returns the citizen's phone of order id for account, which must be the order's
// assigned manager (ErrForbidden otherwise, even for another manager of the section: the
// number is shown to the one person who calls back). The caller audits the reading.
// ErrNotFound: no such order; ErrNoPhone: none given, or purged; seal.ErrSealed (wrapped): the
// sealed phone does not open (another hall secret, or a value copied from another order).
func (s *Store) Phone(ctx context.Context, id int64, account string) (string, error) {
	var manager string
	var sealed []byte
	err := s.db.SQL().QueryRowContext(ctx, `SELECT manager, phone FROM followup_order WHERE id = ?`, id).Scan(&manager, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errf(CodeNotFound, "no order %d", id)
	} else if err != nil {
		return "", s.wrap("read phone", err)
	}
	if account == "" || account != manager {
		return "", errf(CodeForbidden, "only the assigned manager reads the phone of order %d", id)
	}
	if sealed == nil {
		return "", errf(CodeNoPhone, "order %d has no phone", id)
	}
	phone, err := s.o.Seal.Open(sealed, phoneLabel(id))
	if err != nil {
		return "", fmt.Errorf("followup: phone of order %d: %w", id, err)
	}
	return phone, nil
}

// Purge deletes the orders closed more than Retention ago, their steps and phones, and returns
// how many. Open orders are never purged, however old.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	cutoff := s.o.Now().Add(-s.o.Retention).UnixNano()
	var n int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM followup_order WHERE closed IS NOT NULL AND closed < ?`, cutoff)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, s.wrap("purge", err)
	}
	if n > 0 {
		s.log.Info("followup: closed orders purged", "orders", n, "retention", s.o.Retention)
	}
	return n, nil
}

func phoneLabel(id int64) string { return "followup:" + strconv.FormatInt(id, 10) + ":phone" }

// wrap passes the package's errors as they are and names the operation on others.
func (s *Store) wrap(op string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("followup: %s: %w", op, err)
}

func checkField(f string) error {
	if len(f) > maxField || !utf8.ValidString(f) || strings.ContainsFunc(f, unicode.IsControl) {
		return errf(CodeInvalid, "a field is over %d bytes or not plain text", maxField)
	}
	return nil
}

// normalPhone drops spaces and dashes and checks what is left is 7 to 15 digits ("" stays "").
func normalPhone(p string) (string, error) {
	p = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, p)
	if p == "" {
		return "", nil
	}
	if len(p) < 7 || len(p) > 15 || strings.ContainsFunc(p, func(r rune) bool { return r < '0' || r > '9' }) {
		return "", errf(CodeInvalid, "a phone must be 7 to 15 digits")
	}
	return p, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
