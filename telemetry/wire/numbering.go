package wire

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The hall's one numbering (issue 15): additions to the contract, documented in
// docs/telemetry.md. A kiosk whose hall runs a controller (halld) asks it for every ticket number
// (take → given, with a deadline), keeps a lease of numbers halld granted it beforehand for when
// halld does not answer, and keeps each event in its outbox until halld acknowledges its id.
//
// Kiosk root R = citizenhome/v1/{hall}/{kiosk}; hall root H = citizenhome/v1/{hall}. QoS 1.
//
//	R/ticket/take        kiosk → halld   not retained   Take
//	R/ticket/given       halld → kiosk   not retained   Given
//	R/lease              halld → kiosk   retained       Lease
//	R/ack                halld → kiosk   not retained   Ack
//	H/controller/queue   halld → all     retained       QueueState (at most once a second)
//
// Every parser here is strict: a payload over MaxPayloadLen, a field of the wrong type, a bad
// id, day, letter, code or number, or a figure out of range refuses the whole message with a
// *MessageError (errors.Is(err, ErrMalformed)). Unknown fields are ignored, as everywhere in the
// contract.

// Topic kinds of the numbering under a kiosk's root (Kiosk.Topic(KindTake) is R/ticket/take).
const (
	KindTake  = "ticket/take"  // kiosk → halld: Take
	KindGiven = "ticket/given" // halld → kiosk: Given
	KindLease = "lease"        // halld → kiosk, retained: Lease
	KindAck   = "ack"          // halld → kiosk: Ack
	// KindQueue is under the controller's level: H/controller/queue, retained: QueueState.
	KindQueue = "queue"
)

// QueueTopic is "citizenhome/v1/{hall}/controller/queue", the hall's retained queue figures.
func QueueTopic(hall string) string {
	return Prefix + "/" + hall + "/" + ControllerID + "/" + KindQueue
}

// TakeFilter is halld's subscription to every kiosk's takes: "citizenhome/v1/{hall}/+/ticket/take".
func TakeFilter(hall string) string { return Prefix + "/" + hall + "/+/" + KindTake }

// EventFilter is halld's subscription to every kiosk's events: "citizenhome/v1/{hall}/+/event".
func EventFilter(hall string) string { return Prefix + "/" + hall + "/+/" + KindEvent }

// ParseNumberingTopic splits a topic of the numbering: a kiosk's R/ticket/take, R/ticket/given,
// R/lease or R/ack, or of its questions, R/ask or R/answer (Address.Kind is the Kind constant, Address.Kiosk the kiosk), or the hall's
// H/controller/queue (Kind KindQueue, Address.Controller() true). Anything else, including the
// contract's own topics (ParseTopic reads those) and any kind under the controller's level but
// queue, returns ErrTopic. ParseTopic is unchanged and still refuses these topics, so readers
// written before the numbering (hall/fleet) do not see them.
func ParseNumberingTopic(topic string) (Address, error) {
	parts := strings.Split(topic, "/")
	if len(parts) < 5 || len(parts) > 6 || parts[0]+"/"+parts[1] != Prefix {
		return Address{}, ErrTopic
	}
	a := Address{Kiosk: Kiosk{Hall: parts[2], Kiosk: parts[3]}, Kind: strings.Join(parts[4:], "/")}
	if !ValidName(a.Hall) || !ValidName(a.Kiosk.Kiosk) {
		return Address{}, ErrTopic
	}
	if a.Controller() {
		if a.Kind != KindQueue {
			return Address{}, ErrTopic
		}
		return a, nil
	}
	switch a.Kind {
	case KindTake, KindGiven, KindLease, KindAck, KindAsk, KindAnswer:
		return a, nil
	}
	return Address{}, ErrTopic
}

