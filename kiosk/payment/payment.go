// Package payment takes a matter's fee (art. 13) from a city one-card through a PSAM, and keeps
// the journal that makes it safe: money is never taken twice, and a debit that happened always
// ends in a record, an event for the hall and a receipt, whatever instant the card leaves or the
// power fails.
//
// Each payment is a row of the store's payment table, written step by step, each step committed
// (SQLite synchronous FULL) before the next command goes to the card:
//
//	intent      matter, amount, card masked and its keyed hash (the hall key)
//	init        the card answered INITIALIZE FOR PURCHASE: offline serial, balance before
//	debit-sent  the PSAM gave MAC1; written BEFORE DEBIT goes out: from here only the card can
//	            tell whether the money was taken
//	debited     the card answered DEBIT: TAC; the payment is paid
//	confirmed   the PSAM accepted the card's MAC2; the record is complete (payment.completed)
//
// and the receipt (printed or failed) after it. Recovery (Journal.Recover on a tap of the card,
// Journal.RecoverStart when the kiosk starts) settles every entry left open: before debit-sent
// nothing was taken (closed as not charged); at debit-sent the card's balance and log decide
// (citycard.State.Judge): taken (paid, a payment.recovered event, a receipt) or not (closed as not
// charged); when the card cannot tell (it was used elsewhere since) or does not come back within
// Grace, the entry is flagged undecided for staff and the hall (an alert), never guessed. A card
// with an entry open or undecided cannot pay again until it is settled.
//
// The card appears in the journal only masked (3104********5678) and as an HMAC under the hall
// key: the purchase state is stored with the card number and serial blanked, and recovery fills
// them back from the card tapped again, once its hash matches.
package payment

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"citizenhome/devices/citycard"
	"citizenhome/kiosk/store"
	"citizenhome/mask"
)

// Step is how far a payment got, as the journal's step column says.
type Step string

// The journal's steps, in order.
const (
	StepIntent    Step = "intent"     // nothing sent to pay yet
	StepInit      Step = "init"       // INITIALIZE answered; nothing taken
	StepDebitSent Step = "debit-sent" // DEBIT may have gone out: the card decides
	StepDebited   Step = "debited"    // the card answered DEBIT: taken
	StepConfirmed Step = "confirmed"  // the PSAM accepted MAC2
)

// Status is where a payment stands.
type Status string

// The statuses.
const (
	// StatusOpen: in progress, or torn at debit-sent and waiting for the card to come back.
	StatusOpen Status = "open"
	// StatusPaid: the money is taken; the record, its event and a receipt follow.
	StatusPaid Status = "paid"
	// StatusNotCharged: closed; nothing was taken.
	StatusNotCharged Status = "not-charged"
	// StatusUndecided: the card could not tell (or did not come back): flagged to the hall and
	// staff; a later tap of the card is still judged.
	StatusUndecided Status = "undecided"
)

// Receipt says whether a paid entry's receipt came out.
type Receipt string

// Receipt states.
const (
	ReceiptNone    Receipt = "none"    // not printed yet (or the kiosk stopped before it)
	ReceiptPrinted Receipt = "printed" // printed
	ReceiptFailed  Receipt = "failed"  // the printer failed: staff reprint it
)

// DefaultGrace is how long a payment torn at debit-sent waits for its card before it is flagged
// undecided. One implementation allows recovery within 120 s only; the card's log decides
// whenever it comes back, flagged or not.
const DefaultGrace = 2 * time.Minute

// DefaultRepeatWindow is how long after a payment the same card is refused for the same matter
// and amount unless the request says AllowRepeat: a second tap or a double touch must not pay
// twice.
const DefaultRepeatWindow = 10 * time.Minute

// Sentinels for errors.Is.
var (
	// ErrPending: the card has an earlier payment that this tap could not settle (open or
	// undecided): it cannot pay again until staff settle it. Nothing was taken now.
	ErrPending = errors.New("payment: the card has an unsettled payment")
	// ErrAlreadyPaid: the card paid this matter and amount within the repeat window; the
	// Result's Entry is that payment. Nothing was taken now.
	ErrAlreadyPaid = errors.New("payment: already paid")
	// ErrNoCard: no city card on the reader.
	ErrNoCard = errors.New("payment: no city card on the reader")
	// ErrNoPSAM: no PSAM configured, or it does not answer.
	ErrNoPSAM = errors.New("payment: no PSAM")
	// ErrNotFound: no journal entry with that id.
	ErrNotFound = errors.New("payment: no such payment")
)

// Notice is what to tell the citizen, Chinese first: the card library's Message, named here so
// that the screens tell a payment's outcome apart without importing the device library.
type Notice = citycard.Message

