package localapi

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The packages hand the token to the window applications through a group (mode 0640); any
// other access by group or others is refused, whatever the file holds.
func TestLoadTokenModes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "api.token")
	const tok = "0123456789abcdef0123456789abcdef"
	if err := os.WriteFile(p, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o600, true},
		{0o400, true},
		{0o640, true},
		{0o440, true},
		{0o660, false}, // the group could replace the token
		{0o650, false},
		{0o604, false},
		{0o644, false},
		{0o602, false},
		{0o601, false},
	} {
		if err := os.Chmod(p, c.mode); err != nil {
			t.Fatal(err)
		}
		got, err := LoadToken(p)
		switch {
		case c.ok && (err != nil || got != tok):
			t.Errorf("mode %04o: %q, %v; want the token", c.mode, got, err)
		case !c.ok && err == nil:
			t.Errorf("mode %04o accepted", c.mode)
		case !c.ok && !strings.Contains(err.Error(), "chmod 640"):
			t.Errorf("mode %04o: %v does not say what to do", c.mode, err)
		}
	}
}
