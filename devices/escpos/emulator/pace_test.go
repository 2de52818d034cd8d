package emulator

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// The pacer holds bytes back for as long as the line would take to carry them.
func TestPacerTakesLineTime(t *testing.T) {
	for _, baud := range []int{9600, 115200} {
		data := bytes.Repeat([]byte{'x'}, 2000)
		p := newPacer(bytes.NewReader(data), baud)
		var slept time.Duration
		clock := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
		p.now = func() time.Time { return clock }
		p.wait = func(t time.Time) {
			if d := t.Sub(clock); d > 0 {
				slept += d
				clock = t
			}
		}
		got, err := io.ReadAll(p)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d baud: read %d bytes, %v", baud, len(got), err)
		}
		line := time.Duration(len(data)) * byteTime(baud)
		// Bytes already buffered on the first read may be credited up to idleGap.
		if slept > line || slept < line-idleGap-5*time.Millisecond {
			t.Errorf("%d baud: slept %v for %v of line time", baud, slept, line)
		}
		if want := max(1, int(8*time.Millisecond/byteTime(baud))); p.chunk != want {
			t.Errorf("%d baud: reads of %d bytes, want %d", baud, p.chunk, want)
		}
	}
}

func TestByteTime(t *testing.T) {
	for baud, want := range map[int]time.Duration{9600: 1041666 * time.Nanosecond, 115200: 86805 * time.Nanosecond} {
		if got := byteTime(baud); got != want {
			t.Errorf("byteTime(%d) = %v, want %v", baud, got, want)
		}
	}
}

// slowReader returns its bytes after advancing the clock, as a read that waited for the host.
type slowReader struct {
	advance func()
	data    []byte
}

func (r *slowReader) Read(b []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	r.advance()
	n := copy(b, r.data)
	r.data = r.data[n:]
	return n, nil
}

// Bytes that arrive on an idle line start their journey when they arrive: a request sent a
// second after the previous one gets no credit for the idle second.
func TestPacerIdleLine(t *testing.T) {
	clock := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	var slept time.Duration
	r := &slowReader{advance: func() { clock = clock.Add(time.Second) }, data: []byte{0x10, 0x04, 0x01}}
	p := newPacer(r, 9600)
	p.now = func() time.Time { return clock }
	p.wait = func(t time.Time) {
		if d := t.Sub(clock); d > 0 {
			slept += d
			clock = t
		}
	}
	if _, err := io.ReadAll(p); err != nil {
		t.Fatal(err)
	}
	if want := 3 * byteTime(9600); slept != want {
		t.Errorf("slept %v for a 3-byte request, want %v", slept, want)
	}
}

// waitUntil never returns early, for short (spun) and long (slept) waits.
func TestWaitUntil(t *testing.T) {
	for _, d := range []time.Duration{0, 100 * time.Microsecond, time.Millisecond, 5 * time.Millisecond} {
		target := time.Now().Add(d)
		waitUntil(target)
		if now := time.Now(); now.Before(target) {
			t.Errorf("waitUntil(+%v) returned %v early", d, target.Sub(now))
		}
	}
}
