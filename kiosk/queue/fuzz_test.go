package queue

import "testing"

// FuzzParseCode feeds ticket codes as a hall system or a remote "reprint" command might send
// them: parseCode must never panic, and what it accepts must be a real code that round-trips.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"A001", "a1", " B012 ", "Z9999", "A10000", "A0", "A-1", "A+1", "", "1A", "甲001", "A 01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		letter, n, err := parseCode(s)
		if err != nil {
			if letter != "" || n != 0 {
				t.Fatalf("error with a result: %q %d", letter, n)
			}
			return
		}
		if !isLetter(letter) || n < 1 || n > MaxNumber {
			t.Fatalf("parseCode(%q) = %q %d", s, letter, n)
		}
		l2, n2, err := parseCode(code(letter, n))
		if err != nil || l2 != letter || n2 != n {
			t.Fatalf("round trip of %q: %q %d %v", s, l2, n2, err)
		}
	})
}
