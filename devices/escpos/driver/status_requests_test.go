package driver

import "testing"

// scanner is a printer's receive-time scanner for DLE EOT n, byte by byte (as the emulator
// and real firmware do it): the reference statusRequests must agree with.
func scanner(b []byte) int {
	count, state := 0, 0
	for _, c := range b {
		switch {
		case state == 2 && c >= 1 && c <= 4:
			count, state = count+1, 0
		case c == 0x10:
			state = 1
		case state == 1 && c == 0x04:
			state = 2
		default:
			state = 0
		}
	}
	return count
}

func TestStatusRequests(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want int
	}{
		{nil, 0},
		{[]byte{0x10, 0x04}, 0},
		{[]byte{0x10, 0x04, 0x01}, 1},
		{[]byte{0x10, 0x04, 0x05}, 0},
		{[]byte{0x10, 0x10, 0x04, 0x04}, 1},
		{[]byte{0x10, 0x04, 0x10, 0x04, 0x02}, 1},
		{statusRequests4, 4},
		{[]byte{0x1D, 'v', '0', 0, 3, 0, 1, 0, 0x10, 0x04, 0x01}, 1}, // inside image data
	} {
		if got := statusRequests(tc.in); got != tc.want || scanner(tc.in) != tc.want {
			t.Errorf("statusRequests(% X) = %d (scanner %d), want %d", tc.in, got, scanner(tc.in), tc.want)
		}
	}
}

// FuzzStatusRequests: the driver counts exactly the requests a printer's scanner sees in a job,
// so it knows how many stray replies to expect.
func FuzzStatusRequests(f *testing.F) {
	for _, seed := range [][]byte{{0x10, 0x04, 0x01}, {0x10, 0x10, 0x04, 0x04}, {0x10, 0x04, 0x10, 0x04, 0x02}, statusRequests4, {}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := statusRequests(b), scanner(b); got != want {
			t.Fatalf("statusRequests(% X) = %d, scanner %d", b, got, want)
		}
	})
}
