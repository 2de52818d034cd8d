package wire

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Questions a kiosk asks halld (issue 18): additions to the contract, documented in
// docs/telemetry.md. What only halld knows, a kiosk asks while a citizen waits at its screen:
// whether a ticket was served (a kiosk refuses a 好差评 for a ticket no window has finished) and
// what became of a complaint (its state and the hall's answer, by the slip's number). One pair
// of topics carries every question, so that a new question needs no new ACL line.
//
//	R/ask      kiosk → halld   not retained   Ask
//	R/answer   halld → kiosk   not retained   Answer
//
// halld answers each ask once, under its id; it does not answer an ask it cannot parse (the
// kiosk gives up at its own deadline, as it would with halld down). A kiosk that gets no answer
// carries on with what it knows: halld is the judge again when the rating arrives by the outbox.
// The parsers are as strict as the numbering's (*MessageError, errors.Is(err, ErrMalformed)).
// Neither message holds personal data: a ticket code, a complaint's slip number and the hall's
// answer to it (hall/followup refuses an answer that looks like a phone or an ID number).

// Topic kinds of the questions under a kiosk's root.
const (
	KindAsk    = "ask"    // kiosk → halld: Ask
	KindAnswer = "answer" // halld → kiosk: Answer
)

// AskFilter is halld's subscription to every kiosk's questions: "citizenhome/v1/{hall}/+/ask".
func AskFilter(hall string) string { return Prefix + "/" + hall + "/+/" + KindAsk }

// Limits of the questions.
const (
	// MaxAnswerLen bounds the hall's answer to a complaint, in bytes (hall/followup keeps
	// notes of up to 2000 characters).
	MaxAnswerLen = 8000
	// ComplaintNumberLen is the length of a complaint's slip number: "TS", the day YYYYMMDD and
	// six characters of LookupAlphabet (kiosk/civic).
	ComplaintNumberLen = 16
)

var reComplaint = regexp.MustCompile(`^TS[0-9]{8}[0-9A-HJKMNP-TV-Z]{6}$`)

// ValidComplaintNumber reports whether s is a complaint's slip number in its normal form
// ("TS20261207" + six of LookupAlphabet; upper case, no spaces).
func ValidComplaintNumber(s string) bool {
	if !reComplaint.MatchString(s) {
		return false
	}
	_, err := time.Parse("20060102", s[2:10])
	return err == nil
}

// Ask is one question of a kiosk to halld (R/ask). Exactly one of Served and Complaint is set.
type Ask struct {
	ID string `json:"id"` // 32 hex; the Answer's id
	// Served asks whether a ticket of a day was served, and at which window.
	Served *AskServed `json:"served,omitempty"`
	// Complaint asks for the state of the complaint with this slip number and the hall's answer.
	Complaint string    `json:"complaint,omitempty"`
	TS        time.Time `json:"ts"`
}

// AskServed names a ticket: its day (the kiosk's local YYYY-MM-DD) and code ("A012").
type AskServed struct {
	Day    string `json:"day"`
	Ticket string `json:"ticket"`
}

// Check returns a *MessageError unless a keeps the rules ParseAsk applies.
func (a Ask) Check() error {
	bad := func(format string, args ...any) error { return malformed(KindAsk, a.ID, format, args...) }
	if !ValidID(a.ID) {
		return malformed(KindAsk, "", "id %q is not 32 hex characters", a.ID)
	}
	switch {
	case a.Served != nil && a.Complaint != "":
		return bad("served and complaint both asked; one question per ask")
	case a.Served != nil:
		if !ValidDay(a.Served.Day) {
			return bad("served.day %q is not YYYY-MM-DD", a.Served.Day)
		}
		if _, _, ok := ParseTicketCode(a.Served.Ticket); !ok {
			return bad("served.ticket %q is not a letter and a number (A012)", a.Served.Ticket)
		}
	case a.Complaint != "":
		if !ValidComplaintNumber(a.Complaint) {
			return bad("complaint %q is not a slip number (TS, YYYYMMDD, six of %s)", a.Complaint, LookupAlphabet)
		}
	default:
		return bad("nothing asked (served or complaint)")
	}
	return nil
}

// ParseAsk decodes and checks an ask. Errors are *MessageError, with the id when it could be
// read: halld answers such an ask with an error rather than silence.
func ParseAsk(b []byte) (Ask, error) {
	var a Ask
	if err := decodeStrict(KindAsk, b, &a); err != nil {
		err.(*MessageError).ID = readID(b)
		return Ask{}, err
	}
	if err := a.Check(); err != nil {
		return Ask{}, err
	}
	return a, nil
}

