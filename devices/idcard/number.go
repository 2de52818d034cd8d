package idcard

import (
	"errors"
	"fmt"
	"time"
)

// Errors of an ID number. They never quote the number: errors end up in logs.
var (
	// ErrNumberFormat: not 17 digits followed by a digit or 'X'.
	ErrNumberFormat = errors.New("idcard: ID number is not 17 digits and a check character")
	// ErrCheckDigit: the 18th character is not the GB 11643 check character of the first 17.
	ErrCheckDigit = errors.New("idcard: ID number check digit is wrong")
)

var checkWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const checkChars = "10X98765432"

// CheckDigit computes the GB 11643 check character ('0'-'9' or 'X') of the first 17 digits of
// an ID number; first17 may be the whole 18-character number (the 18th is ignored).
// Anything but 17 leading ASCII digits is ErrNumberFormat.
func CheckDigit(first17 string) (byte, error) {
	if len(first17) < 17 {
		return 0, ErrNumberFormat
	}
	sum := 0
	for i, w := range checkWeights {
		c := first17[i]
		if !isDigit(c) {
			return 0, ErrNumberFormat
		}
		sum += int(c-'0') * w
	}
	return checkChars[sum%11], nil
}

// ValidateNumber checks an 18-character ID number (resident card, HMT residence permit):
// 17 digits, then the GB 11643 check character. Only an upper-case 'X' is accepted, as the
// card stores it. A 15-digit first-generation number is ErrNumberFormat.
func ValidateNumber(number string) error {
	if len(number) != 18 {
		return ErrNumberFormat
	}
	want, err := CheckDigit(number)
	if err != nil {
		return err
	}
	last := number[17]
	if !isDigit(last) && last != 'X' {
		return ErrNumberFormat
	}
	if last != want {
		return ErrCheckDigit
	}
	return nil
}

// numberBirth gives the birth date coded in digits 7-14 of an 18-character ID number.
func numberBirth(number string) (time.Time, error) {
	if len(number) != 18 {
		return time.Time{}, ErrNumberFormat
	}
	return parseDate(number[6:14])
}

// parseDate reads YYYYMMDD and rejects impossible days (20230230) and years before 1850.
func parseDate(s string) (time.Time, error) {
	if len(s) != 8 {
		return time.Time{}, fmt.Errorf("not YYYYMMDD")
	}
	for i := 0; i < 8; i++ {
		if !isDigit(s[i]) {
			return time.Time{}, fmt.Errorf("not YYYYMMDD")
		}
	}
	t, err := time.Parse("20060102", s)
	if err != nil || t.Year() < 1850 {
		return time.Time{}, fmt.Errorf("not a calendar day")
	}
	return t, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
