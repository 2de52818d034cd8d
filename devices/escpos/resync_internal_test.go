package escpos

import "testing"

func TestResyncLen(t *testing.T) {
	spans := []span{{10, 110}, {200, 230}}
	for _, tc := range []struct {
		name   string
		lo, hi int
		want   int
	}{
		{"nothing sent", 0, 0, 0},
		{"stopped between commands", 5, 5, 4},
		{"stopped at a span start", 10, 10, 4},
		{"inside an image", 50, 50, 60},
		{"at a span end", 110, 110, 4},
		{"unknown range covering a span start", 0, 64, 110},
		{"unknown range over two spans", 100, 210, 130},
		{"just after the second span", 230, 250, 4},
	} {
		if got := resyncLen(spans, tc.lo, tc.hi); got != tc.want {
			t.Errorf("%s: resyncLen(%d, %d) = %d, want %d", tc.name, tc.lo, tc.hi, got, tc.want)
		}
	}
}
