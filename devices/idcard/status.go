package idcard

import "fmt"

// Status is the SW3 byte of a SAM reply. Every value but StatusOK and StatusFound is an error
// in itself: compare with errors.Is(err, ErrNoCard), or get the code with errors.As.
// Status values are comparable, so a wrapped Status matches its constant under errors.Is.
type Status byte

// Success codes; a reply carrying one of these is not an error.
const (
	StatusOK    Status = 0x90 // operation succeeded
	StatusFound Status = 0x9F // find card: a card is in the field
)

// Error codes of the SAM (GA 467 family). ErrNoCard is the one a poll sees most: no card in
// the field. ErrCommandChecksum and ErrCommandLength mean the SAM rejected the frame we sent.
const (
	ErrNoItem           Status = 0x91 // the item is not on the card (no fingerprint, no appended address)
	ErrNoCard           Status = 0x80 // find failed: no card in the field
	ErrSelectFailed     Status = 0x81 // select failed
	ErrReadFailed       Status = 0x41 // reading the card failed (moved away mid-read)
	ErrUnknownCardType  Status = 0x40 // the card is not an ID card
	ErrCommandChecksum  Status = 0x10 // the SAM found a bad checksum in our command
	ErrCommandLength    Status = 0x11 // the SAM found a bad length in our command
	ErrBadCommand       Status = 0x21 // unknown command
	ErrUnauthorized     Status = 0x23 // operation not authorised
	ErrUnknown          Status = 0x24 // unknown error
	ErrCardAuth         Status = 0x31 // card authenticating the SAM failed
	ErrSAMAuth          Status = 0x32 // SAM authenticating the card failed
	ErrVerify           Status = 0x33 // information verification failed
	ErrFingerprint      Status = 0x37 // fingerprint error
	ErrInfoLength       Status = 0x3F // information length error
	ErrRandom           Status = 0x47 // getting a random number failed
	ErrSelfTest         Status = 0x60 // SAM self-test failed
	ErrSAMNotAuthorized Status = 0x66 // SAM not authorised
)

var statusMeaning = map[Status]string{
	StatusOK:            "OK",
	StatusFound:         "card found",
	ErrNoItem:           "item not on card",
	ErrNoCard:           "no card (find failed)",
	ErrSelectFailed:     "select failed",
	ErrReadFailed:       "read failed",
	ErrUnknownCardType:  "unknown card type",
	ErrCommandChecksum:  "checksum error in command",
	ErrCommandLength:    "length error in command",
	ErrBadCommand:       "bad command",
	ErrUnauthorized:     "unauthorised operation",
	ErrUnknown:          "unknown error",
	ErrCardAuth:         "card-SAM authentication failed (card)",
	ErrSAMAuth:          "card-SAM authentication failed (SAM)",
	ErrVerify:           "verification failed",
	ErrFingerprint:      "fingerprint error",
	ErrInfoLength:       "information length error",
	ErrRandom:           "random number failed",
	ErrSelfTest:         "SAM self-test failed",
	ErrSAMNotAuthorized: "SAM not authorised",
}

// Meaning gives a short English description; "unknown status" for a code the table lacks.
func (s Status) Meaning() string {
	if m, ok := statusMeaning[s]; ok {
		return m
	}
	return "unknown status"
}

// Error gives "idcard: SAM status 0x80: no card (find failed)".
func (s Status) Error() string {
	return fmt.Sprintf("idcard: SAM status 0x%02X: %s", byte(s), s.Meaning())
}

// OK tells whether s is a success code (StatusOK or StatusFound).
func (s Status) OK() bool { return s == StatusOK || s == StatusFound }
