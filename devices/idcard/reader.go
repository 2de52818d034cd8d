package idcard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"go.bug.st/serial"
)

// DefaultBaud is the line speed of most SAM readers.
const DefaultBaud = 115200

// ErrTimeout: the reader did not answer a command in time (unplugged, powered off, or
// mid-reset). A *CommandError names the command.
var ErrTimeout = errors.New("idcard: reader did not answer in time")

// CommandError is a failed SAM command: Err is a Status (errors.Is(err, ErrNoCard)), a
// *FrameError, ErrTimeout, a context error or the port's error.
type CommandError struct {
	Cmd Command
	Err error
}

// Error gives "idcard: find: SAM status 0x80: no card (find failed)".
func (e *CommandError) Error() string {
	return "idcard: " + e.Cmd.String() + ": " + strings.TrimPrefix(e.Err.Error(), "idcard: ")
}

// Unwrap gives Err.
func (e *CommandError) Unwrap() error { return e.Err }

// String names the command ("find", "select", ...), or gives its hex code.
func (c Command) String() string {
	switch c {
	case CmdResetSAM:
		return "reset SAM"
	case CmdSAMStatus:
		return "SAM status"
	case CmdSAMID:
		return "SAM ID"
	case CmdFind:
		return "find"
	case CmdSelect:
		return "select"
	case CmdRead:
		return "read"
	case CmdReadAddress:
		return "read address"
	case CmdReadWithPrint:
		return "read with fingerprint"
	}
	return fmt.Sprintf("command %04X", uint16(c))
}

// Options tune a Reader; the zero Options are the defaults.
type Options struct {
	// Timeout bounds a short command (status, find, select): default 1 s.
	Timeout time.Duration
	// ReadTimeout bounds the read command: default 5 s (a real card takes about 1 s).
	ReadTimeout time.Duration
	// Now is the clock for timeouts and for Poll's pace: default time.Now. Timeouts are
	// measured with it too, so a test clock that never moves means no command times out.
	Now func() time.Time
	// After waits between polls: default time.After. A test can hand out ticks itself.
	After func(time.Duration) <-chan time.Time
	// ReadAttempts is how often Poll tries to read a card that fails before reporting
	// EventReadFailed: default 3.
	ReadAttempts int
}

func (o *Options) setDefaults() {
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.ReadAttempts <= 0 {
		o.ReadAttempts = 3
	}
}

// Reader drives a SAM reader over a Port. Its methods are safe for concurrent use; commands
// go to the reader one at a time.
type Reader struct {
	mu    sync.Mutex
	port  Port
	src   deadlineReader
	dec   *Decoder
	opt   Options
	dirty bool // a command failed: stale bytes may be in flight
}

// NewReader returns a Reader on p. Close closes p if p is an io.Closer.
func NewReader(p Port, o Options) *Reader {
	o.setDefaults()
	r := &Reader{port: p, opt: o}
	r.src = deadlineReader{p: p, now: o.Now}
	r.dec = NewDecoder(&r.src)
	return r
}

// Open opens the serial device at path (8N1, baud 0 meaning DefaultBaud) and returns a Reader
// with default Options on it.
func Open(path string, baud int) (*Reader, error) {
	if baud <= 0 {
		baud = DefaultBaud
	}
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("idcard: open %s: %w", path, err)
	}
	return NewReader(p, Options{}), nil
}

// Close closes the port if it can be closed.
func (r *Reader) Close() error {
	if c, ok := r.port.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Do sends one command and returns the data of its reply. A reply whose status is not
// StatusOK or StatusFound is an error (a *CommandError wrapping the Status). ctx cancels the
// wait for the reply; after any error the next command first discards what the line still
// holds, so a late reply is not taken for the next one's.
func (r *Reader) Do(ctx context.Context, cmd Command) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	timeout := r.opt.Timeout
	if cmd == CmdRead || cmd == CmdReadWithPrint || cmd == CmdReadAddress {
		timeout = r.opt.ReadTimeout
	}
	data, err := r.do(ctx, cmd, timeout)
	if err != nil {
		// A Status is a well-formed answer: the line is in step.
		var st Status
		if !errors.As(err, &st) {
			r.dirty = true
		}
		return data, &CommandError{Cmd: cmd, Err: err}
	}
	return data, nil
}