// The citizen-facing messages of this package's own refusals (Chinese first).
var (
	MsgPending = Notice{Zh: "此卡有一笔支付尚待确认，暂不能再次支付，未扣款。请联系工作人员。",
		En: "This card has a payment still being checked; nothing was charged now. Please ask staff."}
	MsgAlreadyPaid = Notice{Zh: "此事项已用此卡缴费，未重复扣款。如需再次缴费，请确认后重试。",
		En: "This card has already paid this fee; nothing was charged again. Confirm to pay once more."}
)

// The card's messages, which Message gives for a failed purchase (citycard.CitizenMessage says
// which when).
var (
	MsgUnknown             = citycard.MsgUnknown
	MsgDebited             = citycard.MsgDebited
	MsgInsufficientBalance = citycard.MsgInsufficientBalance
	MsgAppLocked           = citycard.MsgAppLocked
	MsgMACInvalid          = citycard.MsgMACInvalid
	MsgKeyLocked           = citycard.MsgKeyLocked
	MsgKeyNotFound         = citycard.MsgKeyNotFound
	MsgPSAM                = citycard.MsgPSAM
	MsgCardLeft            = citycard.MsgCardLeft
	MsgNotDebited          = citycard.MsgNotDebited
)

// Message gives what to tell the citizen about an error of Pay: this package's refusals, then
// citycard.CitizenMessage (which says first of all whether money was taken).
func Message(err error) Notice {
	switch {
	case errors.Is(err, ErrPending):
		return MsgPending
	case errors.Is(err, ErrAlreadyPaid):
		return MsgAlreadyPaid
	}
	return citycard.CitizenMessage(err)
}

// Options are what New needs.
type Options struct {
	Store *store.Store
	// Hash is the keyed hash of a card number (civic.Key.CardHash); required: it is how a card
	// finds its open payments again without its number being stored.
	Hash func(cardNo string) []byte
	// Events records an event in the transaction of the record it describes (the telemetry
	// outbox); nil records none. An error rolls the step back.
	Events func(tx *sql.Tx, typ string, data any) error
	// Now is the clock (journal times, the date-time written to the card); nil means time.Now.
	Now func() time.Time
	// Location gives a payment's day; nil means China time.
	Location *time.Location
	// KeyIndex is the card's purchase key index; 0 means 1.
	KeyIndex byte
	// Grace: see DefaultGrace; 0 means DefaultGrace.
	Grace time.Duration
	// RepeatWindow: see DefaultRepeatWindow; 0 means DefaultRepeatWindow, negative none.
	RepeatWindow time.Duration
	// AfterStep, when set, is called after each journal write of Pay (the step just committed),
	// before the next command goes out. Crash tests kill the process there.
	AfterStep func(Step)
}

// Journal runs payments and keeps their journal. Safe for concurrent use: payments and
// recoveries run one at a time (a PSAM serves one purchase at a time).
type Journal struct {
	o   Options
	mu  sync.Mutex
	tid [6]byte // the PSAM's terminal id once read: saves an APDU per payment
}

