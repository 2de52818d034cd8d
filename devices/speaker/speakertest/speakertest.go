// Package speakertest captures what a speaker really plays: ALSA's file plugin writes the
// output of aplay, as a WAV stream, into a FIFO that a Capture reads, sound by sound, noting
// when each one's header (ALSA opened) and first samples arrived.
package speakertest

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"citizenhome/devices/speaker"
)

// NeedPlayer skips t when aplay is not installed, or fails it under CI=true, where
// scripts/deps.sh test has installed alsa-utils.
func NeedPlayer(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("aplay"); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("aplay not installed (CI=true: run scripts/deps.sh test)")
	}
	t.Skip("aplay not installed; skipped (scripts/deps.sh test installs alsa-utils)")
}

// Sound is one sound as ALSA wrote it.
type Sound struct {
	Rate     int
	Channels int
	Bits     int
	Data     []byte    // the sample bytes as written (ALSA pads the last period with silence)
	Opened   time.Time // when the WAV header arrived: ALSA had opened and set up the device
	First    time.Time // when the first sample bytes arrived; zero when none did
}

// Samples are Data as 16-bit samples (little-endian).
func (s Sound) Samples() []int16 {
	out := make([]int16, len(s.Data)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(s.Data[2*i:]))
	}
	return out
}

// Capture reads the sounds ALSA writes to its FIFO.
type Capture struct {
	fifo string
	done chan struct{}

	mu     sync.Mutex
	sounds []Sound // ended (their writer closed the FIFO or the next one began)
	cur    *Sound  // the sound being written
	buf    []byte  // bytes of cur not yet parsed
	closed bool
}

// New makes a FIFO in a temporary folder and reads it until t ends. It calls NeedPlayer first.
func New(t testing.TB) *Capture {
	t.Helper()
	NeedPlayer(t)
	c := &Capture{fifo: filepath.Join(t.TempDir(), "out.wav"), done: make(chan struct{})}
	if err := syscall.Mkfifo(c.fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go c.read()
	t.Cleanup(c.close)
	return c
}

// Device is the ALSA PCM that writes into the capture (for speaker.Options.Device).
func (c *Capture) Device() string { return "file:FILE=" + c.fifo + ",FORMAT=wav" }

// FIFO is the FIFO's path.
func (c *Capture) FIFO() string { return c.fifo }

func (c *Capture) read() {
	defer close(c.done)
	b := make([]byte, 64<<10)
	for {
		f, err := os.Open(c.fifo) // blocks until a writer opens it
		if err != nil {
			return
		}
		for {
			n, err := f.Read(b)
			if n > 0 {
				c.take(b[:n], time.Now())
			}
			if err != nil {
				break
			}
		}
		f.Close()
		c.mu.Lock()
		c.end()
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return
		}
	}
}

var riff = []byte("RIFF")

// take parses bytes read at t: a WAV header starts a sound (and ends the one before, when a new
// writer opened the FIFO before the reader saw the old one close); the rest are its samples.
func (c *Capture) take(b []byte, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, b...)
	for len(c.buf) > 0 {
		if c.cur == nil {
			if len(c.buf) < 44 {
				return
			}
			if !bytes.Equal(c.buf[:4], riff) || string(c.buf[8:16]) != "WAVEfmt " {
				c.buf = nil // not ALSA's header: dropped, so a test sees no sound
				return
			}
			c.cur = &Sound{Channels: int(binary.LittleEndian.Uint16(c.buf[22:])), Rate: int(binary.LittleEndian.Uint32(c.buf[24:])),
				Bits: int(binary.LittleEndian.Uint16(c.buf[34:])), Opened: t}
			c.buf = c.buf[44:]
			continue
		}
		// A new header inside the data, at a frame boundary: the next sound.
		cut := len(c.buf)
		for i := 0; i+16 <= len(c.buf); i += 2 {
			if (len(c.cur.Data)+i)%2 == 0 && bytes.Equal(c.buf[i:i+4], riff) && string(c.buf[i+8:i+16]) == "WAVEfmt " {
				cut = i
				break
			}
		}
		if cut > 0 && c.cur.First.IsZero() {
			c.cur.First = t
		}
		c.cur.Data = append(c.cur.Data, c.buf[:cut]...)
		c.buf = c.buf[cut:]
		if len(c.buf) > 0 {
			c.end()
		}
	}
}

// end closes the sound being written; the caller locks.
func (c *Capture) end() {
	if c.cur != nil {
		c.sounds = append(c.sounds, *c.cur)
		c.cur = nil
	}
}

// Sounds are the sounds ended so far, oldest first.
func (c *Capture) Sounds() []Sound {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Sound(nil), c.sounds...)
}

// Playing reports whether a sound is being written: its header has arrived, its writer has not
// closed the FIFO. bytes is how many bytes of it have arrived.
func (c *Capture) Playing() (playing bool, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return false, 0
	}
	return true, len(c.cur.Data)
}

// Wait polls until n sounds have ended and returns them, failing t after timeout.
func (c *Capture) Wait(t testing.TB, n int, timeout time.Duration) []Sound {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if s := c.Sounds(); len(s) >= n {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sounds captured after %v, want %d", len(c.Sounds()), timeout, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Floor is the floor of any sound played with aplay, for benchmarks to compare with: aplay
// started on an empty sound until ALSA has opened the capture. It waits for that sound, the
// capture's next.
func (c *Capture) Floor(t testing.TB) time.Duration {
	t.Helper()
	n := len(c.Sounds()) + 1
	t0 := time.Now()
	if out, err := exec.Command("aplay", "-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", "22050", "-D", c.Device(), "/dev/null").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return c.Wait(t, n, 5*time.Second)[n-1].Opened.Sub(t0)
}

// Started is the speaker as a caller that starts sounds and never waits on them sees it
// (kiosk/prompt's Speaker; cmd/kiosk wires the same).
type Started struct{ *speaker.Speaker }

// Play starts samples at rate.
func (s Started) Play(samples []int16, rate int) { s.Speaker.Play(samples, rate) }

// Tap starts the click.
func (s Started) Tap() { s.Speaker.Tap() }

// Quiet fails t if a sound arrives (or is being written) within d: what a muted speaker must do.
// It polls for the whole of d.
func (c *Capture) Quiet(t testing.TB, d time.Duration) {
	t.Helper()
	before := len(c.Sounds())
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		n, writing := len(c.sounds), c.cur != nil || len(c.buf) > 0
		c.mu.Unlock()
		if n > before || writing {
			t.Fatalf("a sound was played")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// close stops the reader: the FIFO is opened for writing once, which wakes a reader blocked in
// open, and closed at once (without blocking: a reader that has returned is no reader).
func (c *Capture) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	if f, err := os.OpenFile(c.fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		f.Close()
	}
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
	}
}
