package emulator

import (
	"io"
	"time"
)

// byteTime is how long a serial line at baud takes for one byte: 8N1 sends 10 bits.
func byteTime(baud int) time.Duration {
	return time.Duration(int64(10*time.Second) / int64(baud))
}

// pacer hands out the bytes read from r no earlier than a UART at the configured baud would
// have received them, so that a host on the other end of a pty sees the timing of a real
// line: its writes land in kernel buffers at once, but replies to its status requests come
// only after the bytes before them have crossed the "line".
//
// Reads are small (about 2 ms of line time), so a status request behind a long job is
// answered when the line would have carried it, not when a large read would have returned.
type pacer struct {
	r     io.Reader
	bt    time.Duration
	chunk int
	next  time.Time // when the line has carried every byte handed out so far
	now   func() time.Time
	sleep func(time.Duration)
}

// idleGap is how late a read of already-buffered bytes may come before the line is taken to
// have stalled (a paused printer, CTS low) rather than to have kept running while this
// goroutine was not scheduled.
const idleGap = 20 * time.Millisecond

func newPacer(r io.Reader, baud int) *pacer {
	bt := byteTime(baud)
	return &pacer{r: r, bt: bt, chunk: max(1, int(2*time.Millisecond/bt)), now: time.Now, sleep: time.Sleep}
}

func (p *pacer) Read(b []byte) (int, error) {
	if len(b) > p.chunk {
		b = b[:p.chunk]
	}
	called := p.now()
	n, err := p.r.Read(b)
	if n <= 0 {
		return n, err
	}
	now := p.now()
	var start time.Time
	if now.Sub(called) > 200*time.Microsecond {
		// The read waited: these bytes were sent just now, onto an idle line.
		start = later(p.next, now)
	} else {
		// They were waiting in the buffer: the line carried them right after the previous
		// ones, unless it had stalled for longer than scheduling delays explain.
		start = later(p.next, called.Add(-idleGap))
	}
	p.next = start.Add(time.Duration(n) * p.bt)
	if d := p.next.Sub(now); d > 0 {
		p.sleep(d)
	}
	return n, err
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