// Limits of the numbering messages.
const (
	// MaxTicketNumber is the last number of a category on one day (kiosk/queue.MaxNumber).
	MaxTicketNumber = 9999
	// MaxLeaseDays is how many days one lease may name (today and tomorrow, with room for a
	// clock near midnight).
	MaxLeaseDays = 4
	// MaxLeasePerCategory is how many numbers a lease may hold for one day and category.
	MaxLeasePerCategory = 1000
	// MaxAckIDs is how many event ids one ack may name.
	MaxAckIDs = 1000
	// MaxAbandoned is how many abandoned take ids one ticket.issued event may name.
	MaxAbandoned = 64
	// MaxTextLen bounds the free-text fields (matter, section), as kiosk/queue does.
	MaxTextLen = 128
	// MaxMessageLen bounds an error message in a Given.
	MaxMessageLen = 512
	// LookupLen is the length of a ticket's lookup code.
	LookupLen = 10
)

// LookupAlphabet is Crockford's base32 (no I, L, O, U), the alphabet of lookup codes.
const LookupAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var (
	reID     = regexp.MustCompile(`^[0-9a-f]{32}$`)
	reReason = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	reErr    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)
)

// ValidID reports whether s is a take or event id as kiosks make them: 128 random bits in lower
// case hex (32 characters).
func ValidID(s string) bool { return reID.MatchString(s) }

