package slip

import (
	"strings"
	"testing"

	"citizenhome/mask/masktest"
)

// A receipt, printed every way but on paper (package masktest), shows the card number masked
// only.
func TestReceiptMasked(t *testing.T) {
	r := sampleReceipt(true)
	masktest.Check(t, r, masktest.Number("card number", fullCard))
	for how, out := range masktest.Outputs(r) {
		if !strings.Contains(out, "3104********5678") && !strings.HasPrefix(how, "%.4s") && !strings.HasPrefix(how, "%10.3q") {
			t.Errorf("%s lacks the masked card: %q", how, out)
		}
	}
}