// Answer is halld's answer to an ask (R/answer), under the ask's id: Served for a Served ask,
// Complaint for a Complaint ask, or Error when halld has no answer. Error codes: "not-found" (no
// such ticket that day, no such complaint), "invalid-request" (a malformed ask), "unavailable"
// (halld's records failed: ask again later).
type Answer struct {
	ID        string          `json:"id"`
	Served    *Served         `json:"served,omitempty"`
	Complaint *ComplaintReply `json:"complaint,omitempty"`
	Error     *GivenError     `json:"error,omitempty"`
	TS        time.Time       `json:"ts"`
}

// Answer error codes.
const (
	AnswerNotFound    = "not-found"
	AnswerInvalid     = "invalid-request"
	AnswerUnavailable = "unavailable"
)

// Served says whether a window has finished a ticket. Served false: the ticket is waiting,
// called, being served or was a no-show. Window is the window of its last call when served.
type Served struct {
	Served bool      `json:"served"`
	Window string    `json:"window,omitempty"`
	Ended  time.Time `json:"ended,omitzero"`
}

// ComplaintReply is what a complaint's citizen may read of it: no phone, no accounts, no notes
// but the answer. State is hall/followup's: "accepted" 受理, "handling" 处理, "answered" 答复.
type ComplaintReply struct {
	Number   string    `json:"number"`
	Category string    `json:"category,omitempty"`
	State    string    `json:"state"`
	Opened   time.Time `json:"opened"`
	Due      time.Time `json:"due,omitzero"`
	Answered time.Time `json:"answered,omitzero"` // zero until answered
	Answer   string    `json:"answer,omitempty"`  // the hall's answer; "" until answered
}

// answerText reports whether s may be an answer: valid UTF-8 of at most MaxAnswerLen bytes,
// with line breaks and tabs but no other control character.
func answerText(s string) bool {
	return len(s) <= MaxAnswerLen && utf8.ValidString(s) &&
		!strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' })
}

// Check returns a *MessageError unless a keeps the rules ParseAnswer applies.
func (a Answer) Check() error {
	bad := func(format string, args ...any) error { return malformed(KindAnswer, a.ID, format, args...) }
	if !ValidID(a.ID) {
		return malformed(KindAnswer, "", "id %q is not 32 hex characters", a.ID)
	}
	n := 0
	for _, set := range []bool{a.Served != nil, a.Complaint != nil, a.Error != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return bad("an answer holds exactly one of served, complaint and error (has %d)", n)
	}
	switch {
	case a.Error != nil:
		if !reErr.MatchString(a.Error.Code) || !checkText(a.Error.Message, MaxMessageLen) {
			return bad("an error needs code (kebab-case) and a printable message")
		}
	case a.Served != nil:
		if a.Served.Served && !checkText(a.Served.Window, MaxTextLen) {
			return bad("served.window over %d bytes or not printable", MaxTextLen)
		}
		if !a.Served.Served && (a.Served.Window != "" || !a.Served.Ended.IsZero()) {
			return bad("a ticket not served has no window and no end")
		}
	default:
		c := a.Complaint
		if !ValidComplaintNumber(c.Number) {
			return bad("complaint.number %q is not a slip number", c.Number)
		}
		if !reReason.MatchString(c.State) || !checkText(c.Category, MaxTextLen) {
			return bad("complaint.state %q or category not a code", c.State)
		}
		if c.Opened.IsZero() {
			return bad("complaint.opened is missing")
		}
		if !answerText(c.Answer) {
			return bad("complaint.answer over %d bytes or not text", MaxAnswerLen)
		}
		if (c.Answer != "") != !c.Answered.IsZero() {
			return bad("complaint.answer and complaint.answered come together")
		}
	}
	return nil
}

// ParseAnswer decodes and checks an answer. Errors are *MessageError.
func ParseAnswer(b []byte) (Answer, error) {
	var a Answer
	if err := decodeStrict(KindAnswer, b, &a); err != nil {
		err.(*MessageError).ID = readID(b)
		return Answer{}, err
	}
	if err := a.Check(); err != nil {
		return Answer{}, err
	}
	return a, nil
}

// String is a line for the logs: the question, never the answer's text.
func (a Ask) String() string {
	if a.Served != nil {
		return fmt.Sprintf("served %s %s", a.Served.Day, a.Served.Ticket)
	}
	return "complaint " + a.Complaint
}
