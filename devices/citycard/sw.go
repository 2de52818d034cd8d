package citycard

import (
	"errors"
	"fmt"
)

// SW is an ISO 7816 status word (SW1 << 8 | SW2). Every SW but SWOK is an error in itself:
// compare with errors.Is(err, ErrFileNotFound), or get the word with errors.As.
// ErrVerifyFailed matches the whole 63Cx family; TriesLeft gives x.
type SW uint16

// SWOK is the normal ending, 90 00.
const SWOK SW = 0x9000

// Status words a city card answers (JR/T 0025 and ISO 7816-4).
const (
	ErrAppLocked           SW = 0x9303 // application locked (permanently)
	ErrMACInvalid          SW = 0x9302 // MAC invalid
	ErrInsufficientBalance SW = 0x9401 // insufficient balance
	ErrKeyNotFound         SW = 0x9403 // key index not supported
	ErrProofUnavailable    SW = 0x9406 // GET TRANSACTION PROVE: no MAC/TAC for that serial
	ErrFileNotFound        SW = 0x6A82 // file or application not found
	ErrRecordNotFound      SW = 0x6A83 // record not found (the end of a log)
	ErrFunctionUnsupported SW = 0x6A81 // function not supported
	ErrWrongData           SW = 0x6A80 // incorrect data field
	ErrSecurityStatus      SW = 0x6982 // security status not satisfied
	ErrKeyLocked           SW = 0x6983 // authentication key locked
	ErrConditions          SW = 0x6985 // conditions of use not satisfied
	ErrWrongLength         SW = 0x6700 // wrong length (Lc or Le)
	ErrWrongP1P2           SW = 0x6B00 // wrong P1 P2 (offset or SFI)
	ErrINSUnsupported      SW = 0x6D00 // instruction not supported
	ErrCLAUnsupported      SW = 0x6E00 // class not supported
	ErrNoDiagnosis         SW = 0x6F00 // no precise diagnosis
	// ErrVerifyFailed is 63 C0; errors.Is matches any 63 Cx (x tries left).
	ErrVerifyFailed SW = 0x63C0
)

var swMeaning = map[SW]string{
	SWOK:                   "OK",
	ErrAppLocked:           "application locked",
	ErrMACInvalid:          "MAC invalid",
	ErrInsufficientBalance: "insufficient balance",
	ErrKeyNotFound:         "key not found",
	ErrProofUnavailable:    "MAC/TAC not available",
	ErrFileNotFound:        "file not found",
	ErrRecordNotFound:      "record not found",
	ErrFunctionUnsupported: "function not supported",
	ErrWrongData:           "incorrect data",
	ErrSecurityStatus:      "security status not satisfied",
	ErrKeyLocked:           "key locked",
	ErrConditions:          "conditions of use not satisfied",
	ErrWrongLength:         "wrong length",
	ErrWrongP1P2:           "wrong P1 P2",
	ErrINSUnsupported:      "instruction not supported",
	ErrCLAUnsupported:      "class not supported",
	ErrNoDiagnosis:         "no precise diagnosis",
}

// Meaning gives a short English description; "unknown status word" for one the table lacks.
func (s SW) Meaning() string {
	if m, ok := swMeaning[s]; ok {
		return m
	}
	switch s >> 8 {
	case 0x61:
		return fmt.Sprintf("%d more bytes available", s&0xFF)
	case 0x6C:
		return fmt.Sprintf("wrong Le, %d expected", s&0xFF)
	}
	if n, ok := s.TriesLeft(); ok {
		return fmt.Sprintf("verification failed, %d tries left", n)
	}
	return "unknown status word"
}

// Error gives "citycard: status word 6A82: file not found".
func (s SW) Error() string {
	return fmt.Sprintf("citycard: status word %04X: %s", uint16(s), s.Meaning())
}

// Is lets errors.Is(err, ErrVerifyFailed) match every 63 Cx.
func (s SW) Is(target error) bool {
	t, ok := target.(SW)
	return ok && (t == s || (t == ErrVerifyFailed && s&0xFFF0 == 0x63C0))
}

// TriesLeft gives x of a 63 Cx status word; false for any other word.
func (s SW) TriesLeft() (int, bool) {
	if s&0xFFF0 != 0x63C0 {
		return 0, false
	}
	return int(s & 0x0F), true
}

// ErrNoResponse: the card answered with fewer than 2 bytes. A PC/SC reader (vpcd) does this
// for the command in flight when the card leaves the field; the next command then fails.
var ErrNoResponse = errors.New("citycard: response without status word (card left the field?)")

// ErrMalformed: the card's data do not have the expected length or format (bad BCD, an
// impossible date). Wrapped with what was being read.
var ErrMalformed = errors.New("citycard: malformed card data")

// ErrNoApplication: none of the purse applications could be selected. The error also wraps
// each application's status word, so errors.Is(err, ErrAppLocked) tells a locked purse.
var ErrNoApplication = errors.New("citycard: no purse application on the card")