// New returns the journal over o.Store (migrated to the payment schema).
func New(o Options) (*Journal, error) {
	if o.Store == nil || o.Hash == nil {
		return nil, errors.New("payment: a store and a card hash are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = citycard.ChinaTime
	}
	if o.KeyIndex == 0 {
		o.KeyIndex = 1
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.RepeatWindow == 0 {
		o.RepeatWindow = DefaultRepeatWindow
	}
	return &Journal{o: o}, nil
}

// Grace is the configured wait for a torn payment's card.
func (j *Journal) Grace() time.Duration { return j.o.Grace }

// Entry is one payment of the journal. It holds no personal data: the card is masked.
type Entry struct {
	ID         int64
	Day        string // local date of the intent, YYYY-MM-DD
	Created    time.Time
	Updated    time.Time
	Matter     string
	AmountFen  int64
	CardMasked string
	Step       Step
	Status     Status
	// From the card and the PSAM, once known.
	Terminal         string // terminal id, upper-case hex
	OfflineSerial    int    // -1 before init
	BalanceBeforeFen int64  // -1 before init
	TerminalSerial   int64  // -1 before debit-sent
	TxTime           string // the card's wall clock of the debit, YYYYMMDDhhmmss; "" before
	TAC              string // upper-case hex; "" until known
	MAC2Verified     bool
	Recovered        bool // settled by recovery, not by the payment that started it
	Receipt          Receipt
	ReceiptAt        time.Time // zero until printed
	Closed           time.Time // zero while open or undecided, and while a paid record lacks its event
	Reason           string

	state []byte // citycard.State without the card number
}

// Txn is the transaction number printed on the receipt (交易流水号): the day and the id,
// "20261126000042". Unique on this kiosk.
func (e Entry) Txn() string {
	return strings.ReplaceAll(e.Day, "-", "") + fmt.Sprintf("%06d", e.ID)
}

// BalanceAfterFen is the card's balance once the debit is done; -1 when the balance before is
// unknown.
func (e Entry) BalanceAfterFen() int64 {
	if e.BalanceBeforeFen < 0 {
		return -1
	}
	return e.BalanceBeforeFen - e.AmountFen
}

// Time is when the debit was made on the card (the terminal date-time sent with DEBIT), or the
// intent's time before that.
func (e Entry) Time(loc *time.Location) time.Time {
	if loc == nil {
		loc = citycard.ChinaTime
	}
	if t, err := time.ParseInLocation("20060102150405", e.TxTime, citycard.ChinaTime); err == nil {
		return t.In(loc)
	}
	return e.Created.In(loc)
}

// String is "payment 20261126000042 bdc-002 2500 fen card 3104********5678 paid (confirmed)".
// The card is masked again (package mask), in case CardMasked was given a full number.
func (e Entry) String() string {
	return fmt.Sprintf("payment %s %s %d fen card %s %s (%s)", e.Txn(), e.Matter, e.AmountFen, mask.Card(e.CardMasked), e.Status, e.Step)
}

// Format prints String for every verb.
func (e Entry) Format(f fmt.State, verb rune) { mask.Format(f, verb, e.String()) }

// LogValue gives slog what String gives, field by field.
func (e Entry) LogValue() slog.Value { return e.fields().LogValue() }

// MarshalJSON writes what LogValue gives.
func (e Entry) MarshalJSON() ([]byte, error) { return e.fields().MarshalJSON() }

func (e Entry) fields() mask.Fields {
	return mask.Fields{}.Add("txn", e.Txn()).Add("matter", e.Matter).Add("amount_fen", e.AmountFen).
		Add("card", mask.Card(e.CardMasked)).Add("status", string(e.Status)).Add("step", string(e.Step))
}

// Event is the data of the payment.completed and payment.recovered events: what the hall needs
// to reconcile, and no personal data (the card masked).
type Event struct {
	Txn             string `json:"txn"`
	Matter          string `json:"matter"`
	AmountFen       int64  `json:"amount_fen"`
	Card            string `json:"card"` // masked
	TAC             string `json:"tac,omitempty"`
	Terminal        string `json:"terminal"`
	TerminalSerial  int64  `json:"terminal_serial"`
	OfflineSerial   int    `json:"offline_serial"`
	BalanceAfterFen int64  `json:"balance_after_fen"`
	MAC2Verified    bool   `json:"mac2_verified"`
	Time            string `json:"time"` // RFC 3339, the debit's date-time
	TornAt          Step   `json:"torn_at,omitempty"`
	Reason          string `json:"reason,omitempty"`
}

func (j *Journal) event(e Entry) Event {
	return Event{
		Txn: e.Txn(), Matter: e.Matter, AmountFen: e.AmountFen, Card: e.CardMasked, TAC: e.TAC,
		Terminal: e.Terminal, TerminalSerial: e.TerminalSerial, OfflineSerial: e.OfflineSerial,
		BalanceAfterFen: e.BalanceAfterFen(), MAC2Verified: e.MAC2Verified,
		Time: e.Time(j.o.Location).Format(time.RFC3339),
	}
}

const entryCols = `id, day, created_at, updated_at, matter_id, amount_fen, card_masked, step, status, state,
	terminal, offline_serial, balance_before, terminal_serial, tx_time, tac, mac2_verified, recovered,
	receipt, receipt_at, closed_at, reason`

type scanner interface{ Scan(...any) error }

func scanEntry(r scanner) (Entry, error) {
	var (
		e                   Entry
		created, updated    int64
		off, bal, ts        sql.NullInt64
		receiptAt, closedAt sql.NullInt64
		mac2, recovered     int
		step, status, recpt string
	)
	err := r.Scan(&e.ID, &e.Day, &created, &updated, &e.Matter, &e.AmountFen, &e.CardMasked, &step, &status, &e.state,
		&e.Terminal, &off, &bal, &ts, &e.TxTime, &e.TAC, &mac2, &recovered, &recpt, &receiptAt, &closedAt, &e.Reason)
	if err != nil {
		return Entry{}, err
	}
	e.Created, e.Updated = time.Unix(0, created), time.Unix(0, updated)
	e.Step, e.Status, e.Receipt = Step(step), Status(status), Receipt(recpt)
	e.OfflineSerial, e.BalanceBeforeFen, e.TerminalSerial = -1, -1, -1
	if off.Valid {
		e.OfflineSerial = int(off.Int64)
	}
	if bal.Valid {
		e.BalanceBeforeFen = bal.Int64
	}
	if ts.Valid {
		e.TerminalSerial = ts.Int64
	}
	if receiptAt.Valid {
		e.ReceiptAt = time.Unix(0, receiptAt.Int64)
	}
	if closedAt.Valid {
		e.Closed = time.Unix(0, closedAt.Int64)
	}
	e.MAC2Verified, e.Recovered = mac2 == 1, recovered == 1
	return e, nil
}

// purchaseState decodes the entry's stored purchase state (card number blank). A state that
// does not decode is ErrCorruptState: recovery then flags the entry rather than guess.
func (e Entry) purchaseState() (citycard.State, error) {
	var st citycard.State
	if e.state == nil {
		return st, fmt.Errorf("%w: entry %d has no purchase state", ErrCorruptState, e.ID)
	}
	if err := st.UnmarshalBinary(e.state); err != nil {
		return st, fmt.Errorf("%w: entry %d: %w", ErrCorruptState, e.ID, err)
	}
	return st, nil
}

// ErrCorruptState: a journal entry's purchase state does not decode.
var ErrCorruptState = errors.New("payment: journal state unreadable")

// blank drops the card number and serial from a state before it is stored.
func blank(st citycard.State) ([]byte, error) {
	st.CardNo, st.CardSerial = "", [8]byte{}
	return st.MarshalBinary()
}

func hexUpper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// Get reads one entry.
func (j *Journal) Get(ctx context.Context, id int64) (Entry, error) {
	e, err := scanEntry(j.o.Store.DB().QueryRowContext(ctx, `SELECT `+entryCols+` FROM payment WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	return e, err
}

func (j *Journal) query(ctx context.Context, where string, args ...any) ([]Entry, error) {
	rows, err := j.o.Store.DB().QueryContext(ctx, `SELECT `+entryCols+` FROM payment WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("payment: journal: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("payment: journal: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Unsettled lists the entries open or undecided, oldest first.
func (j *Journal) Unsettled(ctx context.Context) ([]Entry, error) {
	return j.query(ctx, `status IN ('open', 'undecided')`)
}

// Undecided counts the entries flagged undecided: while there is one, the hall has an alert.
func (j *Journal) Undecided(ctx context.Context) (int, error) {
	var n int
	err := j.o.Store.DB().QueryRowContext(ctx, `SELECT count(*) FROM payment WHERE status = 'undecided'`).Scan(&n)
	return n, err
}

// SameCard reports whether payment id was made with the card numbered cardNo. The journal keeps
// no card number, only its keyed hash (Options.Hash): the masked number cannot tell two cards
// apart (3104********5678 is many cards; a number of 8 digits or fewer is all stars). An
// unknown id is ErrNotFound; an empty cardNo is no card (false).
func (j *Journal) SameCard(ctx context.Context, id int64, cardNo string) (bool, error) {
	var hash []byte
	err := j.o.Store.DB().QueryRowContext(ctx, `SELECT card_hash FROM payment WHERE id = ?`, id).Scan(&hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("%w: %d", ErrNotFound, id)
	case err != nil:
		return false, fmt.Errorf("payment: journal: %w", err)
	}
	return cardNo != "" && hmac.Equal(hash, j.o.Hash(cardNo)), nil
}

// Pending reports whether the card has an open or undecided entry: the rig asks it on every tap
// of a city card, and runs Recover only then.
func (j *Journal) Pending(ctx context.Context, cardNo string) (bool, error) {
	var n int
	err := j.o.Store.DB().QueryRowContext(ctx, `SELECT count(*) FROM payment WHERE card_hash = ? AND status IN ('open', 'undecided')`,
		j.o.Hash(cardNo)).Scan(&n)
	return n > 0, err
}

// ReceiptsDue lists paid entries whose receipt was never attempted (the kiosk stopped between
// the debit and the printer): the kiosk prints them at start.
func (j *Journal) ReceiptsDue(ctx context.Context) ([]Entry, error) {
	return j.query(ctx, `status = 'paid' AND receipt = 'none'`)
}

// SetReceipt records the receipt of a paid entry: printed (err nil) or failed (err, whose text
// is kept as the reason for staff).
func (j *Journal) SetReceipt(ctx context.Context, id int64, printErr error) error {
	now := j.o.Now().UnixNano()
	return j.o.Store.Tx(ctx, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		if printErr == nil {
			res, err = tx.Exec(`UPDATE payment SET receipt = 'printed', receipt_at = ?, updated_at = ? WHERE id = ? AND status = 'paid'`, now, now, id)
		} else {
			res, err = tx.Exec(`UPDATE payment SET receipt = 'failed', updated_at = ?,
				reason = CASE WHEN reason = '' THEN ? ELSE reason || '; ' || ? END WHERE id = ? AND status = 'paid'`,
				now, "receipt: "+printErr.Error(), "receipt: "+printErr.Error(), id)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: no paid payment %d", ErrNotFound, id)
		}
		return nil
	})
}
