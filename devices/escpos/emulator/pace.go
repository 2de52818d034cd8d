package emulator

import (
	"io"
	"runtime"
	"time"
)

// byteTime is how long a serial line at baud takes for one byte: 8N1 sends 10 bits.
func byteTime(baud int) time.Duration {
	return time.Duration(int64(10*time.Second) / int64(baud))
}

// spinBelow: waits shorter than this are spun rather than slept. The OS may wake a sleeper a
// millisecond late (it does on virtual machines), which at 115200 baud is eleven bytes: a
// status round trip would take several times its line time and the timing would be the
// emulator's, not the line's. Longer waits sleep most of the way and spin the rest.
const spinBelow = 1500 * time.Microsecond

// waitUntil returns at t, sleeping while far from it and yielding the processor near it.
func waitUntil(t time.Time) {
	for {
		d := time.Until(t)
		switch {
		case d <= 0:
			return
		case d > spinBelow:
			time.Sleep(d - spinBelow)
		default:
			runtime.Gosched()
		}
	}
}

// pacer hands out the bytes read from r no earlier than a UART at the configured baud would
// have received them, so that a host on the other end of a pty sees the timing of a real
// line: its writes land in kernel buffers at once, but replies to its status requests come
// only after the bytes before them have crossed the "line".
//
// A read takes at most about 8 ms of line time, so a status request is answered within that
// of when the line would have carried it, and the sleeps between reads are long enough to
// spin little.
type pacer struct {
	r     io.Reader
	bt    time.Duration
	chunk int
	next  time.Time // when the line has carried every byte handed out so far
	now   func() time.Time
	wait  func(time.Time)
}

// idleGap is how late a read of already-buffered bytes may come before the line is taken to
// have stalled (a paused printer, CTS low) rather than to have kept running while this
// goroutine was not scheduled.
const idleGap = 20 * time.Millisecond

func newPacer(r io.Reader, baud int) *pacer {
	bt := byteTime(baud)
	return &pacer{r: r, bt: bt, chunk: max(1, int(8*time.Millisecond/bt)), now: time.Now, wait: waitUntil}
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
	p.wait(p.next)
	return n, err
}

// replyLine paces the printer's replies: one byte time each, back to back.
type replyLine struct {
	bt   time.Duration
	next time.Time
}

// send waits until a byte queued now has crossed the line.
func (l *replyLine) send() {
	if l.bt <= 0 {
		return
	}
	l.next = later(l.next, time.Now()).Add(l.bt)
	waitUntil(l.next)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