// ValidDay reports whether s is a date YYYY-MM-DD (the hall's local day of a number).
func ValidDay(s string) bool {
	if len(s) != len(time.DateOnly) {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// ValidLetter reports whether s is a queue category letter: one capital A-Z.
func ValidLetter(s string) bool { return len(s) == 1 && s[0] >= 'A' && s[0] <= 'Z' }

// ValidLookup reports whether s is a lookup code: LookupLen characters of LookupAlphabet.
func ValidLookup(s string) bool {
	return len(s) == LookupLen && strings.Trim(s, LookupAlphabet) == ""
}

// ValidReason reports whether s may be a priority reason ("elder", "urgent", ...): a lower-case
// word [a-z][a-z0-9-]{0,31}. The wire does not enumerate them, so a new reason of a newer kiosk
// still reaches an older halld.
func ValidReason(s string) bool { return reReason.MatchString(s) }

// TicketCode is the printed form of a number: the letter and at least three digits ("A012",
// "A1000"). It does not check its arguments.
func TicketCode(letter string, n int) string { return fmt.Sprintf("%s%03d", letter, n) }

// ParseTicketCode reads a code in its normal form ("A012"; "A12", "a012" and "A0012" are
// refused) and returns the letter and number (1..MaxTicketNumber).
func ParseTicketCode(s string) (letter string, n int, ok bool) {
	if len(s) < 4 || len(s) > 5 || !ValidLetter(s[:1]) {
		return "", 0, false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return "", 0, false
		}
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil || n < 1 || n > MaxTicketNumber || TicketCode(s[:1], n) != s {
		return "", 0, false
	}
	return s[:1], n, true
}

// MessageError is a numbering message (or ticket event) refused by its parser. ID is the
// message's id when it could be read (so that halld can still answer a bad take).
type MessageError struct {
	Kind string // KindTake, ..., or EventTicketIssued
	ID   string
	Msg  string
}

func (e *MessageError) Error() string {
	if e.Kind == "" {
		return "wire: malformed message: " + e.Msg
	}
	return "wire: malformed " + e.Kind + ": " + e.Msg
}

// Is matches every *MessageError, so errors.Is(err, ErrMalformed) holds for each.
func (e *MessageError) Is(target error) bool {
	_, ok := target.(*MessageError)
	return ok
}

// ErrMalformed matches every error of the numbering parsers.
var ErrMalformed error = &MessageError{}

func malformed(kind, id, format string, args ...any) error {
	return &MessageError{Kind: kind, ID: id, Msg: fmt.Sprintf(format, args...)}
}

// decodeStrict is Decode with the error as a MessageError of kind.
func decodeStrict(kind string, b []byte, v any) error {
	if err := Decode(b, v); err != nil {
		return malformed(kind, "", "%v", err)
	}
	return nil
}

// readID recovers the id of a payload that failed to decode as a whole, for the refusal.
func readID(b []byte) string {
	var p struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(b, &p) == nil && ValidID(p.ID) {
		return p.ID
	}
	return ""
}

func checkText(s string, max int) bool { return len(s) <= max && printable(s) }

// Take asks halld for the next number of a category (R/ticket/take). halld commits the number
// before it answers (unconfirmed until the ticket.issued event naming this take arrives), answers
// the same take id with the same Given again, and does not answer after Expires.
type Take struct {
	ID       string    `json:"id"`       // 32 hex; the Given's id, and the event's "take"
	Day      string    `json:"day"`      // the kiosk's local day YYYY-MM-DD
	Category string    `json:"category"` // "A"
	Priority bool      `json:"priority"` // green channel
	Reason   string    `json:"reason,omitempty"`
	Matter   string    `json:"matter,omitempty"`  // catalog matter id
	Section  string    `json:"section,omitempty"` // hall section (区)
	Expires  time.Time `json:"expires"`           // the kiosk gives up then
}

// Check returns a *MessageError unless t keeps the rules ParseTake applies.
func (t Take) Check() error {
	bad := func(format string, args ...any) error { return malformed(KindTake, t.ID, format, args...) }
	if !ValidID(t.ID) {
		return malformed(KindTake, "", "id %q is not 32 hex characters", t.ID)
	}
	if !ValidDay(t.Day) {
		return bad("day %q is not YYYY-MM-DD", t.Day)
	}
	if !ValidLetter(t.Category) {
		return bad("category %q is not one letter A-Z", t.Category)
	}
	if t.Priority && !ValidReason(t.Reason) {
		return bad("priority without a reason ([a-z][a-z0-9-]{0,31})")
	}
	if !t.Priority && t.Reason != "" {
		return bad("reason %q without priority", t.Reason)
	}
	if !checkText(t.Matter, MaxTextLen) || !checkText(t.Section, MaxTextLen) {
		return bad("matter or section over %d bytes or not printable", MaxTextLen)
	}
	if t.Expires.IsZero() {
		return bad("expires is missing")
	}
	return nil
}

// ParseTake decodes and checks a take. Errors are *MessageError, with the id when it could be
// read: halld answers such a take with a refusal rather than silence.
func ParseTake(b []byte) (Take, error) {
	var t Take
	if err := decodeStrict(KindTake, b, &t); err != nil {
		err.(*MessageError).ID = readID(b)
		return Take{}, err
	}
	if err := t.Check(); err != nil {
		return Take{}, err
	}
	return t, nil
}

// GivenError is why halld refused a take: Code is kebab-case (the hall's error codes:
// "unknown-category", "numbers-exhausted", "invalid-request", ...).
type GivenError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Given is halld's answer to a take (R/ticket/given). OK: the number, committed at halld; not
// OK: Error says why, and the kiosk does not issue the ticket (nor from its lease: halld is up
// and said no).
type Given struct {
	ID     string      `json:"id"` // the take's id
	OK     bool        `json:"ok"`
	Day    string      `json:"day,omitempty"`
	Code   string      `json:"code,omitempty"`   // "A012"
	Number int         `json:"number,omitempty"` // 12
	Lookup string      `json:"lookup,omitempty"` // for {public_url}/t/{lookup}
	Ahead  int         `json:"ahead"`            // tickets served before it
	ETAS   int64       `json:"eta_s"`            // estimated wait, seconds
	Error  *GivenError `json:"error,omitempty"`
	TS     time.Time   `json:"ts"`
}

// Check returns a *MessageError unless g keeps the rules ParseGiven applies.
func (g Given) Check() error {
	bad := func(format string, args ...any) error { return malformed(KindGiven, g.ID, format, args...) }
	if !ValidID(g.ID) {
		return malformed(KindGiven, "", "id %q is not 32 hex characters", g.ID)
	}
	if !g.OK {
		if g.Error == nil || !reErr.MatchString(g.Error.Code) || !checkText(g.Error.Message, MaxMessageLen) {
			return bad("a refusal needs error.code (kebab-case) and a printable error.message")
		}
		return nil
	}
	if g.Error != nil {
		return bad("ok with an error")
	}
	if !ValidDay(g.Day) {
		return bad("day %q is not YYYY-MM-DD", g.Day)
	}
	_, n, ok := ParseTicketCode(g.Code)
	if !ok {
		return bad("code %q is not a letter and a number (A012)", g.Code)
	}
	if g.Number != n {
		return bad("number %d is not the code's %d", g.Number, n)
	}
	if !ValidLookup(g.Lookup) {
		return bad("lookup %q is not %d characters of %s", g.Lookup, LookupLen, LookupAlphabet)
	}
	if g.Ahead < 0 || g.ETAS < 0 {
		return bad("negative ahead or eta_s")
	}
	return nil
}

// ParseGiven decodes and checks a given. Errors are *MessageError.
func ParseGiven(b []byte) (Given, error) {
	var g Given
	if err := decodeStrict(KindGiven, b, &g); err != nil {
		err.(*MessageError).ID = readID(b)
		return Given{}, err
	}
	if err := g.Check(); err != nil {
		return Given{}, err
	}
	return g, nil
}

// Lease is every number halld has granted a kiosk and does not yet know used (R/lease,
// retained): day → category → numbers. A kiosk merges it into what it keeps: it adds the numbers
// it did not have and never makes a number it used unused again. A lease's numbers come from the
// top of the day's range downwards (999, 998, ...), and halld numbers no other ticket with them.
type Lease struct {
	Days map[string]map[string][]int `json:"days"`
	TS   time.Time                   `json:"ts"`
}

// Check returns a *MessageError unless l keeps the rules ParseLease applies.
func (l Lease) Check() error {
	if len(l.Days) > MaxLeaseDays {
		return malformed(KindLease, "", "%d days, at most %d", len(l.Days), MaxLeaseDays)
	}
	for day, cats := range l.Days {
		if !ValidDay(day) {
			return malformed(KindLease, "", "day %q is not YYYY-MM-DD", day)
		}
		if len(cats) > 26 {
			return malformed(KindLease, "", "%s: more than 26 categories", day)
		}
		for letter, ns := range cats {
			if !ValidLetter(letter) {
				return malformed(KindLease, "", "%s: category %q is not one letter A-Z", day, letter)
			}
			if len(ns) > MaxLeasePerCategory {
				return malformed(KindLease, "", "%s %s: %d numbers, at most %d", day, letter, len(ns), MaxLeasePerCategory)
			}
			seen := make(map[int]bool, len(ns))
			for _, n := range ns {
				if n < 1 || n > MaxTicketNumber || seen[n] {
					return malformed(KindLease, "", "%s %s: number %d out of 1..%d or repeated", day, letter, n, MaxTicketNumber)
				}
				seen[n] = true
			}
		}
	}
	return nil
}

// ParseLease decodes and checks a lease. An empty lease ({"days":{}} or no days) is valid: it
// grants nothing new and takes nothing back. Errors are *MessageError.
func ParseLease(b []byte) (Lease, error) {
	var l Lease
	if err := decodeStrict(KindLease, b, &l); err != nil {
		return Lease{}, err
	}
	if err := l.Check(); err != nil {
		return Lease{}, err
	}
	return l, nil
}

// Ack names events halld has committed (R/ack): the kiosk deletes them from its outbox. An id
// the kiosk does not hold (acknowledged before, or never its own) is ignored.
type Ack struct {
	IDs []string `json:"ids"`
}

// Check returns a *MessageError unless a keeps the rules ParseAck applies.
func (a Ack) Check() error {
	if len(a.IDs) == 0 || len(a.IDs) > MaxAckIDs {
		return malformed(KindAck, "", "%d ids, want 1 to %d", len(a.IDs), MaxAckIDs)
	}
	for _, id := range a.IDs {
		if !ValidID(id) {
			return malformed(KindAck, "", "id %q is not 32 hex characters", id)
		}
	}
	return nil
}

// ParseAck decodes and checks an ack: 1 to MaxAckIDs ids, each 32 hex. Errors are *MessageError.
func ParseAck(b []byte) (Ack, error) {
	var a Ack
	if err := decodeStrict(KindAck, b, &a); err != nil {
		return Ack{}, err
	}
	if err := a.Check(); err != nil {
		return Ack{}, err
	}
	return a, nil
}

// QueueCategory is one category's figures in QueueState: hall-api's /v1/queue categories.
type QueueCategory struct {
	Letter          string `json:"letter"`
	Waiting         int    `json:"waiting"`          // every waiting ticket, priority ones included
	WaitingPriority int    `json:"waiting_priority"` // of which green-channel
	LastCalled      string `json:"last_called"`      // "" before the day's first call
	AvgServiceS     int64  `json:"avg_service_s"`
	ETANextS        int64  `json:"eta_next_s"` // wait of a normal ticket taken now
}

// QueueState is the hall's live queue (H/controller/queue, retained, at most once a second).
// Kiosks show its figures while it is fresh (its TS recent) and their own otherwise.
type QueueState struct {
	Day        string          `json:"day"`
	TS         time.Time       `json:"ts"`
	Categories []QueueCategory `json:"categories"`
}

// Check returns a *MessageError unless q keeps the rules ParseQueueState applies.
func (q QueueState) Check() error {
	if !ValidDay(q.Day) {
		return malformed(KindQueue, "", "day %q is not YYYY-MM-DD", q.Day)
	}
	if q.TS.IsZero() {
		return malformed(KindQueue, "", "ts is missing")
	}
	if len(q.Categories) > 26 {
		return malformed(KindQueue, "", "more than 26 categories")
	}
	seen := map[string]bool{}
	for _, c := range q.Categories {
		if !ValidLetter(c.Letter) || seen[c.Letter] {
			return malformed(KindQueue, "", "category %q is not one letter A-Z, or repeated", c.Letter)
		}
		seen[c.Letter] = true
		if c.Waiting < 0 || c.WaitingPriority < 0 || c.WaitingPriority > c.Waiting || c.AvgServiceS < 0 || c.ETANextS < 0 {
			return malformed(KindQueue, "", "category %s: negative figures, or more priority than waiting", c.Letter)
		}
		// A transferred ticket keeps its code, so the last called need not be of this letter.
		if _, _, ok := ParseTicketCode(c.LastCalled); c.LastCalled != "" && !ok {
			return malformed(KindQueue, "", "category %s: last_called %q is not a ticket code", c.Letter, c.LastCalled)
		}
	}
	return nil
}

// Category returns the figures of letter, and whether the state has them.
func (q QueueState) Category(letter string) (QueueCategory, bool) {
	for _, c := range q.Categories {
		if c.Letter == letter {
			return c, true
		}
	}
	return QueueCategory{}, false
}

// ParseQueueState decodes and checks the hall's queue figures. Errors are *MessageError.
func ParseQueueState(b []byte) (QueueState, error) {
	var q QueueState
	if err := decodeStrict(KindQueue, b, &q); err != nil {
		return QueueState{}, err
	}
	if err := q.Check(); err != nil {
		return QueueState{}, err
	}
	return q, nil
}

// TicketIssued is the data of the ticket.issued and ticket.reprinted events (kiosk.TicketEvent
// is this type). It holds no personal data. The fields after EstimatedWaitS are additions of the
// hall's numbering, present only on a kiosk whose hall runs a controller:
//
//   - Take: the number was given by halld for that take (halld confirms the ticket);
//   - Lease: the number came from the kiosk's lease (halld inserts the ticket; Take is empty);
//   - Number, Lookup, IssuedAt: what halld needs to queue a lease ticket as it was printed;
//   - Abandoned: takes this kiosk gave up on (no answer in time): halld voids any number it
//     committed for them.
type TicketIssued struct {
	Ticket         string `json:"ticket"` // "A012"
	Day            string `json:"day"`    // local date of the number
	Category       string `json:"category"`
	Priority       bool   `json:"priority"`
	PriorityReason string `json:"priority_reason,omitempty"`
	Matter         string `json:"matter,omitempty"`
	Section        string `json:"section,omitempty"`
	WaitingAhead   int    `json:"waiting_ahead"`
	EstimatedWaitS int64  `json:"estimated_wait_s"`

	Take      string    `json:"take,omitempty"`
	Lease     bool      `json:"lease,omitempty"`
	Number    int       `json:"number,omitempty"`
	Lookup    string    `json:"lookup,omitempty"`
	IssuedAt  time.Time `json:"issued_at,omitzero"`
	Abandoned []string  `json:"abandoned,omitempty"`
}

// Check returns a *MessageError unless t keeps the rules ParseTicketIssued applies.
func (t TicketIssued) Check() error {
	bad := func(format string, args ...any) error {
		return malformed(EventTicketIssued, "", format, args...)
	}
	letter, n, ok := ParseTicketCode(t.Ticket)
	if !ok {
		return bad("ticket %q is not a letter and a number (A012)", t.Ticket)
	}
	if t.Category != letter {
		return bad("category %q is not the ticket's letter", t.Category)
	}
	if !ValidDay(t.Day) {
		return bad("day %q is not YYYY-MM-DD", t.Day)
	}
	if t.Priority && !ValidReason(t.PriorityReason) || !t.Priority && t.PriorityReason != "" {
		return bad("priority %v with reason %q", t.Priority, t.PriorityReason)
	}
	if !checkText(t.Matter, MaxTextLen) || !checkText(t.Section, MaxTextLen) {
		return bad("matter or section over %d bytes or not printable", MaxTextLen)
	}
	if t.WaitingAhead < 0 || t.EstimatedWaitS < 0 {
		return bad("negative waiting_ahead or estimated_wait_s")
	}
	if t.Take != "" && !ValidID(t.Take) {
		return bad("take %q is not 32 hex characters", t.Take)
	}
	if t.Take != "" && t.Lease {
		return bad("a ticket is either given (take) or leased, not both")
	}
	if t.Number != 0 && t.Number != n {
		return bad("number %d is not the ticket's %d", t.Number, n)
	}
	if t.Lookup != "" && !ValidLookup(t.Lookup) {
		return bad("lookup %q is not %d characters of %s", t.Lookup, LookupLen, LookupAlphabet)
	}
	if t.Lease && (t.Number == 0 || t.Lookup == "" || t.IssuedAt.IsZero()) {
		return bad("a lease ticket needs number, lookup and issued_at")
	}
	if len(t.Abandoned) > MaxAbandoned {
		return bad("%d abandoned takes, at most %d", len(t.Abandoned), MaxAbandoned)
	}
	for _, id := range t.Abandoned {
		if !ValidID(id) || id == t.Take {
			return bad("abandoned take %q is not 32 hex characters, or is the ticket's own take", id)
		}
	}
	return nil
}

// ParseTicketIssued decodes and checks the data of a ticket.issued (or ticket.reprinted) event.
// Errors are *MessageError.
func ParseTicketIssued(data []byte) (TicketIssued, error) {
	var t TicketIssued
	if err := decodeStrict(EventTicketIssued, data, &t); err != nil {
		return TicketIssued{}, err
	}
	if err := t.Check(); err != nil {
		return TicketIssued{}, err
	}
	return t, nil
}

// ParseEvent decodes an event envelope as halld reads it: id (32 hex, as kiosks make them), a
// type of 1 to 64 printable bytes, data a JSON object. The data is left to the type's parser
// (ParseTicketIssued). Errors are *MessageError, with the id when it could be read (so that a
// bad event can still be acknowledged and not re-sent for ever).
func ParseEvent(b []byte) (Event, error) {
	var e Event
	if err := decodeStrict(KindEvent, b, &e); err != nil {
		err.(*MessageError).ID = readID(b)
		return Event{}, err
	}
	if !ValidID(e.ID) {
		return Event{}, malformed(KindEvent, "", "id %q is not 32 hex characters", e.ID)
	}
	if e.Type == "" || len(e.Type) > 64 || !printable(e.Type) {
		return Event{}, malformed(KindEvent, e.ID, "type %q is not 1 to 64 printable bytes", e.Type)
	}
	if len(e.Data) == 0 || e.Data[0] != '{' {
		return Event{}, malformed(KindEvent, e.ID, "data is not a JSON object")
	}
	return e, nil
}