func (r *Reader) do(ctx context.Context, cmd Command, timeout time.Duration) ([]byte, error) {
	if r.dirty {
		r.drain()
		r.dirty = false
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := r.port.Write(cmd.Encode()); err != nil {
		return nil, err
	}
	r.src.ctx = ctx
	r.src.deadline = r.opt.Now().Add(timeout)
	body, err := r.dec.Next()
	if err != nil {
		return nil, err
	}
	rep, err := ParseReply(body)
	if err != nil {
		return nil, err
	}
	return rep.Data, rep.Err()
}

// drain discards what the line holds: the rest of a bad frame, a reply that came too late.
func (r *Reader) drain() {
	r.dec.Reset()
	if rb, ok := r.port.(interface{ ResetInputBuffer() error }); ok {
		_ = rb.ResetInputBuffer()
	}
	buf := make([]byte, 256)
	for range 64 {
		if err := r.port.SetReadTimeout(20 * time.Millisecond); err != nil {
			return
		}
		if n, err := r.port.Read(buf); n == 0 || err != nil {
			return
		}
	}
}

// SAMStatus asks the SAM for its self-test result: nil when it is ready.
func (r *Reader) SAMStatus(ctx context.Context) error {
	_, err := r.Do(ctx, CmdSAMStatus)
	return err
}

// SAMID reads the SAM's 16-byte ID (not personal data: it names the reader's module).
func (r *Reader) SAMID(ctx context.Context) ([]byte, error) {
	data, err := r.Do(ctx, CmdSAMID)
	if err != nil {
		return nil, err
	}
	if len(data) != 16 {
		return nil, &CommandError{Cmd: CmdSAMID, Err: frameErr(ErrBadLength)}
	}
	return data, nil
}

// Find looks for a card in the field: nil when one is there, ErrNoCard (wrapped) when not.
func (r *Reader) Find(ctx context.Context) error {
	_, err := r.Do(ctx, CmdFind)
	return err
}

// Select selects the card Find found; ErrSelectFailed (wrapped) when it left meanwhile.
func (r *Reader) Select(ctx context.Context) error {
	_, err := r.Do(ctx, CmdSelect)
	return err
}

// Read finds, selects and reads the card in the field and decodes its text block; the photo
// block goes to Identity.Photo. Errors: ErrNoCard when no card is there, other Status errors
// from the SAM, a *FrameError or ErrTimeout from the line, a *FieldError (ErrCheckDigit, ...)
// when the card's data fail validation. All come wrapped; use errors.Is.
func (r *Reader) Read(ctx context.Context) (*Identity, error) {
	if err := r.Find(ctx); err != nil {
		return nil, err
	}
	return r.readFound(ctx)
}

// SplitRead splits the data of a read reply (CmdRead: text length, photo length, text, photo)
// into the text and photo blocks. The lengths must add up to the data and the text must be
// TextSize bytes, else ErrBadLength. The blocks alias data.
func SplitRead(data []byte) (text, photo []byte, err error) {
	if len(data) < 4 {
		return nil, nil, frameErr(ErrBadLength)
	}
	// Parenthesised: see DecodeFrame.
	tl := (int(data[0]) << 8) | int(data[1])
	pl := (int(data[2]) << 8) | int(data[3])
	if 4+tl+pl != len(data) {
		return nil, nil, &FrameError{Err: ErrBadLength, Got: len(data), Want: 4 + tl + pl}
	}
	if tl != TextSize {
		return nil, nil, &FrameError{Err: ErrBadLength, Got: tl, Want: TextSize}
	}
	return data[4 : 4+tl], data[4+tl:], nil
}

// deadlineReader turns a Port's (0, nil) timeouts into ErrTimeout at an overall deadline, and
// stops at ctx's end. It waits in slices so a cancelled ctx is seen within one slice.
type deadlineReader struct {
	p        Port
	now      func() time.Time
	ctx      context.Context
	deadline time.Time
}

const readSlice = 50 * time.Millisecond

func (d *deadlineReader) Read(b []byte) (int, error) {
	for {
		if err := d.ctx.Err(); err != nil {
			return 0, err
		}
		rem := d.deadline.Sub(d.now())
		if rem <= 0 {
			return 0, ErrTimeout
		}
		if err := d.p.SetReadTimeout(min(rem, readSlice)); err != nil {
			return 0, err
		}
		n, err := d.p.Read(b)
		if n > 0 || err != nil {
			return n, err
		}
	}
}
