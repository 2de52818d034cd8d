package followup

import (
	"regexp"
	"strings"
)

// A complaint's answer is shown to whoever holds the slip's number (on the kiosk and the public
// complaint page), so it must name nobody: personalData refuses the three things a manager is
// most likely to copy into it from the case, a mobile number, a fixed-line number with its area
// code and an ID card number. Digits may be full-width and grouped by spaces or dashes, as
// people write them; a digit run is judged whole, so a longer number (an amount, a reference) or
// a shorter one (a date like 20261207, the 12345 hotline, a ticket A012) is not taken for one.
var personalPatterns = []struct {
	re       *regexp.Regexp
	zh, what string
}{
	// 18 characters: 17 digits and a digit or X (GB 11643), grouped or not.
	{regexp.MustCompile(`(?:^|[^0-9])[0-9](?:` + sep + `[0-9]){16}` + sep + `[0-9X](?:$|[^0-9])`), "身份证号", "an ID number"},
	// 1[3-9] and nine digits, after +86 or not.
	{regexp.MustCompile(`(?:^|[^0-9])(?:\+?86` + sep + `)?1` + sep + `[3-9](?:` + sep + `[0-9]){9}(?:$|[^0-9])`), "手机号", "a mobile number"},
	// An area code (0 and two or three digits, in brackets or not) and a local number of 7 or 8
	// digits, which never starts with 0 or 1.
	{regexp.MustCompile(`(?:^|[^0-9])\(?0[1-9][0-9]{1,2}\)?` + sep + `[2-9](?:` + sep + `[0-9]){6,7}(?:$|[^0-9])`), "带区号的电话号码", "a phone number with its area code"},
}

// sep is what may stand between two digits of one number: up to three spaces or dashes.
const sep = `[ -]{0,3}`

// foldDigits writes full-width digits, X, brackets, dashes and spaces as their ASCII forms,
// and a lower-case x as X.
var foldDigits = strings.NewReplacer(
	"０", "0", "１", "1", "２", "2", "３", "3", "４", "4", "５", "5", "６", "6", "７", "7", "８", "8", "９", "9",
	"Ｘ", "X", "ｘ", "X", "x", "X", "（", "(", "）", ")", "－", "-", "—", "-", "–", "-", "‐", "-", "‑", "-",
	"\u3000", " ", "\u00a0", " ", "\t", " ")

// personalData returns an *Error with CodePersonalData when note looks like it holds personal
// data, naming the kind found (never the data); nil otherwise.
func personalData(note string) error {
	folded := foldDigits.Replace(note)
	for _, p := range personalPatterns {
		if p.re.MatchString(folded) {
			return errf(CodePersonalData, "答复会向持回执号的群众公开显示，不能含%s等个人信息，请删去后再提交。 "+
				"The answer is shown publicly to the slip's holder and must hold no personal data: it looks like it holds %s.", p.zh, p.what)
		}
	}
	return nil
}
